//! The mastering settings: a chain file (`mixmaster master --chain
//! chain.toml`) is this table at the top level; a session may carry the same
//! table as `[mastering]`. (`[master]` in a session is the mix's master bus:
//! its fader and inserts shape the mix that goes *into* mastering.)
//!
//! ```toml
//! target = "spotify"                 # a preset of TARGETS.md
//! max_limiter_reduction_db = 12      # refuse a target that needs more
//! inserts = [
//!   { id = "eq", mastering_eq = { phase = "linear", bands = [ { low_shelf = { freq_hz = 90, gain_db = 1.5 } } ] } },
//!   { id = "glue", compressor = { threshold_db = -18, ratio = 1.5, attack_ms = 30, release_ms = 200 } },
//! ]
//! [limiter]
//! release_ms = 120
//! character = "transparent"
//! ```

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::model::Insert;

/// Mastering settings. Every field is optional: a preset (`target`) fills
/// loudness, ceiling, rate and word length; fields given here override it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MasteringSpec {
    /// Delivery preset id (`spotify`, `apple-music`, `ebu-r128`, `cd`,
    /// `none`, …; `mixmaster master --help` lists them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Integrated loudness to reach in LUFS (overrides the preset's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integrated_lufs: Option<f64>,
    /// True-peak ceiling in dBTP (overrides the preset's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ceiling_dbtp: Option<f64>,
    /// Largest limiter gain reduction the loudness target may need, in dB
    /// (default 12); a target that needs more is refused with the numbers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_limiter_reduction_db: Option<f64>,
    /// How close to the target the integrated loudness must land, in LU
    /// (default 0.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerance_lu: Option<f64>,
    /// Delivery sample rate in Hz (default: the preset's, else the input's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample_rate_hz: Option<u32>,
    /// Word length: "16", "24" or "32f" (default: the preset's, else 24).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bits: Option<String>,
    /// Output channels, 1 or 2 (default: as the input).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channels: Option<u16>,
    /// With no `inserts`, use the default chain (subsonic high-pass and
    /// gentle glue compression before the limiter); default true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_chain: Option<bool>,
    /// Processors before the limiter, in order (same inserts as sessions,
    /// plus `mastering_eq`, `multiband`, `imager`, `exciter`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inserts: Option<Vec<Insert>>,
    /// The true-peak limiter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limiter: Option<LimiterSpec>,
    /// Noise shaping of the dither (integer outputs only): "none",
    /// "first_order" or "lipshitz" (default "none": plain TPDF).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub noise_shaping: Option<String>,
}

/// `[limiter]` of a mastering chain.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LimiterSpec {
    /// Lookahead in ms (default 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lookahead_ms: Option<f64>,
    /// Release time constant in ms (default 100; longer on bass-heavy
    /// material by itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release_ms: Option<f64>,
    /// "transparent" (default), "punchy" or "aggressive".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub character: Option<String>,
    /// Attack shape: "s_curve" (default) or "linear".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attack_shape: Option<String>,
    /// One gain for all channels (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stereo_link: Option<bool>,
}
