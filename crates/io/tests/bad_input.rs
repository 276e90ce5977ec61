//! Bad inputs give an error that names the file and the problem; never a
//! panic.

mod common;

use common::{TempDir, fixture, random_int_signal};
use mixmaster_io::{AudioReader, AudioWriter, Encoding, FileFormat, IoError, WriteSpec, read_all};
use std::path::Path;

/// Asserts the error's message starts with the path and contains `words`.
fn assert_names_file(err: &IoError, path: &Path, words: &str) {
    let msg = err.to_string();
    assert!(
        msg.starts_with(&format!("{}: ", path.display())),
        "message does not start with the file: {msg}"
    );
    assert!(msg.contains(words), "message lacks '{words}': {msg}");
    assert_eq!(err.path(), Some(path));
}

fn write_valid(path: &Path, format: FileFormat, frames: usize) {
    let spec = WriteSpec {
        sample_rate_hz: 48_000,
        channels: 2,
        format,
        encoding: Encoding::Pcm16,
    };
    let mut w = AudioWriter::create(path, spec, &[]).unwrap();
    w.write(&random_int_signal(2, frames, 16, 1)).unwrap();
    w.finish().unwrap();
}

#[test]
fn missing_file() {
    let dir = TempDir::new("missing");
    let path = dir.join("nope.wav");
    let err = AudioReader::open(&path).unwrap_err();
    assert!(matches!(err, IoError::NotFound { .. }));
    assert_names_file(&err, &path, "file not found");
}

#[test]
fn empty_file() {
    let dir = TempDir::new("empty");
    let path = dir.join("song.wav");
    std::fs::write(&path, b"").unwrap();
    let err = AudioReader::open(&path).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("{}: file is empty (0 bytes)", path.display())
    );
}

#[test]
fn directory() {
    let dir = TempDir::new("dir");
    let err = AudioReader::open(dir.path()).unwrap_err();
    assert!(matches!(err, IoError::IsDirectory { .. }));
    assert_names_file(&err, dir.path(), "is a directory");
}

#[test]
fn garbage_bytes() {
    let dir = TempDir::new("garbage");
    for (name, bytes) in [
        (
            "x.xyz",
            b"this is not audio at all, just some text.\n".repeat(50),
        ),
        ("noise.wav", {
            let mut rng = common::Rng::new(42);
            (0..20_000)
                .map(|_| (rng.next_u64() & 0x7F) as u8)
                .collect::<Vec<u8>>()
        }),
        ("tiny.flac", b"fLaC".to_vec()),
        ("zeros.mp3", vec![0u8; 4096]),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, &bytes).unwrap();
        let err = read_all(&path).unwrap_err();
        assert_names_file(&err, &path, "");
        assert!(
            matches!(err, IoError::Unsupported { .. } | IoError::Malformed { .. }),
            "{name}: {err}"
        );
        if name == "x.xyz" {
            assert_names_file(&err, &path, "unsupported or unrecognised audio format");
        }
    }
}

#[test]
fn riff_but_broken_headers() {
    let dir = TempDir::new("riff");
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "short.wav",
            b"RIFF\x10\x00\x00\x00WAVE".to_vec(),
            "ends before",
        ),
        (
            "nofmt.wav",
            b"RIFF\x10\x00\x00\x00WAVEdata\x04\x00\x00\x00\x00\x00\x00\x00".to_vec(),
            "before the fmt",
        ),
        (
            "zero_channels.wav",
            {
                let mut v =
                    b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x00\x00".to_vec();
                v.extend_from_slice(&[0x44, 0xAC, 0, 0, 0, 0, 0, 0, 4, 0, 16, 0]);
                v
            },
            "0 channels",
        ),
    ];
    for (name, bytes, words) in cases {
        let path = dir.join(name);
        std::fs::write(&path, &bytes).unwrap();
        let err = AudioReader::open(&path).unwrap_err();
        assert_names_file(&err, &path, words);
    }
}

#[test]
fn truncated_wav_cut_in_half() {
    let dir = TempDir::new("cutwav");
    let path = dir.join("cut.wav");
    write_valid(&path, FileFormat::Wav, 48_000);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let err = AudioReader::open(&path).unwrap_err();
    match err {
        IoError::Truncated {
            expected_frames,
            actual_frames,
            ..
        } => {
            assert_eq!(expected_frames, 48_000);
            assert!((23_900..24_000).contains(&actual_frames), "{actual_frames}");
        }
        ref other => panic!("{other}"),
    }
    assert_names_file(
        &err,
        &path,
        "truncated: header promises 48000 frames, file ends after",
    );
}

#[test]
fn truncated_flac_cut_in_half() {
    let dir = TempDir::new("cutflac");
    let path = dir.join("cut.flac");
    write_valid(&path, FileFormat::Flac, 48_000);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    // Opening may succeed (the header is intact); reading to the end must fail.
    let err = read_all(&path).unwrap_err();
    assert!(
        matches!(
            err,
            IoError::Truncated {
                expected_frames: 48_000,
                ..
            }
        ),
        "{err}"
    );
    assert_names_file(&err, &path, "truncated: header promises 48000 frames");
}

#[test]
fn truncated_lossy_files_do_not_panic() {
    let dir = TempDir::new("cutlossy");
    for name in [
        "tone.mp3",
        "tone.ogg",
        "tone_aac.m4a",
        "tone_alac.m4a",
        "tone.aiff",
    ] {
        let bytes = std::fs::read(fixture(name)).unwrap();
        for fraction in [0.03, 0.5, 0.97] {
            let path = dir.join(name);
            std::fs::write(&path, &bytes[..(bytes.len() as f64 * fraction) as usize]).unwrap();
            // Error or a shorter decode, never a panic; errors name the file.
            if let Err(err) = read_all(&path) {
                assert_names_file(&err, &path, "");
            }
        }
    }
    // Files whose length is declared up front must report the shortfall.
    for name in ["tone.mp3", "tone_alac.m4a", "tone.aiff"] {
        let bytes = std::fs::read(fixture(name)).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
        let err = read_all(&path).unwrap_err();
        assert!(
            matches!(
                err,
                IoError::Truncated { .. } | IoError::Decode { .. } | IoError::Malformed { .. }
            ),
            "{name}: {err}"
        );
        println!("{err}");
        assert_names_file(&err, &path, "");
    }
}

#[test]
fn corrupted_flac_frame_is_an_error_naming_the_frame() {
    let dir = TempDir::new("corrupt");
    let path = dir.join("bad.flac");
    write_valid(&path, FileFormat::Flac, 48_000);
    let mut bytes = std::fs::read(&path).unwrap();
    let mid = bytes.len() / 2;
    for b in &mut bytes[mid..mid + 64] {
        *b ^= 0x5A;
    }
    std::fs::write(&path, &bytes).unwrap();
    match read_all(&path) {
        Err(err) => assert_names_file(&err, &path, ""),
        Ok((_, buf)) => panic!(
            "corrupt FLAC decoded to {} frames without error",
            buf.frames()
        ),
    }
}
