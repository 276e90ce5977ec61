//! A minimal second-order section for the key path (sidechain high-pass)
//! and the de-esser's band split. The general filter module lives
//! elsewhere; this one only has what dynamics need.
//!
//! Coefficients from R. Bristow-Johnson, "Cookbook formulae for audio EQ
//! biquad filter coefficients" (the RBJ cookbook): high-pass and band-pass
//! with 0 dB peak gain, bilinear transform with the cutoff pre-warped.
//! Transposed direct form II with `f64` state, which keeps its precision at
//! low cutoffs.

use super::flush;
use std::f64::consts::{FRAC_1_SQRT_2, PI};

/// Shape of a [`Biquad`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// Second-order high-pass.
    Highpass,
    /// Band-pass with 0 dB gain at the centre frequency.
    Bandpass,
}

/// Normalised coefficients `b0 b1 b2 a1 a2` (`a0` = 1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Coefficients {
    b: [f64; 3],
    a: [f64; 2],
}

impl Coefficients {
    /// RBJ cookbook coefficients for `shape` at `freq_hz` with quality `q`.
    pub(crate) fn new(shape: Shape, freq_hz: f64, q: f64, sample_rate_hz: u32) -> Self {
        let w0 = 2.0 * PI * freq_hz / f64::from(sample_rate_hz);
        let (sin, cos) = w0.sin_cos();
        let alpha = sin / (2.0 * q);
        let a0 = 1.0 + alpha;
        let b = match shape {
            Shape::Highpass => [(1.0 + cos) / 2.0, -(1.0 + cos), (1.0 + cos) / 2.0],
            Shape::Bandpass => [alpha, 0.0, -alpha],
        };
        Self {
            b: [b[0] / a0, b[1] / a0, b[2] / a0],
            a: [-2.0 * cos / a0, (1.0 - alpha) / a0],
        }
    }

    /// Butterworth (Q = 1/√2) high-pass.
    pub(crate) fn butterworth_highpass(freq_hz: f64, sample_rate_hz: u32) -> Self {
        Self::new(Shape::Highpass, freq_hz, FRAC_1_SQRT_2, sample_rate_hz)
    }

    /// Magnitude response at `freq_hz`.
    #[cfg(test)]
    pub(crate) fn magnitude(&self, freq_hz: f64, sample_rate_hz: u32) -> f64 {
        let w = 2.0 * PI * freq_hz / f64::from(sample_rate_hz);
        let z1 = (w.cos(), -w.sin());
        let z2 = ((2.0 * w).cos(), -(2.0 * w).sin());
        let num = (
            self.b[0] + self.b[1] * z1.0 + self.b[2] * z2.0,
            self.b[1] * z1.1 + self.b[2] * z2.1,
        );
        let den = (
            1.0 + self.a[0] * z1.0 + self.a[1] * z2.0,
            self.a[0] * z1.1 + self.a[1] * z2.1,
        );
        num.0.hypot(num.1) / den.0.hypot(den.1)
    }
}

/// State of one channel of a second-order section.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Biquad {
    s1: f64,
    s2: f64,
}

impl Biquad {
    /// Filters one sample (transposed direct form II).
    #[inline]
    pub(crate) fn process(&mut self, c: &Coefficients, x: f64) -> f64 {
        let y = c.b[0] * x + self.s1;
        self.s1 = flush(c.b[1] * x - c.a[0] * y + self.s2);
        self.s2 = flush(c.b[2] * x - c.a[1] * y);
        y
    }

    /// Clears the state.
    pub(crate) fn reset(&mut self) {
        *self = Self::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn highpass_is_butterworth() {
        let fs = 48_000;
        let c = Coefficients::butterworth_highpass(1000.0, fs);
        // −3.01 dB at the cutoff, 0 dB at Nyquist, 12 dB/octave far below.
        let db = |f: f64| 20.0 * c.magnitude(f, fs).log10();
        assert!((db(1000.0) + 3.0103).abs() < 1e-3);
        assert!(db(23_999.0).abs() < 1e-3);
        assert!((db(62.5) - db(125.0) + 12.0).abs() < 0.1);
    }

    #[test]
    fn bandpass_peaks_at_0_db() {
        let fs = 48_000;
        let c = Coefficients::new(Shape::Bandpass, 6000.0, 1.0, fs);
        assert!(c.magnitude(6000.0, fs) > 0.999_999);
        assert!(c.magnitude(600.0, fs) < 0.11);
    }

    #[test]
    fn filters_a_sine_as_its_response_says() {
        let fs = 48_000;
        let c = Coefficients::butterworth_highpass(2000.0, fs);
        let mut b = Biquad::default();
        let f = 1000.0;
        let y: Vec<f64> = (0..48_000)
            .map(|n| b.process(&c, (2.0 * PI * f * f64::from(n) / f64::from(fs)).sin()))
            .collect();
        let peak = y[24_000..].iter().fold(0.0f64, |m, v| m.max(v.abs()));
        assert!((peak - c.magnitude(f, fs)).abs() < 1e-3);
    }
}
