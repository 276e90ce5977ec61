//! Shared foundations of mixmaster: unit conversions, planar audio buffers, the
//! [`Processor`] lifecycle every signal processor follows, and the table of
//! delivery targets (`--target spotify`, …) from `TARGETS.md`.
//!
//! This crate has no dependency beyond `thiserror`, so every other crate can
//! build on it cheaply.
#![forbid(unsafe_code)]

pub mod buffer;
pub mod codes;
pub mod error;
pub mod processor;
pub mod targets;
pub mod units;

pub use buffer::AudioBuffer;
pub use error::CoreError;
pub use processor::Processor;
pub use targets::{NormalizationPolicy, Target};
