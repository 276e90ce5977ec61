//! True peak: ITU-R BS.1770-5 Annex 2 (oversample, low-pass interpolate,
//! take the largest absolute value), with the Tech 3341 tolerance of
//! +0.2/−0.4 dB for cases 15–23 (LOUDNESS_SPEC §2.3).
//!
//! # The interpolator
//!
//! A polyphase FIR designed here: a Kaiser-windowed sinc of cutoff `fs/2`
//! for an oversampling factor `L` ∈ {4, 8, 16}. It is a Nyquist (L-th band)
//! filter: every L-th tap of the prototype is zero except the centre one, so
//! phase 0 *is* the input sample (the sample peak) and only phases
//! `1 … L−1` are computed. Each phase has [`PHASE_TAPS`] = 16 taps (the
//! prototype has `16·L − 1`), Kaiser β = [`KAISER_BETA`], and each phase is
//! normalised to unity gain at DC. Every phase reads the same 16 input
//! samples around the interval it interpolates, and the prototype's symmetry
//! pairs phase `p` with phase `L − p` (time-reversed coefficients), so the
//! kernel pre-adds and pre-subtracts mirrored samples and gets
//! `max(|y_p|, |y_{L−p}|) = |A| + |B|` from half the multiplications.
//!
//! Measured gain error of the 4× interpolator (worst phase): within ±0.01 dB
//! up to 0.35·fs (16.8 kHz at 48 kHz), −0.20 dB at 0.40·fs, −3.2 dB at
//! 0.45·fs (the transition band of any Nyquist interpolator is centred on
//! fs/2). The libebur128 interpolator (49 taps at 4×) is shorter.
//!
//! The FIR runs in `f32` over a channel's contiguous samples, 16 output
//! intervals at a time in fixed-size arrays that the compiler vectorises.
//! Its relative error (≈1e-6) is far below the 0.01 dB display resolution.
//!
//! # Exact skipping
//!
//! An interpolated value is bounded by `Σ|c_p| · max|x|` over the 16 input
//! samples it reads. A run of 16 intervals whose bound (with a 1e-4 safety
//! margin for `f32` rounding) cannot exceed the maximum the caller already
//! holds is skipped: it could not change any reported figure, so results are
//! identical with and without the skip.
//!
//! # Oversampling at high rates
//!
//! The factor is the same at every sample rate (default 4): libebur128 and
//! the `ebur128` crate drop to 2× from 96 kHz and fail Tech 3341 cases 21/23
//! there; this meter does not (LOUDNESS_SPEC §2.3).

/// Half the number of taps per phase (`J`): each phase reads the `J` samples
/// up to and including the left neighbour of its interval and the `J` after.
pub const HALF_TAPS: usize = 8;
/// Taps per phase (`2·J`). 12 taps per phase (BS.1770-5 Annex 2's example
/// filter, order 48 at 4×) gives ≈0.04 dB of ripple up to 0.35·fs with a
/// Kaiser window; 16 taps keep it within 0.01 dB (see the module docs).
pub const PHASE_TAPS: usize = 2 * HALF_TAPS;
/// Kaiser window shape parameter of the prototype (chosen for a flat
/// pass band up to 0.35·fs with 16 taps per phase; see the module docs).
pub const KAISER_BETA: f64 = 6.0;
/// Input samples kept from one block to the next (the interpolator's memory).
pub(crate) const HISTORY: usize = PHASE_TAPS - 1;
/// Output intervals computed together in one vectorised kernel call.
pub(crate) const CHUNK: usize = 16;
/// Input samples one kernel call reads.
const WINDOW: usize = CHUNK + PHASE_TAPS - 1;
/// Slack a buffer needs after its last valid sample so that a final, partial
/// kernel call can read a whole window (the extra outputs are ignored).
pub(crate) const PADDING: usize = WINDOW;
/// Safety margin on the skip bound for `f32` rounding inside the kernel
/// (its relative error is below 1e-6).
const BOUND_MARGIN: f64 = 1.0 + 1e-4;

/// Output intervals per SIMD group: one 256-bit or two 128-bit registers of
/// `f32` per accumulator, so the three accumulators of the 4× kernel and
/// their operands fit in the 16 registers of baseline x86-64.
const GROUP: usize = 8;

/// A coefficient broadcast to every lane of a group, stored pre-broadcast
/// and aligned so the multiplications take it straight from memory.
#[derive(Debug, Clone, Copy, PartialEq)]
#[repr(align(32))]
struct Splat([f32; GROUP]);

impl Splat {
    const ZERO: Splat = Splat([0.0; GROUP]);

    fn new(v: f64) -> Self {
        Splat([v as f32; GROUP])
    }

    fn value(&self) -> f64 {
        f64::from(self.0[0])
    }
}

/// Coefficients of one pair of mirrored phases `p` and `L − p`, folded for
/// the symmetric kernel: `y_p = A + B`, `y_{L−p} = A − B` with
/// `A = Σ sum[k]·(w[k] + w[2J−1−k])` and `B = Σ diff[k]·(w[k] − w[2J−1−k])`.
#[derive(Debug, Clone, Copy)]
struct PhasePair {
    sum: [Splat; HALF_TAPS],
    diff: [Splat; HALF_TAPS],
}

/// The polyphase true-peak interpolator for one oversampling factor.
#[derive(Debug, Clone)]
pub struct Interpolator {
    factor: u32,
    /// The middle phase `L/2` (half-sample point), symmetric: folded
    /// coefficients for `w[k] + w[2J−1−k]`.
    mid: [Splat; HALF_TAPS],
    /// Phases `1 … L/2−1` with their mirrors.
    pairs: Vec<PhasePair>,
    /// `max_p Σ_k |c_p[k]|` of the coefficients the kernel uses, times the
    /// rounding margin.
    bound_gain: f64,
    /// The `f64` phase coefficients `c_p[k]`, `p = 0 … L−1`, `k = 0 … 2J−1`,
    /// tap `k` reading `x[n − J + 1 + k]` for the interval `(n, n + 1)`.
    phases: Vec<[f64; PHASE_TAPS]>,
}

/// Modified Bessel function of the first kind, order 0 (power series).
fn bessel_i0(x: f64) -> f64 {
    let q = x * x / 4.0;
    let (mut sum, mut term) = (1.0f64, 1.0f64);
    for k in 1..200u32 {
        term *= q / f64::from(k * k);
        sum += term;
        if term < 1e-17 * sum {
            break;
        }
    }
    sum
}

impl Interpolator {
    /// Designs the interpolator for `factor` ∈ {4, 8, 16} (checked by
    /// [`crate::Meter::new`]; other even factors ≥ 2 also work).
    pub fn new(factor: u32) -> Self {
        let l = factor.max(2) as usize;
        let half_span = (l * HALF_TAPS) as f64;
        let i0_beta = bessel_i0(KAISER_BETA);
        let prototype = |i: f64| -> f64 {
            let x = i / l as f64;
            let sinc = if x == 0.0 {
                1.0
            } else {
                (std::f64::consts::PI * x).sin() / (std::f64::consts::PI * x)
            };
            let r = i / half_span;
            if r.abs() >= 1.0 {
                0.0
            } else {
                sinc * bessel_i0(KAISER_BETA * (1.0 - r * r).sqrt()) / i0_beta
            }
        };
        let phases: Vec<[f64; PHASE_TAPS]> = (0..l)
            .map(|p| {
                let mut c = [0.0; PHASE_TAPS];
                for (k, ck) in c.iter_mut().enumerate() {
                    let j = (HALF_TAPS - 1) as f64 - k as f64;
                    *ck = prototype(l as f64 * j + p as f64);
                }
                // Unity gain at DC for every phase.
                let dc: f64 = c.iter().sum();
                c.iter_mut().for_each(|v| *v /= dc);
                c
            })
            .collect();

        let mirror = |k: usize| PHASE_TAPS - 1 - k;
        let mut mid = [Splat::ZERO; HALF_TAPS];
        for (k, m) in mid.iter_mut().enumerate() {
            // Symmetric: c[k] == c[mirror(k)]; average for exactness.
            let c = &phases[l / 2];
            *m = Splat::new(0.5 * (c[k] + c[mirror(k)]));
        }
        let pairs: Vec<PhasePair> = (1..l / 2)
            .map(|p| {
                let c = &phases[p];
                let mut pair = PhasePair {
                    sum: [Splat::ZERO; HALF_TAPS],
                    diff: [Splat::ZERO; HALF_TAPS],
                };
                for k in 0..HALF_TAPS {
                    pair.sum[k] = Splat::new(0.5 * (c[k] + c[mirror(k)]));
                    pair.diff[k] = Splat::new(0.5 * (c[k] - c[mirror(k)]));
                }
                pair
            })
            .collect();

        // |y_p| ≤ max|w| · Σ_k (|sum+diff| + |sum−diff|) = max|w| · Σ 2·max(|sum|, |diff|).
        let mid_gain: f64 = mid.iter().map(|m| 2.0 * m.value().abs()).sum();
        let pair_gain = pairs
            .iter()
            .map(|p| {
                p.sum
                    .iter()
                    .zip(&p.diff)
                    .map(|(s, d)| 2.0 * s.value().abs().max(d.value().abs()))
                    .sum::<f64>()
            })
            .fold(0.0, f64::max);
        Self {
            factor,
            mid,
            pairs,
            bound_gain: mid_gain.max(pair_gain) * BOUND_MARGIN,
            phases,
        }
    }

    /// The oversampling factor.
    pub fn factor(&self) -> u32 {
        self.factor
    }

    /// `B` such that no interpolated value exceeds `B · max|x|` over the
    /// samples it reads (with the rounding margin of the `f32` kernel).
    pub(crate) fn bound_gain(&self) -> f64 {
        self.bound_gain
    }

    /// The `f64` coefficients of every phase (`factor` arrays of
    /// [`PHASE_TAPS`]); tap `k` multiplies `x[n − HALF_TAPS + 1 + k]` to
    /// interpolate at `n + p/factor`.
    pub fn phases(&self) -> &[[f64; PHASE_TAPS]] {
        &self.phases
    }

    /// Largest `|interpolated value|` (phases `1 … L−1`) over the intervals
    /// whose 16-sample windows start at `buf[first .. first + count]`,
    /// ignoring runs that cannot exceed `floor`. Returns 0 when every run was
    /// skipped. `buf` must hold [`PADDING`] samples after the last window's
    /// end (their values are read but never affect the result).
    pub(crate) fn scan(&self, buf: &[f32], first: usize, count: usize, floor: f64) -> f32 {
        let end = first + count;
        let mut best = 0f32;
        let mut floor = floor;
        let mut i = first;
        while i < end {
            let n = CHUNK.min(end - i);
            let Some(win) = buf.get(i..i + WINDOW) else {
                // Caller broke the padding contract: fall back to the
                // slice that exists (only reachable through a bug).
                debug_assert!(false, "true-peak buffer without padding");
                break;
            };
            let win: &[f32; WINDOW] = win.try_into().unwrap_or(&[0.0; WINDOW]);
            let peak = max_abs(&win[..n + PHASE_TAPS - 1]);
            if f64::from(peak) * self.bound_gain > floor {
                let out = self.kernel(win);
                let m = max_of(&out[..n]);
                if m > best {
                    best = m;
                }
                floor = floor.max(f64::from(m));
            }
            i += n;
        }
        best
    }

    /// `max_p |y_p|` for the 16 intervals of one window.
    #[inline]
    fn kernel(&self, w: &[f32; WINDOW]) -> [f32; CHUNK] {
        match self.pairs.as_slice() {
            [pair] => kernel_mid_pair(w, &self.mid, pair),
            pairs => kernel_many(w, &self.mid, pairs),
        }
    }

    /// Reference implementation in `f64` without folding or skipping: the
    /// largest `|y|` over all phases `1 … L−1` of every interval whose window
    /// lies inside `x` (tests compare the fast path with it).
    pub fn reference_max(&self, x: &[f64]) -> f64 {
        let mut best = 0.0f64;
        for win in x.windows(PHASE_TAPS) {
            for c in &self.phases[1..] {
                let y: f64 = c.iter().zip(win).map(|(a, b)| a * b).sum();
                best = best.max(y.abs());
            }
        }
        best
    }
}

/// `GROUP` consecutive samples of a window from `at`, as a fixed-size array
/// (the offsets are constants after unrolling, so no bounds checks remain).
#[inline(always)]
fn lanes(w: &[f32; WINDOW], at: usize) -> &[f32; GROUP] {
    w[at..at + GROUP].try_into().unwrap_or(&[0.0; GROUP])
}

/// The 4× kernel: middle phase and one mirrored pair in one pass, `GROUP`
/// intervals at a time. Accumulators start from the first tap's products.
#[inline(always)]
fn kernel_mid_pair(w: &[f32; WINDOW], mid: &[Splat; HALF_TAPS], pair: &PhasePair) -> [f32; CHUNK] {
    let mut out = [0f32; CHUNK];
    for g in 0..CHUNK / GROUP {
        let base = g * GROUP;
        let mut am = [0f32; GROUP];
        let mut aa = [0f32; GROUP];
        let mut ab = [0f32; GROUP];
        {
            let (lo, hi) = (lanes(w, base), lanes(w, base + PHASE_TAPS - 1));
            for i in 0..GROUP {
                let s = lo[i] + hi[i];
                let d = lo[i] - hi[i];
                am[i] = mid[0].0[i] * s;
                aa[i] = pair.sum[0].0[i] * s;
                ab[i] = pair.diff[0].0[i] * d;
            }
        }
        // Indexed (not an iterator) so the tap loop unrolls completely.
        #[allow(clippy::needless_range_loop)]
        for k in 1..HALF_TAPS {
            let (lo, hi) = (lanes(w, base + k), lanes(w, base + PHASE_TAPS - 1 - k));
            let (cm, cs, cd) = (&mid[k].0, &pair.sum[k].0, &pair.diff[k].0);
            for i in 0..GROUP {
                let s = lo[i] + hi[i];
                let d = lo[i] - hi[i];
                am[i] += cm[i] * s;
                aa[i] += cs[i] * s;
                ab[i] += cd[i] * d;
            }
        }
        for i in 0..GROUP {
            let p = aa[i].abs() + ab[i].abs();
            let q = am[i].abs();
            out[base + i] = if p > q { p } else { q };
        }
    }
    out
}

/// The 8× and 16× kernel (and 2×, with no pairs): the mirrored sums and
/// differences are formed once per group and shared by the middle phase and
/// every pair; the running maximum stays in registers.
#[inline(always)]
fn kernel_many(w: &[f32; WINDOW], mid: &[Splat; HALF_TAPS], pairs: &[PhasePair]) -> [f32; CHUNK] {
    let mut out = [0f32; CHUNK];
    for g in 0..CHUNK / GROUP {
        let base = g * GROUP;
        let mut s = [[0f32; GROUP]; HALF_TAPS];
        let mut d = [[0f32; GROUP]; HALF_TAPS];
        let mut best = [0f32; GROUP];
        for k in 0..HALF_TAPS {
            let (lo, hi) = (lanes(w, base + k), lanes(w, base + PHASE_TAPS - 1 - k));
            for i in 0..GROUP {
                s[k][i] = lo[i] + hi[i];
                d[k][i] = lo[i] - hi[i];
            }
            for i in 0..GROUP {
                best[i] += mid[k].0[i] * s[k][i];
            }
        }
        for v in &mut best {
            *v = v.abs();
        }
        for pair in pairs {
            let mut aa = [0f32; GROUP];
            let mut ab = [0f32; GROUP];
            for k in 0..HALF_TAPS {
                for i in 0..GROUP {
                    aa[i] += pair.sum[k].0[i] * s[k][i];
                    ab[i] += pair.diff[k].0[i] * d[k][i];
                }
            }
            for i in 0..GROUP {
                let v = aa[i].abs() + ab[i].abs();
                best[i] = if v > best[i] { v } else { best[i] };
            }
        }
        out[base..base + GROUP].copy_from_slice(&best);
    }
    out
}

/// Largest absolute value of finite samples (0 for an empty slice).
#[inline]
pub(crate) fn max_abs(x: &[f32]) -> f32 {
    let mut lanes = [0f32; 8];
    let mut chunks = x.chunks_exact(8);
    for c in &mut chunks {
        for i in 0..8 {
            let a = c[i].abs();
            if a > lanes[i] {
                lanes[i] = a;
            }
        }
    }
    let mut m = max_of(&lanes);
    for &v in chunks.remainder() {
        if v.abs() > m {
            m = v.abs();
        }
    }
    m
}

/// Largest value of non-negative numbers (0 for an empty slice).
#[inline]
fn max_of(x: &[f32]) -> f32 {
    x.iter().fold(0f32, |m, &v| if v > m { v } else { m })
}

/// The true-peak memory of one channel: `HISTORY` samples of the previous
/// blocks followed by the current block, in `f32`, with padding.
#[derive(Debug, Clone)]
pub(crate) struct TruePeakBuffer {
    buf: Vec<f32>,
}

impl TruePeakBuffer {
    /// A silent history and room for blocks of up to `max_block` samples.
    pub(crate) fn new(max_block: usize) -> Self {
        Self {
            buf: vec![0.0; HISTORY + max_block + PADDING],
        }
    }

    /// Zeroes the history.
    pub(crate) fn reset(&mut self) {
        self.buf.fill(0.0);
    }

    /// Stores a block after the history. Interval `i` of the block's scan
    /// (`i` in `0 .. x.len()`) then lies between input samples
    /// `start − HALF_TAPS + i` and `start − HALF_TAPS + i + 1`, where `start`
    /// is the position of `x[0]` in the stream: the first `HALF_TAPS`
    /// intervals belong to the previous block (they needed this block's
    /// samples as look-ahead).
    pub(crate) fn load(&mut self, x: &[f64]) {
        for (d, &s) in self.buf[HISTORY..HISTORY + x.len()].iter_mut().zip(x) {
            *d = s as f32;
        }
    }

    /// The buffer to pass to [`Interpolator::scan`].
    pub(crate) fn samples(&self) -> &[f32] {
        &self.buf
    }

    /// Keeps the last `HISTORY` samples of a block of `len` samples as the
    /// history of the next block.
    pub(crate) fn advance(&mut self, len: usize) {
        self.buf.copy_within(len..len + HISTORY, 0);
    }

    /// Sets the history to the last `HISTORY` samples of `x` (a block that
    /// was never [`TruePeakBuffer::load`]ed because no scan needed it).
    pub(crate) fn skip(&mut self, x: &[f64]) {
        let tail = &x[x.len() - HISTORY..];
        for (d, &s) in self.buf[..HISTORY].iter_mut().zip(tail) {
            *d = s as f32;
        }
    }

    /// A copy of the history followed by `x` and `HISTORY` zeros (the
    /// stream's end, "flushed" with silence), padded for [`Interpolator::scan`].
    /// Scanning all `x.len() + HISTORY` intervals covers every interpolated
    /// point up to the last one influenced by the input.
    pub(crate) fn flushed(&self, x: &[f64]) -> Vec<f32> {
        let mut v = Vec::with_capacity(2 * HISTORY + x.len() + PADDING);
        v.extend_from_slice(&self.buf[..HISTORY]);
        v.extend(x.iter().map(|&s| s as f32));
        v.resize(2 * HISTORY + x.len() + PADDING, 0.0);
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phase_zero_is_the_sample() {
        for l in [4, 8, 16] {
            let ip = Interpolator::new(l);
            let c = &ip.phases()[0];
            for (k, &v) in c.iter().enumerate() {
                let want = if k == HALF_TAPS - 1 { 1.0 } else { 0.0 };
                assert!((v - want).abs() < 1e-15, "L={l} k={k}: {v}");
            }
        }
    }

    #[test]
    fn pass_band_is_flat_to_0_35_fs() {
        let ip = Interpolator::new(4);
        for &f in &[0.01, 0.1, 0.1667, 0.25, 0.3, 0.35] {
            for (p, c) in ip.phases().iter().enumerate().skip(1) {
                let (mut re, mut im) = (0.0, 0.0);
                for (k, &ck) in c.iter().enumerate() {
                    let t = 2.0
                        * std::f64::consts::PI
                        * f
                        * (k as f64 - (HALF_TAPS - 1) as f64 - p as f64 / 4.0);
                    re += ck * t.cos();
                    im += ck * t.sin();
                }
                let db = 10.0 * (re * re + im * im).log10();
                assert!(db.abs() < 0.012, "f={f} p={p}: {db} dB");
            }
        }
    }

    fn noise(n: usize, seed: u64) -> Vec<f64> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((s >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
            })
            .collect()
    }

    #[test]
    fn fast_kernel_matches_reference_and_skip_is_exact() {
        for l in [4, 8, 16] {
            let ip = Interpolator::new(l);
            let mut x = noise(1000, u64::from(l));
            // A few loud bursts so skipping has something to skip.
            for v in x.iter_mut().skip(300).take(20) {
                *v *= 4.0;
            }
            let want = ip.reference_max(&x);
            let mut buf: Vec<f32> = x.iter().map(|&v| v as f32).collect();
            let count = x.len() - PHASE_TAPS + 1;
            buf.resize(x.len() + PADDING, 0.0);
            let got = ip.scan(&buf, 0, count, 0.0);
            assert!(
                (f64::from(got) - want).abs() < 1e-5 * want,
                "L={l}: {got} vs {want}"
            );
            // With a floor just below the result the maximum is unchanged.
            let skipped = ip.scan(&buf, 0, count, f64::from(got) * 0.999);
            assert_eq!(skipped, got);
            // With a floor above every bound everything is skipped.
            assert_eq!(ip.scan(&buf, 0, count, 100.0), 0.0);
        }
    }
}
