//! The lifecycle every signal processor follows (STYLE.md, "Processing"):
//!
//! 1. [`Processor::prepare`] for a sample rate, a maximum block size and a
//!    channel count — may allocate, may fail on an unsupported setting;
//! 2. [`Processor::process`] on planar blocks of at most that size, in place —
//!    never allocates, locks, does I/O or panics on valid input;
//! 3. [`Processor::reset`] clears the state (delay lines, envelopes, dither
//!    generator) so the next block starts as from a fresh `prepare`.
//!
//! Latency and tail are part of the contract so a graph can compensate
//! parallel paths and render the decay after the input ends.

use crate::error::CoreError;

/// A block-based audio processor working in place on planar `f64` channels.
pub trait Processor: Send {
    /// Prepares for processing. May allocate.
    fn prepare(
        &mut self,
        sample_rate_hz: u32,
        max_block_frames: usize,
        channels: usize,
    ) -> Result<(), CoreError>;

    /// Processes one block in place. Every slice has the same length, at most
    /// `max_block_frames`, and there are as many slices as prepared channels.
    fn process(&mut self, block: &mut [&mut [f64]]);

    /// Clears all state, as if freshly prepared.
    fn reset(&mut self);

    /// Delay in frames the processor adds to its signal.
    fn latency_frames(&self) -> usize {
        0
    }

    /// Frames of output that may follow the end of the input (reverb decay,
    /// delay feedback); `usize::MAX` for an infinite tail.
    fn tail_frames(&self) -> usize {
        0
    }

    /// Sets a parameter by the name it has in a session file (`threshold_db`,
    /// `freq_hz`, …), for automation. Called between blocks; a processor
    /// smooths the change where a jump would click. An unknown name or an
    /// out-of-range value is an error that names the valid names or range.
    fn set_parameter(&mut self, name: &str, value: f64) -> Result<(), CoreError> {
        let _ = value;
        Err(CoreError::UnknownParameter {
            name: name.to_string(),
            valid: String::new(),
        })
    }

    /// The processor as `Any`, so a host that knows a concrete type can
    /// reach it (the mixer fuses consecutive static filters into one pass).
    /// `None` by default.
    fn as_any_mut(&mut self) -> Option<&mut dyn std::any::Any> {
        None
    }

    /// Channels of key signal this processor reads (a compressor's external
    /// sidechain); 0 when it has no sidechain input.
    fn sidechain_channels(&self) -> usize {
        0
    }

    /// Processes one block with a key signal of `sidechain_channels()`
    /// slices as long as the block. The default ignores the key.
    fn process_with_sidechain(&mut self, block: &mut [&mut [f64]], key: &[&[f64]]) {
        let _ = key;
        self.process(block);
    }
}
