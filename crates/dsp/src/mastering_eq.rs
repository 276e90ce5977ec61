//! Mastering EQ: the bands of [`eq`](crate::eq) (bell, shelves, notch,
//! tilt), each on the whole stereo signal, on its mid or side part, or on one
//! channel, in **minimum phase** or **linear phase**.
//!
//! # Channels of a band
//!
//! Mid/side coding (MASTERING_NOTES.md §3.4): `M = (L + R)/2`,
//! `S = (L − R)/2`, decoded exactly by `L = M + S`, `R = M − S`.
//!
//! * [`BandChannels::Stereo`]: the same filter on L and R (equivalently on M
//!   and S);
//! * [`BandChannels::Mid`] / [`BandChannels::Side`]: on M or on S only;
//! * [`BandChannels::Left`] / [`BandChannels::Right`]: on one channel.
//!
//! Filters on M/S and filters on L/R do not commute, so the order is fixed:
//! the **left/right stage** runs first (it corrects the source's channels),
//! then the **main stage** (stereo, mid and side bands). Within a stage the
//! list order is kept (it changes only rounding: the filters are linear and
//! time-invariant). Without mid or side bands the main stage runs directly on
//! L and R, with no M/S coding at all.
//!
//! **Mono** (one channel): the signal is its own mid, `M = x`, `S = 0`.
//! Stereo and mid bands apply to it; **side bands are ignored**, which is
//! exact (a filter on `S = 0` gives 0) and lets a stereo preset run on a
//! mono file. A left or right band has no meaning there: `prepare` fails
//! with an error that says so. More than two channels are refused.
//!
//! # Minimum phase ([`Phase::Minimum`])
//!
//! Each band is the [`Eq`] band (a biquad plus a first-order section
//! matched to the analog prototype within 0.1 dB up to 0.45·fs, see
//! [`analog_match`](crate::analog_match)), run on the channels above. No
//! latency. `bands.N.freq_hz` (or `pivot_hz`), `bands.N.gain_db` and
//! `bands.N.q` are automatable and glide over `smoothing_ms` exactly as in
//! the mixing EQ.
//!
//! # Linear phase ([`Phase::Linear`])
//!
//! One symmetric FIR per signal path whose amplitude is the product of the
//! **analog** prototype magnitudes `|H_a(j2πf)|` of the bands on that path
//! (not of their digital approximations, so it is exact up to fs/2 and
//! needs no frequency clamp), designed by frequency sampling on a dense grid
//! and a Tukey window ([`fir_design`](crate::fir_design)), run by the
//! uniformly partitioned FFT convolution of [`FftFir`] (every partition in
//! the frequency domain, one partition `B` of added latency). Paths:
//!
//! * stereo bands only: one FIR on both channels;
//! * mid/side bands: M/S coding, `G_M` = stereo·mid bands on M,
//!   `G_S` = stereo·side bands on S, decoding;
//! * left/right bands only: `G·F_L` on L, `G·F_R` on R;
//! * both: the whole 2×2 system `[[½(G_M+G_S)F_L, ½(G_M−G_S)F_R],
//!   [½(G_M−G_S)F_L, ½(G_M+G_S)F_R]]` as four FIRs (true-stereo
//!   convolution), so the latency stays that of one FIR.
//!
//! A path without bands gets the exact unit impulse, so it is delayed and
//! otherwise untouched. `latency_frames() = (N − 1)/2 + B` exactly, `N` odd,
//! `B` = [`default_partition_frames`]`(N)` (4096 for 8191 taps).
//!
//! **Length rule.** `|H|` of a band has poles and zeros at some distance
//! `σ·ω0` from the imaginary axis; the zero-phase impulse response of `|H|`
//! decays like `e^{−σ·ω0·|t|}`, so its slowest time constant is
//! `τ = 1/(2π·f0·σ_min)` over the poles **and zeros** (a deep narrow cut has
//! fast poles but zeros close to the axis; a notch's zeros are on the axis,
//! so only its poles count). For a bell, `τ = Q·10^{|g|/40}/(π·f0)`. Then
//!
//! `N = smallest 2^k − 1 ≥ max(8191·fs/48 kHz, 16·τ_max·fs)`,
//! capped at the smallest `2^k − 1 ≥ 65535·fs/48 kHz`,
//!
//! where `τ_max` is the largest `τ` of all bands with an effect (gain ≠ 0, or
//! a notch), whatever their channels, so the latency does not depend on the
//! channel count: 8191 taps (latency 4095 frames, 85 ms) at 44.1/48 kHz for
//! any band set whose `16·τ_max` is below that, 16383 at 88.2/96 kHz, 32767
//! at 176.4/192 kHz. The factor 16 was measured: over bells, shelves and
//! tilts at f0 = 20 Hz … 0.4·fs, Q 0.1 … 10, ±1 … ±24 dB, the shortest
//! length within 0.08 dB of the analog magnitude from 20 Hz to 0.45·fs never
//! exceeded 12.7·τ·fs. With 16 and the rounding up to `2^k − 1`, the
//! response below the cap is within 0.1 dB of the analog product from
//! 10 Hz (the lowest band frequency) to 0.45·fs: measured worst 0.009 dB
//! over 1576 single-band designs at 44.1 to 192 kHz (tests:
//! `tests/mastering_eq.rs`). The cap (65535 taps at 48 kHz, 0.68 s of
//! latency before the partition) is reached only by narrow low bands, e.g. a bell with
//! `Q·10^{|g|/40}/f0 > 0.27 s` (Q 1 at ±24 dB below 15 Hz, Q 3 at ±12 dB
//! below 22 Hz, Q 10 at ±6 dB below 53 Hz); then the response near that
//! band is smoothed over about `fs/N` Hz: [`MasteringEq::fir_length`]
//! reports the length the rule wanted. A notch's zero on the axis is a
//! cusp no finite FIR reaches: a stereo notch is therefore designed from
//! its signed amplitude, a smooth zero crossing the FIR follows (measured
//! depth −74 dB at 60 Hz, Q 8; below −300 dB at 1 kHz), while a mid, side,
//! left or right notch keeps `|H|` and its depth is limited (−19 dB at
//! 60 Hz, Q 8; −38 dB at 1 kHz, Q 4, at 48 kHz): use minimum phase for deep
//! one-path notches.
//!
//! Linear-phase parameters are **not automatable**: a change would need a
//! new FIR (an inverse FFT of the dense grid and the FFTs of every
//! partition) and a crossfade between two convolutions. `set_parameter`
//! validates the name and range and accepts the current value, and returns
//! an error for any other value; build a new `MasteringEq` (offline) or use
//! [`Phase::Minimum`] to automate.

use std::io::Write;

use mixmaster_core::{CoreError, Processor};

use crate::eq::{Band, Eq, EqOptions};
use crate::fft_fir::{FftFir, default_partition_frames};
use crate::filter::{check_freq, check_q, check_range, check_sample_rate};
use crate::fir_design::design_linear_phase;
use crate::smoothing::DEFAULT_SMOOTHING_MS;

/// Length of the linear-phase FIR in slowest time constants of the bands:
/// `N ≥ 16·τ_max·fs` (the `16` of the length rule).
pub const TAPS_PER_TIME_CONSTANT: f64 = 16.0;

/// Shortest linear-phase FIR at 48 kHz (scaled with the rate).
pub const BASE_TAPS_48K: usize = 8191;

/// Longest linear-phase FIR at 48 kHz (scaled with the rate).
pub const MAX_TAPS_48K: usize = 65_535;

/// Minimum or linear phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Phase {
    /// Matched biquads: no latency, automatable.
    #[default]
    Minimum,
    /// Symmetric FIR: latency `(N − 1)/2`, fixed settings.
    Linear,
}

impl Phase {
    /// Parses the session-file name (`minimum`, `linear`).
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "minimum" => Some(Self::Minimum),
            "linear" => Some(Self::Linear),
            _ => None,
        }
    }

    /// The session-file name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Minimum => "minimum",
            Self::Linear => "linear",
        }
    }
}

/// The part of the signal a band acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BandChannels {
    /// Left and right alike.
    #[default]
    Stereo,
    /// `M = (L + R)/2` only.
    Mid,
    /// `S = (L − R)/2` only (ignored on a mono signal).
    Side,
    /// The left channel only (stereo signals only).
    Left,
    /// The right channel only (stereo signals only).
    Right,
}

impl BandChannels {
    /// Parses the session-file name (`stereo`, `mid`, `side`, `left`,
    /// `right`).
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "stereo" => Some(Self::Stereo),
            "mid" => Some(Self::Mid),
            "side" => Some(Self::Side),
            "left" => Some(Self::Left),
            "right" => Some(Self::Right),
            _ => None,
        }
    }

    /// The session-file name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Stereo => "stereo",
            Self::Mid => "mid",
            Self::Side => "side",
            Self::Left => "left",
            Self::Right => "right",
        }
    }

    fn is_left_right(self) -> bool {
        matches!(self, Self::Left | Self::Right)
    }

    fn is_mid_side(self) -> bool {
        matches!(self, Self::Mid | Self::Side)
    }
}

/// One band of the mastering EQ: a filter and where it acts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MasteringBand {
    /// The filter (type, frequency, gain, q).
    pub band: Band,
    /// The part of the signal it acts on.
    pub channels: BandChannels,
}

impl MasteringBand {
    /// A band on both channels.
    pub fn stereo(band: Band) -> Self {
        Self {
            band,
            channels: BandChannels::Stereo,
        }
    }

    /// A band on the mid signal.
    pub fn mid(band: Band) -> Self {
        Self {
            band,
            channels: BandChannels::Mid,
        }
    }

    /// A band on the side signal.
    pub fn side(band: Band) -> Self {
        Self {
            band,
            channels: BandChannels::Side,
        }
    }

    /// A band on the left channel.
    pub fn left(band: Band) -> Self {
        Self {
            band,
            channels: BandChannels::Left,
        }
    }

    /// A band on the right channel.
    pub fn right(band: Band) -> Self {
        Self {
            band,
            channels: BandChannels::Right,
        }
    }
}

/// Settings of [`MasteringEq`].
#[derive(Debug, Clone, PartialEq)]
pub struct MasteringEqOptions {
    /// Bands (see the module docs for the order of the stages).
    pub bands: Vec<MasteringBand>,
    /// Minimum phase (default) or linear phase.
    pub phase: Phase,
    /// Glide time of parameter changes in minimum phase (0 ..= 1000 ms,
    /// default 20).
    pub smoothing_ms: f64,
}

impl Default for MasteringEqOptions {
    fn default() -> Self {
        Self {
            bands: Vec::new(),
            phase: Phase::Minimum,
            smoothing_ms: DEFAULT_SMOOTHING_MS,
        }
    }
}

impl MasteringEqOptions {
    /// Checks every band and field; the error names the field and its valid
    /// range (frequencies 10 ..= 40000 Hz, gains −24 ..= 24 dB, q 0.1 ..= 10,
    /// smoothing 0 ..= 1000 ms).
    pub fn validate(&self) -> Result<(), CoreError> {
        Eq::new(EqOptions {
            bands: self.bands.iter().map(|b| b.band).collect(),
            smoothing_ms: self.smoothing_ms,
        })
        .map(|_| ())
    }

    /// Checks that the bands can run on `channels` channels: 1 or 2, and
    /// no left or right band on a mono signal.
    pub fn validate_channels(&self, channels: usize) -> Result<(), CoreError> {
        check_range(
            "channels",
            channels as f64,
            1.0,
            2.0,
            "1 (mono) or 2 (stereo)",
        )?;
        if channels == 1 && self.bands.iter().any(|b| b.channels.is_left_right()) {
            return Err(CoreError::OutOfRange {
                name: "channels",
                value: 1.0,
                range: "2: a band on the left or right channel needs a stereo signal \
                        (on mono, stereo and mid bands apply and side bands are ignored)",
            });
        }
        Ok(())
    }
}

/// Length of the linear-phase FIR at one sample rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FirLength {
    /// Taps used (odd): the rule's length, at most the cap.
    pub taps: usize,
    /// Taps the rule asked for before the cap.
    pub required_taps: usize,
}

impl FirLength {
    /// Whether the cap shortened the filter (the 0.1 dB accuracy is then
    /// not guaranteed near the band that asked for more).
    pub fn is_capped(&self) -> bool {
        self.required_taps > self.taps
    }

    /// The FFT partition the FIR runs with, `B`.
    pub fn partition_frames(&self) -> usize {
        default_partition_frames(self.taps)
    }

    /// The latency of the filter: the FIR's centre `(taps − 1)/2` plus the
    /// partition `B`.
    pub fn latency_frames(&self) -> usize {
        (self.taps - 1) / 2 + self.partition_frames()
    }
}

/// Smallest distance from the imaginary axis of a root of
/// `c0 + c1·s + c2·s²` (normalised `s`), or infinity without roots.
fn slowest_root(c: [f64; 3]) -> f64 {
    let [c0, c1, c2] = c;
    if c2 == 0.0 {
        return if c1 == 0.0 {
            f64::INFINITY
        } else {
            (c0 / c1).abs()
        };
    }
    let disc = c1 * c1 - 4.0 * c0 * c2;
    if disc < 0.0 {
        (c1 / (2.0 * c2)).abs()
    } else if c0 == 0.0 {
        // A root at s = 0 (not produced by the EQ bands).
        0.0
    } else {
        // The smaller real root, in the form that does not cancel.
        (2.0 * c0 / (c1.abs() + disc.sqrt())).abs()
    }
}

/// The slowest time constant in seconds of the zero-phase impulse response
/// of `|H_a|` of `band` (see the module docs); 0 for a band with no effect.
pub fn zero_phase_time_constant_s(band: &Band) -> f64 {
    let (f0, gain_db) = match *band {
        Band::Bell {
            freq_hz, gain_db, ..
        }
        | Band::LowShelf {
            freq_hz, gain_db, ..
        }
        | Band::HighShelf {
            freq_hz, gain_db, ..
        } => (freq_hz, gain_db),
        Band::Notch { freq_hz, .. } => (freq_hz, f64::NAN),
        Band::Tilt { pivot_hz, gain_db } => (pivot_hz, gain_db),
    };
    if gain_db == 0.0 {
        return 0.0;
    }
    let analog = band.analog();
    let mut sigma = slowest_root(analog.den);
    if !matches!(band, Band::Notch { .. }) {
        sigma = sigma.min(slowest_root(analog.num));
    }
    1.0 / (sigma * 2.0 * std::f64::consts::PI * f0)
}

/// Smallest `2^k − 1` that is at least `x` (at least 1).
fn mersenne_at_least(x: f64) -> usize {
    let mut n = 1usize;
    while (n as f64) < x && n < crate::fir_design::MAX_TAPS {
        n = 2 * n + 1;
    }
    n
}

/// The linear-phase FIR length for `bands` at `sample_rate_hz` (the rule of
/// the module docs).
pub fn linear_phase_length(bands: &[MasteringBand], sample_rate_hz: u32) -> FirLength {
    let fs = f64::from(sample_rate_hz);
    let scale = fs / 48_000.0;
    let tau = bands
        .iter()
        .map(|b| zero_phase_time_constant_s(&b.band))
        .fold(0.0, f64::max);
    let required_taps =
        mersenne_at_least((BASE_TAPS_48K as f64 * scale).max(TAPS_PER_TIME_CONSTANT * tau * fs));
    let cap = mersenne_at_least(MAX_TAPS_48K as f64 * scale);
    FirLength {
        taps: required_taps.min(cap),
        required_taps,
    }
}

/// Which part of the signal an [`Eq`] lane of the minimum-phase path filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    /// Channel 0 before the main stage.
    Left,
    /// Channel 1 before the main stage.
    Right,
    /// Channel 0 after M/S encoding.
    Mid,
    /// Channel 1 after M/S encoding.
    Side,
    /// Every channel, without M/S coding.
    All,
}

#[derive(Debug, Clone)]
struct Lane {
    route: Route,
    eq: Eq,
    /// Index in the options of each of the lane's bands, in lane order.
    members: Vec<usize>,
}

#[derive(Debug, Clone)]
struct LinearPath {
    convolution: FftFir,
    /// Encode to M/S before the convolution and decode after.
    mid_side: bool,
    kernels: Vec<Vec<f64>>,
}

/// Mastering EQ; see the module docs.
#[derive(Debug, Clone)]
pub struct MasteringEq {
    options: MasteringEqOptions,
    sample_rate_hz: u32,
    channels: usize,
    prepared: bool,
    /// Minimum phase: the lanes in processing order.
    lanes: Vec<Lane>,
    /// Minimum phase: whether the main stage runs on M/S.
    mid_side: bool,
    linear: Option<LinearPath>,
    fir_length: FirLength,
}

/// `M = (L + R)/2`, `S = (L − R)/2` in place.
fn encode(block: &mut [&mut [f64]]) {
    if let [l, r, ..] = block {
        for (l, r) in l.iter_mut().zip(r.iter_mut()) {
            let (a, b) = (*l, *r);
            *l = 0.5 * (a + b);
            *r = 0.5 * (a - b);
        }
    }
}

/// `L = M + S`, `R = M − S` in place.
fn decode(block: &mut [&mut [f64]]) {
    if let [m, s, ..] = block {
        for (m, s) in m.iter_mut().zip(s.iter_mut()) {
            let (a, b) = (*m, *s);
            *m = a + b;
            *s = a - b;
        }
    }
}

/// The field names of a band type, as in the mixing EQ.
fn field_names(band: &Band) -> &'static [&'static str] {
    match band {
        Band::Bell { .. } | Band::LowShelf { .. } | Band::HighShelf { .. } => {
            &["freq_hz", "gain_db", "q"]
        }
        Band::Notch { .. } => &["freq_hz", "q"],
        Band::Tilt { .. } => &["pivot_hz", "gain_db"],
    }
}

/// `band` with `field` set to `value`: `Ok(None)` when the band type has no
/// such field, an error when the value is out of range.
fn with_field(band: Band, field: &str, value: f64) -> Result<Option<Band>, CoreError> {
    let gain = |v: f64| check_range("gain_db", v, -24.0, 24.0, "-24 ..= 24 dB");
    let updated = match (band, field) {
        (
            Band::Bell {
                gain_db: g, q: qq, ..
            },
            "freq_hz",
        ) => {
            check_freq("freq_hz", value)?;
            Band::bell(value, g, qq)
        }
        (
            Band::Bell {
                freq_hz: f, q: qq, ..
            },
            "gain_db",
        ) => {
            gain(value)?;
            Band::bell(f, value, qq)
        }
        (
            Band::Bell {
                freq_hz: f,
                gain_db: g,
                ..
            },
            "q",
        ) => {
            check_q(value)?;
            Band::bell(f, g, value)
        }
        (Band::LowShelf { gain_db, q, .. }, "freq_hz") => {
            check_freq("freq_hz", value)?;
            Band::LowShelf {
                freq_hz: value,
                gain_db,
                q,
            }
        }
        (Band::LowShelf { freq_hz, q, .. }, "gain_db") => {
            gain(value)?;
            Band::LowShelf {
                freq_hz,
                gain_db: value,
                q,
            }
        }
        (
            Band::LowShelf {
                freq_hz, gain_db, ..
            },
            "q",
        ) => {
            check_q(value)?;
            Band::LowShelf {
                freq_hz,
                gain_db,
                q: value,
            }
        }
        (Band::HighShelf { gain_db, q, .. }, "freq_hz") => {
            check_freq("freq_hz", value)?;
            Band::HighShelf {
                freq_hz: value,
                gain_db,
                q,
            }
        }
        (Band::HighShelf { freq_hz, q, .. }, "gain_db") => {
            gain(value)?;
            Band::HighShelf {
                freq_hz,
                gain_db: value,
                q,
            }
        }
        (
            Band::HighShelf {
                freq_hz, gain_db, ..
            },
            "q",
        ) => {
            check_q(value)?;
            Band::HighShelf {
                freq_hz,
                gain_db,
                q: value,
            }
        }
        (Band::Notch { q, .. }, "freq_hz") => {
            check_freq("freq_hz", value)?;
            Band::Notch { freq_hz: value, q }
        }
        (Band::Notch { freq_hz, .. }, "q") => {
            check_q(value)?;
            Band::Notch { freq_hz, q: value }
        }
        (Band::Tilt { gain_db, .. }, "pivot_hz") => {
            check_freq("pivot_hz", value)?;
            Band::Tilt {
                pivot_hz: value,
                gain_db,
            }
        }
        (Band::Tilt { pivot_hz, .. }, "gain_db") => {
            gain(value)?;
            Band::Tilt {
                pivot_hz,
                gain_db: value,
            }
        }
        _ => return Ok(None),
    };
    Ok(Some(updated))
}

/// The zero-phase amplitude a band contributes to the linear-phase FIR: its
/// analog magnitude, except that a **stereo notch** keeps the sign of its
/// numerator `1 − (f/f0)²` (negative above `f0`). `|H|` of a notch has a
/// cusp at its zero, which a finite FIR can only round off (about −20 dB
/// deep at the rule's length); the signed amplitude crosses zero smoothly,
/// so the FIR follows it into a zero on the unit circle, as every
/// linear-phase band-stop does. The sign flip (a phase step of π above
/// `f0`) is the same on every path only for a stereo band; on a mid, side,
/// left or right band it would invert that path against the other one
/// above `f0`, so those notches use `|H|`.
fn band_amplitude(band: &MasteringBand, freq_hz: f64) -> f64 {
    let magnitude = band.band.analog_magnitude(freq_hz);
    match band.band {
        Band::Notch { freq_hz: f0, .. }
            if band.channels == BandChannels::Stereo && freq_hz > f0 =>
        {
            -magnitude
        }
        _ => magnitude,
    }
}

/// The error for a change of a linear-phase band.
fn linear_fixed(field: &str, value: f64) -> CoreError {
    let name = match field {
        "freq_hz" => "freq_hz",
        "pivot_hz" => "pivot_hz",
        "gain_db" => "gain_db",
        _ => "q",
    };
    CoreError::OutOfRange {
        name,
        value,
        range: "the value given at construction: linear-phase bands set the FIR, so they \
                cannot be automated (use phase = minimum to automate)",
    }
}

impl MasteringEq {
    /// A mastering EQ; fails with the valid range on a bad setting.
    pub fn new(options: MasteringEqOptions) -> Result<Self, CoreError> {
        options.validate()?;
        let fir_length = linear_phase_length(&options.bands, 48_000);
        Ok(Self {
            options,
            sample_rate_hz: 48_000,
            channels: 0,
            prepared: false,
            lanes: Vec::new(),
            mid_side: false,
            linear: None,
            fir_length,
        })
    }

    /// The settings, with automated values at their targets.
    pub fn options(&self) -> &MasteringEqOptions {
        &self.options
    }

    /// The linear-phase FIR length at the prepared rate (48 kHz before
    /// `prepare`); `None` in minimum phase.
    pub fn fir_length(&self) -> Option<FirLength> {
        (self.options.phase == Phase::Linear).then_some(self.fir_length)
    }

    /// The linear-phase FIRs after `prepare` (empty in minimum phase): one
    /// (every channel), two (channels 0 and 1, or M and S when
    /// [`uses_mid_side`](Self::uses_mid_side)) or four (true stereo: L→L,
    /// L→R, R→L, R→R).
    pub fn kernels(&self) -> &[Vec<f64>] {
        self.linear.as_ref().map_or(&[], |l| &l.kernels)
    }

    /// Whether the prepared main stage codes the signal to mid/side (only
    /// with mid or side bands on a stereo signal).
    pub fn uses_mid_side(&self) -> bool {
        self.linear.as_ref().map_or(self.mid_side, |l| l.mid_side)
    }

    fn parameter_names(&self) -> String {
        let mut names = Vec::new();
        for (i, b) in self.options.bands.iter().enumerate() {
            for field in field_names(&b.band) {
                names.push(format!("bands.{i}.{field}"));
            }
        }
        names.join(", ")
    }

    /// Bands (with their indices) acting on the paths of a stereo or mono
    /// signal.
    fn members(&self, keep: impl Fn(BandChannels) -> bool) -> Vec<usize> {
        (0..self.options.bands.len())
            .filter(|&i| keep(self.options.bands[i].channels))
            .collect()
    }

    fn lane(&self, route: Route, members: Vec<usize>) -> Result<Lane, CoreError> {
        let mut eq = Eq::new(EqOptions {
            bands: members
                .iter()
                .map(|&i| self.options.bands[i].band)
                .collect(),
            smoothing_ms: self.options.smoothing_ms,
        })?;
        let channels = if route == Route::All {
            self.channels
        } else {
            1
        };
        eq.prepare(self.sample_rate_hz, 1, channels)?;
        Ok(Lane { route, eq, members })
    }

    fn prepare_minimum(&mut self) -> Result<(), CoreError> {
        use BandChannels as C;
        let stereo = self.channels == 2;
        let has = |f: fn(BandChannels) -> bool| self.options.bands.iter().any(|b| f(b.channels));
        let left_right = stereo && has(C::is_left_right);
        self.mid_side = stereo && has(C::is_mid_side);
        let mut lanes = Vec::new();
        if left_right {
            lanes.push(self.lane(Route::Left, self.members(|c| c == C::Left))?);
            lanes.push(self.lane(Route::Right, self.members(|c| c == C::Right))?);
        }
        if self.mid_side {
            lanes.push(self.lane(
                Route::Mid,
                self.members(|c| matches!(c, C::Stereo | C::Mid)),
            )?);
            lanes.push(self.lane(
                Route::Side,
                self.members(|c| matches!(c, C::Stereo | C::Side)),
            )?);
        } else if stereo {
            lanes.push(self.lane(Route::All, self.members(|c| c == C::Stereo))?);
        } else {
            lanes.push(self.lane(
                Route::All,
                self.members(|c| matches!(c, C::Stereo | C::Mid)),
            )?);
        }
        lanes.retain(|l| !l.members.is_empty());
        self.lanes = lanes;
        Ok(())
    }

    /// The product of the analog magnitudes of the bands on a path, with
    /// the sign of a stereo notch's numerator (see [`band_amplitude`]).
    fn path_magnitude(&self, keep: impl Fn(BandChannels) -> bool, freq_hz: f64) -> f64 {
        self.options
            .bands
            .iter()
            .filter(|b| keep(b.channels))
            .map(|b| band_amplitude(b, freq_hz))
            .product()
    }

    /// The FIR of `amplitude`, or the exact centred unit impulse when no band
    /// acts on the path.
    fn kernel(
        &self,
        active: bool,
        amplitude: impl FnMut(f64) -> f64,
    ) -> Result<Vec<f64>, CoreError> {
        let taps = self.fir_length.taps;
        if active {
            design_linear_phase(taps, f64::from(self.sample_rate_hz), amplitude)
        } else {
            let mut h = vec![0.0; taps];
            h[(taps - 1) / 2] = 1.0;
            Ok(h)
        }
    }

    fn prepare_linear(&mut self) -> Result<(), CoreError> {
        use BandChannels as C;
        let stereo = self.channels == 2;
        let any =
            |f: &dyn Fn(BandChannels) -> bool| self.options.bands.iter().any(|b| f(b.channels));
        let left_right = stereo && any(&|c| c.is_left_right());
        let mid_side = stereo && any(&|c| c.is_mid_side());
        let on_main = |c: BandChannels| c == C::Stereo;
        let on_mid = |c: BandChannels| matches!(c, C::Stereo | C::Mid);
        let on_side = |c: BandChannels| matches!(c, C::Stereo | C::Side);
        let on_left = |c: BandChannels| c == C::Left;
        let on_right = |c: BandChannels| c == C::Right;
        let (kernels, code_mid_side) = if !stereo {
            (
                vec![self.kernel(any(&on_mid), |f| self.path_magnitude(on_mid, f))?],
                false,
            )
        } else if !left_right && !mid_side {
            (
                vec![self.kernel(any(&on_main), |f| self.path_magnitude(on_main, f))?],
                false,
            )
        } else if !left_right {
            (
                vec![
                    self.kernel(any(&on_mid), |f| self.path_magnitude(on_mid, f))?,
                    self.kernel(any(&on_side), |f| self.path_magnitude(on_side, f))?,
                ],
                true,
            )
        } else if !mid_side {
            let both = |f| self.path_magnitude(on_main, f);
            let (main, left, right) = (any(&on_main), any(&on_left), any(&on_right));
            (
                vec![
                    self.kernel(main || left, |f| both(f) * self.path_magnitude(on_left, f))?,
                    self.kernel(main || right, |f| {
                        both(f) * self.path_magnitude(on_right, f)
                    })?,
                ],
                false,
            )
        } else {
            let sum = |f| 0.5 * (self.path_magnitude(on_mid, f) + self.path_magnitude(on_side, f));
            let diff = |f| 0.5 * (self.path_magnitude(on_mid, f) - self.path_magnitude(on_side, f));
            let left = |f| self.path_magnitude(on_left, f);
            let right = |f| self.path_magnitude(on_right, f);
            (
                vec![
                    self.kernel(true, |f| sum(f) * left(f))?,
                    self.kernel(true, |f| diff(f) * left(f))?,
                    self.kernel(true, |f| diff(f) * right(f))?,
                    self.kernel(true, |f| sum(f) * right(f))?,
                ],
                false,
            )
        };
        let convolution = FftFir::new(&kernels, self.channels, None)?;
        self.linear = Some(LinearPath {
            convolution,
            mid_side: code_mid_side,
            kernels,
        });
        Ok(())
    }
}

impl Processor for MasteringEq {
    fn prepare(
        &mut self,
        sample_rate_hz: u32,
        _max_block_frames: usize,
        channels: usize,
    ) -> Result<(), CoreError> {
        check_sample_rate(sample_rate_hz)?;
        self.options.validate_channels(channels)?;
        self.prepared = false;
        self.sample_rate_hz = sample_rate_hz;
        self.channels = channels;
        self.fir_length = linear_phase_length(&self.options.bands, sample_rate_hz);
        self.lanes.clear();
        self.linear = None;
        self.mid_side = false;
        match self.options.phase {
            Phase::Minimum => self.prepare_minimum()?,
            Phase::Linear => self.prepare_linear()?,
        }
        self.prepared = true;
        Ok(())
    }

    fn process(&mut self, block: &mut [&mut [f64]]) {
        if !self.prepared || block.len() != self.channels {
            return;
        }
        if let Some(linear) = &mut self.linear {
            if linear.mid_side {
                encode(block);
            }
            linear.convolution.process(block);
            if linear.mid_side {
                decode(block);
            }
            return;
        }
        let mut coded = false;
        for lane in &mut self.lanes {
            let channels = match lane.route {
                Route::Left | Route::Mid => 0..1,
                Route::Right | Route::Side => 1..2,
                Route::All => 0..block.len(),
            };
            if matches!(lane.route, Route::Mid | Route::Side) && !coded {
                encode(block);
                coded = true;
            }
            lane.eq.process(&mut block[channels]);
        }
        if coded {
            decode(block);
        }
    }

    fn reset(&mut self) {
        for lane in &mut self.lanes {
            lane.eq.reset();
        }
        if let Some(linear) = &mut self.linear {
            linear.convolution.reset();
        }
    }

    fn latency_frames(&self) -> usize {
        match self.options.phase {
            Phase::Minimum => 0,
            Phase::Linear => self.fir_length.latency_frames(),
        }
    }

    /// Linear phase: the FIR's length after the last input; minimum phase:
    /// the decay of the slowest lane to −120 dB.
    fn tail_frames(&self) -> usize {
        match self.options.phase {
            Phase::Minimum => self
                .lanes
                .iter()
                .map(|l| l.eq.tail_frames())
                .max()
                .unwrap_or(0),
            Phase::Linear => self.fir_length.taps - 1 + self.fir_length.partition_frames(),
        }
    }

    /// `bands.N.freq_hz` (`bands.N.pivot_hz` for a tilt), `bands.N.gain_db`
    /// (not for a notch), `bands.N.q` (not for a tilt), N indexing
    /// [`MasteringEqOptions::bands`]. Minimum phase: glides over
    /// `smoothing_ms`. Linear phase: only the current value is accepted.
    fn set_parameter(&mut self, name: &str, value: f64) -> Result<(), CoreError> {
        let unknown = |eq: &Self| CoreError::UnknownParameter {
            name: name.to_string(),
            valid: eq.parameter_names(),
        };
        let mut parts = name.splitn(3, '.');
        let (Some("bands"), Some(index), Some(field)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(unknown(self));
        };
        let Some(index) = index
            .parse::<usize>()
            .ok()
            .filter(|&i| i < self.options.bands.len())
        else {
            return Err(unknown(self));
        };
        let current = self.options.bands[index].band;
        let Some(updated) = with_field(current, field, value)? else {
            return Err(unknown(self));
        };
        if self.options.phase == Phase::Linear {
            return if updated == current {
                Ok(())
            } else {
                Err(linear_fixed(field, value))
            };
        }
        self.options.bands[index].band = updated;
        // Forward to every lane holding the band, under its index there; the
        // name is written on the stack (no allocation between blocks).
        let mut buf = [0u8; 64];
        for lane in &mut self.lanes {
            let Some(local) = lane.members.iter().position(|&i| i == index) else {
                continue;
            };
            let free = {
                let mut cursor = &mut buf[..];
                // `field` passed `with_field`, so the name fits in 64 bytes.
                if write!(cursor, "bands.{local}.{field}").is_err() {
                    continue;
                }
                cursor.len()
            };
            let len = buf.len() - free;
            if let Ok(local_name) = std::str::from_utf8(&buf[..len]) {
                lane.eq.set_parameter(local_name, value)?;
            }
        }
        Ok(())
    }
}
