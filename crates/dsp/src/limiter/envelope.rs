//! Gain-envelope building blocks of the limiter: the hold-minimum followed
//! by moving averages (the attack, which can never rise above what any peak
//! in its window requires), the program-dependent release in dB, and the
//! low-band energy ratio that drives it.

use crate::dynamics::flush;
use crate::dynamics::peak_hold::PeakHold;

/// Moving average over the last `len` values, idle at 1.0 (unity gain).
/// The running sum is recomputed from the buffer once per `len` pushes, so
/// rounding cannot accumulate, and is exact again once the window holds
/// only ones.
#[derive(Debug, Clone)]
struct Boxcar {
    buf: Vec<f64>,
    pos: usize,
    sum: f64,
}

impl Boxcar {
    fn new(len: usize) -> Self {
        let len = len.max(1);
        Self {
            buf: vec![1.0; len],
            pos: 0,
            sum: len as f64,
        }
    }

    #[inline]
    fn push(&mut self, x: f64) -> f64 {
        let old = std::mem::replace(&mut self.buf[self.pos], x);
        self.sum += x - old;
        self.pos += 1;
        if self.pos == self.buf.len() {
            self.pos = 0;
            self.sum = self.buf.iter().sum();
        }
        self.sum / self.buf.len() as f64
    }

    fn reset(&mut self) {
        self.buf.fill(1.0);
        self.pos = 0;
        self.sum = self.buf.len() as f64;
    }
}

/// The smoothed minimum: `hold` (minimum of the last `hold` required
/// gains) followed by a cascade of moving averages whose combined window is
/// `span` samples long. Every weight of that window is ≥ 0 and they sum to
/// 1, so the output never exceeds the largest held value in its window:
/// with `hold = span + plateau − 1`, each required gain bounds the output
/// on `plateau` consecutive samples (see the limiter's module docs for the
/// alignment).
#[derive(Debug, Clone)]
pub(crate) struct SmoothedMin {
    hold: PeakHold,
    boxes: Vec<Boxcar>,
}

impl SmoothedMin {
    /// `lengths` are the moving averages' lengths (their span is
    /// `Σ lengths − (count − 1)`). Allocates.
    pub(crate) fn new(hold: usize, lengths: &[usize]) -> Self {
        Self {
            hold: PeakHold::new(hold),
            boxes: lengths.iter().map(|&n| Boxcar::new(n)).collect(),
        }
    }

    /// Pushes the required gain of the newest interval and returns the gain
    /// of the sample the alignment assigns to it (≤ 1).
    #[inline]
    pub(crate) fn push(&mut self, required: f64) -> f64 {
        let mut g = -self.hold.push(-required);
        for b in &mut self.boxes {
            g = b.push(g);
        }
        g.min(1.0)
    }

    pub(crate) fn reset(&mut self) {
        self.hold.reset();
        self.boxes.iter_mut().for_each(Boxcar::reset);
    }
}

/// Gain reduction (in dB) below which a release that has reached unity
/// target snaps to exactly 0 dB, so the limiter becomes bit-transparent
/// again (a step of 1.2e-7 relative, −139 dB).
pub(crate) const RELEASE_SNAP_DB: f64 = 1e-6;

/// Release in the dB domain: the output follows a falling target at once
/// (the attack is already smooth) and recovers towards a rising one with a
/// one-pole of time constant `τ`, so a gain reduction of `R` dB decays as
/// `R·e^(−t/τ)` (Giannoulis, Massberg & Reiss, JAES 60(6), 2012, on the
/// log-domain detector). The output never exceeds the target.
#[derive(Debug, Clone, Default)]
pub(crate) struct Release {
    env_db: f64,
}

impl Release {
    /// Next gain for the smoothed target gain `target` (≤ 1) with the
    /// release time constant `tau_frames`.
    #[inline]
    pub(crate) fn next(&mut self, target: f64, tau_frames: f64) -> f64 {
        if target >= 1.0 && self.env_db == 0.0 {
            return 1.0;
        }
        let target_db = if target >= 1.0 {
            0.0
        } else {
            20.0 * target.log10()
        };
        if target_db <= self.env_db {
            self.env_db = target_db;
        } else {
            let alpha = (-1.0 / tau_frames).exp();
            self.env_db = target_db + alpha * (self.env_db - target_db);
            if target_db == 0.0 && self.env_db > -RELEASE_SNAP_DB {
                self.env_db = 0.0;
                return 1.0;
            }
        }
        // The conversions round; the target stays the bound.
        10f64.powf(self.env_db / 20.0).min(target)
    }

    pub(crate) fn reset(&mut self) {
        self.env_db = 0.0;
    }
}

/// The share of the detector's energy below the bass split, `β ∈ [0, 1]`:
/// two cascaded one-pole low-passes (12 dB/oct) split the band; the squares
/// of the low band and of the whole signal, summed over the linked
/// channels, are averaged by one-poles and divided.
#[derive(Debug, Clone)]
pub(crate) struct BassRatio {
    /// Per channel: the two low-pass states.
    lowpass: Vec<[f64; 2]>,
    lowpass_coeff: f64,
    average_coeff: f64,
    low: f64,
    all: f64,
}

impl BassRatio {
    /// For `channels` channels, split at `split_hz`, averaged with a time
    /// constant of `average_ms`. Allocates.
    pub(crate) fn new(
        channels: usize,
        split_hz: f64,
        average_ms: f64,
        sample_rate_hz: u32,
    ) -> Self {
        let fs = f64::from(sample_rate_hz);
        Self {
            lowpass: vec![[0.0; 2]; channels],
            // Impulse-invariant one-pole: y += (1 − e^(−2π·fc/fs))·(x − y).
            lowpass_coeff: 1.0 - (-2.0 * std::f64::consts::PI * split_hz / fs).exp(),
            average_coeff: 1.0 - (-1.0 / (average_ms * 1e-3 * fs)).exp(),
            low: 0.0,
            all: 0.0,
        }
    }

    /// Feeds one frame of the path's channels and returns β.
    #[inline]
    pub(crate) fn push(&mut self, frame: impl Iterator<Item = f64>) -> f64 {
        let a = self.lowpass_coeff;
        let (mut low, mut all) = (0.0, 0.0);
        for (x, st) in frame.zip(&mut self.lowpass) {
            st[0] = flush(st[0] + a * (x - st[0]));
            st[1] = flush(st[1] + a * (st[0] - st[1]));
            low += st[1] * st[1];
            all += x * x;
        }
        let b = self.average_coeff;
        self.low = flush(self.low + b * (low - self.low));
        self.all = flush(self.all + b * (all - self.all));
        if self.all > 0.0 {
            (self.low / self.all).min(1.0)
        } else {
            0.0
        }
    }

    pub(crate) fn reset(&mut self) {
        self.lowpass.iter_mut().for_each(|s| *s = [0.0; 2]);
        self.low = 0.0;
        self.all = 0.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smoothed_min_never_exceeds_the_held_requirement() {
        // One dip of 0.5 at t = 100; hold 12, boxes 5 + 4 (span 8):
        // plateau = 12 − 8 + 1 = 5 samples at 0.5 exactly.
        let mut s = SmoothedMin::new(12, &[5, 4]);
        let out: Vec<f64> = (0..200)
            .map(|t| s.push(if t == 100 { 0.5 } else { 1.0 }))
            .collect();
        let at_half: Vec<usize> = (0..200).filter(|&t| out[t] == 0.5).collect();
        assert_eq!(at_half.len(), 5, "{out:?}");
        assert!(out.iter().all(|&g| (0.5..=1.0).contains(&g)));
        assert_eq!(out[199], 1.0);
        // Monotone ramps: down before the plateau, up after it.
        let first = at_half[0];
        assert!(out[first - 8..=first].windows(2).all(|w| w[1] <= w[0]));
    }

    #[test]
    fn release_is_exponential_in_db() {
        let mut r = Release::default();
        let first = r.next(0.5, 100.0);
        assert!(first <= 0.5 && first > 0.5 - 1e-15, "{first}");
        let gr0 = -20.0 * 0.5f64.log10();
        let mut g = 0.5;
        for _ in 0..100 {
            g = r.next(1.0, 100.0);
        }
        let gr = -20.0 * g.log10();
        assert!((gr - gr0 / std::f64::consts::E).abs() < 1e-9, "{gr}");
        for _ in 0..10_000 {
            g = r.next(1.0, 100.0);
        }
        assert_eq!(g, 1.0);
    }

    #[test]
    fn bass_ratio_separates_low_and_high_tones() {
        let fs = 48_000;
        for (f, lo, hi) in [(60.0, 0.7, 0.8), (3000.0, 0.0, 0.01)] {
            let mut b = BassRatio::new(1, 150.0, 50.0, fs);
            let mut beta = 0.0;
            for n in 0..fs {
                let x = (2.0 * std::f64::consts::PI * f * f64::from(n) / f64::from(fs)).sin();
                beta = b.push(std::iter::once(x));
            }
            assert!((lo..=hi).contains(&beta), "{f} Hz: β = {beta}");
        }
    }
}
