//! `mixmaster init` as users run it: the table, the session written next
//! to the stems, `--tempo`, refusing to overwrite, and bad folders.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{mixmaster, temp_dir};

use mixmaster_io::{AudioWriter, Encoding, FileFormat, WriteSpec};

/// A mono 24-bit WAV of `f(t)` for `seconds`.
fn write(path: &Path, rate: u32, seconds: f64, f: impl Fn(f64) -> f64) {
    let n = (seconds * f64::from(rate)) as usize;
    let ch: Vec<f64> = (0..n).map(|i| f(i as f64 / f64::from(rate))).collect();
    let spec = WriteSpec {
        sample_rate_hz: rate,
        channels: 1,
        format: FileFormat::Wav,
        encoding: Encoding::Pcm24,
    };
    let mut w = AudioWriter::create(path, spec, &[]).unwrap();
    w.write(&[ch]).unwrap();
    w.finish().unwrap();
}

fn stems(dir: &Path) -> PathBuf {
    use std::f64::consts::TAU;
    let stems = dir.join("stems");
    std::fs::create_dir_all(&stems).unwrap();
    // Kick: decaying 55 Hz thumps on the beat at −6 dBFS.
    write(&stems.join("01_kick.wav"), 48_000, 4.0, |t| {
        let local = t % 0.5;
        0.5 * (TAU * 55.0 * local).sin() * (-local / 0.1).exp()
    });
    // Bass: a 55 Hz tone with harmonics, −20 dBFS.
    write(&stems.join("02_bass.wav"), 44_100, 4.0, |t| {
        0.1 * ((TAU * 55.0 * t).sin() + 0.5 * (TAU * 110.0 * t).sin())
    });
    // Guitar pair at −30 dBFS.
    for (name, f) in [("gtr_L.wav", 196.0), ("gtr_R.wav", 197.0)] {
        write(&stems.join(name), 48_000, 4.0, move |t| {
            0.03 * ((TAU * f * t).sin() + 0.3 * (TAU * 3.0 * f * t).sin())
        });
    }
    std::fs::write(stems.join("notes.txt"), "lyrics").unwrap();
    stems
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn init_writes_a_session_and_prints_the_table() {
    let dir = temp_dir("table");
    let stems = stems(&dir);
    let session = dir.join("song.toml");
    let out = mixmaster(&[
        "init",
        stems.to_str().unwrap(),
        "-o",
        session.to_str().unwrap(),
        "--tempo",
        "96",
        "--threads",
        "2",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    for needle in [
        "track",
        "file",
        "group",
        "measured",
        "gain",
        "pan",
        "high-pass",
        "Kick",
        "Bass",
        "Gtr L",
        "Gtr R",
        "stems/gtr_L.wav",
        "Guitars",
        "L80",
        "R80",
        "90 Hz 12 dB/oct",
        "Rough mix:",
        "LUFS",
        "sample peak",
        "Wrote",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
    assert!(stderr(&out).contains("notes.txt"), "{}", stderr(&out));
    let written = std::fs::read_to_string(&session).unwrap();
    assert!(written.contains("tempo_bpm = 96"), "{written}");
    assert!(
        written.contains("source = \"stems/01_kick.wav\""),
        "{written}"
    );

    // The session renders with `mix` as it is.
    let mix = dir.join("mix.wav");
    let out = mixmaster(&[
        "mix",
        session.to_str().unwrap(),
        "-o",
        mix.to_str().unwrap(),
        "--threads",
        "2",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = mixmaster(&["meter", "--json", mix.to_str().unwrap()]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let lufs = report[0]["integrated_lufs"].as_f64().unwrap();
    let peak = report[0]["sample_peak_dbfs"].as_f64().unwrap();
    assert!((-24.0..=-14.0).contains(&lufs), "{lufs}");
    assert!(peak <= -1.0, "{peak}");

    // A second init refuses to overwrite, and --force replaces it.
    let again = mixmaster(&[
        "init",
        stems.to_str().unwrap(),
        "-o",
        session.to_str().unwrap(),
    ]);
    assert!(!again.status.success());
    assert!(
        stderr(&again).contains("already exists"),
        "{}",
        stderr(&again)
    );
    assert!(stderr(&again).contains("song.toml"), "{}", stderr(&again));
    let forced = mixmaster(&[
        "init",
        stems.to_str().unwrap(),
        "-o",
        session.to_str().unwrap(),
        "--force",
    ]);
    assert!(forced.status.success(), "{}", stderr(&forced));
    assert!(
        std::fs::read_to_string(&session)
            .unwrap()
            .contains("tempo_bpm = 120")
    );
}

#[test]
fn bad_folders_fail_with_their_path() {
    let dir = temp_dir("bad");
    let session = dir.join("s.toml");
    let missing = dir.join("nope");
    let out = mixmaster(&[
        "init",
        missing.to_str().unwrap(),
        "-o",
        session.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("nope") && err.contains("not found"), "{err}");

    let no_audio = dir.join("docs");
    std::fs::create_dir_all(&no_audio).unwrap();
    std::fs::write(no_audio.join("a.txt"), "x").unwrap();
    let out = mixmaster(&[
        "init",
        no_audio.to_str().unwrap(),
        "-o",
        session.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("docs") && err.contains("no audio files"),
        "{err}"
    );

    let out = mixmaster(&[
        "init",
        no_audio.to_str().unwrap(),
        "-o",
        session.to_str().unwrap(),
        "--tempo",
        "1000",
    ]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("tempo"), "{}", stderr(&out));
    assert!(!session.exists());
}
