//! `mixmaster report FILE -o report.html [--compare BEFORE] [--reference REF]
//! [--png DIR]`: a self-contained HTML report with SVG plots and translation
//! checks — and the same report for `mix`, `master`, `render` and `album`
//! through their `--report PATH`.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use mixmaster_core::targets::Target;
use mixmaster_io::atomic::{AtomicFile, same_file};
use mixmaster_report::{Inputs, PngWriter, Report, Status, make_report};

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
    /// Also write every plot as a PNG file into DIR (created if missing).
    #[arg(long, value_name = "DIR")]
    pub png: Option<PathBuf>,
    /// Also print the figures and checks as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `--report PATH` of `mix`, `master`, `render` and `album`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ReportFlag {
    /// Also write an HTML report of the result (plots, translation checks) to PATH.
    #[arg(long, value_name = "PATH")]
    pub report: Option<PathBuf>,
}

impl ReportFlag {
    /// Refuses, before any work, a report path that is not `.html` or that
    /// would overwrite one of `files` (inputs or the command's output).
    pub fn check(&self, files: &[&Path]) -> Result<()> {
        match &self.report {
            Some(path) => check_output(path, files),
            None => Ok(()),
        }
    }
}

/// Analyses what `inputs` names, then writes the HTML at `html` (an
/// [`AtomicFile`]: whole or not at all, never over an input) and, with `png_dir`, the plots as
/// PNGs. Returns the report.
pub fn write(inputs: &Inputs, html: &Path, png_dir: Option<&Path>) -> Result<Report> {
    // Fonts first: a missing font refuses before anything is written.
    let png = png_dir.map(|_| PngWriter::new(2.0)).transpose()?;
    let report = make_report(inputs)?;
    if let (Some(png), Some(dir)) = (&png, png_dir) {
        png.write_all(&report.plots(), &report.name(), dir)?;
    }
    let sources: Vec<&Path> = [
        Some(&inputs.file),
        inputs.before.as_ref(),
        inputs.reference.as_ref(),
    ]
    .into_iter()
    .flatten()
    .map(PathBuf::as_path)
    .collect();
    let (out, mut f) = AtomicFile::create(html, &sources)?;
    f.write_all(report.to_html().as_bytes())
        .with_context(|| format!("{}: cannot write the report", html.display()))?;
    out.commit(f)?;
    Ok(report)
}

/// A report path must be `.html`/`.htm` and must not be one of `files`.
pub fn check_output(path: &Path, files: &[&Path]) -> Result<()> {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    if !matches!(ext.as_deref(), Some("html" | "htm")) {
        bail!(
            "{}: a report is an HTML file; give a path ending in .html",
            path.display()
        );
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && !dir.is_dir()
    {
        bail!(
            "{}: the folder {} does not exist",
            path.display(),
            dir.display()
        );
    }
    if let Some(f) = files.iter().find(|f| same_file(path, f)) {
        bail!(
            "{}: the report would overwrite {}; choose another path",
            path.display(),
            f.display()
        );
    }
    Ok(())
}

/// Prints the checks, one a line, and where the report is.
pub fn print_checks(report: &Report, html: &Path) -> Result<()> {
    for c in report.checks() {
        let word = match c.status {
            Status::Pass => "pass",
            Status::Warn => "WARN",
            Status::Fail => "FAIL",
        };
        say!("  {word:<5} {:<10} {}: {}", c.id, c.figure, c.message);
    }
    say!("report: {}", html.display());
    Ok(())
}

/// Runs `mixmaster report`.
pub fn run(args: &ReportArgs) -> Result<ExitCode> {
    let target = Target::by_id(&args.target)?;
    let mut inputs = vec![args.file.as_path()];
    inputs.extend(args.compare.as_deref());
    inputs.extend(args.reference.as_deref());
    check_output(&args.output, &inputs)?;
    let report = write(
        &Inputs {
            file: args.file.clone(),
            before: args.compare.clone(),
            reference: args.reference.clone(),
            ceiling_dbtp: target.ceiling_dbtp,
            target_lufs: target.integrated_lufs,
            ..Inputs::default()
        },
        &args.output,
        args.png.as_deref(),
    )?;
    if args.json {
        say!("{}", serde_json::to_string_pretty(&report.to_json())?);
    } else {
        print_checks(&report, &args.output)?;
        if let Some(dir) = &args.png {
            say!("plots: {}/*.png", dir.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}
