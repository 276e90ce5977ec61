//! Planar audio buffers: one contiguous `Vec<f64>` per channel.
//!
//! Planar storage lets a processor run one channel's filter over a contiguous
//! slice (cache friendly, easy to vectorise), and lets readers and meters
//! exchange blocks without interleaving. Samples are `f64` in the mix and
//! master path (DESIGN.md, "Signal path"); ±1.0 is digital full scale.

use crate::error::CoreError;

/// A block of planar audio: `channels` slices of equal length `frames`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AudioBuffer {
    data: Vec<Vec<f64>>,
    frames: usize,
}

impl AudioBuffer {
    /// A silent buffer of `channels` × `frames`.
    pub fn new(channels: usize, frames: usize) -> Self {
        Self {
            data: vec![vec![0.0; frames]; channels],
            frames,
        }
    }

    /// A buffer from planar channel vectors, which must have equal lengths.
    pub fn from_planar(data: Vec<Vec<f64>>) -> Result<Self, CoreError> {
        let frames = check_planar(&data)?;
        Ok(Self { data, frames })
    }

    /// A buffer from interleaved samples (`frame0ch0, frame0ch1, …`).
    /// A trailing partial frame is ignored.
    pub fn from_interleaved(samples: &[f64], channels: usize) -> Self {
        let channels = channels.max(1);
        let frames = samples.len() / channels;
        let mut data = vec![Vec::with_capacity(frames); channels];
        for frame in samples.chunks_exact(channels) {
            for (ch, &s) in data.iter_mut().zip(frame) {
                ch.push(s);
            }
        }
        Self { data, frames }
    }

    /// Interleaved copy of the samples.
    pub fn to_interleaved(&self) -> Vec<f64> {
        let mut out = Vec::with_capacity(self.frames * self.data.len());
        for i in 0..self.frames {
            out.extend(self.data.iter().map(|ch| ch[i]));
        }
        out
    }

    /// Number of channels.
    pub fn channels(&self) -> usize {
        self.data.len()
    }

    /// Number of frames (samples per channel).
    pub fn frames(&self) -> usize {
        self.frames
    }

    /// True when the buffer holds no frames.
    pub fn is_empty(&self) -> bool {
        self.frames == 0
    }

    /// One channel's samples.
    pub fn channel(&self, index: usize) -> &[f64] {
        &self.data[index]
    }

    /// One channel's samples, mutable.
    pub fn channel_mut(&mut self, index: usize) -> &mut [f64] {
        &mut self.data[index]
    }

    /// All channels, as planar vectors (usable wherever `&[impl AsRef<[f64]>]`
    /// is accepted).
    pub fn planar(&self) -> &[Vec<f64>] {
        &self.data
    }

    /// All channels, mutable. Lengths stay fixed; use [`AudioBuffer::resize`].
    pub fn planar_mut(&mut self) -> impl Iterator<Item = &mut [f64]> {
        self.data.iter_mut().map(Vec::as_mut_slice)
    }

    /// Changes the frame count, filling new frames with silence. Never
    /// shrinks the allocation, so a reused buffer stops allocating once it
    /// has reached its largest size.
    pub fn resize(&mut self, frames: usize) {
        for ch in &mut self.data {
            ch.resize(frames, 0.0);
        }
        self.frames = frames;
    }

    /// Changes the channel count and the frame count, reusing allocations.
    pub fn reshape(&mut self, channels: usize, frames: usize) {
        self.data.resize_with(channels, Vec::new);
        self.resize(frames);
    }

    /// Sets every sample to zero.
    pub fn clear(&mut self) {
        for ch in &mut self.data {
            ch.fill(0.0);
        }
    }

    /// Consumes the buffer and returns the planar vectors.
    pub fn into_planar(self) -> Vec<Vec<f64>> {
        self.data
    }
}

/// Checks that planar channels have equal lengths and returns that length
/// (0 for no channels).
pub fn check_planar<S: AsRef<[f64]>>(channels: &[S]) -> Result<usize, CoreError> {
    let expected = channels.first().map_or(0, |c| c.as_ref().len());
    for (channel, c) in channels.iter().enumerate() {
        let frames = c.as_ref().len();
        if frames != expected {
            return Err(CoreError::RaggedChannels {
                channel,
                frames,
                expected,
            });
        }
    }
    Ok(expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interleave_round_trip() {
        let inter = [0.1, -0.1, 0.2, -0.2, 0.3, -0.3];
        let b = AudioBuffer::from_interleaved(&inter, 2);
        assert_eq!(b.frames(), 3);
        assert_eq!(b.channel(1), &[-0.1, -0.2, -0.3]);
        assert_eq!(b.to_interleaved(), inter);
    }

    #[test]
    fn ragged_is_rejected() {
        let err = AudioBuffer::from_planar(vec![vec![0.0; 3], vec![0.0; 2]]).unwrap_err();
        assert_eq!(
            err,
            CoreError::RaggedChannels {
                channel: 1,
                frames: 2,
                expected: 3
            }
        );
    }

    #[test]
    fn resize_keeps_samples() {
        let mut b = AudioBuffer::from_planar(vec![vec![1.0, 2.0]]).unwrap();
        b.resize(4);
        assert_eq!(b.channel(0), &[1.0, 2.0, 0.0, 0.0]);
        b.reshape(2, 1);
        assert_eq!(b.planar(), &[vec![1.0], vec![0.0]]);
    }
}
