//! MP3 through LAME: gapless (the LAME tag makes every decoder that reads
//! it return exactly the frames written), time-aligned, tagged with ID3v2,
//! atomic, and refusing what MPEG-1 Layer III cannot hold.
#![cfg(feature = "mp3")]

mod common;

use std::f64::consts::PI;
use std::path::Path;
use std::process::Command;

use common::{TempDir, blackman_harris7, db, sine, tool_available};
use mixmaster_io::{
    AudioWriter, BextInfo, Encoding, FileFormat, IoError, Metadata, Mp3Mode, Mp3Options,
    ReplayGain, SampleFormat, Tags, WriteOptions, WriteSpec, read_all, read_tags,
};

/// Not a multiple of the 1152-frame MPEG-1 granule pair.
const FRAMES: usize = 12_345;
const TONE_HZ: f64 = 1000.0;

fn spec(rate: u32, channels: usize) -> WriteSpec {
    WriteSpec {
        sample_rate_hz: rate,
        channels,
        format: FileFormat::Mp3,
        encoding: Encoding::Pcm16,
    }
}

fn options(mode: Mp3Mode, tags: Tags) -> WriteOptions {
    WriteOptions {
        metadata: Metadata {
            tags,
            ..Metadata::default()
        },
        mp3: Mp3Options { mode },
        ..WriteOptions::default()
    }
}

/// A 1 kHz tone, left 0.5, right 0.25 (so a swap shows), phase 0 at frame 0.
fn tone(rate: u32, channels: usize) -> Vec<Vec<f64>> {
    [0.5, 0.25][..channels]
        .iter()
        .map(|&a| sine(TONE_HZ, a, rate, FRAMES))
        .collect()
}

fn write(path: &Path, spec: WriteSpec, options: WriteOptions, signal: &[Vec<f64>]) -> u64 {
    let mut w = AudioWriter::create_with(path, spec, &[], options).unwrap();
    for at in (0..FRAMES).step_by(1000) {
        let end = (at + 1000).min(FRAMES);
        let block: Vec<&[f64]> = signal.iter().map(|c| &c[at..end]).collect();
        w.write(&block).unwrap();
    }
    w.finish().unwrap().clipped_samples
}

/// Amplitude and delay (frames) of the tone in the middle of `x`, by a
/// windowed least-squares fit (as in tests/fixtures.rs).
fn fit_tone(x: &[f64], rate: u32) -> (f64, f64) {
    let len = 8192.min(x.len());
    let start = (x.len() - len) / 2;
    let w = blackman_harris7(len);
    let omega = 2.0 * PI * TONE_HZ / f64::from(rate);
    let (mut a, mut b) = (0.0, 0.0);
    for (i, (&s, &wi)) in x[start..start + len].iter().zip(&w).enumerate() {
        let n = (start + i) as f64;
        a += wi * s * (omega * n).sin();
        b += wi * s * (omega * n).cos();
    }
    let norm = 2.0 / w.iter().sum::<f64>();
    let (a, b) = (a * norm, b * norm);
    ((a * a + b * b).sqrt(), (-b).atan2(a) / omega)
}

/// The LAME tag fields of an MP3 file: (tag id, Xing frame count, encoder
/// delay, padding). Layout: "Mp3 Info Tag rev 1" — the Xing/Info header
/// (id, flags, frames, bytes, 100-byte TOC, quality = 120 bytes), then the
/// LAME extension with the 12-bit delay and padding 141 bytes after the id.
fn lame_tag(path: &Path) -> (String, u32, u32, u32) {
    let d = std::fs::read(path).unwrap();
    let mut start = 0;
    if &d[..3] == b"ID3" {
        let size = d[6..10]
            .iter()
            .fold(0usize, |acc, &b| (acc << 7) | usize::from(b & 0x7F));
        start = 10 + size;
    }
    assert_eq!(d[start], 0xFF, "an MPEG frame follows the ID3 tag");
    assert_eq!(d[start + 1] & 0xE0, 0xE0, "frame sync");
    let frame = &d[start..start + 400];
    let at = frame
        .windows(4)
        .position(|w| w == b"Info" || w == b"Xing")
        .expect("a Xing/Info header in the first frame");
    let t = &frame[at..];
    let flags = u32::from_be_bytes(t[4..8].try_into().unwrap());
    assert_eq!(flags, 0x0F, "frames, bytes, TOC and quality present");
    assert_eq!(
        &t[120..124],
        b"LAME",
        "LAME extension after the Xing header"
    );
    let frames = u32::from_be_bytes(t[8..12].try_into().unwrap());
    let delay = (u32::from(t[141]) << 4) | (u32::from(t[142]) >> 4);
    let padding = ((u32::from(t[142]) & 0x0F) << 8) | u32::from(t[143]);
    (
        String::from_utf8_lossy(&t[..4]).into_owned(),
        frames,
        delay,
        padding,
    )
}

/// 12 345 frames in, exactly 12 345 frames out of our decoder, for CBR and
/// VBR, mono and stereo, at each MPEG-1 rate, with the tone where it was.
#[test]
fn encode_decode_is_gapless_and_exact() {
    let dir = TempDir::new("mp3_gapless");
    for (rate, channels, mode, id) in [
        (44_100, 2, Mp3Mode::Cbr { kbps: 320 }, "Info"),
        (48_000, 2, Mp3Mode::Vbr { quality: 2 }, "Xing"),
        (48_000, 1, Mp3Mode::Cbr { kbps: 192 }, "Info"),
        (32_000, 2, Mp3Mode::Vbr { quality: 0 }, "Xing"),
    ] {
        let path = dir.join(&format!("g_{rate}_{channels}_{mode:?}.mp3"));
        let signal = tone(rate, channels);
        assert_eq!(
            write(
                &path,
                spec(rate, channels),
                options(mode, Tags::default()),
                &signal
            ),
            0
        );

        let (tag, mpeg_frames, lame_delay, padding) = lame_tag(&path);
        assert_eq!(tag, id, "{mode:?}");
        // LAME's delay is 576; delay + music + padding fill whole frames.
        assert_eq!(lame_delay, 576);
        assert_eq!(
            u64::from(lame_delay) + FRAMES as u64 + u64::from(padding),
            u64::from(mpeg_frames) * 1152,
            "{}: delay {lame_delay} + {FRAMES} + padding {padding} != {mpeg_frames} × 1152",
            path.display()
        );

        let (info, decoded) = read_all(&path).unwrap();
        assert_eq!(
            (info.container.as_str(), info.codec.as_str()),
            ("MP3", "MP3")
        );
        assert_eq!(info.sample_format, SampleFormat::Lossy);
        assert_eq!((info.sample_rate_hz, info.channels), (rate, channels));
        assert_eq!(info.frames, Some(FRAMES as u64), "{}", path.display());
        assert_eq!(decoded.frames(), FRAMES, "{}", path.display());
        for (ch, expected) in [0.5, 0.25][..channels].iter().enumerate() {
            let (amp, delay) = fit_tone(decoded.channel(ch), rate);
            let err_db = db(amp / expected);
            println!(
                "{}: {} frames decoded; ch{ch} level {err_db:+.3} dB, delay {delay:+.3} frames \
                 (LAME tag delay {lame_delay}, padding {padding}, {mpeg_frames} MPEG frames)",
                path.display(),
                decoded.frames()
            );
            assert!(err_db.abs() < 0.5, "ch{ch} level off by {err_db:.3} dB");
            assert!(delay.abs() < 0.25, "ch{ch} delayed by {delay:.3} frames");
        }
    }
}

/// ffmpeg (another decoder that reads the LAME tag) returns the same
/// number of frames, and nearly the same samples.
#[test]
fn ffmpeg_agrees_on_length_and_samples() {
    if !tool_available("ffmpeg", "ffmpeg") {
        return;
    }
    let dir = TempDir::new("mp3_ffmpeg");
    for (rate, channels, mode) in [
        (44_100, 2, Mp3Mode::Cbr { kbps: 320 }),
        (48_000, 1, Mp3Mode::Vbr { quality: 4 }),
    ] {
        let path = dir.join(&format!("f_{rate}_{channels}.mp3"));
        write(
            &path,
            spec(rate, channels),
            options(mode, Tags::default()),
            &tone(rate, channels),
        );
        let out = Command::new("ffmpeg")
            .args(["-v", "error", "-i"])
            .arg(&path)
            .args(["-f", "f32le", "-"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let theirs: Vec<f32> = out
            .stdout
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
            .collect();
        assert_eq!(theirs.len() / channels, FRAMES, "ffmpeg frame count");
        let (_, ours) = read_all(&path).unwrap();
        let mut max_diff = 0.0f64;
        for (i, &t) in theirs.iter().enumerate() {
            let o = ours.channel(i % channels)[i / channels];
            max_diff = max_diff.max((o - f64::from(t)).abs());
        }
        println!(
            "{}: ffmpeg {} frames, max |ours − ffmpeg| = {max_diff:.2e}",
            path.display(),
            theirs.len() / channels
        );
        assert!(max_diff < 1e-3, "decoders disagree by {max_diff}");
    }
}

#[test]
fn id3_tags_round_trip_and_ffprobe_reads_them() {
    let dir = TempDir::new("mp3_tags");
    let path = dir.join("t.mp3");
    let tags = Tags {
        title: Some("Nuit d'été".into()),
        artist: Some("The Mixers".into()),
        album: Some("Night Songs".into()),
        album_artist: Some("Various".into()),
        track_number: Some(3),
        track_total: Some(12),
        disc_number: Some(2),
        date: Some("2025-03-01".into()),
        genre: Some("Synthpop".into()),
        comment: Some("mastered with mixmaster".into()),
        isrc: Some("GB-AAA-25-00001".into()),
        replay_gain: ReplayGain {
            track_gain_db: Some(-3.9),
            track_peak: Some(0.5),
            album_gain_db: None,
            album_peak: None,
            reference_loudness_lufs: Some(-18.0),
        },
        extra: vec![("LABEL".into(), "Night Records".into())],
    };
    let signal = tone(44_100, 2);
    write(
        &path,
        spec(44_100, 2),
        options(Mp3Mode::Cbr { kbps: 320 }, tags.clone()),
        &signal,
    );
    let mut expected = tags;
    expected.isrc = Some("GBAAA2500001".into());
    assert_eq!(read_tags(&path).unwrap(), expected);
    // The tag does not disturb gapless decoding.
    assert_eq!(read_all(&path).unwrap().1.frames(), FRAMES);
    if tool_available("ffprobe", "ffmpeg") {
        let probe = Command::new("ffprobe")
            .args(["-v", "error", "-show_entries", "format_tags", "-of", "flat"])
            .arg(&path)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&probe.stdout);
        for expected in [
            "format.tags.title=\"Nuit d'été\"",
            "format.tags.artist=\"The Mixers\"",
            "format.tags.album=\"Night Songs\"",
            "format.tags.album_artist=\"Various\"",
            "format.tags.track=\"3/12\"",
            "format.tags.disc=\"2\"",
            "format.tags.date=\"2025-03-01\"",
            "format.tags.TSRC=\"GBAAA2500001\"",
            "format.tags.REPLAYGAIN_TRACK_GAIN=\"-3.90 dB\"",
            "format.tags.LABEL=\"Night Records\"",
        ] {
            assert!(text.contains(expected), "ffprobe lacks {expected}:\n{text}");
        }
    }
}

#[test]
fn overs_are_counted() {
    let dir = TempDir::new("mp3_overs");
    let path = dir.join("o.mp3");
    let mut signal = tone(44_100, 2);
    signal[0][100] = 1.5;
    signal[1][200] = -1.01;
    signal[1][300] = 1.0;
    assert_eq!(
        write(
            &path,
            spec(44_100, 2),
            options(Mp3Mode::Cbr { kbps: 320 }, Tags::default()),
            &signal
        ),
        2
    );
}

#[test]
fn abandoned_or_refused_writers_leave_nothing() {
    let dir = TempDir::new("mp3_atomic");
    let path = dir.join("a.mp3");
    let mut w = AudioWriter::create(&path, spec(44_100, 2), &[]).unwrap();
    w.write(&tone(44_100, 2)).unwrap();
    assert_eq!(dir.entries().len(), 1);
    drop(w);
    assert!(dir.entries().is_empty());

    let cbr = |kbps| options(Mp3Mode::Cbr { kbps }, Tags::default());
    let bext = WriteOptions {
        metadata: Metadata {
            bext: Some(BextInfo::default()),
            ..Metadata::default()
        },
        ..WriteOptions::default()
    };
    let cases = [
        (spec(96_000, 2), cbr(320), "MP3 at 96000 Hz"),
        (spec(22_050, 2), cbr(320), "MP3 at 22050 Hz"),
        (spec(44_100, 3), cbr(320), "MP3 with 3 channels"),
        (spec(44_100, 2), cbr(300), "CBR at 300 kbit/s"),
        (
            spec(44_100, 2),
            options(Mp3Mode::Vbr { quality: 10 }, Tags::default()),
            "VBR quality 10",
        ),
        (spec(44_100, 2), bext, "bext chunk in MP3"),
    ];
    for (s, o, words) in cases {
        let err = AudioWriter::create_with(&path, s, &[], o).unwrap_err();
        assert!(matches!(err, IoError::UnsupportedOutput { .. }), "{err}");
        assert!(err.to_string().contains(words), "'{words}' not in {err}");
        assert!(dir.entries().is_empty());
    }
}

#[test]
fn extension_selects_mp3() {
    assert_eq!(
        FileFormat::from_path(Path::new("song.MP3")),
        Some(FileFormat::Mp3)
    );
}

/// A file of no frames is valid: only the LAME tag frame, which says
/// "0 frames", so it decodes to nothing.
#[test]
fn empty_mp3_decodes_to_nothing() {
    let dir = TempDir::new("mp3_empty");
    let path = dir.join("e.mp3");
    let w = AudioWriter::create(&path, spec(44_100, 2), &[]).unwrap();
    assert_eq!(w.finish().unwrap().frames, 0);
    let (info, decoded) = read_all(&path).unwrap();
    assert_eq!((info.frames, decoded.frames()), (Some(0), 0));
}
