//! The error type of the meter crate.

use mixmaster_core::CoreError;
use thiserror::Error;

/// Everything that can go wrong when creating or feeding a [`crate::Meter`].
///
/// None of these is recoverable by retrying with the same arguments:
/// construction errors ([`MeterError::Core`] with `OutOfRange`,
/// [`MeterError::WeightCount`], [`MeterError::InvalidWeight`],
/// [`MeterError::Oversampling`], [`MeterError::FftSize`]) name the option and
/// its valid range; block errors (`ChannelCount`, `RaggedChannels`) reject
/// the block without consuming any of it, so the caller may fix the block and
/// feed it again.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum MeterError {
    /// A sample rate or channel count out of range, a block with the wrong
    /// number of channels, or planar channels of unequal length.
    #[error(transparent)]
    Core(#[from] CoreError),
    /// `channel_weights` does not have one entry per channel.
    #[error("channel_weights has {got} entries, expected {expected} (one per channel)")]
    WeightCount {
        /// Entries given.
        got: usize,
        /// The channel count.
        expected: usize,
    },
    /// A channel weight is negative or not finite.
    #[error("channel_weights[{index}] = {value} is not valid: expected a finite weight >= 0")]
    InvalidWeight {
        /// Index of the offending weight.
        index: usize,
        /// Its value.
        value: f64,
    },
    /// The true-peak oversampling factor is not one the interpolator offers.
    #[error("true_peak_oversampling = {got} is not supported: expected 4, 8 or 16")]
    Oversampling {
        /// The factor given.
        got: u32,
    },
    /// The spectrum FFT length is not a power of two in range.
    #[error(
        "spectrum_fft_size = {got} is not supported: expected a power of two in 256 ..= 1048576"
    )]
    FftSize {
        /// The length given.
        got: usize,
    },
}
