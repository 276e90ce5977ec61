//! Averaged spectrum and third-octave bands of the first two channels, as
//! left/right and mid/side.
//!
//! Frames of `fft_size` samples (Hann window, 50 % overlap) are transformed
//! with a real FFT and their squared magnitudes averaged (Welch's method).
//! Mid and side bins come from the left/right FFTs, since the FFT is linear:
//! `M = (L + R)/2`, `S = (L − R)/2` (so a centred mono source reads the same
//! in M as in L and R, and nothing in S).
//!
//! # Normalisation
//!
//! * **Bins** are "sine-calibrated" dBFS: a full-scale sine (amplitude 1)
//!   centred on a bin reads 0 dB in that bin, i.e. `20·log10(2·|X_k|/Σw)`
//!   from the averaged power (DC and Nyquist bins: `|X_k|/Σw`, so a DC
//!   offset `a` reads `20·log10(a)`). A sine between two bins reads up to
//!   1.42 dB lower (Hann scalloping); noise reads by its density.
//! * **Bands** are power sums, calibrated the same way: the band's signal
//!   power relative to a full-scale sine, `10·log10(4·Σ|X_k|²/(N·Σw²))` over
//!   the bins in the band (bins straddling an edge count by their overlap).
//!   A sine anywhere inside a band reads its level in dBFS whatever the
//!   window or FFT length; a −20 dBFS sine reads −20 dB.
//!
//! Bands are the IEC 61260-1 base-10 one-third-octave bands with exact
//! centres `1000·10^(x/10)` Hz, `x = −17 … 13` (nominal 20 Hz … 20 kHz),
//! edges at `centre·10^(±1/20)`; bands centred above fs/2 are omitted, and
//! the top band is cut at fs/2.
//!
//! Only complete frames are averaged: input shorter than one frame gives
//! `frames_averaged = 0` and −∞ everywhere. For mono input the right channel
//! repeats the left, mid equals left and side is −∞.

use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{RealFftPlanner, RealToComplex};
use serde::Serialize;

/// Nominal centre frequencies of the one-third-octave bands from 20 Hz to
/// 20 kHz (IEC 61260-1:2014, Annex E, base-10 series).
pub const THIRD_OCTAVE_NOMINAL_HZ: [f64; 31] = [
    20.0, 25.0, 31.5, 40.0, 50.0, 63.0, 80.0, 100.0, 125.0, 160.0, 200.0, 250.0, 315.0, 400.0,
    500.0, 630.0, 800.0, 1000.0, 1250.0, 1600.0, 2000.0, 2500.0, 3150.0, 4000.0, 5000.0, 6300.0,
    8000.0, 10000.0, 12500.0, 16000.0, 20000.0,
];
/// Exponent `x` of the lowest band, centre `1000·10^(x/10)` (IEC 61260-1,
/// base-10 one-third-octave centres, eq. for `b = 3`).
const FIRST_BAND_INDEX: i32 = -17;

/// An averaged spectrum. See the module docs for the dB normalisation.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Spectrum {
    /// FFT length in samples.
    pub fft_size: usize,
    /// Frames averaged (hop `fft_size/2`).
    pub frames_averaged: u64,
    /// Bin spacing in Hz; bin `k` is centred at `k·bin_hz`, `k = 0 … fft_size/2`.
    pub bin_hz: f64,
    /// Left (first) channel, dBFS per bin.
    pub left_db: Vec<f64>,
    /// Right (second) channel, dBFS per bin.
    pub right_db: Vec<f64>,
    /// Mid `(L+R)/2`, dBFS per bin.
    pub mid_db: Vec<f64>,
    /// Side `(L−R)/2`, dBFS per bin.
    pub side_db: Vec<f64>,
    /// One-third-octave bands from 20 Hz up to fs/2.
    pub third_octave: Vec<Band>,
}

/// One one-third-octave band.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Band {
    /// Nominal centre (20, 25, 31.5, … Hz).
    pub nominal_hz: f64,
    /// Exact base-10 centre.
    pub centre_hz: f64,
    /// Lower edge.
    pub lower_hz: f64,
    /// Upper edge (cut at fs/2 for the top band).
    pub upper_hz: f64,
    /// Left band level, dB re a full-scale sine.
    pub left_db: f64,
    /// Right band level.
    pub right_db: f64,
    /// Mid band level.
    pub mid_db: f64,
    /// Side band level.
    pub side_db: f64,
}

/// The FFT length used when none is given: the power of two nearest to
/// 0.17 s of audio (8192 at 44.1 and 48 kHz, about 5.9 Hz resolution).
pub fn default_fft_size(sample_rate_hz: u32) -> usize {
    let target = f64::from(sample_rate_hz) * 0.17;
    let exp = target.log2().round().clamp(8.0, 20.0) as u32;
    1usize << exp
}

/// Streaming Welch averager for the first two channels.
pub(crate) struct SpectrumAnalyzer {
    fft: Arc<dyn RealToComplex<f64>>,
    size: usize,
    sample_rate_hz: u32,
    stereo: bool,
    window: Vec<f64>,
    buf_l: Vec<f64>,
    buf_r: Vec<f64>,
    filled: usize,
    input: Vec<f64>,
    out_l: Vec<Complex<f64>>,
    out_r: Vec<Complex<f64>>,
    scratch: Vec<Complex<f64>>,
    /// Summed |X|² of L, R, M, S per bin.
    power: [Vec<f64>; 4],
    frames: u64,
}

impl std::fmt::Debug for SpectrumAnalyzer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpectrumAnalyzer")
            .field("size", &self.size)
            .field("stereo", &self.stereo)
            .field("frames", &self.frames)
            .finish_non_exhaustive()
    }
}

impl SpectrumAnalyzer {
    /// An analyzer of `size`-point frames (a power of two, checked by the
    /// meter). Allocates everything it will need.
    pub(crate) fn new(size: usize, sample_rate_hz: u32, stereo: bool) -> Self {
        let fft = RealFftPlanner::<f64>::new().plan_fft_forward(size);
        // Periodic Hann window (exact 50 % overlap-add).
        let window = (0..size)
            .map(|n| {
                let t = std::f64::consts::PI * n as f64 / size as f64;
                t.sin() * t.sin()
            })
            .collect();
        let bins = size / 2 + 1;
        Self {
            scratch: fft.make_scratch_vec(),
            out_l: fft.make_output_vec(),
            out_r: fft.make_output_vec(),
            input: fft.make_input_vec(),
            fft,
            size,
            sample_rate_hz,
            stereo,
            window,
            buf_l: vec![0.0; size],
            buf_r: vec![0.0; if stereo { size } else { 0 }],
            filled: 0,
            power: std::array::from_fn(|_| vec![0.0; bins]),
            frames: 0,
        }
    }

    pub(crate) fn reset(&mut self) {
        self.filled = 0;
        self.frames = 0;
        for p in &mut self.power {
            p.fill(0.0);
        }
    }

    /// Feeds samples of the first channel and, for stereo, the second.
    pub(crate) fn push(&mut self, left: &[f64], right: &[f64]) {
        let mut pos = 0;
        while pos < left.len() {
            let take = (self.size - self.filled).min(left.len() - pos);
            self.buf_l[self.filled..self.filled + take].copy_from_slice(&left[pos..pos + take]);
            if self.stereo {
                self.buf_r[self.filled..self.filled + take]
                    .copy_from_slice(&right[pos..pos + take]);
            }
            self.filled += take;
            pos += take;
            if self.filled == self.size {
                self.analyze_frame();
                let hop = self.size / 2;
                self.buf_l.copy_within(hop.., 0);
                if self.stereo {
                    self.buf_r.copy_within(hop.., 0);
                }
                self.filled = self.size - hop;
            }
        }
    }

    fn transform(&mut self, right: bool) {
        let src = if right { &self.buf_r } else { &self.buf_l };
        for ((d, &s), &w) in self.input.iter_mut().zip(src).zip(&self.window) {
            *d = s * w;
        }
        let out = if right {
            &mut self.out_r
        } else {
            &mut self.out_l
        };
        // Lengths come from the plan itself, so this cannot fail.
        let _ = self
            .fft
            .process_with_scratch(&mut self.input, out, &mut self.scratch);
    }

    fn analyze_frame(&mut self) {
        self.transform(false);
        if self.stereo {
            self.transform(true);
        }
        let [pl, pr, pm, ps] = &mut self.power;
        if self.stereo {
            for (k, (l, r)) in self.out_l.iter().zip(&self.out_r).enumerate() {
                pl[k] += l.norm_sqr();
                pr[k] += r.norm_sqr();
                pm[k] += ((l + r) * 0.5).norm_sqr();
                ps[k] += ((l - r) * 0.5).norm_sqr();
            }
        } else {
            for (k, l) in self.out_l.iter().enumerate() {
                pl[k] += l.norm_sqr();
            }
        }
        self.frames += 1;
    }

    /// The averaged spectrum so far.
    pub(crate) fn spectrum(&self) -> Spectrum {
        let n = self.size;
        let bins = n / 2 + 1;
        let bin_hz = f64::from(self.sample_rate_hz) / n as f64;
        let window_sum: f64 = self.window.iter().sum();
        let window_sq: f64 = self.window.iter().map(|w| w * w).sum();
        let frames = self.frames as f64;
        let mean = |p: &[f64], k: usize| {
            if self.frames == 0 { 0.0 } else { p[k] / frames }
        };
        let (pl, pr, pm, ps) = if self.stereo {
            (
                &self.power[0],
                &self.power[1],
                &self.power[2],
                &self.power[3],
            )
        } else {
            (
                &self.power[0],
                &self.power[0],
                &self.power[0],
                &self.power[3],
            )
        };
        let bin_db = |p: &[f64]| -> Vec<f64> {
            (0..bins)
                .map(|k| {
                    let edge = k == 0 || k == n / 2;
                    let scale = if edge { 1.0 } else { 4.0 } / (window_sum * window_sum);
                    power_db(mean(p, k) * scale)
                })
                .collect()
        };
        let nyquist = f64::from(self.sample_rate_hz) / 2.0;
        let band_scale = 4.0 / (n as f64 * window_sq);
        let third_octave = THIRD_OCTAVE_NOMINAL_HZ
            .iter()
            .enumerate()
            .filter_map(|(i, &nominal_hz)| {
                let centre_hz = 1000.0 * 10f64.powf(f64::from(FIRST_BAND_INDEX + i as i32) / 10.0);
                if centre_hz >= nyquist {
                    return None;
                }
                let lower_hz = centre_hz * 10f64.powf(-1.0 / 20.0);
                let upper_hz = (centre_hz * 10f64.powf(1.0 / 20.0)).min(nyquist);
                let band = |p: &[f64]| {
                    let mut sum = 0.0;
                    let first = ((lower_hz / bin_hz) - 0.5).floor().max(0.0) as usize;
                    let last = (((upper_hz / bin_hz) + 0.5).ceil() as usize).min(bins - 1);
                    for k in first..=last {
                        let lo = (k as f64 - 0.5) * bin_hz;
                        let hi = (k as f64 + 0.5) * bin_hz;
                        let overlap = (hi.min(upper_hz) - lo.max(lower_hz)).max(0.0) / bin_hz;
                        sum += overlap * mean(p, k);
                    }
                    power_db(sum * band_scale)
                };
                Some(Band {
                    nominal_hz,
                    centre_hz,
                    lower_hz,
                    upper_hz,
                    left_db: band(pl),
                    right_db: band(pr),
                    mid_db: band(pm),
                    side_db: band(ps),
                })
            })
            .collect();
        Spectrum {
            fft_size: n,
            frames_averaged: self.frames,
            bin_hz,
            left_db: bin_db(pl),
            right_db: bin_db(pr),
            mid_db: bin_db(pm),
            side_db: bin_db(ps),
            third_octave,
        }
    }
}

/// `10·log10(p)`, −∞ for 0.
fn power_db(p: f64) -> f64 {
    if p > 0.0 {
        10.0 * p.log10()
    } else {
        f64::NEG_INFINITY
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_sizes() {
        assert_eq!(default_fft_size(48_000), 8192);
        assert_eq!(default_fft_size(44_100), 8192);
        assert_eq!(default_fft_size(96_000), 16384);
        assert_eq!(default_fft_size(8_000), 1024);
    }

    #[test]
    fn sine_reads_its_level_in_its_band_and_bin() {
        let fs = 48_000;
        let mut a = SpectrumAnalyzer::new(4096, fs, true);
        let amp = 0.1; // −20 dBFS
        let f = 1000.0;
        let l: Vec<f64> = (0..48_000)
            .map(|n| amp * (2.0 * std::f64::consts::PI * f * n as f64 / f64::from(fs)).sin())
            .collect();
        let r: Vec<f64> = l.iter().map(|v| -v).collect();
        a.push(&l, &r);
        let s = a.spectrum();
        assert!(s.frames_averaged > 10);
        let band = s
            .third_octave
            .iter()
            .find(|b| b.nominal_hz == 1000.0)
            .cloned()
            .unwrap_or_else(|| panic!("no 1 kHz band"));
        assert!((band.left_db + 20.0).abs() < 0.05, "{}", band.left_db);
        assert!((band.side_db + 20.0).abs() < 0.05, "{}", band.side_db);
        assert_eq!(band.mid_db, f64::NEG_INFINITY);
        let peak = s.left_db.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        assert!((-21.5..=-19.99).contains(&peak), "{peak}");
        assert_eq!(s.third_octave.last().map(|b| b.nominal_hz), Some(20000.0));
    }
}
