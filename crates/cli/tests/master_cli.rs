//! `mixmaster master` and `mixmaster render` as users run them.

mod common;

use common::{demo, mixmaster, temp_dir, text};

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
    demo(&dir, 4);
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
    demo(&dir, 2);
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

#[test]
fn tags_from_the_command_line_reach_wav_flac_and_mp3() {
    let dir = temp_dir("tags");
    demo(&dir, 3);
    let mix = dir.join("mix.wav");
    let mix = mix.to_str().unwrap();
    let tags = [
        "--title",
        "Chapter One",
        "--artist",
        "A. Reader",
        "--album",
        "The Book",
        "--year",
        "2025",
        "--genre",
        "Audiobook",
        "--comment",
        "read aloud",
    ];
    for (ext, isrc, track) in [
        ("flac", Some("gb-aaa-25-00001"), "3/12"),
        ("mp3", Some("GBAAA2500001"), "3/12"),
        ("wav", None, "3"),
    ] {
        let master = dir.join(format!("tagged.{ext}"));
        let mut args = vec!["master", mix, "-o", master.to_str().unwrap()];
        args.extend(["--target", "spotify", "--track", track]);
        args.extend(tags);
        if let Some(i) = isrc {
            args.extend(["--isrc", i]);
        }
        let out = mixmaster(&args);
        assert!(out.status.success(), "{ext}: {}", text(&out));
        let t = mixmaster_io::read_tags(&master).unwrap();
        assert_eq!(t.title.as_deref(), Some("Chapter One"), "{ext}");
        assert_eq!(t.artist.as_deref(), Some("A. Reader"), "{ext}");
        assert_eq!(t.album.as_deref(), Some("The Book"), "{ext}");
        assert_eq!(t.date.as_deref(), Some("2025"), "{ext}");
        assert_eq!(t.genre.as_deref(), Some("Audiobook"), "{ext}");
        assert_eq!(t.comment.as_deref(), Some("read aloud"), "{ext}");
        assert_eq!(t.track_number, Some(3), "{ext}");
        if ext == "wav" {
            assert_eq!(t.isrc, None);
            // The bext chunk is still there, with the loudness.
            let bext = mixmaster_io::read_bext(&master).unwrap().unwrap();
            assert!(bext.loudness.integrated_lufs.is_some());
        } else {
            assert_eq!(t.track_total, Some(12), "{ext}");
            assert_eq!(t.isrc.as_deref(), Some("GBAAA2500001"), "{ext}");
        }
    }
    // Refused before anything is rendered, with the reason.
    let master = dir.join("refused.wav");
    let m = master.to_str().unwrap();
    for (args, says) in [
        (vec!["--isrc", "GBAAA250001"], "CC-XXX-YY-NNNNN"),
        (vec!["--isrc", "GBAAA2500001"], "WAV"),
        (vec!["--track", "3/12"], "track number only"),
        (vec!["--date", "25"], "2025-03-14"),
        (vec!["--track", "0"], "from 1"),
    ] {
        let mut all = vec!["master", mix, "-o", m, "--target", "spotify"];
        all.extend(&args);
        let out = mixmaster(&all);
        assert!(!out.status.success(), "{args:?}");
        assert!(text(&out).contains(says), "{args:?}: {}", text(&out));
        assert!(!master.exists(), "{args:?}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn acx_prints_its_checks_and_logs_them() {
    let dir = temp_dir("acx");
    demo(&dir, 3);
    let master = dir.join("book.mp3");
    let out = mixmaster(&[
        "master",
        dir.join("mix.wav").to_str().unwrap(),
        "-o",
        master.to_str().unwrap(),
        "--target",
        "acx",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let t = text(&out);
    assert!(t.contains("dBFS RMS") && t.contains("ACX checks"), "{t}");
    assert!(
        t.contains("noise floor") && t.contains("tail room tone"),
        "{t}"
    );
    let log: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("book.mp3.json")).unwrap()).unwrap();
    let checks = log["acx"]["checks"].as_array().unwrap();
    let status = |c: &str| {
        checks.iter().find(|x| x["check"] == c).unwrap()["status"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(status("rms"), "pass");
    assert_eq!(status("peak"), "pass");
    assert_eq!(status("format"), "pass");
    assert_eq!(status("sample_rate"), "pass");
    let rms = log["output_figures"]["rms_dbfs"].as_f64().unwrap();
    assert!((rms + 20.0).abs() <= 0.15, "RMS {rms}");
    assert!(log["output_figures"]["sample_peak_dbfs"].as_f64().unwrap() <= -3.0);
    std::fs::remove_dir_all(&dir).ok();
}
