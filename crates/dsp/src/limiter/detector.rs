//! The limiter's true-peak detector: band-limited interpolation by
//! `L` ∈ {4, 8, 16} in two stages, then a parabolic refinement of the
//! largest oversampled value of every interval.
//!
//! * **Stage A (2×)** computes the half-sample values with a long
//!   Kaiser-windowed sinc, [`HALF_TAPS_A`] = 64 taps each side, β = 8
//!   (J. F. Kaiser, ISCAS 1974; `kaiser_fir`): it carries the whole steep
//!   transition at the base Nyquist frequency. Error against ideal (sinc)
//!   interpolation ≤ 1.3e-4 up to 0.48·fs.
//! * **Stage B (L/2×)** interpolates the 2× stream, whose content lies below
//!   a quarter of its rate, with a short Nyquist filter, [`HALF_TAPS_B`] = 6
//!   taps each side, β = 8: error ≤ 2.6e-4 up to 0.49·fs of the base rate.
//!   Both are Nyquist filters (the existing samples pass unchanged) with
//!   every phase normalised to unity gain at DC, folded by symmetry (phase
//!   `L − p` is phase `p` reversed, so `y_p = A + B`, `y_{L−p} = A − B`).
//!   Together about 110 multiplications per input sample at 8×, and the
//!   combined error stays below 4e-4 (0.0035 dB) up to 0.48·fs. Near
//!   Nyquist this matters: full-band signals (white noise, hard-clipped or
//!   naive square waves) have their largest intersample peaks there, and a
//!   single-stage 48-tap-per-phase interpolator under-reads them by 0.3 dB
//!   against long references.
//! * **Refinement.** An `L`× grid under-reads a sinusoid of frequency `f`
//!   by up to `cos(π·f/(L·fs))` (−0.14 dB for 20 kHz at 44.1 kHz and 8×).
//!   Where the largest `|y|` of an interval is a local maximum of the
//!   oversampled sequence, the vertex of the parabola through it and its two
//!   neighbours replaces it: `v + (a − c)² / (8·(2v − a − c))`, never below
//!   `v` and at most `1.25·v`. For a sinusoid the remaining error is of
//!   fourth order in the grid step, so meters that sample the waveform
//!   elsewhere (ffmpeg resamples 44.1 kHz to 192 kHz) find no higher peak.
//! * **Reach.** The values of interval `m` (from sample `m` to `m + 1`)
//!   depend on samples `m − REACH + 1 … m + REACH`, [`REACH`] =
//!   `HALF_TAPS_A + HALF_TAPS_B/2` = 67, and are known once sample
//!   `m + REACH` has arrived.
//! * **Peer model.** libebur128 (and the `ebur128` crate, its port)
//!   interpolates with a 48-tap Hann-windowed sinc, 4× below 96 kHz and 2×
//!   below 192 kHz, whose phases are not normalised: its half-sample phase
//!   has +0.110 dB of gain at fs/3 (4×; +0.110 dB at 0.417·fs for 2×), so it
//!   reads a steady high tone up to 0.11 dB above its true peak, more than
//!   the limiter's margin. The detector therefore also evaluates that
//!   filter ([`ebur128_phases`]) on the 12 (24) samples around each
//!   interval, and an interval's peak is the larger of the two readings.
//! * **Exact skipping.** A run of intervals whose values cannot exceed the
//!   caller's floor (bounded by `1.25 · max_q Σ|c_q| · max|z|` over the 2×
//!   samples they read) is not interpolated further and reports 0: the
//!   required gain is 1 either way, so the result is bit-identical.

use crate::kaiser_fir::bessel_i0;

/// Taps each side of the 2× half-sample interpolator (stage A).
pub(crate) const HALF_TAPS_A: usize = 64;
/// Kaiser β of stage A.
pub(crate) const KAISER_BETA_A: f64 = 8.0;
/// Taps each side of the stage-B interpolator on the 2× stream (even).
pub(crate) const HALF_TAPS_B: usize = 6;
/// Kaiser β of stage B.
pub(crate) const KAISER_BETA_B: f64 = 8.0;
/// How far (in input samples) an interval's values reach on either side.
pub(crate) const REACH: usize = HALF_TAPS_A + HALF_TAPS_B / 2;
/// Input samples a detector buffer keeps before the current block.
pub(crate) const HISTORY: usize = 2 * HALF_TAPS_A;
/// Intervals computed together (the inner loops run across them).
const CHUNK: usize = 8;
/// Slack after the last valid sample of a buffer for the final chunk.
pub(crate) const PADDING: usize = 2 * CHUNK;
/// Largest oversampling factor.
pub(crate) const MAX_FACTOR: usize = 16;
/// Largest stage-B factor.
const MAX_FINE: usize = MAX_FACTOR / 2;
/// Bound on refinement: the parabola vertex is at most 1.25× the grid value.
const REFINEMENT_BOUND: f64 = 1.25;
/// Margin of the skip bound for rounding (the sums are exact to ~1e-15).
const ROUNDING_MARGIN: f64 = 1.0 + 1e-9;
/// Stage-B taps per phase.
const TAPS_B: usize = 2 * HALF_TAPS_B;

/// Coefficients of one pair of mirrored phases `q`, `B − q` of stage B,
/// folded: `sum[k] = (c_q[k] + c_q[2J−1−k])/2`,
/// `diff[k] = (c_q[k] − c_q[2J−1−k])/2`.
#[derive(Debug, Clone)]
struct PhasePair {
    sum: [f64; HALF_TAPS_B],
    diff: [f64; HALF_TAPS_B],
}

/// Phases of a Nyquist interpolator by `l` with `j` taps each side and
/// Kaiser β `beta`: `c_p[k]` multiplies `x[n − j + 1 + k]` to interpolate at
/// `n + p/l`; every phase sums to 1.
fn nyquist_phases(l: usize, j: usize, beta: f64) -> Vec<Vec<f64>> {
    let span = (l * j) as f64;
    let i0_beta = bessel_i0(beta);
    let prototype = |i: f64| -> f64 {
        let x = i / l as f64;
        let sinc = if x == 0.0 {
            1.0
        } else {
            (std::f64::consts::PI * x).sin() / (std::f64::consts::PI * x)
        };
        let r = i / span;
        if r.abs() >= 1.0 {
            0.0
        } else {
            sinc * bessel_i0(beta * (1.0 - r * r).sqrt()) / i0_beta
        }
    };
    (0..l)
        .map(|p| {
            let mut c: Vec<f64> = (0..2 * j)
                .map(|k| prototype(l as f64 * ((j - 1) as f64 - k as f64) + p as f64))
                .collect();
            let dc: f64 = c.iter().sum();
            c.iter_mut().for_each(|v| *v /= dc);
            c
        })
        .collect()
}

/// The interpolator of libebur128 for a sample rate (`None` from 192 kHz
/// on, where it reads sample peaks): phases `1 … F−1` of
/// `c(j) = w(j)·sinc((j − 24)/F)`, `w(j) = ½(1 − cos(2πj/48))`, tap `t` of
/// phase `p` being `c(F·t + p)`, which multiplies the sample `t` frames
/// before the newest of its window (libebur128 `interp_create`, and
/// `interp.rs` of the `ebur128` crate 0.1.11).
pub(crate) fn ebur128_phases(sample_rate_hz: u32) -> Option<Vec<Vec<f64>>> {
    const TAPS: usize = 48;
    let factor = match sample_rate_hz {
        0..96_000 => 4,
        96_000..192_000 => 2,
        _ => return None,
    };
    let coefficient = |j: usize| -> f64 {
        let w = 0.5 * (1.0 - (2.0 * std::f64::consts::PI * j as f64 / TAPS as f64).cos());
        let m = j as f64 - TAPS as f64 / 2.0;
        if m.abs() > 1e-6 {
            let a = m * std::f64::consts::PI / factor as f64;
            w * a.sin() / a
        } else {
            w
        }
    };
    Some(
        (1..factor)
            .map(|p| {
                (0..TAPS / factor)
                    .map(|t| coefficient(factor * t + p))
                    .collect()
            })
            .collect(),
    )
}

/// Whether this CPU runs the AVX2 build of the detector.
fn avx2_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// The two-stage peak detector of one limiter (shared by its channels; the
/// signal history lives in the caller's buffers).
#[derive(Debug, Clone)]
pub(crate) struct PeakDetector {
    factor: usize,
    /// Stage-B factor `B = L/2`.
    fine: usize,
    /// Stage A, folded: `h[j] = Σ_k half[k]·(x[j − k] + x[j + 1 + k])`.
    half: [f64; HALF_TAPS_A],
    /// Stage B's middle phase `B/2`, folded (halved, for mirrored sums).
    mid: [f64; HALF_TAPS_B],
    /// Stage B's phases `1 … B/2 − 1` with their mirrors.
    pairs: Vec<PhasePair>,
    /// Stage B's phase `B − 1`, unfolded (left neighbour of phase 0).
    last: [f64; TAPS_B],
    /// `1.25 · max_q Σ|c_q|` of stage B with the rounding margin.
    bound_gain: f64,
    /// The 2× stream of the intervals being computed.
    z: Vec<f64>,
    /// libebur128's phases (see [`ebur128_phases`]), each reversed so that
    /// tap `k` multiplies the `k`-th sample of the window, oldest first.
    peer: Vec<Vec<f64>>,
    /// Samples before an interval's left end that the peer window starts.
    peer_before: usize,
    /// `max_p Σ|c_p|` of the peer with the rounding margin.
    peer_gain: f64,
    /// Run the AVX2 build of [`PeakDetector::peaks`] (detected at
    /// construction; the same operations in the same order, so the same
    /// bits as the baseline build, only four lanes wide).
    avx2: bool,
}

impl PeakDetector {
    /// Designs the detector for `factor` ∈ {4, 8, 16} (checked by the
    /// limiter's options) and blocks of up to `max_block` intervals.
    /// Allocates.
    pub(crate) fn new(factor: usize, max_block: usize, sample_rate_hz: u32) -> Self {
        let l = factor.clamp(4, MAX_FACTOR);
        let fine = l / 2;
        let a = nyquist_phases(2, HALF_TAPS_A, KAISER_BETA_A);
        let mut half = [0.0; HALF_TAPS_A];
        for (k, h) in half.iter_mut().enumerate() {
            // Phase 1 tap HALF_TAPS_A − 1 − k reads x[j − k]; its mirror
            // HALF_TAPS_A + k reads x[j + 1 + k]. Average for exact symmetry.
            *h = 0.5 * (a[1][HALF_TAPS_A - 1 - k] + a[1][HALF_TAPS_A + k]);
        }
        let b = nyquist_phases(fine, HALF_TAPS_B, KAISER_BETA_B);
        let mirror = |k: usize| TAPS_B - 1 - k;
        let mut mid = [0.0; HALF_TAPS_B];
        for (k, m) in mid.iter_mut().enumerate() {
            let c = &b[fine / 2];
            *m = 0.5 * (c[k] + c[mirror(k)]);
        }
        let pairs = (1..fine / 2)
            .map(|q| {
                let c = &b[q];
                let mut pair = PhasePair {
                    sum: [0.0; HALF_TAPS_B],
                    diff: [0.0; HALF_TAPS_B],
                };
                for k in 0..HALF_TAPS_B {
                    pair.sum[k] = 0.5 * (c[k] + c[mirror(k)]);
                    pair.diff[k] = 0.5 * (c[k] - c[mirror(k)]);
                }
                pair
            })
            .collect();
        let mut last = [0.0; TAPS_B];
        last.copy_from_slice(&b[fine - 1]);
        let abs_gain = b
            .iter()
            .map(|c| c.iter().map(|v| v.abs()).sum::<f64>())
            .fold(0.0, f64::max);
        let peer: Vec<Vec<f64>> = ebur128_phases(sample_rate_hz)
            .unwrap_or_default()
            .into_iter()
            .map(|mut c| {
                c.reverse();
                c
            })
            .collect();
        // Phase p of a window whose newest sample is n estimates the signal
        // at n − T/2 + p/F (T taps per phase): in the interval starting at
        // n − T/2, whose window starts T/2 − 1 samples before it.
        let peer_taps = peer.first().map_or(0, Vec::len);
        let peer_gain = peer
            .iter()
            .map(|c| c.iter().map(|v| v.abs()).sum::<f64>())
            .fold(0.0, f64::max)
            * ROUNDING_MARGIN;
        Self {
            avx2: avx2_available(),
            peer,
            peer_before: (peer_taps / 2).saturating_sub(1),
            peer_gain,
            factor: l,
            fine,
            half,
            mid,
            pairs,
            last,
            bound_gain: abs_gain * REFINEMENT_BOUND * ROUNDING_MARGIN,
            z: vec![0.0; 2 * (max_block + CHUNK) + 2 * HALF_TAPS_B + 2 * CHUNK],
        }
    }

    /// Peaks of the `count` intervals completed by a block into
    /// `out[..count]`. `x` holds [`HISTORY`] earlier samples, then the
    /// block's `count` samples, then [`PADDING`]; `half` is the matching
    /// buffer of half-sample values, which this call extends by `count`
    /// values (the caller shifts both buffers by `count` afterwards).
    /// Interval `i` starts at `x[HISTORY + i − REACH]`. Intervals that
    /// cannot exceed `floor` may report 0.
    pub(crate) fn peaks(
        &mut self,
        x: &[f64],
        half: &mut [f64],
        count: usize,
        floor: f64,
        out: &mut [f64],
    ) {
        #[cfg(target_arch = "x86_64")]
        if self.avx2 {
            // SAFETY: `avx2` is only true when the CPU reported AVX2
            // (`avx2_available`), the one requirement of `peaks_avx2`.
            #[allow(unsafe_code)]
            unsafe {
                self.peaks_avx2(x, half, count, floor, out);
            }
            return;
        }
        self.peaks_inline(x, half, count, floor, out);
    }

    /// Chooses the baseline build even where AVX2 exists (tests compare
    /// the two).
    #[cfg(test)]
    pub(crate) fn set_avx2(&mut self, on: bool) {
        self.avx2 = on && avx2_available();
    }

    /// [`PeakDetector::peaks`] compiled for AVX2. Rust never fuses a
    /// multiply and an add by itself and FMA is not enabled, so the wider
    /// lanes compute the same values as the baseline build (measured: the
    /// limiter's output is bit-identical; the test
    /// `avx2_and_baseline_builds_agree_bit_for_bit` checks the peaks).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn peaks_avx2(
        &mut self,
        x: &[f64],
        half: &mut [f64],
        count: usize,
        floor: f64,
        out: &mut [f64],
    ) {
        self.peaks_inline(x, half, count, floor, out);
    }

    #[inline(always)]
    fn peaks_inline(
        &mut self,
        x: &[f64],
        half: &mut [f64],
        count: usize,
        floor: f64,
        out: &mut [f64],
    ) {
        self.half_samples(x, half, count);
        // The 2× stream from z-position 2·m0 − J_B on, m0 = first interval.
        let m0 = HISTORY - REACH;
        let len = 2 * count + 2 * HALF_TAPS_B;
        let start = m0 - HALF_TAPS_B / 2;
        for (t, pair) in self.z[..len].chunks_exact_mut(2).enumerate() {
            pair[0] = x[start + t];
            pair[1] = half[start + t];
        }
        self.z[len..].fill(0.0);
        let mut i0 = 0;
        while i0 < count {
            let n = CHUNK.min(count - i0);
            let zi = 2 * i0;
            let reads = &self.z[zi..zi + 2 * n + 2 * HALF_TAPS_B];
            let max_abs = reads.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            // The peer's windows of these intervals, in `x`.
            let first = m0 + i0 - self.peer_before;
            let peer_len = if self.peer.is_empty() {
                0
            } else {
                n + 2 * self.peer_before + 1
            };
            let peer_abs = x[first..first + peer_len]
                .iter()
                .fold(0.0f64, |m, v| m.max(v.abs()));
            if max_abs * self.bound_gain <= floor && peer_abs * self.peer_gain <= floor {
                out[i0..i0 + n].fill(0.0);
            } else {
                let lo = self.fine_values(zi);
                let hi = self.fine_values(zi + CHUNK);
                for (i, o) in out[i0..i0 + n].iter_mut().enumerate() {
                    let ours = self.refined(zi + 2 * i, &lo, &hi, i);
                    *o = ours.max(self.peer_peak(&x[first + i..]));
                }
            }
            i0 += n;
        }
    }

    /// libebur128's largest `|value|` over the window starting at `w[0]`.
    #[inline(always)]
    fn peer_peak(&self, w: &[f64]) -> f64 {
        let mut best = 0.0f64;
        for c in &self.peer {
            let y: f64 = c.iter().zip(w).map(|(a, b)| a * b).sum();
            best = best.max(y.abs());
        }
        best
    }

    /// Stage A: the half-sample values `half[j]` for the `count` positions
    /// `j = HISTORY − HALF_TAPS_A …` whose right-hand samples just arrived.
    #[inline(always)]
    fn half_samples(&self, x: &[f64], half: &mut [f64], count: usize) {
        let first = HISTORY - HALF_TAPS_A;
        let mut j0 = first;
        while j0 < first + count {
            let mut acc = [0.0; CHUNK];
            for (k, &c) in self.half.iter().enumerate() {
                let left = &x[j0 - k..j0 - k + CHUNK];
                let right = &x[j0 + 1 + k..j0 + 1 + k + CHUNK];
                for i in 0..CHUNK {
                    acc[i] += c * (left[i] + right[i]);
                }
            }
            let n = CHUNK.min(first + count - j0);
            half[j0..j0 + n].copy_from_slice(&acc[..n]);
            j0 += n;
        }
    }

    /// Stage B for `CHUNK` consecutive z-intervals from scratch position
    /// `zi + J_B` (interval `u` reads `z[zi + u + 1 … zi + u + 2·J_B]`):
    /// `|value|` at phases `0 … B` (0 and `B` are the interval's ends).
    #[inline(always)]
    fn fine_values(&self, zi: usize) -> [[f64; CHUNK]; MAX_FINE + 1] {
        let b = self.fine;
        let z = &self.z;
        let base = zi + 1;
        let mut s = [[0.0; CHUNK]; HALF_TAPS_B];
        let mut d = [[0.0; CHUNK]; HALF_TAPS_B];
        for k in 0..HALF_TAPS_B {
            let lo = &z[base + k..base + k + CHUNK];
            let hi = &z[base + TAPS_B - 1 - k..base + TAPS_B - 1 - k + CHUNK];
            for i in 0..CHUNK {
                s[k][i] = lo[i] + hi[i];
                d[k][i] = lo[i] - hi[i];
            }
        }
        let mut v = [[0.0; CHUNK]; MAX_FINE + 1];
        v[0].copy_from_slice(&z[base + HALF_TAPS_B - 1..base + HALF_TAPS_B - 1 + CHUNK]);
        v[b].copy_from_slice(&z[base + HALF_TAPS_B..base + HALF_TAPS_B + CHUNK]);
        let mut acc = [0.0; CHUNK];
        for (k, sk) in s.iter().enumerate() {
            let c = self.mid[k];
            for i in 0..CHUNK {
                acc[i] += c * sk[i];
            }
        }
        v[b / 2] = acc;
        for (j, pair) in self.pairs.iter().enumerate() {
            let mut a = [0.0; CHUNK];
            let mut e = [0.0; CHUNK];
            for k in 0..HALF_TAPS_B {
                let (cs, cd) = (pair.sum[k], pair.diff[k]);
                for i in 0..CHUNK {
                    a[i] += cs * s[k][i];
                    e[i] += cd * d[k][i];
                }
            }
            let q = j + 1;
            for i in 0..CHUNK {
                v[q][i] = a[i] + e[i];
                v[b - q][i] = a[i] - e[i];
            }
        }
        for row in &mut v[..=b] {
            for x in row.iter_mut() {
                *x = x.abs();
            }
        }
        v
    }

    /// The refined peak of the base interval whose first z-interval is
    /// column `2i` of the pair `lo`/`hi` (16 consecutive z-intervals) and
    /// starts at scratch position `zi + J_B`.
    #[inline(always)]
    fn refined(
        &self,
        zi: usize,
        lo: &[[f64; CHUNK]; MAX_FINE + 1],
        hi: &[[f64; CHUNK]; MAX_FINE + 1],
        i: usize,
    ) -> f64 {
        let (l, b) = (self.factor, self.fine);
        // Value at phase p (0 … L) of the base interval.
        let value = |p: usize| -> f64 {
            let u = 2 * i + p / b;
            let (cols, col) = if u < CHUNK { (lo, u) } else { (hi, u - CHUNK) };
            cols[p % b][col]
        };
        let mut best = 0;
        let mut v = value(0);
        for p in 1..l {
            let w = value(p);
            if w > v {
                best = p;
                v = w;
            }
        }
        let right = if best + 1 == l {
            // The interval's right end: the next input sample.
            self.z[zi + HALF_TAPS_B + 2]
        } else {
            value(best + 1)
        }
        .abs();
        let left = if best == 0 {
            // Phase B − 1 of the preceding z-interval.
            let w = &self.z[zi..zi + TAPS_B];
            self.last
                .iter()
                .zip(w)
                .map(|(c, x)| c * x)
                .sum::<f64>()
                .abs()
        } else {
            value(best - 1)
        };
        let curvature = 2.0 * v - left - right;
        if v >= left && v >= right && curvature > 0.0 {
            let slope = left - right;
            v + slope * slope / (8.0 * curvature)
        } else {
            v
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::PI;

    /// Peaks of a whole signal fed in one block after silence: `out[i]` is
    /// the interval starting at signal sample `i − REACH`.
    fn all_peaks(det: &mut PeakDetector, x: &[f64], floor: f64) -> Vec<f64> {
        let mut buf = vec![0.0; HISTORY + x.len() + PADDING];
        buf[HISTORY..HISTORY + x.len()].copy_from_slice(x);
        let mut half = vec![0.0; buf.len()];
        let mut out = vec![0.0; x.len()];
        det.peaks(&buf, &mut half, x.len(), floor, &mut out);
        out
    }

    #[test]
    fn avx2_and_baseline_builds_agree_bit_for_bit() {
        let mut rng = crate::rng::SplitMix64::new(17);
        let x: Vec<f64> = (0..5000).map(|_| rng.next_f64() - 0.5).collect();
        for (l, fs) in [(4, 44_100), (8, 48_000), (16, 96_000), (8, 192_000)] {
            for floor in [0.0, 0.3] {
                let mut det = PeakDetector::new(l, x.len(), fs);
                det.set_avx2(false);
                let baseline = all_peaks(&mut det, &x, floor);
                det.set_avx2(true);
                let wide = all_peaks(&mut det, &x, floor);
                assert!(baseline == wide, "L={l} {fs} Hz floor {floor}");
            }
        }
    }

    #[test]
    fn constants_read_as_themselves() {
        for l in [4, 8, 16] {
            let x = vec![0.5; 600];
            let mut det = PeakDetector::new(l, x.len(), 192_000);
            let p = all_peaks(&mut det, &x, 0.0);
            for &v in &p[2 * REACH + 2..] {
                assert!((v - 0.5).abs() < 1e-14, "L={l}: {v}");
            }
        }
    }

    #[test]
    fn sine_peaks_are_read_within_0_01_db_up_to_21_khz_at_44_1() {
        let fs = 44_100.0;
        for l in [4, 8, 16] {
            for f in [
                997.0, 5_000.0, 11_025.0, 15_000.0, 19_000.0, 20_000.0, 21_000.0,
            ] {
                for phase in [0.0, 0.3, 1.1] {
                    let x: Vec<f64> = (0..4000)
                        .map(|n| (2.0 * PI * f * n as f64 / fs + phase).sin())
                        .collect();
                    let mut det = PeakDetector::new(l, x.len(), 192_000);
                    let p = all_peaks(&mut det, &x, 0.0);
                    let max = p[400..3800].iter().fold(0.0f64, |m, &v| m.max(v));
                    let db = 20.0 * max.log10();
                    assert!(db.abs() < 0.01, "L={l} f={f}: {db} dB");
                }
            }
        }
    }

    #[test]
    fn the_peer_model_reads_like_libebur128() {
        // A tone at fs/3 whose crest falls on libebur128's half-sample phase:
        // libebur128 reads it 0.110 dB high (its phase gain at fs/3), and so
        // must the detector.
        let fs = 48_000.0;
        let f = fs / 3.0;
        let x: Vec<f64> = (0..3000)
            .map(|n| 0.5 * (2.0 * PI * f * (n as f64 + 0.5) / fs).cos())
            .collect();
        let mut det = PeakDetector::new(8, x.len(), 48_000);
        let p = all_peaks(&mut det, &x, 0.0);
        let max = p[400..2600].iter().fold(0.0f64, |m, &v| m.max(v));
        let db = 20.0 * (max / 0.5).log10();
        assert!((db - 0.110).abs() < 0.002, "{db} dB");
        // At 192 kHz libebur128 reads sample peaks: no model.
        assert!(ebur128_phases(192_000).is_none());
        assert_eq!(ebur128_phases(96_000).map(|p| p.len()), Some(1));
    }

    #[test]
    fn blocks_and_skipping_do_not_change_the_peaks() {
        let mut rng = crate::rng::SplitMix64::new(3);
        let mut x: Vec<f64> = (0..1000).map(|_| 0.1 * (rng.next_f64() - 0.5)).collect();
        for v in x.iter_mut().skip(500).take(10) {
            *v *= 20.0;
        }
        let mut det = PeakDetector::new(8, x.len(), 48_000);
        let full = all_peaks(&mut det, &x, 0.0);
        let skipped = all_peaks(&mut det, &x, 0.5);
        for (a, b) in full.iter().zip(&skipped) {
            if *b != 0.0 {
                assert_eq!(a, b);
            } else {
                assert!(*a <= 0.5);
            }
        }
        assert!(skipped.contains(&0.0));
        assert!(skipped.iter().any(|&v| v > 0.5));
        // Blocks of 7 with the buffers shifted as the limiter does.
        let mut det = PeakDetector::new(8, 7, 48_000);
        let mut buf = vec![0.0; HISTORY + 7 + PADDING];
        let mut half = vec![0.0; buf.len()];
        let mut got = Vec::new();
        for piece in x.chunks(7) {
            buf[HISTORY..HISTORY + piece.len()].copy_from_slice(piece);
            let mut out = [0.0; 7];
            det.peaks(&buf, &mut half, piece.len(), 0.0, &mut out);
            got.extend_from_slice(&out[..piece.len()]);
            buf.copy_within(piece.len()..piece.len() + HISTORY, 0);
            half.copy_within(piece.len()..piece.len() + HISTORY, 0);
        }
        assert!(got == full);
    }
}
