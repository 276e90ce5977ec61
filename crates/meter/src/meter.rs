//! The combined meter: loudness (M, S, I, LRA), sample and true peak,
//! statistics, the 10 Hz series and the spectrum, fed block by block.
//!
//! # Block-size invariance
//!
//! Input is copied (non-finite samples replaced by 0.0) into an internal
//! buffer of exactly one 10 ms sub-block per channel; each complete
//! sub-block is processed as a unit. Every sum therefore runs over the same
//! internal blocks in the same order, however the caller splits the stream:
//! reports are bit-identical for any block sizes.
//!
//! # Reports mid-stream
//!
//! [`Meter::report`] can be called at any time and describes the input so
//! far *as if the stream ended there*: the partial sub-block counts for
//! peaks and statistics (not for loudness: loudness windows are complete
//! 10 ms sub-blocks, and an incomplete final gating block is discarded), and
//! the true-peak interpolator is flushed with silence. When more input
//! arrives, the last 100 ms block's true peak in the series is recomputed
//! with the real look-ahead, so a live display may see it change by a
//! fraction of a dB.

use mixmaster_core::CoreError;
use mixmaster_core::buffer::check_planar;
use mixmaster_core::units::amplitude_to_db;
use serde::Serialize;

use crate::error::MeterError;
use crate::gating::LoudnessBlocks;
use crate::k_weighting::{KState, KWeighting, filter_energy, filter_energy_pair};
use crate::loudness::{SubBlock, default_channel_weights, energy_to_lufs, on_step, sub_block_len};
use crate::report::{MeterReport, NonFinite, TimeSeries};
use crate::spectrum::{SpectrumAnalyzer, default_fft_size};
use crate::stats::{ChannelStats, CrossSums, block_cross, block_stats};
use crate::true_peak::{HALF_TAPS, HISTORY, Interpolator, TruePeakBuffer};

/// Lowest accepted sample rate.
pub const MIN_SAMPLE_RATE_HZ: u32 = 8_000;
/// Highest accepted sample rate.
pub const MAX_SAMPLE_RATE_HZ: u32 = 768_000;
/// Most channels accepted.
pub const MAX_CHANNELS: usize = 64;
/// Spacing of the time series: 100 ms (the 10 Hz short-term rate of
/// Tech 3342 §3 and the gating-block hop of BS.1770-5).
pub const SERIES_INTERVAL_S: f64 = 0.1;

/// How a mono input is weighted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub enum MonoMode {
    /// BS.1770-5: one channel with `G = 1`. A mono file reads 3.01 dB lower
    /// than the same signal duplicated to stereo.
    #[default]
    Bs1770,
    /// Mono counted as two identical channels (`G = 2`, +3.01 dB), as it
    /// sounds on two loudspeakers (ffmpeg's `dualmono`). Applies to
    /// one-channel input only, on top of the default or explicit weight.
    DualMono,
}

/// Settings of a [`Meter`], validated by [`Meter::new`].
#[derive(Debug, Clone, PartialEq)]
pub struct MeterOptions {
    /// Sample rate, 8000 ..= 768000 Hz.
    pub sample_rate_hz: u32,
    /// Channels, 1 ..= 64.
    pub channels: usize,
    /// Loudness weight `G_i` per channel (finite, ≥ 0; 0 excludes a channel,
    /// e.g. an LFE). `None`: [`crate::default_channel_weights`].
    pub channel_weights: Option<Vec<f64>>,
    /// Weighting of mono input.
    pub mono_mode: MonoMode,
    /// True-peak oversampling factor: 4 (default), 8 or 16, at every rate.
    pub true_peak_oversampling: u32,
    /// Compute the averaged spectrum (default off: it costs time).
    pub spectrum: bool,
    /// Collect the 10 Hz time series (default on).
    pub series: bool,
    /// FFT length of the spectrum, a power of two in 256 ..= 1048576;
    /// `None`: [`crate::spectrum::default_fft_size`] (8192 at 48 kHz).
    pub spectrum_fft_size: Option<usize>,
}

impl MeterOptions {
    /// Defaults for a rate and channel count: BS.1770 weights and mono,
    /// 4× true peak, series on, spectrum off.
    pub fn new(sample_rate_hz: u32, channels: usize) -> Self {
        Self {
            sample_rate_hz,
            channels,
            channel_weights: None,
            mono_mode: MonoMode::Bs1770,
            true_peak_oversampling: 4,
            spectrum: false,
            series: true,
            spectrum_fft_size: None,
        }
    }

    /// The weights the meter will use (explicit or default, with
    /// [`MonoMode::DualMono`] applied).
    pub fn effective_channel_weights(&self) -> Vec<f64> {
        let mut w = self
            .channel_weights
            .clone()
            .unwrap_or_else(|| default_channel_weights(self.channels));
        if self.channels == 1 && self.mono_mode == MonoMode::DualMono {
            w.iter_mut().for_each(|g| *g *= 2.0);
        }
        w
    }

    fn validate(&self) -> Result<(), MeterError> {
        if !(MIN_SAMPLE_RATE_HZ..=MAX_SAMPLE_RATE_HZ).contains(&self.sample_rate_hz) {
            return Err(CoreError::OutOfRange {
                name: "sample_rate_hz",
                value: f64::from(self.sample_rate_hz),
                range: "8000 ..= 768000",
            }
            .into());
        }
        if !(1..=MAX_CHANNELS).contains(&self.channels) {
            return Err(CoreError::OutOfRange {
                name: "channels",
                value: self.channels as f64,
                range: "1 ..= 64",
            }
            .into());
        }
        if let Some(w) = &self.channel_weights {
            if w.len() != self.channels {
                return Err(MeterError::WeightCount {
                    got: w.len(),
                    expected: self.channels,
                });
            }
            if let Some((index, &value)) = w
                .iter()
                .enumerate()
                .find(|(_, g)| !g.is_finite() || **g < 0.0)
            {
                return Err(MeterError::InvalidWeight { index, value });
            }
        }
        if ![4, 8, 16].contains(&self.true_peak_oversampling) {
            return Err(MeterError::Oversampling {
                got: self.true_peak_oversampling,
            });
        }
        if let Some(n) = self.spectrum_fft_size
            && (!n.is_power_of_two() || !(256..=1 << 20).contains(&n))
        {
            return Err(MeterError::FftSize { got: n });
        }
        Ok(())
    }
}

impl Default for MeterOptions {
    /// 48 kHz stereo.
    fn default() -> Self {
        Self::new(48_000, 2)
    }
}

/// Series being collected.
#[derive(Debug, Clone, Default)]
struct SeriesState {
    momentary: Vec<f64>,
    short_term: Vec<f64>,
    true_peak: Vec<f64>,
    correlation: Vec<Option<f64>>,
    /// True peak (linear) of the 100 ms block being measured.
    block_true_peak: f64,
    /// Correlation sums of the 100 ms block being measured.
    block_cross: CrossSums,
}

impl SeriesState {
    fn clear(&mut self) {
        self.momentary.clear();
        self.short_term.clear();
        self.true_peak.clear();
        self.correlation.clear();
        self.block_true_peak = 0.0;
        self.block_cross = CrossSums::default();
    }
}

/// A streaming loudness, true-peak and statistics meter. See the module
/// docs for block-size invariance and mid-stream reports.
#[derive(Debug)]
pub struct Meter {
    options: MeterOptions,
    weights: Vec<f64>,
    /// Channels with a non-zero weight (the only ones K-weighted).
    weighted_channels: Vec<usize>,
    k_weighting: KWeighting,
    interpolator: Interpolator,

    frames: u64,
    /// Complete sub-blocks processed.
    sub_index: u64,
    /// Length of sub-block `sub_index`.
    sub_len: usize,
    /// The sub-block being filled, per channel (capacity: the longest).
    stage: Vec<Vec<f64>>,
    staged: usize,

    k_states: Vec<KState>,
    energies: Vec<f64>,
    sub_stats: Vec<ChannelStats>,
    /// Sample peak of each channel's previous sub-block (bounds the
    /// interpolator's history).
    previous_peak: Vec<f64>,
    true_peak_buffers: Vec<TruePeakBuffer>,
    /// Largest true peak (linear) per channel.
    true_peak: Vec<f64>,
    stats: Vec<ChannelStats>,
    cross: CrossSums,
    nonfinite: u64,
    first_nonfinite: Option<NonFinite>,

    blocks: LoudnessBlocks,
    /// Largest momentary and short-term mean squares.
    momentary_max: f64,
    short_term_max: f64,

    series: Option<SeriesState>,
    spectrum: Option<SpectrumAnalyzer>,
}

impl Meter {
    /// A meter for the given options; allocates everything it needs except
    /// the growing block lists. Errors name the invalid option and its range.
    pub fn new(options: MeterOptions) -> Result<Meter, MeterError> {
        options.validate()?;
        let fs = options.sample_rate_hz;
        let channels = options.channels;
        let weights = options.effective_channel_weights();
        let weighted_channels = (0..channels).filter(|&c| weights[c] > 0.0).collect();
        let max_len = sub_block_len(0, fs).max(sub_block_len(1, fs)) + 1;
        let spectrum = options.spectrum.then(|| {
            let size = options
                .spectrum_fft_size
                .unwrap_or_else(|| default_fft_size(fs));
            SpectrumAnalyzer::new(size, fs, channels >= 2)
        });
        Ok(Meter {
            weights,
            weighted_channels,
            k_weighting: KWeighting::for_rate(fs),
            interpolator: Interpolator::new(options.true_peak_oversampling),
            frames: 0,
            sub_index: 0,
            sub_len: sub_block_len(0, fs),
            stage: vec![vec![0.0; max_len]; channels],
            staged: 0,
            k_states: vec![KState::default(); channels],
            energies: vec![0.0; channels],
            sub_stats: vec![ChannelStats::default(); channels],
            previous_peak: vec![0.0; channels],
            true_peak_buffers: vec![TruePeakBuffer::new(max_len); channels],
            true_peak: vec![0.0; channels],
            stats: vec![ChannelStats::default(); channels],
            cross: CrossSums::default(),
            nonfinite: 0,
            first_nonfinite: None,
            blocks: LoudnessBlocks::new(),
            momentary_max: 0.0,
            short_term_max: 0.0,
            series: options.series.then(SeriesState::default),
            spectrum,
            options,
        })
    }

    /// The options the meter was created with.
    pub fn options(&self) -> &MeterOptions {
        &self.options
    }

    /// The channel weights in use.
    pub fn channel_weights(&self) -> &[f64] {
        &self.weights
    }

    /// Frames fed since creation or the last [`Meter::reset`].
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// The mergeable loudness blocks of the input so far (complete 10 ms
    /// sub-blocks only).
    pub fn loudness_blocks(&self) -> &LoudnessBlocks {
        &self.blocks
    }

    /// Clears all measurements and state (as freshly created), keeping
    /// allocations.
    pub fn reset(&mut self) {
        self.frames = 0;
        self.sub_index = 0;
        self.sub_len = sub_block_len(0, self.options.sample_rate_hz);
        self.staged = 0;
        self.k_states.fill(KState::default());
        self.true_peak_buffers
            .iter_mut()
            .for_each(TruePeakBuffer::reset);
        self.previous_peak.fill(0.0);
        self.true_peak.fill(0.0);
        self.stats.fill(ChannelStats::default());
        self.cross = CrossSums::default();
        self.nonfinite = 0;
        self.first_nonfinite = None;
        self.blocks.clear();
        self.momentary_max = 0.0;
        self.short_term_max = 0.0;
        if let Some(s) = &mut self.series {
            s.clear();
        }
        if let Some(s) = &mut self.spectrum {
            s.reset();
        }
    }

    /// Feeds one planar block: one slice per channel, all of equal length
    /// (any length, including 0). A block with the wrong channel count or
    /// ragged channels is rejected whole. Never allocates (except when the
    /// block lists grow, every 100 ms).
    pub fn process<S: AsRef<[f64]>>(&mut self, channels: &[S]) -> Result<(), MeterError> {
        if channels.len() != self.options.channels {
            return Err(CoreError::ChannelCount {
                got: channels.len(),
                expected: self.options.channels,
            }
            .into());
        }
        let frames = check_planar(channels)?;
        self.stage_frames(frames, |c, pos, dst| {
            let src = &channels[c].as_ref()[pos..pos + dst.len()];
            let bad = copy_finite(dst, src);
            (bad > 0).then(|| (bad, src.iter().position(|v| !v.is_finite()).unwrap_or(0)))
        });
        Ok(())
    }

    /// Feeds interleaved samples (`frame0ch0, frame0ch1, …`); the length
    /// must be a multiple of the channel count.
    pub fn process_interleaved(&mut self, samples: &[f64]) -> Result<(), MeterError> {
        let ch = self.options.channels;
        let partial = samples.len() % ch;
        if partial != 0 {
            return Err(CoreError::RaggedChannels {
                channel: partial,
                frames: samples.len() / ch,
                expected: samples.len() / ch + 1,
            }
            .into());
        }
        self.stage_frames(samples.len() / ch, |c, pos, dst| {
            let src = samples[pos * ch + c..].iter().step_by(ch);
            let (mut bad, mut first) = (0u64, 0usize);
            for (i, (d, &s)) in dst.iter_mut().zip(src).enumerate() {
                if s.is_finite() {
                    *d = s;
                } else {
                    *d = 0.0;
                    if bad == 0 {
                        first = i;
                    }
                    bad += 1;
                }
            }
            (bad > 0).then_some((bad, first))
        });
        Ok(())
    }

    /// Stages `frames` frames into the 10 ms sub-block buffers, processing
    /// each one as it completes. `copy(channel, first_frame, dst)` fills
    /// `dst` with that channel's frames (non-finite samples as 0.0) and
    /// returns the count of non-finite samples and the index of the first.
    fn stage_frames(
        &mut self,
        frames: usize,
        mut copy: impl FnMut(usize, usize, &mut [f64]) -> Option<(u64, usize)>,
    ) {
        let mut pos = 0;
        while pos < frames {
            let take = (self.sub_len - self.staged).min(frames - pos);
            for c in 0..self.options.channels {
                let dst = &mut self.stage[c][self.staged..self.staged + take];
                if let Some((bad, first)) = copy(c, pos, dst) {
                    self.note_nonfinite(bad, self.frames + first as u64, c);
                }
            }
            self.staged += take;
            pos += take;
            self.frames += take as u64;
            if self.staged == self.sub_len {
                self.process_sub_block();
            }
        }
    }

    fn note_nonfinite(&mut self, count: u64, frame: u64, channel: usize) {
        self.nonfinite += count;
        let here = NonFinite { frame, channel };
        if self.first_nonfinite.is_none_or(|f| here < f) {
            self.first_nonfinite = Some(here);
        }
    }

    /// Processes the complete sub-block in `stage`.
    fn process_sub_block(&mut self) {
        let len = self.sub_len;
        let channels = self.options.channels;

        // Statistics.
        for c in 0..channels {
            let s = block_stats(&self.stage[c][..len]);
            self.stats[c].add(&s);
            self.sub_stats[c] = s;
        }
        if channels >= 2 {
            let cross = CrossSums {
                lr: block_cross(&self.stage[0][..len], &self.stage[1][..len]),
                ll: self.sub_stats[0].sum_sq,
                rr: self.sub_stats[1].sum_sq,
            };
            self.cross.add(&cross);
            if let Some(s) = &mut self.series {
                s.block_cross.add(&cross);
            }
        }

        // Loudness.
        self.k_weight(len);
        let energy = self
            .weighted_channels
            .iter()
            .fold(0.0, |e, &c| e + self.weights[c] * self.energies[c]);
        let done = self.blocks.push(SubBlock {
            energy,
            frames: len as u32,
        });
        if let Some(m) = done.momentary {
            self.momentary_max = self.momentary_max.max(m);
        }
        if let Some(s) = done.short_term {
            self.short_term_max = self.short_term_max.max(s);
        }

        // True peak (also closes the previous 100 ms block of the series).
        self.true_peak_sub_block(len);

        let block_end = on_step(self.sub_index + 1);
        if let (true, Some(s)) = (block_end, &mut self.series) {
            s.momentary
                .push(done.momentary.map_or(f64::NEG_INFINITY, energy_to_lufs));
            s.short_term
                .push(done.short_term.map_or(f64::NEG_INFINITY, energy_to_lufs));
            s.correlation.push(s.block_cross.correlation());
            s.block_cross = CrossSums::default();
        }

        if let Some(a) = &mut self.spectrum {
            let right = if channels >= 2 { 1 } else { 0 };
            a.push(&self.stage[0][..len], &self.stage[right][..len]);
        }

        for st in &mut self.k_states {
            st.flush_tiny();
        }
        self.sub_index += 1;
        self.staged = 0;
        self.sub_len = sub_block_len(self.sub_index, self.options.sample_rate_hz);
    }

    /// K-weights every weighted channel of the staged sub-block into
    /// `energies`, two channels per loop.
    fn k_weight(&mut self, len: usize) {
        let k = &self.k_weighting;
        let mut pairs = self.weighted_channels.chunks_exact(2);
        for pair in &mut pairs {
            let (a, b) = (pair[0], pair[1]);
            // a < b: split the state vector to borrow both mutably.
            let (lo, hi) = self.k_states.split_at_mut(b);
            let e = filter_energy_pair(
                k,
                [&mut lo[a], &mut hi[0]],
                &self.stage[a][..len],
                &self.stage[b][..len],
            );
            self.energies[a] = e[0];
            self.energies[b] = e[1];
        }
        if let [c] = *pairs.remainder() {
            self.energies[c] = filter_energy(k, &mut self.k_states[c], &self.stage[c][..len]);
        }
    }

    /// The skip floor for channel `c`: a run of intervals that cannot exceed
    /// it cannot change the channel's maximum or the series block's.
    fn true_peak_floor(&self, c: usize) -> f64 {
        match &self.series {
            Some(s) => self.true_peak[c].min(s.block_true_peak),
            None => self.true_peak[c],
        }
    }

    fn note_true_peak(&mut self, c: usize, value: f64) {
        if value > self.true_peak[c] {
            self.true_peak[c] = value;
        }
        if let Some(s) = &mut self.series {
            s.block_true_peak = s.block_true_peak.max(value);
        }
    }

    fn true_peak_sub_block(&mut self, len: usize) {
        let channels = self.options.channels;
        let new_block = self.sub_index > 0 && on_step(self.sub_index);
        let gain = self.interpolator.bound_gain();
        // Whether channel c's samples have been converted for the scan; a
        // sub-block whose bound cannot raise any maximum is never converted.
        let mut loaded = [false; crate::meter::MAX_CHANNELS];
        // Every window of this sub-block's scans reads the interpolator's
        // history (from the previous sub-block) and this sub-block.
        let bound = |m: &Meter, c: usize| m.previous_peak[c].max(m.sub_stats[c].peak) * gain;
        // The first HALF_TAPS intervals end the previous sub-block.
        for (c, loaded) in loaded.iter_mut().enumerate().take(channels) {
            if bound(self, c) > self.true_peak_floor(c) {
                self.true_peak_buffers[c].load(&self.stage[c][..len]);
                *loaded = true;
                let floor = self.true_peak_floor(c);
                let m = self.interpolator.scan(
                    self.true_peak_buffers[c].samples(),
                    0,
                    HALF_TAPS,
                    floor,
                );
                self.note_true_peak(c, f64::from(m));
            }
        }
        if let (true, Some(s)) = (new_block, &mut self.series) {
            s.true_peak.push(amplitude_to_db(s.block_true_peak));
            s.block_true_peak = 0.0;
        }
        // The samples themselves are the phase-0 points.
        for c in 0..channels {
            self.note_true_peak(c, self.sub_stats[c].peak);
        }
        for (c, loaded) in loaded.iter_mut().enumerate().take(channels) {
            if bound(self, c) > self.true_peak_floor(c) {
                if !*loaded {
                    self.true_peak_buffers[c].load(&self.stage[c][..len]);
                    *loaded = true;
                }
                let floor = self.true_peak_floor(c);
                let m = self.interpolator.scan(
                    self.true_peak_buffers[c].samples(),
                    HALF_TAPS,
                    len - HALF_TAPS,
                    floor,
                );
                self.note_true_peak(c, f64::from(m));
            }
            if *loaded {
                self.true_peak_buffers[c].advance(len);
            } else {
                self.true_peak_buffers[c].skip(&self.stage[c][..len]);
            }
            self.previous_peak[c] = self.sub_stats[c].peak;
        }
    }

    /// The measurements so far, as if the input ended now (see the module
    /// docs). Cheap enough for a live display several times per second;
    /// its cost grows with the length of the series.
    pub fn report(&self) -> MeterReport {
        let channels = self.options.channels;
        let fs = self.options.sample_rate_hz;
        let staged = self.staged;

        // Statistics including the partial sub-block.
        let mut stats = self.stats.clone();
        let mut partial = Vec::with_capacity(channels);
        for (c, st) in stats.iter_mut().enumerate() {
            let p = block_stats(&self.stage[c][..staged]);
            st.add(&p);
            partial.push(p);
        }
        let mut cross = self.cross;
        if channels >= 2 {
            cross.add(&CrossSums {
                lr: block_cross(&self.stage[0][..staged], &self.stage[1][..staged]),
                ll: partial[0].sum_sq,
                rr: partial[1].sum_sq,
            });
        }

        // True peak, flushing the interpolator with silence.
        let mut true_peak = self.true_peak.clone();
        let mut pending_block = 0.0f64;
        let count = staged + HISTORY;
        for c in 0..channels {
            let buf = self.true_peak_buffers[c].flushed(&self.stage[c][..staged]);
            let previous = f64::from(self.interpolator.scan(&buf, 0, HALF_TAPS, 0.0));
            let rest = f64::from(
                self.interpolator
                    .scan(&buf, HALF_TAPS, count - HALF_TAPS, 0.0),
            );
            true_peak[c] = true_peak[c].max(previous).max(rest).max(partial[c].peak);
            pending_block = pending_block.max(previous);
            if staged == 0 {
                // Nothing after the last complete sub-block: the rest is the
                // ringing after the end, counted in the last block.
                pending_block = pending_block.max(rest);
            }
        }

        let series = match &self.series {
            Some(s) => {
                let mut true_peak_dbtp = s.true_peak.clone();
                // The last complete 100 ms block still waits for its last
                // intervals (they need look-ahead).
                if self.sub_index > 0 && on_step(self.sub_index) {
                    true_peak_dbtp.push(amplitude_to_db(s.block_true_peak.max(pending_block)));
                }
                TimeSeries {
                    interval_s: SERIES_INTERVAL_S,
                    momentary_lufs: s.momentary.clone(),
                    short_term_lufs: s.short_term.clone(),
                    true_peak_dbtp,
                    correlation: s.correlation.clone(),
                }
            }
            None => TimeSeries {
                interval_s: SERIES_INTERVAL_S,
                ..TimeSeries::default()
            },
        };

        let frames = self.frames;
        let sample_peak = stats.iter().fold(0.0f64, |m, s| m.max(s.peak));
        let max_true_peak = true_peak.iter().fold(0.0f64, |m, &t| m.max(t));
        let sum_sq: f64 = stats.iter().map(|s| s.sum_sq).sum();
        let rms_dbfs = if frames == 0 {
            f64::NEG_INFINITY
        } else {
            10.0 * (sum_sq / (frames as f64 * channels as f64)).log10()
        };
        let integrated_lufs = self.blocks.integrated_lufs();
        let true_peak_dbtp = amplitude_to_db(max_true_peak);
        let sample_peak_dbfs = amplitude_to_db(sample_peak);
        let difference = |a: f64, b: f64| {
            if a.is_finite() && b.is_finite() {
                a - b
            } else {
                f64::NEG_INFINITY
            }
        };
        MeterReport {
            sample_rate_hz: fs,
            channels,
            frames,
            duration_s: frames as f64 / f64::from(fs),
            integrated_lufs,
            lra_lu: self.blocks.lra_lu(),
            momentary_max_lufs: energy_to_lufs(self.momentary_max),
            short_term_max_lufs: energy_to_lufs(self.short_term_max),
            true_peak_dbtp,
            sample_peak_dbfs,
            channel_true_peak_dbtp: true_peak.iter().map(|&t| amplitude_to_db(t)).collect(),
            channel_sample_peak_dbfs: stats.iter().map(|s| amplitude_to_db(s.peak)).collect(),
            plr_db: difference(true_peak_dbtp, integrated_lufs),
            rms_dbfs,
            crest_factor_db: difference(sample_peak_dbfs, rms_dbfs),
            dc_offset: stats
                .iter()
                .map(|s| {
                    if frames == 0 {
                        0.0
                    } else {
                        s.sum / frames as f64
                    }
                })
                .collect(),
            clipped_samples: stats.iter().map(|s| s.clipped).sum(),
            correlation: if channels >= 2 {
                cross.correlation()
            } else {
                None
            },
            nonfinite_samples: self.nonfinite,
            first_nonfinite: self.first_nonfinite,
            series,
            spectrum: self.spectrum.as_ref().map(SpectrumAnalyzer::spectrum),
        }
    }
}

/// Copies `src` into `dst`, replacing NaN and ±∞ by 0.0; returns how many
/// were replaced. The fast path copies and checks in one pass (`x·0` is NaN
/// exactly when `x` is not finite, and NaN sticks in a sum); only a block
/// that contains a non-finite sample takes the per-sample path.
#[inline]
fn copy_finite(dst: &mut [f64], src: &[f64]) -> u64 {
    let mut probe = [0.0f64; 2];
    let mut d2 = dst.chunks_exact_mut(2);
    let mut s2 = src.chunks_exact(2);
    for (d, s) in (&mut d2).zip(&mut s2) {
        d[0] = s[0];
        d[1] = s[1];
        probe[0] += s[0] * 0.0;
        probe[1] += s[1] * 0.0;
    }
    for (d, &s) in d2.into_remainder().iter_mut().zip(s2.remainder()) {
        *d = s;
        probe[0] += s * 0.0;
    }
    if (probe[0] + probe[1]).is_finite() {
        return 0;
    }
    let mut bad = 0u64;
    for (d, &s) in dst.iter_mut().zip(src) {
        let ok = s.is_finite();
        *d = if ok { s } else { 0.0 };
        bad += u64::from(!ok);
    }
    bad
}
