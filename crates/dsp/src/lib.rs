//! Signal processors of mixmaster. Each processor lives in a file named after
//! it and implements [`mixmaster_core::Processor`]; each is tested against its
//! mathematical definition and for block-size invariance ([`testing`]).
//!
//! * Filters and EQ: [`filter`] (Butterworth high/low-pass 6–48 dB/oct,
//!   band-pass), [`eq`] (bell, shelves, notch, tilt — magnitude-matched to the
//!   analog prototypes within 0.1 dB up to 0.45·fs), [`biquad`], [`utility`]
//!   (gain, polarity, mono, width, phase all-pass), [`smoothing`].
//! * Dynamics: [`compressor`] (soft knee, peak/RMS, lookahead, external
//!   sidechain), [`gate`], [`deesser`] (split band).
//! * Colour: [`saturation`] (tape, tube, soft clip; 8× oversampling with
//!   ADAA), [`oversampling`].
//! * Time: [`delay`], [`reverb`] (feedback delay network), [`convolution`]
//!   (uniformly partitioned, zero latency), [`fft_fir`] (long FIRs by FFT
//!   with one partition of latency, for linear-phase EQ and crossovers).
//! * Word length: [`dither`] (TPDF, noise shaping).
//! * Matching: [`match_eq`] (linear-phase FIR EQ from a magnitude curve,
//!   mid and side, for reference matching).
// One `unsafe` call, checked: the AVX2 build of the limiter's detector
// (`limiter/detector.rs`), after the CPU reported AVX2.
#![deny(unsafe_code)]

pub mod dither;
pub mod rng;
pub mod testing;

pub use dither::{Dither, DitherOptions, NoiseShaping};

pub mod convolution;
pub mod delay;
pub mod fft_fir;
pub mod reverb;

pub use convolution::{Convolution, ConvolutionOptions};
pub use delay::{Delay, DelayOptions, NoteModifier, NoteValue, note_to_ms};
pub use fft_fir::FftFir;
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

// Dynamics and saturation (branch dsp-dynamics).
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

// Crossovers, multiband compressor and stereo imager (branch multiband).
pub mod crossover;
pub mod imager;
pub mod multiband;

pub use crossover::{BandBuffers, Crossover, CrossoverKind, CrossoverOptions};
pub use imager::{Imager, ImagerOptions};
pub use multiband::{BandOptions, Multiband, MultibandOptions};

// True-peak limiter (branch limiter).
pub mod limiter;

pub use limiter::{AttackShape, Character, Limiter, LimiterOptions};
// Mastering EQ (minimum/linear phase, M/S) and exciter (branch mastereq).
pub mod exciter;
pub mod fir_design;
pub mod mastering_eq;

pub use exciter::{Exciter, ExciterOptions};
pub use mastering_eq::{BandChannels, MasteringBand, MasteringEq, MasteringEqOptions, Phase};

// Linear-phase match EQ for reference matching (branch reference).
pub mod match_eq;

pub use match_eq::{GainCurve, MatchEq, MatchEqOptions};
