//! Linear parameter ramps, so that automation and `set_parameter` never
//! step a gain (a click). Per sample, hence sample-accurate and independent
//! of the block size.

/// Ramp length of every smoothed parameter of the dynamics processors.
pub(crate) const RAMP_MS: f64 = 20.0;

/// A value that moves linearly to a new target over a fixed number of
/// frames and then lands exactly on it.
#[derive(Debug, Clone)]
pub(crate) struct LinearSmoother {
    current: f64,
    target: f64,
    step: f64,
    remaining: u32,
    ramp_frames: u32,
}

impl LinearSmoother {
    /// A smoother resting at `value`; ramps are instantaneous until
    /// [`LinearSmoother::prepare`] sets a rate.
    pub(crate) fn new(value: f64) -> Self {
        Self {
            current: value,
            target: value,
            step: 0.0,
            remaining: 0,
            ramp_frames: 0,
        }
    }

    /// Sets the ramp length for a sample rate and jumps to the target.
    pub(crate) fn prepare(&mut self, sample_rate_hz: u32) {
        self.ramp_frames = (RAMP_MS * 1e-3 * f64::from(sample_rate_hz)).round() as u32;
        self.reset();
    }

    /// Jumps to the target (no ramp in progress).
    pub(crate) fn reset(&mut self) {
        self.current = self.target;
        self.remaining = 0;
    }

    /// Starts a ramp from the current value to `target`.
    pub(crate) fn set_target(&mut self, target: f64) {
        if target == self.target {
            return;
        }
        self.target = target;
        if self.ramp_frames == 0 || !self.current.is_finite() || !target.is_finite() {
            // An infinite end point (ratio = ∞ is stored as 0 = 1/∞, so this
            // only guards against misuse) cannot be interpolated.
            self.current = target;
            self.remaining = 0;
        } else {
            self.remaining = self.ramp_frames;
            self.step = (target - self.current) / f64::from(self.ramp_frames);
        }
    }

    /// The target value.
    pub(crate) fn target(&self) -> f64 {
        self.target
    }

    /// True while a ramp is in progress.
    pub(crate) fn is_ramping(&self) -> bool {
        self.remaining > 0
    }

    /// Advances one frame and returns the value for it.
    #[inline]
    pub(crate) fn next_value(&mut self) -> f64 {
        if self.remaining > 0 {
            self.remaining -= 1;
            self.current = if self.remaining == 0 {
                self.target
            } else {
                self.current + self.step
            };
        }
        self.current
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ramps_linearly_and_lands_exactly() {
        let mut s = LinearSmoother::new(1.0);
        s.prepare(1000); // 20 frames
        s.set_target(3.0);
        let v: Vec<f64> = (0..25).map(|_| s.next_value()).collect();
        assert!((v[0] - 1.1).abs() < 1e-12);
        assert!((v[9] - 2.0).abs() < 1e-12);
        assert_eq!(v[19], 3.0);
        assert_eq!(v[24], 3.0);
        assert!(!s.is_ramping());
    }

    #[test]
    fn unprepared_smoother_jumps() {
        let mut s = LinearSmoother::new(0.0);
        s.set_target(-6.0);
        assert_eq!(s.next_value(), -6.0);
    }
}
