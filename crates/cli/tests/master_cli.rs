//! `mixmaster master` and `mixmaster render` as users run them.

use std::path::PathBuf;
use std::process::{Command, Output};

fn mixmaster(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mixmaster"))
        .args(args)
        .output()
        .expect("run mixmaster")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("mixmaster-mastercli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn true_peak(file: &str) -> (f64, f64) {
    let out = mixmaster(&["meter", "--json", file]);
    assert!(out.status.success(), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = if v.is_array() { &v[0] } else { &v };
    (
        f["true_peak_dbtp"].as_f64().unwrap(),
        f["integrated_lufs"].as_f64().unwrap(),
    )
}

const CHAIN: &str = r#"
target = "apple-music"
bits = "16"
inserts = [
  { id = "eq", mastering_eq = { phase = "linear", bands = [ { low_shelf = { freq_hz = 100, gain_db = 1.5 } } ], side_bands = [ { high_shelf = { freq_hz = 8000, gain_db = 1.0 } } ] } },
  { id = "mb", multiband = { crossover_hz = [200, 3000], bands = [ { threshold_db = -24 }, { threshold_db = -22 }, { threshold_db = -26 } ] } },
  { id = "width", imager = { mono_below_hz = 120 } },
]
[limiter]
character = "punchy"
"#;

#[test]
fn master_with_a_chain_file_and_render_a_session() {
    let dir = temp_dir("chain");
    let d = dir.to_str().unwrap();
    let out = mixmaster(&["demo", "--seconds", "4", "--out-dir", d]);
    assert!(out.status.success(), "{}", text(&out));
    let chain = dir.join("chain.toml");
    std::fs::write(&chain, CHAIN).unwrap();
    let mix = dir.join("mix.wav");
    let master = dir.join("master.flac");
    let out = mixmaster(&[
        "master",
        mix.to_str().unwrap(),
        "-o",
        master.to_str().unwrap(),
        "--chain",
        chain.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let (tp, lufs) = true_peak(master.to_str().unwrap());
    assert!(tp <= -1.0, "true peak {tp}");
    assert!((lufs + 16.0).abs() <= 0.1, "integrated {lufs}");
    assert!(dir.join("master.flac.json").exists());

    // Mix then master to MP3: checked after encode → decode.
    let mp3 = dir.join("song.mp3");
    let session = dir.join("session.toml");
    let out = mixmaster(&[
        "render",
        session.to_str().unwrap(),
        "-o",
        mp3.to_str().unwrap(),
        "--target",
        "spotify",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let (tp, lufs) = true_peak(mp3.to_str().unwrap());
    assert!(tp <= -1.0, "MP3 true peak {tp}");
    assert!((lufs + 14.0).abs() <= 0.15, "MP3 integrated {lufs}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_bad_chain_file_names_file_and_line_and_writes_nothing() {
    let dir = temp_dir("bad");
    let d = dir.to_str().unwrap();
    let out = mixmaster(&["demo", "--seconds", "2", "--out-dir", d]);
    assert!(out.status.success(), "{}", text(&out));
    let chain = dir.join("chain.toml");
    std::fs::write(&chain, "target = \"spotify\"\nceilin_dbtp = -1\n").unwrap();
    let master = dir.join("m.wav");
    let out = mixmaster(&[
        "master",
        dir.join("mix.wav").to_str().unwrap(),
        "-o",
        master.to_str().unwrap(),
        "--chain",
        chain.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let t = text(&out);
    assert!(
        t.contains("chain.toml:2") && t.contains("ceilin_dbtp"),
        "{t}"
    );
    assert!(!master.exists());
    let out = mixmaster(&[
        "master",
        dir.join("mix.wav").to_str().unwrap(),
        "-o",
        master.to_str().unwrap(),
        "--target",
        "spotfy",
    ]);
    assert!(!out.status.success());
    assert!(text(&out).contains("spotify"), "{}", text(&out));
    assert!(!master.exists());
    std::fs::remove_dir_all(&dir).ok();
}
