//! Utility: gain, polarity, mono, stereo width and phase rotation — the
//! channel-strip "trim" stage.
//!
//! Order: gain and polarity (one smoothed factor), then width, then the
//! phase rotation.
//!
//! * **Gain** `gain_db` and **polarity** `invert_polarity` form one linear
//!   factor `±10^(gain_db/20)` that glides linearly over `smoothing_ms`; a
//!   polarity flip therefore fades through zero instead of clicking.
//! * **Width** (mid/side): with `m` the mean of the channels,
//!   `y_c = m + width·(x_c − m)`. For stereo this is the usual M/S matrix,
//!   `M = (L+R)/2`, `S = (L−R)/2`, `L' = M + width·S`, `R' = M − width·S`:
//!   0 = mono, 1 = unchanged, 2 = side doubled. `mono = true` is width 0.
//!   The effective width glides too.
//! * **Phase rotation.** A rotation by a constant angle at every frequency
//!   is the Hilbert transform mixed with the signal, which is non-causal:
//!   done causally it needs a long FIR and its latency, and is still wrong
//!   at the lowest frequencies. We choose the zero-latency alternative of
//!   analog phase rotators: a second-order all-pass at `phase_freq_hz`
//!   (`H(s) = (s² − s/Q + 1)/(s² + s/Q + 1)`, RBJ cookbook "APF", via the
//!   bilinear transform pre-warped at `phase_freq_hz`, which keeps
//!   `|H| = 1` exactly). Its phase falls from 0° at DC through −180° at
//!   `phase_freq_hz` to −360° at Nyquist; `phase_q` sets how fast. Used to
//!   make a lopsided waveform (voice, brass) more symmetric before a
//!   limiter. Off when `phase_freq_hz` is `None`.
//!
//! Parameters: `gain_db`, `width`, `invert_polarity` (0 or 1), `mono`
//! (0 or 1), `phase_freq_hz`, `phase_q` (the last two only when the rotation
//! is on).

use std::f64::consts::PI;

use mixmaster_core::units::db_to_amplitude;
use mixmaster_core::{CoreError, Processor};

use crate::biquad::{Coefficients, SEGMENT_FRAMES, SectionChain, TAIL_DECAY_DB, decay_frames};
use crate::filter::{check_freq, check_q, check_range, check_sample_rate, design_omega};
use crate::smoothing::{DEFAULT_SMOOTHING_MS, LinearSmoother, ramp_frames};

/// Settings of [`Utility`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UtilityOptions {
    /// Gain (−120 ..= 24 dB).
    pub gain_db: f64,
    /// Inverts the polarity of every channel.
    pub invert_polarity: bool,
    /// Sums the channels to mono (overrides `width`).
    pub mono: bool,
    /// Stereo width (0 ..= 2): 0 mono, 1 unchanged, 2 double side.
    pub width: f64,
    /// Centre of the all-pass phase rotation (10 ..= 40000 Hz); `None` = off.
    pub phase_freq_hz: Option<f64>,
    /// Q of the all-pass (0.1 ..= 10).
    pub phase_q: f64,
    /// Glide time of every change (0 ..= 1000 ms).
    pub smoothing_ms: f64,
}

impl Default for UtilityOptions {
    fn default() -> Self {
        Self {
            gain_db: 0.0,
            invert_polarity: false,
            mono: false,
            width: 1.0,
            phase_freq_hz: None,
            phase_q: std::f64::consts::FRAC_1_SQRT_2,
            smoothing_ms: DEFAULT_SMOOTHING_MS,
        }
    }
}

impl UtilityOptions {
    fn factor(&self) -> f64 {
        let g = db_to_amplitude(self.gain_db);
        if self.invert_polarity { -g } else { g }
    }

    fn effective_width(&self) -> f64 {
        if self.mono { 0.0 } else { self.width }
    }
}

/// The all-pass section: bilinear transform of `(s² − s/Q + 1)/(s² + s/Q + 1)`
/// pre-warped at `ω0` (RBJ cookbook "APF"): `b = [a2, a1, 1]`.
pub fn allpass(omega0: f64, q: f64) -> Coefficients {
    let alpha = omega0.sin() / (2.0 * q);
    let a0 = 1.0 + alpha;
    let a1 = -2.0 * omega0.cos();
    let a2 = 1.0 - alpha;
    Coefficients::from_polynomials([a2, a1, a0], [a0, a1, a2])
}

/// Gain, polarity, mono, width and all-pass phase rotation.
#[derive(Debug, Clone)]
pub struct Utility {
    options: UtilityOptions,
    sample_rate_hz: f64,
    factor: LinearSmoother,
    width: LinearSmoother,
    log_phase_freq: LinearSmoother,
    log_phase_q: LinearSmoother,
    allpass: SectionChain,
}

impl Utility {
    /// Parameter names accepted by [`Processor::set_parameter`].
    pub const PARAMETERS: &'static str =
        "gain_db, width, invert_polarity, mono, phase_freq_hz, phase_q";

    /// A utility; fails with the valid range on a bad setting.
    pub fn new(options: UtilityOptions) -> Result<Self, CoreError> {
        check_range("gain_db", options.gain_db, -120.0, 24.0, "-120 ..= 24 dB")?;
        check_range("width", options.width, 0.0, 2.0, "0 ..= 2")?;
        if let Some(f) = options.phase_freq_hz {
            check_freq("phase_freq_hz", f)?;
        }
        check_q(options.phase_q)?;
        check_range(
            "smoothing_ms",
            options.smoothing_ms,
            0.0,
            1000.0,
            "0 ..= 1000",
        )?;
        Ok(Self {
            options,
            sample_rate_hz: 48_000.0,
            factor: LinearSmoother::new(options.factor(), 1),
            width: LinearSmoother::new(options.effective_width(), 1),
            log_phase_freq: LinearSmoother::new(options.phase_freq_hz.unwrap_or(1000.0).log2(), 1),
            log_phase_q: LinearSmoother::new(options.phase_q.ln(), 1),
            allpass: SectionChain::new(1),
        })
    }

    /// The settings (targets of any glide in progress).
    pub fn options(&self) -> UtilityOptions {
        self.options
    }

    /// The all-pass section at the target setting (identity when off).
    pub fn allpass_section(&self) -> Coefficients {
        self.allpass.target()[0]
    }

    fn allpass_now(&self) -> Coefficients {
        if self.options.phase_freq_hz.is_none() {
            return Coefficients::IDENTITY;
        }
        let f = self.log_phase_freq.current().exp2();
        allpass(
            design_omega(f, self.sample_rate_hz),
            self.log_phase_q.current().exp(),
        )
    }

    fn apply_gain_and_width(&mut self, block: &mut [&mut [f64]], from: usize, to: usize) {
        let channels = block.len();
        let inv_n = 1.0 / channels.max(1) as f64;
        // Settled fast paths keep unity settings an exact pass-through.
        if !self.factor.is_ramping() && !self.width.is_ramping() {
            let g = self.factor.current();
            let w = self.width.current();
            if g != 1.0 {
                for ch in block.iter_mut() {
                    ch[from..to].iter_mut().for_each(|x| *x *= g);
                }
            }
            if w != 1.0 && channels > 1 {
                for i in from..to {
                    let m = block.iter().map(|c| c[i]).sum::<f64>() * inv_n;
                    for ch in block.iter_mut() {
                        ch[i] = m + w * (ch[i] - m);
                    }
                }
            }
            return;
        }
        for i in from..to {
            let g = self.factor.next_value();
            let w = self.width.next_value();
            let m = if channels > 1 {
                block.iter().map(|c| c[i]).sum::<f64>() * inv_n * g
            } else {
                0.0
            };
            for ch in block.iter_mut() {
                let x = ch[i] * g;
                ch[i] = if channels > 1 { m + w * (x - m) } else { x };
            }
        }
    }
}

impl Processor for Utility {
    fn prepare(
        &mut self,
        sample_rate_hz: u32,
        _max_block_frames: usize,
        channels: usize,
    ) -> Result<(), CoreError> {
        check_sample_rate(sample_rate_hz)?;
        self.sample_rate_hz = f64::from(sample_rate_hz);
        let ramp = ramp_frames(self.options.smoothing_ms, sample_rate_hz);
        for s in [
            &mut self.factor,
            &mut self.width,
            &mut self.log_phase_freq,
            &mut self.log_phase_q,
        ] {
            s.set_ramp_frames(ramp);
        }
        self.allpass.prepare(channels);
        self.reset();
        Ok(())
    }

    fn process(&mut self, block: &mut [&mut [f64]]) {
        let frames = block.first().map_or(0, |c| c.len());
        let mut i = 0;
        while i < frames {
            // Sub-blocks end where a gain/width ramp ends, so the settled
            // fast path starts at the same frame whatever the block size.
            let ramp_left = self.factor.remaining().max(self.width.remaining());
            let n = if ramp_left > 0 {
                ramp_left.min(frames - i)
            } else {
                frames - i
            };
            self.apply_gain_and_width(block, i, i + n);
            i += n;
        }
        let mut i = 0;
        while i < frames {
            if self.allpass.segment_left() == 0
                && (self.log_phase_freq.is_ramping() || self.log_phase_q.is_ramping())
            {
                let len = SEGMENT_FRAMES.min(
                    self.log_phase_freq
                        .remaining()
                        .max(self.log_phase_q.remaining()),
                );
                self.log_phase_freq.advance(len);
                self.log_phase_q.advance(len);
                let c = self.allpass_now();
                self.allpass.glide_to(&[c], len);
            }
            let left = self.allpass.segment_left();
            let n = if left > 0 {
                left.min(frames - i)
            } else {
                frames - i
            };
            self.allpass.process(block, i, i + n);
            i += n;
        }
    }

    fn reset(&mut self) {
        self.factor.set_immediate(self.options.factor());
        self.width.set_immediate(self.options.effective_width());
        self.log_phase_freq
            .set_immediate(self.options.phase_freq_hz.unwrap_or(1000.0).log2());
        self.log_phase_q.set_immediate(self.options.phase_q.ln());
        let c = self.allpass_now();
        self.allpass.set_immediate(&[c]);
        self.allpass.reset();
    }

    fn tail_frames(&self) -> usize {
        decay_frames(self.allpass.target(), TAIL_DECAY_DB)
    }

    fn set_parameter(&mut self, name: &str, value: f64) -> Result<(), CoreError> {
        let flag = |name: &'static str, value: f64| -> Result<bool, CoreError> {
            if value == 0.0 || value == 1.0 {
                Ok(value == 1.0)
            } else {
                Err(CoreError::OutOfRange {
                    name,
                    value,
                    range: "0 (off) or 1 (on)",
                })
            }
        };
        match name {
            "gain_db" => {
                check_range("gain_db", value, -120.0, 24.0, "-120 ..= 24 dB")?;
                self.options.gain_db = value;
            }
            "invert_polarity" => self.options.invert_polarity = flag("invert_polarity", value)?,
            "mono" => self.options.mono = flag("mono", value)?,
            "width" => {
                check_range("width", value, 0.0, 2.0, "0 ..= 2")?;
                self.options.width = value;
            }
            "phase_freq_hz" | "phase_q" if self.options.phase_freq_hz.is_none() => {
                return Err(CoreError::OutOfRange {
                    name: "phase_freq_hz",
                    value,
                    range: "set only when the phase rotation is on (phase_freq_hz given)",
                });
            }
            "phase_freq_hz" => {
                check_freq("phase_freq_hz", value)?;
                self.options.phase_freq_hz = Some(value);
                self.log_phase_freq.set_target(value.log2());
                return Ok(());
            }
            "phase_q" => {
                check_q(value)?;
                self.options.phase_q = value;
                self.log_phase_q.set_target(value.ln());
                return Ok(());
            }
            _ => {
                return Err(CoreError::UnknownParameter {
                    name: name.to_string(),
                    valid: Self::PARAMETERS.to_string(),
                });
            }
        }
        self.factor.set_target(self.options.factor());
        self.width.set_target(self.options.effective_width());
        Ok(())
    }
}

/// Phase in degrees (−180 ..= 180) of a section's digital response at
/// `freq_hz`, for tests and plots.
pub fn allpass_phase_deg(section: &Coefficients, freq_hz: f64, sample_rate_hz: f64) -> f64 {
    let (re, im) = section.response(2.0 * PI * freq_hz / sample_rate_hz);
    im.atan2(re).to_degrees()
}
