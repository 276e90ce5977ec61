//! Audio file input and output for mixmaster: streaming decoding of every
//! common format to planar `f64`, WAV and FLAC encoding that only rounds,
//! atomic output files that never overwrite an input, and sample-rate
//! conversion with its latency hidden.
//!
//! * [`AudioReader`] / [`read_all`] — decode ([`decode`]).
//! * [`AudioWriter`] — encode WAV/RF64 ([`wav`]) and FLAC ([`flac`]) through
//!   an [`atomic`] temporary file.
//! * [`Resampler`] — 44.1/48/88.2/96/176.4/192 kHz in any pair ([`resample`]).
//! * [`IoError`] — the one error type; every message names the file.
#![forbid(unsafe_code)]

pub mod atomic;
pub mod decode;
pub mod error;
pub mod flac;
mod mp4_gapless;
pub mod resample;
pub mod wav;
mod wav_reader;
pub mod writer;

pub use decode::{AudioReader, SampleFormat, SourceInfo, read_all};
pub use error::IoError;
pub use resample::Resampler;
pub use wav::Rf64Policy;
pub use writer::{AudioWriter, Encoding, FileFormat, WriteOptions, WriteSpec, WriteSummary};

#[cfg(test)]
mod tests {
    /// Readers, writers and resamplers move between threads (the engine
    /// renders tracks in parallel).
    #[test]
    fn handles_are_send() {
        fn send<T: Send>() {}
        send::<crate::AudioReader>();
        send::<crate::AudioWriter>();
        send::<crate::Resampler>();
        send::<crate::IoError>();
        fn sync<T: Sync>() {}
        sync::<crate::IoError>();
    }
}
