//! `mixmaster meter FILE...`: loudness, true peak and statistics per file,
//! as a table or as JSON with stable keys.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use mixmaster_core::units::frames_to_seconds;
use mixmaster_core::{NormalizationPolicy, Target};
use mixmaster_io::{AudioReader, SampleFormat, SourceInfo};
use mixmaster_meter::{Meter, MeterOptions, MeterReport, MonoMode};
use serde_json::{Map, Value, json};

use crate::format;
use crate::pipeline::stream;

/// Arguments of `mixmaster meter`.
#[derive(Debug, clap::Args)]
pub struct MeterArgs {
    /// Audio files to measure (WAV, RF64, AIFF, FLAC, MP3, Ogg Vorbis, M4A).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Print a JSON array, one object per file.
    #[arg(long)]
    pub json: bool,
    /// Show what a platform does to the level: spotify, apple-music, youtube, amazon-music,
    /// tidal, deezer, soundcloud, ebu-r128, atsc-a85, aes-streaming, podcast, acx, cd, none.
    #[arg(long, value_name = "ID")]
    pub target: Option<String>,
    /// Measure mono files as dual-mono (+3.01 dB, two speakers) instead of per BS.1770 (one channel, G = 1).
    #[arg(long)]
    pub dual_mono: bool,
    /// True-peak oversampling factor: 4, 8 or 16.
    #[arg(long, default_value_t = 4, value_name = "N")]
    pub oversampling: u32,
    /// Add the 10 Hz time series (momentary, short-term, true peak, correlation) to the JSON.
    #[arg(long)]
    pub series: bool,
    /// Add the averaged spectrum and third-octave bands (L, R, M, S) to the JSON.
    #[arg(long)]
    pub spectrum: bool,
}

/// One file's outcome.
struct Measured {
    info: SourceInfo,
    report: MeterReport,
}

pub fn run(args: &MeterArgs) -> Result<ExitCode> {
    let target = args.target.as_deref().map(Target::by_id).transpose()?;
    let show_progress = std::io::stdout().is_terminal();
    let mut json_rows = Vec::new();
    let mut failed = 0usize;
    for (i, path) in args.files.iter().enumerate() {
        let outcome = measure(path, args, target, show_progress);
        if args.json {
            json_rows.push(match &outcome {
                Ok(m) => json_object(path, m, target, args),
                Err(err) => {
                    json!({ "file": path.display().to_string(), "error": format!("{err:#}") })
                }
            });
        } else {
            if i > 0 {
                say!("");
            }
            match &outcome {
                Ok(m) => print_table(path, m, target)?,
                Err(err) => eprintln!("error: {err:#}"),
            }
        }
        if let Err(err) = &outcome {
            failed += 1;
            if args.json {
                eprintln!("error: {err:#}");
            }
        }
    }
    if args.json {
        say!(
            "{}",
            serde_json::to_string_pretty(&Value::Array(json_rows))?
        );
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn measure(
    path: &Path,
    args: &MeterArgs,
    target: Option<&Target>,
    show_progress: bool,
) -> Result<Measured> {
    let reader = AudioReader::open(path)?;
    let info = reader.info().clone();
    let mut options = MeterOptions::new(info.sample_rate_hz, info.channels);
    if args.dual_mono || target.is_some_and(|t| t.mono_as_dual_mono) {
        options.mono_mode = MonoMode::DualMono;
    }
    options.true_peak_oversampling = args.oversampling;
    options.spectrum = args.spectrum;
    options.series = args.series;
    let mut meter = Meter::new(options).with_context(|| path.display().to_string())?;
    let progress = progress_bar(&info, show_progress);
    stream(reader, |block| {
        meter.process(block.planar())?;
        if let Some(pb) = &progress {
            pb.inc(block.frames() as u64);
        }
        Ok(())
    })?;
    if let Some(pb) = progress {
        pb.finish_and_clear();
    }
    let report = meter.report();
    if let Some(nf) = &report.first_nonfinite {
        bail!(
            "{}: contains {} non-finite samples (NaN or infinity); the first at {:.3} s (frame {}), channel {}",
            path.display(),
            report.nonfinite_samples,
            frames_to_seconds(nf.frame, info.sample_rate_hz),
            nf.frame,
            nf.channel + 1
        );
    }
    if report.frames == 0 {
        bail!("{}: contains no audio frames", path.display());
    }
    Ok(Measured { info, report })
}

/// A progress bar on stderr for files longer than 30 s, when stdout is a terminal.
fn progress_bar(info: &SourceInfo, show: bool) -> Option<ProgressBar> {
    let frames = info.frames?;
    if !show || frames_to_seconds(frames, info.sample_rate_hz) < 30.0 {
        return None;
    }
    let pb = ProgressBar::new(frames);
    let style = ProgressStyle::with_template("{msg} [{bar:30}] {percent:>3}% {eta}")
        .map(|s| s.progress_chars("=> "))
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    pb.set_style(style);
    pb.set_message(
        info.path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
    );
    Some(pb)
}

/// "WAV PCM 24-bit", "MP3", "FLAC 16-bit", …
pub fn describe_format(info: &SourceInfo) -> String {
    let depth = match info.sample_format {
        SampleFormat::Int { bits } => format!(" {bits}-bit"),
        SampleFormat::Float { bits } => format!(" {bits}-bit float"),
        _ => String::new(),
    };
    if info.codec == info.container || info.codec.is_empty() {
        format!("{}{depth}", info.container)
    } else {
        format!("{} {}{depth}", info.container, info.codec)
    }
}

fn print_table(path: &Path, m: &Measured, target: Option<&Target>) -> Result<()> {
    let r = &m.report;
    say!(
        "{}  ({}, {} Hz, {} ch, {})",
        path.display(),
        describe_format(&m.info),
        r.sample_rate_hz,
        r.channels,
        format::duration(r.duration_s)
    );
    let rows: [(&str, String, &str); 10] = [
        ("Integrated", format::level(r.integrated_lufs), "LUFS"),
        ("Loudness range", format::opt(r.lra_lu, 1), "LU"),
        ("True peak", format::level(r.true_peak_dbtp), "dBTP"),
        ("Sample peak", format::level(r.sample_peak_dbfs), "dBFS"),
        ("Momentary max", format::level(r.momentary_max_lufs), "LUFS"),
        (
            "Short-term max",
            format::level(r.short_term_max_lufs),
            "LUFS",
        ),
        ("PLR", format::level(r.plr_db), "dB"),
        ("RMS", format::level(r.rms_dbfs), "dBFS"),
        ("Crest factor", format::level(r.crest_factor_db), "dB"),
        ("Correlation", format::opt(r.correlation, 2), ""),
    ];
    for (name, value, unit) in rows {
        say!("{}", format!("  {name:<16}{value:>8} {unit}").trim_end());
    }
    if r.clipped_samples > 0 {
        say!(
            "  {:<16}{:>8} samples at full scale",
            "Clipped",
            r.clipped_samples
        );
    }
    let max_dc = r.dc_offset.iter().fold(0.0f64, |a, &b| a.max(b.abs()));
    if max_dc > 1e-3 {
        say!(
            "  {:<16}{:>8} dBFS (largest channel)",
            "DC offset",
            format::level(20.0 * max_dc.log10())
        );
    }
    if let Some(t) = target {
        say!("  {}", target_line(t, r));
    }
    Ok(())
}

fn target_line(t: &Target, r: &MeterReport) -> String {
    let Some(pg) = t.playback_gain(r.integrated_lufs, r.true_peak_dbtp, r.rms_dbfs) else {
        return format!("{}: level undefined (silence)", t.name);
    };
    let unit = match t.policy {
        NormalizationPolicy::RmsWindow { .. } => "dBFS RMS",
        _ => "LUFS",
    };
    let mut line = match t.integrated_lufs {
        Some(aim) => format!(
            "{} ({} {unit}, ceiling {} dBTP): plays at {} dB -> {} {unit}",
            t.name,
            format::level(aim),
            format::level(t.ceiling_for(r.integrated_lufs)),
            format::gain(pg.gain_db),
            format::level(pg.resulting_level)
        ),
        None => format!(
            "{} (no loudness normalisation, ceiling {} dBTP): plays as is",
            t.name,
            format::level(t.ceiling_dbtp)
        ),
    };
    if pg.limited_by_peak {
        line.push_str(" (raising limited by the true peak)");
    }
    let ceiling = t.ceiling_for(r.integrated_lufs);
    if r.true_peak_dbtp > ceiling {
        line.push_str(&format!(
            "; true peak {} dBTP is over the {} dBTP ceiling",
            format::level(r.true_peak_dbtp),
            format::level(ceiling)
        ));
    }
    if let NormalizationPolicy::RmsWindow { min_dbfs, max_dbfs } = t.policy {
        let ok = (min_dbfs..=max_dbfs).contains(&r.rms_dbfs);
        line.push_str(if ok {
            "; RMS within the accepted window"
        } else {
            "; RMS outside the accepted window"
        });
    }
    line
}

/// A number, or `null` when it is −∞ or undefined.
fn num(x: f64) -> Value {
    serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
}

fn json_object(path: &Path, m: &Measured, target: Option<&Target>, args: &MeterArgs) -> Value {
    let r = &m.report;
    let mut o = Map::new();
    o.insert("file".into(), json!(path.display().to_string()));
    o.insert("integrated_lufs".into(), num(r.integrated_lufs));
    o.insert("lra_lu".into(), r.lra_lu.map_or(Value::Null, num));
    o.insert("true_peak_dbtp".into(), num(r.true_peak_dbtp));
    o.insert("sample_peak_dbfs".into(), num(r.sample_peak_dbfs));
    o.insert("momentary_max_lufs".into(), num(r.momentary_max_lufs));
    o.insert("short_term_max_lufs".into(), num(r.short_term_max_lufs));
    o.insert("plr_db".into(), num(r.plr_db));
    o.insert("rms_dbfs".into(), num(r.rms_dbfs));
    o.insert("correlation".into(), r.correlation.map_or(Value::Null, num));
    o.insert("duration_s".into(), num(r.duration_s));
    o.insert("sample_rate".into(), json!(r.sample_rate_hz));
    o.insert("channels".into(), json!(r.channels));
    o.insert("frames".into(), json!(r.frames));
    o.insert("format".into(), json!(describe_format(&m.info)));
    o.insert("crest_factor_db".into(), num(r.crest_factor_db));
    o.insert("clipped_samples".into(), json!(r.clipped_samples));
    o.insert(
        "dc_offset".into(),
        Value::Array(r.dc_offset.iter().map(|&d| num(d)).collect()),
    );
    o.insert(
        "channel_true_peak_dbtp".into(),
        Value::Array(r.channel_true_peak_dbtp.iter().map(|&d| num(d)).collect()),
    );
    if let Some(t) = target {
        let pg = t.playback_gain(r.integrated_lufs, r.true_peak_dbtp, r.rms_dbfs);
        let ceiling = t.ceiling_for(r.integrated_lufs);
        o.insert(
            "target".into(),
            json!({
                "id": t.id,
                "integrated_lufs": t.integrated_lufs,
                "level_measure": match t.policy {
                    NormalizationPolicy::RmsWindow { .. } => "rms_dbfs",
                    _ => "integrated_lufs",
                },
                "ceiling_dbtp": ceiling,
                "gain_db": pg.map(|p| p.gain_db),
                "resulting_level": pg.map(|p| p.resulting_level),
                "limited_by_peak": pg.is_some_and(|p| p.limited_by_peak),
                "true_peak_over_ceiling": r.true_peak_dbtp > ceiling,
            }),
        );
    }
    if args.series {
        o.insert(
            "series".into(),
            serde_json::to_value(&r.series).unwrap_or(Value::Null),
        );
    }
    if args.spectrum {
        o.insert(
            "spectrum".into(),
            serde_json::to_value(&r.spectrum).unwrap_or(Value::Null),
        );
    }
    Value::Object(o)
}
