//! Downward compressor with soft knee, peak or RMS detection, lookahead,
//! manual or automatic make-up, external sidechain with optional high-pass,
//! and parallel (dry/wet) mix.
//!
//! Signal flow per frame, after Giannoulis, Massberg & Reiss, "Digital
//! Dynamic Range Compressor Design — A Tutorial and Analysis", JAES 60(6),
//! 2012 (their recommended "log domain" arrangement):
//!
//! 1. key: the input, or the external sidechain of
//!    [`Processor::process_with_sidechain`]; optionally high-passed
//!    (2nd-order Butterworth); stereo-linked — the largest |key| over all
//!    channels;
//! 2. level: `peak` uses that magnitude sample by sample; `rms` feeds its
//!    square to a one-pole mean-square averager whose time constant is
//!    `rms_window_ms` (an exponential window: the averaging-time RMS
//!    measurement of U. Zölzer (ed.), *DAFX*, 2nd ed., Wiley 2011, in the
//!    chapter on dynamics processing) and takes the square root;
//! 3. gain computer in dB: hard or quadratic soft knee
//!    ([`CompressorOptions::knee_db`], Giannoulis et al. Eq. 4);
//! 4. ballistics on the gain reduction in dB: the *smooth branching* peak
//!    detector (Giannoulis et al.), attack coefficient while the reduction
//!    grows, release while it shrinks; `α = exp(−1/(τ·fs))`, so a step of
//!    the reduction reaches 1 − 1/e of its change after exactly `attack_ms`
//!    or `release_ms` (the tests check it);
//! 5. the audio, delayed by the lookahead, is multiplied by the gain and the
//!    make-up, then mixed with the equally delayed dry signal.
//!
//! Automatic make-up compensates the static curve at a 0 dBFS input
//! ([`AUTO_MAKEUP_REFERENCE_DBFS`]): a full-scale level comes out at full
//! scale, whatever threshold, ratio and knee. (A common automatic make-up
//! rule; quiet material therefore gets the full static gain back, which is
//! why it is an option and the reference level is stated.)

use mixmaster_core::units::db_to_amplitude;
use mixmaster_core::{CoreError, Processor};
use wide::{CmpEq, f64x4};

use crate::dynamics::ballistics::{SmoothBranching, coefficient};
use crate::dynamics::gain_computer::compressor_gain_db;
use crate::dynamics::key::{EXTERNAL_KEY_CHANNELS, KeyPath};
use crate::dynamics::lookahead::{self, Delay};
use crate::dynamics::sidechain_filter::Coefficients;
use crate::dynamics::smoothing::LinearSmoother;
use crate::dynamics::validate::{fixed, in_range};
use crate::dynamics::{flush, level_db};

/// Frames between two flushes of a tiny gain-reduction state.
const FLUSH_FRAMES: usize = 256;

/// Input level whose static gain reduction automatic make-up compensates.
pub const AUTO_MAKEUP_REFERENCE_DBFS: f64 = 0.0;

/// Parameter names accepted by [`Compressor::set_parameter`].
pub const COMPRESSOR_PARAMETERS: &str = "threshold_db, ratio, knee_db, attack_ms, release_ms, \
     rms_window_ms, lookahead_ms, makeup_db, mix, sidechain_hpf_hz";

/// How the detector measures the key level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Detector {
    /// Instantaneous magnitude; attack and release do all the smoothing.
    #[default]
    Peak,
    /// Root of an exponentially averaged square over `rms_window_ms`.
    Rms,
}

impl Detector {
    /// Parses the session-file name (`peak`, `rms`).
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "peak" => Some(Self::Peak),
            "rms" => Some(Self::Rms),
            _ => None,
        }
    }
}

/// Settings of [`Compressor`]; names as in a session file.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CompressorOptions {
    /// Threshold in dBFS (−80 ..= 0).
    pub threshold_db: f64,
    /// Ratio (1 ..= ∞; ∞ limits the level above threshold to the threshold).
    pub ratio: f64,
    /// Width of the soft knee in dB (0 ..= 24; 0 = hard knee).
    pub knee_db: f64,
    /// Attack time constant in ms (0 ..= 1000).
    pub attack_ms: f64,
    /// Release time constant in ms (0 ..= 5000).
    pub release_ms: f64,
    /// Level detector.
    pub detector: Detector,
    /// Time constant of the RMS averager in ms (0.1 ..= 1000); used by
    /// [`Detector::Rms`] only.
    pub rms_window_ms: f64,
    /// Lookahead in ms (0 ..= 50): delays the audio, reported as latency.
    pub lookahead_ms: f64,
    /// Manual make-up gain in dB (−24 ..= 48), ignored with `auto_makeup`.
    pub makeup_db: f64,
    /// Automatic make-up: compensates the static curve at
    /// [`AUTO_MAKEUP_REFERENCE_DBFS`].
    pub auto_makeup: bool,
    /// Takes the key from the sidechain input of
    /// [`Processor::process_with_sidechain`] (2 channels).
    pub external_sidechain: bool,
    /// High-pass of the key in Hz (10 ..= 2000), `None` for none.
    pub sidechain_hpf_hz: Option<f64>,
    /// Wet share of the output (0 ..= 1): 1 is plain compression, less is
    /// parallel compression.
    pub mix: f64,
}

impl Default for CompressorOptions {
    fn default() -> Self {
        Self {
            threshold_db: -20.0,
            ratio: 4.0,
            knee_db: 6.0,
            attack_ms: 10.0,
            release_ms: 100.0,
            detector: Detector::Peak,
            rms_window_ms: 10.0,
            lookahead_ms: 0.0,
            makeup_db: 0.0,
            auto_makeup: false,
            external_sidechain: false,
            sidechain_hpf_hz: None,
            mix: 1.0,
        }
    }
}

fn check_threshold(v: f64) -> Result<f64, CoreError> {
    in_range("threshold_db", v, -80.0, 0.0, "-80 ..= 0")
}
fn check_ratio(v: f64) -> Result<f64, CoreError> {
    in_range("ratio", v, 1.0, f64::INFINITY, "1 ..= inf")
}
fn check_knee(v: f64) -> Result<f64, CoreError> {
    in_range("knee_db", v, 0.0, 24.0, "0 ..= 24")
}
fn check_attack(v: f64) -> Result<f64, CoreError> {
    in_range("attack_ms", v, 0.0, 1000.0, "0 ..= 1000")
}
fn check_release(v: f64) -> Result<f64, CoreError> {
    in_range("release_ms", v, 0.0, 5000.0, "0 ..= 5000")
}
fn check_rms_window(v: f64) -> Result<f64, CoreError> {
    in_range("rms_window_ms", v, 0.1, 1000.0, "0.1 ..= 1000")
}
fn check_lookahead(v: f64) -> Result<f64, CoreError> {
    in_range("lookahead_ms", v, 0.0, 50.0, "0 ..= 50")
}
fn check_makeup(v: f64) -> Result<f64, CoreError> {
    in_range("makeup_db", v, -24.0, 48.0, "-24 ..= 48")
}
fn check_mix(v: f64) -> Result<f64, CoreError> {
    in_range("mix", v, 0.0, 1.0, "0 ..= 1")
}
pub(crate) fn check_sidechain_hpf(v: f64) -> Result<f64, CoreError> {
    in_range(
        "sidechain_hpf_hz",
        v,
        10.0,
        2000.0,
        "10 ..= 2000 (set_parameter: 0 turns it off)",
    )
}

impl CompressorOptions {
    /// Checks every field; the error names the field and its valid range.
    pub fn validate(&self) -> Result<(), CoreError> {
        check_threshold(self.threshold_db)?;
        check_ratio(self.ratio)?;
        check_knee(self.knee_db)?;
        check_attack(self.attack_ms)?;
        check_release(self.release_ms)?;
        check_rms_window(self.rms_window_ms)?;
        check_lookahead(self.lookahead_ms)?;
        check_makeup(self.makeup_db)?;
        check_mix(self.mix)?;
        if let Some(hz) = self.sidechain_hpf_hz {
            check_sidechain_hpf(hz)?;
        }
        Ok(())
    }
}

/// Downward compressor; see the module docs for the signal flow.
#[derive(Debug, Clone)]
pub struct Compressor {
    options: CompressorOptions,
    sample_rate_hz: u32,
    // Smoothed parameters (ramped per sample).
    threshold_db: LinearSmoother,
    inv_ratio: LinearSmoother,
    knee_db: LinearSmoother,
    makeup_db: LinearSmoother,
    mix: LinearSmoother,
    // Ballistics.
    attack_coeff: f64,
    release_coeff: f64,
    rms_coeff: f64,
    mean_square: f64,
    reduction: SmoothBranching,
    max_reduction_db: f64,
    // Paths.
    key: KeyPath,
    delays: Vec<Delay>,
    latency_frames: usize,
    /// Per-frame key level, then gain, of the block being processed.
    scratch: Vec<f64>,
    /// Frames since the last flush of a tiny reduction state.
    flush_pos: usize,
}

impl Compressor {
    /// A compressor; fails on an option outside its range.
    pub fn new(options: CompressorOptions) -> Result<Self, CoreError> {
        options.validate()?;
        Ok(Self {
            options,
            sample_rate_hz: 0,
            threshold_db: LinearSmoother::new(options.threshold_db),
            inv_ratio: LinearSmoother::new(1.0 / options.ratio),
            knee_db: LinearSmoother::new(options.knee_db),
            makeup_db: LinearSmoother::new(options.makeup_db),
            mix: LinearSmoother::new(options.mix),
            attack_coeff: 0.0,
            release_coeff: 0.0,
            rms_coeff: 0.0,
            mean_square: 0.0,
            reduction: SmoothBranching::default(),
            max_reduction_db: 0.0,
            key: KeyPath::default(),
            delays: Vec::new(),
            latency_frames: 0,
            scratch: Vec::new(),
            flush_pos: 0,
        })
    }

    /// The current settings (automated values as their targets).
    pub fn options(&self) -> CompressorOptions {
        self.options
    }

    /// Gain reduction of the last processed frame in dB (≥ 0), without
    /// make-up, for a gain-reduction meter.
    pub fn gain_reduction_db(&self) -> f64 {
        self.reduction.value()
    }

    /// Largest gain reduction in dB since the last
    /// [`Compressor::clear_max_gain_reduction`] (or reset).
    pub fn max_gain_reduction_db(&self) -> f64 {
        self.max_reduction_db
    }

    /// Restarts the maximum of [`Compressor::max_gain_reduction_db`].
    pub fn clear_max_gain_reduction(&mut self) {
        self.max_reduction_db = 0.0;
    }

    fn update_coefficients(&mut self) {
        let fs = self.sample_rate_hz;
        if fs == 0 {
            return;
        }
        self.attack_coeff = coefficient(self.options.attack_ms, fs);
        self.release_coeff = coefficient(self.options.release_ms, fs);
        self.rms_coeff = coefficient(self.options.rms_window_ms, fs);
        self.key.set_highpass(
            self.options
                .sidechain_hpf_hz
                .map(|hz| Coefficients::butterworth_highpass(hz, fs)),
        );
    }

    fn check_rate(&self, sample_rate_hz: u32) -> Result<(), CoreError> {
        in_range(
            "sample_rate_hz",
            f64::from(sample_rate_hz),
            8000.0,
            768_000.0,
            "8000 ..= 768000",
        )?;
        Ok(())
    }

    /// Processes with an optional key (`&[]` = the input is the key), in
    /// passes over the block: key level, gain computer and ballistics (the
    /// only recursion), gain, then the audio. When no parameter is ramping
    /// the parameters are constants and a key below the knee skips the
    /// logarithm (its gain is exactly 0 dB either way).
    fn run(&mut self, block: &mut [&mut [f64]], key: &[&[f64]]) {
        let frames = block.first().map_or(0, |c| c.len());
        if self.scratch.len() < frames {
            // Only when a caller exceeds the prepared block size.
            self.scratch.resize(frames, 0.0);
        }
        let ramping = [
            &self.threshold_db,
            &self.inv_ratio,
            &self.knee_db,
            &self.makeup_db,
            &self.mix,
        ]
        .iter()
        .any(|s| s.is_ramping());
        let mut g = std::mem::take(&mut self.scratch);
        let gains = &mut g[..frames];
        self.key.peaks(block, key, gains);
        if ramping {
            self.gains_ramping(gains);
        } else {
            self.gains_static(gains);
        }
        for (ch, delay) in block.iter_mut().zip(&mut self.delays) {
            if delay.is_empty() {
                for (x, g) in ch.iter_mut().zip(gains.iter()) {
                    *x *= g;
                }
            } else {
                for (x, g) in ch.iter_mut().zip(gains.iter()) {
                    *x = delay.push(*x) * g;
                }
            }
        }
        self.scratch = g;
    }

    /// Key peaks → gains, parameters constant over the block.
    fn gains_static(&mut self, gains: &mut [f64]) {
        let t = self.threshold_db.next_value();
        let ir = self.inv_ratio.next_value();
        let w = self.knee_db.next_value();
        let makeup = if self.options.auto_makeup {
            -compressor_gain_db(AUTO_MAKEUP_REFERENCE_DBFS, t, ir, w)
        } else {
            self.makeup_db.next_value()
        };
        let mix = self.mix.next_value();
        // Below this key amplitude the level is under the knee by far more
        // than the rounding of the logarithm: the static gain is exactly 0.
        let quiet = db_to_amplitude(t - 0.5 * w) * (1.0 - 1e-9);
        let rest_gain = (1.0 - mix) + mix * db_gain(makeup);
        let peak_detector = self.options.detector == Detector::Peak;
        for v in gains.iter_mut() {
            let peak = *v;
            let level = self.level(peak, peak_detector);
            *v = if level < quiet {
                0.0
            } else {
                -compressor_gain_db(level_db(level), t, ir, w)
            };
        }
        self.ballistics(gains);
        let mut chunks = gains.chunks_exact_mut(4);
        for c in &mut chunks {
            if c.iter().all(|&r| r == 0.0) {
                c.fill(rest_gain);
                continue;
            }
            let r = f64x4::new([c[0], c[1], c[2], c[3]]);
            let wet = ((f64x4::splat(makeup) - r) * f64x4::splat(DB_TO_LN)).exp();
            let g = f64x4::splat(1.0 - mix) + f64x4::splat(mix) * wet;
            let g = r.cmp_eq(f64x4::ZERO).blend(f64x4::splat(rest_gain), g);
            c.copy_from_slice(&g.to_array());
        }
        for v in chunks.into_remainder() {
            *v = if *v == 0.0 {
                rest_gain
            } else {
                (1.0 - mix) + mix * db_gain(makeup - *v)
            };
        }
    }

    /// The detector level of a key peak: the peak itself, or the RMS of the
    /// mean-square averager.
    #[inline]
    fn level(&mut self, peak: f64, peak_detector: bool) -> f64 {
        if peak_detector {
            peak
        } else {
            self.mean_square =
                flush(self.rms_coeff * self.mean_square + (1.0 - self.rms_coeff) * peak * peak);
            self.mean_square.sqrt()
        }
    }

    /// The smooth-branching ballistics on the gain reduction in dB:
    /// targets in, reductions out; updates the maximum. Both branches are
    /// computed and one is chosen, so the recursion is one multiply-add
    /// long; a tiny state is flushed to zero every [`FLUSH_FRAMES`] frames
    /// counted from the last reset (a fixed grid: the result does not depend
    /// on the block size).
    fn ballistics(&mut self, v: &mut [f64]) {
        let (att, rel) = (self.attack_coeff, self.release_coeff);
        let (att1, rel1) = (1.0 - att, 1.0 - rel);
        let mut state = self.reduction.value();
        let mut max = self.max_reduction_db;
        let mut i = 0;
        while i < v.len() {
            let n = (v.len() - i).min(FLUSH_FRAMES - self.flush_pos);
            for x in &mut v[i..i + n] {
                let t = *x;
                let up = att * state + att1 * t;
                let down = rel * state + rel1 * t;
                state = if t > state { up } else { down };
                *x = state;
            }
            for x in &v[i..i + n] {
                max = max.max(*x);
            }
            self.flush_pos += n;
            if self.flush_pos == FLUSH_FRAMES {
                self.flush_pos = 0;
                state = flush(state);
            }
            i += n;
        }
        self.reduction.reset(state);
        self.max_reduction_db = max;
    }

    /// Key peaks → gains while a parameter ramps (per-sample values).
    fn gains_ramping(&mut self, gains: &mut [f64]) {
        let peak_detector = self.options.detector == Detector::Peak;
        let auto_makeup = self.options.auto_makeup;
        for v in gains.iter_mut() {
            let t = self.threshold_db.next_value();
            let ir = self.inv_ratio.next_value();
            let w = self.knee_db.next_value();
            let manual_makeup = self.makeup_db.next_value();
            let mix = self.mix.next_value();
            let peak = *v;
            let level = self.level(peak, peak_detector);
            *v = -compressor_gain_db(level_db(level), t, ir, w);
            self.ballistics(std::slice::from_mut(v));
            let reduction = *v;
            let makeup = if auto_makeup {
                -compressor_gain_db(AUTO_MAKEUP_REFERENCE_DBFS, t, ir, w)
            } else {
                manual_makeup
            };
            *v = (1.0 - mix) + mix * db_gain(makeup - reduction);
        }
    }
}

/// dB to the natural logarithm of an amplitude: ln 10 / 20.
const DB_TO_LN: f64 = std::f64::consts::LN_10 / 20.0;

/// Amplitude of a gain in dB, `e^(dB·ln10/20)`, by the same polynomial as
/// the four-lane path (so a frame's gain does not depend on where the block
/// boundaries fall).
#[inline]
fn db_gain(db: f64) -> f64 {
    (f64x4::splat(db) * f64x4::splat(DB_TO_LN)).exp().to_array()[0]
}

impl Processor for Compressor {
    fn prepare(
        &mut self,
        sample_rate_hz: u32,
        max_block_frames: usize,
        channels: usize,
    ) -> Result<(), CoreError> {
        self.check_rate(sample_rate_hz)?;
        self.scratch = vec![0.0; max_block_frames];
        self.sample_rate_hz = sample_rate_hz;
        self.latency_frames = lookahead::frames(self.options.lookahead_ms, sample_rate_hz);
        self.delays = (0..channels)
            .map(|_| Delay::new(self.latency_frames))
            .collect();
        self.key.prepare(channels);
        for s in [
            &mut self.threshold_db,
            &mut self.inv_ratio,
            &mut self.knee_db,
            &mut self.makeup_db,
            &mut self.mix,
        ] {
            s.prepare(sample_rate_hz);
        }
        self.update_coefficients();
        self.reset();
        Ok(())
    }

    fn process(&mut self, block: &mut [&mut [f64]]) {
        self.run(block, &[]);
    }

    fn process_with_sidechain(&mut self, block: &mut [&mut [f64]], key: &[&[f64]]) {
        let frames = block.first().map_or(0, |c| c.len());
        let key_usable = self.options.external_sidechain
            && !key.is_empty()
            && key.iter().all(|k| k.len() >= frames);
        self.run(block, if key_usable { key } else { &[] });
    }

    fn reset(&mut self) {
        for s in [
            &mut self.threshold_db,
            &mut self.inv_ratio,
            &mut self.knee_db,
            &mut self.makeup_db,
            &mut self.mix,
        ] {
            s.reset();
        }
        self.mean_square = 0.0;
        self.reduction.reset(0.0);
        self.flush_pos = 0;
        self.max_reduction_db = 0.0;
        self.key.reset();
        self.delays.iter_mut().for_each(Delay::reset);
    }

    fn latency_frames(&self) -> usize {
        self.latency_frames
    }

    fn sidechain_channels(&self) -> usize {
        if self.options.external_sidechain {
            EXTERNAL_KEY_CHANNELS
        } else {
            0
        }
    }

    /// Threshold, ratio, knee, make-up and mix ramp over 20 ms; attack,
    /// release and RMS window take effect at once (they change no gain by
    /// themselves); `sidechain_hpf_hz` = 0 removes the key high-pass.
    /// `lookahead_ms` sets the latency and only accepts its current value.
    fn set_parameter(&mut self, name: &str, value: f64) -> Result<(), CoreError> {
        let o = &mut self.options;
        match name {
            "threshold_db" => {
                o.threshold_db = check_threshold(value)?;
                self.threshold_db.set_target(value);
            }
            "ratio" => {
                o.ratio = check_ratio(value)?;
                self.inv_ratio.set_target(1.0 / value);
            }
            "knee_db" => {
                o.knee_db = check_knee(value)?;
                self.knee_db.set_target(value);
            }
            "makeup_db" => {
                o.makeup_db = check_makeup(value)?;
                self.makeup_db.set_target(value);
            }
            "mix" => {
                o.mix = check_mix(value)?;
                self.mix.set_target(value);
            }
            "attack_ms" => o.attack_ms = check_attack(value)?,
            "release_ms" => o.release_ms = check_release(value)?,
            "rms_window_ms" => o.rms_window_ms = check_rms_window(value)?,
            "sidechain_hpf_hz" => {
                o.sidechain_hpf_hz = if value == 0.0 {
                    None
                } else {
                    Some(check_sidechain_hpf(value)?)
                };
            }
            "lookahead_ms" => {
                if value != o.lookahead_ms {
                    return Err(fixed("lookahead_ms", value));
                }
            }
            _ => {
                return Err(CoreError::UnknownParameter {
                    name: name.to_string(),
                    valid: COMPRESSOR_PARAMETERS.to_string(),
                });
            }
        }
        self.update_coefficients();
        Ok(())
    }
}
