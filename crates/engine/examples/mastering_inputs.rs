//! Writes the mastering inputs of [`mixmaster_engine::programmes`] — the
//! ten generated programmes of the mastering acceptance test — as 32-bit
//! float WAV files, one per programme (`NAME.wav`), so that outside tools
//! can master and measure the very same audio
//! (`scripts/bench_master_matrix.sh`).
//!
//! `cargo run --release -p mixmaster-engine --example mastering_inputs -- OUT_DIR [--seconds S] [--name NAME]…`
//!
//! `--seconds` defaults to 4 (the test's length). `--name` (repeatable)
//! writes only the programmes named, which may also be the demo songs
//! (`demo-song`, …; `scripts/bench_album.sh` uses them). Prints one line per file:
//! name, sample rate, channels, frames, path (tab-separated).

use std::path::PathBuf;
use std::process::ExitCode;

use mixmaster_engine::programmes::{mastering_inputs, programme};
use mixmaster_io::{AudioWriter, Encoding, FileFormat, WriteSpec};

const USAGE: &str = "usage: mastering_inputs OUT_DIR [--seconds S] [--name NAME]...";

/// Longest programme accepted, in seconds (ten stereo float programmes of
/// this length at up to 96 kHz stay well under a gigabyte in memory).
const MAX_SECONDS: f64 = 600.0;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mastering_inputs: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let mut out_dir: Option<PathBuf> = None;
    let mut seconds = 4.0;
    let mut names: Vec<String> = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--name" => names.push(
                args.next()
                    .ok_or(format!("--name needs a value; {USAGE}"))?,
            ),
            "--seconds" => {
                let v = args
                    .next()
                    .ok_or(format!("--seconds needs a value; {USAGE}"))?;
                seconds = v
                    .parse::<f64>()
                    .ok()
                    .filter(|s| s.is_finite() && *s > 0.0 && *s <= MAX_SECONDS)
                    .ok_or(format!(
                        "--seconds {v}: expected a number of seconds in (0, {MAX_SECONDS}]"
                    ))?;
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            other if other.starts_with('-') => {
                return Err(format!("unknown option {other}; {USAGE}"));
            }
            other if out_dir.is_none() => out_dir = Some(PathBuf::from(other)),
            other => return Err(format!("unexpected argument {other}; {USAGE}")),
        }
    }
    let out_dir = out_dir.ok_or(USAGE.to_string())?;
    std::fs::create_dir_all(&out_dir)
        .map_err(|e| format!("{}: cannot create the directory: {e}", out_dir.display()))?;
    let programmes = if names.is_empty() {
        mastering_inputs(seconds)
    } else {
        names
            .iter()
            .map(|n| programme(n, seconds).ok_or(format!("no programme '{n}'")))
            .collect::<Result<Vec<_>, _>>()?
    };
    for p in programmes {
        let path = out_dir.join(format!("{}.wav", p.name));
        let spec = WriteSpec {
            sample_rate_hz: p.sample_rate_hz,
            channels: p.channels.len(),
            format: FileFormat::Wav,
            encoding: Encoding::Float32,
        };
        let write = || -> Result<(), mixmaster_io::IoError> {
            let mut w = AudioWriter::create(&path, spec, &[])?;
            w.write(&p.channels)?;
            w.finish()?;
            Ok(())
        };
        write().map_err(|e| format!("{}: {e}", path.display()))?;
        println!(
            "{}\t{}\t{}\t{}\t{}",
            p.name,
            p.sample_rate_hz,
            p.channels.len(),
            p.frames(),
            path.display()
        );
    }
    Ok(())
}
