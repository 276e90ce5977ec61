//! Split-band de-esser: detects sibilance in a high band and turns down only
//! that band.
//!
//! * Split: a linear-phase FIR low-pass `LP` (Kaiser-windowed sinc, −6 dB
//!   at `freq_hz`, [`SPLIT_TRANSITION_HZ`] wide, [`SPLIT_STOPBAND_DB`] of
//!   stopband) and its exact complement `band = x_D − LP(x)`, where `x_D`
//!   is the input delayed by the FIR's group delay `D`. Because both parts
//!   are in phase, turning the band down by `g` turns a tone in the band
//!   down by `g` (a minimum-phase IIR split would leave half of it, its
//!   phase being far from the rest's). The output is
//!   `y = x_D − (1 − g)·band`: with no reduction (`g` = 1 exactly whenever
//!   the detector stays below threshold) it *is* the delayed input, bit for
//!   bit. The delay `D` is the processor's latency (about 2 ms).
//! * Detector: on the undelayed input, so it sees sibilance `D` frames
//!   before it reaches the output (a free lookahead): the 2nd-order
//!   Butterworth high-pass at `freq_hz` (`highpass`) or a 4th-order
//!   band-pass, two RBJ band-pass sections with Q = [`BANDPASS_Q`] in
//!   cascade, 0 dB at `freq_hz` and 12 dB/octave on both sides
//!   (`bandpass`); stereo linked (largest |·| over channels),
//!   instantaneous magnitude in dB.
//! * Gain computer: hard-knee downward compression above `threshold_db`
//!   with `ratio`, never more than `range_db` of reduction (Giannoulis,
//!   Massberg & Reiss, JAES 60(6), 2012, gain computer with W = 0).
//! * Ballistics: smooth branching one-pole on the reduction in dB, attack
//!   while it grows, release while it shrinks, `α = exp(−1/(τ·fs))`.
//!
//! `freq_hz` is automatable: it ramps over 20 ms and both filters are
//! redesigned sample by sample along the ramp, so a sweep does not click;
//! the FIR length, hence the latency, depends only on the sample rate.

use mixmaster_core::units::db_to_amplitude;
use mixmaster_core::{CoreError, Processor};

use crate::dynamics::ballistics::{SmoothBranching, coefficient};
use crate::dynamics::gain_computer::compressor_gain_db;
use crate::dynamics::level_db;
use crate::dynamics::sidechain_filter::{Biquad, Coefficients, Shape};
use crate::dynamics::smoothing::LinearSmoother;
use crate::dynamics::validate::in_range;
use crate::kaiser_fir;

/// Width of the split's transition band in Hz.
pub const SPLIT_TRANSITION_HZ: f64 = 1000.0;

/// Stopband attenuation of the split low-pass in dB.
pub const SPLIT_STOPBAND_DB: f64 = 70.0;

/// Q of each of the two sections of the band-pass detector.
pub const BANDPASS_Q: f64 = 1.0;

/// Parameter names accepted by [`DeEsser::set_parameter`].
pub const DEESSER_PARAMETERS: &str =
    "freq_hz, threshold_db, ratio, range_db, attack_ms, release_ms";

/// Which filter feeds the de-esser's detector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeEsserDetector {
    /// The reduced band itself (high-pass at `freq_hz`).
    #[default]
    Highpass,
    /// A 4th-order band-pass at `freq_hz` (two sections with Q =
    /// [`BANDPASS_Q`]).
    Bandpass,
}

impl DeEsserDetector {
    /// Parses the session-file name (`highpass`, `bandpass`).
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "highpass" => Some(Self::Highpass),
            "bandpass" => Some(Self::Bandpass),
            _ => None,
        }
    }
}

/// Settings of [`DeEsser`]; names as in a session file.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DeEsserOptions {
    /// Split (and detector) frequency in Hz (1000 ..= 20000, and below
    /// 0.45 × the sample rate).
    pub freq_hz: f64,
    /// Threshold of the band level in dBFS (−80 ..= 0).
    pub threshold_db: f64,
    /// Ratio above threshold (1 ..= ∞).
    pub ratio: f64,
    /// Largest reduction as a gain floor in dB (−60 ..= 0).
    pub range_db: f64,
    /// Attack time constant in ms (0 ..= 100).
    pub attack_ms: f64,
    /// Release time constant in ms (0 ..= 2000).
    pub release_ms: f64,
    /// Detector filter.
    pub detector: DeEsserDetector,
}

impl Default for DeEsserOptions {
    fn default() -> Self {
        Self {
            freq_hz: 6000.0,
            threshold_db: -30.0,
            ratio: 4.0,
            range_db: -12.0,
            attack_ms: 0.5,
            release_ms: 60.0,
            detector: DeEsserDetector::Highpass,
        }
    }
}

fn check_freq(v: f64) -> Result<f64, CoreError> {
    in_range(
        "freq_hz",
        v,
        1000.0,
        20_000.0,
        "1000 ..= 20000 and below 0.45 × the sample rate",
    )
}
fn check_threshold(v: f64) -> Result<f64, CoreError> {
    in_range("threshold_db", v, -80.0, 0.0, "-80 ..= 0")
}
fn check_ratio(v: f64) -> Result<f64, CoreError> {
    in_range("ratio", v, 1.0, f64::INFINITY, "1 ..= inf")
}
fn check_range(v: f64) -> Result<f64, CoreError> {
    in_range("range_db", v, -60.0, 0.0, "-60 ..= 0")
}
fn check_attack(v: f64) -> Result<f64, CoreError> {
    in_range("attack_ms", v, 0.0, 100.0, "0 ..= 100")
}
fn check_release(v: f64) -> Result<f64, CoreError> {
    in_range("release_ms", v, 0.0, 2000.0, "0 ..= 2000")
}

impl DeEsserOptions {
    /// Checks every field; the error names the field and its valid range.
    pub fn validate(&self) -> Result<(), CoreError> {
        check_freq(self.freq_hz)?;
        check_threshold(self.threshold_db)?;
        check_ratio(self.ratio)?;
        check_range(self.range_db)?;
        check_attack(self.attack_ms)?;
        check_release(self.release_ms)?;
        Ok(())
    }
}

#[derive(Debug, Clone, Default)]
struct ChannelState {
    detector: Biquad,
    /// Second band-pass section (unused by the high-pass detector).
    detector2: Biquad,
    /// The last `taps` inputs, written twice (at `pos` and `pos + taps`) so
    /// that `history[pos..pos + taps]` is the window, newest first.
    history: Vec<f64>,
}

/// Split-band de-esser; see the module docs.
#[derive(Debug, Clone)]
pub struct DeEsser {
    options: DeEsserOptions,
    sample_rate_hz: u32,
    freq_hz: LinearSmoother,
    threshold_db: LinearSmoother,
    inv_ratio: LinearSmoother,
    range_db: LinearSmoother,
    detector: Coefficients,
    /// Split low-pass taps (symmetric) and its Kaiser window.
    split: Vec<f64>,
    window: Vec<f64>,
    pos: usize,
    attack_coeff: f64,
    release_coeff: f64,
    reduction: SmoothBranching,
    max_reduction_db: f64,
    channels: Vec<ChannelState>,
}

impl DeEsser {
    /// A de-esser; fails on an option outside its range.
    pub fn new(options: DeEsserOptions) -> Result<Self, CoreError> {
        options.validate()?;
        let placeholder = Coefficients::butterworth_highpass(1000.0, 48_000);
        Ok(Self {
            options,
            sample_rate_hz: 0,
            freq_hz: LinearSmoother::new(options.freq_hz),
            threshold_db: LinearSmoother::new(options.threshold_db),
            inv_ratio: LinearSmoother::new(1.0 / options.ratio),
            range_db: LinearSmoother::new(options.range_db),
            detector: placeholder,
            split: Vec::new(),
            window: Vec::new(),
            pos: 0,
            attack_coeff: 0.0,
            release_coeff: 0.0,
            reduction: SmoothBranching::default(),
            max_reduction_db: 0.0,
            channels: Vec::new(),
        })
    }

    /// The current settings (automated values as their targets).
    pub fn options(&self) -> DeEsserOptions {
        self.options
    }

    /// Reduction of the band at the last processed frame in dB (≥ 0).
    pub fn gain_reduction_db(&self) -> f64 {
        self.reduction.value()
    }

    /// Largest band reduction in dB since the last
    /// [`DeEsser::clear_max_gain_reduction`] (or reset).
    pub fn max_gain_reduction_db(&self) -> f64 {
        self.max_reduction_db
    }

    /// Restarts the maximum of [`DeEsser::max_gain_reduction_db`].
    pub fn clear_max_gain_reduction(&mut self) {
        self.max_reduction_db = 0.0;
    }

    fn check_freq_for_rate(freq_hz: f64, sample_rate_hz: u32) -> Result<(), CoreError> {
        if sample_rate_hz > 0 && freq_hz >= 0.45 * f64::from(sample_rate_hz) {
            return Err(CoreError::OutOfRange {
                name: "freq_hz",
                value: freq_hz,
                range: "1000 ..= 20000 and below 0.45 × the sample rate",
            });
        }
        Ok(())
    }

    fn design(&mut self, freq_hz: f64) {
        let fs = self.sample_rate_hz;
        self.detector = match self.options.detector {
            DeEsserDetector::Highpass => Coefficients::butterworth_highpass(freq_hz, fs),
            DeEsserDetector::Bandpass => {
                Coefficients::new(Shape::Bandpass, freq_hz, BANDPASS_Q, fs)
            }
        };
        kaiser_fir::lowpass_into(&mut self.split, freq_hz / f64::from(fs), &self.window);
    }

    /// Group delay of the split filter in frames (= latency).
    fn delay(&self) -> usize {
        self.split.len() / 2
    }

    fn update_coefficients(&mut self) {
        let fs = self.sample_rate_hz;
        if fs == 0 {
            return;
        }
        self.attack_coeff = coefficient(self.options.attack_ms, fs);
        self.release_coeff = coefficient(self.options.release_ms, fs);
    }
}

impl Processor for DeEsser {
    fn prepare(
        &mut self,
        sample_rate_hz: u32,
        _max_block_frames: usize,
        channels: usize,
    ) -> Result<(), CoreError> {
        in_range(
            "sample_rate_hz",
            f64::from(sample_rate_hz),
            8000.0,
            768_000.0,
            "8000 ..= 768000",
        )?;
        Self::check_freq_for_rate(self.options.freq_hz, sample_rate_hz)?;
        self.sample_rate_hz = sample_rate_hz;
        let transition = SPLIT_TRANSITION_HZ / f64::from(sample_rate_hz);
        // Odd length: an integer group delay.
        let taps = kaiser_fir::min_taps(SPLIT_STOPBAND_DB, transition) | 1;
        self.window = kaiser_fir::window(taps, kaiser_fir::beta(SPLIT_STOPBAND_DB));
        self.split = vec![0.0; taps];
        self.channels = vec![
            ChannelState {
                detector: Biquad::default(),
                detector2: Biquad::default(),
                history: vec![0.0; 2 * taps],
            };
            channels
        ];
        for s in [
            &mut self.freq_hz,
            &mut self.threshold_db,
            &mut self.inv_ratio,
            &mut self.range_db,
        ] {
            s.prepare(sample_rate_hz);
        }
        self.update_coefficients();
        self.reset();
        Ok(())
    }

    fn process(&mut self, block: &mut [&mut [f64]]) {
        let frames = block.first().map_or(0, |c| c.len());
        let taps = self.split.len();
        let delay = self.delay();
        let bandpass = self.options.detector == DeEsserDetector::Bandpass;
        for i in 0..frames {
            if self.freq_hz.is_ramping() {
                let f = self.freq_hz.next_value();
                self.design(f);
            }
            let t = self.threshold_db.next_value();
            let ir = self.inv_ratio.next_value();
            let range = self.range_db.next_value();

            self.pos = if self.pos == 0 {
                taps - 1
            } else {
                self.pos - 1
            };
            let mut peak = 0.0f64;
            for (ch, state) in block.iter().zip(&mut self.channels) {
                let x = ch[i];
                state.history[self.pos] = x;
                state.history[self.pos + taps] = x;
                let mut detected = state.detector.process(&self.detector, x);
                if bandpass {
                    detected = state.detector2.process(&self.detector, detected);
                }
                peak = peak.max(detected.abs());
            }
            let target = (-compressor_gain_db(level_db(peak), t, ir, 0.0)).min(-range);
            let reduction =
                self.reduction
                    .next_value(target, self.attack_coeff, self.release_coeff);
            self.max_reduction_db = self.max_reduction_db.max(reduction);
            let cut = 1.0 - db_to_amplitude(-reduction);
            for (ch, state) in block.iter_mut().zip(&self.channels) {
                let window = &state.history[self.pos..self.pos + taps];
                let delayed = window[delay];
                ch[i] = if cut == 0.0 {
                    delayed
                } else {
                    let low = symmetric_fir(&self.split, window);
                    delayed - cut * (delayed - low)
                };
            }
        }
    }

    fn reset(&mut self) {
        for s in [
            &mut self.freq_hz,
            &mut self.threshold_db,
            &mut self.inv_ratio,
            &mut self.range_db,
        ] {
            s.reset();
        }
        if self.sample_rate_hz > 0 {
            self.design(self.freq_hz.target());
        }
        self.reduction.reset(0.0);
        self.max_reduction_db = 0.0;
        self.pos = 0;
        for c in &mut self.channels {
            c.detector.reset();
            c.detector2.reset();
            c.history.fill(0.0);
        }
    }

    fn latency_frames(&self) -> usize {
        self.delay()
    }

    /// Threshold, ratio, range and `freq_hz` ramp over 20 ms; attack and
    /// release take effect at once.
    fn set_parameter(&mut self, name: &str, value: f64) -> Result<(), CoreError> {
        let o = &mut self.options;
        match name {
            "freq_hz" => {
                check_freq(value)?;
                Self::check_freq_for_rate(value, self.sample_rate_hz)?;
                self.options.freq_hz = value;
                self.freq_hz.set_target(value);
                if self.sample_rate_hz > 0 && !self.freq_hz.is_ramping() {
                    self.design(value);
                }
            }
            "threshold_db" => {
                o.threshold_db = check_threshold(value)?;
                self.threshold_db.set_target(value);
            }
            "ratio" => {
                o.ratio = check_ratio(value)?;
                self.inv_ratio.set_target(1.0 / value);
            }
            "range_db" => {
                o.range_db = check_range(value)?;
                self.range_db.set_target(value);
            }
            "attack_ms" => o.attack_ms = check_attack(value)?,
            "release_ms" => o.release_ms = check_release(value)?,
            _ => {
                return Err(CoreError::UnknownParameter {
                    name: name.to_string(),
                    valid: DEESSER_PARAMETERS.to_string(),
                });
            }
        }
        self.update_coefficients();
        Ok(())
    }
}

/// `Σ h[k]·w[k]` for a symmetric, odd-length `h`, folding the symmetric
/// pairs so that each multiply serves two taps.
#[inline]
fn symmetric_fir(h: &[f64], window: &[f64]) -> f64 {
    let n = h.len();
    let half = n / 2;
    let mut acc = h[half] * window[half];
    for k in 0..half {
        acc += h[k] * (window[k] + window[n - 1 - k]);
    }
    acc
}
