//! FLAC tags: Vorbis comments written through flac-codec, read back by our
//! reader and by the reference tool `metaflac`.

mod common;

use std::process::Command;

use common::{TempDir, random_int_signal, tool_available};
use mixmaster_io::{
    AudioWriter, Encoding, FileFormat, IoError, Metadata, ReplayGain, Tags, WriteOptions,
    WriteSpec, read_all, read_tags,
};

const FRAMES: usize = 12_345;

fn spec() -> WriteSpec {
    WriteSpec {
        sample_rate_hz: 44_100,
        channels: 2,
        format: FileFormat::Flac,
        encoding: Encoding::Pcm16,
    }
}

fn tags() -> Tags {
    Tags {
        title: Some("Midnight Drive".into()),
        artist: Some("The Mixers".into()),
        album: Some("Nuits d'été".into()),
        album_artist: Some("Various".into()),
        track_number: Some(3),
        track_total: Some(12),
        disc_number: Some(1),
        date: Some("2025-03-01".into()),
        genre: Some("Synthpop".into()),
        comment: Some("mastered with mixmaster".into()),
        isrc: Some("gb-aaa-25-00001".into()),
        replay_gain: ReplayGain {
            track_gain_db: Some(-3.9),
            track_peak: Some(0.891_25),
            album_gain_db: Some(-4.25),
            album_peak: Some(0.988_553),
            reference_loudness_lufs: Some(-18.0),
        },
        extra: vec![
            ("LABEL".into(), "Night Records".into()),
            ("Mood".into(), "a=b; c".into()),
        ],
    }
}

fn write(path: &std::path::Path, tags: Tags, signal: &[Vec<f64>]) {
    let options = WriteOptions {
        metadata: Metadata {
            tags,
            ..Metadata::default()
        },
        ..WriteOptions::default()
    };
    let mut w = AudioWriter::create_with(path, spec(), &[], options).unwrap();
    w.write(signal).unwrap();
    w.finish().unwrap();
}

#[test]
fn tags_round_trip_and_audio_stays_exact() {
    let dir = TempDir::new("flac_tags");
    let path = dir.join("t.flac");
    let signal = random_int_signal(2, FRAMES, 16, 21);
    write(&path, tags(), &signal);
    let mut expected = tags();
    expected.isrc = Some("GBAAA2500001".into());
    // Written with two decimals (gains) and six (peaks).
    expected.replay_gain.track_peak = Some(0.891_250);
    assert_eq!(read_tags(&path).unwrap(), expected);
    let (info, decoded) = read_all(&path).unwrap();
    assert_eq!(info.frames, Some(FRAMES as u64));
    assert_eq!(decoded.planar(), signal.as_slice());
}

#[test]
fn untagged_flac_has_no_tags() {
    let dir = TempDir::new("flac_plain");
    let path = dir.join("p.flac");
    write(&path, Tags::default(), &random_int_signal(2, 100, 16, 1));
    assert!(read_tags(&path).unwrap().is_empty());
}

/// The reference tool reads exactly the comments we meant, and `flac -t`
/// still verifies the audio's MD5.
#[test]
fn metaflac_exports_our_tags() {
    if !tool_available("metaflac", "flac") {
        return;
    }
    let dir = TempDir::new("flac_metaflac");
    let path = dir.join("m.flac");
    write(&path, tags(), &random_int_signal(2, FRAMES, 16, 22));
    let out = Command::new("metaflac")
        .arg("--export-tags-to=-")
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        [
            "TITLE=Midnight Drive",
            "ARTIST=The Mixers",
            "ALBUM=Nuits d'été",
            "ALBUMARTIST=Various",
            "TRACKNUMBER=3",
            "TRACKTOTAL=12",
            "DISCNUMBER=1",
            "DATE=2025-03-01",
            "GENRE=Synthpop",
            "COMMENT=mastered with mixmaster",
            "ISRC=GBAAA2500001",
            "REPLAYGAIN_TRACK_GAIN=-3.90 dB",
            "REPLAYGAIN_TRACK_PEAK=0.891250",
            "REPLAYGAIN_ALBUM_GAIN=-4.25 dB",
            "REPLAYGAIN_ALBUM_PEAK=0.988553",
            "REPLAYGAIN_REFERENCE_LOUDNESS=-18.00 LUFS",
            "LABEL=Night Records",
            "Mood=a=b; c",
        ]
    );
    let test = Command::new("flac")
        .args(["-t", "-s"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        test.status.success(),
        "{}",
        String::from_utf8_lossy(&test.stderr)
    );
}

/// Tags written by the reference tool read back through our reader.
#[test]
fn tags_set_by_metaflac_are_read() {
    if !tool_available("metaflac", "flac") {
        return;
    }
    let dir = TempDir::new("flac_metaflac_in");
    let path = dir.join("in.flac");
    write(&path, Tags::default(), &random_int_signal(2, 1000, 16, 23));
    let status = Command::new("metaflac")
        .args([
            "--set-tag=TITLE=Other",
            "--set-tag=TRACKNUMBER=7/9",
            "--set-tag=REPLAYGAIN_TRACK_GAIN=+1.50 dB",
            "--set-tag=CUSTOM=x",
        ])
        .arg(&path)
        .status()
        .unwrap();
    assert!(status.success());
    let t = read_tags(&path).unwrap();
    assert_eq!(t.title.as_deref(), Some("Other"));
    assert_eq!((t.track_number, t.track_total), (Some(7), Some(9)));
    assert_eq!(t.replay_gain.track_gain_db, Some(1.5));
    assert_eq!(t.extra, vec![("CUSTOM".to_string(), "x".to_string())]);
}

#[test]
fn bad_tags_are_refused_before_anything_is_written() {
    let dir = TempDir::new("flac_bad_tags");
    let path = dir.join("b.flac");
    let cases = [
        (
            Tags {
                extra: vec![("A=B".into(), "x".into())],
                ..Tags::default()
            },
            "tag key 'A=B'",
        ),
        (
            Tags {
                extra: vec![("".into(), "x".into())],
                ..Tags::default()
            },
            "tag key ''",
        ),
        (
            Tags {
                isrc: Some("GB-AAA-25".into()),
                ..Tags::default()
            },
            "ISRC",
        ),
        (
            Tags {
                title: Some("a\0b".into()),
                ..Tags::default()
            },
            "NUL",
        ),
        (
            Tags {
                replay_gain: ReplayGain {
                    track_gain_db: Some(f64::NAN),
                    ..ReplayGain::default()
                },
                ..Tags::default()
            },
            "finite",
        ),
    ];
    for (tags, words) in cases {
        let options = WriteOptions {
            metadata: Metadata {
                tags,
                ..Metadata::default()
            },
            ..WriteOptions::default()
        };
        let err = AudioWriter::create_with(&path, spec(), &[], options).unwrap_err();
        assert!(matches!(err, IoError::UnsupportedOutput { .. }), "{err}");
        assert!(err.to_string().contains(words), "'{words}' not in {err}");
        assert!(dir.entries().is_empty());
    }
}
