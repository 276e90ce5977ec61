//! Signal processors of mixmaster. Each processor lives in a file named after
//! it and implements [`mixmaster_core::Processor`].
//!
//! So far: [`dither`] (TPDF with optional noise shaping), the last stage of
//! every chain that lowers the word length.
#![forbid(unsafe_code)]

pub mod dither;
pub mod rng;
pub mod testing;

pub use dither::{Dither, DitherOptions, NoiseShaping};

pub mod convolution;
pub mod delay;
pub mod reverb;

pub use convolution::{Convolution, ConvolutionOptions};
pub use delay::{Delay, DelayOptions, NoteModifier, NoteValue, note_to_ms};
pub use reverb::{Reverb, ReverbOptions};
