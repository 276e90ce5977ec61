//! Automation lanes evaluated sample by sample, and the smoother that keeps
//! gain changes free of clicks.
//!
//! A lane is a list of breakpoints `(frame, value, curve)`; between two
//! points the value follows the curve of the first; before the first point
//! it holds the first value, after the last the last value. Gains (fader,
//! send levels) are then smoothed by a one-pole low-pass with a time
//! constant of [`GAIN_SMOOTHING_MS`] on the linear gain, so even a step
//! cannot click: the per-sample change of gain is at most
//! `1 − e^{−1/(τ·fs)}` of the remaining distance.

use mixmaster_session::Curve;

use crate::curves::shape;

/// Time constant of the gain smoother, in ms.
pub const GAIN_SMOOTHING_MS: f64 = 5.0;

/// One breakpoint, at a frame of the session timeline.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Breakpoint {
    /// Timeline frame.
    pub frame: u64,
    /// Value at the point.
    pub value: f64,
    /// Shape of the segment that starts here.
    pub curve: Curve,
}

/// An automation lane.
#[derive(Debug, Clone, PartialEq)]
pub struct Lane {
    points: Vec<Breakpoint>,
    /// Index of the segment the last evaluation ended in (a cursor, since
    /// rendering moves forward).
    cursor: usize,
}

impl Lane {
    /// A lane from breakpoints (sorted by frame, stable for equal frames,
    /// so two points at one frame make a jump).
    pub fn new(mut points: Vec<Breakpoint>) -> Self {
        points.sort_by_key(|p| p.frame);
        Self { points, cursor: 0 }
    }

    /// Value at `frame`.
    pub fn value_at(&mut self, frame: u64) -> f64 {
        let pts = &self.points;
        let Some(first) = pts.first() else { return 0.0 };
        if frame < first.frame {
            return first.value;
        }
        if self.cursor >= pts.len() || pts[self.cursor].frame > frame {
            self.cursor = 0;
        }
        while self.cursor + 1 < pts.len() && pts[self.cursor + 1].frame <= frame {
            self.cursor += 1;
        }
        let a = pts[self.cursor];
        match pts.get(self.cursor + 1) {
            None => a.value,
            Some(b) => {
                let x = (frame - a.frame) as f64 / (b.frame - a.frame) as f64;
                a.value + (b.value - a.value) * shape(a.curve, x)
            }
        }
    }

    /// Fills `out` with the values of frames `start ..`.
    pub fn fill(&mut self, start: u64, out: &mut [f64]) {
        for (i, v) in out.iter_mut().enumerate() {
            *v = self.value_at(start + i as u64);
        }
    }

    /// True when the lane has a single value everywhere.
    pub fn is_constant(&self) -> bool {
        self.points.windows(2).all(|w| w[0].value == w[1].value)
    }
}

/// One-pole smoother of a linear gain (time constant [`GAIN_SMOOTHING_MS`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GainSmoother {
    coefficient: f64,
    state: f64,
}

impl GainSmoother {
    /// A smoother at `sample_rate_hz` starting at `initial`.
    pub fn new(sample_rate_hz: u32, initial: f64) -> Self {
        let tau_frames = GAIN_SMOOTHING_MS * 1e-3 * f64::from(sample_rate_hz);
        Self {
            coefficient: 1.0 - (-1.0 / tau_frames).exp(),
            state: initial,
        }
    }

    /// The largest fraction of the remaining distance covered in one sample.
    pub fn coefficient(&self) -> f64 {
        self.coefficient
    }

    /// True when the smoother rests exactly at `target`: smoothing a
    /// constant `target` then returns it unchanged.
    pub fn is_settled_at(&self, target: f64) -> bool {
        self.state == target
    }

    /// Smooths `targets` in place.
    pub fn process(&mut self, targets: &mut [f64]) {
        for t in targets {
            self.state += self.coefficient * (*t - self.state);
            // Snap when close, so a constant gain becomes exactly constant.
            if (self.state - *t).abs() < 1e-12 {
                self.state = *t;
            }
            *t = self.state;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bp(frame: u64, value: f64, curve: Curve) -> Breakpoint {
        Breakpoint {
            frame,
            value,
            curve,
        }
    }

    #[test]
    fn holds_before_and_after_and_interpolates() {
        let mut lane = Lane::new(vec![
            bp(100, 0.0, Curve::Linear),
            bp(200, 10.0, Curve::Step),
            bp(300, 20.0, Curve::Linear),
        ]);
        assert_eq!(lane.value_at(0), 0.0);
        assert_eq!(lane.value_at(150), 5.0);
        assert_eq!(lane.value_at(250), 10.0);
        assert_eq!(lane.value_at(300), 20.0);
        assert_eq!(lane.value_at(1000), 20.0);
        // Going back in time works too.
        assert_eq!(lane.value_at(150), 5.0);
    }

    #[test]
    fn smoother_bounds_the_per_sample_change() {
        let mut s = GainSmoother::new(48_000, 0.001);
        let mut g = vec![1.0; 48_000];
        s.process(&mut g);
        let bound = s.coefficient() * (1.0 - 0.001);
        let max_step = g
            .windows(2)
            .map(|w| (w[1] - w[0]).abs())
            .fold(g[0] - 0.001, f64::max);
        assert!(max_step <= bound + 1e-15, "{max_step} > {bound}");
        assert_eq!(*g.last().unwrap(), 1.0);
    }
}
