//! The one error type of mixmaster-io.
//!
//! Every error about a file names that file (as the caller spelled its path)
//! and the problem, so the CLI can print it as it is:
//! `song.wav: file is empty (0 bytes)`.
//!
//! None of these errors is recoverable by retrying the same call: a reader or
//! writer that returned an error should be dropped. (A dropped writer removes
//! its temporary file, so no partial output is left behind.)

use std::path::{Path, PathBuf};

use mixmaster_core::CoreError;
use thiserror::Error;

/// Errors of decoding, encoding, atomic output and resampling.
#[derive(Debug, Error)]
pub enum IoError {
    /// The file does not exist.
    #[error("{}: file not found", .path.display())]
    NotFound {
        /// The file.
        path: PathBuf,
    },
    /// The path names a directory where a file was expected.
    #[error("{}: is a directory, not an audio file", .path.display())]
    IsDirectory {
        /// The directory.
        path: PathBuf,
    },
    /// The file exists but holds no bytes at all.
    #[error("{}: file is empty (0 bytes)", .path.display())]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// The operating system refused to read the file (permissions, I/O error).
    #[error("{}: cannot read: {source}", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// No reader recognises the bytes, or the container/codec is one this crate
    /// does not decode.
    #[error("{}: unsupported or unrecognised audio format ({detail})", .path.display())]
    Unsupported {
        /// The file.
        path: PathBuf,
        /// What was found, e.g. "no known container signature".
        detail: String,
    },
    /// The header of a recognised container is inconsistent or damaged.
    #[error("{}: malformed {container} header: {detail}", .path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// The container ("WAV", "RF64", "MP4", …).
        container: &'static str,
        /// What is wrong.
        detail: String,
    },
    /// The file ends before the number of frames its header promises.
    #[error(
        "{}: truncated: header promises {expected_frames} frames, file ends after {actual_frames}",
        .path.display()
    )]
    Truncated {
        /// The file.
        path: PathBuf,
        /// Frames the header (WAV data size, FLAC STREAMINFO, AIFF COMM, …) promises.
        expected_frames: u64,
        /// Frames actually present.
        actual_frames: u64,
    },
    /// The codec failed on damaged data part way through the stream.
    #[error("{}: undecodable data after frame {frame}: {detail}", .path.display())]
    Decode {
        /// The file.
        path: PathBuf,
        /// Frames successfully decoded before the failure.
        frame: u64,
        /// The decoder's message.
        detail: String,
    },
    /// The operating system refused to create, write, sync or rename an output.
    #[error("{}: cannot write: {source}", .path.display())]
    Write {
        /// The output file (the target, not the temporary file).
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The output path is one of the inputs (same path, another spelling of it,
    /// a symbolic link to it, or a hard link to the same file).
    #[error(
        "{}: refusing to overwrite input file {}",
        .path.display(),
        .input.display()
    )]
    WouldOverwriteInput {
        /// The requested output.
        path: PathBuf,
        /// The input it resolves to.
        input: PathBuf,
    },
    /// A sample handed to a writer is NaN or infinite.
    #[error(
        "{}: sample at frame {frame}, channel {channel} is {value}; refusing to write non-finite audio",
        .path.display()
    )]
    NonFiniteSample {
        /// The output file.
        path: PathBuf,
        /// Absolute frame index in the output.
        frame: u64,
        /// Channel index (0-based).
        channel: usize,
        /// The offending value (NaN, inf or -inf).
        value: f64,
    },
    /// The output format cannot hold what was asked for (float in FLAC, more
    /// than 8 channels in FLAC, a zero sample rate, …).
    #[error("{}: cannot write {what}: {reason}", .path.display())]
    UnsupportedOutput {
        /// The output file.
        path: PathBuf,
        /// What was asked for, e.g. "FLAC with 32-bit float samples".
        what: String,
        /// Why not, and what to do instead.
        reason: String,
    },
    /// The encoder library reported an error.
    #[error("{}: encoder error: {detail}", .path.display())]
    Encode {
        /// The output file.
        path: PathBuf,
        /// The encoder's message.
        detail: String,
    },
    /// A block handed to a writer or resampler has the wrong channel count.
    #[error("block has {got} channels, expected {expected}")]
    ChannelCount {
        /// Channels in the block.
        got: usize,
        /// Channels expected.
        expected: usize,
    },
    /// Planar channels of one block have different lengths.
    #[error(transparent)]
    Core(#[from] CoreError),
    /// A sample-rate conversion this crate does not offer.
    #[error("cannot resample {from_hz} Hz -> {to_hz} Hz: {reason}")]
    UnsupportedResample {
        /// Source rate.
        from_hz: u32,
        /// Target rate.
        to_hz: u32,
        /// Why not.
        reason: String,
    },
    /// The resampling library failed (a bug rather than bad input).
    #[error("resampler error: {0}")]
    Resample(String),
}

impl IoError {
    /// Maps an `std::io::Error` met while opening or reading `path`.
    pub(crate) fn read(path: &Path, source: std::io::Error) -> Self {
        match source.kind() {
            std::io::ErrorKind::NotFound => IoError::NotFound {
                path: path.to_path_buf(),
            },
            std::io::ErrorKind::IsADirectory => IoError::IsDirectory {
                path: path.to_path_buf(),
            },
            _ => IoError::Read {
                path: path.to_path_buf(),
                source,
            },
        }
    }

    /// Maps an `std::io::Error` met while writing the output `path`.
    pub(crate) fn write(path: &Path, source: std::io::Error) -> Self {
        IoError::Write {
            path: path.to_path_buf(),
            source,
        }
    }

    /// The file this error is about, when there is one.
    pub fn path(&self) -> Option<&Path> {
        match self {
            IoError::NotFound { path }
            | IoError::IsDirectory { path }
            | IoError::Empty { path }
            | IoError::Read { path, .. }
            | IoError::Unsupported { path, .. }
            | IoError::Malformed { path, .. }
            | IoError::Truncated { path, .. }
            | IoError::Decode { path, .. }
            | IoError::Write { path, .. }
            | IoError::WouldOverwriteInput { path, .. }
            | IoError::NonFiniteSample { path, .. }
            | IoError::UnsupportedOutput { path, .. }
            | IoError::Encode { path, .. } => Some(path),
            IoError::ChannelCount { .. }
            | IoError::Core(_)
            | IoError::UnsupportedResample { .. }
            | IoError::Resample(_) => None,
        }
    }
}
