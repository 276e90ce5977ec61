//! What a [`crate::Meter`] reports.
//!
//! Conventions for figures that are not numbers:
//!
//! * Silence (and "nothing measured yet") is `f64::NEG_INFINITY`, never NaN:
//!   levels of silence, the integrated loudness when no gating block passes
//!   the gates, maxima before a full window.
//! * Figures derived from an undefined level are also −∞: PLR when the
//!   integrated loudness or the true peak is −∞; the crest factor when the
//!   RMS or the peak is −∞.
//! * Undefined ratios are `None`: LRA with no short-term value passing the
//!   gates (silence or < 3 s of input); correlation for mono, silence or a
//!   silent channel.
//!
//! `serde_json` writes non-finite numbers as `null`, which is the JSON
//! convention of mixmaster.

use serde::Serialize;

use crate::spectrum::Spectrum;

/// Position of a non-finite (NaN or ±∞) input sample.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct NonFinite {
    /// Frame index from the start of the stream (or the last reset).
    pub frame: u64,
    /// Channel index (0-based).
    pub channel: usize,
}

/// Values every 100 ms. Entry `i` covers the input from `i·0.1` s to
/// `(i+1)·0.1` s; only complete 100 ms blocks are listed.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct TimeSeries {
    /// Spacing of the entries: 0.1 s.
    pub interval_s: f64,
    /// Momentary loudness (400 ms window) at the end of each block; −∞ for
    /// the first three blocks (window not yet full) and for silence.
    pub momentary_lufs: Vec<f64>,
    /// Short-term loudness (3 s window) at the end of each block; −∞ for the
    /// first 29 blocks and for silence.
    pub short_term_lufs: Vec<f64>,
    /// Largest true peak of all channels within each block (the
    /// interpolated points between samples `n` and `n+1` count in the block
    /// of sample `n`).
    pub true_peak_dbtp: Vec<f64>,
    /// Correlation of the first two channels within each block; `None` for
    /// mono or when a channel is silent in the block.
    pub correlation: Vec<Option<f64>>,
}

/// Everything the meter measured. See the module docs for −∞ and `None`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MeterReport {
    /// Sample rate of the input.
    pub sample_rate_hz: u32,
    /// Channels of the input.
    pub channels: usize,
    /// Frames measured.
    pub frames: u64,
    /// `frames / sample_rate_hz`.
    pub duration_s: f64,
    /// Gated integrated loudness (BS.1770-5), LUFS.
    pub integrated_lufs: f64,
    /// Loudness range (EBU Tech 3342), LU.
    pub lra_lu: Option<f64>,
    /// Largest momentary loudness on the 10 ms grid (from 0.4 s on), LUFS.
    pub momentary_max_lufs: f64,
    /// Largest short-term loudness on the 10 ms grid (from 3 s on), LUFS.
    pub short_term_max_lufs: f64,
    /// Largest true peak of all channels, dBTP.
    pub true_peak_dbtp: f64,
    /// Largest sample peak of all channels, dBFS.
    pub sample_peak_dbfs: f64,
    /// True peak per channel, dBTP.
    pub channel_true_peak_dbtp: Vec<f64>,
    /// Sample peak per channel, dBFS.
    pub channel_sample_peak_dbfs: Vec<f64>,
    /// Peak-to-loudness ratio: true peak − integrated loudness, dB (EBU R128 s1).
    pub plr_db: f64,
    /// RMS over all channels, dBFS (a full-scale sine reads −3.01 dBFS).
    pub rms_dbfs: f64,
    /// Sample peak − RMS, dB (3.01 dB for a sine).
    pub crest_factor_db: f64,
    /// Mean of each channel (linear, full scale = 1).
    pub dc_offset: Vec<f64>,
    /// Samples with `|x| ≥ 32767/32768`, all channels.
    pub clipped_samples: u64,
    /// Correlation of the first two channels over the whole input.
    pub correlation: Option<f64>,
    /// NaN and ±∞ samples in the input (measured as 0.0).
    pub nonfinite_samples: u64,
    /// The first of them (earliest frame, then lowest channel).
    pub first_nonfinite: Option<NonFinite>,
    /// The 10 Hz series (empty unless [`crate::MeterOptions::series`]).
    pub series: TimeSeries,
    /// The averaged spectrum (only with [`crate::MeterOptions::spectrum`]).
    pub spectrum: Option<Spectrum>,
}
