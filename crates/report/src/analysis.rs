//! One pass over a file: everything a report shows about it — the meter's
//! figures and 10 Hz series and spectrum, a waveform overview, and the
//! translation checks that need the audio itself (mono fold-down, a
//! phone-speaker band-pass, silence at head and tail).
//!
//! **Mono fold-down.** `(L + R) / 2`, measured as dual mono (played on both
//! speakers, BS.1770 weight 2): identical channels lose nothing,
//! uncorrelated channels lose 3 dB, out-of-phase channels vanish. A drop of
//! more than 3 LU means the channels partly cancel. Per one-third-octave band
//! the loss is `10·log10(M² / (M² + S²))` (mid and side levels of the
//! spectrum): 3 dB where side and mid are equal (uncorrelated), more where
//! the side is louder; bands losing more than 3.5 dB are listed.
//!
//! **Phone speaker.** The mono fold-down through a 24 dB/oct high-pass at
//! 400 Hz and a 12 dB/oct low-pass at 10 kHz (the range a phone's speaker
//! reproduces), measured the same way. The drop says how much of the
//! programme's loudness lives outside that range.

use std::path::{Path, PathBuf};

use mixmaster_core::{AudioBuffer, Processor};
use mixmaster_dsp::{Filter, FilterKind, FilterOptions};
use mixmaster_io::AudioReader;
use mixmaster_meter::{Meter, MeterOptions, MeterReport, MonoMode};
use serde::Serialize;

use crate::ReportError;

/// Columns of the waveform overview.
pub const OVERVIEW_COLUMNS: usize = 1200;
/// Below this sample level (dBFS) counts as silence at head and tail.
pub const SILENCE_DBFS: f64 = -60.0;
/// Phone-speaker band: high-pass corner (Hz).
pub const PHONE_HIGH_PASS_HZ: f64 = 400.0;
/// Phone-speaker band: low-pass corner (Hz).
pub const PHONE_LOW_PASS_HZ: f64 = 10_000.0;
/// Sample magnitude counted as clipped (the meter's 16-bit full scale).
pub const CLIP_LEVEL: f64 = 32_767.0 / 32_768.0;

/// A waveform overview: per column and channel, the lowest and highest
/// sample.
#[derive(Debug, Clone, Serialize)]
pub struct Overview {
    /// Seconds each column covers.
    pub seconds_per_column: f64,
    /// Per channel, per column: (min, max).
    pub columns: Vec<Vec<(f32, f32)>>,
}

/// A stretch of time, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Region {
    /// Start (s).
    pub start_s: f64,
    /// End (s).
    pub end_s: f64,
}

/// Mono fold-down figures.
#[derive(Debug, Clone, Serialize)]
pub struct MonoCheck {
    /// Integrated loudness of the fold-down (dual mono), LUFS.
    pub integrated_lufs: f64,
    /// Stereo loudness minus fold-down loudness, LU (0 for identical
    /// channels, 3 for uncorrelated, large when they cancel).
    pub drop_lu: f64,
    /// Correlation of the two channels over the whole file.
    pub correlation: Option<f64>,
    /// One-third-octave bands that lose more than 3.5 dB in mono:
    /// (nominal centre Hz, loss dB).
    pub cancelling_bands: Vec<(f64, f64)>,
}

/// Phone-speaker figures.
#[derive(Debug, Clone, Serialize)]
pub struct PhoneCheck {
    /// Integrated loudness through the phone band, LUFS.
    pub integrated_lufs: f64,
    /// Full-range fold-down loudness minus phone-band loudness, LU.
    pub drop_lu: f64,
    /// Share of the fold-down's energy below the phone band's high-pass
    /// corner (0 ..= 1), from the spectrum.
    pub energy_below_band: f64,
}

/// Everything measured in one file.
#[derive(Debug, Clone, Serialize)]
pub struct FileAnalysis {
    /// The file.
    pub path: PathBuf,
    /// Meter figures with the 10 Hz series and the spectrum.
    pub meter: MeterReport,
    /// Waveform overview.
    pub overview: Overview,
    /// Stretches with clipped samples (merged when closer than 50 ms).
    pub clipped_regions: Vec<Region>,
    /// Stretches whose true peak is over the ceiling (100 ms resolution).
    pub over_regions: Vec<Region>,
    /// The ceiling the over regions refer to (dBTP).
    pub ceiling_dbtp: f64,
    /// Silence at the head, seconds (all channels under −60 dBFS).
    pub head_silence_s: f64,
    /// Silence at the tail, seconds.
    pub tail_silence_s: f64,
    /// Mono fold-down.
    pub mono: Option<MonoCheck>,
    /// Phone speaker.
    pub phone: PhoneCheck,
}

/// Analyses `path`; over regions refer to `ceiling_dbtp`.
pub fn analyse(path: &Path, ceiling_dbtp: f64) -> Result<FileAnalysis, ReportError> {
    let fail = |e: String| ReportError(format!("{}: {e}", path.display()));
    let mut reader = AudioReader::open(path).map_err(|e| ReportError(e.to_string()))?;
    let info = reader.info().clone();
    let rate = info.sample_rate_hz;
    let channels = info.channels;
    if channels == 0 {
        return Err(fail("no channels".into()));
    }
    let mut options = MeterOptions::new(rate, channels);
    options.series = true;
    options.spectrum = true;
    let mut meter = Meter::new(options).map_err(|e| fail(e.to_string()))?;
    let mut mono_options = MeterOptions::new(rate, 1);
    mono_options.mono_mode = MonoMode::DualMono;
    let mut mono_meter = Meter::new(mono_options.clone()).map_err(|e| fail(e.to_string()))?;
    let mut phone_meter = Meter::new(mono_options).map_err(|e| fail(e.to_string()))?;
    let mut phone_filters = Vec::with_capacity(2);
    for (kind, freq_hz, slope_db_oct) in [
        (FilterKind::HighPass, PHONE_HIGH_PASS_HZ, 24.0),
        (
            FilterKind::LowPass,
            PHONE_LOW_PASS_HZ.min(0.45 * f64::from(rate)),
            12.0,
        ),
    ] {
        let mut f = Filter::new(FilterOptions {
            kind,
            freq_hz,
            slope_db_oct,
            ..FilterOptions::default()
        })
        .map_err(|e| fail(e.to_string()))?;
        f.prepare(rate, 1 << 15, 1)
            .map_err(|e| fail(e.to_string()))?;
        phone_filters.push(f);
    }
    let total = info.frames.unwrap_or(0).max(1);
    let per_column = (total as f64 / OVERVIEW_COLUMNS as f64).max(1.0);
    let n_columns = ((total as f64 / per_column).ceil() as usize).max(1);
    let mut columns = vec![vec![(f32::INFINITY, f32::NEG_INFINITY); n_columns]; channels];
    let silence = 10f64.powf(SILENCE_DBFS / 20.0);
    let mut first_loud: Option<u64> = None;
    let mut last_loud: Option<u64> = None;
    let mut clipped: Vec<Region> = Vec::new();
    let fs = f64::from(rate);
    let mut buf = AudioBuffer::new(channels, 0);
    let mut at: u64 = 0;
    let mut mono = Vec::new();
    loop {
        let n = reader
            .read(&mut buf, 1 << 15)
            .map_err(|e| ReportError(e.to_string()))?;
        if n == 0 {
            break;
        }
        meter
            .process(buf.planar())
            .map_err(|e| fail(e.to_string()))?;
        mono.clear();
        mono.extend((0..n).map(|k| {
            if channels >= 2 {
                0.5 * (buf.channel(0)[k] + buf.channel(1)[k])
            } else {
                buf.channel(0)[k]
            }
        }));
        mono_meter
            .process(&[&mono[..]])
            .map_err(|e| fail(e.to_string()))?;
        for f in &mut phone_filters {
            f.process(&mut [&mut mono[..]]);
        }
        phone_meter
            .process(&[&mono[..]])
            .map_err(|e| fail(e.to_string()))?;
        for k in 0..n {
            let frame = at + k as u64;
            let col = ((frame as f64 / per_column) as usize).min(n_columns - 1);
            let mut loud = false;
            let mut clip = false;
            for (c, cols) in columns.iter_mut().enumerate() {
                let x = buf.channel(c)[k];
                let cell = &mut cols[col];
                cell.0 = cell.0.min(x as f32);
                cell.1 = cell.1.max(x as f32);
                loud |= x.abs() > silence;
                clip |= x.abs() >= CLIP_LEVEL;
            }
            if loud {
                first_loud.get_or_insert(frame);
                last_loud = Some(frame);
            }
            if clip {
                let t = frame as f64 / fs;
                match clipped.last_mut() {
                    Some(r) if t - r.end_s < 0.05 => r.end_s = t + 1.0 / fs,
                    _ => clipped.push(Region {
                        start_s: t,
                        end_s: t + 1.0 / fs,
                    }),
                }
            }
        }
        at += n as u64;
    }
    let report = meter.report();
    let duration = report.duration_s;
    for cols in &mut columns {
        for cell in cols.iter_mut() {
            if !cell.0.is_finite() {
                *cell = (0.0, 0.0);
            }
        }
    }
    let head_silence_s = first_loud.map_or(duration, |f| f as f64 / fs);
    let tail_silence_s = last_loud.map_or(duration, |l| duration - (l + 1) as f64 / fs);
    let interval = report.series.interval_s;
    let mut over_regions: Vec<Region> = Vec::new();
    for (i, tp) in report.series.true_peak_dbtp.iter().enumerate() {
        if *tp > ceiling_dbtp {
            let (s, e) = (i as f64 * interval, (i + 1) as f64 * interval);
            match over_regions.last_mut() {
                Some(r) if (r.end_s - s).abs() < 1e-9 => r.end_s = e,
                _ => over_regions.push(Region {
                    start_s: s,
                    end_s: e,
                }),
            }
        }
    }
    let mono_report = mono_meter.report();
    let phone_report = phone_meter.report();
    // Defined for stereo; a multichannel fold-down needs a downmix matrix.
    let mono = (channels == 2).then(|| {
        let cancelling_bands = report
            .spectrum
            .as_ref()
            .map(|s| {
                s.third_octave
                    .iter()
                    .filter(|b| b.mid_db.is_finite() || b.side_db.is_finite())
                    .filter_map(|b| {
                        let m = 10f64.powf(b.mid_db / 10.0);
                        let sd = 10f64.powf(b.side_db / 10.0);
                        let loss = 10.0 * (m / (m + sd)).log10();
                        // Bands far below the programme carry nothing to lose.
                        (loss < -3.5 && b.mid_db.max(b.side_db) > -90.0)
                            .then_some((b.nominal_hz, loss))
                    })
                    .collect()
            })
            .unwrap_or_default();
        MonoCheck {
            integrated_lufs: mono_report.integrated_lufs,
            drop_lu: report.integrated_lufs - mono_report.integrated_lufs,
            correlation: report.correlation,
            cancelling_bands,
        }
    });
    let energy_below_band = report.spectrum.as_ref().map_or(0.0, |s| {
        let bins = s.mid_db.iter().enumerate().map(|(k, db)| {
            let f = k as f64 * s.bin_hz;
            (f, 10f64.powf(db / 10.0))
        });
        let (below, all) = bins.fold((0.0, 0.0), |(b, a), (f, p)| {
            let p = if p.is_finite() { p } else { 0.0 };
            (if f < PHONE_HIGH_PASS_HZ { b + p } else { b }, a + p)
        });
        if all > 0.0 { below / all } else { 0.0 }
    });
    Ok(FileAnalysis {
        path: path.to_path_buf(),
        overview: Overview {
            seconds_per_column: per_column / fs,
            columns,
        },
        clipped_regions: clipped,
        over_regions,
        ceiling_dbtp,
        head_silence_s,
        tail_silence_s,
        mono,
        phone: PhoneCheck {
            integrated_lufs: phone_report.integrated_lufs,
            drop_lu: mono_report.integrated_lufs - phone_report.integrated_lufs,
            energy_below_band,
        },
        meter: report,
    })
}
