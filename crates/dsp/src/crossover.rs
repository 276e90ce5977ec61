//! Band-splitting crossovers for multiband processing: Linkwitz–Riley
//! (LR2, LR4 — the default — and LR8) with all-pass compensation, and a
//! linear-phase FIR crossover. [`Crossover::split`] turns planar channels
//! into 1 to [`MAX_BANDS`] bands whose sum is an all-pass (Linkwitz–Riley)
//! or a pure delay (linear phase); [`crate::multiband`] and
//! [`crate::imager`] are built on it.
//!
//! # Linkwitz–Riley
//!
//! An LR filter of order `2n` is a Butterworth filter of order `n` squared
//! (S. Linkwitz, "Active Crossover Networks for Noncoincident Drivers",
//! JAES 24(1), 1976). With `B_n(s)` the Butterworth polynomial (cutoff
//! 1 rad/s; second-order factors `s² + s/Q_k + 1`,
//! `Q_k = 1/(2·sin((2k+1)π/(2n)))`, and `s + 1` when `n` is odd):
//!
//! ```text
//! LP(s) = 1 / B_n(s)²        HP(s) = (−1)ⁿ · s²ⁿ / B_n(s)²
//! LP + HP = B_n(s)·B_n(−s) / B_n(s)² = B_n(−s) / B_n(s) = AP(s)
//! ```
//!
//! using `B_n(s)·B_n(−s) = 1 + (−1)ⁿ·s²ⁿ` (the Butterworth magnitude
//! condition `|B_n(jω)|² = 1 + ω²ⁿ`). So low and high band sum to an
//! all-pass of order `n`: one second-order all-pass `(s² − s/Q + 1)/(s² +
//! s/Q + 1)` per Butterworth factor, `(1 − s)/(1 + s)` for the first-order
//! one. LR2 (`n = 1`) therefore inverts its high band; LR4 (`n = 2`, the
//! mastering default, 24 dB/oct) and LR8 (`n = 4`, 48 dB/oct) do not. Both
//! bands are −6.02 dB at the crossover frequency.
//!
//! Every section goes to the digital domain by the bilinear transform,
//! pre-warped at the crossover frequency (`s → (1/K)·(1 − z⁻¹)/(1 + z⁻¹)`,
//! `K = tan(π·f/fs)`). A rational identity in `s` stays exact under that
//! substitution, so `LP(z) + HP(z) = AP(z)` holds for the digital filters
//! too, up to rounding, at every frequency and sample rate; bands meet at
//! −6.02 dB exactly at `f`.
//!
//! **More than two bands, all-pass compensation.** With crossovers
//! `f_1 < … < f_{K−1}` the input is split in a tree, lowest crossover
//! first: band 1 = `LP_1·x`, the rest `HP_1·x` is split at `f_2`, and so on;
//! band `K` is `HP_{K−1}⋯HP_1·x`. Band `k` then passes through the all-pass
//! sections `AP_j` of every crossover `j > k` it did not go through
//! (all-pass compensation, MASTERING_NOTES §3.2). Summing from the top,
//! `LP_j·R + HP_j·R = AP_j·R`, so the sum of all bands is
//! `AP_1⋯AP_{K−1}·x`: an all-pass,
//! magnitude flat (the tests find it flat within 2e-10 dB for 2–5 bands
//! of LR2, LR4 and LR8 at 44.1, 48, 96 and 192 kHz).
//!
//! Filters run as transposed direct form II sections in `f64`
//! ([`SectionChain`]). A crossover frequency glides in the log domain over
//! `smoothing_ms`, with a new design every [`SEGMENT_FRAMES`] frames and the
//! coefficients interpolated linearly in between (always stable, see
//! [`crate::biquad`]).
//!
//! # Linear phase
//!
//! Each crossover `j` is a symmetric low-pass FIR `h_j` of `N` taps (odd),
//! all of the same length, hence all with the delay `D = (N − 1)/2`. The
//! bands are differences of neighbouring low-passes:
//!
//! ```text
//! band 1 = h_1 ∗ x,   band k = (h_k − h_{k−1}) ∗ x,   band K = x(n − D) − h_{K−1} ∗ x
//! ```
//!
//! which telescopes: the bands sum to `x(n − D)` exactly (up to the rounding
//! of the subtractions; the tests measure the null at −326 dB or deeper). The
//! low-passes are Kaiser-windowed sincs ([`crate::kaiser_fir`]; J. F.
//! Kaiser, ISCAS 1974) with cutoff `f_j` (−6.02 dB there, like LR),
//! [`LINEAR_PHASE_STOPBAND_DB`] of stopband attenuation, and a transition
//! band as wide as the lowest crossover frequency (so the lowest band is
//! one octave wide at least: −80 dB from `1.5·f_1`), narrowed where needed
//! so the highest transition band ends below Nyquist. The length follows
//! from Kaiser's formula, `N − 1 ≥ (A − 7.95)/(14.36·Δf/fs)`: about
//! 5·fs/f₁, i.e. 2 411 taps (25.1 ms latency) for a lowest crossover of
//! 100 Hz at 48 kHz. The FIRs run in [`FftFir`] (uniformly partitioned FFT
//! convolution, every partition in the frequency domain), which adds its
//! partition `B` (2048 frames for 2 411 taps), so the latency is exactly
//! `D + B` and the top band's input is delayed by as much.
//! Linear-phase crossover frequencies are fixed at construction (they set
//! `N`, hence the latency).

use std::f64::consts::PI;

use mixmaster_core::CoreError;

use crate::biquad::{Coefficients, SEGMENT_FRAMES, SectionChain, TAIL_DECAY_DB, decay_frames};
use crate::dynamics::lookahead::Delay;
use crate::fft_fir::{FftFir, default_partition_frames};
use crate::filter::{check_range, check_sample_rate};
use crate::kaiser_fir;
use crate::smoothing::{DEFAULT_SMOOTHING_MS, LinearSmoother, ramp_frames};

/// Most bands a crossover splits into.
pub const MAX_BANDS: usize = 5;
/// Most channels a crossover (and the processors built on it) handles.
pub const MAX_CHANNELS: usize = 16;
/// Lowest crossover frequency.
pub const MIN_CROSSOVER_HZ: f64 = 20.0;
/// Highest crossover frequency (also limited to
/// [`MAX_CROSSOVER_FRACTION`] of the sample rate at `prepare`).
pub const MAX_CROSSOVER_HZ: f64 = 20_000.0;
/// Highest crossover frequency as a fraction of the sample rate.
pub const MAX_CROSSOVER_FRACTION: f64 = 0.45;
/// Stopband attenuation of the linear-phase low-passes, in dB.
pub const LINEAR_PHASE_STOPBAND_DB: f64 = 80.0;

/// Session-file names of the crossover frequencies, 1-based.
pub(crate) const CROSSOVER_NAMES: [&str; MAX_BANDS - 1] = [
    "crossover1_hz",
    "crossover2_hz",
    "crossover3_hz",
    "crossover4_hz",
];

/// The filter family of a crossover.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CrossoverKind {
    /// Linkwitz–Riley 2nd order (12 dB/oct), high band inverted.
    Lr2,
    /// Linkwitz–Riley 4th order (24 dB/oct).
    #[default]
    Lr4,
    /// Linkwitz–Riley 8th order (48 dB/oct).
    Lr8,
    /// Linear-phase FIR; latency `(N − 1)/2` frames.
    LinearPhase,
}

impl CrossoverKind {
    /// Parses the session-file name (`lr2`, `lr4`, `lr8`, `linear_phase`).
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "lr2" => Some(Self::Lr2),
            "lr4" => Some(Self::Lr4),
            "lr8" => Some(Self::Lr8),
            "linear_phase" => Some(Self::LinearPhase),
            _ => None,
        }
    }

    /// Order `n` of the Butterworth filter that is squared (1, 2, 4); 0 for
    /// the linear-phase kind.
    pub fn butterworth_order(self) -> usize {
        match self {
            Self::Lr2 => 1,
            Self::Lr4 => 2,
            Self::Lr8 => 4,
            Self::LinearPhase => 0,
        }
    }
}

/// Settings of [`Crossover`].
#[derive(Debug, Clone, PartialEq)]
pub struct CrossoverOptions {
    /// Filter family.
    pub kind: CrossoverKind,
    /// Crossover frequencies, strictly increasing, each 20 ..= 20000 Hz;
    /// `len() + 1` bands (0 ..= 4 frequencies: 1 ..= 5 bands).
    pub crossover_hz: Vec<f64>,
    /// Glide time of a frequency change (0 ..= 1000 ms; LR kinds only).
    pub smoothing_ms: f64,
}

impl Default for CrossoverOptions {
    fn default() -> Self {
        Self {
            kind: CrossoverKind::Lr4,
            crossover_hz: vec![120.0, 1000.0, 6000.0],
            smoothing_ms: DEFAULT_SMOOTHING_MS,
        }
    }
}

/// Checks one crossover frequency against the absolute range.
pub(crate) fn check_crossover_hz(index: usize, value: f64) -> Result<(), CoreError> {
    check_range(
        CROSSOVER_NAMES[index],
        value,
        MIN_CROSSOVER_HZ,
        MAX_CROSSOVER_HZ,
        "20 ..= 20000 Hz",
    )
}

/// Checks that `hz` lies strictly between its neighbours in `all`.
fn check_order(all: &[f64], index: usize, hz: f64) -> Result<(), CoreError> {
    let below = index.checked_sub(1).map(|i| all[i]);
    let above = all.get(index + 1).copied();
    if below.is_some_and(|b| hz <= b) || above.is_some_and(|a| hz >= a) {
        return Err(CoreError::OutOfRange {
            name: CROSSOVER_NAMES[index],
            value: hz,
            range: "strictly between the neighbouring crossover frequencies \
                    (crossover_hz must increase)",
        });
    }
    Ok(())
}

impl CrossoverOptions {
    /// Number of bands (`crossover_hz.len() + 1`).
    pub fn bands(&self) -> usize {
        self.crossover_hz.len() + 1
    }

    /// Checks every field; the error names the field and its valid range.
    pub fn validate(&self) -> Result<(), CoreError> {
        if self.crossover_hz.len() > MAX_BANDS - 1 {
            return Err(CoreError::OutOfRange {
                name: "crossover_hz (count)",
                value: self.crossover_hz.len() as f64,
                range: "0 ..= 4 frequencies (1 ..= 5 bands)",
            });
        }
        for (i, &hz) in self.crossover_hz.iter().enumerate() {
            check_crossover_hz(i, hz)?;
            check_order(&self.crossover_hz, i, hz)?;
        }
        check_range("smoothing_ms", self.smoothing_ms, 0.0, 1000.0, "0 ..= 1000")
    }
}

// ---------------------------------------------------------------------------
// Design.

/// Bilinear transform of `(b0 + b1·s + b2·s²)/(a0 + a1·s + a2·s²)` (powers
/// of the normalised `s`) with `s → (1/K)·(1 − z⁻¹)/(1 + z⁻¹)`.
fn bilinear2(b: [f64; 3], a: [f64; 3], k: f64) -> Coefficients {
    let k2 = k * k;
    let map = |p: [f64; 3]| {
        [
            p[0] * k2 + p[1] * k + p[2],
            2.0 * (p[0] * k2 - p[2]),
            p[0] * k2 - p[1] * k + p[2],
        ]
    };
    Coefficients::from_polynomials(map(b), map(a))
}

/// Bilinear transform of the first-order `(b0 + b1·s)/(a0 + a1·s)`.
fn bilinear1(b: [f64; 2], a: [f64; 2], k: f64) -> Coefficients {
    let map = |p: [f64; 2]| [p[0] * k + p[1], p[0] * k - p[1], 0.0];
    Coefficients::from_polynomials(map(b), map(a))
}

/// The Q of each second-order factor of the order-`n` Butterworth
/// polynomial (`n/2` of them; an odd `n` adds the factor `s + 1`).
fn butterworth_q(n: usize, k: usize) -> f64 {
    1.0 / (2.0 * ((2 * k + 1) as f64 * PI / (2 * n) as f64).sin())
}

/// Number of digital sections of one LR low-pass or high-pass of order `2n`.
fn lr_filter_sections(n: usize) -> usize {
    2 * n.div_ceil(2)
}

/// Number of digital sections of the LR all-pass of order `2n`.
fn lr_allpass_sections(n: usize) -> usize {
    n.div_ceil(2)
}

/// The digital sections of one Linkwitz–Riley crossover of order `2n` at
/// `freq_hz`: low-pass, high-pass (with the sign `(−1)ⁿ`) and all-pass,
/// written into the slices (which must have the sizes above).
fn design_lr(
    n: usize,
    freq_hz: f64,
    sample_rate_hz: f64,
    low: &mut [Coefficients],
    high: &mut [Coefficients],
    allpass: &mut [Coefficients],
) {
    let k = (PI * freq_hz / sample_rate_hz).tan();
    let mut s = 0;
    for (i, ap) in allpass.iter_mut().enumerate().take(n / 2) {
        let q = butterworth_q(n, i);
        let den = [1.0, 1.0 / q, 1.0];
        let lp = bilinear2([1.0, 0.0, 0.0], den, k);
        let hp = bilinear2([0.0, 0.0, 1.0], den, k);
        low[s] = lp;
        low[s + 1] = lp;
        high[s] = hp;
        high[s + 1] = hp;
        *ap = bilinear2([1.0, -1.0 / q, 1.0], den, k);
        s += 2;
    }
    if n % 2 == 1 {
        let lp = bilinear1([1.0, 0.0], [1.0, 1.0], k);
        let hp = bilinear1([0.0, 1.0], [1.0, 1.0], k);
        low[s] = lp;
        low[s + 1] = lp;
        // (−1)ⁿ = −1: the high band of LR2 (and LR6) is inverted.
        high[s] = hp.scaled(-1.0);
        high[s + 1] = hp;
        allpass[n / 2] = bilinear1([1.0, -1.0], [1.0, 1.0], k);
    }
}

/// The linear-phase design for `crossover_hz` at `sample_rate_hz`: the
/// transition width in Hz and the (odd) number of taps.
pub fn linear_phase_design(crossover_hz: &[f64], sample_rate_hz: f64) -> (f64, usize) {
    let (Some(&low), Some(&high)) = (crossover_hz.first(), crossover_hz.last()) else {
        return (0.0, 1);
    };
    let transition_hz = low.min(2.0 * (0.5 * sample_rate_hz - high));
    let taps = kaiser_fir::min_taps(LINEAR_PHASE_STOPBAND_DB, transition_hz / sample_rate_hz);
    (transition_hz, taps | 1)
}

/// The linear-phase low-pass FIRs, one per crossover frequency, all of the
/// length [`linear_phase_design`] gives.
pub fn linear_phase_lowpasses(crossover_hz: &[f64], sample_rate_hz: f64) -> Vec<Vec<f64>> {
    let (_, taps) = linear_phase_design(crossover_hz, sample_rate_hz);
    let window = kaiser_fir::window(taps, kaiser_fir::beta(LINEAR_PHASE_STOPBAND_DB));
    crossover_hz
        .iter()
        .map(|&f| {
            let mut h = vec![0.0; taps];
            kaiser_fir::lowpass_into(&mut h, f / sample_rate_hz, &window);
            h
        })
        .collect()
}

/// Complex product `a·b`.
#[inline]
fn cmul(a: (f64, f64), b: (f64, f64)) -> (f64, f64) {
    (a.0 * b.0 - a.1 * b.1, a.0 * b.1 + a.1 * b.0)
}

/// `Σ h[n]·e^{−jωn}`.
fn fir_response(h: &[f64], omega: f64) -> (f64, f64) {
    let (mut re, mut im) = (0.0, 0.0);
    for (n, v) in h.iter().enumerate() {
        let (s, c) = (omega * n as f64).sin_cos();
        re += v * c;
        im -= v * s;
    }
    (re, im)
}

// ---------------------------------------------------------------------------
// Band buffers.

/// Planar output of [`Crossover::split`]: `bands × channels` slices of up to
/// `max_frames` frames, allocated once.
#[derive(Debug, Clone)]
pub struct BandBuffers {
    data: Vec<f64>,
    bands: usize,
    channels: usize,
    capacity: usize,
    frames: usize,
}

impl BandBuffers {
    /// Buffers for `bands` bands of `channels` channels of up to
    /// `max_frames` frames (allocates).
    pub fn new(bands: usize, channels: usize, max_frames: usize) -> Self {
        let capacity = max_frames.max(1);
        Self {
            data: vec![0.0; bands * channels * capacity],
            bands,
            channels,
            capacity,
            frames: 0,
        }
    }

    /// Number of bands.
    pub fn bands(&self) -> usize {
        self.bands
    }

    /// Number of channels per band.
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// Frames written by the last split.
    pub fn frames(&self) -> usize {
        self.frames
    }

    /// Largest number of frames a split may write.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    fn offset(&self, band: usize, channel: usize) -> usize {
        (band * self.channels + channel) * self.capacity
    }

    /// Channel `channel` of band `band` (0 = lowest), `frames()` long.
    pub fn band(&self, band: usize, channel: usize) -> &[f64] {
        let o = self.offset(band, channel);
        &self.data[o..o + self.frames]
    }

    /// Channel `channel` of band `band`, mutable.
    pub fn band_mut(&mut self, band: usize, channel: usize) -> &mut [f64] {
        let o = self.offset(band, channel);
        &mut self.data[o..o + self.frames]
    }

    /// Calls `f` with every channel of band `band` as a planar block (as
    /// [`Processor::process`] takes it), without allocating.
    pub fn with_band<R>(&mut self, band: usize, f: impl FnOnce(&mut [&mut [f64]]) -> R) -> R {
        let frames = self.frames;
        let channels = self.channels.min(MAX_CHANNELS);
        let o = self.offset(band, 0);
        let mut block: [&mut [f64]; MAX_CHANNELS] = Default::default();
        let chunks =
            self.data[o..o + self.channels * self.capacity].chunks_exact_mut(self.capacity);
        for (slot, chunk) in block.iter_mut().zip(chunks) {
            *slot = &mut chunk[..frames];
        }
        f(&mut block[..channels])
    }

    /// Writes into `out[c]` the sum over bands of channel `c`, each band
    /// scaled by `gains[band]` (`out` channels must hold `frames()` frames).
    pub fn sum_into<S: AsMut<[f64]>>(&self, out: &mut [S]) {
        for (c, o) in out.iter_mut().enumerate().take(self.channels) {
            let o = &mut o.as_mut()[..self.frames];
            o.copy_from_slice(self.band(0, c));
            for b in 1..self.bands {
                for (y, x) in o.iter_mut().zip(self.band(b, c)) {
                    *y += x;
                }
            }
        }
    }

    /// Mutable views of two different bands of one channel.
    fn two_bands_mut(&mut self, a: usize, b: usize, channel: usize) -> (&mut [f64], &mut [f64]) {
        debug_assert!(a < b);
        let (oa, ob) = (self.offset(a, channel), self.offset(b, channel));
        let frames = self.frames;
        let (lo, hi) = self.data.split_at_mut(ob);
        (&mut lo[oa..oa + frames], &mut hi[..frames])
    }
}

// ---------------------------------------------------------------------------
// The crossover.

/// A 1- to 5-band crossover; see the module docs.
#[derive(Debug, Clone)]
pub struct Crossover {
    options: CrossoverOptions,
    sample_rate_hz: f64,
    channels: usize,
    max_frames: usize,
    // Linkwitz–Riley.
    /// log2 of each crossover frequency, gliding.
    log_freqs: Vec<LinearSmoother>,
    segment_left: usize,
    /// `[crossover][channel]`: low-pass of band `j` followed by the
    /// all-passes of the crossovers above `j`.
    low: Vec<SectionChain>,
    /// `[crossover][channel]`: high-pass applied to the rest.
    high: Vec<SectionChain>,
    low_design: Vec<Vec<Coefficients>>,
    high_design: Vec<Vec<Coefficients>>,
    allpass_design: Vec<Vec<Coefficients>>,
    // Linear phase.
    firs: Vec<FftFir>,
    fir_taps: Vec<Vec<f64>>,
    delays: Vec<Delay>,
    latency_frames: usize,
}

impl Crossover {
    /// A crossover; fails with the field and its valid range on a bad setting.
    pub fn new(options: CrossoverOptions) -> Result<Self, CoreError> {
        options.validate()?;
        let n = options.kind.butterworth_order();
        let xovers = options.crossover_hz.len();
        let filter_len = lr_filter_sections(n);
        let ap_len = lr_allpass_sections(n);
        let low_design = (0..xovers)
            .map(|j| vec![Coefficients::IDENTITY; filter_len + ap_len * (xovers - 1 - j)])
            .collect();
        Ok(Self {
            log_freqs: options
                .crossover_hz
                .iter()
                .map(|f| LinearSmoother::new(f.log2(), 1))
                .collect(),
            low_design,
            high_design: vec![vec![Coefficients::IDENTITY; filter_len]; xovers],
            allpass_design: vec![vec![Coefficients::IDENTITY; ap_len]; xovers],
            options,
            sample_rate_hz: 0.0,
            channels: 0,
            max_frames: 0,
            segment_left: 0,
            low: Vec::new(),
            high: Vec::new(),
            firs: Vec::new(),
            fir_taps: Vec::new(),
            delays: Vec::new(),
            latency_frames: 0,
        })
    }

    /// The settings; `crossover_hz` holds the targets of any glide.
    pub fn options(&self) -> &CrossoverOptions {
        &self.options
    }

    /// Number of bands.
    pub fn bands(&self) -> usize {
        self.options.bands()
    }

    /// Delay in frames of the band sum: 0 for Linkwitz–Riley, `(N − 1)/2`
    /// for linear phase (valid after `prepare`).
    pub fn latency_frames(&self) -> usize {
        self.latency_frames
    }

    /// Frames until the band outputs have decayed by 120 dB after the input
    /// stops (valid after `prepare`).
    pub fn tail_frames(&self) -> usize {
        match self.options.kind {
            CrossoverKind::LinearPhase => self.fir_taps.first().map_or(0, Vec::len),
            _ => self
                .low_design
                .iter()
                .chain(&self.high_design)
                .map(|s| decay_frames(s, TAIL_DECAY_DB))
                .max()
                .unwrap_or(0),
        }
    }

    /// Taps of each linear-phase low-pass (empty for Linkwitz–Riley).
    pub fn fir_lowpasses(&self) -> &[Vec<f64>] {
        &self.fir_taps
    }

    /// Output buffers matching the prepared band and channel counts.
    pub fn make_buffers(&self) -> BandBuffers {
        BandBuffers::new(self.bands(), self.channels, self.max_frames)
    }

    /// Prepares for `channels` (1 ..= [`MAX_CHANNELS`]) channels of blocks up
    /// to `max_block_frames` at `sample_rate_hz` (8000 ..= 768000; every
    /// crossover frequency must be below 0.45 × the rate). Allocates.
    pub fn prepare(
        &mut self,
        sample_rate_hz: u32,
        max_block_frames: usize,
        channels: usize,
    ) -> Result<(), CoreError> {
        check_sample_rate(sample_rate_hz)?;
        check_channels(channels)?;
        let fs = f64::from(sample_rate_hz);
        for (i, &f) in self.options.crossover_hz.iter().enumerate() {
            check_range(
                CROSSOVER_NAMES[i],
                f,
                MIN_CROSSOVER_HZ,
                MAX_CROSSOVER_FRACTION * fs,
                "20 Hz ..= 0.45 × the sample rate",
            )?;
        }
        self.sample_rate_hz = fs;
        self.channels = channels;
        self.max_frames = max_block_frames;
        let xovers = self.options.crossover_hz.len();
        if self.options.kind == CrossoverKind::LinearPhase {
            self.fir_taps = linear_phase_lowpasses(&self.options.crossover_hz, fs);
            self.firs = self
                .fir_taps
                .iter()
                .map(|h| FftFir::new(&[h], channels, None))
                .collect::<Result<_, CoreError>>()?;
            self.latency_frames = match self.fir_taps.first() {
                None => 0,
                Some(h) => (h.len() - 1) / 2 + default_partition_frames(h.len()),
            };
            self.delays = (0..channels)
                .map(|_| Delay::new(self.latency_frames))
                .collect();
        } else {
            let ramp = ramp_frames(self.options.smoothing_ms, sample_rate_hz);
            self.log_freqs
                .iter_mut()
                .for_each(|s| s.set_ramp_frames(ramp));
            self.low = (0..xovers * channels)
                .map(|i| {
                    let mut chain = SectionChain::new(self.low_design[i / channels].len());
                    chain.prepare(1);
                    chain
                })
                .collect();
            self.high = (0..xovers * channels)
                .map(|i| {
                    let mut chain = SectionChain::new(self.high_design[i / channels].len());
                    chain.prepare(1);
                    chain
                })
                .collect();
            self.latency_frames = 0;
        }
        self.reset();
        Ok(())
    }

    /// Clears all state and ends any glide at its target.
    pub fn reset(&mut self) {
        for (s, f) in self.log_freqs.iter_mut().zip(&self.options.crossover_hz) {
            s.set_immediate(f.log2());
        }
        self.segment_left = 0;
        if self.sample_rate_hz > 0.0 && self.options.kind != CrossoverKind::LinearPhase {
            self.design_now();
            let channels = self.channels;
            for (i, chain) in self.low.iter_mut().enumerate() {
                chain.set_immediate(&self.low_design[i / channels]);
                chain.reset();
            }
            for (i, chain) in self.high.iter_mut().enumerate() {
                chain.set_immediate(&self.high_design[i / channels]);
                chain.reset();
            }
        }
        self.firs.iter_mut().for_each(FftFir::reset);
        self.delays.iter_mut().for_each(Delay::reset);
    }

    /// Glides crossover `index` (0-based, lowest first) to `freq_hz` over
    /// `smoothing_ms`. It must stay strictly between its neighbours' targets
    /// and, once prepared, below 0.45 × the sample rate. Linear-phase
    /// crossovers only accept their current frequency (the frequencies set
    /// the FIR length, hence the latency).
    pub fn set_frequency(&mut self, index: usize, freq_hz: f64) -> Result<(), CoreError> {
        if index >= self.options.crossover_hz.len() {
            return Err(CoreError::OutOfRange {
                name: "crossover index",
                value: index as f64,
                range: "below the number of crossover frequencies",
            });
        }
        check_crossover_hz(index, freq_hz)?;
        check_order(&self.options.crossover_hz, index, freq_hz)?;
        if self.sample_rate_hz > 0.0 {
            check_range(
                CROSSOVER_NAMES[index],
                freq_hz,
                MIN_CROSSOVER_HZ,
                MAX_CROSSOVER_FRACTION * self.sample_rate_hz,
                "20 Hz ..= 0.45 × the sample rate",
            )?;
        }
        if self.options.kind == CrossoverKind::LinearPhase {
            if freq_hz != self.options.crossover_hz[index] {
                return Err(crate::dynamics::validate::fixed(
                    CROSSOVER_NAMES[index],
                    freq_hz,
                ));
            }
            return Ok(());
        }
        self.options.crossover_hz[index] = freq_hz;
        self.log_freqs[index].set_target(freq_hz.log2());
        Ok(())
    }

    /// Designs every section at the current (gliding) frequencies.
    fn design_now(&mut self) {
        let n = self.options.kind.butterworth_order();
        let fs = self.sample_rate_hz;
        let filter_len = lr_filter_sections(n);
        for j in 0..self.log_freqs.len() {
            let f = self.log_freqs[j].current().exp2();
            design_lr(
                n,
                f,
                fs,
                &mut self.low_design[j][..filter_len],
                &mut self.high_design[j],
                &mut self.allpass_design[j],
            );
        }
        // Band j: its low-pass, then the all-passes of crossovers j+1, ….
        let ap_len = lr_allpass_sections(n);
        for j in 0..self.log_freqs.len() {
            for (m, ap) in self.allpass_design[j + 1..].iter().enumerate() {
                let at = filter_len + m * ap_len;
                self.low_design[j][at..at + ap_len].copy_from_slice(ap);
            }
        }
    }

    /// Complex response `(re, im)` of band `band` (0 = lowest) at `freq_hz`,
    /// at the target frequencies (valid after `prepare`). For the linear-phase
    /// kind it includes the delay.
    pub fn band_response(&self, band: usize, freq_hz: f64) -> (f64, f64) {
        let omega = 2.0 * PI * freq_hz / self.sample_rate_hz;
        let xovers = self.options.crossover_hz.len();
        if self.options.kind == CrossoverKind::LinearPhase {
            let rotate = |frames: usize| {
                let (s, c) = (omega * frames as f64).sin_cos();
                (c, -s)
            };
            // The FIRs' own delay D, then the partition B on every band.
            let partition = self
                .fir_taps
                .first()
                .map_or(0, |h| default_partition_frames(h.len()));
            let lp = |j: usize| fir_response(&self.fir_taps[j], omega);
            let below = if band == 0 { (0.0, 0.0) } else { lp(band - 1) };
            let this = if band == xovers {
                rotate(self.latency_frames - partition)
            } else {
                lp(band)
            };
            let (re, im) = (this.0 - below.0, this.1 - below.1);
            let (c, s) = rotate(partition);
            return (re * c - im * s, re * s + im * c);
        }
        let fs = self.sample_rate_hz;
        let n = self.options.kind.butterworth_order();
        let (fl, ap) = (lr_filter_sections(n), lr_allpass_sections(n));
        let mut low = vec![Coefficients::IDENTITY; fl];
        let mut high = vec![Coefficients::IDENTITY; fl];
        let mut all = vec![Coefficients::IDENTITY; ap];
        let mut h = (1.0, 0.0);
        for (j, &f) in self.options.crossover_hz.iter().enumerate() {
            design_lr(n, f, fs, &mut low, &mut high, &mut all);
            let sections: &[Coefficients] = if j < band {
                &high
            } else if j == band {
                &low
            } else {
                &all
            };
            for c in sections {
                h = cmul(h, c.response(omega));
            }
        }
        h
    }

    /// Splits `input` (planar, as many channels as prepared, each at most
    /// `max_block_frames` long and all of equal length) into `bands`
    /// (from [`Crossover::make_buffers`]). Never allocates.
    pub fn split<S: AsRef<[f64]>>(&mut self, input: &[S], bands: &mut BandBuffers) {
        let frames = input
            .first()
            .map_or(0, |c| c.as_ref().len())
            .min(bands.capacity);
        bands.frames = frames;
        let channels = self.channels.min(input.len()).min(bands.channels);
        let last = self.bands() - 1;
        if self.options.kind == CrossoverKind::LinearPhase {
            self.split_linear_phase(input, bands, channels, frames);
            return;
        }
        for (c, x) in input.iter().enumerate().take(channels) {
            bands
                .band_mut(last, c)
                .copy_from_slice(&x.as_ref()[..frames]);
        }
        let mut i = 0;
        while i < frames {
            if self.segment_left == 0 && self.log_freqs.iter().any(LinearSmoother::is_ramping) {
                let len = self
                    .log_freqs
                    .iter()
                    .map(LinearSmoother::remaining)
                    .max()
                    .unwrap_or(0)
                    .min(SEGMENT_FRAMES);
                self.log_freqs.iter_mut().for_each(|s| {
                    s.advance(len);
                });
                self.design_now();
                let ch = self.channels;
                for (k, chain) in self.low.iter_mut().enumerate() {
                    chain.glide_to(&self.low_design[k / ch], len);
                }
                for (k, chain) in self.high.iter_mut().enumerate() {
                    chain.glide_to(&self.high_design[k / ch], len);
                }
                self.segment_left = len;
            }
            let n = if self.segment_left > 0 {
                self.segment_left.min(frames - i)
            } else {
                frames - i
            };
            for c in 0..channels {
                for j in 0..last {
                    let (band, rest) = bands.two_bands_mut(j, last, c);
                    band[i..i + n].copy_from_slice(&rest[i..i + n]);
                    let k = j * self.channels + c;
                    self.low[k].process(&mut [band], i, i + n);
                    self.high[k].process(&mut [rest], i, i + n);
                }
            }
            self.segment_left -= n.min(self.segment_left);
            i += n;
        }
    }

    fn split_linear_phase<S: AsRef<[f64]>>(
        &mut self,
        input: &[S],
        bands: &mut BandBuffers,
        channels: usize,
        frames: usize,
    ) {
        let last = self.bands() - 1;
        // Band j holds h_j ∗ x for now.
        for (j, fir) in self.firs.iter_mut().enumerate() {
            for (c, x) in input.iter().enumerate().take(channels) {
                bands.band_mut(j, c).copy_from_slice(&x.as_ref()[..frames]);
            }
            bands.with_band(j, |block| fir.process(block));
        }
        for (c, x) in input.iter().enumerate().take(channels) {
            let delay = &mut self.delays[c];
            if last == 0 {
                for (y, &v) in bands.band_mut(0, c).iter_mut().zip(x.as_ref()) {
                    *y = delay.push(v);
                }
                continue;
            }
            // Top band: the delayed input minus the highest low-pass.
            let (below, top) = bands.two_bands_mut(last - 1, last, c);
            for ((y, &v), &l) in top.iter_mut().zip(x.as_ref()).zip(below.iter()) {
                *y = delay.push(v) - l;
            }
            // Middle bands, from the top down: h_j − h_{j−1}.
            for j in (1..last).rev() {
                let (below, this) = bands.two_bands_mut(j - 1, j, c);
                for (y, &l) in this.iter_mut().zip(below.iter()) {
                    *y -= l;
                }
            }
        }
    }
}

/// Checks a channel count against 1 ..= [`MAX_CHANNELS`].
pub(crate) fn check_channels(channels: usize) -> Result<(), CoreError> {
    check_range(
        "channels",
        channels as f64,
        1.0,
        MAX_CHANNELS as f64,
        "1 ..= 16",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn analog_identity_holds_for_the_digital_sections() {
        // LP + HP = AP at a few frequencies, for every LR order.
        let fs = 48_000.0;
        for n in [1, 2, 4] {
            let mut low = vec![Coefficients::IDENTITY; lr_filter_sections(n)];
            let mut high = low.clone();
            let mut ap = vec![Coefficients::IDENTITY; lr_allpass_sections(n)];
            design_lr(n, 1000.0, fs, &mut low, &mut high, &mut ap);
            for f in [20.0, 500.0, 1000.0, 2000.0, 20_000.0] {
                let w = 2.0 * PI * f / fs;
                let prod =
                    |s: &[Coefficients]| s.iter().fold((1.0, 0.0), |h, c| cmul(h, c.response(w)));
                let (l, h, a) = (prod(&low), prod(&high), prod(&ap));
                let err = ((l.0 + h.0 - a.0).powi(2) + (l.1 + h.1 - a.1).powi(2)).sqrt();
                assert!(err < 1e-12, "order {n}, {f} Hz: {err}");
                assert!((a.0.hypot(a.1) - 1.0).abs() < 1e-12);
            }
            // −6.02 dB at the crossover for both bands.
            let w = 2.0 * PI * 1000.0 / fs;
            let lp = low
                .iter()
                .fold(1.0, |m, c| m * c.magnitude_squared(w).sqrt());
            let hp = high
                .iter()
                .fold(1.0, |m, c| m * c.magnitude_squared(w).sqrt());
            assert!((lp - 0.5).abs() < 1e-12 && (hp - 0.5).abs() < 1e-12);
        }
    }
}
