//! Helpers shared by the crossover, multiband and imager tests: spectra of
//! impulse responses by FFT, read on a dense logarithmic frequency grid.
#![allow(dead_code)]

use mixmaster_dsp::rng::SplitMix64;
use realfft::RealFftPlanner;
use realfft::num_complex::Complex;

/// The sample rates of the flatness matrices.
pub const RATES: [u32; 4] = [44_100, 48_000, 96_000, 192_000];

/// Crossover frequencies for 2, 3, 4 and 5 bands.
pub fn crossovers(bands: usize) -> Vec<f64> {
    match bands {
        1 => vec![],
        2 => vec![1000.0],
        3 => vec![200.0, 3000.0],
        4 => vec![120.0, 1000.0, 6000.0],
        _ => vec![80.0, 400.0, 2500.0, 10_000.0],
    }
}

/// FFT length for impulse responses at a rate (≥ 1.3 s, so the lowest
/// all-pass has long decayed; bins ≤ 0.75 Hz apart).
pub fn fft_len(fs: u32) -> usize {
    if fs > 48_000 { 1 << 17 } else { 1 << 16 }
}

/// A unit impulse at frame `at`, `len` frames long.
pub fn impulse(len: usize, at: usize) -> Vec<f64> {
    let mut x = vec![0.0; len];
    x[at] = 1.0;
    x
}

/// Complex spectrum (`len/2 + 1` bins) of `x`.
pub fn spectrum(x: &[f64]) -> Vec<Complex<f64>> {
    let mut planner = RealFftPlanner::<f64>::new();
    let fft = planner.plan_fft_forward(x.len());
    let mut input = x.to_vec();
    let mut out = fft.make_output_vec();
    fft.process(&mut input, &mut out).unwrap();
    out
}

/// FFT bins nearest to `points` log-spaced frequencies from 10 Hz to
/// 0.49·fs (deduplicated).
pub fn log_grid_bins(fs: u32, len: usize, points: usize) -> Vec<usize> {
    let (lo, hi) = (10.0f64, 0.49 * f64::from(fs));
    let mut bins: Vec<usize> = (0..points)
        .map(|i| {
            let f = lo * (hi / lo).powf(i as f64 / (points - 1) as f64);
            (f * len as f64 / f64::from(fs)).round() as usize
        })
        .collect();
    bins.dedup();
    bins
}

/// Frequency of FFT bin `bin`.
pub fn bin_hz(bin: usize, fs: u32, len: usize) -> f64 {
    bin as f64 * f64::from(fs) / len as f64
}

/// Level in dB of an amplitude.
pub fn db(a: f64) -> f64 {
    20.0 * a.abs().log10()
}

/// Largest |magnitude in dB| of `x`'s spectrum on the log grid.
pub fn worst_flatness_db(x: &[f64], fs: u32) -> f64 {
    let s = spectrum(x);
    log_grid_bins(fs, x.len(), 1000)
        .into_iter()
        .map(|b| db(s[b].norm()).abs())
        .fold(0.0, f64::max)
}

/// Energy ratio in dB of `error` to `reference`.
pub fn null_db(error: &[f64], reference: &[f64]) -> f64 {
    let e: f64 = error.iter().map(|v| v * v).sum();
    let r: f64 = reference.iter().map(|v| v * v).sum();
    10.0 * (e / r).log10()
}

/// White noise in ±`amplitude` from a fixed seed.
pub fn noise(amplitude: f64, frames: usize, seed: u64) -> Vec<f64> {
    let mut rng = SplitMix64::new(seed);
    (0..frames)
        .map(|_| amplitude * (2.0 * rng.next_f64() - 1.0))
        .collect()
}

/// A sine of `freq_hz` with peak `amplitude`.
pub fn sine(freq_hz: f64, amplitude: f64, fs: u32, frames: usize) -> Vec<f64> {
    (0..frames)
        .map(|n| {
            amplitude * (2.0 * std::f64::consts::PI * freq_hz * n as f64 / f64::from(fs)).sin()
        })
        .collect()
}

/// Amplitude of the component at `freq_hz` in `x` (exact for an integer
/// number of periods).
pub fn tone_amplitude(x: &[f64], freq_hz: f64, fs: u32) -> f64 {
    let (mut re, mut im) = (0.0, 0.0);
    for (n, v) in x.iter().enumerate() {
        let ph = 2.0 * std::f64::consts::PI * freq_hz * n as f64 / f64::from(fs);
        re += v * ph.cos();
        im += v * ph.sin();
    }
    2.0 * re.hypot(im) / x.len() as f64
}
