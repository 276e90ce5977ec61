//! Signals and helpers shared by the dynamics and saturation tests.
#![allow(dead_code)]

use mixmaster_core::{CoreError, Processor};
use std::f64::consts::PI;

/// Amplitude for a level in dBFS.
pub fn amp(db: f64) -> f64 {
    10f64.powf(db / 20.0)
}

/// Level in dB of an amplitude.
pub fn db(a: f64) -> f64 {
    20.0 * a.abs().log10()
}

/// A sine of `freq_hz` with peak `amplitude`.
pub fn sine(freq_hz: f64, amplitude: f64, fs: u32, frames: usize) -> Vec<f64> {
    (0..frames)
        .map(|n| amplitude * (2.0 * PI * freq_hz * n as f64 / f64::from(fs)).sin())
        .collect()
}

/// Root mean square of a slice.
pub fn rms(x: &[f64]) -> f64 {
    (x.iter().map(|v| v * v).sum::<f64>() / x.len() as f64).sqrt()
}

/// Amplitude of the component at `freq_hz` (an integer number of periods in
/// `x` gives the exact value).
pub fn tone_amplitude(x: &[f64], freq_hz: f64, fs: u32) -> f64 {
    let (mut re, mut im) = (0.0, 0.0);
    for (n, v) in x.iter().enumerate() {
        let ph = 2.0 * PI * freq_hz * n as f64 / f64::from(fs);
        re += v * ph.cos();
        im += v * ph.sin();
    }
    2.0 * re.hypot(im) / x.len() as f64
}

/// White noise in ±`amplitude` from a fixed seed.
pub fn noise(amplitude: f64, frames: usize, seed: u64) -> Vec<f64> {
    let mut rng = mixmaster_dsp::rng::SplitMix64::new(seed);
    (0..frames)
        .map(|_| amplitude * (2.0 * rng.next_f64() - 1.0))
        .collect()
}

/// A processor fed with an external key: each block takes the matching
/// slice of `key`, so the shared block-size helpers work with sidechains.
pub struct Keyed<P> {
    pub inner: P,
    pub key: Vec<Vec<f64>>,
    pos: usize,
}

impl<P> Keyed<P> {
    pub fn new(inner: P, key: Vec<Vec<f64>>) -> Self {
        Self { inner, key, pos: 0 }
    }
}

impl<P: Processor> Processor for Keyed<P> {
    fn prepare(&mut self, fs: u32, max: usize, channels: usize) -> Result<(), CoreError> {
        self.pos = 0;
        self.inner.prepare(fs, max, channels)
    }

    fn process(&mut self, block: &mut [&mut [f64]]) {
        let n = block.first().map_or(0, |c| c.len());
        let key: Vec<&[f64]> = self
            .key
            .iter()
            .map(|k| &k[self.pos..self.pos + n])
            .collect();
        self.inner.process_with_sidechain(block, &key);
        self.pos += n;
    }

    fn reset(&mut self) {
        self.pos = 0;
        self.inner.reset();
    }

    fn latency_frames(&self) -> usize {
        self.inner.latency_frames()
    }
}
