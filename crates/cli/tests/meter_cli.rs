//! The `mixmaster meter` command as users run it: JSON keys, tables, bad
//! input, silence, non-finite samples and platform previews.

mod common;

use std::path::Path;
use std::process::Output;

use common::{mixmaster, temp_dir};

use mixmaster_io::{AudioWriter, Encoding, FileFormat, WriteSpec};
use serde_json::Value;

/// A stereo 1 kHz sine at `peak_dbfs` per channel, `seconds` long, as 24-bit WAV.
fn write_tone(path: &Path, peak_dbfs: f64, seconds: f64, rate: u32) {
    let amp = 10f64.powf(peak_dbfs / 20.0);
    let n = (seconds * f64::from(rate)) as usize;
    let ch: Vec<f64> = (0..n)
        .map(|i| amp * (std::f64::consts::TAU * 1000.0 * i as f64 / f64::from(rate)).sin())
        .collect();
    let spec = WriteSpec {
        sample_rate_hz: rate,
        channels: 2,
        format: FileFormat::Wav,
        encoding: Encoding::Pcm24,
    };
    let mut w = AudioWriter::create(path, spec, &[]).unwrap();
    w.write(&[ch.clone(), ch]).unwrap();
    w.finish().unwrap();
}

/// A mono 32-bit float WAV from raw samples (may hold NaN: our writer refuses them).
fn write_raw_float_wav(path: &Path, samples: &[f32], rate: u32) {
    let data_len = (samples.len() * 4) as u32;
    let mut b = Vec::new();
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&(36 + data_len).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&16u32.to_le_bytes());
    b.extend_from_slice(&3u16.to_le_bytes()); // WAVE_FORMAT_IEEE_FLOAT
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&rate.to_le_bytes());
    b.extend_from_slice(&(rate * 4).to_le_bytes());
    b.extend_from_slice(&4u16.to_le_bytes());
    b.extend_from_slice(&32u16.to_le_bytes());
    b.extend_from_slice(b"data");
    b.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        b.extend_from_slice(&s.to_le_bytes());
    }
    std::fs::write(path, b).unwrap();
}

fn json_rows(out: &Output) -> Vec<Value> {
    let text = String::from_utf8_lossy(&out.stdout);
    match serde_json::from_str(&text) {
        Ok(Value::Array(rows)) => rows,
        other => panic!("not a JSON array: {other:?}\n{text}"),
    }
}

#[test]
fn json_has_the_stable_keys_and_the_right_figures() {
    let dir = temp_dir("json");
    let tone = dir.join("tone.wav");
    write_tone(&tone, -23.0, 5.0, 48_000);
    let out = mixmaster(&["meter", "--json", tone.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows = json_rows(&out);
    assert_eq!(rows.len(), 1);
    let r = &rows[0];
    for key in [
        "file",
        "integrated_lufs",
        "lra_lu",
        "true_peak_dbtp",
        "sample_peak_dbfs",
        "momentary_max_lufs",
        "short_term_max_lufs",
        "plr_db",
        "rms_dbfs",
        "correlation",
        "duration_s",
        "sample_rate",
        "channels",
    ] {
        assert!(r.get(key).is_some(), "missing key {key}: {r}");
    }
    let f = |k: &str| r[k].as_f64().unwrap();
    // EBU Tech 3341 case 1: the 1 kHz tone at -23 dBFS reads -22.99 LUFS.
    assert!((f("integrated_lufs") + 23.0).abs() < 0.05, "{r}");
    assert!((f("sample_peak_dbfs") + 23.0).abs() < 0.01);
    assert!((f("rms_dbfs") + 26.01).abs() < 0.01);
    assert!((f("correlation") - 1.0).abs() < 1e-9);
    assert_eq!(f("duration_s"), 5.0);
    assert_eq!(r["sample_rate"], 48_000);
    assert_eq!(r["channels"], 2);
}

#[test]
fn bad_files_fail_by_name_while_good_ones_are_measured() {
    let dir = temp_dir("bad");
    let good = dir.join("good.wav");
    write_tone(&good, -20.0, 1.0, 44_100);
    let empty = dir.join("empty.wav");
    std::fs::write(&empty, b"").unwrap();
    let garbage = dir.join("garbage.flac");
    std::fs::write(&garbage, b"this is not audio at all, just text").unwrap();
    let truncated = dir.join("cut.wav");
    let bytes = std::fs::read(&good).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let missing = dir.join("missing.wav");
    let paths = [&missing, &empty, &good, &garbage, &truncated, &dir];
    let args: Vec<&str> = std::iter::once("meter")
        .chain(std::iter::once("--json"))
        .chain(paths.iter().map(|p| p.to_str().unwrap()))
        .collect();
    let out = mixmaster(&args);
    assert!(!out.status.success());
    let rows = json_rows(&out);
    assert_eq!(rows.len(), paths.len());
    for (row, path) in rows.iter().zip(paths) {
        let name = path.file_name().unwrap().to_str().unwrap();
        if path == &good {
            assert!(row.get("error").is_none(), "{row}");
            assert!(row["integrated_lufs"].is_number());
        } else {
            let err = row["error"]
                .as_str()
                .unwrap_or_else(|| panic!("no error for {name}: {row}"));
            assert!(err.contains(name), "error does not name {name}: {err}");
        }
    }
    // The table form reports errors on stderr, naming each file.
    let out = mixmaster(&["meter", empty.to_str().unwrap(), good.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("empty.wav"));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Integrated"));
}

#[test]
fn silence_is_minus_infinity_never_nan() {
    let dir = temp_dir("silence");
    let silent = dir.join("silent.wav");
    write_tone(&silent, f64::NEG_INFINITY, 4.0, 48_000);
    let out = mixmaster(&["meter", "--json", silent.to_str().unwrap()]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("NaN"), "{text}");
    let r = &json_rows(&out)[0];
    for key in [
        "integrated_lufs",
        "true_peak_dbtp",
        "sample_peak_dbfs",
        "rms_dbfs",
        "correlation",
        "plr_db",
    ] {
        assert!(r[key].is_null(), "{key} should be null for silence: {r}");
    }
    let table = mixmaster(&["meter", silent.to_str().unwrap()]);
    let table = String::from_utf8_lossy(&table.stdout);
    assert!(table.contains("-inf") && !table.contains("NaN"), "{table}");
}

#[test]
fn non_finite_samples_are_reported_with_their_position() {
    let dir = temp_dir("nan");
    let path = dir.join("nan.wav");
    let mut samples = vec![0.1f32; 48_000];
    samples[12_345] = f32::NAN;
    samples[20_000] = f32::INFINITY;
    write_raw_float_wav(&path, &samples, 48_000);
    let out = mixmaster(&["meter", "--json", path.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = json_rows(&out)[0]["error"].as_str().unwrap().to_string();
    assert!(
        err.contains("nan.wav") && err.contains("frame 12345") && err.contains("2 non-finite"),
        "{err}"
    );
}

#[test]
fn target_preview_follows_the_platform_policy() {
    let dir = temp_dir("target");
    let quiet = dir.join("quiet.wav");
    write_tone(&quiet, -26.0, 4.0, 48_000);
    let out = mixmaster(&[
        "meter",
        "--json",
        "--target",
        "spotify",
        quiet.to_str().unwrap(),
    ]);
    let r = &json_rows(&out)[0];
    // -26 LUFS with a -26 dBTP peak: Spotify raises the full 12 dB to -14.
    let gain = r["target"]["gain_db"].as_f64().unwrap();
    assert!((gain - (-14.0 - r["integrated_lufs"].as_f64().unwrap())).abs() < 1e-9);
    let out = mixmaster(&[
        "meter",
        "--json",
        "--target",
        "youtube",
        quiet.to_str().unwrap(),
    ]);
    assert_eq!(json_rows(&out)[0]["target"]["gain_db"].as_f64(), Some(0.0));
    let out = mixmaster(&["meter", "--target", "spotfy", quiet.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("spotify"));
}

#[test]
fn mono_is_bs1770_by_default_and_dual_mono_on_request() {
    let dir = temp_dir("mono");
    let path = dir.join("mono.wav");
    let samples: Vec<f32> = (0..48_000 * 3)
        .map(|i| 0.1 * (std::f32::consts::TAU * 1000.0 * i as f32 / 48_000.0).sin())
        .collect();
    write_raw_float_wav(&path, &samples, 48_000);
    let i = |args: &[&str]| {
        json_rows(&mixmaster(args))[0]["integrated_lufs"]
            .as_f64()
            .unwrap()
    };
    let p = path.to_str().unwrap();
    let single = i(&["meter", "--json", p]);
    let dual = i(&["meter", "--json", "--dual-mono", p]);
    assert!((dual - single - 3.0103).abs() < 0.001, "{single} vs {dual}");
}
