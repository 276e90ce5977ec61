//! `mixmaster mix session.toml -o mix.wav`: render a session to a stereo file.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use mixmaster_engine::{RenderOptions, render_to_file};
use mixmaster_io::{Encoding, FileFormat};
use mixmaster_session::LoadedSession;

use crate::format;
use crate::report_cmd::{self, ReportFlag};
use mixmaster_report::Inputs;

/// Arguments of `mixmaster mix`.
#[derive(Debug, clap::Args)]
pub struct MixArgs {
    /// The session file (TOML, or JSON with a .json extension).
    pub session: PathBuf,
    /// Output file: .wav or .flac.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Sample format: 32f (default for WAV; a mix goes on to mastering), 24 or 16.
    /// Integer formats are dithered (TPDF) once, last.
    #[arg(long, value_name = "BITS")]
    pub bits: Option<String>,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Also write every track and bus as rendered (post-fader, aligned with the mix) into DIR.
    #[arg(long, value_name = "DIR")]
    pub stems: Option<PathBuf>,
    #[command(flatten)]
    pub report: ReportFlag,
}

pub fn run(args: &MixArgs) -> Result<ExitCode> {
    let loaded = LoadedSession::load(&args.session)?;
    args.report
        .check(&[args.session.as_path(), args.output.as_path()])?;
    let Some(format) = FileFormat::from_path(&args.output) else {
        bail!(
            "{}: unknown output format; use .wav or .flac",
            args.output.display()
        );
    };
    let encoding = match (args.bits.as_deref(), format) {
        // The mix is a premaster: lossless only (MP3 is for delivery).
        (_, FileFormat::Mp3) => bail!(
            "{}: mix writes .wav or .flac; MP3 is a delivery format",
            args.output.display()
        ),
        (None | Some("32f"), FileFormat::Wav) => Encoding::Float32,
        (None | Some("24"), FileFormat::Flac) | (Some("24"), _) => Encoding::Pcm24,
        (Some("16"), _) => Encoding::Pcm16,
        (Some("32f"), FileFormat::Flac) => bail!("FLAC has no float format: use --bits 24 or 16"),
        (Some(b), _) => bail!("--bits {b}: expected 32f, 24 or 16"),
    };
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let progress = std::io::stderr().is_terminal().then(|| {
        let pb = ProgressBar::new(0);
        if let Ok(style) = ProgressStyle::with_template("mixing [{bar:30}] {percent:>3}% {eta}") {
            pb.set_style(style.progress_chars("=> "));
        }
        pb
    });
    let options = RenderOptions {
        output: args.output.clone(),
        format,
        encoding,
        threads,
        stems_dir: args.stems.clone(),
    };
    let summary = render_to_file(&loaded, &options, |done, total| {
        if let Some(pb) = &progress {
            pb.set_length(total);
            pb.set_position(done);
        }
    })?;
    if let Some(pb) = progress {
        pb.finish_and_clear();
    }
    let r = &summary.report;
    say!(
        "Wrote {} ({}, {} Hz, {} threads)",
        summary.output.display(),
        format::duration(summary.frames as f64 / f64::from(summary.sample_rate_hz)),
        summary.sample_rate_hz,
        threads
    );
    say!(
        "  integrated {} LUFS, true peak {} dBTP, sample peak {} dBFS, LRA {} LU",
        format::level(r.integrated_lufs),
        format::level(r.true_peak_dbtp),
        format::level(r.sample_peak_dbfs),
        format::opt(r.lra_lu, 1)
    );
    say!(
        "  rendered at {:.1}x real time; latency compensated: {} frames",
        summary.speed_x_realtime,
        summary.latency_frames
    );
    if summary.clipped_samples > 0 {
        eprintln!(
            "warning: {}: {} samples clipped at full scale (use 32-bit float or lower the master)",
            summary.output.display(),
            summary.clipped_samples
        );
    }
    if let Some(html) = &args.report.report {
        // A mix is a premaster: no loudness target; overs are above 0 dBTP.
        let report = report_cmd::write(
            &Inputs {
                file: summary.output.clone(),
                ceiling_dbtp: 0.0,
                ..Inputs::default()
            },
            html,
            None,
        )?;
        report_cmd::print_checks(&report, html)?;
    }
    Ok(ExitCode::SUCCESS)
}
