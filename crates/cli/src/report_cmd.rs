//! `mixmaster report FILE -o report.html [--compare BEFORE] [--reference REF]`:
//! a self-contained HTML report with SVG plots and translation checks.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use mixmaster_core::targets::Target;
use mixmaster_report::{Report, Status, analyse, lossy_check};

/// Arguments of `mixmaster report`.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// The file to report on.
    pub file: PathBuf,
    /// Output HTML file.
    #[arg(short, long)]
    pub output: PathBuf,
    /// The same programme before processing, overlaid on the spectra.
    #[arg(long, value_name = "BEFORE")]
    pub compare: Option<PathBuf>,
    /// A reference track, overlaid on the spectra.
    #[arg(long, value_name = "REF")]
    pub reference: Option<PathBuf>,
    /// Delivery preset whose loudness and ceiling the report draws (default spotify).
    #[arg(long, default_value = "spotify")]
    pub target: String,
    /// Also print the figures and checks as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `mixmaster report`.
pub fn run(args: &ReportArgs) -> Result<ExitCode> {
    let target = Target::by_id(&args.target)?;
    let ceiling = target.ceiling_dbtp;
    let file = analyse(&args.file, ceiling)?;
    let lossy = lossy_check(&args.file, &file.meter)?;
    let report = Report {
        file,
        lossy,
        before: args
            .compare
            .as_deref()
            .map(|p| analyse(p, ceiling))
            .transpose()?,
        reference: args
            .reference
            .as_deref()
            .map(|p| analyse(p, ceiling))
            .transpose()?,
        target_lufs: target.integrated_lufs,
    };
    let html = report.to_html();
    let tmp = args.output.with_extension("html.tmp");
    std::fs::write(&tmp, html)
        .and_then(|()| std::fs::rename(&tmp, &args.output))
        .with_context(|| format!("{}: cannot write the report", args.output.display()))?;
    if args.json {
        say!("{}", serde_json::to_string_pretty(&report.to_json())?);
    } else {
        for c in report.checks() {
            let word = match c.status {
                Status::Pass => "pass",
                Status::Warn => "WARN",
                Status::Fail => "FAIL",
            };
            say!("{word:<5} {:<10} {}: {}", c.id, c.figure, c.message);
        }
        say!("report: {}", args.output.display());
    }
    Ok(ExitCode::SUCCESS)
}
