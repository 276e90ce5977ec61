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
// Filters, EQ and utility (branch dsp-filters).
pub mod analog_match;
pub mod biquad;
pub mod eq;
pub mod filter;
pub mod smoothing;
pub mod utility;

pub use analog_match::{AnalogSection, match_analog};
pub use biquad::{BiquadCascade, BiquadCascadeOptions, Coefficients, SectionChain};
pub use eq::{Band, Eq, EqOptions};
pub use filter::{Filter, FilterKind, FilterOptions};
pub use smoothing::LinearSmoother;
pub use utility::{Utility, UtilityOptions};
