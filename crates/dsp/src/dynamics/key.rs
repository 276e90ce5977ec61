//! The key (detector input) path shared by the compressor and the gate:
//! the key is the processor's own input, or an external sidechain signal
//! from any track or bus; it may be high-passed (so bass does not pump the
//! detector); and detection is stereo-linked — the detector sees the
//! largest magnitude over all key channels, sample by sample, so every
//! channel gets the same gain and the stereo image does not shift.

use super::sidechain_filter::{Biquad, Coefficients};

/// Key channels an external sidechain provides (a stereo track or bus; a
/// mono key may pass one slice).
pub(crate) const EXTERNAL_KEY_CHANNELS: usize = 2;

/// The key path of one processor.
#[derive(Debug, Clone, Default)]
pub(crate) struct KeyPath {
    hpf: Option<Coefficients>,
    input_states: Vec<Biquad>,
    key_states: Vec<Biquad>,
}

impl KeyPath {
    /// Allocates the filter states for `channels` input channels.
    pub(crate) fn prepare(&mut self, channels: usize) {
        self.input_states = vec![Biquad::default(); channels];
        self.key_states = vec![Biquad::default(); EXTERNAL_KEY_CHANNELS];
    }

    /// Sets (or removes, with `None`) the high-pass coefficients.
    pub(crate) fn set_highpass(&mut self, coefficients: Option<Coefficients>) {
        if self.hpf.is_none() && coefficients.is_some() {
            self.reset();
        }
        self.hpf = coefficients;
    }

    /// Clears the filter states.
    pub(crate) fn reset(&mut self) {
        self.input_states.iter_mut().for_each(Biquad::reset);
        self.key_states.iter_mut().for_each(Biquad::reset);
    }

    /// Linked peaks of a whole block into `out` (as long as the block):
    /// the same values as [`KeyPath::peak`] frame by frame, a channel at a
    /// time (the maximum does not depend on the order).
    pub(crate) fn peaks(&mut self, input: &[&mut [f64]], key: &[&[f64]], out: &mut [f64]) {
        out.fill(0.0);
        let hpf = self.hpf;
        let mut take = |ch: &[f64], state: &mut Biquad| match &hpf {
            Some(c) => {
                for (o, &x) in out.iter_mut().zip(ch) {
                    *o = o.max(state.process(c, x).abs());
                }
            }
            None => {
                for (o, &x) in out.iter_mut().zip(ch) {
                    *o = o.max(x.abs());
                }
            }
        };
        if key.is_empty() {
            for (ch, state) in input.iter().zip(&mut self.input_states) {
                take(ch, state);
            }
        } else {
            for (ch, state) in key.iter().zip(&mut self.key_states) {
                take(ch, state);
            }
        }
    }

    /// Linked peak of frame `i`: the largest |key| over channels, after the
    /// optional high-pass. `key` empty means the input is the key.
    #[inline]
    pub(crate) fn peak(&mut self, i: usize, input: &[&mut [f64]], key: &[&[f64]]) -> f64 {
        let mut peak = 0.0f64;
        if key.is_empty() {
            for (ch, state) in input.iter().zip(&mut self.input_states) {
                peak = peak.max(filter(self.hpf.as_ref(), state, ch[i]).abs());
            }
        } else {
            for (ch, state) in key.iter().zip(&mut self.key_states) {
                peak = peak.max(filter(self.hpf.as_ref(), state, ch[i]).abs());
            }
        }
        peak
    }
}

#[inline]
fn filter(hpf: Option<&Coefficients>, state: &mut Biquad, x: f64) -> f64 {
    match hpf {
        Some(c) => state.process(c, x),
        None => x,
    }
}
