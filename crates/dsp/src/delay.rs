//! Feedback delay (echo), stereo or multichannel, with tempo-synced times,
//! ping-pong routing and filters in the feedback path.
//!
//! Signal flow per channel `c` (one shared delay time `D` frames):
//!
//! ```text
//! y_c[n] = line_c[n − D]                         (fractional: cubic Hermite)
//! line_c[n] = x_c[n] + g · F(y_c[n])            (plain)
//! line_c[n] = g · F(y_{c−1}[n]) (+ mean(x) for c = 0)   (ping-pong)
//! out_c[n] = (1 − mix) · x_c[n] + mix · y_c[n]
//! ```
//!
//! `F` is a one-pole low-pass then a one-pole high-pass, both only in the
//! loop: the first echo is unfiltered, echo `k` has passed `F` `k − 1` times,
//! so each repeat gets darker and thinner, as on a tape echo.
//!
//! * Fractional delay: 4-point, 3rd-order Hermite (Catmull-Rom) interpolation
//!   (O. Niemitalo, "Polynomial Interpolators for High-Quality Resampling of
//!   Oversampled Audio", 2001, the "4-point, 3rd-order Hermite"
//!   interpolator). At an integer delay it returns the stored sample exactly.
//! * Time changes: **crossfade**, not a slewed read pointer. A new time starts
//!   a second read tap and the output crossfades to it over
//!   [`TIME_CROSSFADE_MS`] with a raised-cosine (equal-gain) curve; a change
//!   that arrives during a fade is taken up when that fade ends. This avoids
//!   the pitch glide ("tape" Doppler) a moving read pointer would add.
//! * Ping-pong: the mono sum of the input feeds channel 0 only, and each
//!   channel's echo feeds the next channel's line (a ring: L → R → L for
//!   stereo), so successive echoes alternate between the channels. With one
//!   channel it is the plain delay.
//! * `feedback`, `mix` and the filter coefficients follow linear ramps of
//!   [`PARAMETER_RAMP_MS`], so automation does not click.
//!
//! This file also holds the small crate-private building blocks the reverb
//! and the convolution reuse for their pre-delay: `DelayLine`,
//! `CrossfadeTap`, and the linear parameter `Ramp` (to give way to core's
//! smoother once there is one).

use std::f64::consts::PI;
use std::str::FromStr;

use mixmaster_core::{CoreError, Processor};

/// Shortest delay time in ms (keeps at least 2 frames in the loop at every
/// supported rate, which the Hermite read needs).
pub const MIN_TIME_MS: f64 = 1.0;
/// Longest delay time in ms; the lines are allocated for it in `prepare`, so
/// automation never reallocates.
pub const MAX_TIME_MS: f64 = 10_000.0;
/// Largest feedback gain.
pub const MAX_FEEDBACK: f64 = 0.99;
/// Length of the crossfade that follows a change of delay time.
pub const TIME_CROSSFADE_MS: f64 = 50.0;
/// Length of the linear ramps of `feedback`, `mix` and the filter cutoffs.
pub const PARAMETER_RAMP_MS: f64 = 20.0;
/// Level below which the feedback has died away, for [`Processor::tail_frames`].
pub const TAIL_FLOOR_DB: f64 = -90.0;

/// Magnitudes below this (−600 dBFS) are flushed to zero in feedback state,
/// so a decaying loop never reaches subnormal numbers (which are slow on
/// most CPUs) and the output does not change measurably.
pub(crate) const DENORMAL_FLOOR: f64 = 1e-30;

#[inline]
pub(crate) fn flush_denormal(x: f64) -> f64 {
    if x.abs() < DENORMAL_FLOOR { 0.0 } else { x }
}

/// `Ok` when `lo <= value <= hi` (NaN is out of range).
pub(crate) fn check_range(
    name: &'static str,
    value: f64,
    lo: f64,
    hi: f64,
    range: &'static str,
) -> Result<(), CoreError> {
    if (lo..=hi).contains(&value) {
        Ok(())
    } else {
        Err(CoreError::OutOfRange { name, value, range })
    }
}

/// Frames in `ms` milliseconds at `sample_rate_hz`, at least 1.
pub(crate) fn ms_to_frames_at_least_one(ms: f64, sample_rate_hz: u32) -> usize {
    ((ms * 1e-3 * f64::from(sample_rate_hz)).round() as usize).max(1)
}

// ---------------------------------------------------------------------------
// Note values
// ---------------------------------------------------------------------------

/// How a note value is modified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NoteModifier {
    /// Plain note value.
    #[default]
    Straight,
    /// Dotted: 3/2 of the plain value (`"1/4."`).
    Dotted,
    /// Triplet: 2/3 of the plain value (`"1/8t"`).
    Triplet,
}

/// A note value such as `1/8`, `1/4.` (dotted) or `1/8t` (triplet), for
/// delay times synced to the session tempo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoteValue {
    /// Numerator, 1 ..= 64 (`3` in `3/16`).
    pub numerator: u32,
    /// Denominator, a power of two 1 ..= 128 (`8` in `1/8`).
    pub denominator: u32,
    /// Dotted, triplet or plain.
    pub modifier: NoteModifier,
}

const NOTE_SYNTAX: &str = "n/d with n in 1 ..= 64 and d one of 1, 2, 4, 8, 16, 32, 64, 128, \
                           optionally followed by '.' (dotted) or 't' (triplet): 1/8, 1/4., 1/8t";

impl NoteValue {
    /// Parses `"1/8"`, `"1/4."`, `"1/8t"`, `"3/16"`.
    pub fn parse(text: &str) -> Result<Self, CoreError> {
        let bad = || CoreError::UnknownId {
            kind: "note value",
            id: text.to_string(),
            valid: NOTE_SYNTAX.to_string(),
        };
        let trimmed = text.trim();
        let (body, modifier) = if let Some(b) = trimmed.strip_suffix('.') {
            (b, NoteModifier::Dotted)
        } else if let Some(b) = trimmed
            .strip_suffix('t')
            .or_else(|| trimmed.strip_suffix('T'))
        {
            (b, NoteModifier::Triplet)
        } else {
            (trimmed, NoteModifier::Straight)
        };
        let (num, den) = body.split_once('/').ok_or_else(bad)?;
        let numerator: u32 = num.trim().parse().map_err(|_| bad())?;
        let denominator: u32 = den.trim().parse().map_err(|_| bad())?;
        if !(1..=64).contains(&numerator)
            || !(1..=128).contains(&denominator)
            || !denominator.is_power_of_two()
        {
            return Err(bad());
        }
        Ok(Self {
            numerator,
            denominator,
            modifier,
        })
    }

    /// Length in beats, a beat being a quarter note (the tempo counts
    /// quarter notes per minute, whatever the time signature).
    pub fn beats(&self) -> f64 {
        let whole_notes = f64::from(self.numerator) / f64::from(self.denominator);
        let factor = match self.modifier {
            NoteModifier::Straight => 1.0,
            NoteModifier::Dotted => 1.5,
            NoteModifier::Triplet => 2.0 / 3.0,
        };
        4.0 * whole_notes * factor
    }

    /// Duration in ms at `tempo_bpm` quarter notes per minute.
    pub fn to_ms(&self, tempo_bpm: f64) -> f64 {
        self.beats() * 60_000.0 / tempo_bpm
    }
}

impl FromStr for NoteValue {
    type Err = CoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Tempo range accepted for tempo-synced times.
const TEMPO_RANGE: (f64, f64, &str) = (20.0, 999.0, "20 ..= 999");

/// Duration in ms of a note value (`"1/8"`, `"1/4."`, `"1/8t"`) at a tempo
/// in quarter notes per minute: `ms = 4 · n/d · k · 60000 / bpm`, with
/// `k` = 1, 3/2 (dotted) or 2/3 (triplet). 1/4 at 120 bpm is 500 ms.
pub fn note_to_ms(note: &str, tempo_bpm: f64) -> Result<f64, CoreError> {
    check_range(
        "tempo_bpm",
        tempo_bpm,
        TEMPO_RANGE.0,
        TEMPO_RANGE.1,
        TEMPO_RANGE.2,
    )?;
    Ok(NoteValue::parse(note)?.to_ms(tempo_bpm))
}

// ---------------------------------------------------------------------------
// Building blocks shared with the reverb and the convolution
// ---------------------------------------------------------------------------

/// A linear ramp towards a target, advanced once per frame. It lands exactly
/// on the target, so a settled parameter has its exact value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Ramp {
    value: f64,
    target: f64,
    step: f64,
    remaining: usize,
}

impl Ramp {
    pub(crate) fn new(value: f64) -> Self {
        Self {
            value,
            target: value,
            step: 0.0,
            remaining: 0,
        }
    }

    /// Jumps to `value` (used by `prepare` and `reset`).
    pub(crate) fn snap(&mut self, value: f64) {
        *self = Self::new(value);
    }

    /// Ramps from the current value to `target` over `frames` frames.
    pub(crate) fn set(&mut self, target: f64, frames: usize) {
        if frames == 0 || target == self.value {
            self.snap(target);
        } else {
            self.target = target;
            self.step = (target - self.value) / frames as f64;
            self.remaining = frames;
        }
    }

    /// The value for the next frame.
    #[inline]
    pub(crate) fn next_value(&mut self) -> f64 {
        if self.remaining > 0 {
            self.remaining -= 1;
            self.value = if self.remaining == 0 {
                self.target
            } else {
                self.value + self.step
            };
        }
        self.value
    }

    pub(crate) fn target(&self) -> f64 {
        self.target
    }

    pub(crate) fn value(&self) -> f64 {
        self.value
    }
}

/// A circular buffer of past samples with integer, linear and cubic Hermite
/// reads. `read(d)` looks `d` frames back from the most recent `push`
/// (`d = 0` is that sample).
#[derive(Debug, Clone, Default)]
pub(crate) struct DelayLine {
    buf: Vec<f64>,
    mask: usize,
    write: usize,
}

impl DelayLine {
    /// A silent line that can look back at least `max_delay_frames` frames
    /// with any of its reads.
    pub(crate) fn new(max_delay_frames: usize) -> Self {
        let len = (max_delay_frames + 4).next_power_of_two();
        Self {
            buf: vec![0.0; len],
            mask: len - 1,
            write: 0,
        }
    }

    pub(crate) fn clear(&mut self) {
        self.buf.fill(0.0);
        self.write = 0;
    }

    #[inline]
    pub(crate) fn push(&mut self, x: f64) {
        self.write = (self.write + 1) & self.mask;
        self.buf[self.write] = x;
    }

    #[inline]
    fn at(&self, back: usize) -> f64 {
        self.buf[self.write.wrapping_sub(back) & self.mask]
    }

    /// The sample `back` frames back.
    #[inline]
    pub(crate) fn read_int(&self, back: usize) -> f64 {
        self.at(back)
    }

    /// Linear interpolation `d` frames back (`d >= 0`).
    #[inline]
    pub(crate) fn read_linear(&self, d: f64) -> f64 {
        let i = d as usize;
        let t = d - i as f64;
        let a = self.at(i);
        if t == 0.0 {
            a
        } else {
            a + t * (self.at(i + 1) - a)
        }
    }

    /// 4-point, 3rd-order Hermite (Catmull-Rom) interpolation `d` frames back
    /// (`d >= 0`); Niemitalo 2001. Exact at integer `d`. Below one
    /// frame the newer neighbour, which does not exist yet, is replaced by
    /// the newest sample.
    #[inline]
    pub(crate) fn read_hermite(&self, d: f64) -> f64 {
        let i = d as usize;
        let t = d - i as f64;
        let y0 = self.at(i);
        if t == 0.0 {
            return y0;
        }
        let ym1 = if i == 0 { y0 } else { self.at(i - 1) };
        let y1 = self.at(i + 1);
        let y2 = self.at(i + 2);
        let c1 = 0.5 * (y1 - ym1);
        let c2 = ym1 - 2.5 * y0 + 2.0 * y1 - 0.5 * y2;
        let c3 = 0.5 * (y2 - ym1) + 1.5 * (y0 - y1);
        ((c3 * t + c2) * t + c1) * t + y0
    }
}

/// The delay of a read tap, moved to a new value by crossfading from the old
/// tap to a new one (raised cosine, equal gain). Shared by all channels of a
/// processor; advanced once per frame with [`CrossfadeTap::tick`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct CrossfadeTap {
    current: f64,
    next: f64,
    target: f64,
    /// 0 when idle, else the frame of the fade (1 ..= fade_frames).
    pos: usize,
    fade_frames: usize,
}

impl CrossfadeTap {
    pub(crate) fn new(delay_frames: f64, fade_frames: usize) -> Self {
        Self {
            current: delay_frames,
            next: delay_frames,
            target: delay_frames,
            pos: 0,
            fade_frames: fade_frames.max(1),
        }
    }

    /// Jumps to a delay without a fade.
    pub(crate) fn snap(&mut self, delay_frames: f64) {
        *self = Self::new(delay_frames, self.fade_frames);
    }

    /// Requests a new delay; the fade starts at the next frame, or when the
    /// fade in progress ends.
    pub(crate) fn set_target(&mut self, delay_frames: f64) {
        self.target = delay_frames;
    }

    /// The longest delay the tap reads now or will read.
    pub(crate) fn max_delay(&self) -> f64 {
        self.current.max(self.next).max(self.target)
    }

    /// Advances one frame and returns `(old delay, new delay, weight of the
    /// new delay)`; a weight of 0 means only the old delay needs reading.
    #[inline]
    pub(crate) fn tick(&mut self) -> (f64, f64, f64) {
        if self.pos == 0 {
            if self.target == self.current {
                return (self.current, self.current, 0.0);
            }
            self.next = self.target;
            self.pos = 1;
        }
        let w = 0.5 - 0.5 * (PI * self.pos as f64 / self.fade_frames as f64).cos();
        let out = (self.current, self.next, w);
        if self.pos >= self.fade_frames {
            self.current = self.next;
            self.pos = 0;
        } else {
            self.pos += 1;
        }
        out
    }
}

// ---------------------------------------------------------------------------
// The delay processor
// ---------------------------------------------------------------------------

/// Settings of [`Delay`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DelayOptions {
    /// Delay time in ms, [`MIN_TIME_MS`] ..= [`MAX_TIME_MS`]; ignored when
    /// `note` is set.
    pub time_ms: f64,
    /// Delay time as a note value at `tempo_bpm` (`"1/8"`, `"1/4."`,
    /// `"1/8t"`, parsed with [`NoteValue::parse`]); takes precedence over
    /// `time_ms`. Automating `tempo_bpm` moves a synced time; automating
    /// `time_ms` switches to a free time (clears `note`).
    pub note: Option<NoteValue>,
    /// Session tempo in quarter notes per minute, 20 ..= 999; used with `note`.
    pub tempo_bpm: f64,
    /// Gain of each repeat, 0 ..= 0.99.
    pub feedback: f64,
    /// Alternate echoes between the channels (see the module docs).
    pub ping_pong: bool,
    /// Cutoff of the one-pole low-pass in the feedback path, 20 ..= 20000 Hz;
    /// `None` for no low-pass.
    pub lowpass_hz: Option<f64>,
    /// Cutoff of the one-pole high-pass in the feedback path, 20 ..= 20000 Hz;
    /// `None` for no high-pass.
    pub highpass_hz: Option<f64>,
    /// Wet share: `out = (1 − mix)·dry + mix·wet`, 0 ..= 1 (1 on a send bus).
    pub mix: f64,
}

impl Default for DelayOptions {
    fn default() -> Self {
        Self {
            time_ms: 375.0,
            note: None,
            tempo_bpm: 120.0,
            feedback: 0.35,
            ping_pong: false,
            lowpass_hz: None,
            highpass_hz: None,
            mix: 0.3,
        }
    }
}

const TIME_RANGE: &str = "1 ..= 10000 ms";
const FILTER_RANGE: &str = "20 ..= 20000 Hz (0 switches the filter off)";

impl DelayOptions {
    /// The delay time in ms these options give: the note value at the tempo
    /// when `note` is set, else `time_ms`.
    pub fn effective_time_ms(&self) -> f64 {
        match self.note {
            Some(note) => note.to_ms(self.tempo_bpm),
            None => self.time_ms,
        }
    }

    /// Checks every field; the error names the field and its valid range.
    pub fn validate(&self) -> Result<(), CoreError> {
        check_range(
            "tempo_bpm",
            self.tempo_bpm,
            TEMPO_RANGE.0,
            TEMPO_RANGE.1,
            TEMPO_RANGE.2,
        )?;
        let (name, time) = match self.note {
            Some(_) => (
                "time_ms (from note and tempo_bpm)",
                self.effective_time_ms(),
            ),
            None => ("time_ms", self.time_ms),
        };
        check_range(name, time, MIN_TIME_MS, MAX_TIME_MS, TIME_RANGE)?;
        check_range("feedback", self.feedback, 0.0, MAX_FEEDBACK, "0 ..= 0.99")?;
        check_range("mix", self.mix, 0.0, 1.0, "0 ..= 1")?;
        if let Some(hz) = self.lowpass_hz {
            check_range("lowpass_hz", hz, 20.0, 20_000.0, FILTER_RANGE)?;
        }
        if let Some(hz) = self.highpass_hz {
            check_range("highpass_hz", hz, 20.0, 20_000.0, FILTER_RANGE)?;
        }
        Ok(())
    }
}

/// Coefficient `a` of the one-pole `s ← a·x + (1 − a)·s` with cutoff `hz`,
/// by impulse invariance: `a = 1 − e^(−2π·hz/fs)`.
fn one_pole_coefficient(hz: f64, sample_rate_hz: u32) -> f64 {
    1.0 - (-2.0 * PI * hz / f64::from(sample_rate_hz)).exp()
}

/// Low-pass coefficient; 1 (exact pass-through) when off.
fn lowpass_coefficient(hz: Option<f64>, sample_rate_hz: u32) -> f64 {
    hz.map_or(1.0, |hz| one_pole_coefficient(hz, sample_rate_hz))
}

/// Coefficient of the low-pass whose residue is the high-pass; 0 (exact
/// pass-through) when off.
fn highpass_coefficient(hz: Option<f64>, sample_rate_hz: u32) -> f64 {
    hz.map_or(0.0, |hz| one_pole_coefficient(hz, sample_rate_hz))
}

#[derive(Debug, Clone, Default)]
struct DelayChannel {
    line: DelayLine,
    /// Low-pass state.
    lp: f64,
    /// State of the low-pass whose residue is the high-pass.
    hp_lp: f64,
    /// This frame's echo.
    echo: f64,
}

/// Feedback delay; see the module docs.
#[derive(Debug, Clone)]
pub struct Delay {
    options: DelayOptions,
    sample_rate_hz: u32,
    channels: Vec<DelayChannel>,
    tap: CrossfadeTap,
    feedback: Ramp,
    mix: Ramp,
    lp_coef: Ramp,
    hp_coef: Ramp,
    ramp_frames: usize,
}

impl Delay {
    /// A delay; fails when a setting is out of range.
    pub fn new(options: DelayOptions) -> Result<Self, CoreError> {
        options.validate()?;
        Ok(Self {
            options,
            sample_rate_hz: 0,
            channels: Vec::new(),
            tap: CrossfadeTap::new(1.0, 1),
            feedback: Ramp::new(options.feedback),
            mix: Ramp::new(options.mix),
            lp_coef: Ramp::new(1.0),
            hp_coef: Ramp::new(0.0),
            ramp_frames: 0,
        })
    }

    /// The settings, including changes made with `set_parameter`.
    pub fn options(&self) -> DelayOptions {
        self.options
    }

    /// The delay time in frames (fractional) at the prepared rate.
    pub fn time_frames(&self) -> f64 {
        self.options.effective_time_ms() * 1e-3 * f64::from(self.sample_rate_hz)
    }

    fn snap_state(&mut self) {
        let fs = self.sample_rate_hz;
        self.tap.snap(self.time_frames());
        self.feedback.snap(self.options.feedback);
        self.mix.snap(self.options.mix);
        self.lp_coef
            .snap(lowpass_coefficient(self.options.lowpass_hz, fs));
        self.hp_coef
            .snap(highpass_coefficient(self.options.highpass_hz, fs));
    }

    fn prepared(&self) -> bool {
        self.sample_rate_hz > 0
    }
}

fn filter_hz(name: &'static str, value: f64) -> Result<Option<f64>, CoreError> {
    if value == 0.0 {
        Ok(None)
    } else {
        check_range(name, value, 20.0, 20_000.0, FILTER_RANGE)?;
        Ok(Some(value))
    }
}

impl Processor for Delay {
    fn prepare(
        &mut self,
        sample_rate_hz: u32,
        _max_block_frames: usize,
        channels: usize,
    ) -> Result<(), CoreError> {
        check_range(
            "sample_rate_hz",
            f64::from(sample_rate_hz),
            8_000.0,
            768_000.0,
            "8000 ..= 768000",
        )?;
        self.sample_rate_hz = sample_rate_hz;
        let max_frames = (MAX_TIME_MS * 1e-3 * f64::from(sample_rate_hz)).ceil() as usize;
        self.channels = (0..channels)
            .map(|_| DelayChannel {
                line: DelayLine::new(max_frames + 2),
                ..DelayChannel::default()
            })
            .collect();
        self.tap = CrossfadeTap::new(
            self.time_frames(),
            ms_to_frames_at_least_one(TIME_CROSSFADE_MS, sample_rate_hz),
        );
        self.ramp_frames = ms_to_frames_at_least_one(PARAMETER_RAMP_MS, sample_rate_hz);
        self.snap_state();
        Ok(())
    }

    // Frames are the outer loop (the channels interact within a frame), so
    // `block` is indexed by channel and frame.
    #[allow(clippy::needless_range_loop)]
    fn process(&mut self, block: &mut [&mut [f64]]) {
        let n_ch = self.channels.len().min(block.len());
        if n_ch == 0 {
            return;
        }
        let frames = block[0].len();
        let ping_pong = self.options.ping_pong;
        let inv_ch = 1.0 / n_ch as f64;
        for i in 0..frames {
            let g = self.feedback.next_value();
            let mix = self.mix.next_value();
            let a_lp = self.lp_coef.next_value();
            let a_hp = self.hp_coef.next_value();
            let (d_old, d_new, w) = self.tap.tick();
            // The line holds x[n−1] as its newest sample: D frames back from
            // now is D − 1 back from it.
            for ch in &mut self.channels[..n_ch] {
                let old = ch.line.read_hermite(d_old - 1.0);
                ch.echo = if w == 0.0 {
                    old
                } else {
                    (1.0 - w) * old + w * ch.line.read_hermite(d_new - 1.0)
                };
            }
            let mono_in = if ping_pong {
                block[..n_ch].iter().map(|c| c[i]).sum::<f64>() * inv_ch
            } else {
                0.0
            };
            for c in 0..n_ch {
                let source = if ping_pong { (c + n_ch - 1) % n_ch } else { c };
                let echo_in = self.channels[source].echo;
                let ch = &mut self.channels[c];
                // Feedback filters: one-pole low-pass, then the residue of a
                // one-pole low-pass as a high-pass.
                ch.lp = flush_denormal(a_lp * echo_in + (1.0 - a_lp) * ch.lp);
                ch.hp_lp = flush_denormal(a_hp * ch.lp + (1.0 - a_hp) * ch.hp_lp);
                let looped = g * (ch.lp - ch.hp_lp);
                let x = block[c][i];
                let input = if !ping_pong {
                    x
                } else if c == 0 {
                    mono_in
                } else {
                    0.0
                };
                ch.line.push(flush_denormal(input + looped));
                block[c][i] = (1.0 - mix) * x + mix * ch.echo;
            }
        }
    }

    fn reset(&mut self) {
        for ch in &mut self.channels {
            ch.line.clear();
            ch.lp = 0.0;
            ch.hp_lp = 0.0;
            ch.echo = 0.0;
        }
        if self.prepared() {
            self.snap_state();
        }
    }

    /// Time until the repeats fall below [`TAIL_FLOOR_DB`]: echo `k` has the
    /// level `20·log10(g)·(k − 1)` dB (filters only shorten this), plus a
    /// pending crossfade. Finite since `g <= 0.99` and the time is bounded.
    fn tail_frames(&self) -> usize {
        if !self.prepared() {
            return 0;
        }
        let g = self.feedback.value().max(self.feedback.target());
        let repeats = if g <= 0.0 {
            1.0
        } else {
            1.0 + (TAIL_FLOOR_DB / (20.0 * g.log10())).ceil()
        };
        let d = self.tap.max_delay();
        (repeats * d).ceil() as usize + 3 + self.tap.fade_frames
    }

    fn set_parameter(&mut self, name: &str, value: f64) -> Result<(), CoreError> {
        let mut next = self.options;
        match name {
            "time_ms" => {
                check_range("time_ms", value, MIN_TIME_MS, MAX_TIME_MS, TIME_RANGE)?;
                next.time_ms = value;
                next.note = None;
            }
            "tempo_bpm" => next.tempo_bpm = value,
            "feedback" => next.feedback = value,
            "mix" => next.mix = value,
            "lowpass_hz" => next.lowpass_hz = filter_hz("lowpass_hz", value)?,
            "highpass_hz" => next.highpass_hz = filter_hz("highpass_hz", value)?,
            _ => {
                return Err(CoreError::UnknownParameter {
                    name: name.to_string(),
                    valid: "time_ms, tempo_bpm, feedback, mix, lowpass_hz, highpass_hz".into(),
                });
            }
        }
        next.validate()?;
        self.options = next;
        if self.prepared() {
            let fs = self.sample_rate_hz;
            let n = self.ramp_frames;
            self.tap.set_target(self.time_frames());
            self.feedback.set(next.feedback, n);
            self.mix.set(next.mix, n);
            self.lp_coef
                .set(lowpass_coefficient(next.lowpass_hz, fs), n);
            self.hp_coef
                .set(highpass_coefficient(next.highpass_hz, fs), n);
        }
        Ok(())
    }
}
