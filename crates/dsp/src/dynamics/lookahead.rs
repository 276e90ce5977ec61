//! The lookahead delay: the audio path is delayed so the detector, which
//! reads the undelayed key, starts reducing the gain before a transient
//! reaches the output. The delay is the processor's `latency_frames`.

/// A fixed delay of `frames` samples for one channel.
#[derive(Debug, Clone, Default)]
pub(crate) struct Delay {
    buffer: Vec<f64>,
    pos: usize,
}

impl Delay {
    /// A delay of `frames` samples (allocates).
    pub(crate) fn new(frames: usize) -> Self {
        Self {
            buffer: vec![0.0; frames],
            pos: 0,
        }
    }

    /// True for a zero-length delay (the input passes unchanged).
    pub(crate) fn is_empty(&self) -> bool {
        self.buffer.is_empty()
    }

    /// Pushes `x` and returns the sample from `frames` samples ago.
    #[inline]
    pub(crate) fn push(&mut self, x: f64) -> f64 {
        if self.buffer.is_empty() {
            return x;
        }
        let out = std::mem::replace(&mut self.buffer[self.pos], x);
        self.pos += 1;
        if self.pos == self.buffer.len() {
            self.pos = 0;
        }
        out
    }

    /// Clears the delay line.
    pub(crate) fn reset(&mut self) {
        self.buffer.fill(0.0);
        self.pos = 0;
    }
}

/// Frames of lookahead for a time in ms at a sample rate.
pub(crate) fn frames(lookahead_ms: f64, sample_rate_hz: u32) -> usize {
    (lookahead_ms * 1e-3 * f64::from(sample_rate_hz)).round() as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_by_its_length() {
        let mut d = Delay::new(3);
        let out: Vec<f64> = (1..=6).map(|i| d.push(f64::from(i))).collect();
        assert_eq!(out, [0.0, 0.0, 0.0, 1.0, 2.0, 3.0]);
        let mut none = Delay::new(0);
        assert_eq!(none.push(5.0), 5.0);
    }
}
