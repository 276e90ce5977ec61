//! Parameter smoothing: a linear ramp of a stated length, so that a
//! parameter change never jumps (STYLE.md, "Processing": parameter changes
//! are smoothed where a jump would click).
//!
//! A linear ramp rather than a one-pole: it reaches its target exactly after
//! a known number of frames, so the static response after a change is
//! exactly the response of the new setting, and the largest per-sample
//! change is known in advance: `|target − start| / ramp_frames`.
//!
//! The value after `k` of `N` ramp frames is computed as
//! `target − step·(N − k)` rather than by accumulating `step`, so it does not
//! drift and does not depend on how the frames are grouped into blocks.

/// Default smoothing time of gains and filter parameters, in milliseconds.
/// 20 ms is long against one period of the lowest audible frequency (so a
/// gain step is not heard as a click) and short enough to follow automation.
pub const DEFAULT_SMOOTHING_MS: f64 = 20.0;

/// Number of frames of a ramp of `ms` milliseconds at `sample_rate_hz`
/// (at least 1).
pub fn ramp_frames(ms: f64, sample_rate_hz: u32) -> usize {
    ((ms.max(0.0) * 1e-3 * f64::from(sample_rate_hz)).round() as usize).max(1)
}

/// A value that moves linearly to a new target over a fixed number of
/// frames.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinearSmoother {
    target: f64,
    step: f64,
    remaining: usize,
    ramp_frames: usize,
}

impl LinearSmoother {
    /// A settled smoother at `value` with ramps of `ramp_frames` frames.
    pub fn new(value: f64, ramp_frames: usize) -> Self {
        Self {
            target: value,
            step: 0.0,
            remaining: 0,
            ramp_frames: ramp_frames.max(1),
        }
    }

    /// Length of a ramp in frames.
    pub fn ramp_frames(&self) -> usize {
        self.ramp_frames
    }

    /// Changes the ramp length used by the next [`set_target`](Self::set_target).
    pub fn set_ramp_frames(&mut self, frames: usize) {
        self.ramp_frames = frames.max(1);
    }

    /// The current value.
    #[inline]
    pub fn current(&self) -> f64 {
        self.target - self.step * self.remaining as f64
    }

    /// The value the ramp ends at.
    pub fn target(&self) -> f64 {
        self.target
    }

    /// True while the value is still moving.
    #[inline]
    pub fn is_ramping(&self) -> bool {
        self.remaining > 0
    }

    /// Frames left in the current ramp.
    pub fn remaining(&self) -> usize {
        self.remaining
    }

    /// Starts a ramp from the current value to `target`.
    pub fn set_target(&mut self, target: f64) {
        let start = self.current();
        if target == start {
            *self = Self::new(target, self.ramp_frames);
            return;
        }
        self.target = target;
        self.remaining = self.ramp_frames;
        self.step = (target - start) / self.ramp_frames as f64;
    }

    /// Jumps to `value` without a ramp (for `reset` and `prepare`).
    pub fn set_immediate(&mut self, value: f64) {
        *self = Self::new(value, self.ramp_frames);
    }

    /// Advances one frame and returns the new value.
    #[inline]
    pub fn next_value(&mut self) -> f64 {
        if self.remaining > 0 {
            self.remaining -= 1;
        }
        self.current()
    }

    /// Advances `frames` frames at once and returns the new value.
    pub fn advance(&mut self, frames: usize) -> f64 {
        self.remaining -= frames.min(self.remaining);
        self.current()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ramp_reaches_target_exactly_and_linearly() {
        let mut s = LinearSmoother::new(1.0, 4);
        s.set_target(0.0);
        let v: Vec<f64> = (0..6).map(|_| s.next_value()).collect();
        assert_eq!(v, [0.75, 0.5, 0.25, 0.0, 0.0, 0.0]);
        assert!(!s.is_ramping());
    }

    #[test]
    fn advance_equals_single_steps() {
        let mut a = LinearSmoother::new(0.3, 10);
        let mut b = a;
        a.set_target(-2.0);
        b.set_target(-2.0);
        for _ in 0..7 {
            a.next_value();
        }
        assert_eq!(a.current(), b.advance(7));
    }

    #[test]
    fn retarget_mid_ramp_starts_from_current_value() {
        let mut s = LinearSmoother::new(0.0, 4);
        s.set_target(4.0);
        s.next_value();
        s.next_value();
        s.set_target(0.0);
        assert_eq!(s.current(), 2.0);
        assert_eq!(s.next_value(), 1.5);
    }
}
