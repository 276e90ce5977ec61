//! Sliding-window maximum: the largest value of the last `W` samples, in
//! O(1) amortised time per sample (a monotonic queue: entries that can never
//! be the maximum again are dropped). A gate's level detector: for a steady
//! tone whose half period fits in the window it gives the peak with no
//! ripple, so the gate does not chatter at zero crossings.

use std::collections::VecDeque;

/// Running maximum over a window of `window` samples.
#[derive(Debug, Clone, Default)]
pub(crate) struct PeakHold {
    window: u64,
    now: u64,
    /// (time, value), values strictly decreasing from front to back.
    queue: VecDeque<(u64, f64)>,
}

impl PeakHold {
    /// A window of `window` ≥ 1 samples (allocates).
    pub(crate) fn new(window: usize) -> Self {
        let window = window.max(1);
        Self {
            window: window as u64,
            now: 0,
            queue: VecDeque::with_capacity(window + 1),
        }
    }

    /// Pushes `x` and returns the maximum of the last `window` samples.
    #[inline]
    pub(crate) fn push(&mut self, x: f64) -> f64 {
        while self.queue.back().is_some_and(|&(_, v)| v <= x) {
            self.queue.pop_back();
        }
        // At most `window` entries remain after the expiry below, and we
        // reserved one more, so this never reallocates.
        self.queue.push_back((self.now, x));
        while self
            .queue
            .front()
            .is_some_and(|&(t, _)| t + self.window <= self.now)
        {
            self.queue.pop_front();
        }
        self.now += 1;
        self.queue.front().map_or(x, |&(_, v)| v)
    }

    /// Forgets the past.
    pub(crate) fn reset(&mut self) {
        self.queue.clear();
        self.now = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_a_brute_force_maximum() {
        let mut rng = crate::rng::SplitMix64::new(7);
        let xs: Vec<f64> = (0..2000).map(|_| rng.next_f64()).collect();
        for w in [1, 2, 5, 64] {
            let mut p = PeakHold::new(w);
            for (n, &x) in xs.iter().enumerate() {
                let lo = (n + 1).saturating_sub(w);
                let brute = xs[lo..=n].iter().fold(f64::MIN, |m, &v| m.max(v));
                assert_eq!(p.push(x), brute, "window {w}, sample {n}");
            }
            assert!(p.queue.capacity() <= w + 2);
        }
    }
}
