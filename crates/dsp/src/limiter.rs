//! True-peak brick-wall limiter for mastering: lookahead, gain computed
//! from oversampled and refined peaks, a smooth attack that cannot
//! undershoot its target, a program-dependent release, a final safety stage
//! that checks the limited signal itself, and three characters.
//!
//! # Signal flow
//!
//! Per frame, on every channel: input × drive (`gain_db`, ramped over
//! 20 ms) → **stage 1** (the limiter) → **stage 2** (the safety limiter) →
//! output. Both stages have the same structure, after the classic
//! lookahead design of MASTERING_NOTES.md §3.1 (x42 dpl / zita peaklim):
//!
//! 1. **Detect.** Each interval between two samples gets the largest
//!    interpolated magnitude of its channels (linked: all channels; unlinked:
//!    each channel alone), from an `L`× band-limited interpolation
//!    (`L` = [`LimiterOptions::oversampling`], 8 by default: a 64-tap-a-side
//!    Kaiser half-band to 2×, then a short Kaiser interpolator to `L`×) with
//!    a parabolic refinement of the grid maximum — within 0.0035 dB of the
//!    band-limited peak up to 0.48·fs — and at least what libebur128's
//!    interpolator reads there (see `detector`). With `true_peak: false`
//!    the detector is the sample magnitude.
//! 2. **Require.** `r = min(1, t / peak)` with the threshold
//!    `t = ceiling − margin` ([`TRUE_PEAK_MARGIN_DB`] with true peak,
//!    [`SAMPLE_PEAK_MARGIN_DB`] without).
//! 3. **Hold and smooth** (`envelope`): the minimum of `r` over
//!    `H = 2R + S` intervals, then moving averages with a combined window
//!    of `S` samples: one boxcar ([`AttackShape::Linear`]: a linear ramp in
//!    gain) or two cascaded boxcars of about `S/2` ([`AttackShape::SCurve`]:
//!    a triangular window, so the ramp is an S-shaped piecewise parabola).
//!    The window's weights are non-negative and sum to one, and with the
//!    audio delayed by `D = 2R + S − 1` frames every required gain bounds
//!    the gain of **all `2R + 1` samples** its interval's interpolators read
//!    (`R` = 67, the detector's reach; 0 for sample peak): wherever a peak's
//!    value comes from, the gain is at or below what that peak requires. The
//!    gain falls over the `S` samples before (the attack).
//! 4. **Release** (stage 1 only): in dB, the gain follows a falling target
//!    at once and recovers towards a rising one with a one-pole of time
//!    constant `τ` (a reduction of `R` dB decays as `R·e^(−t/τ)`), never
//!    above the target; program-dependent, see below. Stage 2's gain
//!    recovers along its [`SAFETY_RAMP_FRAMES`]-frame ramp.
//! 5. **Apply** the gain to the audio delayed by `D`.
//!
//! Stage 1 predicts the output from its input. Where its gain varies
//! within an interpolator's reach, the output's interpolated value is not
//! exactly gain × input's, so stage 2 measures the **output of stage 1**
//! with the same detector and threshold and removes the remainder (a few
//! thousandths of a dB where it acts at all); its own, far smaller
//! variation is what remains, far inside the margin.
//!
//! # The margin and the other meters
//!
//! Meters upsample with their own filters: ours (4×, 16 taps per phase,
//! flat to 0.35·fs), libebur128 and the `ebur128` crate (4× below 96 kHz,
//! 2× up to 192 kHz, a 48-tap Hann-windowed sinc whose half-sample phase
//! has +0.11 dB of gain near fs/3 — modelled by the detector, so it is
//! covered exactly), ffmpeg `ebur128=peak=true` (resampling to 192 kHz).
//! [`TRUE_PEAK_MARGIN_DB`] = 0.08 dB covers the rest, which is measured,
//! not proven:
//!
//! * interpolators that weight the top few percent of the band (above
//!   about 0.47·fs) differently disagree on **heavily limited full-band
//!   noise** — the limiter flattens the peaks its own detector sees, and a
//!   filter with less gain near Nyquist sees the flattened crests without
//!   the part the top band took away. A 16× Blackman-windowed sinc with
//!   96 taps per phase reads up to 0.09 dB above the threshold there (the
//!   test matrix: +0.01 dB over the ceiling at worst); programme material
//!   has far less energy that high, and the disagreement scales with it;
//! * a **full-scale tone near Nyquist that stops dead** (a 20 kHz sweep cut
//!   off at 44.1 kHz) rings differently in every short interpolator: our
//!   meter reads it up to 0.16 dB above the band-limited peak the limiter
//!   holds to the ceiling. Tapered programme (the Tech 3341 signals are
//!   tapered over 10 ms) is not affected.
//!
//! # Program-dependent release
//!
//! A short release on bass follows the individual half cycles (8 ms apart
//! at 60 Hz) and modulates them: distortion. The release therefore
//! lengthens with the share of low-frequency energy in the detector input
//! (the driven input of the gain path's channels):
//!
//! `τ = release_ms × release_scale × (1 + bass_factor × β)`,
//! `β = E_low / E_all ∈ [0, 1]`,
//!
//! where `E_low` is the energy below [`BASS_SPLIT_HZ`] (two cascaded
//! one-pole low-passes, 12 dB/oct) and `E_all` the full-band energy, both
//! averaged with a one-pole of [`BASS_AVERAGE_MS`]. Pure treble releases in
//! `release_ms × release_scale`; pure bass takes `1 + bass_factor` times
//! as long (4× for [`Character::Transparent`]). After the programme stops,
//! both averages decay together, so β keeps describing what was limited.
//!
//! # Characters
//!
//! | character | attack (share of `lookahead_ms`) | release scale | bass factor |
//! |---|---|---|---|
//! | `transparent` | 1.0 | 1.0 | 3.0 |
//! | `punchy` | 0.5 | 0.6 | 1.5 |
//! | `aggressive` | 0.25 | 0.35 | 0.5 |
//!
//! A shorter attack ducks less before a transient but bends its waveform
//! more; a faster release is louder and pumps more.
//!
//! # Latency
//!
//! `latency_frames = D₁ + D₂` with `D₁ = 2R + S₁ − 1`,
//! `S₁ = max(1, round(lookahead_ms × fs × attack share))`, and
//! `D₂ = 2R + S₂ − 1` (`R` = 67, `S₂` = [`SAFETY_RAMP_FRAMES`] = 32); with
//! `true_peak: false`, `D₁ = S₁ − 1` and there is no stage 2. At 48 kHz
//! with the defaults (2 ms, transparent): 229 + 165 = 394 frames (8.2 ms).
//! `tail_frames` equals the latency.
//!
//! # Parameters and automation
//!
//! Changes take effect on the input timeline: frames that enter after the
//! call are processed with the new value (and come out `latency_frames`
//! later). `gain_db` ramps over 20 ms. `ceiling_dbtp` is not ramped: the
//! gain path already turns a step of the requirement into the attack ramp
//! and the release, and each interval is limited against the lowest
//! ceiling in force for any sample it reads, so lowering the ceiling never
//! lets an over through. `release_ms` takes effect at once.
//!
//! # Metering
//!
//! The gain reduction of an output frame is `−20·log10(g)` of the gain
//! applied to it (both stages; unlinked: the largest over channels; drive
//! excluded). [`Limiter::max_gain_reduction_db`] is its maximum and
//! [`Limiter::average_gain_reduction_db`] its mean over all output frames
//! since [`Limiter::clear_stats`] (or `prepare`/`reset`) — a time average
//! of the dB values, frames without reduction counting as 0 dB.

mod detector;
mod envelope;

use mixmaster_core::units::db_to_amplitude;
use mixmaster_core::{CoreError, Processor};

use crate::dynamics::lookahead::Delay;
use crate::dynamics::peak_hold::PeakHold;
use crate::dynamics::smoothing::LinearSmoother;
use crate::dynamics::validate::{fixed, in_range};
use detector::{HISTORY, PADDING, PeakDetector, REACH};
use envelope::{BassRatio, Release, SmoothedMin};

/// Threshold below the ceiling in true-peak mode, in dB: covers the
/// measured disagreement between our detector and other meters'
/// interpolators (module docs, "The margin and the other meters"); a
/// steady tone settles this far below the ceiling.
pub const TRUE_PEAK_MARGIN_DB: f64 = 0.08;

/// Threshold below the ceiling in sample-peak mode, in dB: only rounding.
pub const SAMPLE_PEAK_MARGIN_DB: f64 = 1e-6;

/// Upper edge of the low band of the program-dependent release, in Hz.
pub const BASS_SPLIT_HZ: f64 = 150.0;

/// Averaging time constant of the band energies of the program-dependent
/// release, in ms (three periods of 60 Hz).
pub const BASS_AVERAGE_MS: f64 = 50.0;

/// Attack ramp of the safety stage, in frames.
pub const SAFETY_RAMP_FRAMES: usize = 32;

/// Oversampling factors of the true-peak detector.
pub const OVERSAMPLING_FACTORS: [u32; 3] = [4, 8, 16];

/// Parameter names accepted by [`Limiter::set_parameter`].
pub const LIMITER_PARAMETERS: &str = "ceiling_dbtp, gain_db, release_ms";

/// Shape of the gain's fall before a peak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AttackShape {
    /// One moving average: the gain falls linearly.
    Linear,
    /// Two cascaded moving averages (a triangular window): the gain falls
    /// along an S-shaped curve with continuous slope.
    #[default]
    SCurve,
}

impl AttackShape {
    /// Parses the session-file name (`linear`, `s_curve`).
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "linear" => Some(Self::Linear),
            "s_curve" => Some(Self::SCurve),
            _ => None,
        }
    }
}

/// Character of the limiter: attack length, release speed and how much the
/// release depends on the programme (table in the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Character {
    /// Full-lookahead attack, the set release, strong bass dependence.
    #[default]
    Transparent,
    /// Half-lookahead attack, 0.6× release, moderate bass dependence.
    Punchy,
    /// Quarter-lookahead attack, 0.35× release, little bass dependence.
    Aggressive,
}

impl Character {
    /// Parses the session-file name (`transparent`, `punchy`, `aggressive`).
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "transparent" => Some(Self::Transparent),
            "punchy" => Some(Self::Punchy),
            "aggressive" => Some(Self::Aggressive),
            _ => None,
        }
    }

    /// Share of the lookahead the attack ramp uses.
    pub fn attack_share(self) -> f64 {
        match self {
            Self::Transparent => 1.0,
            Self::Punchy => 0.5,
            Self::Aggressive => 0.25,
        }
    }

    /// Factor on `release_ms`.
    pub fn release_scale(self) -> f64 {
        match self {
            Self::Transparent => 1.0,
            Self::Punchy => 0.6,
            Self::Aggressive => 0.35,
        }
    }

    /// How much longer pure bass releases: `τ × (1 + factor × β)`.
    pub fn bass_factor(self) -> f64 {
        match self {
            Self::Transparent => 3.0,
            Self::Punchy => 1.5,
            Self::Aggressive => 0.5,
        }
    }
}

/// Settings of [`Limiter`]; names as in a session file.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LimiterOptions {
    /// Ceiling in dBTP (dBFS with `true_peak: false`), −30 ..= 0.
    pub ceiling_dbtp: f64,
    /// Input gain (drive) in dB, −24 ..= 48; automatable.
    pub gain_db: f64,
    /// Lookahead in ms (0.5 ..= 20): the longest attack ramp.
    pub lookahead_ms: f64,
    /// Release time constant in ms (1 ..= 5000) for material without bass.
    pub release_ms: f64,
    /// Shape of the attack ramp.
    pub attack_shape: AttackShape,
    /// Attack share, release scale and program dependence.
    pub character: Character,
    /// Limit the true peak (oversampled) rather than the sample peak.
    pub true_peak: bool,
    /// Oversampling of the true-peak detector: 4, 8 or 16.
    pub oversampling: u32,
    /// One gain for all channels (the loudest decides), so the image does
    /// not shift; `false` limits each channel on its own.
    pub stereo_link: bool,
}

impl Default for LimiterOptions {
    fn default() -> Self {
        Self {
            ceiling_dbtp: -1.0,
            gain_db: 0.0,
            lookahead_ms: 2.0,
            release_ms: 100.0,
            attack_shape: AttackShape::SCurve,
            character: Character::Transparent,
            true_peak: true,
            oversampling: 8,
            stereo_link: true,
        }
    }
}

fn check_ceiling(v: f64) -> Result<f64, CoreError> {
    in_range("ceiling_dbtp", v, -30.0, 0.0, "-30 ..= 0")
}
fn check_gain(v: f64) -> Result<f64, CoreError> {
    in_range("gain_db", v, -24.0, 48.0, "-24 ..= 48")
}
fn check_lookahead(v: f64) -> Result<f64, CoreError> {
    in_range("lookahead_ms", v, 0.5, 20.0, "0.5 ..= 20")
}
fn check_release(v: f64) -> Result<f64, CoreError> {
    in_range("release_ms", v, 1.0, 5000.0, "1 ..= 5000")
}

impl LimiterOptions {
    /// Checks every field; the error names the field and its valid range.
    pub fn validate(&self) -> Result<(), CoreError> {
        check_ceiling(self.ceiling_dbtp)?;
        check_gain(self.gain_db)?;
        check_lookahead(self.lookahead_ms)?;
        check_release(self.release_ms)?;
        if !OVERSAMPLING_FACTORS.contains(&self.oversampling) {
            return Err(CoreError::OutOfRange {
                name: "oversampling",
                value: f64::from(self.oversampling),
                range: "4, 8 or 16",
            });
        }
        Ok(())
    }
}

/// Per-channel buffers and delay lines.
#[derive(Debug, Clone)]
struct ChannelState {
    /// Driven input: [`HISTORY`] samples of history, the block, padding.
    input: Vec<f64>,
    /// Half-sample values of `input` (the detector's 2× stage).
    input_half: Vec<f64>,
    /// Output of stage 1, laid out like `input`.
    stage1: Vec<f64>,
    /// Half-sample values of `stage1`.
    stage1_half: Vec<f64>,
    /// Interval peaks of the current block, stage 1 and stage 2.
    peaks1: Vec<f64>,
    peaks2: Vec<f64>,
    delay1: Delay,
    delay2: Delay,
}

/// The gain computation of a group of channels (all when linked).
#[derive(Debug, Clone)]
struct GainPath {
    channels: std::ops::Range<usize>,
    attack: SmoothedMin,
    release: Release,
    bass: BassRatio,
    safety: Option<SmoothedMin>,
    /// Stage-1 gains on their way to the output, for metering.
    gain1_delay: Delay,
    /// Gains of the block's frames: stage 1, then those of the output.
    gains: Vec<f64>,
}

/// True-peak brick-wall limiter; see the module docs.
#[derive(Debug, Clone)]
pub struct Limiter {
    options: LimiterOptions,
    sample_rate_hz: u32,
    channels: usize,
    max_block_frames: usize,
    detector: Option<PeakDetector>,
    attack_frames: usize,
    delay1_frames: usize,
    delay2_frames: usize,
    drive_db: LinearSmoother,
    drive: f64,
    ceiling: f64,
    /// Lowest ceiling over the samples the newest interval reads (negated).
    ceiling_hold: PeakHold,
    /// Stage-1 ceilings on their way to stage 2.
    ceiling_delay: Delay,
    /// Per frame of the block: stage-1 and stage-2 thresholds.
    threshold1: Vec<f64>,
    threshold2: Vec<f64>,
    state: Vec<ChannelState>,
    paths: Vec<GainPath>,
    last_reduction_db: f64,
    max_reduction_db: f64,
    sum_reduction_db: f64,
    stat_frames: u64,
}

impl Limiter {
    /// A limiter; fails on an option outside its range.
    pub fn new(options: LimiterOptions) -> Result<Self, CoreError> {
        options.validate()?;
        Ok(Self {
            options,
            sample_rate_hz: 0,
            channels: 0,
            max_block_frames: 0,
            detector: None,
            attack_frames: 1,
            delay1_frames: 0,
            delay2_frames: 0,
            drive_db: LinearSmoother::new(options.gain_db),
            drive: db_to_amplitude(options.gain_db),
            ceiling: db_to_amplitude(options.ceiling_dbtp),
            ceiling_hold: PeakHold::new(1),
            ceiling_delay: Delay::new(0),
            threshold1: Vec::new(),
            threshold2: Vec::new(),
            state: Vec::new(),
            paths: Vec::new(),
            last_reduction_db: 0.0,
            max_reduction_db: 0.0,
            sum_reduction_db: 0.0,
            stat_frames: 0,
        })
    }

    /// The current settings (automated values as their targets).
    pub fn options(&self) -> LimiterOptions {
        self.options
    }

    /// Gain reduction of the last output frame in dB (≥ 0).
    pub fn gain_reduction_db(&self) -> f64 {
        self.last_reduction_db
    }

    /// Largest gain reduction of an output frame in dB since the last
    /// [`Limiter::clear_stats`].
    pub fn max_gain_reduction_db(&self) -> f64 {
        self.max_reduction_db
    }

    /// Mean gain reduction in dB over the output frames since the last
    /// [`Limiter::clear_stats`] (0 before any frame).
    pub fn average_gain_reduction_db(&self) -> f64 {
        if self.stat_frames == 0 {
            0.0
        } else {
            self.sum_reduction_db / self.stat_frames as f64
        }
    }

    /// Output frames the statistics cover.
    pub fn stats_frames(&self) -> u64 {
        self.stat_frames
    }

    /// Restarts the maximum and the average gain reduction.
    pub fn clear_stats(&mut self) {
        self.max_reduction_db = 0.0;
        self.sum_reduction_db = 0.0;
        self.stat_frames = 0;
    }

    /// Margin factor of the thresholds.
    fn margin(&self) -> f64 {
        db_to_amplitude(-if self.options.true_peak {
            TRUE_PEAK_MARGIN_DB
        } else {
            SAMPLE_PEAK_MARGIN_DB
        })
    }

    /// Processes `frames` ≤ `max_block_frames` frames from `offset`.
    fn run(&mut self, block: &mut [&mut [f64]], offset: usize, frames: usize) {
        let used = block.len().min(self.channels);
        let margin = self.margin();
        let stage2 = self.detector.is_some();

        // 1. Drive, and the thresholds per frame.
        for i in 0..frames {
            let ramping = self.drive_db.is_ramping();
            let db = self.drive_db.next_value();
            if ramping {
                self.drive = db_to_amplitude(db);
            }
            for (st, ch) in self.state.iter_mut().zip(block.iter()).take(used) {
                st.input[HISTORY + i] = ch[offset + i] * self.drive;
            }
            let c1 = -self.ceiling_hold.push(-self.ceiling);
            self.threshold1[i] = c1 * margin;
            if stage2 {
                self.threshold2[i] = self.ceiling_delay.push(c1) * margin;
            }
        }

        // 2. Stage-1 detection.
        let floor1 = self.threshold1[..frames]
            .iter()
            .fold(f64::MAX, |m, &v| m.min(v));
        for st in self.state.iter_mut().take(used) {
            match &mut self.detector {
                Some(det) => det.peaks(
                    &st.input,
                    &mut st.input_half,
                    frames,
                    floor1,
                    &mut st.peaks1,
                ),
                None => {
                    for (p, x) in st.peaks1[..frames].iter_mut().zip(&st.input[HISTORY..]) {
                        *p = x.abs();
                    }
                }
            }
        }

        // 3. Stage-1 gains, applied to the delayed input.
        let fs = f64::from(self.sample_rate_hz);
        let character = self.options.character;
        let release_base = self.options.release_ms * 1e-3 * fs * character.release_scale();
        let bass_factor = character.bass_factor();
        for path in &mut self.paths {
            let range = path.channels.start..path.channels.end.min(used);
            let states = &mut self.state[range.clone()];
            for i in 0..frames {
                let t = self.threshold1[i];
                let peak = states.iter().fold(0.0f64, |m, st| m.max(st.peaks1[i]));
                let required = if peak > t { t / peak } else { 1.0 };
                let beta = path
                    .bass
                    .push(states.iter().map(|st| st.input[HISTORY + i]));
                let tau = release_base * (1.0 + bass_factor * beta);
                let smooth = path.attack.push(required);
                let g = path.release.next(smooth, tau);
                path.gains[i] = g;
                for (k, st) in states.iter_mut().enumerate() {
                    let y = st.delay1.push(st.input[HISTORY + i]) * g;
                    if stage2 {
                        st.stage1[HISTORY + i] = y;
                    } else {
                        block[range.start + k][offset + i] = y;
                    }
                }
            }
        }

        if stage2 {
            // 4. Stage-2 detection on the output of stage 1.
            let floor2 = self.threshold2[..frames]
                .iter()
                .fold(f64::MAX, |m, &v| m.min(v));
            if let Some(det) = &mut self.detector {
                for st in self.state.iter_mut().take(used) {
                    det.peaks(
                        &st.stage1,
                        &mut st.stage1_half,
                        frames,
                        floor2,
                        &mut st.peaks2,
                    );
                }
            }
            // 5. Stage-2 gains, applied to the delayed stage-1 output.
            for path in &mut self.paths {
                let range = path.channels.start..path.channels.end.min(used);
                let states = &mut self.state[range.clone()];
                for i in 0..frames {
                    let t = self.threshold2[i];
                    let peak = states.iter().fold(0.0f64, |m, st| m.max(st.peaks2[i]));
                    let required = if peak > t { t / peak } else { 1.0 };
                    let g2 = path.safety.as_mut().map_or(1.0, |s| s.push(required));
                    let g1 = path.gain1_delay.push(path.gains[i]);
                    path.gains[i] = g1 * g2;
                    for (k, st) in states.iter_mut().enumerate() {
                        block[range.start + k][offset + i] =
                            st.delay2.push(st.stage1[HISTORY + i]) * g2;
                    }
                }
            }
        }

        // 6. Metering of the output frames, and the histories.
        for i in 0..frames {
            let g = self.paths.iter().fold(1.0f64, |m, p| m.min(p.gains[i]));
            let reduction = if g < 1.0 { -20.0 * g.log10() } else { 0.0 };
            self.last_reduction_db = reduction;
            self.max_reduction_db = self.max_reduction_db.max(reduction);
            self.sum_reduction_db += reduction;
            self.stat_frames += 1;
        }
        for st in self.state.iter_mut().take(used) {
            for buf in [
                &mut st.input,
                &mut st.input_half,
                &mut st.stage1,
                &mut st.stage1_half,
            ] {
                buf.copy_within(frames..frames + HISTORY, 0);
            }
        }
    }

    fn check_rate(sample_rate_hz: u32) -> Result<(), CoreError> {
        in_range(
            "sample_rate_hz",
            f64::from(sample_rate_hz),
            8000.0,
            768_000.0,
            "8000 ..= 768000",
        )?;
        Ok(())
    }
}

impl Processor for Limiter {
    fn prepare(
        &mut self,
        sample_rate_hz: u32,
        max_block_frames: usize,
        channels: usize,
    ) -> Result<(), CoreError> {
        Self::check_rate(sample_rate_hz)?;
        let o = self.options;
        self.sample_rate_hz = sample_rate_hz;
        self.channels = channels;
        self.max_block_frames = max_block_frames.max(1);
        let block = self.max_block_frames;
        let fs = f64::from(sample_rate_hz);
        self.attack_frames =
            ((o.lookahead_ms * 1e-3 * fs * o.character.attack_share()).round() as usize).max(1);
        let s1 = self.attack_frames;
        let lengths = |span: usize| -> Vec<usize> {
            match o.attack_shape {
                AttackShape::Linear => vec![span],
                AttackShape::SCurve => {
                    let a = span.div_ceil(2).max(1);
                    vec![a, span + 1 - a]
                }
            }
        };
        let (j, detector) = if o.true_peak {
            (
                REACH,
                Some(PeakDetector::new(
                    o.oversampling as usize,
                    block,
                    sample_rate_hz,
                )),
            )
        } else {
            (0, None)
        };
        self.detector = detector;
        self.delay1_frames = 2 * j + s1 - 1;
        let s2 = SAFETY_RAMP_FRAMES;
        self.delay2_frames = if o.true_peak { 2 * j + s2 - 1 } else { 0 };
        self.ceiling_hold = PeakHold::new(2 * j + 1);
        self.ceiling_delay = Delay::new(self.delay1_frames);
        self.threshold1 = vec![0.0; block];
        self.threshold2 = vec![0.0; block];
        let buffer = HISTORY + block + PADDING;
        self.state = (0..channels)
            .map(|_| ChannelState {
                input: vec![0.0; buffer],
                input_half: vec![0.0; buffer],
                stage1: vec![0.0; buffer],
                stage1_half: vec![0.0; buffer],
                peaks1: vec![0.0; block],
                peaks2: vec![0.0; block],
                delay1: Delay::new(self.delay1_frames),
                delay2: Delay::new(self.delay2_frames),
            })
            .collect();
        let groups: Vec<std::ops::Range<usize>> = if o.stereo_link || channels == 0 {
            std::iter::once(0..channels).collect()
        } else {
            (0..channels).map(|c| c..c + 1).collect()
        };
        self.paths = groups
            .into_iter()
            .map(|channels| GainPath {
                attack: SmoothedMin::new(2 * j + s1, &lengths(s1)),
                release: Release::default(),
                bass: BassRatio::new(
                    channels.len(),
                    BASS_SPLIT_HZ,
                    BASS_AVERAGE_MS,
                    sample_rate_hz,
                ),
                safety: o.true_peak.then(|| SmoothedMin::new(2 * j + s2, &[s2])),
                gain1_delay: Delay::new(self.delay2_frames),
                gains: vec![1.0; block],
                channels,
            })
            .collect();
        self.drive_db.prepare(sample_rate_hz);
        self.reset();
        Ok(())
    }

    fn process(&mut self, block: &mut [&mut [f64]]) {
        let frames = block.first().map_or(0, |c| c.len());
        let mut offset = 0;
        while offset < frames {
            let n = self.max_block_frames.min(frames - offset);
            self.run(block, offset, n);
            offset += n;
        }
    }

    fn reset(&mut self) {
        self.drive_db.reset();
        self.drive = db_to_amplitude(self.drive_db.target());
        self.ceiling_hold.reset();
        self.ceiling_delay.reset();
        for st in &mut self.state {
            st.input.fill(0.0);
            st.input_half.fill(0.0);
            st.stage1.fill(0.0);
            st.stage1_half.fill(0.0);
            st.delay1.reset();
            st.delay2.reset();
        }
        for p in &mut self.paths {
            p.attack.reset();
            p.release.reset();
            p.bass.reset();
            if let Some(s) = &mut p.safety {
                s.reset();
            }
            p.gain1_delay.reset();
        }
        // The stage-1 gains in flight to the output are unity.
        for p in &mut self.paths {
            for _ in 0..self.delay2_frames {
                p.gain1_delay.push(1.0);
            }
        }
        self.last_reduction_db = 0.0;
        self.clear_stats();
    }

    fn latency_frames(&self) -> usize {
        self.delay1_frames + self.delay2_frames
    }

    fn tail_frames(&self) -> usize {
        self.latency_frames()
    }

    /// `gain_db` ramps over 20 ms; `ceiling_dbtp` and `release_ms` take
    /// effect at once (the gain path smooths them; see the module docs).
    /// `lookahead_ms` sets the latency and only accepts its current value.
    fn set_parameter(&mut self, name: &str, value: f64) -> Result<(), CoreError> {
        let o = &mut self.options;
        match name {
            "ceiling_dbtp" => {
                o.ceiling_dbtp = check_ceiling(value)?;
                self.ceiling = db_to_amplitude(value);
            }
            "gain_db" => {
                o.gain_db = check_gain(value)?;
                self.drive_db.set_target(value);
            }
            "release_ms" => o.release_ms = check_release(value)?,
            "lookahead_ms" => {
                if value != o.lookahead_ms {
                    return Err(fixed("lookahead_ms", value));
                }
            }
            _ => {
                return Err(CoreError::UnknownParameter {
                    name: name.to_string(),
                    valid: LIMITER_PARAMETERS.to_string(),
                });
            }
        }
        Ok(())
    }
}
