//! Runs the mastering limiter alone on a file, latency-compensated, for
//! measurements against other limiters (scripts/bench_limiter_imd.sh).
//!
//! ```text
//! cargo run --release -p mixmaster-engine --example limit -- IN.wav OUT.wav \
//!     [--drive-db 6] [--ceiling -1] [--character transparent|punchy|aggressive] \
//!     [--release-ms 100] [--lookahead-ms 2] [--sample-peak]
//! ```
//!
//! The output is 32-bit float WAV at the input's rate and channel count,
//! exactly as long as the input and aligned with it: the first
//! `latency_frames` output frames are dropped and the limiter is flushed
//! with as many frames of silence at the end. Unset options keep
//! [`LimiterOptions::default`] (ceiling −1 dBTP, no drive). Prints the
//! latency and the largest and mean gain reduction over the frames written.

use std::error::Error;
use std::path::PathBuf;
use std::process::ExitCode;

use mixmaster_core::{AudioBuffer, Processor};
use mixmaster_dsp::{Character, Limiter, LimiterOptions};
use mixmaster_io::{AudioReader, AudioWriter, Encoding, FileFormat, WriteSpec};

const BLOCK_FRAMES: usize = 4096;

const USAGE: &str = "usage: limit IN OUT [--drive-db DB] [--ceiling DBTP] \
[--character transparent|punchy|aggressive] [--release-ms MS] [--lookahead-ms MS] [--sample-peak]";

struct Args {
    input: PathBuf,
    output: PathBuf,
    options: LimiterOptions,
}

fn parse_args() -> Result<Args, String> {
    let mut options = LimiterOptions::default();
    let mut paths = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut number = |name: &str| -> Result<f64, String> {
            let v = args.next().ok_or(format!("{name} needs a value"))?;
            v.parse()
                .map_err(|_| format!("{name}: not a number: {v:?}"))
        };
        match arg.as_str() {
            "--drive-db" => options.gain_db = number("--drive-db")?,
            "--ceiling" => options.ceiling_dbtp = number("--ceiling")?,
            "--release-ms" => options.release_ms = number("--release-ms")?,
            "--lookahead-ms" => options.lookahead_ms = number("--lookahead-ms")?,
            "--sample-peak" => options.true_peak = false,
            "--character" => {
                let v = args.next().ok_or("--character needs a value")?;
                options.character = Character::from_name(&v).ok_or(format!(
                    "--character: {v:?} is not transparent, punchy or aggressive"
                ))?;
            }
            "-h" | "--help" => return Err(USAGE.to_string()),
            _ if arg.starts_with('-') => return Err(format!("unknown option {arg}\n{USAGE}")),
            _ => paths.push(PathBuf::from(arg)),
        }
    }
    match <[PathBuf; 2]>::try_from(paths) {
        Ok([input, output]) => Ok(Args {
            input,
            output,
            options,
        }),
        Err(_) => Err(USAGE.to_string()),
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("limit: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn Error>> {
    let args = parse_args()?;
    let mut reader = AudioReader::open(&args.input)?;
    let info = reader.info().clone();
    let mut limiter = Limiter::new(args.options)?;
    limiter.prepare(info.sample_rate_hz, BLOCK_FRAMES, info.channels)?;
    let latency = limiter.latency_frames();
    let spec = WriteSpec {
        sample_rate_hz: info.sample_rate_hz,
        channels: info.channels,
        format: FileFormat::Wav,
        encoding: Encoding::Float32,
    };
    let mut writer = AudioWriter::create(&args.output, spec, &[args.input.as_path()])?;

    let mut buf = AudioBuffer::new(info.channels, BLOCK_FRAMES);
    // Output frames still to drop (the latency), and input frames read.
    let mut skip = latency;
    let mut frames_in = 0usize;
    // Processes `buf` and writes what is left after the dropped frames. The
    // dropped frames go through the limiter as a block of their own (it is
    // block-size invariant), so the statistics can restart exactly at the
    // first kept frame and cover the output that is written.
    let mut step = |buf: &mut AudioBuffer, skip: &mut usize| -> Result<(), Box<dyn Error>> {
        let drop = (*skip).min(buf.frames());
        if drop > 0 {
            let mut head: Vec<&mut [f64]> = buf.planar_mut().map(|c| &mut c[..drop]).collect();
            limiter.process(&mut head);
            *skip -= drop;
            if *skip == 0 {
                limiter.clear_stats();
            }
        }
        let mut tail: Vec<&mut [f64]> = buf.planar_mut().map(|c| &mut c[drop..]).collect();
        if tail.first().is_some_and(|c| !c.is_empty()) {
            limiter.process(&mut tail);
            writer.write(&tail)?;
        }
        Ok(())
    };
    loop {
        let n = reader.read(&mut buf, BLOCK_FRAMES)?;
        if n == 0 {
            break;
        }
        frames_in += n;
        step(&mut buf, &mut skip)?;
    }
    // Flush: `latency` frames of silence bring out the last input frames
    // (all of them when the input was shorter than the latency too).
    let mut flush = latency;
    while flush > 0 {
        let n = flush.min(BLOCK_FRAMES);
        buf.reshape(info.channels, n);
        buf.clear();
        step(&mut buf, &mut skip)?;
        flush -= n;
    }
    let summary = writer.finish()?;
    if summary.frames != frames_in as u64 {
        return Err(format!("wrote {} frames for {frames_in} read", summary.frames).into());
    }
    let o = limiter.options();
    println!(
        "{} -> {}: {} frames, {} Hz, {} ch; drive {:+.2} dB, ceiling {:.2} dB{}, \
         character {:?}, release {} ms, lookahead {} ms, latency {} frames",
        args.input.display(),
        summary.path.display(),
        summary.frames,
        info.sample_rate_hz,
        info.channels,
        o.gain_db,
        o.ceiling_dbtp,
        if o.true_peak { "TP" } else { "FS" },
        o.character,
        o.release_ms,
        o.lookahead_ms,
        latency,
    );
    println!(
        "gain reduction: max {:.3} dB, average {:.3} dB",
        limiter.max_gain_reduction_db(),
        limiter.average_gain_reduction_db()
    );
    Ok(())
}
