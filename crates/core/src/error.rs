//! The error type of the core crate.

use thiserror::Error;

/// Errors raised when a buffer or a parameter is not valid. None of them is
/// recoverable by retrying: the caller has to change the arguments.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum CoreError {
    /// A parameter lies outside its valid range.
    #[error("{name} = {value} is out of range: expected {range}")]
    OutOfRange {
        /// Field name, with its unit (`sample_rate_hz`, `gain_db`, …).
        name: &'static str,
        /// The value that was given.
        value: f64,
        /// The valid range in words, e.g. `"1 ..= 768000"`.
        range: &'static str,
    },
    /// Planar channels of one block do not have the same length.
    #[error("channel {channel} has {frames} frames, expected {expected}")]
    RaggedChannels {
        /// Index of the offending channel.
        channel: usize,
        /// Its length.
        frames: usize,
        /// The length of channel 0.
        expected: usize,
    },
    /// A block has another channel count than the processor was prepared for.
    #[error("block has {got} channels, expected {expected}")]
    ChannelCount {
        /// Channels in the block.
        got: usize,
        /// Channels the processor was prepared for.
        expected: usize,
    },
    /// A parameter name a processor does not have.
    #[error("unknown parameter '{name}'; valid: {valid}")]
    UnknownParameter {
        /// The name that was given.
        name: String,
        /// The processor's parameter names, comma separated.
        valid: String,
    },
    /// An id that is not in a table (a delivery target, a preset, …).
    #[error("unknown {kind} '{id}'; valid: {valid}")]
    UnknownId {
        /// What kind of id it is ("target", …).
        kind: &'static str,
        /// The id that was given.
        id: String,
        /// The valid ids, comma separated.
        valid: String,
    },
}
