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

pub mod compressor;
pub mod deesser;
mod dynamics;
pub mod gate;
mod kaiser_fir;
pub mod oversampling;
pub mod saturation;

pub use compressor::{Compressor, CompressorOptions};
pub use deesser::{DeEsser, DeEsserDetector, DeEsserOptions};
pub use gate::{Gate, GateOptions};
pub use oversampling::Oversampler;
pub use saturation::{Saturation, SaturationOptions};
