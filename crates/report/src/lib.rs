//! Reports of mixmaster: what a file sounds like, shown — loudness over
//! time, spectra, the stereo picture — and whether it translates (mono,
//! small speakers, lossy codecs), as one self-contained HTML file with SVG
//! plots and as JSON.
#![forbid(unsafe_code)]

pub mod analysis;
pub mod html;
pub mod lossy;
pub mod png;
pub mod svg;

pub use analysis::{FileAnalysis, analyse};
pub use html::{Check, Report, Status};
pub use lossy::{LossyCheck, lossy_check, mp3_round_trip};
pub use png::PngWriter;

use std::path::PathBuf;

/// What to report on.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    /// The file.
    pub file: PathBuf,
    /// The same programme before processing.
    pub before: Option<PathBuf>,
    /// A reference track.
    pub reference: Option<PathBuf>,
    /// True-peak ceiling whose overs are marked, dBTP.
    pub ceiling_dbtp: f64,
    /// Loudness target to draw, LUFS.
    pub target_lufs: Option<f64>,
    /// What to call the file (default: its file name).
    pub name: Option<String>,
    /// Times to mark on the time plots (track starts), seconds.
    pub markers: Vec<(f64, String)>,
}

/// Analyses everything `inputs` names and runs the lossy-codec check. The
/// MP3 encode → decode (the slowest part: LAME) runs on its own thread
/// beside the analyses.
pub fn make_report(inputs: &Inputs) -> Result<Report, ReportError> {
    let ceiling = inputs.ceiling_dbtp;
    let opt = |p: &Option<PathBuf>| p.as_deref().map(|p| analyse(p, ceiling)).transpose();
    let (decoded, analysed) = std::thread::scope(|s| {
        let mp3 = s.spawn(|| mp3_round_trip(&inputs.file));
        let analysed = (|| {
            Ok::<_, ReportError>((
                analyse(&inputs.file, ceiling)?,
                opt(&inputs.before)?,
                opt(&inputs.reference)?,
            ))
        })();
        let decoded = mp3
            .join()
            .unwrap_or_else(|_| Err(ReportError("the MP3 check stopped unexpectedly".into())));
        (decoded, analysed)
    });
    let (file, before, reference) = analysed?;
    let lossy = decoded?.map(|d| d.against(&file.meter));
    Ok(Report {
        file,
        before,
        reference,
        target_lufs: inputs.target_lufs,
        lossy,
        name: inputs.name.clone(),
        markers: inputs.markers.clone(),
    })
}

/// A report that cannot be made (the file and the reason).
#[derive(Debug, Clone, PartialEq)]
pub struct ReportError(pub String);

impl std::fmt::Display for ReportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ReportError {}
