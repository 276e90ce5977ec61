//! Reports of mixmaster: what a file sounds like, shown — loudness over
//! time, spectra, the stereo picture — and whether it translates (mono,
//! small speakers, lossy codecs), as one self-contained HTML file with SVG
//! plots and as JSON.
#![forbid(unsafe_code)]

pub mod analysis;
pub mod html;
pub mod png;
pub mod svg;

pub use analysis::{FileAnalysis, LossyCheck, analyse, lossy_check};
pub use html::{Check, Report, Status};
pub use png::PngWriter;

/// A report that cannot be made (the file and the reason).
#[derive(Debug, Clone, PartialEq)]
pub struct ReportError(pub String);

impl std::fmt::Display for ReportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ReportError {}
