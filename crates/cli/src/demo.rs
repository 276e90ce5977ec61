//! `mixmaster demo`: a song end to end with nothing to download. Six stems
//! (kick, snare, hats, bass, pad, lead) are generated in code and written as
//! 24-bit WAV files, a session file that mixes them is written beside them
//! (EQ, filters, compression with a sidechain duck, saturation, gate, delay,
//! a reverb bus, automation), the session is rendered, and the mix is
//! mastered for Spotify (−14 LUFS, −1 dBTP), metered, and reported on
//! (`report.html`: plots and translation checks, the master against the mix).

use std::fs;
use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use mixmaster_core::{AudioBuffer, Processor};
use mixmaster_dsp::{Dither, DitherOptions};
use mixmaster_engine::demo_song::{DemoSong, STEMS};
use mixmaster_engine::master::{MasterSettings, master_file};
use mixmaster_engine::{RenderOptions, render_to_file};
use mixmaster_io::{AudioWriter, Encoding, FileFormat, WriteSpec};
use mixmaster_session::{LoadedSession, MasteringSpec};

use crate::format;
use crate::meter_cmd::{self, MeterArgs};
use crate::report_cmd;
use mixmaster_report::Inputs;

const RATE_HZ: u32 = 48_000;
const BLOCK_FRAMES: usize = 8192;

/// The session that mixes the stems (see docs/session-format.md).
const SESSION: &str = r#"# The mixmaster demo song: six generated stems, mixed.
[project]
name = "mixmaster demo"
sample_rate_hz = 48000
tempo_bpm = 120
time_signature = [4, 4]

[[track]]
name = "Kick"
source = "stems/kick.wav"
gain_db = -3
bus = "Drums"
inserts = [
  { id = "hp", hpf = { freq_hz = 30, slope_db_oct = 24 } },
  { id = "eq", eq = { bands = [ { bell = { freq_hz = 60, gain_db = 3, q = 1.2 } }, { bell = { freq_hz = 350, gain_db = -4, q = 1.5 } } ] } },
]

[[track]]
name = "Snare"
source = "stems/snare.wav"
gain_db = -4
bus = "Drums"
inserts = [
  { id = "hp", hpf = { freq_hz = 90, slope_db_oct = 12 } },
  { id = "gate", gate = { threshold_db = -36, range_db = -24, hold_ms = 30, release_ms = 80 } },
]
sends = [ { bus = "Room", level_db = -12 } ]

[[track]]
name = "Hats"
source = "stems/hats.wav"
gain_db = -8
pan = 0.35
bus = "Drums"
inserts = [ { id = "hp", hpf = { freq_hz = 400, slope_db_oct = 12 } } ]

[[track]]
name = "Bass"
source = "stems/bass.wav"
gain_db = -4
inserts = [
  { id = "duck", compressor = { threshold_db = -30, ratio = 4, attack_ms = 2, release_ms = 120, sidechain = "Kick" } },
  { id = "warm", saturation = { character = "tape", drive_db = 6, output_db = -5, mix = 0.6 } },
]

[[track]]
name = "Pad"
source = "stems/pad.wav"
gain_db = -8
width = 1.3
inserts = [
  { id = "hp", hpf = { freq_hz = 150, slope_db_oct = 12 } },
  { id = "tone", eq = { bands = [ { high_shelf = { freq_hz = 6000, gain_db = -3 } } ] } },
]
sends = [ { bus = "Room", level_db = -9 } ]
automation = [ { param = "gain_db", points = [ [0, -30], ["3|1", -8, "s-curve"] ] } ]

[[track]]
name = "Lead"
source = "stems/lead.wav"
gain_db = -6
pan = -0.15
inserts = [
  { id = "hp", hpf = { freq_hz = 200, slope_db_oct = 12 } },
  { id = "comp", compressor = { threshold_db = -26, ratio = 3, attack_ms = 5, release_ms = 80, knee_db = 6 } },
  { id = "echo", delay = { note = "1/8.", feedback = 0.35, mix = 0.2, lowpass_hz = 5000 } },
]
sends = [ { bus = "Room", level_db = -8 } ]

[[bus]]
name = "Drums"
inserts = [ { id = "glue", compressor = { threshold_db = -20, ratio = 2, attack_ms = 10, release_ms = 150, knee_db = 6 } } ]

[[bus]]
name = "Room"
inserts = [ { id = "verb", reverb = { size = 0.6, decay_s = 1.6, predelay_ms = 20, damping = 0.4, mix = 1.0 } } ]

[master]
gain_db = 0
inserts = [ { id = "tilt", eq = { bands = [ { tilt = { pivot_hz = 1000, gain_db = 1 } } ] } } ]
"#;

pub fn run(out_dir: &Path, seconds: f64) -> Result<ExitCode> {
    if !(1.0..=3600.0).contains(&seconds) {
        bail!("--seconds {seconds} is out of range: expected 1 ..= 3600");
    }
    let stems_dir = out_dir.join("stems");
    fs::create_dir_all(&stems_dir)
        .with_context(|| format!("{}: cannot create the output folder", stems_dir.display()))?;
    write_stems(&stems_dir, seconds)?;
    let session_path = out_dir.join("session.toml");
    fs::write(&session_path, SESSION)
        .with_context(|| format!("{}: cannot write the session", session_path.display()))?;
    say!(
        "Generated six stems ({seconds} s at 48 kHz) in {} and the session {}.",
        stems_dir.display(),
        session_path.display()
    );

    let loaded = LoadedSession::load(&session_path)?;
    let mix = out_dir.join("mix.wav");
    let options = RenderOptions {
        output: mix.clone(),
        format: FileFormat::Wav,
        encoding: Encoding::Float32,
        threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        stems_dir: None,
    };
    let quiet = !std::io::stderr().is_terminal();
    let summary = render_to_file(&loaded, &options, |done, total| {
        if !quiet && total > 0 {
            eprint!("\rmixing {:>3}%", done * 100 / total);
        }
    })?;
    if !quiet {
        eprint!("\r             \r");
    }
    say!(
        "Mixed to {} ({}) at {:.0}x real time.\n",
        summary.output.display(),
        format::duration(summary.frames as f64 / f64::from(summary.sample_rate_hz)),
        summary.speed_x_realtime
    );
    // Master the mix for Spotify (default chain, −14 LUFS, −1 dBTP) and
    // meter the master with the platform preview.
    let master = out_dir.join("master-spotify.wav");
    let settings = MasterSettings::from_spec(
        &MasteringSpec {
            target: Some("spotify".into()),
            // A very short demo (`--seconds 1`) is mostly reverb tail and
            // needs about 13 dB of limiting to reach −14 LUFS: allow it, so
            // the demo always finishes (the default refuses above 12 dB).
            max_limiter_reduction_db: Some(18.0),
            ..MasteringSpec::default()
        },
        FileFormat::Wav,
        out_dir,
    )?;
    let mastered = master_file(
        &mix,
        &master,
        &settings,
        FileFormat::Wav,
        |_, done, total| {
            if !quiet && total > 0 {
                eprint!("\rmastering {:>3}%", done * 100 / total);
            }
        },
    )?;
    if !quiet {
        eprint!("\r                \r");
    }
    crate::master_cmd::print_summary(&mastered)?;
    say!("");
    let code = meter_cmd::run(&MeterArgs {
        files: vec![master.clone()],
        json: false,
        target: Some("spotify".into()),
        dual_mono: false,
        oversampling: 4,
        series: false,
        spectrum: false,
    })?;
    // The report: the master against the mix, with the translation checks.
    say!("");
    let html = out_dir.join("report.html");
    let report = report_cmd::write(
        &Inputs {
            file: master.clone(),
            before: Some(mix.clone()),
            ceiling_dbtp: mastered.ceiling_dbtp,
            target_lufs: mastered.target_lufs,
            ..Inputs::default()
        },
        &html,
        None,
    )?;
    say!("Translation checks of {}:", master.display());
    report_cmd::print_checks(&report, &html)?;
    say!("Open {} in a browser to see the plots.", html.display());
    Ok(code)
}

/// Writes the stems block by block (memory does not grow with length),
/// dithered to 24 bit as a recorder would deliver them.
fn write_stems(dir: &Path, seconds: f64) -> Result<()> {
    let mut song = DemoSong::new(RATE_HZ, seconds);
    let mut writers = Vec::new();
    let mut dithers = Vec::new();
    for (name, channels) in STEMS {
        let spec = WriteSpec {
            sample_rate_hz: RATE_HZ,
            channels,
            format: FileFormat::Wav,
            encoding: Encoding::Pcm24,
        };
        writers.push(AudioWriter::create(
            &dir.join(format!("{name}.wav")),
            spec,
            &[],
        )?);
        let mut d = Dither::new(DitherOptions {
            bits: 24,
            ..DitherOptions::default()
        })?;
        d.prepare(RATE_HZ, BLOCK_FRAMES, channels)?;
        dithers.push(d);
    }
    let mut blocks: Vec<AudioBuffer> = STEMS.iter().map(|(_, c)| AudioBuffer::new(*c, 0)).collect();
    while song.fill(&mut blocks, BLOCK_FRAMES) > 0 {
        for ((w, d), b) in writers.iter_mut().zip(&mut dithers).zip(&mut blocks) {
            let mut planar: Vec<&mut [f64]> = b.planar_mut().collect();
            d.process(&mut planar);
            w.write(b.planar())?;
        }
    }
    for w in writers {
        w.finish()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_have_their_channels_and_stay_below_full_scale() {
        let mut stems: Vec<AudioBuffer> = STEMS.iter().map(|_| AudioBuffer::default()).collect();
        let mut song = DemoSong::new(48_000, 4.0);
        assert_eq!(song.fill(&mut stems, 1 << 20), 192_000);
        assert_eq!(song.fill(&mut stems, 1 << 20), 0);
        song = DemoSong::new(48_000, 4.0);
        song.fill(&mut stems, 1 << 20);
        for (b, (name, channels)) in stems.iter().zip(STEMS) {
            assert_eq!(b.channels(), channels, "{name}");
            let peak = b
                .planar()
                .iter()
                .flatten()
                .fold(0.0f64, |a, &x| a.max(x.abs()));
            assert!(peak > 0.05 && peak < 1.0, "{name}: peak {peak}");
        }
    }

    #[test]
    fn the_session_is_valid() {
        let loaded = LoadedSession::from_toml_str(SESSION, Path::new("demo/session.toml"));
        assert!(loaded.is_ok(), "{:?}", loaded.err());
    }
}
