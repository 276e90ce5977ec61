//! Audio file input and output for mixmaster: streaming decoding of every
//! common format to planar `f64`, WAV and FLAC encoding that only rounds,
//! atomic output files that never overwrite an input, and sample-rate
//! conversion with its latency hidden.
//!
//! * [`AudioReader`] / [`read_all`] — decode ([`decode`]).
//! * [`AudioWriter`] — encode WAV/RF64 ([`wav`]), FLAC ([`flac`]) and MP3
//!   ([`mp3`], cargo feature `mp3`, on by default) through an [`atomic`]
//!   temporary file, with tags, BWF `bext` and loudness ([`metadata`],
//!   [`bext`]).
//! * [`Resampler`] — 44.1/48/88.2/96/176.4/192 kHz in any pair ([`resample`]).
//! * [`IoError`] — the one error type; every message names the file.
#![forbid(unsafe_code)]

pub mod atomic;
pub mod bext;
pub mod decode;
pub mod error;
pub mod flac;
mod id3;
pub mod metadata;
pub mod mp3;
mod mp4_gapless;
pub mod resample;
mod riff;
mod riff_info;
pub mod wav;
mod wav_reader;
pub mod writer;

pub use bext::{Bext, BextInfo, read_bext};
pub use decode::{AudioReader, SampleFormat, SourceInfo, read_all};
pub use error::IoError;
pub use metadata::{Loudness, Metadata, ReplayGain, Tags, read_tags};
pub use mp3::{Mp3Mode, Mp3Options};
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
