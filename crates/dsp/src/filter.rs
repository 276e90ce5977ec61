//! Butterworth high-pass and low-pass filters of 6 to 48 dB/oct, and a
//! second-order band-pass.
//!
//! An order-`n` Butterworth filter (`slope_db_oct = 6·n`) is the cascade of
//! its analog prototype's sections: for `k = 0 … ⌊n/2⌋−1` a second-order
//! section with `Q_k = 1/(2·sin((2k+1)·π/(2n)))`, and for odd `n` a
//! first-order one (S. Butterworth, "On the Theory of Filter Amplifiers",
//! Wireless Engineer 7, 1930; pole positions as in A. V. Oppenheim,
//! R. W. Schafer, *Discrete-Time Signal Processing*, 3rd ed., §7.1). Each
//! analog section is turned into digital sections by
//! [`match_analog`], so the magnitude
//! follows the analog `1/√(1 + (f/fc)^{2n})` up to 0.45·fs instead of
//! collapsing to zero at Nyquist as the bilinear transform would.
//!
//! The band-pass is the RBJ cookbook's constant-0-dB-peak band-pass
//! `(s/Q)/(s² + s/Q + 1)` (bandwidth `f0/Q` between the −3 dB points),
//! 6 dB/oct on each side; `slope_db_oct` does not apply to it.
//!
//! Parameters (session-file names): `freq_hz`, `slope_db_oct`, `q` (used by
//! the band-pass). `freq_hz` and `q` glide in the log domain over
//! `smoothing_ms`, with a new design every [`SEGMENT_FRAMES`] frames; a slope
//! change glides the coefficients from the old design to the new one.
//! Corner frequencies above 0.45·fs are designed at 0.45·fs.

use std::f64::consts::PI;

use mixmaster_core::{CoreError, Processor};

use crate::analog_match::{AnalogSection, match_analog};
use crate::biquad::{Coefficients, SEGMENT_FRAMES, SectionChain, TAIL_DECAY_DB, decay_frames};
use crate::smoothing::{DEFAULT_SMOOTHING_MS, LinearSmoother, ramp_frames};

/// Highest design frequency as a fraction of the sample rate.
pub const MAX_DESIGN_FRACTION: f64 = 0.45;

/// Slopes a Butterworth filter can have, in dB per octave (6 per order).
pub const SLOPES_DB_OCT: [f64; 8] = [6.0, 12.0, 18.0, 24.0, 30.0, 36.0, 42.0, 48.0];

/// Q of a Butterworth second-order section (maximally flat): 1/√2.
pub const BUTTERWORTH_Q: f64 = std::f64::consts::FRAC_1_SQRT_2;

/// Digital sections per filter: four second-order analog sections, each
/// matched by a biquad and a first-order section.
const SLOTS: usize = 8;

/// Which response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FilterKind {
    /// Passes above `freq_hz`.
    #[default]
    HighPass,
    /// Passes below `freq_hz`.
    LowPass,
    /// Passes around `freq_hz`, bandwidth `freq_hz / q`.
    BandPass,
}

/// Settings of [`Filter`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FilterOptions {
    /// Response type.
    pub kind: FilterKind,
    /// Corner (−3 dB) frequency, or centre of the band-pass (10 ..= 40000 Hz).
    pub freq_hz: f64,
    /// Slope of a high- or low-pass: 6, 12, …, 48 dB/oct.
    pub slope_db_oct: f64,
    /// Quality factor of the band-pass (0.1 ..= 10).
    pub q: f64,
    /// Glide time of parameter changes (0 ..= 1000 ms).
    pub smoothing_ms: f64,
}

impl Default for FilterOptions {
    fn default() -> Self {
        Self {
            kind: FilterKind::HighPass,
            freq_hz: 100.0,
            slope_db_oct: 12.0,
            q: BUTTERWORTH_Q,
            smoothing_ms: DEFAULT_SMOOTHING_MS,
        }
    }
}

pub(crate) fn check_range(
    name: &'static str,
    value: f64,
    min: f64,
    max: f64,
    range: &'static str,
) -> Result<(), CoreError> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(CoreError::OutOfRange { name, value, range })
    }
}

pub(crate) fn check_sample_rate(sample_rate_hz: u32) -> Result<(), CoreError> {
    check_range(
        "sample_rate_hz",
        f64::from(sample_rate_hz),
        8000.0,
        768_000.0,
        "8000 ..= 768000",
    )
}

pub(crate) fn check_freq(name: &'static str, value: f64) -> Result<(), CoreError> {
    check_range(name, value, 10.0, 40_000.0, "10 ..= 40000 Hz")
}

pub(crate) fn check_q(value: f64) -> Result<(), CoreError> {
    check_range("q", value, 0.1, 10.0, "0.1 ..= 10")
}

fn check_slope(value: f64) -> Result<(), CoreError> {
    if SLOPES_DB_OCT.contains(&value) {
        Ok(())
    } else {
        Err(CoreError::OutOfRange {
            name: "slope_db_oct",
            value,
            range: "one of 6, 12, 18, 24, 30, 36, 42, 48",
        })
    }
}

/// `ω0 = 2π·f/fs` with `f` limited to [`MAX_DESIGN_FRACTION`]·fs.
pub(crate) fn design_omega(freq_hz: f64, sample_rate_hz: f64) -> f64 {
    2.0 * PI * freq_hz.min(MAX_DESIGN_FRACTION * sample_rate_hz) / sample_rate_hz
}

/// The analog prototype sections of a filter.
pub fn analog_sections(kind: FilterKind, slope_db_oct: f64, q: f64) -> Vec<AnalogSection> {
    let order = (slope_db_oct / 6.0).round() as usize;
    match kind {
        FilterKind::BandPass => vec![AnalogSection::bandpass(q)],
        FilterKind::HighPass | FilterKind::LowPass => {
            let hp = kind == FilterKind::HighPass;
            let mut v: Vec<AnalogSection> = (0..order / 2)
                .map(|k| {
                    let qk = 1.0 / (2.0 * ((2 * k + 1) as f64 * PI / (2 * order) as f64).sin());
                    if hp {
                        AnalogSection::highpass2(qk)
                    } else {
                        AnalogSection::lowpass2(qk)
                    }
                })
                .collect();
            if order % 2 == 1 {
                v.push(if hp {
                    AnalogSection::highpass1()
                } else {
                    AnalogSection::lowpass1()
                });
            }
            v
        }
    }
}

/// Analog magnitude `|H(j·2π·f)|` of the filter, the oracle of the tests:
/// Butterworth `1/√(1+x^{2n})` (low-pass), `x^n/√(1+x^{2n})` (high-pass),
/// `x/Q / |1 − x² + j·x/Q|` (band-pass), `x = f/f0`.
pub fn analog_magnitude(kind: FilterKind, slope_db_oct: f64, q: f64, x: f64) -> f64 {
    let n = (slope_db_oct / 6.0).round() as i32;
    match kind {
        FilterKind::LowPass => 1.0 / (1.0 + x.powi(2 * n)).sqrt(),
        FilterKind::HighPass => x.powi(n) / (1.0 + x.powi(2 * n)).sqrt(),
        FilterKind::BandPass => AnalogSection::bandpass(q).magnitude(x),
    }
}

/// Design with no allocation: fills `out` (identity where unused).
fn design_into(
    kind: FilterKind,
    slope_db_oct: f64,
    freq_hz: f64,
    q: f64,
    sample_rate_hz: f64,
    out: &mut [Coefficients; SLOTS],
) {
    *out = [Coefficients::IDENTITY; SLOTS];
    let omega0 = design_omega(freq_hz, sample_rate_hz);
    let order = (slope_db_oct / 6.0).round() as usize;
    let mut slot = 0;
    let mut put = |proto: AnalogSection| {
        let s = match_analog(&proto, omega0);
        out[slot] = s[0];
        out[slot + 1] = s[1];
        slot += 2;
    };
    match kind {
        FilterKind::BandPass => put(AnalogSection::bandpass(q)),
        FilterKind::HighPass | FilterKind::LowPass => {
            let hp = kind == FilterKind::HighPass;
            for k in 0..order / 2 {
                let qk = 1.0 / (2.0 * ((2 * k + 1) as f64 * PI / (2 * order) as f64).sin());
                put(if hp {
                    AnalogSection::highpass2(qk)
                } else {
                    AnalogSection::lowpass2(qk)
                });
            }
            if order % 2 == 1 {
                put(if hp {
                    AnalogSection::highpass1()
                } else {
                    AnalogSection::lowpass1()
                });
            }
        }
    }
}

/// Butterworth high/low-pass or band-pass filter, the same on every channel.
#[derive(Debug, Clone)]
pub struct Filter {
    options: FilterOptions,
    sample_rate_hz: f64,
    /// log2 of the frequency, gliding.
    log_freq: LinearSmoother,
    /// ln of q, gliding.
    log_q: LinearSmoother,
    chain: SectionChain,
    scratch: [Coefficients; SLOTS],
}

impl Filter {
    /// Parameter names accepted by [`Processor::set_parameter`].
    pub const PARAMETERS: &'static str = "freq_hz, slope_db_oct, q";

    /// A filter; fails with the valid range on a bad setting.
    pub fn new(options: FilterOptions) -> Result<Self, CoreError> {
        check_freq("freq_hz", options.freq_hz)?;
        check_slope(options.slope_db_oct)?;
        check_q(options.q)?;
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
            log_freq: LinearSmoother::new(options.freq_hz.log2(), 1),
            log_q: LinearSmoother::new(options.q.ln(), 1),
            chain: SectionChain::new(SLOTS),
            scratch: [Coefficients::IDENTITY; SLOTS],
        })
    }

    /// The settings (targets of any glide in progress).
    pub fn options(&self) -> FilterOptions {
        self.options
    }

    /// The digital sections of the current target setting (for response
    /// plots and tests; valid after `prepare`).
    pub fn sections(&self) -> &[Coefficients] {
        self.chain.target()
    }

    /// The filter's sections when nothing is ramping or gliding (a host may
    /// then run them fused with others: [`SectionChain::process_series`]).
    pub fn static_chain(&mut self) -> Option<&mut SectionChain> {
        let idle = !self.log_freq.is_ramping() && !self.log_q.is_ramping();
        (idle && self.chain.is_static()).then_some(&mut self.chain)
    }

    fn design_now(&mut self) {
        let freq = self.log_freq.current().exp2();
        let q = self.log_q.current().exp();
        design_into(
            self.options.kind,
            self.options.slope_db_oct,
            freq,
            q,
            self.sample_rate_hz,
            &mut self.scratch,
        );
    }
}

impl Processor for Filter {
    fn prepare(
        &mut self,
        sample_rate_hz: u32,
        _max_block_frames: usize,
        channels: usize,
    ) -> Result<(), CoreError> {
        check_sample_rate(sample_rate_hz)?;
        self.sample_rate_hz = f64::from(sample_rate_hz);
        let frames = ramp_frames(self.options.smoothing_ms, sample_rate_hz);
        self.log_freq = LinearSmoother::new(self.options.freq_hz.log2(), frames);
        self.log_q = LinearSmoother::new(self.options.q.ln(), frames);
        self.chain.prepare(channels);
        self.design_now();
        self.chain.set_immediate(&self.scratch);
        Ok(())
    }

    fn process(&mut self, block: &mut [&mut [f64]]) {
        let frames = block.first().map_or(0, |c| c.len());
        let mut i = 0;
        while i < frames {
            if self.chain.segment_left() == 0
                && (self.log_freq.is_ramping() || self.log_q.is_ramping())
            {
                let len = SEGMENT_FRAMES.min(self.log_freq.remaining().max(self.log_q.remaining()));
                self.log_freq.advance(len);
                self.log_q.advance(len);
                self.design_now();
                self.chain.glide_to(&self.scratch, len);
            }
            let left = self.chain.segment_left();
            let n = if left > 0 {
                left.min(frames - i)
            } else {
                frames - i
            };
            self.chain.process(block, i, i + n);
            i += n;
        }
    }

    fn reset(&mut self) {
        self.log_freq.set_immediate(self.options.freq_hz.log2());
        self.log_q.set_immediate(self.options.q.ln());
        self.design_now();
        self.chain.set_immediate(&self.scratch);
        self.chain.reset();
    }

    fn tail_frames(&self) -> usize {
        decay_frames(self.chain.target(), TAIL_DECAY_DB)
    }

    fn as_any_mut(&mut self) -> Option<&mut dyn std::any::Any> {
        Some(self)
    }

    fn set_parameter(&mut self, name: &str, value: f64) -> Result<(), CoreError> {
        match name {
            "freq_hz" => {
                check_freq("freq_hz", value)?;
                self.options.freq_hz = value;
                self.log_freq.set_target(value.log2());
            }
            "q" => {
                check_q(value)?;
                self.options.q = value;
                self.log_q.set_target(value.ln());
            }
            "slope_db_oct" => {
                check_slope(value)?;
                if value != self.options.slope_db_oct {
                    self.options.slope_db_oct = value;
                    // Structure changes: glide the coefficients to the new
                    // design at the target frequency and q.
                    self.log_freq.set_immediate(self.options.freq_hz.log2());
                    self.log_q.set_immediate(self.options.q.ln());
                    self.design_now();
                    let frames = self.log_freq.ramp_frames();
                    self.chain.glide_to(&self.scratch, frames);
                }
            }
            _ => {
                return Err(CoreError::UnknownParameter {
                    name: name.to_string(),
                    valid: Self::PARAMETERS.to_string(),
                });
            }
        }
        Ok(())
    }
}
