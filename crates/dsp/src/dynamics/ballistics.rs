//! Attack and release: one-pole smoothing with the time constant defined as
//! in Giannoulis, Massberg & Reiss, "Digital Dynamic Range Compressor
//! Design — A Tutorial and Analysis", JAES 60(6), 2012 (section on level
//! detection): the time a step response needs to reach 1 − 1/e of its
//! final value, so `α = exp(−1 / (τ · fs))`.

use super::flush;

/// One-pole coefficient for a time constant in ms; 0 (instantaneous) for a
/// time of 0.
#[inline]
pub(crate) fn coefficient(time_ms: f64, sample_rate_hz: u32) -> f64 {
    if time_ms <= 0.0 {
        0.0
    } else {
        (-1.0 / (time_ms * 1e-3 * f64::from(sample_rate_hz))).exp()
    }
}

/// The *smooth branching* peak detector of Giannoulis et al. (2012): a
/// one-pole filter whose coefficient is the attack one while the input is
/// above the state and the release one otherwise. Each branch is an exact
/// one-pole step response, so the stated attack and release times hold
/// exactly; the processors run it on the gain reduction in dB (the "log
/// domain" placement after the gain computer that the paper recommends).
#[derive(Debug, Clone, Default)]
pub(crate) struct SmoothBranching {
    state: f64,
}

impl SmoothBranching {
    /// Advances one sample: `rising` is the coefficient used when `x` is
    /// above the state, `falling` when it is at or below.
    #[inline]
    pub(crate) fn next_value(&mut self, x: f64, rising: f64, falling: f64) -> f64 {
        let a = if x > self.state { rising } else { falling };
        self.state = flush(a * self.state + (1.0 - a) * x);
        self.state
    }

    /// The current output.
    pub(crate) fn value(&self) -> f64 {
        self.state
    }

    /// Clears the state to `value`.
    pub(crate) fn reset(&mut self, value: f64) {
        self.state = value;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_reaches_one_minus_one_over_e_at_the_time_constant() {
        let fs = 48_000;
        let a = coefficient(10.0, fs);
        let mut d = SmoothBranching::default();
        let mut n = 0;
        while d.next_value(1.0, a, 0.0) < 1.0 - (-1.0f64).exp() {
            n += 1;
        }
        assert!((n as f64 - 480.0).abs() <= 1.0, "{n}");
        assert_eq!(coefficient(0.0, fs), 0.0);
    }
}
