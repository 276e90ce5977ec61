//! The session file model. Field names carry their units (`_db`, `_hz`,
//! `_ms`, `_s`); positions are [`Position`]s; inserts are addressed by
//! their `id`, so automation survives reordering. Every struct rejects
//! unknown fields, so a typo is an error with a hint, not a silent default.
//!
//! Processor parameters left out take the processor's default; ranges are
//! checked when the engine builds the processors, and errors point back to
//! the field in the file.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::position::Position;

/// A whole session: project settings, tracks, buses and the master bus.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Session {
    /// Project settings.
    pub project: Project,
    /// Tracks, in the order they are listed.
    #[serde(default, rename = "track", skip_serializing_if = "Vec::is_empty")]
    pub tracks: Vec<Track>,
    /// Buses (groups, effect returns); a bus may feed another bus.
    #[serde(default, rename = "bus", skip_serializing_if = "Vec::is_empty")]
    pub buses: Vec<Bus>,
    /// The master bus.
    #[serde(default)]
    pub master: MasterBus,
    /// Mastering after the mix (`mixmaster render`): the same table as a
    /// chain file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mastering: Option<crate::mastering::MasteringSpec>,
}

/// `[project]`: render rate, tempo and metre.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Project {
    /// Name of the song or project.
    #[serde(default)]
    pub name: String,
    /// Render rate in Hz; sources at other rates are resampled.
    #[serde(default = "default_rate")]
    pub sample_rate_hz: u32,
    /// Tempo in quarter notes per minute (bar positions, synced delays).
    #[serde(default = "default_tempo")]
    pub tempo_bpm: f64,
    /// Time signature as `[beats per bar, beat unit]`.
    #[serde(default = "default_signature")]
    pub time_signature: [u32; 2],
    /// Pan law in dB at the centre for mono sources panned by tracks:
    /// 0, -3 (default), -4.5 or -6.
    #[serde(default = "default_pan_law")]
    pub pan_law_db: f64,
}

fn default_rate() -> u32 {
    48_000
}
fn default_tempo() -> f64 {
    120.0
}
fn default_signature() -> [u32; 2] {
    [4, 4]
}
fn default_pan_law() -> f64 {
    -3.0
}
fn is_zero(x: &f64) -> bool {
    *x == 0.0
}
fn is_one(x: &f64) -> bool {
    *x == 1.0
}
fn is_false(b: &bool) -> bool {
    !*b
}
fn one() -> f64 {
    1.0
}

/// Declares a serde struct with the channel-strip fields inline (serde
/// cannot combine `flatten` with `deny_unknown_fields`, and unknown fields
/// must be errors), plus a [`Strip`] view of them.
macro_rules! with_strip {
    ($(#[$meta:meta])* pub struct $name:ident { $($(#[$fm:meta])* pub $field:ident : $ty:ty,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $($(#[$fm])* pub $field: $ty,)*
            /// Fader in dB.
            #[serde(default, skip_serializing_if = "is_zero")]
            pub gain_db: f64,
            /// Pan (mono sources) or balance (stereo sources): -1 left … +1 right.
            #[serde(default, skip_serializing_if = "is_zero")]
            pub pan: f64,
            /// Stereo width: 0 mono, 1 unchanged, up to 2.
            #[serde(default = "one", skip_serializing_if = "is_one")]
            pub width: f64,
            /// Pan law for this strip (0, -3, -4.5, -6 dB); default: the project's.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub pan_law_db: Option<f64>,
            /// Muted.
            #[serde(default, skip_serializing_if = "is_false")]
            pub mute: bool,
            /// Polarity inverted.
            #[serde(default, skip_serializing_if = "is_false")]
            pub invert_polarity: bool,
            /// Insert chain, in order.
            #[serde(default, skip_serializing_if = "Vec::is_empty")]
            pub inserts: Vec<Insert>,
            /// Sends to buses.
            #[serde(default, skip_serializing_if = "Vec::is_empty")]
            pub sends: Vec<Send>,
            /// Automation lanes.
            #[serde(default, skip_serializing_if = "Vec::is_empty")]
            pub automation: Vec<Automation>,
            /// Where the signal goes: a bus name, or "master" (default).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub bus: Option<String>,
        }

        impl $name {
            /// The channel-strip settings.
            pub fn strip(&self) -> Strip {
                Strip {
                    gain_db: self.gain_db,
                    pan: self.pan,
                    width: self.width,
                    pan_law_db: self.pan_law_db,
                    mute: self.mute,
                    invert_polarity: self.invert_polarity,
                    inserts: self.inserts.clone(),
                    sends: self.sends.clone(),
                    automation: self.automation.clone(),
                    bus: self.bus.clone(),
                }
            }
        }
    };
}

with_strip! {
    /// A track: clips on the timeline and a channel strip.
    pub struct Track {
        /// Unique name among tracks and buses.
        pub name: String,
        /// Shorthand for one clip of the whole source at 0:00.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub source: Option<String>,
        /// Clips on the timeline.
        #[serde(default, rename = "clip", skip_serializing_if = "Vec::is_empty")]
        pub clips: Vec<Clip>,
        /// Solo this track (mutes every track not soloed; buses are solo-safe).
        #[serde(default, skip_serializing_if = "is_false")]
        pub solo: bool,
    }
}

with_strip! {
    /// A bus: a sum of tracks and buses with its own strip.
    pub struct Bus {
        /// Unique name among tracks and buses.
        pub name: String,
    }
}

/// The master bus: fader and inserts.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MasterBus {
    /// Master fader in dB.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub gain_db: f64,
    /// Inserts on the master bus.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inserts: Vec<Insert>,
    /// Automation of the master fader or inserts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub automation: Vec<Automation>,
}

/// The channel-strip settings of a track or bus.
#[derive(Debug, Clone, PartialEq)]
pub struct Strip {
    /// Fader in dB.
    pub gain_db: f64,
    /// Pan or balance, -1 … +1.
    pub pan: f64,
    /// Stereo width 0 … 2.
    pub width: f64,
    /// Pan law override in dB.
    pub pan_law_db: Option<f64>,
    /// Muted.
    pub mute: bool,
    /// Polarity inverted.
    pub invert_polarity: bool,
    /// Insert chain.
    pub inserts: Vec<Insert>,
    /// Sends.
    pub sends: Vec<Send>,
    /// Automation lanes.
    pub automation: Vec<Automation>,
    /// Destination bus; `None` for the master.
    pub bus: Option<String>,
}

/// A clip: a region of a source placed on the timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Clip {
    /// Audio file, relative to the session file.
    pub source: String,
    /// Timeline position of the clip's start.
    #[serde(default = "zero_position")]
    pub at: Position,
    /// Where in the source the clip starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_offset: Option<Position>,
    /// Length on the timeline; default: to the end of the source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<Position>,
    /// Clip gain in dB.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub gain_db: f64,
    /// Fade in at the clip start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fade_in: Option<Fade>,
    /// Fade out at the clip end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fade_out: Option<Fade>,
}

fn zero_position() -> Position {
    Position::Seconds(0.0)
}

/// A fade: its length and curve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Fade {
    /// Length of the fade.
    pub length: Position,
    /// Shape of the fade.
    #[serde(default)]
    pub curve: Curve,
}

/// Shapes of fades and automation segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Curve {
    /// Straight line in amplitude (fades) or value (automation).
    #[default]
    Linear,
    /// Exponential: slow start, fast end (for a fade in).
    #[serde(alias = "exp")]
    Exponential,
    /// Logarithmic: fast start, slow end.
    #[serde(alias = "log")]
    Logarithmic,
    /// S-curve (raised cosine).
    #[serde(alias = "s")]
    SCurve,
    /// Equal power (sine/cosine): constant power in crossfades.
    EqualPower,
    /// Hold the value until the next point (automation only).
    Step,
}

/// A send from a strip to a bus.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Send {
    /// Destination bus.
    pub bus: String,
    /// Send level in dB.
    #[serde(default)]
    pub level_db: f64,
    /// Pan of the send (-1 … +1); default follows the strip's pan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pan: Option<f64>,
    /// Taken before the fader (and before mute) instead of after it.
    #[serde(default, skip_serializing_if = "is_false")]
    pub pre_fader: bool,
}

/// An automation lane: a parameter and its breakpoints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Automation {
    /// `gain_db`, `pan`, `width`, `sends.<bus>.level_db`, or
    /// `inserts.<id>.<parameter>`.
    pub param: String,
    /// Breakpoints in time order: `[time, value]` or `[time, value, "curve"]`
    /// where the curve shapes the segment that starts at this point.
    pub points: Vec<Point>,
}

/// One automation breakpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Point {
    /// `[time, value]`: a linear segment follows.
    Pair(Position, f64),
    /// `[time, value, curve]`.
    WithCurve(Position, f64, Curve),
}

impl Point {
    /// Time of the point.
    pub fn at(&self) -> Position {
        match self {
            Self::Pair(p, _) | Self::WithCurve(p, _, _) => *p,
        }
    }
    /// Value at the point.
    pub fn value(&self) -> f64 {
        match self {
            Self::Pair(_, v) | Self::WithCurve(_, v, _) => *v,
        }
    }
    /// Shape of the segment that starts here.
    pub fn curve(&self) -> Curve {
        match self {
            Self::Pair(..) => Curve::Linear,
            Self::WithCurve(_, _, c) => *c,
        }
    }
}

/// One insert: an id and exactly one processor, written as
/// `{ id = "comp", compressor = { ratio = 4 } }`.
#[derive(Debug, Clone, PartialEq, JsonSchema)]
pub struct Insert {
    /// Unique within the strip; automation addresses the insert by it.
    pub id: String,
    /// Bypassed (kept in the chain for its latency, not processing).
    pub bypass: bool,
    /// The processor and its settings.
    #[schemars(flatten)]
    pub processor: ProcessorSpec,
}

impl Serialize for Insert {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("id", &self.id)?;
        if self.bypass {
            map.serialize_entry("bypass", &true)?;
        }
        let inner = serde_json::to_value(&self.processor).map_err(serde::ser::Error::custom)?;
        if let serde_json::Value::Object(o) = inner {
            for (k, v) in o {
                map.serialize_entry(&k, &v)?;
            }
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Insert {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let mut map = serde_json::Map::deserialize(d)?;
        let id = match map.remove("id") {
            Some(serde_json::Value::String(id)) => id,
            Some(_) => return Err(D::Error::custom("insert `id` must be a string")),
            None => return Err(D::Error::custom("insert has no `id`")),
        };
        let bypass = match map.remove("bypass") {
            None => false,
            Some(serde_json::Value::Bool(b)) => b,
            Some(_) => {
                return Err(D::Error::custom(format!(
                    "insert '{id}': `bypass` must be true or false"
                )));
            }
        };
        let kinds = ProcessorSpec::KINDS;
        if map.len() != 1 {
            let keys: Vec<&str> = map.keys().map(String::as_str).collect();
            return Err(D::Error::custom(format!(
                "insert '{id}' must name exactly one processor ({}), found: {}",
                kinds.join(", "),
                if keys.is_empty() {
                    "none".to_string()
                } else {
                    keys.join(", ")
                }
            )));
        }
        let (kind, _) = map.iter().next().expect("one entry");
        if !kinds.contains(&kind.as_str()) {
            return Err(D::Error::custom(format!(
                "insert '{id}': unknown processor `{kind}`, expected one of {}",
                kinds
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        let processor = serde_json::from_value(serde_json::Value::Object(map))
            .map_err(|e| D::Error::custom(format!("insert '{id}': {e}")))?;
        Ok(Self {
            id,
            bypass,
            processor,
        })
    }
}

/// The stock processors and their settings. Fields left out take the
/// processor's default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProcessorSpec {
    /// Butterworth high-pass.
    Hpf(FilterSpec),
    /// Butterworth low-pass.
    Lpf(FilterSpec),
    /// Band-pass.
    BandPass(BandPassSpec),
    /// Parametric EQ.
    Eq(EqSpec),
    /// Compressor.
    Compressor(CompressorSpec),
    /// Gate / expander.
    Gate(GateSpec),
    /// Split-band de-esser.
    DeEsser(DeEsserSpec),
    /// Saturation.
    Saturation(SaturationSpec),
    /// Delay.
    Delay(DelaySpec),
    /// Algorithmic reverb.
    Reverb(ReverbSpec),
    /// Convolution reverb.
    Convolution(ConvolutionSpec),
    /// Gain.
    Gain(GainSpec),
    /// Utility: mono, width, polarity, phase rotation.
    Utility(UtilitySpec),
    /// Multiband compressor (2–5 bands on Linkwitz–Riley crossovers).
    Multiband(MultibandSpec),
    /// Stereo imager: width per band, mono below a frequency.
    Imager(ImagerSpec),
    /// Mastering EQ: minimum or linear phase, bands on stereo, mid, side,
    /// left or right.
    MasteringEq(MasteringEqSpec),
    /// Exciter: saturated high band added to the signal.
    Exciter(ExciterSpec),
}

impl ProcessorSpec {
    /// The processor names as written in session files.
    pub const KINDS: &'static [&'static str] = &[
        "hpf",
        "lpf",
        "band_pass",
        "eq",
        "compressor",
        "gate",
        "de_esser",
        "saturation",
        "delay",
        "reverb",
        "convolution",
        "gain",
        "utility",
        "multiband",
        "imager",
        "mastering_eq",
        "exciter",
    ];
}

/// One band of `multiband` (fields left out take the band defaults:
/// threshold −20 dB, ratio 2, knee 6 dB, attack 10 ms, release 100 ms).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MultibandBandSpec {
    /// Threshold in dBFS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold_db: Option<f64>,
    /// Ratio (1 = no compression).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ratio: Option<f64>,
    /// Soft-knee width in dB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub knee_db: Option<f64>,
    /// Attack time in ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attack_ms: Option<f64>,
    /// Release time in ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release_ms: Option<f64>,
    /// Make-up gain in dB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub makeup_db: Option<f64>,
    /// Band passes uncompressed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bypass: Option<bool>,
}

/// `multiband`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MultibandSpec {
    /// Crossover: "lr2", "lr4" (default), "lr8" or "linear_phase".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crossover: Option<String>,
    /// Crossover frequencies in Hz, increasing (1–4 of them: 2–5 bands).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crossover_hz: Option<Vec<f64>>,
    /// Settings per band, lowest first (one per band).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bands: Option<Vec<MultibandBandSpec>>,
    /// Compress mid and side separately.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mid_side: Option<bool>,
    /// Side settings per band in mid/side mode (default: as `bands`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub side_bands: Option<Vec<MultibandBandSpec>>,
    /// Dry/wet mix 0 … 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mix: Option<f64>,
}

/// `mastering_eq`: bands grouped by the signal they act on.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MasteringEqSpec {
    /// "minimum" (default; biquads) or "linear" (FIR, adds latency).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    /// Bands on both channels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bands: Option<Vec<EqBand>>,
    /// Bands on the mid signal (L+R)/2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mid_bands: Option<Vec<EqBand>>,
    /// Bands on the side signal (L−R)/2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub side_bands: Option<Vec<EqBand>>,
    /// Bands on the left channel only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub left_bands: Option<Vec<EqBand>>,
    /// Bands on the right channel only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub right_bands: Option<Vec<EqBand>>,
}

/// `exciter`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExciterSpec {
    /// Lowest frequency excited in Hz (default 3000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub freq_hz: Option<f64>,
    /// Drive into the saturation in dB (default 12).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drive_db: Option<f64>,
    /// Share of the excited band added, 0 … 100 % (default 25).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_pct: Option<f64>,
    /// "tape" (default), "tube" or "soft_clip".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub character: Option<String>,
}

/// `imager`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImagerSpec {
    /// Crossover of the width bands: "lr2", "lr4" (default), "lr8", "linear_phase".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crossover: Option<String>,
    /// Crossover frequencies of the width bands in Hz (default 250, 4000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crossover_hz: Option<Vec<f64>>,
    /// Width per band, 0 (mono) … 1 (unchanged) … 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub widths: Option<Vec<f64>>,
    /// Sum to mono below this frequency in Hz.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mono_below_hz: Option<f64>,
    /// Crossover of the mono stage (default "lr8").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mono_crossover: Option<String>,
}

/// `hpf` / `lpf`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FilterSpec {
    /// Corner frequency (-3 dB) in Hz.
    pub freq_hz: f64,
    /// Slope: 6, 12, 18, 24, 30, 36, 42 or 48 dB/oct.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slope_db_oct: Option<f64>,
}

/// `band_pass`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BandPassSpec {
    /// Centre frequency in Hz.
    pub freq_hz: f64,
    /// Quality factor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<f64>,
}

/// `eq`: a list of bands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EqSpec {
    /// Bands, in order.
    pub bands: Vec<EqBand>,
}

/// One EQ band.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EqBand {
    /// Peaking band.
    Bell {
        /// Centre frequency in Hz.
        freq_hz: f64,
        /// Gain in dB.
        gain_db: f64,
        /// Quality factor.
        q: f64,
    },
    /// Low shelf.
    LowShelf {
        /// Corner frequency in Hz.
        freq_hz: f64,
        /// Gain in dB.
        gain_db: f64,
        /// Quality factor (default 0.7071).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        q: Option<f64>,
    },
    /// High shelf.
    HighShelf {
        /// Corner frequency in Hz.
        freq_hz: f64,
        /// Gain in dB.
        gain_db: f64,
        /// Quality factor (default 0.7071).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        q: Option<f64>,
    },
    /// Notch.
    Notch {
        /// Centre frequency in Hz.
        freq_hz: f64,
        /// Quality factor.
        q: f64,
    },
    /// Tilt: opposite shelves around a pivot.
    Tilt {
        /// Pivot frequency in Hz.
        pivot_hz: f64,
        /// Tilt in dB (positive brightens).
        gain_db: f64,
    },
}

/// `compressor`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CompressorSpec {
    /// Threshold in dBFS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold_db: Option<f64>,
    /// Ratio (1 … 100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ratio: Option<f64>,
    /// Soft-knee width in dB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub knee_db: Option<f64>,
    /// Attack time in ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attack_ms: Option<f64>,
    /// Release time in ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release_ms: Option<f64>,
    /// Detector: "peak" or "rms".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detector: Option<String>,
    /// Lookahead in ms (adds latency, compensated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lookahead_ms: Option<f64>,
    /// Manual makeup gain in dB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub makeup_db: Option<f64>,
    /// Automatic makeup gain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_makeup: Option<bool>,
    /// Key signal from another track or bus, by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sidechain: Option<String>,
    /// High-pass on the detector in Hz.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sidechain_hpf_hz: Option<f64>,
    /// Dry/wet mix 0 … 1 (parallel compression).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mix: Option<f64>,
}

/// `gate`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GateSpec {
    /// Opening threshold in dBFS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold_db: Option<f64>,
    /// Expansion ratio (omit for a gate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ratio: Option<f64>,
    /// Attenuation floor in dB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range_db: Option<f64>,
    /// Closing threshold this far below the opening one, in dB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hysteresis_db: Option<f64>,
    /// Hold time in ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold_ms: Option<f64>,
    /// Attack in ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attack_ms: Option<f64>,
    /// Release in ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release_ms: Option<f64>,
    /// Key signal from another track or bus, by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sidechain: Option<String>,
}

/// `de_esser`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeEsserSpec {
    /// Detection and reduction band in Hz.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub freq_hz: Option<f64>,
    /// Threshold in dBFS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold_db: Option<f64>,
    /// Ratio.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ratio: Option<f64>,
    /// Largest reduction in dB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range_db: Option<f64>,
}

/// `saturation`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SaturationSpec {
    /// "tape", "tube" or "soft_clip".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub character: Option<String>,
    /// Drive in dB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drive_db: Option<f64>,
    /// Output level in dB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_db: Option<f64>,
    /// Dry/wet mix 0 … 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mix: Option<f64>,
}

/// `delay`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DelaySpec {
    /// Delay time in ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_ms: Option<f64>,
    /// Delay as a note value at the session tempo: "1/4", "1/8.", "1/8t".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Feedback 0 … 0.99.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feedback: Option<f64>,
    /// Alternate repeats between left and right.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ping_pong: Option<bool>,
    /// Low-pass in the feedback path, Hz.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lowpass_hz: Option<f64>,
    /// High-pass in the feedback path, Hz.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub highpass_hz: Option<f64>,
    /// Dry/wet mix 0 … 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mix: Option<f64>,
}

/// `reverb`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReverbSpec {
    /// Room size 0 … 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<f64>,
    /// Decay time (RT60) in s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decay_s: Option<f64>,
    /// Pre-delay in ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predelay_ms: Option<f64>,
    /// High-frequency damping 0 … 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub damping: Option<f64>,
    /// Stereo width 0 … 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<f64>,
    /// Dry/wet mix 0 … 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mix: Option<f64>,
}

/// `convolution`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConvolutionSpec {
    /// Impulse-response file, relative to the session file.
    pub ir: String,
    /// Dry/wet mix 0 … 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mix: Option<f64>,
    /// Gain of the wet signal in dB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gain_db: Option<f64>,
    /// Pre-delay in ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predelay_ms: Option<f64>,
}

/// `gain`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GainSpec {
    /// Gain in dB.
    pub gain_db: f64,
}

/// `utility`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UtilitySpec {
    /// Sum to mono.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mono: Option<bool>,
    /// Stereo width 0 … 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<f64>,
    /// Invert polarity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invert_polarity: Option<bool>,
    /// Centre of a phase-rotating all-pass in Hz (−180° there, 0° at DC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase_freq_hz: Option<f64>,
    /// Quality factor of the phase all-pass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase_q: Option<f64>,
}
