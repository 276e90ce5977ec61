//! Oversampling by 2, 4 or 8 with cascaded polyphase half-band FIR stages,
//! for non-linear processing that would otherwise alias (saturation; a
//! true-peak limiter can reuse it).
//!
//! * Each stage doubles (or halves) the rate with a linear-phase half-band
//!   low-pass: every other tap is exactly zero and the centre tap is ½, so
//!   the polyphase form needs about N/2 multiplies per output pair.
//! * Each stage is designed for its own rate `R`: passband to
//!   [`PASSBAND_HZ`] (or 0.45·fs at low rates), stopband from `R/2 − that`,
//!   [`STOPBAND_DB`] of attenuation — enough that neither the images of the
//!   upsampler nor the harmonics the non-linearity puts above fs/2 come back
//!   above −120 dB. The first stage carries the steep transition (about
//!   170 taps at 44.1 kHz); the later ones, with their wide transitions,
//!   need 20 to 30. Kaiser-window design, see `kaiser_fir`.
//! * With [`HighRateStage::Adaa1`] the first decimation stage (at the
//!   highest rate) is an even-length linear-phase low-pass convolved with a
//!   5-tap equaliser: the even length adds the half-sample delay that makes
//!   first-order antiderivative anti-aliasing (half a sample late) land on
//!   the integer grid again, and the equaliser undoes its `cos(ω/2)` droop
//!   (Taylor match of `1/cos(ω/2)` to fourth order).
//! * A short delay at the highest rate rounds the total delay up to a whole
//!   number of base-rate frames, so [`Oversampler::latency_frames`] is exact
//!   and constant: an impulse comes out exactly that many frames later.

use mixmaster_core::CoreError;

use crate::kaiser_fir;

/// Upper edge of the flat passband in Hz (clamped to 0.45·fs).
pub const PASSBAND_HZ: f64 = 20_000.0;

/// Stopband attenuation of every stage in dB.
pub const STOPBAND_DB: f64 = 120.0;

/// Oversampling factors supported.
pub const FACTORS: [usize; 3] = [2, 4, 8];

/// Largest oversampling factor.
pub const MAX_FACTOR: usize = 8;

/// What runs at the high rate between [`Oversampler::upsample`] and
/// [`Oversampler::downsample`], as far as the filters must know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HighRateStage {
    /// Memoryless processing: no delay, no droop.
    #[default]
    Plain,
    /// First-order antiderivative anti-aliasing: half a sample of delay and
    /// the `cos(ω/2)` response of a two-point average in its linear region.
    Adaa1,
}

/// Fourth-order Taylor match of `1/cos(ω/2)` by a symmetric 5-tap FIR
/// `a2·z² + a1·z + a0 + a1·z⁻¹ + a2·z⁻²`: `a0 + 2a1 + 2a2 = 1`,
/// `−(a1 + 4a2) = 1/8`, `(a1 + 16a2)/12 = 5/384`.
const ADAA1_EQUALISER: [f64; 5] = [
    3.0 / 128.0,
    -7.0 / 32.0,
    89.0 / 64.0,
    -7.0 / 32.0,
    3.0 / 128.0,
];

/// A history of the last `len` samples, stored twice so that the window
/// `buf[pos..pos + len]` is contiguous, newest first.
#[derive(Debug, Clone)]
struct History {
    buf: Vec<f64>,
    len: usize,
    pos: usize,
}

impl History {
    fn new(len: usize) -> Self {
        Self {
            buf: vec![0.0; 2 * len.max(1)],
            len: len.max(1),
            pos: 0,
        }
    }

    #[inline]
    fn push(&mut self, x: f64) {
        self.pos = if self.pos == 0 {
            self.len - 1
        } else {
            self.pos - 1
        };
        self.buf[self.pos] = x;
        self.buf[self.pos + self.len] = x;
    }

    /// `window()[j]` is the sample pushed `j` pushes ago.
    #[inline]
    fn window(&self) -> &[f64] {
        &self.buf[self.pos..self.pos + self.len]
    }

    fn reset(&mut self) {
        self.buf.fill(0.0);
        self.pos = 0;
    }
}

/// Magnitude of the FIR `taps` at `freq` (fraction of the sample rate).
fn magnitude(taps: &[f64], freq: f64) -> f64 {
    let w = 2.0 * std::f64::consts::PI * freq;
    let (mut re, mut im) = (0.0, 0.0);
    for (n, h) in taps.iter().enumerate() {
        let (s, c) = (w * n as f64).sin_cos();
        re += h * c;
        im -= h * s;
    }
    re.hypot(im)
}

/// Dot product of sparse taps `(delay, coefficient)` with a window.
#[inline]
fn dot(taps: &[(usize, f64)], window: &[f64]) -> f64 {
    taps.iter().map(|&(j, c)| c * window[j]).sum()
}

/// A linear-phase low-pass for one stage at its (high) rate.
#[derive(Debug, Clone)]
struct StageFilter {
    taps: Vec<f64>,
}

impl StageFilter {
    /// Half-band with odd length `2c + 1`, `c` odd (so the end taps are not
    /// zero), transition `transition` (fraction of the stage rate). Kaiser's
    /// length formula is optimistic for short filters, so the length grows
    /// until the measured stopband meets [`STOPBAND_DB`].
    fn halfband(transition: f64) -> Self {
        let needed = kaiser_fir::min_taps(STOPBAND_DB, transition);
        let mut c = needed.div_ceil(2);
        if c.is_multiple_of(2) {
            c += 1;
        }
        loop {
            let f = Self::halfband_of_centre(c);
            if f.meets_stopband(transition) {
                return f;
            }
            c += 2;
        }
    }

    fn halfband_of_centre(c: usize) -> Self {
        let n = 2 * c + 1;
        let window = kaiser_fir::window(n, kaiser_fir::beta(STOPBAND_DB));
        let mut taps = vec![0.0; n];
        kaiser_fir::lowpass_into(&mut taps, 0.25, &window);
        // Exact half-band: zeros at even offsets from the centre, ½ at the
        // centre, the odd taps scaled to sum to ½ (DC gain exactly 1).
        for (k, h) in taps.iter_mut().enumerate() {
            if k != c && (k as isize - c as isize) % 2 == 0 {
                *h = 0.0;
            }
        }
        taps[c] = 0.0;
        let odd: f64 = taps.iter().sum();
        taps.iter_mut().for_each(|h| *h *= 0.5 / odd);
        taps[c] = 0.5;
        Self { taps }
    }

    /// Even-length low-pass (half-sample group delay) convolved with the
    /// ADAA equaliser, lengthened like [`StageFilter::halfband`].
    fn even_with_adaa_equaliser(transition: f64) -> Self {
        let mut n = kaiser_fir::min_taps(STOPBAND_DB, transition).next_multiple_of(2);
        loop {
            let window = kaiser_fir::window(n, kaiser_fir::beta(STOPBAND_DB));
            let mut base = vec![0.0; n];
            kaiser_fir::lowpass_into(&mut base, 0.25, &window);
            let mut taps = vec![0.0; n + ADAA1_EQUALISER.len() - 1];
            for (i, b) in base.iter().enumerate() {
                for (j, e) in ADAA1_EQUALISER.iter().enumerate() {
                    taps[i + j] += b * e;
                }
            }
            let f = Self { taps };
            if f.meets_stopband(transition) {
                return f;
            }
            n += 2;
        }
    }

    /// Whether the magnitude stays below −[`STOPBAND_DB`] from
    /// `0.25 + transition/2` to 0.5 (fractions of the stage rate).
    fn meets_stopband(&self, transition: f64) -> bool {
        let start = 0.25 + transition / 2.0;
        let limit = 10f64.powf(-STOPBAND_DB / 20.0);
        let points = 4 * self.taps.len();
        (0..=points).all(|i| {
            let f = start + (0.5 - start) * i as f64 / points as f64;
            magnitude(&self.taps, f) <= limit
        })
    }

    /// Group delay in samples at the stage rate, doubled (an integer even
    /// for even lengths).
    fn delay_x2(&self) -> usize {
        self.taps.len() - 1
    }

    fn nonzero(&self, scale: f64, phase: Option<usize>) -> Vec<(usize, f64)> {
        self.taps
            .iter()
            .enumerate()
            .filter(|&(k, &h)| h != 0.0 && phase.is_none_or(|p| k % 2 == p))
            .map(|(k, &h)| (phase.map_or(k, |_| k / 2), h * scale))
            .collect()
    }
}

/// Upsampler by 2: zero-stuffing followed by `2h`, in polyphase form.
#[derive(Debug, Clone)]
struct Interpolator {
    /// Taps of the even and odd output phases: `(input delay, 2·h)`.
    phases: [Vec<(usize, f64)>; 2],
    history: History,
}

impl Interpolator {
    fn new(filter: &StageFilter) -> Self {
        let phases = [filter.nonzero(2.0, Some(0)), filter.nonzero(2.0, Some(1))];
        Self {
            phases,
            history: History::new(filter.taps.len().div_ceil(2)),
        }
    }

    /// One input sample in, two output samples (earlier first) out.
    #[inline]
    fn push(&mut self, x: f64) -> [f64; 2] {
        self.history.push(x);
        let w = self.history.window();
        [dot(&self.phases[0], w), dot(&self.phases[1], w)]
    }
}

/// Downsampler by 2: `h` evaluated at every other input sample.
#[derive(Debug, Clone)]
struct Decimator {
    taps: Vec<(usize, f64)>,
    history: History,
}

impl Decimator {
    fn new(filter: &StageFilter) -> Self {
        Self {
            taps: filter.nonzero(1.0, None),
            history: History::new(filter.taps.len()),
        }
    }

    /// Two input samples (earlier first) in, one output sample out: the
    /// filter output at the later input.
    #[inline]
    fn push(&mut self, a: f64, b: f64) -> f64 {
        self.history.push(a);
        self.history.push(b);
        dot(&self.taps, self.history.window())
    }
}

/// Oversampler of one channel: `upsample` one frame to `factor` samples,
/// process them, `downsample` them back to one frame.
#[derive(Debug, Clone)]
pub struct Oversampler {
    factor: usize,
    /// Stage 1 (base rate → 2·fs) first.
    up: Vec<Interpolator>,
    /// Highest-rate stage first.
    down: Vec<Decimator>,
    pad: History,
    pad_frames: usize,
    latency_frames: usize,
}

impl Oversampler {
    /// An oversampler by `factor` (2, 4 or 8) for `sample_rate_hz`, whose
    /// filters expect `stage` between up- and downsampling. Allocates.
    pub fn new(
        factor: usize,
        sample_rate_hz: u32,
        stage: HighRateStage,
    ) -> Result<Self, CoreError> {
        if !FACTORS.contains(&factor) {
            return Err(CoreError::OutOfRange {
                name: "oversampling",
                value: factor as f64,
                range: "2, 4 or 8",
            });
        }
        if sample_rate_hz < 8000 {
            return Err(CoreError::OutOfRange {
                name: "sample_rate_hz",
                value: f64::from(sample_rate_hz),
                range: "8000 ..= 768000",
            });
        }
        let fs = f64::from(sample_rate_hz);
        let pass = PASSBAND_HZ.min(0.45 * fs);
        let stages = factor.trailing_zeros() as usize;
        // Stage k runs at 2^k·fs; its transition spans pass .. R/2 − pass.
        let filters: Vec<StageFilter> = (1..=stages)
            .map(|k| {
                let rate = fs * f64::from(1u32 << k);
                StageFilter::halfband((rate / 2.0 - 2.0 * pass) / rate)
            })
            .collect();
        let top_rate = fs * factor as f64;
        let top_down = match stage {
            HighRateStage::Plain => filters[stages - 1].clone(),
            HighRateStage::Adaa1 => {
                StageFilter::even_with_adaa_equaliser((top_rate / 2.0 - 2.0 * pass) / top_rate)
            }
        };

        // Total delay in top-rate samples, doubled to stay integer.
        let mut delay_x2 = 0;
        for (k, f) in filters.iter().enumerate() {
            let scale = factor >> (k + 1); // top-rate samples per stage sample
            let down = if k + 1 == stages { &top_down } else { f };
            delay_x2 += (f.delay_x2() + down.delay_x2()) * scale;
        }
        if stage == HighRateStage::Adaa1 {
            delay_x2 += 1;
        }
        debug_assert_eq!(delay_x2 % 2, 0);
        let delay = delay_x2 / 2;
        // The output frame n is the chain's sample at top index F·n + F − 1,
        // so the delay must be ≡ F − 1 (mod F) for a whole-frame latency.
        let pad_frames = (factor - 1 + factor - delay % factor) % factor;
        let latency_frames = (delay + pad_frames + 1 - factor) / factor;

        let up = filters.iter().map(Interpolator::new).collect();
        let mut down: Vec<Decimator> = filters.iter().rev().map(Decimator::new).collect();
        down[0] = Decimator::new(&top_down);
        Ok(Self {
            factor,
            up,
            down,
            pad: History::new(pad_frames + 1),
            pad_frames,
            latency_frames,
        })
    }

    /// The oversampling factor.
    pub fn factor(&self) -> usize {
        self.factor
    }

    /// Delay from input to output in base-rate frames (exact).
    pub fn latency_frames(&self) -> usize {
        self.latency_frames
    }

    /// Upsamples one frame into `out[..factor]`, oldest first.
    #[inline]
    pub fn upsample(&mut self, x: f64, out: &mut [f64]) {
        let mut n = 1;
        out[0] = x;
        let mut tmp = [0.0; MAX_FACTOR];
        for stage in &mut self.up {
            tmp[..n].copy_from_slice(&out[..n]);
            for (i, &v) in tmp[..n].iter().enumerate() {
                let [a, b] = stage.push(v);
                out[2 * i] = a;
                out[2 * i + 1] = b;
            }
            n *= 2;
        }
    }

    /// Downsamples `input[..factor]` (oldest first) to one frame.
    #[inline]
    pub fn downsample(&mut self, input: &[f64]) -> f64 {
        let mut buf = [0.0; MAX_FACTOR];
        let mut n = self.factor;
        for (b, &x) in buf.iter_mut().zip(&input[..n]) {
            self.pad.push(x);
            *b = self.pad.window()[self.pad_frames];
        }
        for stage in &mut self.down {
            for i in 0..n / 2 {
                buf[i] = stage.push(buf[2 * i], buf[2 * i + 1]);
            }
            n /= 2;
        }
        buf[0]
    }

    /// Clears every filter's history.
    pub fn reset(&mut self) {
        for s in &mut self.up {
            s.history.reset();
        }
        for s in &mut self.down {
            s.history.reset();
        }
        self.pad.reset();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db(x: f64) -> f64 {
        20.0 * x.log10()
    }

    #[test]
    fn halfband_stages_are_exact_halfbands_with_their_attenuation() {
        for fs in [44_100.0, 48_000.0, 96_000.0] {
            let pass = PASSBAND_HZ.min(0.45 * fs);
            for k in 1..=3 {
                let rate = fs * f64::from(1u32 << k);
                let f = StageFilter::halfband((rate / 2.0 - 2.0 * pass) / rate);
                let c = f.taps.len() / 2;
                assert_eq!(f.taps[c], 0.5);
                assert!((f.taps.iter().sum::<f64>() - 1.0).abs() < 1e-15);
                assert!(f.taps[0] != 0.0);
                let stop = (0..400)
                    .map(|i| (rate / 2.0 - pass) + pass * f64::from(i) / 399.0)
                    .map(|hz| magnitude(&f.taps, hz / rate))
                    .fold(0.0, f64::max);
                assert!(
                    db(stop) < -STOPBAND_DB + 1.0,
                    "{fs} stage {k}: {}",
                    db(stop)
                );
                let ripple = (0..400)
                    .map(|i| pass * f64::from(i) / 399.0)
                    .map(|hz| (magnitude(&f.taps, hz / rate) - 1.0).abs())
                    .fold(0.0, f64::max);
                assert!(ripple < 1e-5, "{fs} stage {k}: ripple {ripple}");
            }
        }
    }

    #[test]
    fn linear_round_trip_is_a_pure_delay_in_the_passband() {
        for stage in [HighRateStage::Plain, HighRateStage::Adaa1] {
            for factor in FACTORS {
                let fs = 48_000;
                let mut os = Oversampler::new(factor, fs, stage).unwrap();
                let l = os.latency_frames();
                let f = 1000.0 / f64::from(fs);
                let x: Vec<f64> = (0..4000)
                    .map(|n| (2.0 * std::f64::consts::PI * f * n as f64).sin())
                    .collect();
                let mut prev = 0.0;
                let mut high = [0.0; MAX_FACTOR];
                let y: Vec<f64> = x
                    .iter()
                    .map(|&v| {
                        os.upsample(v, &mut high);
                        if stage == HighRateStage::Adaa1 {
                            // ADAA1 in its linear region: the two-point average.
                            for h in &mut high[..factor] {
                                (*h, prev) = (0.5 * (*h + prev), *h);
                            }
                        }
                        os.downsample(&high[..factor])
                    })
                    .collect();
                let err = (2000..4000)
                    .map(|n| (y[n] - x[n - l]).abs())
                    .fold(0.0, f64::max);
                let tol = if stage == HighRateStage::Adaa1 && factor == 2 {
                    1e-4
                } else {
                    1e-5
                };
                assert!(err < tol, "{stage:?} ×{factor}: latency {l}, error {err}");
            }
        }
    }
}
