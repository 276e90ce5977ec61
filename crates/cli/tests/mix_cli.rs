//! `mixmaster demo` and `mixmaster mix` as users run them.

mod common;

use common::{demo, mixmaster, temp_dir, text};

#[test]
fn demo_then_mix_the_demo_session_in_every_format() {
    let dir = temp_dir("demo");
    let t = demo(&dir, 3);
    assert!(t.contains("Integrated") && t.contains("mix.wav"), "{t}");
    let session = dir.join("session.toml");
    for (file, bits) in [("m16.flac", "16"), ("m24.wav", "24"), ("m32.wav", "32f")] {
        let o = dir.join(file);
        let out = mixmaster(&[
            "mix",
            session.to_str().unwrap(),
            "-o",
            o.to_str().unwrap(),
            "--bits",
            bits,
            "--threads",
            "2",
        ]);
        assert!(out.status.success(), "{}", text(&out));
        assert!(text(&out).contains("integrated"), "{}", text(&out));
        assert!(o.exists());
    }
    let stems = dir.join("stems-out");
    let out = mixmaster(&[
        "mix",
        session.to_str().unwrap(),
        "-o",
        dir.join("s.wav").to_str().unwrap(),
        "--stems",
        stems.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    for name in ["Kick", "Bass", "Drums", "Room"] {
        assert!(stems.join(format!("{name}.wav")).exists(), "stem {name}");
    }
}

#[test]
fn mix_refuses_to_overwrite_a_source_and_reports_session_mistakes() {
    let dir = temp_dir("bad");
    demo(&dir, 1);
    let session = dir.join("session.toml");
    let kick = dir.join("stems/kick.wav");
    let before = std::fs::read(&kick).unwrap();
    let out = mixmaster(&[
        "mix",
        session.to_str().unwrap(),
        "-o",
        kick.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(text(&out).contains("kick.wav"), "{}", text(&out));
    assert_eq!(
        std::fs::read(&kick).unwrap(),
        before,
        "the source was touched"
    );

    let broken = std::fs::read_to_string(&session)
        .unwrap()
        .replace("release_ms = 120", "relase_ms = 120");
    let bad = dir.join("bad.toml");
    std::fs::write(&bad, broken).unwrap();
    let target = dir.join("never.wav");
    let out = mixmaster(&["mix", bad.to_str().unwrap(), "-o", target.to_str().unwrap()]);
    assert!(!out.status.success());
    let t = text(&out);
    assert!(
        t.contains("bad.toml:") && t.contains("relase_ms") && t.contains("release_ms"),
        "{t}"
    );
    assert!(!target.exists(), "no output on failure");
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}
