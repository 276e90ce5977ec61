//! Match EQ: a linear-phase FIR equaliser drawn from an arbitrary magnitude
//! curve, one curve for mid and one for side, plus a side gain (width).
//! Reference matching (`mixmaster_engine::reference`) builds it from the
//! difference between a programme's and a reference's long-term spectra.
//!
//! # Signal path
//!
//! Stereo: `M = (L+R)/2`, `S = (L−R)/2` (the M/S matrix of
//! `MASTERING_NOTES.md` §3.4) → `M' = h_M * M`, `S' = g·(h_S * S)` →
//! `L = M' + S'`, `R = M' − S'`. The side gain `g = 10^(side_gain_db/20)` is
//! folded into the side FIR. Mono (one channel): the mid FIR only. Both FIRs
//! run in one [`FftFir`] (uniformly partitioned FFT convolution, every
//! partition in the frequency domain, bit-identical for any block size), so
//! the processor is block-size invariant and adds exactly
//! [`Processor::latency_frames`] = `(N−1)/2 + B` frames of delay: the FIR's
//! centre plus the FFT partition `B` (8192 frames for the default length).
//!
//! # FIR design (frequency sampling and a window)
//!
//! `MASTERING_NOTES.md` §3.3: the curve `G(f)` (dB) is sampled as a real,
//! zero-phase magnitude `10^(G/20)` on `K = 4·(N+1)` points (rounded up to a
//! power of two) from DC to `fs`, inverse-FFT'd to a symmetric impulse, cut
//! to `N` taps centred on `n = (N−1)/2` and multiplied by a Hann window of
//! length `N` whose centre is 1 (A. V. Oppenheim, R. W. Schafer,
//! *Discrete-Time Signal Processing*, 3rd ed., §7.5–7.6, the window method).
//! Sampling 4× denser than the FIR length keeps time aliasing of the
//! designed impulse negligible. The result is the curve convolved with the
//! window's spectrum: the Hann main lobe is `±2·fs/N` wide, so detail finer
//! than that is smoothed. The default length ([`default_fir_taps`]) is the
//! power of two nearest `0.34·fs`, minus one: 16383 taps at 44.1 and
//! 48 kHz (main lobe ±5.9 Hz at 48 kHz, enough to follow a 1/3-octave
//! smoothed curve down to 30 Hz), 32767 at 96 kHz; latency 8191 frames
//! (171 ms at 48 kHz) at the default, plus the partition.
//!
//! A curve is given as points (frequency, dB), interpolated linearly in dB
//! over log-frequency and held flat below the first and above the last
//! point ([`GainCurve`]).

use std::fmt;

use mixmaster_core::units::db_to_amplitude;
use mixmaster_core::{CoreError, Processor};
use realfft::RealFftPlanner;
use realfft::num_complex::Complex;

use crate::fft_fir::{FftFir, default_partition_frames};

/// Largest gain a curve point or the side gain may have, in dB.
pub const MAX_GAIN_DB: f64 = 24.0;
/// Shortest FIR accepted.
pub const MIN_FIR_TAPS: usize = 63;
/// Longest FIR accepted (2¹⁸ − 1, 1.4 s at 192 kHz).
pub const MAX_FIR_TAPS: usize = (1 << 18) - 1;

/// A magnitude curve in dB over frequency: points interpolated linearly in
/// dB over log-frequency, held flat beyond the first and the last point.
#[derive(Debug, Clone, PartialEq)]
pub struct GainCurve {
    freq_hz: Vec<f64>,
    gain_db: Vec<f64>,
}

impl GainCurve {
    /// A curve from points. Frequencies must be finite, positive and
    /// strictly increasing; gains finite within ±[`MAX_GAIN_DB`]; at least
    /// one point, as many gains as frequencies.
    pub fn new(freq_hz: Vec<f64>, gain_db: Vec<f64>) -> Result<Self, CoreError> {
        if freq_hz.is_empty() || freq_hz.len() != gain_db.len() {
            return Err(CoreError::OutOfRange {
                name: "gain_curve points",
                value: gain_db.len() as f64,
                range: "at least one point, as many gains as frequencies",
            });
        }
        let mut previous = 0.0;
        for &f in &freq_hz {
            if !(f.is_finite() && f > previous) {
                return Err(CoreError::OutOfRange {
                    name: "gain_curve freq_hz",
                    value: f,
                    range: "finite, > 0 and strictly increasing",
                });
            }
            previous = f;
        }
        if let Some(&g) = gain_db
            .iter()
            .find(|g| !(g.is_finite() && g.abs() <= MAX_GAIN_DB))
        {
            return Err(CoreError::OutOfRange {
                name: "gain_curve gain_db",
                value: g,
                range: "-24 ..= 24 dB",
            });
        }
        Ok(Self { freq_hz, gain_db })
    }

    /// 0 dB everywhere.
    pub fn flat() -> Self {
        Self {
            freq_hz: vec![1000.0],
            gain_db: vec![0.0],
        }
    }

    /// The frequencies of the points.
    pub fn freq_hz(&self) -> &[f64] {
        &self.freq_hz
    }

    /// The gains of the points.
    pub fn gain_db(&self) -> &[f64] {
        &self.gain_db
    }

    /// True when every point is 0 dB.
    pub fn is_flat(&self) -> bool {
        self.gain_db.iter().all(|&g| g == 0.0)
    }

    /// The gain at `freq_hz` (any value; ≤ 0 and NaN read the first point).
    pub fn gain_db_at(&self, freq_hz: f64) -> f64 {
        let f = &self.freq_hz;
        let g = &self.gain_db;
        let last = f.len() - 1;
        if freq_hz.is_nan() || freq_hz <= f[0] {
            return g[0];
        }
        if freq_hz >= f[last] {
            return g[last];
        }
        // f[i] < freq_hz < f[i + 1]
        let i = f.partition_point(|&x| x <= freq_hz) - 1;
        let t = (freq_hz / f[i]).ln() / (f[i + 1] / f[i]).ln();
        g[i] + t * (g[i + 1] - g[i])
    }
}

/// The default FIR length at a sample rate: the power of two nearest
/// `0.34·fs`, minus one (odd, so the delay `(N−1)/2` is a whole frame):
/// 16383 at 44.1 and 48 kHz, 32767 at 88.2 and 96 kHz, 65535 at 192 kHz.
pub fn default_fir_taps(sample_rate_hz: u32) -> usize {
    let exp = (0.34 * f64::from(sample_rate_hz))
        .log2()
        .round()
        .clamp(6.0, 18.0) as u32;
    (1usize << exp) - 1
}

/// A linear-phase FIR of `taps` (odd) coefficients whose magnitude follows
/// `curve` at `sample_rate_hz`, by frequency sampling and a Hann window (see
/// the module docs). The coefficients are symmetric about `(taps−1)/2`.
pub fn design_linear_phase_fir(curve: &GainCurve, sample_rate_hz: u32, taps: usize) -> Vec<f64> {
    let taps = taps.max(1) | 1;
    let centre = (taps - 1) / 2;
    let k_points = (4 * (taps + 1)).next_power_of_two();
    let fs = f64::from(sample_rate_hz);
    let inverse = RealFftPlanner::<f64>::new().plan_fft_inverse(k_points);
    let mut spectrum: Vec<Complex<f64>> = (0..=k_points / 2)
        .map(|k| {
            let f = k as f64 * fs / k_points as f64;
            Complex::new(db_to_amplitude(curve.gain_db_at(f)), 0.0)
        })
        .collect();
    let mut impulse = inverse.make_output_vec();
    // Lengths come from the plan, and DC and Nyquist are real: cannot fail.
    let result = inverse.process(&mut spectrum, &mut impulse);
    debug_assert!(result.is_ok());
    let scale = 1.0 / k_points as f64;
    let mut h = vec![0.0; taps];
    for lag in 0..=centre {
        // The zero-phase impulse is even; averaging both sides makes the
        // FIR exactly symmetric despite FFT rounding.
        let value = 0.5 * (impulse[lag] + impulse[(k_points - lag) % k_points]);
        let phase = std::f64::consts::TAU * (centre + lag + 1) as f64 / (taps + 1) as f64;
        let window = 0.5 - 0.5 * phase.cos();
        h[centre + lag] = value * scale * window;
        h[centre - lag] = h[centre + lag];
    }
    h
}

/// Settings of [`MatchEq`].
#[derive(Debug, Clone, PartialEq)]
pub struct MatchEqOptions {
    /// Magnitude of the mid (or mono) path.
    pub mid: GainCurve,
    /// Magnitude of the side path (before `side_gain_db`).
    pub side: GainCurve,
    /// Gain of the side path, −24 ..= 24 dB (width: −∞ would be mono).
    pub side_gain_db: f64,
    /// FIR length, odd, 63 ..= 262143; `None`: [`default_fir_taps`] at the
    /// processing rate.
    pub fir_taps: Option<usize>,
}

impl Default for MatchEqOptions {
    /// Flat curves, no side gain: a pure delay of the default latency.
    fn default() -> Self {
        Self {
            mid: GainCurve::flat(),
            side: GainCurve::flat(),
            side_gain_db: 0.0,
            fir_taps: None,
        }
    }
}

impl MatchEqOptions {
    /// Checks the side gain and the FIR length (curves are checked by
    /// [`GainCurve::new`]); the error names the field and its range.
    pub fn validate(&self) -> Result<(), CoreError> {
        if !(self.side_gain_db.is_finite() && self.side_gain_db.abs() <= MAX_GAIN_DB) {
            return Err(CoreError::OutOfRange {
                name: "side_gain_db",
                value: self.side_gain_db,
                range: "-24 ..= 24 dB",
            });
        }
        if let Some(n) = self.fir_taps
            && (n % 2 == 0 || !(MIN_FIR_TAPS..=MAX_FIR_TAPS).contains(&n))
        {
            return Err(CoreError::OutOfRange {
                name: "fir_taps",
                value: n as f64,
                range: "an odd number in 63 ..= 262143",
            });
        }
        Ok(())
    }
}

/// The match EQ processor; see the module docs.
#[derive(Clone)]
pub struct MatchEq {
    options: MatchEqOptions,
    sample_rate_hz: u32,
    taps: usize,
    mid_fir: Vec<f64>,
    /// Side FIR with the side gain folded in.
    side_fir: Vec<f64>,
    convolution: Option<FftFir>,
    channels: usize,
    mid: Vec<f64>,
    side: Vec<f64>,
}

impl fmt::Debug for MatchEq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MatchEq")
            .field("sample_rate_hz", &self.sample_rate_hz)
            .field("taps", &self.taps)
            .field("side_gain_db", &self.options.side_gain_db)
            .field("channels", &self.channels)
            .finish_non_exhaustive()
    }
}

impl MatchEq {
    /// A match EQ designed for `sample_rate_hz` (8000 ..= 768000). Preparing
    /// at another rate designs the FIRs again for that rate.
    pub fn new(options: MatchEqOptions, sample_rate_hz: u32) -> Result<Self, CoreError> {
        options.validate()?;
        check_rate(sample_rate_hz)?;
        let mut eq = Self {
            options,
            sample_rate_hz: 0,
            taps: 0,
            mid_fir: Vec::new(),
            side_fir: Vec::new(),
            convolution: None,
            channels: 0,
            mid: Vec::new(),
            side: Vec::new(),
        };
        eq.design(sample_rate_hz);
        Ok(eq)
    }

    fn design(&mut self, sample_rate_hz: u32) {
        let taps = self
            .options
            .fir_taps
            .unwrap_or_else(|| default_fir_taps(sample_rate_hz));
        self.sample_rate_hz = sample_rate_hz;
        self.taps = taps;
        self.mid_fir = design_linear_phase_fir(&self.options.mid, sample_rate_hz, taps);
        let g = db_to_amplitude(self.options.side_gain_db);
        self.side_fir = design_linear_phase_fir(&self.options.side, sample_rate_hz, taps)
            .into_iter()
            .map(|h| h * g)
            .collect();
    }

    /// The settings.
    pub fn options(&self) -> &MatchEqOptions {
        &self.options
    }

    /// The rate the FIRs are designed for.
    pub fn sample_rate_hz(&self) -> u32 {
        self.sample_rate_hz
    }

    /// FIR length `N`.
    pub fn fir_taps(&self) -> usize {
        self.taps
    }

    /// The mid FIR.
    pub fn mid_fir(&self) -> &[f64] {
        &self.mid_fir
    }

    /// The side FIR, side gain included.
    pub fn side_fir(&self) -> &[f64] {
        &self.side_fir
    }

    /// Runs `frames ≤ max_block` frames of the prepared block.
    fn process_chunk(&mut self, block: &mut [&mut [f64]], start: usize, end: usize) {
        let Some(conv) = self.convolution.as_mut() else {
            return;
        };
        let n = end - start;
        if self.channels == 1 {
            conv.process(&mut [&mut block[0][start..end]]);
            return;
        }
        let (mid, side) = (&mut self.mid[..n], &mut self.side[..n]);
        for (i, (m, s)) in mid.iter_mut().zip(side.iter_mut()).enumerate() {
            let (l, r) = (block[0][start + i], block[1][start + i]);
            *m = 0.5 * (l + r);
            *s = 0.5 * (l - r);
        }
        conv.process(&mut [&mut mid[..], &mut side[..]]);
        for (i, (m, s)) in mid.iter().zip(side.iter()).enumerate() {
            block[0][start + i] = m + s;
            block[1][start + i] = m - s;
        }
    }
}

fn check_rate(sample_rate_hz: u32) -> Result<(), CoreError> {
    if (8000..=768_000).contains(&sample_rate_hz) {
        Ok(())
    } else {
        Err(CoreError::OutOfRange {
            name: "sample_rate_hz",
            value: f64::from(sample_rate_hz),
            range: "8000 ..= 768000",
        })
    }
}

impl Processor for MatchEq {
    /// Designs the FIRs again when the rate differs from the designed one;
    /// accepts 1 (mid FIR only) or 2 channels.
    fn prepare(
        &mut self,
        sample_rate_hz: u32,
        max_block_frames: usize,
        channels: usize,
    ) -> Result<(), CoreError> {
        check_rate(sample_rate_hz)?;
        if !(1..=2).contains(&channels) {
            return Err(CoreError::OutOfRange {
                name: "channels",
                value: channels as f64,
                range: "1 (mono) or 2 (stereo)",
            });
        }
        if sample_rate_hz != self.sample_rate_hz {
            self.design(sample_rate_hz);
        }
        let conv = if channels == 1 {
            FftFir::new(&[&self.mid_fir], 1, None)?
        } else {
            FftFir::new(&[&self.mid_fir, &self.side_fir], 2, None)?
        };
        let block = max_block_frames.max(1);
        self.convolution = Some(conv);
        self.channels = channels;
        let scratch = if channels == 2 { block } else { 0 };
        self.mid = vec![0.0; scratch];
        self.side = vec![0.0; scratch];
        Ok(())
    }

    fn process(&mut self, block: &mut [&mut [f64]]) {
        if self.channels == 0 || block.len() < self.channels {
            return;
        }
        let frames = block[0].len();
        let chunk = if self.channels == 2 {
            self.mid.len().max(1)
        } else {
            frames.max(1)
        };
        let mut start = 0;
        while start < frames {
            let end = (start + chunk).min(frames);
            self.process_chunk(block, start, end);
            start = end;
        }
    }

    fn reset(&mut self) {
        if let Some(conv) = self.convolution.as_mut() {
            conv.reset();
        }
    }

    /// `(N−1)/2 + B`: the centre of the linear-phase FIR plus the FFT
    /// partition.
    fn latency_frames(&self) -> usize {
        (self.taps - 1) / 2 + default_partition_frames(self.taps)
    }

    /// `N − 1 + B`: the whole impulse response follows the last input frame.
    fn tail_frames(&self) -> usize {
        self.taps - 1 + default_partition_frames(self.taps)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{assert_block_size_invariant, run_in_blocks};

    /// Magnitude in dB of an FIR at `freq_hz` (direct DTFT, centred so the
    /// linear phase drops out).
    fn fir_gain_db(h: &[f64], freq_hz: f64, fs: f64) -> f64 {
        let centre = (h.len() - 1) / 2;
        let w = std::f64::consts::TAU * freq_hz / fs;
        // Symmetric: H(e^jw)·e^{jwc} = h[c] + 2·Σ h[c+k]·cos(wk), real.
        let mut sum = h[centre];
        for k in 1..=centre {
            sum += 2.0 * h[centre + k] * (w * k as f64).cos();
        }
        20.0 * sum.abs().log10()
    }

    /// A smooth curve of the kind reference matching produces: analog bell
    /// and shelf responses summed in dB.
    fn smooth_curve() -> GainCurve {
        let freqs: Vec<f64> = (0..=480)
            .map(|i| 20.0 * 2f64.powf(i as f64 / 48.0))
            .collect();
        let gains = freqs
            .iter()
            .map(|&f| {
                let shelf = |fc: f64, g: f64, order: f64| g / (1.0 + (fc / f).powf(order));
                let bell = |fc: f64, g: f64, oct: f64| {
                    let x = (f / fc).log2() / oct;
                    g * (-x * x).exp()
                };
                shelf(12_000.0, -3.0, 2.0)
                    + (4.0 - shelf(150.0, 4.0, 2.0))
                    + bell(60.0, -2.0, 0.6)
                    + bell(2500.0, 2.5, 0.8)
            })
            .collect();
        GainCurve::new(freqs, gains).expect("valid curve")
    }

    #[test]
    fn curve_interpolates_in_log_frequency_and_holds_its_ends() {
        let c = GainCurve::new(vec![100.0, 400.0], vec![0.0, 6.0]).expect("valid");
        assert_eq!(c.gain_db_at(10.0), 0.0);
        assert_eq!(c.gain_db_at(0.0), 0.0);
        assert_eq!(c.gain_db_at(1e5), 6.0);
        assert!((c.gain_db_at(200.0) - 3.0).abs() < 1e-12);
        assert!(GainCurve::new(vec![100.0, 100.0], vec![0.0, 0.0]).is_err());
        assert!(GainCurve::new(vec![100.0], vec![30.0]).is_err());
        assert!(GainCurve::new(vec![], vec![]).is_err());
        assert!(GainCurve::flat().is_flat());
    }

    #[test]
    fn default_lengths() {
        assert_eq!(default_fir_taps(44_100), 16_383);
        assert_eq!(default_fir_taps(48_000), 16_383);
        assert_eq!(default_fir_taps(96_000), 32_767);
        assert_eq!(default_fir_taps(192_000), 65_535);
    }

    #[test]
    fn fir_magnitude_follows_the_requested_curve() {
        let curve = smooth_curve();
        for fs in [44_100u32, 48_000, 96_000] {
            let taps = default_fir_taps(fs);
            let h = design_linear_phase_fir(&curve, fs, taps);
            assert_eq!(h.len(), taps);
            for k in 0..taps / 2 {
                assert_eq!(h[k], h[taps - 1 - k], "not symmetric at {k}");
            }
            let mut worst = (0.0f64, 0.0);
            let mut f = 20.0;
            while f < 0.45 * f64::from(fs) {
                let err = fir_gain_db(&h, f, f64::from(fs)) - curve.gain_db_at(f);
                if err.abs() > worst.0.abs() {
                    worst = (err, f);
                }
                f *= 2f64.powf(1.0 / 24.0);
            }
            println!(
                "{fs} Hz, {taps} taps: worst error {:+.4} dB at {:.1} Hz",
                worst.0, worst.1
            );
            assert!(worst.0.abs() < 0.03, "{fs} Hz: {worst:?}");
        }
    }

    #[test]
    fn a_flat_curve_is_a_delay() {
        let fs = 48_000;
        let mut eq = MatchEq::new(MatchEqOptions::default(), fs).expect("valid");
        let d = eq.latency_frames();
        assert_eq!(d, 8191 + 8192);
        let mut rng = crate::rng::SplitMix64::new(3);
        let n = 40_000;
        let l: Vec<f64> = (0..n).map(|_| rng.next_f64() - 0.5).collect();
        let r: Vec<f64> = (0..n).map(|_| rng.next_f64() - 0.5).collect();
        let out = run_in_blocks(&mut eq, fs, &[l.clone(), r.clone()], 1000);
        let mut err = 0.0f64;
        for i in d..n {
            err = err.max((out[0][i] - l[i - d]).abs());
            err = err.max((out[1][i] - r[i - d]).abs());
        }
        for (a, b) in out[0][..d].iter().zip(&out[1][..d]) {
            err = err.max(a.abs()).max(b.abs());
        }
        assert!(20.0 * err.log10() < -140.0, "{err:e}");
    }

    #[test]
    fn side_gain_and_curves_act_on_mid_and_side() {
        let fs = 48_000;
        let options = MatchEqOptions {
            mid: GainCurve::new(vec![1000.0], vec![-6.0]).expect("valid"),
            side: GainCurve::new(vec![1000.0], vec![3.0]).expect("valid"),
            side_gain_db: 2.0,
            fir_taps: Some(255),
        };
        let mut eq = MatchEq::new(options, fs).expect("valid");
        let d = eq.latency_frames();
        assert_eq!(d, 127 + 128);
        // An impulse on L only: M = S = 0.5.
        let mut l = vec![0.0; 600];
        l[0] = 1.0;
        let out = run_in_blocks(&mut eq, fs, &[l, vec![0.0; 600]], 64);
        let m = db_to_amplitude(-6.0) * 0.5;
        let s = db_to_amplitude(5.0) * 0.5;
        assert!((out[0][d] - (m + s)).abs() < 1e-9, "{}", out[0][d]);
        assert!((out[1][d] - (m - s)).abs() < 1e-9, "{}", out[1][d]);
    }

    #[test]
    fn mono_input_stays_mono_and_one_channel_works() {
        let fs = 44_100;
        let options = MatchEqOptions {
            mid: smooth_curve(),
            side: GainCurve::new(vec![100.0, 5000.0], vec![6.0, -6.0]).expect("valid"),
            side_gain_db: 6.0,
            fir_taps: Some(4095),
        };
        let mut rng = crate::rng::SplitMix64::new(9);
        let x: Vec<f64> = (0..20_000).map(|_| rng.next_f64() - 0.5).collect();
        let mut eq = MatchEq::new(options.clone(), fs).expect("valid");
        let out = run_in_blocks(&mut eq, fs, &[x.clone(), x.clone()], 512);
        assert_eq!(out[0], out[1]);
        let mut mono = MatchEq::new(options, fs).expect("valid");
        let single = run_in_blocks(&mut mono, fs, std::slice::from_ref(&x), 333);
        let err = single[0]
            .iter()
            .zip(&out[0])
            .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
        assert!(err < 1e-12, "{err:e}");
    }

    #[test]
    fn block_size_invariant() {
        let fs = 48_000;
        let options = MatchEqOptions {
            mid: smooth_curve(),
            side: GainCurve::new(vec![200.0, 3000.0], vec![-3.0, 2.0]).expect("valid"),
            side_gain_db: -1.5,
            fir_taps: Some(2047),
        };
        let mut rng = crate::rng::SplitMix64::new(5);
        let l: Vec<f64> = (0..9000).map(|_| rng.next_f64() - 0.5).collect();
        let r: Vec<f64> = (0..9000).map(|_| rng.next_f64() - 0.5).collect();
        assert_block_size_invariant(
            || MatchEq::new(options.clone(), fs).expect("valid"),
            fs,
            &[l, r],
        );
    }

    #[test]
    fn bad_settings_are_refused() {
        let mut o = MatchEqOptions {
            fir_taps: Some(1024),
            ..MatchEqOptions::default()
        };
        assert!(o.validate().is_err());
        o.fir_taps = Some(1023);
        assert!(o.validate().is_ok());
        o.side_gain_db = 30.0;
        assert!(o.validate().is_err());
        let mut eq = MatchEq::new(MatchEqOptions::default(), 48_000).expect("valid");
        assert!(eq.prepare(48_000, 64, 3).is_err());
        assert!(MatchEq::new(MatchEqOptions::default(), 100).is_err());
    }

    #[test]
    fn preparing_at_another_rate_redesigns() {
        let mut eq = MatchEq::new(MatchEqOptions::default(), 48_000).expect("valid");
        eq.prepare(96_000, 128, 2).expect("valid");
        assert_eq!(eq.sample_rate_hz(), 96_000);
        assert_eq!(eq.latency_frames(), 16_383 + 8192);
    }
}
