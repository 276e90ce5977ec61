//! Clips streamed from their sources: decoded block by block, resampled to
//! the session rate, trimmed to their region, shaped by their gain and
//! fades, and added into the track's buffer. Memory is a few blocks per
//! clip whatever the song's length.

use std::path::PathBuf;

use mixmaster_core::AudioBuffer;
use mixmaster_io::{AudioReader, Resampler};
use mixmaster_session::Curve;

use crate::curves::{fade_in, fade_out};
use crate::error::EngineError;

/// Frames decoded per read.
const READ_FRAMES: usize = 8192;

/// A fade in frames with its curve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FadeFrames {
    /// Length in frames at the session rate.
    pub frames: u64,
    /// Shape.
    pub curve: Curve,
}

/// Where and how a clip plays, in session frames.
#[derive(Debug, Clone, PartialEq)]
pub struct ClipPlan {
    /// The track it belongs to (for errors).
    pub track: String,
    /// The source file.
    pub path: PathBuf,
    /// Timeline frame of the clip's start.
    pub start: u64,
    /// Length in frames on the timeline.
    pub length: u64,
    /// Frames of the source (at its own rate) skipped before the clip starts.
    pub source_offset: u64,
    /// Linear clip gain.
    pub gain: f64,
    /// Fade in.
    pub fade_in: FadeFrames,
    /// Fade out.
    pub fade_out: FadeFrames,
}

impl ClipPlan {
    /// First timeline frame after the clip.
    pub fn end(&self) -> u64 {
        self.start + self.length
    }

    /// The clip's gain envelope at timeline frame `t` (inside the clip).
    fn envelope(&self, t: u64) -> f64 {
        let pos = t - self.start;
        let mut g = self.gain;
        if pos < self.fade_in.frames {
            g *= fade_in(
                self.fade_in.curve,
                (pos as f64 + 0.5) / self.fade_in.frames as f64,
            );
        }
        let to_end = self.length - pos;
        if to_end <= self.fade_out.frames {
            let x = 1.0 - (to_end as f64 - 0.5) / self.fade_out.frames as f64;
            g *= fade_out(self.fade_out.curve, x);
        }
        g
    }
}

/// A clip being played.
#[derive(Debug)]
pub struct ClipPlayer {
    plan: ClipPlan,
    session_rate_hz: u32,
    reader: Option<AudioReader>,
    resampler: Option<Resampler>,
    /// Decoded, resampled frames not yet used.
    fifo: Vec<Vec<f64>>,
    fifo_start: usize,
    /// Source frames still to skip before the clip's region.
    to_skip: u64,
    /// Timeline frames already delivered.
    delivered: u64,
    source_done: bool,
    /// Source frames decoded so far (for error positions).
    source_frames: u64,
    read_buf: AudioBuffer,
    resampled: AudioBuffer,
    channels: usize,
}

impl ClipPlayer {
    /// A player for `plan`; the source is opened when first needed.
    pub fn new(plan: ClipPlan, session_rate_hz: u32, channels: usize) -> Self {
        Self {
            to_skip: plan.source_offset,
            plan,
            session_rate_hz,
            reader: None,
            resampler: None,
            fifo: vec![Vec::new(); channels],
            fifo_start: 0,
            delivered: 0,
            source_done: false,
            source_frames: 0,
            read_buf: AudioBuffer::default(),
            resampled: AudioBuffer::default(),
            channels,
        }
    }

    /// The plan.
    pub fn plan(&self) -> &ClipPlan {
        &self.plan
    }

    fn error(&self, message: impl Into<String>) -> EngineError {
        EngineError::Source {
            track: self.plan.track.clone(),
            path: self.plan.path.display().to_string(),
            message: message.into(),
        }
    }

    fn available(&self) -> usize {
        self.fifo.first().map_or(0, |c| c.len()) - self.fifo_start
    }

    /// Decodes until at least `want` frames are buffered or the source ends.
    fn fill(&mut self, want: usize) -> Result<(), EngineError> {
        while self.available() < want && !self.source_done {
            if self.reader.is_none() {
                let reader = AudioReader::open(&self.plan.path)?;
                let rate = reader.info().sample_rate_hz;
                if rate != self.session_rate_hz {
                    self.resampler = Some(Resampler::new(
                        rate,
                        self.session_rate_hz,
                        reader.info().channels,
                    )?);
                }
                self.reader = Some(reader);
            }
            let Some(reader) = self.reader.as_mut() else {
                break;
            };
            let n = reader.read(&mut self.read_buf, READ_FRAMES)?;
            if n == 0 {
                self.source_done = true;
                self.reader = None;
                if let Some(r) = self.resampler.as_mut() {
                    r.flush(&mut self.resampled)?;
                    push(&mut self.fifo, &self.resampled, self.channels);
                }
                break;
            }
            // Refuse non-finite samples, naming the position.
            for (c, ch) in self.read_buf.planar().iter().enumerate() {
                if let Some(i) = ch.iter().position(|x| !x.is_finite()) {
                    let frame = self.source_frames + i as u64;
                    return Err(self.error(format!(
                        "non-finite sample (NaN or infinity) at frame {frame}, channel {}",
                        c + 1
                    )));
                }
            }
            self.source_frames += n as u64;
            // Skip the source offset (at the source's rate, before resampling).
            let skip = (self.to_skip.min(n as u64)) as usize;
            self.to_skip -= skip as u64;
            if skip == n {
                continue;
            }
            if skip > 0 {
                let rest: Vec<Vec<f64>> = self
                    .read_buf
                    .planar()
                    .iter()
                    .map(|c| c[skip..].to_vec())
                    .collect();
                self.read_buf =
                    AudioBuffer::from_planar(rest).map_err(|e| self.error(e.to_string()))?;
            }
            match self.resampler.as_mut() {
                Some(r) => {
                    r.process(self.read_buf.planar(), &mut self.resampled)?;
                    push(&mut self.fifo, &self.resampled, self.channels);
                }
                None => push(&mut self.fifo, &self.read_buf, self.channels),
            }
        }
        Ok(())
    }

    /// Adds the clip's part of timeline frames `block_start .. block_start + n`
    /// into `out` (the track's channels).
    pub fn add_to(&mut self, block_start: u64, out: &mut [Vec<f64>]) -> Result<(), EngineError> {
        let n = out.first().map_or(0, Vec::len) as u64;
        let from = block_start.max(self.plan.start);
        let to = (block_start + n).min(self.plan.end());
        if from >= to {
            return Ok(());
        }
        debug_assert_eq!(
            from - self.plan.start,
            self.delivered,
            "clips are rendered in order"
        );
        let count = (to - from) as usize;
        self.fill(count)?;
        if self.available() < count {
            let have = self.delivered + self.available() as u64;
            return Err(self.error(format!(
                "the clip is {:.3} s long but its source ends after {:.3} s of it",
                self.plan.length as f64 / f64::from(self.session_rate_hz),
                have as f64 / f64::from(self.session_rate_hz)
            )));
        }
        let offset = (from - block_start) as usize;
        // Between the fades the envelope is the clip gain: no per-frame
        // evaluation there (the same values, computed once).
        let plain_from = self.plan.start + self.plan.fade_in.frames;
        let plain_to = self.plan.end().saturating_sub(self.plan.fade_out.frames);
        let (p0, p1) = (from.max(plain_from), to.min(plain_to));
        let (plain_a, plain_b) = if p0 < p1 {
            ((p0 - from) as usize, (p1 - from) as usize)
        } else {
            (count, count)
        };
        for k in (0..plain_a).chain(plain_b..count) {
            let g = self.plan.envelope(from + k as u64);
            for (c, o) in out.iter_mut().enumerate() {
                o[offset + k] += g * self.fifo[c][self.fifo_start + k];
            }
        }
        let g = self.plan.gain;
        for (c, o) in out.iter_mut().enumerate() {
            let src = &self.fifo[c][self.fifo_start + plain_a..self.fifo_start + plain_b];
            for (o, x) in o[offset + plain_a..offset + plain_b].iter_mut().zip(src) {
                *o += g * x;
            }
        }
        self.fifo_start += count;
        self.delivered += count as u64;
        if self.fifo_start > READ_FRAMES * 4 {
            for c in &mut self.fifo {
                c.drain(..self.fifo_start);
            }
            self.fifo_start = 0;
        }
        if self.delivered == self.plan.length {
            // Done: release the file and the buffers.
            self.reader = None;
            self.fifo = vec![Vec::new(); self.channels];
            self.fifo_start = 0;
        }
        Ok(())
    }
}

/// Appends `block` to the FIFO, mapping source channels onto the track's:
/// mono onto every channel, stereo as is.
fn push(fifo: &mut [Vec<f64>], block: &AudioBuffer, track_channels: usize) {
    for (c, f) in fifo.iter_mut().enumerate().take(track_channels) {
        let src = block.channel(c.min(block.channels().saturating_sub(1)));
        f.extend_from_slice(src);
    }
}
