//! A model of ffmpeg's true-peak reading: what `ffmpeg -af ebur128=peak=true`
//! (FFmpeg 5.1, libavfilter `f_ebur128.c`) reports as "True peak", computed
//! without ffmpeg, so that a mastered file can be checked against that peer
//! before it is written.
//!
//! # What ffmpeg does
//!
//! The ebur128 filter hands its input (as `f64`) to libswresample with only
//! the rates set, asks for 192 kHz, and keeps the largest `|sample|` of what
//! comes out, per channel; the summary prints the largest over channels in
//! dB. With swr's default options (libswresample `options.c`: `filter_size`
//! 32, `phase_shift` 10, `linear_interp` on, `exact_rational` on, `cutoff` 0
//! meaning 0.97, a Kaiser window with β = 9; checked with
//! `ffmpeg -h full` for 5.1) the resampler (`resample.c`,
//! `resample_template.c`) is:
//!
//! * **Filter.** `factor = min(192000·0.97/fs, 1)`: 1 when upsampling (the
//!   plain interpolating sinc, no extra band limit), below 1 above 197.9 kHz.
//!   `L = ceil(32/factor)` taps, rounded up to even (32 at every rate up to
//!   197.9 kHz), centre tap `c = (L−1)/2` (15). Phase `p` of `P` has taps
//!   `sinc(π·((i−c) − p/P)·factor) · I0(β·√(1 − w²))`, `w = 2·((i−c) − p/P)/L`,
//!   every phase divided by the tap sum of **phase 0** (not by its own: the
//!   other phases' DC gains are up to 1.1e-5 below 1). With
//!   `factor` 1, phase 0 is the input sample itself, and all phases sample
//!   one continuous kernel `g(i − c − t)` at `t = p/P`. Phases above `P/2`
//!   are the mirror images of those below.
//! * **Phases.** `exact_rational`: `P` is the numerator of `192000/fs` in
//!   lowest terms when that is at most 1024 (`1 << phase_shift`): 4 at
//!   48 kHz, 2 at 96 kHz, 640 at 44.1 kHz (`192000/44100 = 640/147`), 320 at
//!   88.2 kHz. Output `k` then lies exactly at input time `k·fs/192000` and
//!   uses one phase; `linear_interp` only acts when the step is not a whole
//!   number of phases. Other rates (22.05 kHz: `1280/147`; 44.056 kHz) get
//!   `P = 1024`, and each output interpolates linearly between two
//!   neighbouring phases, weighted by the fractional phase position
//!   (`frac/src_incr`, swr's integer phase accumulator), as swr does.
//! * **Start and end.** swr waits for `L + 1` input samples, then mirrors the
//!   start (`x[−n] = x[n]`); output 0 lies on input sample 0. The filter never
//!   flushes the resampler, so outputs whose `L` taps would reach past the
//!   last input sample never exist: the last 16 input samples (at 32 taps)
//!   only count through the interpolated points before them. A file shorter
//!   than `L + 1` frames reads 0 (−∞ dB).
//! * **192 kHz input** is not resampled: the reading is the sample peak.
//!
//! The model repeats this arithmetic in `f64`. Against ffmpeg 5.1 it agrees
//! to the digits ffmpeg prints (with a 10^6 gain in front: 9 significant
//! digits, differences below 2e-8 dB) on noise bursts, full-band noise,
//! sines at 15–21 kHz, clipped noise and music at 44.1, 48 and 96 kHz
//! (`tests/ffmpeg_true_peak.rs` runs ffmpeg), and in checks by hand at 8,
//! 11.025, 22.05, 44.056, 64, 88.2, 176.4, 192, 352.8, 384 and 768 kHz
//! (BENCHMARKS.md).
//!
//! # Speed: computing few outputs, exactly
//!
//! 192 000 outputs a second of 32 taps each per channel is a lot of work;
//! nearly all of it can be ruled out without changing the result. The
//! input is taken in runs of 8 intervals `[n, n+1)` (all outputs
//! whose centre tap is one of those `n`), and a run is computed only if a
//! bound on its outputs can reach the channel's largest output so far:
//!
//! 1. `B·max|x|` over the run's window, `B` = the largest `Σ|taps|` of any
//!    phase (2.35): skips quiet passages.
//! 2. (`factor` 1.) The continuous interpolant `Y(n + t) = Σ g(i − c − t)·x`
//!    at `t` = 0, ¼, ½, ¾, 1 with only the central 8 taps (`f32`, 8
//!    intervals at a time in SIMD lanes, mirrored taps folded), plus
//!    `Σ|taps left out|·max|x|` (0.30·max|x|), plus — when the outputs are
//!    not all on that grid (44.1 kHz, linear-interpolation rates) — the
//!    linear-interpolation error `(¼)²/8 · max|Y''|` with
//!    `|Y''| ≤ Σ|g''|·max|x|` (0.10·max|x|). A linearly interpolated output
//!    lies between two phase values, so the bound covers those rates too.
//! 3. The same with the central 16 taps.
//! 4. The run's outputs in `f64`, as swr computes them.
//!
//! Each bound includes the `f32` rounding (`ROUNDING`) and is checked
//! against the exact outputs in the tests, on signals built to stress it.
//! On loud masters 1–3 % of runs pass step 2 and 0.1–0.3 % step 3. Within
//! each chunk of input the run with the largest step-2 bound is computed
//! first, so a rising level does not make every run a new maximum. The
//! result is exactly the `f64` model's, whatever the block sizes.
//!
//! Measured (`examples/ffmpeg_true_peak.rs`, one core of the shared
//! development machine, baseline x86-64 build): 10 minutes of 48 kHz
//! stereo take about 0.1 s for music-like signals and 0.3 s for full-band
//! white noise at −3 dBFS (the worst case: every run reaches step 2), i.e.
//! 90–250 million frames a second; per frame the same at 44.1 kHz, and at
//! 96 kHz per second of audio twice that.

use mixmaster_core::CoreError;
use mixmaster_core::buffer::check_planar;
use mixmaster_core::units::amplitude_to_db;

use crate::error::MeterError;
use crate::meter::{MAX_CHANNELS, MAX_SAMPLE_RATE_HZ, MIN_SAMPLE_RATE_HZ};

/// The rate ffmpeg's ebur128 filter resamples to for true peak
/// (`f_ebur128.c`: `out_sample_rate` 192000).
pub const FFMPEG_TRUE_PEAK_RATE_HZ: u32 = 192_000;
/// swr's default `filter_size` (libswresample `options.c`).
pub const SWR_FILTER_SIZE: usize = 32;
/// swr's default `phase_shift`: at most `1 << 10` phases.
pub const SWR_PHASE_SHIFT: u32 = 10;
/// swr's cutoff when the `cutoff` option is 0, its default
/// (`resample_init`).
pub const SWR_CUTOFF: f64 = 0.97;
/// swr's default Kaiser window β (`kaiser_beta`).
pub const SWR_KAISER_BETA: f64 = 9.0;
/// Input intervals per run (the lanes of the `f32` bound kernel).
const RUN: usize = 8;
/// Frames taken into the internal buffers at a time (bounds the memory
/// `process` uses whatever the caller's block size; a multiple of [`RUN`]).
const CHUNK: usize = 8192;
/// Points per input interval of the bound's grid (`t = j/GRID`).
const GRID: usize = 4;
/// Relative rounding allowance of the `f32` bound kernel, against
/// `B·max|x|`: inputs and taps rounded to `f32` (2·2^-24) and at most 16
/// products summed (16·2^-24), with a factor 2 to spare.
const ROUNDING: f64 = 40.0 * f32::EPSILON as f64;

/// The resampler swr builds for one input rate, as modelled.
#[derive(Debug, Clone, PartialEq)]
pub struct SwrDesign {
    /// Input sample rate.
    pub sample_rate_hz: u32,
    /// Whether swr resamples at all (not at 192 kHz).
    pub resampling: bool,
    /// `min(192000·0.97/fs, 1)`: 1 when upsampling.
    pub factor: f64,
    /// Taps per phase (`L`).
    pub filter_length: usize,
    /// Phases (`P`).
    pub phase_count: usize,
    /// Whether each output interpolates between two phases (rates whose
    /// ratio to 192 kHz has a numerator above 1024).
    pub linear_interp: bool,
}

impl SwrDesign {
    /// The resampler swr builds for `fs → 192 kHz` with default options
    /// (`resample_init`).
    pub fn for_rate(sample_rate_hz: u32) -> Self {
        let fs = u64::from(sample_rate_hz.max(1));
        let out = u64::from(FFMPEG_TRUE_PEAK_RATE_HZ);
        let factor = (out as f64 * SWR_CUTOFF / fs as f64).min(1.0);
        let mut filter_length = ((SWR_FILTER_SIZE as f64 / factor).ceil() as usize).max(1);
        if filter_length > 1 {
            filter_length += filter_length % 2;
        }
        // exact_rational: the reduced numerator of out/in, if small enough.
        let num = out / gcd(out, fs);
        let phase_count = num.min(1 << SWR_PHASE_SHIFT) as usize;
        SwrDesign {
            sample_rate_hz,
            resampling: fs != out,
            factor,
            filter_length,
            phase_count,
            linear_interp: !(fs * phase_count as u64).is_multiple_of(out),
        }
    }

    /// swr's phase step per output: `av_reduce(192000, fs·P)` into
    /// `src_incr`, `dst_incr`, both doubled while below 2^20, then
    /// `dst_incr / src_incr` and `dst_incr % src_incr`.
    fn stepping(&self) -> Stepping {
        let out = u64::from(FFMPEG_TRUE_PEAK_RATE_HZ);
        let inp = u64::from(self.sample_rate_hz) * self.phase_count as u64;
        let g = gcd(out, inp);
        let (mut src, mut dst) = (out / g, inp / g);
        while dst < 1 << 20 && src < 1 << 20 {
            dst *= 2;
            src *= 2;
        }
        Stepping {
            src_incr: src,
            div: dst / src,
            modulo: dst % src,
            phases: self.phase_count as u64,
        }
    }
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// swr's phase step per output.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Stepping {
    src_incr: u64,
    div: u64,
    modulo: u64,
    phases: u64,
}

/// Where one output lies: its interval `n` (the input sample of its centre
/// tap), phase and fractional phase (`frac` of swr, in `src_incr` units).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Position {
    interval: i64,
    phase: usize,
    frac: u64,
}

impl Stepping {
    /// Output `k`'s position. swr adds `div` phases and `modulo` to `frac`
    /// per output, carrying a phase when `frac` reaches `src_incr`, from 0:
    /// after `k` outputs that is `k·div + ⌊k·modulo/src_incr⌋` phases.
    fn position(&self, k: u64) -> Position {
        let m = u128::from(k) * u128::from(self.modulo);
        let src = u128::from(self.src_incr);
        let phases = u128::from(k) * u128::from(self.div) + m / src;
        let p = u128::from(self.phases);
        Position {
            interval: (phases / p) as i64,
            phase: (phases % p) as usize,
            frac: (m % src) as u64,
        }
    }

    /// The first output whose interval is at least `n` (≥ 0).
    fn first_output_in(&self, n: i64) -> u64 {
        let n = n.max(0) as u128;
        // k·(div·src + modulo) ≈ n·P·src, then step to the exact one.
        let per = u128::from(self.div) * u128::from(self.src_incr) + u128::from(self.modulo);
        let mut k = (n * u128::from(self.phases) * u128::from(self.src_incr) / per) as u64;
        while self.position(k).interval < n as i64 {
            k += 1;
        }
        while k > 0 && self.position(k - 1).interval >= n as i64 {
            k -= 1;
        }
        k
    }
}

/// Modified Bessel function of the first kind, order 0 (power series; swr
/// uses a rational approximation of the same function, equal to ~1e-16).
fn bessel_i0(x: f64) -> f64 {
    let q = x * x / 4.0;
    let (mut sum, mut term) = (1.0f64, 1.0f64);
    for k in 1..500u32 {
        term *= q / f64::from(k * k);
        sum += term;
        if term < 1e-18 * sum {
            break;
        }
    }
    sum
}

/// swr's polyphase bank (`build_filter` for `AV_SAMPLE_FMT_DBLP`), plus the
/// extra phase `P` that `resample_init` appends for the linear
/// interpolation: phase 0 one tap later (its first tap is phase 0's slot
/// `alloc − 1`, `alloc` = `L` rounded up to 8, zero beyond `L`).
fn build_bank(factor: f64, taps: usize, phases: usize, beta: f64) -> Vec<f64> {
    use std::f64::consts::PI;
    let centre = (taps - 1) / 2;
    let computed = if phases % 2 == 1 {
        phases
    } else {
        phases / 2 + 1
    };
    let mut bank = vec![0.0; (phases + 1) * taps];
    let mut tab = vec![0.0; taps];
    let mut norm = 0.0;
    for ph in 0..computed {
        // With factor 1, sin(x) at every tap is ±sin(π·ph/P) (swr's sin_lut).
        let sign = if centre % 2 == 1 { 1.0 } else { -1.0 };
        let mut s = (PI * ph as f64 / phases as f64).sin() * sign;
        for (i, t) in tab.iter_mut().enumerate() {
            let x = PI * ((i as f64 - centre as f64) - ph as f64 / phases as f64) * factor;
            let mut y = if x == 0.0 {
                1.0
            } else if factor == 1.0 {
                s / x
            } else {
                x.sin() / x
            };
            let w = 2.0 * x / (factor * taps as f64 * PI);
            y *= bessel_i0(beta * (1.0 - w * w).max(0.0).sqrt());
            *t = y;
            s = -s;
            if ph == 0 {
                norm += y;
            }
        }
        for (i, &t) in tab.iter().enumerate() {
            bank[ph * taps + i] = t / norm;
        }
        if phases.is_multiple_of(2) {
            // In swr's order (phase P/2 mirrors onto itself).
            for i in 0..taps {
                bank[(phases - ph) * taps + taps - 1 - i] = bank[ph * taps + i];
            }
        }
    }
    let alloc = taps.div_ceil(8) * 8;
    let first = if alloc == taps { bank[taps - 1] } else { 0.0 };
    let extra = phases * taps;
    for i in (1..taps).rev() {
        bank[extra + i] = bank[i - 1];
    }
    bank[extra] = first;
    bank
}

/// `Σ taps[i]·x[i]` in `f64`, in tap order (as swr's C loop).
#[inline]
fn dot(taps: &[f64], x: &[f64]) -> f64 {
    taps.iter().zip(x).map(|(a, b)| a * b).sum()
}

/// The larger of two numbers that are not NaN (one `maxss`; `f32::max`
/// also orders NaNs, which costs several instructions here).
#[inline(always)]
fn larger(a: f32, b: f32) -> f32 {
    if a > b { a } else { b }
}

/// Largest `|x|` (0 for an empty slice).
#[inline]
fn max_abs(x: &[f32]) -> f32 {
    let mut lanes = [0f32; RUN];
    let mut chunks = x.chunks_exact(RUN);
    for c in &mut chunks {
        for l in 0..RUN {
            lanes[l] = larger(c[l].abs(), lanes[l]);
        }
    }
    // The last RUN samples again (overlapping) instead of a scalar tail.
    if !chunks.remainder().is_empty()
        && let Some(c) = x.last_chunk::<RUN>()
    {
        for l in 0..RUN {
            lanes[l] = larger(c[l].abs(), lanes[l]);
        }
    }
    let mut m = max_lane(lanes);
    if x.len() < RUN {
        for &v in x {
            m = larger(v.abs(), m);
        }
    }
    m
}

/// Largest lane, by halving.
#[inline(always)]
fn max_lane(v: [f32; RUN]) -> f32 {
    let mut h = [0f32; RUN / 2];
    for l in 0..RUN / 2 {
        h[l] = larger(v[l], v[l + RUN / 2]);
    }
    larger(larger(h[0], h[2]), larger(h[1], h[3]))
}

/// A coefficient broadcast to the lanes, aligned so that the kernel
/// multiplies straight from memory.
#[derive(Debug, Clone, Copy, PartialEq)]
#[repr(align(32))]
struct Splat([f32; RUN]);

/// The interpolant on the grid `t = ¼, ½, ¾` with the central `2·pairs`
/// taps, folded: tap `i` and its mirror `L−1−i` share `lo + hi` and
/// `lo − hi`; `t = ¾` is `t = ¼` mirrored, so `max(|y¼|, |y¾|) = |A| + |B|`.
#[derive(Debug, Clone)]
struct GridStage {
    /// Tap index of the first (leftmost) kept tap.
    first_tap: usize,
    /// Per pair: `½(g¼[i] + g¼[L−1−i])`.
    sum: Vec<Splat>,
    /// Per pair: `½(g¼[i] − g¼[L−1−i])`.
    diff: Vec<Splat>,
    /// Per pair: `g½[i]` (`= g½[L−1−i]`).
    mid: Vec<Splat>,
    /// `max over the grid phases of Σ|taps left out|`.
    tail_gain: f64,
}

impl GridStage {
    /// `grid` holds the `GRID` phases `t = j/4` of the continuous kernel.
    fn new(grid: &[f64], taps: usize, kept: usize) -> Self {
        let centre = (taps - 1) / 2;
        let first_tap = centre + 1 - kept / 2;
        let row = |j: usize| &grid[j * taps..(j + 1) * taps];
        let (q, h) = (row(1), row(2));
        let pair = |p: usize| (first_tap + p, taps - 1 - first_tap - p);
        let splat = |f: &dyn Fn(usize, usize) -> f64| -> Vec<Splat> {
            (0..kept / 2)
                .map(|p| {
                    let (i, m) = pair(p);
                    Splat([f(i, m) as f32; RUN])
                })
                .collect()
        };
        let tail_gain = (1..GRID)
            .map(|j| {
                row(j)
                    .iter()
                    .enumerate()
                    .filter(|&(i, _)| i < first_tap || i >= first_tap + kept)
                    .map(|(_, c)| c.abs())
                    .sum::<f64>()
            })
            .fold(0.0, f64::max);
        GridStage {
            first_tap,
            sum: splat(&|i, m| 0.5 * (q[i] + q[m])),
            diff: splat(&|i, m| 0.5 * (q[i] - q[m])),
            mid: splat(&|i, m| 0.5 * (h[i] + h[m])),
            tail_gain,
        }
    }

    /// The largest `|approximation|` over the grid of the run whose first
    /// interval's sample is `x[at]` (the samples, `t = 0` and `1`, included).
    #[inline]
    fn run_max(&self, x: &[f32], at: usize, taps: usize) -> f32 {
        let from = at + self.first_tap - (taps - 1) / 2;
        let lanes = match self.sum.len() {
            4 => grid_kernel::<4, 15>(self, x, from),
            8 => grid_kernel::<8, 23>(self, x, from),
            // Not built (32 taps give 4 and 8 pairs): no bound.
            _ => None,
        };
        lanes.map_or(f32::INFINITY, max_lane)
    }
}

/// `RUN` consecutive samples of a window from `at`.
#[inline(always)]
fn lanes<const WIN: usize>(w: &[f32; WIN], at: usize) -> &[f32; RUN] {
    w[at..at + RUN].try_into().unwrap_or(&[0.0; RUN])
}

/// The grid kernel for `PAIRS` folded tap pairs over the `WIN =
/// 2·PAIRS + RUN − 1` samples from `x[from]` (the leftmost kept tap of the
/// run's first interval): per lane (interval), the largest `|value|` on the
/// grid. All offsets are constants. Not inlined: its result is then stored
/// as an array, which lets the compiler vectorise the whole computation
/// across the lanes.
#[inline(never)]
fn grid_kernel<const PAIRS: usize, const WIN: usize>(
    stage: &GridStage,
    x: &[f32],
    from: usize,
) -> Option<[f32; RUN]> {
    let (Some(sum), Some(diff), Some(mid), Some(w)) = (
        stage.sum.first_chunk::<PAIRS>(),
        stage.diff.first_chunk::<PAIRS>(),
        stage.mid.first_chunk::<PAIRS>(),
        x.get(from..).and_then(|x| x.first_chunk::<WIN>()),
    ) else {
        return None;
    };
    let (mut a, mut b, mut m) = ([0f32; RUN], [0f32; RUN], [0f32; RUN]);
    // Indexed (not an iterator) so the pair loop unrolls completely.
    #[allow(clippy::needless_range_loop)]
    for p in 0..PAIRS {
        let (lo, hi) = (lanes(w, p), lanes(w, 2 * PAIRS - 1 - p));
        let (cs, cd, cm) = (&sum[p].0, &diff[p].0, &mid[p].0);
        for l in 0..RUN {
            let s = lo[l] + hi[l];
            let d = lo[l] - hi[l];
            a[l] += cs[l] * s;
            b[l] += cd[l] * d;
            m[l] += cm[l] * s;
        }
    }
    // The samples at t = 0 and t = 1 of each interval.
    let (x0, x1) = (lanes(w, PAIRS - 1), lanes(w, PAIRS));
    let mut v = [0f32; RUN];
    for l in 0..RUN {
        let q = a[l].abs() + b[l].abs();
        v[l] = larger(larger(q, m[l].abs()), larger(x0[l].abs(), x1[l].abs()));
    }
    Some(v)
}

/// The bound's tables (designs with `factor` 1).
#[derive(Debug, Clone)]
struct Grid {
    /// Central 8 taps, then central 16.
    stages: [GridStage; 2],
    /// `(¼)²/8 · max_t Σ|g''(i − c − t)|` when outputs lie between grid
    /// points, else 0.
    curvature_gain: f64,
}

impl Grid {
    fn new(design: &SwrDesign) -> Self {
        let taps = design.filter_length;
        let grid = build_bank(1.0, taps, GRID, SWR_KAISER_BETA);
        let on_grid = !design.linear_interp && GRID.is_multiple_of(design.phase_count);
        Grid {
            stages: [
                GridStage::new(&grid, taps, 8),
                GridStage::new(&grid, taps, 16),
            ],
            curvature_gain: if on_grid {
                0.0
            } else {
                let h = 1.0 / GRID as f64;
                h * h / 8.0 * second_derivative_gain(taps, SWR_KAISER_BETA)
            },
        }
    }
}

/// `max over t ∈ [0, 1] of Σ_i |g''(i − c − t)|` for the kernel with
/// `factor` 1 (normalised like swr's, `g(0) = 1`), sampled at 1/256 with a
/// 3 % margin for the variation between samples (checked against a
/// 1/4096 grid in the tests) and for the difference quotient.
fn second_derivative_gain(taps: usize, beta: f64) -> f64 {
    use std::f64::consts::PI;
    let centre = (taps - 1) / 2;
    let i0_beta = bessel_i0(beta);
    let g = |u: f64| {
        let w = 2.0 * u / taps as f64;
        let sinc = if u == 0.0 {
            1.0
        } else {
            (PI * u).sin() / (PI * u)
        };
        sinc * bessel_i0(beta * (1.0 - w * w).max(0.0).sqrt()) / i0_beta
    };
    let h = 1e-3;
    let mut best = 0f64;
    for s in 0..=256 {
        let t = f64::from(s) / 256.0;
        let sum: f64 = (0..taps)
            .map(|i| {
                let u = i as f64 - centre as f64 - t;
                ((g(u + h) - 2.0 * g(u) + g(u - h)) / (h * h)).abs()
            })
            .sum();
        best = best.max(sum);
    }
    best * 1.03
}

/// Per-channel state.
#[derive(Debug, Clone)]
struct Channel {
    x64: Vec<f64>,
    x32: Vec<f32>,
    /// Valid samples in the buffers.
    len: usize,
    /// Stream index of `x64[0]`.
    start: i64,
    /// Largest `|output|` of the complete runs.
    peak: f64,
    /// Step-2 bound of each complete run of the current chunk (−1: ruled
    /// out by step 1).
    bounds: Vec<f64>,
}

/// ffmpeg's `ebur128=peak=true` reading, streamed. See the module docs.
///
/// ```
/// use mixmaster_meter::FfmpegTruePeak;
///
/// let fs = 48_000;
/// let mut tp = FfmpegTruePeak::new(fs, 1).expect("valid rate and channels");
/// // An fs/4 sine at 45° with 10 ms fades: the samples are ±0.5·√½
/// // (−9.03 dBFS), the crests (0.5, −6.02 dB) lie half-way between
/// // samples, where 48 kHz → 192 kHz has an output.
/// let x: Vec<f64> = (0..fs)
///     .map(|n| {
///         let fade = (f64::from(n.min(fs - 1 - n)) / 480.0).min(1.0);
///         let phase = std::f64::consts::FRAC_PI_2 * f64::from(n) + std::f64::consts::FRAC_PI_4;
///         fade * 0.5 * phase.sin()
///     })
///     .collect();
/// tp.process(&[&x]).expect("one channel");
/// assert!((tp.peak_dbtp() + 6.02).abs() < 0.005);
/// ```
#[derive(Debug, Clone)]
pub struct FfmpegTruePeak {
    design: SwrDesign,
    centre: usize,
    /// `(phase_count + 1) × filter_length` taps (see [`build_bank`]).
    bank: Vec<f64>,
    step: Stepping,
    /// `max over phases of Σ|taps|`.
    bound_gain: f64,
    grid: Option<Grid>,
    channels: Vec<Channel>,
    frames: u64,
    started: bool,
    /// First interval of the next run to compute (a multiple of [`RUN`]).
    next_run: i64,
    /// One channel's chunk of interleaved input, de-interleaved.
    scratch: Vec<f64>,
}

impl FfmpegTruePeak {
    /// A model for `sample_rate_hz` (8000 ..= 768000) and `channels`
    /// (1 ..= 64); errors name the argument and its range. Allocates
    /// everything it needs.
    pub fn new(sample_rate_hz: u32, channels: usize) -> Result<Self, MeterError> {
        if !(MIN_SAMPLE_RATE_HZ..=MAX_SAMPLE_RATE_HZ).contains(&sample_rate_hz) {
            return Err(CoreError::OutOfRange {
                name: "sample_rate_hz",
                value: f64::from(sample_rate_hz),
                range: "8000 ..= 768000",
            }
            .into());
        }
        if !(1..=MAX_CHANNELS).contains(&channels) {
            return Err(CoreError::OutOfRange {
                name: "channels",
                value: channels as f64,
                range: "1 ..= 64",
            }
            .into());
        }
        let design = SwrDesign::for_rate(sample_rate_hz);
        let taps = design.filter_length;
        let bank = build_bank(design.factor, taps, design.phase_count, SWR_KAISER_BETA);
        let bound_gain = bank
            .chunks_exact(taps)
            .map(|row| row.iter().map(|c| c.abs()).sum::<f64>())
            .fold(0.0, f64::max);
        // Kept between chunks: a run's window (RUN + L samples), or before
        // the start the mirror room plus L + 1 frames.
        let keep = RUN + 2 * taps + 2;
        let channel = Channel {
            x64: vec![0.0; keep + CHUNK],
            x32: vec![0.0; keep + CHUNK],
            len: 0,
            start: 0,
            peak: 0.0,
            bounds: vec![0.0; (keep + CHUNK) / RUN + 1],
        };
        let mut model = FfmpegTruePeak {
            centre: (taps - 1) / 2,
            step: design.stepping(),
            grid: (design.factor == 1.0).then(|| Grid::new(&design)),
            design,
            bank,
            bound_gain,
            channels: vec![channel; channels],
            frames: 0,
            started: false,
            next_run: 0,
            scratch: vec![0.0; CHUNK],
        };
        model.reset();
        Ok(model)
    }

    /// The resampler being modelled.
    pub fn design(&self) -> &SwrDesign {
        &self.design
    }

    /// Channels.
    pub fn channels(&self) -> usize {
        self.channels.len()
    }

    /// Frames fed since creation or the last [`FfmpegTruePeak::reset`].
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Forgets the input, keeping allocations.
    pub fn reset(&mut self) {
        let centre = self.centre as i64;
        for ch in &mut self.channels {
            ch.len = 0;
            ch.start = -centre;
            ch.peak = 0.0;
        }
        self.frames = 0;
        self.started = !self.design.resampling;
        self.next_run = 0;
    }

    /// ffmpeg's true peak of the input so far, linear: the largest over
    /// channels (its summary's "Peak", in dB there). ffmpeg never flushes
    /// the resampler, so this is its reading if the stream ends here.
    pub fn peak(&self) -> f64 {
        self.channel_peaks().fold(0.0, f64::max)
    }

    /// [`FfmpegTruePeak::peak`] in dBTP (−∞ while no output exists).
    pub fn peak_dbtp(&self) -> f64 {
        amplitude_to_db(self.peak())
    }

    /// Per-channel peaks, linear (ffmpeg's `lavfi.r128.true_peaks_chN`).
    /// Outputs after the last complete run (at most 8 input intervals'
    /// worth) are computed here, not stored.
    pub fn channel_peaks(&self) -> impl Iterator<Item = f64> + '_ {
        self.channels
            .iter()
            .map(|ch| ch.peak.max(self.pending_peak(ch)))
    }

    /// Feeds one planar block: one slice per channel, all of equal length
    /// (any, including 0). Non-finite samples count as 0.0. A block with
    /// the wrong channel count or ragged channels is rejected whole. Never
    /// allocates.
    pub fn process<S: AsRef<[f64]>>(&mut self, channels: &[S]) -> Result<(), MeterError> {
        self.check_channels(channels.len())?;
        let frames = check_planar(channels)?;
        let mut pos = 0;
        while pos < frames {
            let n = CHUNK.min(frames - pos);
            for (c, src) in channels.iter().enumerate() {
                self.feed_channel(c, &src.as_ref()[pos..pos + n]);
            }
            self.after_chunk(n);
            pos += n;
        }
        Ok(())
    }

    /// Feeds interleaved samples (`frame0ch0, frame0ch1, …`); the length
    /// must be a multiple of the channel count.
    pub fn process_interleaved(&mut self, samples: &[f64]) -> Result<(), MeterError> {
        let ch = self.channels.len();
        let partial = samples.len() % ch;
        if partial != 0 {
            return Err(CoreError::RaggedChannels {
                channel: partial,
                frames: samples.len() / ch,
                expected: samples.len() / ch + 1,
            }
            .into());
        }
        let frames = samples.len() / ch;
        let mut pos = 0;
        while pos < frames {
            let n = CHUNK.min(frames - pos);
            for c in 0..ch {
                let mut scratch = std::mem::take(&mut self.scratch);
                let src = samples[pos * ch + c..].iter().step_by(ch);
                for (d, s) in scratch[..n].iter_mut().zip(src) {
                    *d = *s;
                }
                self.feed_channel(c, &scratch[..n]);
                self.scratch = scratch;
            }
            self.after_chunk(n);
            pos += n;
        }
        Ok(())
    }

    fn check_channels(&self, got: usize) -> Result<(), MeterError> {
        if got != self.channels.len() {
            return Err(CoreError::ChannelCount {
                got,
                expected: self.channels.len(),
            }
            .into());
        }
        Ok(())
    }

    /// Whether every output of run `n0` has its window in the input so far
    /// (ending at stream index `end`, exclusive).
    fn run_complete(&self, n0: i64, end: i64) -> bool {
        let last_window_end =
            n0 + RUN as i64 - 1 - self.centre as i64 + self.design.filter_length as i64;
        last_window_end <= end
    }

    /// Bookkeeping after every channel took the same `n` frames and
    /// computed the same runs.
    fn after_chunk(&mut self, n: usize) {
        self.frames += n as u64;
        if !self.design.resampling {
            return;
        }
        if !self.started {
            if self.frames <= self.design.filter_length as u64 {
                return;
            }
            self.started = true;
        }
        let end = self.channels[0].start + self.channels[0].len as i64;
        while self.run_complete(self.next_run, end) {
            self.next_run += RUN as i64;
        }
        // Keep from the first sample the next run reads.
        let keep_from = self.next_run - self.centre as i64;
        for ch in &mut self.channels {
            let drop = (keep_from - ch.start).clamp(0, ch.len as i64) as usize;
            ch.x64.copy_within(drop..ch.len, 0);
            ch.x32.copy_within(drop..ch.len, 0);
            ch.len -= drop;
            ch.start += drop as i64;
        }
    }

    /// Appends `x` (at most [`CHUNK`] frames) to channel `c` and computes
    /// every run it completes.
    fn feed_channel(&mut self, c: usize, x: &[f64]) {
        if !self.design.resampling {
            let ch = &mut self.channels[c];
            ch.peak = x
                .iter()
                .filter(|v| v.is_finite())
                .fold(ch.peak, |m, v| m.max(v.abs()));
            return;
        }
        let centre = self.centre;
        let ch = &mut self.channels[c];
        // Before the start the buffer fills from the mirror room on.
        let at = if self.started {
            ch.len
        } else {
            centre + self.frames as usize
        };
        let to = at..at + x.len();
        for ((d64, d32), &v) in ch.x64[to.clone()].iter_mut().zip(&mut ch.x32[to]).zip(x) {
            let v = if v.is_finite() { v } else { 0.0 };
            *d64 = v;
            *d32 = v as f32;
        }
        ch.len = at + x.len();
        if !self.started {
            if self.frames + x.len() as u64 <= self.design.filter_length as u64 {
                return;
            }
            // swr has L + 1 samples: it mirrors the start, x[−n] = x[n].
            for i in 0..centre {
                ch.x64[i] = ch.x64[2 * centre - i];
                ch.x32[i] = ch.x32[2 * centre - i];
            }
        }
        let end = ch.start + ch.len as i64;
        let mut ch = std::mem::replace(&mut self.channels[c], Channel::empty());
        self.scan_runs(&mut ch, end);
        self.channels[c] = ch;
    }

    /// Steps 1–4 of the module docs over every complete run from
    /// `next_run`: step-1/2 bounds for all runs first, then the run with
    /// the largest bound, then the others that can still reach the peak.
    fn scan_runs(&self, ch: &mut Channel, end: i64) {
        let mut count = 0;
        let mut best = (f64::NEG_INFINITY, 0);
        let mut n0 = self.next_run;
        while self.run_complete(n0, end) {
            let u = self.first_bound(ch, n0);
            ch.bounds[count] = u;
            if u > best.0 {
                best = (u, count);
            }
            count += 1;
            n0 += RUN as i64;
        }
        if count == 0 {
            return;
        }
        let run = |r: usize| self.next_run + (r * RUN) as i64;
        if best.0 >= ch.peak {
            self.refine(ch, run(best.1));
            ch.bounds[best.1] = -1.0;
        }
        for r in 0..count {
            if ch.bounds[r] >= ch.peak {
                self.refine(ch, run(r));
            }
        }
    }

    /// `B·max|x|` over run `n0`'s window and `M = max|x|`.
    fn window_bound(&self, ch: &Channel, n0: i64) -> (f64, f64) {
        let at = (n0 - self.centre as i64 - ch.start) as usize;
        let m = f64::from(max_abs(
            &ch.x32[at..at + RUN - 1 + self.design.filter_length],
        ));
        (self.bound_gain * m * (1.0 + ROUNDING), m)
    }

    /// Steps 1 and 2: an upper bound on `|output|` over run `n0` (−1 when
    /// step 1 already rules it out).
    fn first_bound(&self, ch: &Channel, n0: i64) -> f64 {
        let (bound, m) = self.window_bound(ch, n0);
        if bound < ch.peak {
            return -1.0;
        }
        match &self.grid {
            Some(grid) => self.grid_bound(grid, 0, ch, n0, m).min(bound),
            None => bound,
        }
    }

    /// The grid bound of stage `s` for run `n0` (max|x| = `m`).
    fn grid_bound(&self, grid: &Grid, s: usize, ch: &Channel, n0: i64, m: f64) -> f64 {
        let stage = &grid.stages[s];
        let at = (n0 - ch.start) as usize;
        let approx = f64::from(stage.run_max(&ch.x32, at, self.design.filter_length));
        approx + (stage.tail_gain + grid.curvature_gain + ROUNDING * self.bound_gain) * m
    }

    /// Steps 3 and 4 for run `n0`.
    fn refine(&self, ch: &mut Channel, n0: i64) {
        if let Some(grid) = &self.grid {
            let (_, m) = self.window_bound(ch, n0);
            if self.grid_bound(grid, 1, ch, n0, m) < ch.peak {
                return;
            }
        }
        let peak = self.outputs_peak(ch, n0, n0 + RUN as i64);
        ch.peak = ch.peak.max(peak);
    }

    /// The largest `|output|` in `f64` over the outputs of intervals
    /// `from .. to` whose windows lie in the channel's buffer.
    fn outputs_peak(&self, ch: &Channel, from: i64, to: i64) -> f64 {
        let taps = self.design.filter_length;
        let end = ch.start + ch.len as i64;
        let inv = 1.0 / self.step.src_incr as f64;
        let row = |p: usize| &self.bank[p * taps..(p + 1) * taps];
        let mut best = 0f64;
        let mut k = self.step.first_output_in(from);
        loop {
            let pos = self.step.position(k);
            let start = pos.interval - self.centre as i64;
            if pos.interval >= to || start + taps as i64 > end {
                return best;
            }
            let at = (start - ch.start) as usize;
            let w = &ch.x64[at..at + taps];
            let mut v = dot(row(pos.phase), w);
            if self.design.linear_interp {
                let v2 = dot(row(pos.phase + 1), w);
                v += (v2 - v) * inv * pos.frac as f64;
            }
            best = best.max(v.abs());
            k += 1;
        }
    }

    /// Outputs after the complete runs whose windows are already in: part
    /// of ffmpeg's reading if the stream ends here.
    fn pending_peak(&self, ch: &Channel) -> f64 {
        if !self.design.resampling || !self.started {
            return 0.0;
        }
        self.outputs_peak(ch, self.next_run, i64::MAX)
    }

    /// The whole-signal model of one channel in plain `f64`, output after
    /// output with swr's stepping (the scalar twin the tests compare the
    /// streaming path with).
    pub fn reference_channel_peak(&self, x: &[f64]) -> f64 {
        let x: Vec<f64> = x
            .iter()
            .map(|&v| if v.is_finite() { v } else { 0.0 })
            .collect();
        if !self.design.resampling {
            return x.iter().fold(0.0, |m, v| m.max(v.abs()));
        }
        let taps = self.design.filter_length;
        let centre = self.centre;
        if x.len() <= taps {
            return 0.0;
        }
        let mut padded: Vec<f64> = (1..=centre).rev().map(|n| x[n]).collect();
        padded.extend_from_slice(&x);
        let step = self.step;
        let inv = 1.0 / step.src_incr as f64;
        let row = |p: usize| &self.bank[p * taps..(p + 1) * taps];
        // swr's sample_index (first tap), index (phase) and frac.
        let (mut first, mut phase, mut frac) = (0usize, 0u64, 0u64);
        let mut best = 0f64;
        while first + taps <= padded.len() {
            let w = &padded[first..first + taps];
            let mut v = dot(row(phase as usize), w);
            if self.design.linear_interp {
                let v2 = dot(row(phase as usize + 1), w);
                v += (v2 - v) * inv * frac as f64;
            }
            best = best.max(v.abs());
            frac += step.modulo;
            phase += step.div;
            if frac >= step.src_incr {
                frac -= step.src_incr;
                phase += 1;
            }
            first += (phase / step.phases) as usize;
            phase %= step.phases;
        }
        best
    }
}

impl Channel {
    /// A placeholder while a channel is borrowed out of the model.
    fn empty() -> Self {
        Channel {
            x64: Vec::new(),
            x32: Vec::new(),
            len: 0,
            start: 0,
            peak: 0.0,
            bounds: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic noise in [−1, 1).
    fn noise(n: usize, seed: u64) -> Vec<f64> {
        let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                (s >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
            })
            .collect()
    }

    /// Noise with loud bursts, quiet passages and a near-Nyquist tone: every
    /// step of the scan gets work.
    fn mixed(n: usize, fs: u32, seed: u64) -> Vec<f64> {
        let w = noise(n, seed);
        (0..n)
            .map(|i| {
                let t = i as f64 / f64::from(fs);
                let burst = if (i / 2000) % 5 == 0 { 0.9 } else { 0.05 };
                let tone = 0.3 * (2.0 * std::f64::consts::PI * 0.45 * i as f64 + t).sin();
                burst * w[i] + if (i / 3000) % 2 == 1 { tone } else { 0.0 }
            })
            .collect()
    }

    const RATES: [u32; 14] = [
        8_000, 11_025, 22_050, 32_000, 44_100, 44_056, 48_000, 64_000, 88_200, 96_000, 176_400,
        192_000, 352_800, 384_000,
    ];

    #[test]
    fn designs_follow_swr_rules() {
        // (rate, L, P, linear, resampling)
        let table = [
            (44_100, 32, 640, false, true),
            (48_000, 32, 4, false, true),
            (96_000, 32, 2, false, true),
            (88_200, 32, 320, false, true),
            (8_000, 32, 24, false, true),
            (64_000, 32, 3, false, true),
            (22_050, 32, 1024, true, true),
            (44_056, 32, 1024, true, true),
            (192_000, 34, 1, false, false),
            (352_800, 62, 80, false, true),
            (384_000, 66, 1, false, true),
            (768_000, 132, 1, false, true),
        ];
        for (fs, taps, phases, linear, resampling) in table {
            let d = SwrDesign::for_rate(fs);
            assert_eq!(
                (
                    d.filter_length,
                    d.phase_count,
                    d.linear_interp,
                    d.resampling
                ),
                (taps, phases, linear, resampling),
                "{fs} Hz: {d:?}"
            );
            let want = (192_000.0 * SWR_CUTOFF / f64::from(fs)).min(1.0);
            assert_eq!(d.factor, want, "{fs} Hz");
        }
    }

    #[test]
    fn bank_is_swrs() {
        for phases in [4usize, 3, 640] {
            let taps = 32;
            let bank = build_bank(1.0, taps, phases, SWR_KAISER_BETA);
            let row = |p: usize| &bank[p * taps..(p + 1) * taps];
            // Phase 0 is the sample itself.
            for (i, &c) in row(0).iter().enumerate() {
                assert_eq!(c, if i == 15 { 1.0 } else { 0.0 }, "P {phases}, tap {i}");
            }
            for p in 1..phases {
                let dc: f64 = row(p).iter().sum();
                // Normalised by phase 0's sum, not their own: a little low.
                assert!(
                    dc < 1.0 + 1e-15 && dc > 1.0 - 2e-5,
                    "P {phases}, phase {p}: DC {dc}"
                );
                for i in 0..taps {
                    let mirrored = row(phases - p)[taps - 1 - i];
                    assert!(
                        (row(p)[i] - mirrored).abs() < 1e-15,
                        "P {phases} p {p} i {i}"
                    );
                }
            }
            // The extra phase is phase 0 one tap later.
            assert_eq!(row(phases)[0], row(0)[taps - 1]);
            assert_eq!(&row(phases)[1..], &row(0)[..taps - 1]);
        }
    }

    #[test]
    fn closed_form_positions_follow_swr_stepping() {
        for fs in RATES {
            let d = SwrDesign::for_rate(fs);
            let step = d.stepping();
            let (mut index, mut frac, mut first) = (0u64, 0u64, 0i64);
            for k in 0..20_000u64 {
                let pos = step.position(k);
                assert_eq!(
                    (pos.interval, pos.phase as u64, pos.frac),
                    (first, index, frac),
                    "{fs} Hz, output {k}"
                );
                frac += step.modulo;
                index += step.div;
                if frac >= step.src_incr {
                    frac -= step.src_incr;
                    index += 1;
                }
                first += (index / step.phases) as i64;
                index %= step.phases;
            }
            for n in [0i64, 1, 7, 8, 147, 1000, 44_099] {
                let k = step.first_output_in(n);
                assert!(step.position(k).interval >= n, "{fs} Hz, n {n}");
                assert!(
                    k == 0 || step.position(k - 1).interval < n,
                    "{fs} Hz, n {n}"
                );
            }
        }
    }

    fn stream(fs: u32, channels: &[Vec<f64>], sizes: &[usize]) -> FfmpegTruePeak {
        let mut m = FfmpegTruePeak::new(fs, channels.len()).expect("model");
        let n = channels[0].len();
        let (mut pos, mut i) = (0, 0);
        while pos < n {
            let end = (pos + sizes[i % sizes.len()]).min(n);
            let block: Vec<&[f64]> = channels.iter().map(|c| &c[pos..end]).collect();
            m.process(&block).expect("block");
            pos = end;
            i += 1;
        }
        m
    }

    #[test]
    fn streaming_equals_the_reference_for_any_blocks() {
        for fs in RATES {
            let n = fs as usize / 4 + 37;
            let channels = [mixed(n, fs, 1), mixed(n, fs, 2)];
            let reference = FfmpegTruePeak::new(fs, 1).expect("model");
            let want: Vec<f64> = channels
                .iter()
                .map(|c| reference.reference_channel_peak(c))
                .collect();
            assert!(want[0] > 0.5, "{fs} Hz");
            for sizes in [&[n][..], &[1], &[7], &[64], &[4096], &[3, 500, 1, 9000, 17]] {
                let m = stream(fs, &channels, sizes);
                let got: Vec<f64> = m.channel_peaks().collect();
                assert_eq!(got, want, "{fs} Hz, blocks {sizes:?}");
                assert_eq!(m.peak(), want[0].max(want[1]));
            }
            let mut m = stream(fs, &channels, &[1000]);
            m.reset();
            let again = stream(fs, &channels, &[n]);
            m.process(&[&channels[0], &channels[1]]).expect("block");
            assert_eq!(m.peak(), again.peak(), "{fs} Hz after reset");
            let interleaved: Vec<f64> = (0..n)
                .flat_map(|i| [channels[0][i], channels[1][i]])
                .collect();
            let mut m = FfmpegTruePeak::new(fs, 2).expect("model");
            for block in interleaved.chunks(2 * 999) {
                m.process_interleaved(block).expect("interleaved");
            }
            assert_eq!(m.peak(), again.peak(), "{fs} Hz interleaved");
        }
    }

    #[test]
    fn mid_stream_reading_is_that_of_the_prefix() {
        for fs in [44_100, 48_000, 22_050, 384_000] {
            let x = mixed(20_000, fs, 3);
            let reference = FfmpegTruePeak::new(fs, 1).expect("model");
            let mut m = FfmpegTruePeak::new(fs, 1).expect("model");
            let mut fed = 0;
            for step in [5usize, 20, 9, 1, 1, 300, 1234, 8191, 8193, 1000] {
                m.process(&[&x[fed..fed + step]]).expect("block");
                fed += step;
                let want = reference.reference_channel_peak(&x[..fed]);
                assert_eq!(m.peak(), want, "{fs} Hz after {fed} frames");
            }
        }
    }

    #[test]
    fn short_inputs_read_nothing_until_l_plus_one_frames() {
        for fs in [48_000, 44_100, 384_000] {
            let taps = SwrDesign::for_rate(fs).filter_length;
            let x = vec![0.5; taps + 1];
            let mut m = FfmpegTruePeak::new(fs, 1).expect("model");
            m.process(&[&x[..taps]]).expect("block");
            assert_eq!(m.peak(), 0.0, "{fs} Hz");
            assert_eq!(m.peak_dbtp(), f64::NEG_INFINITY);
            m.process(&[&x[taps..]]).expect("block");
            assert!(m.peak() > 0.49, "{fs} Hz: {}", m.peak());
        }
        // At 192 kHz there is no resampler: every sample counts at once.
        let mut m = FfmpegTruePeak::new(192_000, 1).expect("model");
        m.process(&[&[0.0, -0.25]]).expect("block");
        assert_eq!(m.peak(), 0.25);
    }

    #[test]
    fn the_last_taps_never_count() {
        // swr is never flushed: a spike in the last 16 samples is not read.
        let mut x = vec![0.0; 4800];
        x[100] = 0.5;
        x[4800 - 10] = 0.9;
        let mut m = FfmpegTruePeak::new(48_000, 1).expect("model");
        m.process(&[&x]).expect("block");
        assert_eq!(m.peak(), 0.5);
    }

    #[test]
    fn non_finite_samples_count_as_zero_and_bad_blocks_are_rejected() {
        let mut x = mixed(5000, 48_000, 4);
        let clean = FfmpegTruePeak::new(48_000, 1)
            .expect("model")
            .reference_channel_peak(&x);
        let mut zeroed = x.clone();
        zeroed[2500] = 0.0;
        x[2500] = f64::NAN;
        let mut m = FfmpegTruePeak::new(48_000, 1).expect("model");
        m.process(&[&x]).expect("block");
        let want = m.reference_channel_peak(&zeroed);
        assert_eq!(m.peak(), want);
        assert!(want <= clean + 1.0);
        assert!(m.process(&[&x, &x]).is_err());
        let mut two = FfmpegTruePeak::new(48_000, 2).expect("model");
        assert!(two.process(&[&x[..10], &x[..9]]).is_err());
        assert!(two.process_interleaved(&x[..3]).is_err());
        assert_eq!(two.frames(), 0);
        for (fs, ch) in [(7_999, 1), (768_001, 1), (48_000, 0), (48_000, 65)] {
            let e = FfmpegTruePeak::new(fs, ch).expect_err("out of range");
            assert!(e.to_string().contains("expected"), "{e}");
        }
    }

    #[test]
    fn second_derivative_gain_covers_a_finer_grid() {
        use std::f64::consts::PI;
        let (taps, beta) = (32usize, SWR_KAISER_BETA);
        let gain = second_derivative_gain(taps, beta);
        let i0 = bessel_i0(beta);
        // g'' by a difference quotient of a smaller step on 4096 points.
        let g = |u: f64| {
            let w = 2.0 * u / taps as f64;
            let sinc = if u == 0.0 {
                1.0
            } else {
                (PI * u).sin() / (PI * u)
            };
            sinc * bessel_i0(beta * (1.0 - w * w).max(0.0).sqrt()) / i0
        };
        let h = 2e-4;
        let finer = (0..=4096)
            .map(|s| {
                let t = f64::from(s) / 4096.0;
                (0..taps)
                    .map(|i| {
                        let u = i as f64 - 15.0 - t;
                        ((g(u + h) - 2.0 * g(u) + g(u - h)) / (h * h)).abs()
                    })
                    .sum::<f64>()
            })
            .fold(0.0, f64::max);
        assert!(finer <= gain && finer > gain / 1.04, "{finer} vs {gain}");
    }

    /// Every run's step-1/2/3 bounds are at least the largest `|output|` of
    /// the run, on signals that stress them: full-scale noise, Nyquist
    /// patterns, tones near fs/2, clipped noise and single spikes.
    #[test]
    fn bounds_hold() {
        for fs in [44_100, 48_000, 96_000, 22_050, 32_000, 88_200, 384_000] {
            let model = FfmpegTruePeak::new(fs, 1).expect("model");
            let n = 6000;
            let signals: Vec<Vec<f64>> = vec![
                noise(n, 5),
                noise(n, 6).iter().map(|v| v.signum()).collect(),
                (0..n)
                    .map(|i| if (i / 3) % 2 == 0 { 1.0 } else { -1.0 })
                    .collect(),
                (0..n)
                    .map(|i| if i % 2 == 0 { 1.0 } else { -1.0 })
                    .collect(),
                (0..n)
                    .map(|i| (2.0 * std::f64::consts::PI * 0.49 * i as f64).sin())
                    .collect(),
                noise(n, 7)
                    .iter()
                    .map(|v| (3.0 * v).clamp(-0.5, 0.5))
                    .collect(),
                (0..n)
                    .map(|i| if i % 97 == 0 { 1.0 } else { 0.0 })
                    .collect(),
            ];
            let mut closest = [f64::INFINITY; 3];
            for (k, x) in signals.iter().enumerate() {
                let c = model.centre;
                let mut x64: Vec<f64> = (1..=c).rev().map(|i| x[i]).collect();
                x64.extend_from_slice(x);
                let ch = Channel {
                    x32: x64.iter().map(|&v| v as f32).collect(),
                    len: x64.len(),
                    x64,
                    start: -(c as i64),
                    peak: 0.0,
                    bounds: Vec::new(),
                };
                let end = ch.start + ch.len as i64;
                let mut n0 = 0;
                while model.run_complete(n0, end) {
                    let exact = model.outputs_peak(&ch, n0, n0 + RUN as i64);
                    let (window, m) = model.window_bound(&ch, n0);
                    let mut bounds = vec![window];
                    if let Some(grid) = &model.grid {
                        for s in 0..2 {
                            bounds.push(model.grid_bound(grid, s, &ch, n0, m));
                        }
                    }
                    for (s, b) in bounds.iter().enumerate() {
                        assert!(
                            *b >= exact,
                            "{fs} Hz, signal {k}, run {n0}, step {}: bound {b} < {exact}",
                            s + 1
                        );
                        if std::env::var("MM_MARGINS").is_ok() && m > 0.0 {
                            let r = &mut closest[s];
                            *r = r.min((b - exact) / m);
                        }
                    }
                    // The grid bounds do work (finite, tighter than step 1).
                    if let [window, first, second] = bounds[..] {
                        assert!(second.is_finite() && first.is_finite());
                        assert!(second <= first.max(exact) + 1e-12 || second < window);
                    }
                    n0 += RUN as i64;
                }
            }
            if std::env::var("MM_MARGINS").is_ok() {
                println!("{fs} Hz: smallest (bound − exact)/max|x| per step: {closest:?}");
            }
        }
    }
}
