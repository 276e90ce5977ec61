//! The mixmaster engine: a session becomes a graph of nodes (tracks, buses,
//! the master) rendered block by block. Tracks and buses that do not depend
//! on each other render in parallel (rayon); every sum runs in a fixed
//! order, so the output is bit-identical whatever the thread count. Latency
//! of inserts is compensated on every path (direct, sends, sidechain keys).
//!
//! [`reference`](mod@reference) matches a programme's tonal balance, width and loudness to
//! a reference track (`--reference`).
//!
//! [`programmes`] generates the deterministic inputs that the mastering
//! acceptance test and `scripts/bench_master_matrix.sh` share.
#![forbid(unsafe_code)]

pub mod acx;
pub mod album;
pub mod automation;
pub mod clip;
pub mod curves;
pub mod delay_line;
pub mod demo_song;
pub mod error;
pub mod factory;
pub mod graph;
pub mod import;
pub mod master;
pub mod programmes;
pub mod reference;
pub mod render;
pub mod strip;

pub use error::EngineError;
pub use graph::{Mixer, RenderStats, StemSink};
pub use render::{RenderOptions, RenderSummary, render_to_file};
