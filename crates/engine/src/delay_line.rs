//! A fixed delay of whole frames, for latency compensation and bypassed
//! inserts. Zero delay is a plain copy.

/// A multichannel delay of `frames` frames (ring buffer).
#[derive(Debug, Clone)]
pub struct DelayLine {
    frames: usize,
    buffers: Vec<Vec<f64>>,
    write: usize,
}

impl DelayLine {
    /// A delay of `frames` frames on `channels` channels.
    pub fn new(channels: usize, frames: usize) -> Self {
        Self {
            frames,
            buffers: vec![vec![0.0; frames]; channels],
            write: 0,
        }
    }

    /// The delay in frames.
    pub fn frames(&self) -> usize {
        self.frames
    }

    /// Delays `block` in place.
    pub fn process(&mut self, block: &mut [&mut [f64]]) {
        if self.frames == 0 {
            return;
        }
        let n = block.first().map_or(0, |c| c.len());
        for (ch, buf) in block.iter_mut().zip(&mut self.buffers) {
            let mut w = self.write;
            for x in ch.iter_mut() {
                std::mem::swap(x, &mut buf[w]);
                w += 1;
                if w == self.frames {
                    w = 0;
                }
            }
        }
        self.write = (self.write + n) % self.frames;
    }

    /// Clears the delayed samples.
    pub fn reset(&mut self) {
        for b in &mut self.buffers {
            b.fill(0.0);
        }
        self.write = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_by_whole_frames_across_blocks() {
        let mut d = DelayLine::new(1, 3);
        let mut out = Vec::new();
        for chunk in (1..=10).map(f64::from).collect::<Vec<_>>().chunks(4) {
            let mut c = chunk.to_vec();
            d.process(&mut [&mut c]);
            out.extend(c);
        }
        assert_eq!(out, [0.0, 0.0, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]);
    }
}
