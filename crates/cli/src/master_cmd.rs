//! `mixmaster master IN -o OUT --target spotify [--chain chain.toml]` and
//! `mixmaster render session.toml -o OUT --target …` (mix, then master).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use mixmaster_engine::acx::AcxStatus;
use mixmaster_engine::master::{LevelMeasure, MasterSettings, MasterSummary, master_file};
use mixmaster_engine::{RenderOptions, render_to_file};
use mixmaster_io::{Encoding, FileFormat, Tags};
use mixmaster_session::{LoadedSession, MasteringSpec};

use crate::format;
use crate::report_cmd::{self, ReportFlag};
use mixmaster_report::Inputs;

/// Options shared by `master` and `render`.
#[derive(Debug, clap::Args)]
pub struct MasterOptions {
    /// Output file: .wav (with BWF loudness fields), .flac or .mp3.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Delivery preset (see TARGETS.md): spotify, apple-music, youtube, amazon-music, tidal,
    /// deezer, soundcloud, ebu-r128, atsc-a85, aes-streaming, podcast, acx, cd, none.
    #[arg(short, long)]
    pub target: Option<String>,
    /// Mastering chain file (TOML); its settings override the session's `[mastering]`.
    #[arg(long, value_name = "FILE")]
    pub chain: Option<PathBuf>,
    /// Integrated loudness to reach in LUFS (overrides the preset's).
    #[arg(long, value_name = "LUFS", allow_hyphen_values = true)]
    pub lufs: Option<f64>,
    /// True-peak ceiling in dBTP (overrides the preset's).
    #[arg(long, value_name = "DBTP", allow_hyphen_values = true)]
    pub ceiling: Option<f64>,
    /// Word length: 16, 24 or 32f (default: the preset's, else 24).
    #[arg(long, value_name = "BITS")]
    pub bits: Option<String>,
    /// Delivery sample rate in Hz (default: the preset's, else the input's).
    #[arg(long, value_name = "HZ")]
    pub rate: Option<u32>,
    /// Output channels: 1 or 2 (default: as the input).
    #[arg(long)]
    pub channels: Option<u16>,
    /// Largest limiter gain reduction the target may need, in dB (default 12).
    #[arg(long, value_name = "DB")]
    pub max_reduction: Option<f64>,
    /// Match tonal balance (mid and side), stereo width and loudness to this reference track.
    #[arg(long, value_name = "FILE")]
    pub reference: Option<PathBuf>,
    /// How much of the reference's difference to apply, 0–100 %.
    #[arg(long, value_name = "PCT", default_value_t = 100.0)]
    pub amount: f64,
    #[command(flatten)]
    pub report: ReportFlag,
    #[command(flatten)]
    pub tags: TagArgs,
}

/// Tags of the deliverable: RIFF INFO in WAV, Vorbis comments in FLAC,
/// ID3v2.4 in MP3 (see `mixmaster_io::metadata`).
#[derive(Debug, Clone, Default, clap::Args)]
#[command(next_help_heading = "Tags")]
pub struct TagArgs {
    /// Track title.
    #[arg(long)]
    pub title: Option<String>,
    /// Track artist.
    #[arg(long)]
    pub artist: Option<String>,
    /// Album title.
    #[arg(long)]
    pub album: Option<String>,
    /// ISRC, CCXXXYYNNNNN (hyphens allowed): FLAC and MP3 only — WAV's RIFF INFO has no field
    /// for it.
    #[arg(long, value_parser = parse_isrc)]
    pub isrc: Option<String>,
    /// Release date: YYYY or YYYY-MM-DD.
    #[arg(long, visible_alias = "year", value_parser = parse_date)]
    pub date: Option<String>,
    /// Track number, optionally with the total: 3 or 3/12 (the total: FLAC and MP3 only).
    #[arg(long, value_name = "N[/TOTAL]", value_parser = parse_track)]
    pub track: Option<(u32, Option<u32>)>,
    /// Genre.
    #[arg(long)]
    pub genre: Option<String>,
    /// Comment.
    #[arg(long)]
    pub comment: Option<String>,
}

impl TagArgs {
    /// The tags for the writer.
    pub fn to_tags(&self) -> Tags {
        Tags {
            title: self.title.clone(),
            artist: self.artist.clone(),
            album: self.album.clone(),
            track_number: self.track.map(|(n, _)| n),
            track_total: self.track.and_then(|(_, t)| t),
            date: self.date.clone(),
            genre: self.genre.clone(),
            comment: self.comment.clone(),
            isrc: self.isrc.clone(),
            ..Tags::default()
        }
    }
}

/// An ISRC (ISO 3901), normalised to 12 characters without hyphens.
fn parse_isrc(s: &str) -> Result<String, String> {
    mixmaster_core::codes::normalize_isrc(s)
}

/// `YYYY` or `YYYY-MM-DD` (ISO 8601, as ID3v2.4 `TDRC` takes it).
fn parse_date(s: &str) -> Result<String, String> {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    let ok = match b.len() {
        4 => digits(0..4),
        10 => {
            digits(0..4)
                && b[4] == b'-'
                && digits(5..7)
                && b[7] == b'-'
                && digits(8..10)
                && (1..=12).contains(&s[5..7].parse::<u8>().unwrap_or(0))
                && (1..=31).contains(&s[8..10].parse::<u8>().unwrap_or(0))
        }
        _ => false,
    };
    if ok {
        Ok(s.to_string())
    } else {
        Err(format!(
            "'{s}': expected a year (2025) or a date (2025-03-14)"
        ))
    }
}

/// `3` or `3/12`, counting from 1.
fn parse_track(s: &str) -> Result<(u32, Option<u32>), String> {
    let bad = || format!("'{s}': expected a track number from 1, optionally /total (3 or 3/12)");
    let (n, total) = match s.split_once('/') {
        Some((n, t)) => (n, Some(t)),
        None => (s, None),
    };
    let n: u32 = n.trim().parse().map_err(|_| bad())?;
    let total: Option<u32> = match total {
        Some(t) => Some(t.trim().parse().map_err(|_| bad())?),
        None => None,
    };
    if n == 0 || total.is_some_and(|t| t < n) {
        return Err(bad());
    }
    Ok((n, total))
}

/// Arguments of `mixmaster master`.
#[derive(Debug, clap::Args)]
pub struct MasterArgs {
    /// The mix to master (any supported format, mono or stereo).
    pub input: PathBuf,
    #[command(flatten)]
    pub options: MasterOptions,
}

/// Arguments of `mixmaster render`.
#[derive(Debug, clap::Args)]
pub struct RenderArgs {
    /// The session file; its `[mastering]` table is the default chain.
    pub session: PathBuf,
    #[command(flatten)]
    pub options: MasterOptions,
    /// Worker threads for the mix (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
}

/// The settings from the session's table, the chain file and the flags,
/// each overriding the one before.
fn settings(
    base: Option<(&MasteringSpec, &Path)>,
    o: &MasterOptions,
    format: FileFormat,
) -> Result<MasterSettings> {
    let (mut spec, mut dir) = match base {
        Some((s, d)) => (s.clone(), d.to_path_buf()),
        None => (MasteringSpec::default(), PathBuf::from(".")),
    };
    if let Some(chain) = &o.chain {
        let text = std::fs::read_to_string(chain)
            .with_context(|| format!("{}: cannot read the chain file", chain.display()))?;
        let file: MasteringSpec = toml::from_str(&text).map_err(|e| {
            let before = &text[..e.span().map_or(0, |s| s.start).min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            anyhow::anyhow!("{}:{line}:{column}: {}", chain.display(), e.message())
        })?;
        merge(&mut spec, file);
        dir = chain.parent().map(Path::to_path_buf).unwrap_or_default();
    }
    if o.target.is_some() {
        spec.target.clone_from(&o.target);
    }
    if let Some(v) = o.lufs {
        spec.integrated_lufs = Some(v);
    }
    if let Some(v) = o.ceiling {
        spec.ceiling_dbtp = Some(v);
    }
    if o.bits.is_some() {
        spec.bits.clone_from(&o.bits);
    }
    if let Some(v) = o.rate {
        spec.sample_rate_hz = Some(v);
    }
    if let Some(v) = o.channels {
        spec.channels = Some(v);
    }
    if let Some(v) = o.max_reduction {
        spec.max_limiter_reduction_db = Some(v);
    }
    if spec.bits.as_deref() == Some("32f") && format != FileFormat::Wav {
        bail!("32-bit float is only available for WAV output");
    }
    let tags = o.tags.to_tags();
    if format == FileFormat::Wav {
        // Said before rendering; the writer would refuse them too.
        if tags.isrc.is_some() {
            bail!(
                "--isrc: a WAV file has no agreed place for an ISRC (RIFF INFO's `ISRC` means \
                 \"source\"); write FLAC or MP3, or give the ISRC to the distributor"
            );
        }
        if tags.track_total.is_some() {
            bail!("--track N/TOTAL: WAV (RIFF INFO `ITRK`) holds the track number only; give N");
        }
    }
    let mut settings = MasterSettings::from_spec(&spec, format, &dir)?;
    if let Some(r) = &o.reference {
        if !(0.0..=100.0).contains(&o.amount) {
            bail!("--amount {}: expected 0 ..= 100 (%)", o.amount);
        }
        settings.reference = Some((r.clone(), o.amount / 100.0));
    }
    settings.tags = tags;
    Ok(settings)
}

/// Fields of `over` replace those of `base` where given.
fn merge(base: &mut MasteringSpec, over: MasteringSpec) {
    macro_rules! take {
        ($($f:ident),*) => { $( if over.$f.is_some() { base.$f = over.$f; } )* };
    }
    take!(
        target,
        integrated_lufs,
        ceiling_dbtp,
        max_limiter_reduction_db,
        tolerance_lu,
        sample_rate_hz,
        bits,
        channels,
        default_chain,
        inserts,
        limiter,
        noise_shaping
    );
}

fn output_format(path: &Path) -> Result<FileFormat> {
    FileFormat::from_path(path).with_context(|| {
        format!(
            "{}: unknown output format; use .wav, .flac or .mp3",
            path.display()
        )
    })
}

fn progress_bar(label: &'static str) -> Option<ProgressBar> {
    std::io::stderr().is_terminal().then(|| {
        let pb = ProgressBar::new(0);
        if let Ok(style) = ProgressStyle::with_template(&format!(
            "{label} {{msg}} [{{bar:30}}] {{percent:>3}}% {{eta}}"
        )) {
            pb.set_style(style.progress_chars("=> "));
        }
        pb
    })
}

/// Runs `mixmaster master`.
pub fn run(args: &MasterArgs) -> Result<ExitCode> {
    let o = &args.options;
    let format = output_format(&o.output)?;
    let mut files = vec![args.input.as_path(), o.output.as_path()];
    files.extend(o.reference.as_deref());
    o.report.check(&files)?;
    let settings = settings(None, o, format)?;
    let summary = master_with_progress(&args.input, &o.output, &settings, format)?;
    print_summary(&summary)?;
    report_master(o, &summary, &args.input)?;
    Ok(ExitCode::SUCCESS)
}

/// `--report`: the master against the mix it came from (and the reference).
fn report_master(o: &MasterOptions, s: &MasterSummary, before: &Path) -> Result<()> {
    let Some(html) = &o.report.report else {
        return Ok(());
    };
    say!("");
    let report = report_cmd::write(
        &Inputs {
            file: s.output.clone(),
            before: Some(before.to_path_buf()),
            reference: o.reference.clone(),
            ceiling_dbtp: s.ceiling_dbtp,
            // The report draws a LUFS target; ACX aims at RMS instead.
            target_lufs: s
                .target_lufs
                .filter(|_| s.level == LevelMeasure::IntegratedLufs),
            ..Inputs::default()
        },
        html,
        None,
    )?;
    report_cmd::print_checks(&report, html)
}

fn master_with_progress(
    input: &Path,
    output: &Path,
    settings: &MasterSettings,
    format: FileFormat,
) -> Result<MasterSummary> {
    let pb = progress_bar("mastering");
    let summary = master_file(input, output, settings, format, |render, done, total| {
        if let Some(pb) = &pb {
            pb.set_message(format!("render {render}"));
            pb.set_length(total);
            pb.set_position(done);
        }
    });
    if let Some(pb) = pb {
        pb.finish_and_clear();
    }
    Ok(summary?)
}

/// Runs `mixmaster render`: the mix goes to a float WAV beside the output
/// (deleted afterwards), then through mastering.
pub fn run_render(args: &RenderArgs) -> Result<ExitCode> {
    let loaded = LoadedSession::load(&args.session)?;
    let format = output_format(&args.options.output)?;
    let base_dir = loaded.path.parent().unwrap_or(Path::new("")).to_path_buf();
    let spec = loaded.session.mastering.clone().unwrap_or_default();
    let settings = settings(Some((&spec, &base_dir)), &args.options, format)?;
    let out = &args.options.output;
    let mut files = vec![args.session.as_path(), out.as_path()];
    files.extend(args.options.reference.as_deref());
    args.options.report.check(&files)?;
    let premaster = {
        let name = out
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        out.with_file_name(format!(".{name}.premaster.wav"))
    };
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let pb = progress_bar("mixing");
    let mixed = render_to_file(
        &loaded,
        &RenderOptions {
            output: premaster.clone(),
            format: FileFormat::Wav,
            encoding: Encoding::Float32,
            threads,
            stems_dir: None,
        },
        |done, total| {
            if let Some(pb) = &pb {
                pb.set_length(total);
                pb.set_position(done);
            }
        },
    );
    if let Some(pb) = pb {
        pb.finish_and_clear();
    }
    let mixed = mixed?;
    say!(
        "Mixed {} ({}), {:.1}x real time",
        args.session.display(),
        format::duration(mixed.frames as f64 / f64::from(mixed.sample_rate_hz)),
        mixed.speed_x_realtime
    );
    let result = master_with_progress(&premaster, out, &settings, format).and_then(|summary| {
        print_summary(&summary)?;
        // The mix is the report's BEFORE, so the report comes before the
        // premaster is deleted.
        report_master(&args.options, &summary, &premaster)
    });
    std::fs::remove_file(&premaster).ok();
    result?;
    Ok(ExitCode::SUCCESS)
}

/// The before/after table.
pub fn print_summary(s: &MasterSummary) -> Result<()> {
    let (i, o) = (&s.input, &s.output_report);
    let unit = s.level.unit();
    let target = match (s.target_id, s.target_lufs) {
        (Some(id), Some(l)) => format!("{id}: {l:.1} {unit}, ceiling {:.1} dBTP", s.ceiling_dbtp),
        (Some(id), None) => format!("{id}: ceiling {:.1} dBTP", s.ceiling_dbtp),
        (None, Some(l)) => format!("{l:.1} {unit}, ceiling {:.1} dBTP", s.ceiling_dbtp),
        (None, None) => format!("no loudness change, ceiling {:.1} dBTP", s.ceiling_dbtp),
    };
    say!(
        "Wrote {} ({}, {} Hz, {} ch) — target {target}",
        s.output.display(),
        format::duration(o.duration_s),
        s.sample_rate_hz,
        s.channels
    );
    say!("                  before      after");
    say!(
        "  integrated   {:>8} {:>10}  LUFS",
        format::level(i.integrated_lufs),
        format::level(o.integrated_lufs)
    );
    say!(
        "  LRA          {:>8} {:>10}  LU",
        format::opt(i.lra_lu, 1),
        format::opt(o.lra_lu, 1)
    );
    say!(
        "  true peak    {:>8} {:>10}  dBTP",
        format::level(i.true_peak_dbtp),
        format::level(o.true_peak_dbtp)
    );
    say!(
        "  sample peak  {:>8} {:>10}  dBFS",
        format::level(i.sample_peak_dbfs),
        format::level(o.sample_peak_dbfs)
    );
    say!(
        "  RMS          {:>8} {:>10}  dBFS",
        format::level(i.rms_dbfs),
        format::level(o.rms_dbfs)
    );
    say!(
        "  PLR          {:>8} {:>10}  dB",
        format::level(i.plr_db),
        format::level(o.plr_db)
    );
    say!(
        "  gain into the limiter {:+.2} dB; limiter reduction max {:.2} dB, average {:.2} dB; {} render{}",
        s.gain_db,
        s.max_limiter_reduction_db,
        s.average_limiter_reduction_db,
        s.renders,
        if s.renders == 1 { "" } else { "s" }
    );
    say!(
        "  {:.1}x real time; latency compensated: {} frames; log: {}",
        s.speed_x_realtime,
        s.latency_frames,
        s.sidecar.display()
    );
    for n in &s.notes {
        say!("  note: {n}");
    }
    if let Some(acx) = &s.acx {
        say!("  ACX checks (of the written file):");
        for f in &acx.findings {
            let status = match f.status {
                AcxStatus::Pass => "pass",
                AcxStatus::Fail => "FAIL",
                AcxStatus::Advisory => "note",
            };
            say!(
                "    {:<15} {status:<4}  {:<19} (ACX: {})",
                f.check.replace('_', " "),
                f.figure,
                f.requirement
            );
        }
        for f in acx.findings.iter().filter(|f| f.status != AcxStatus::Pass) {
            let kind = if f.status == AcxStatus::Fail {
                "warning"
            } else {
                "note"
            };
            say!("  {kind}: ACX {}: {}", f.check.replace('_', " "), f.message);
        }
    }
    Ok(())
}
