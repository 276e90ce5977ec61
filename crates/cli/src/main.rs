//! `mixmaster`: the command line over the mixmaster engine.
#![forbid(unsafe_code)]

/// `println!` that returns an error instead of panicking when stdout is
/// closed (`mixmaster meter … | head`).
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)?;
    }};
}

mod album_cmd;
mod demo;
mod format;
mod init_cmd;
mod master_cmd;
mod meter_cmd;
mod mix_cmd;
mod pipeline;
mod report_cmd;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Mix, master, meter and deliver music — one engine, reproducible from text files.
#[derive(Debug, Parser)]
#[command(name = "mixmaster", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Measure loudness (BS.1770 / EBU R128), true peak and signal statistics of audio files.
    Meter(meter_cmd::MeterArgs),
    /// Render a session (stems + session file) to a stereo mix.
    Mix(mix_cmd::MixArgs),
    /// Import a folder of stems into a new session file with a rough mix.
    Init(init_cmd::InitArgs),
    /// Master a mix to a delivery target: loudness, true-peak ceiling, format.
    Master(master_cmd::MasterArgs),
    /// Mix a session, then master it (the mix passes to mastering in float).
    Render(master_cmd::RenderArgs),
    /// Assemble an album: songs in order with gaps and crossfades, consistent loudness, CD and streaming files.
    Album(album_cmd::AlbumArgs),
    /// Report on a file: HTML with plots of loudness, spectrum and stereo, and translation checks.
    Report(report_cmd::ReportArgs),
    /// Print the JSON Schema of session files (or of chain or album files), for editors and tools.
    Schema {
        /// Which file: session (default), chain or album.
        #[arg(default_value = "session", value_parser = ["session", "chain", "album"])]
        kind: String,
    },
    /// Generate a demo programme, write it to WAV and FLAC (44.1 kHz/16-bit, dithered) and meter the results.
    Demo {
        /// Folder for the demo files.
        #[arg(short, long, default_value = "demo-out")]
        out_dir: PathBuf,
        /// Length of the generated programme in seconds.
        #[arg(long, default_value_t = 24.0)]
        seconds: f64,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Meter(args) => meter_cmd::run(&args),
        Command::Demo { out_dir, seconds } => demo::run(&out_dir, seconds),
        Command::Schema { kind } => schema(&kind),
        Command::Mix(args) => mix_cmd::run(&args),
        Command::Init(args) => init_cmd::run(&args),
        Command::Master(args) => master_cmd::run(&args),
        Command::Render(args) => master_cmd::run_render(&args),
        Command::Album(args) => album_cmd::run(&args),
        Command::Report(args) => report_cmd::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(err) if is_broken_pipe(&err) => ExitCode::from(141),
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// The reader of our stdout went away: stop quietly, with the status a
/// shell reports for SIGPIPE (128 + 13).
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn schema(kind: &str) -> anyhow::Result<ExitCode> {
    let schema = match kind {
        "chain" => mixmaster_session::chain_json_schema(),
        "album" => mixmaster_session::album_json_schema(),
        _ => mixmaster_session::json_schema(),
    };
    say!("{}", serde_json::to_string_pretty(&schema)?);
    Ok(ExitCode::SUCCESS)
}
