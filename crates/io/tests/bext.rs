//! BWF `bext` (EBU Tech 3285 v2) and RIFF INFO tags in our WAV writer:
//! fields round-trip, the byte layout matches the spec's offsets, loudness
//! known only after writing lands in the file, and other tools (sox,
//! ffmpeg, MediaInfo) still read the file and the same samples.

mod common;

use std::path::Path;
use std::process::Command;

use common::{TempDir, random_int_signal, tool_available};
use mixmaster_io::bext::{self, FIXED_LEN, LOUDNESS_OFFSET};
use mixmaster_io::{
    AudioWriter, BextInfo, Encoding, FileFormat, IoError, Loudness, Metadata, Rf64Policy, Tags,
    WriteOptions, WriteSpec, read_all, read_bext, read_tags,
};

const FRAMES: usize = 12_345;

fn spec(encoding: Encoding, channels: usize) -> WriteSpec {
    WriteSpec {
        sample_rate_hz: 48_000,
        channels,
        format: FileFormat::Wav,
        encoding,
    }
}

fn info() -> BextInfo {
    BextInfo {
        description: "Midnight Drive - master for streaming".into(),
        originator: "mixmaster test".into(),
        originator_reference: "GBAAA2500001".into(),
        origination_date: Some("2025-03-01".into()),
        origination_time: Some("12:34:56".into()),
        time_reference_frames: 48_000 * 3600 * 10 + 7,
        coding_history: Some(
            "A=PCM,F=48000,W=24,M=stereo,T=mix\nA=PCM,F=48000,W=24,M=stereo,T=master".into(),
        ),
    }
}

fn loudness() -> Loudness {
    Loudness {
        integrated_lufs: Some(-14.02),
        lra_lu: Some(6.5),
        true_peak_dbtp: Some(-1.03),
        momentary_max_lufs: Some(-9.87),
        short_term_max_lufs: Some(-11.4),
    }
}

fn options(rf64: Rf64Policy, bext: Option<BextInfo>) -> WriteOptions {
    WriteOptions {
        rf64,
        metadata: Metadata {
            bext,
            ..Metadata::default()
        },
        ..WriteOptions::default()
    }
}

/// Writes `signal`, sets `loudness` after the audio (as a render that
/// meters while writing does), finishes.
fn write(
    path: &Path,
    spec: WriteSpec,
    options: WriteOptions,
    signal: &[Vec<f64>],
    loudness: Option<Loudness>,
) {
    let mut w = AudioWriter::create_with(path, spec, &[], options).unwrap();
    for at in (0..FRAMES).step_by(4000) {
        let end = (at + 4000).min(FRAMES);
        let block: Vec<&[f64]> = signal.iter().map(|c| &c[at..end]).collect();
        w.write(&block).unwrap();
    }
    if let Some(l) = loudness {
        w.set_loudness(l).unwrap();
    }
    assert_eq!(w.finish().unwrap().frames, FRAMES as u64);
}

/// The payload of the first chunk `id`: (offset, bytes).
fn chunk<'a>(file: &'a [u8], id: &[u8; 4]) -> Option<(usize, &'a [u8])> {
    let mut pos = 12;
    while pos + 8 <= file.len() {
        let size = u32::from_le_bytes(file[pos + 4..pos + 8].try_into().unwrap()) as usize;
        let size = if size == u32::MAX as usize {
            file.len() - pos - 8
        } else {
            size
        };
        if &file[pos..pos + 4] == id {
            return Some((pos + 8, &file[pos + 8..pos + 8 + size]));
        }
        pos += 8 + size + (size & 1);
    }
    None
}

fn chunk_ids(file: &[u8]) -> Vec<String> {
    let mut ids = Vec::new();
    let mut pos = 12;
    while pos + 8 <= file.len() {
        ids.push(String::from_utf8_lossy(&file[pos..pos + 4]).into_owned());
        let size = u32::from_le_bytes(file[pos + 4..pos + 8].try_into().unwrap()) as usize;
        if size == u32::MAX as usize {
            break;
        }
        pos += 8 + size + (size & 1);
    }
    ids
}

#[test]
fn fields_round_trip_in_riff_and_rf64() {
    let dir = TempDir::new("bext_rt");
    for (rf64, encoding, channels) in [
        (Rf64Policy::Auto, Encoding::Pcm24, 2),
        (Rf64Policy::Always, Encoding::Pcm24, 2),
        (Rf64Policy::Auto, Encoding::Pcm16, 1),
        (Rf64Policy::Always, Encoding::Float32, 6),
    ] {
        let path = dir.join(&format!("rt_{rf64:?}_{}_{channels}.wav", encoding.bits()));
        let signal = random_int_signal(channels, FRAMES, encoding.bits().min(24), 11);
        write(
            &path,
            spec(encoding, channels),
            options(rf64, Some(info())),
            &signal,
            Some(loudness()),
        );
        let b = read_bext(&path).unwrap().expect("a bext chunk");
        let i = info();
        assert_eq!(b.description, i.description);
        assert_eq!(b.originator, i.originator);
        assert_eq!(b.originator_reference, i.originator_reference);
        assert_eq!(b.origination_date, "2025-03-01");
        assert_eq!(b.origination_time, "12:34:56");
        assert_eq!(b.time_reference_frames, i.time_reference_frames);
        assert_eq!(b.version, 2);
        assert_eq!(b.umid, [0u8; 64]);
        assert_eq!(b.loudness, loudness());
        assert_eq!(
            b.coding_history,
            "A=PCM,F=48000,W=24,M=stereo,T=mix\r\nA=PCM,F=48000,W=24,M=stereo,T=master\r\n"
        );
        // The audio is untouched by the chunk.
        let (src, decoded) = read_all(&path).unwrap();
        let container = if rf64 == Rf64Policy::Always {
            "RF64"
        } else {
            "WAV"
        };
        assert_eq!(src.container, container);
        assert_eq!(decoded.planar(), signal.as_slice(), "{}", path.display());
    }
}

/// Every field at the offset EBU Tech 3285 v2 gives it, checked on the
/// raw bytes (no BWF tool is at hand to cross-check).
#[test]
fn layout_matches_tech_3285_offsets() {
    let dir = TempDir::new("bext_layout");
    let path = dir.join("layout.wav");
    let signal = random_int_signal(2, FRAMES, 24, 1);
    write(
        &path,
        spec(Encoding::Pcm24, 2),
        options(Rf64Policy::Auto, Some(info())),
        &signal,
        Some(loudness()),
    );
    let file = std::fs::read(&path).unwrap();
    // RIFF header, JUNK (room for ds64), bext before fmt, data last.
    assert_eq!(chunk_ids(&file), ["JUNK", "bext", "fmt ", "data"]);
    let (at, b) = chunk(&file, b"bext").unwrap();
    assert_eq!(at, 12 + 8 + 28 + 8, "bext payload follows RIFF and JUNK");
    let history = b"A=PCM,F=48000,W=24,M=stereo,T=mix\r\nA=PCM,F=48000,W=24,M=stereo,T=master\r\n";
    assert_eq!(b.len(), 602 + history.len(), "chunk size");
    let padded = |s: &str, n: usize| {
        let mut v = s.as_bytes().to_vec();
        v.resize(n, 0);
        v
    };
    let i = info();
    assert_eq!(b[0..256], padded(&i.description, 256)[..], "Description");
    assert_eq!(b[256..288], padded(&i.originator, 32)[..], "Originator");
    assert_eq!(
        b[288..320],
        padded(&i.originator_reference, 32)[..],
        "OriginatorReference"
    );
    assert_eq!(&b[320..330], b"2025-03-01", "OriginationDate");
    assert_eq!(&b[330..338], b"12:34:56", "OriginationTime");
    let t = i.time_reference_frames;
    assert_eq!(b[338..342], (t as u32).to_le_bytes(), "TimeReferenceLow");
    assert_eq!(
        b[342..346],
        ((t >> 32) as u32).to_le_bytes(),
        "TimeReferenceHigh"
    );
    assert_eq!(b[346..348], 2u16.to_le_bytes(), "Version");
    assert_eq!(b[348..412], [0u8; 64], "UMID");
    assert_eq!(LOUDNESS_OFFSET, 412);
    let i16_at = |k: usize| i16::from_le_bytes([b[k], b[k + 1]]);
    assert_eq!(i16_at(412), -1402, "LoudnessValue");
    assert_eq!(i16_at(414), 650, "LoudnessRange");
    assert_eq!(i16_at(416), -103, "MaxTruePeakLevel");
    assert_eq!(i16_at(418), -987, "MaxMomentaryLoudness");
    assert_eq!(i16_at(420), -1140, "MaxShortTermLoudness");
    assert_eq!(b[422..602], [0u8; 180], "Reserved");
    assert_eq!(FIXED_LEN, 602);
    assert_eq!(&b[602..], history, "CodingHistory");
}

#[test]
fn unknown_loudness_is_0x7fff_and_the_last_call_wins() {
    let dir = TempDir::new("bext_unknown");
    let signal = random_int_signal(2, FRAMES, 16, 2);

    // Never set: all five fields 0x7FFF.
    let path = dir.join("none.wav");
    write(
        &path,
        spec(Encoding::Pcm16, 2),
        options(Rf64Policy::Auto, Some(BextInfo::default())),
        &signal,
        None,
    );
    let file = std::fs::read(&path).unwrap();
    let (_, b) = chunk(&file, b"bext").unwrap();
    assert_eq!(b[412..422], [0xFF, 0x7F].repeat(5)[..]);
    let got = read_bext(&path).unwrap().unwrap();
    assert_eq!(got.loudness, Loudness::default());
    assert_eq!(got.version, 2);
    assert_eq!(got.originator, "mixmaster");
    assert_eq!(
        got.coding_history,
        "A=PCM,F=48000,W=16,M=stereo,T=mixmaster\r\n"
    );
    // Date and time default to the current UTC time, in the spec's form.
    assert!(got.origination_date.starts_with("20"), "{got:?}");
    assert_eq!(got.origination_date.len(), 10);
    assert_eq!(got.origination_time.len(), 8);

    // Partly known, set twice: the second call is what the file holds; the
    // integrated loudness of silence (−∞) is stored as unknown.
    let path = dir.join("partial.wav");
    let mut w = AudioWriter::create_with(
        &path,
        spec(Encoding::Pcm16, 2),
        &[],
        options(Rf64Policy::Auto, Some(info())),
    )
    .unwrap();
    w.write(&signal).unwrap();
    w.set_loudness(loudness()).unwrap();
    w.set_loudness(Loudness {
        integrated_lufs: Some(f64::NEG_INFINITY),
        true_peak_dbtp: Some(-0.5),
        ..Loudness::default()
    })
    .unwrap();
    w.finish().unwrap();
    let got = read_bext(&path).unwrap().unwrap().loudness;
    assert_eq!(
        got,
        Loudness {
            true_peak_dbtp: Some(-0.5),
            ..Loudness::default()
        }
    );
}

#[test]
fn loudness_known_before_writing_is_stored_too() {
    let dir = TempDir::new("bext_before");
    let path = dir.join("before.wav");
    let mut opts = options(Rf64Policy::Auto, Some(info()));
    opts.metadata.loudness = loudness();
    write(
        &path,
        spec(Encoding::Pcm24, 2),
        opts,
        &random_int_signal(2, FRAMES, 24, 3),
        None,
    );
    assert_eq!(read_bext(&path).unwrap().unwrap().loudness, loudness());
}

#[test]
fn write_loudness_patches_a_finished_file_in_place() {
    let dir = TempDir::new("bext_patch");
    for rf64 in [Rf64Policy::Auto, Rf64Policy::Always] {
        let path = dir.join(&format!("p_{rf64:?}.wav"));
        write(
            &path,
            spec(Encoding::Pcm24, 2),
            options(rf64, Some(info())),
            &random_int_signal(2, FRAMES, 24, 4),
            None,
        );
        let before = std::fs::read(&path).unwrap();
        bext::write_loudness(&path, &loudness()).unwrap();
        let after = std::fs::read(&path).unwrap();
        assert_eq!(before.len(), after.len());
        let (at, _) = chunk(&before, b"bext").unwrap();
        let changed: Vec<usize> = (0..before.len())
            .filter(|&k| before[k] != after[k])
            .collect();
        assert!(!changed.is_empty());
        assert!(
            changed.iter().all(|&k| (at + 412..at + 422).contains(&k)),
            "only the loudness fields change: {changed:?}"
        );
        assert_eq!(read_bext(&path).unwrap().unwrap().loudness, loudness());
    }
    // A file without bext is refused and left alone.
    let plain = dir.join("plain.wav");
    write(
        &plain,
        spec(Encoding::Pcm16, 1),
        WriteOptions::default(),
        &random_int_signal(1, FRAMES, 16, 5),
        None,
    );
    let before = std::fs::read(&plain).unwrap();
    assert!(matches!(
        bext::write_loudness(&plain, &loudness()),
        Err(IoError::Unsupported { .. })
    ));
    assert_eq!(std::fs::read(&plain).unwrap(), before);
    assert!(read_bext(&plain).unwrap().is_none());
}

/// The data chunk of a file with bext is byte-identical to the one of the
/// same audio without it.
#[test]
fn bext_does_not_change_the_audio_bytes() {
    let dir = TempDir::new("bext_same");
    let signal = random_int_signal(2, FRAMES, 24, 6);
    let a = dir.join("a.wav");
    let b = dir.join("b.wav");
    write(
        &a,
        spec(Encoding::Pcm24, 2),
        WriteOptions::default(),
        &signal,
        None,
    );
    write(
        &b,
        spec(Encoding::Pcm24, 2),
        options(Rf64Policy::Auto, Some(info())),
        &signal,
        Some(loudness()),
    );
    let (fa, fb) = (std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    assert_eq!(
        chunk(&fa, b"data").unwrap().1,
        chunk(&fb, b"data").unwrap().1
    );
    assert_eq!(
        chunk(&fa, b"fmt ").unwrap().1,
        chunk(&fb, b"fmt ").unwrap().1
    );
}

/// sox and ffmpeg read our BWF (RIFF and RF64) and decode exactly the
/// samples in our data chunk; ffprobe sees the bext text fields.
#[test]
fn sox_and_ffmpeg_read_the_same_samples() {
    let sox = tool_available("sox", "sox");
    let ffmpeg = tool_available("ffmpeg", "ffmpeg");
    let dir = TempDir::new("bext_tools");
    for rf64 in [Rf64Policy::Auto, Rf64Policy::Always] {
        let path = dir.join(&format!("t_{rf64:?}.wav"));
        let signal = random_int_signal(2, FRAMES, 24, 7);
        write(
            &path,
            spec(Encoding::Pcm24, 2),
            options(rf64, Some(info())),
            &signal,
            Some(loudness()),
        );
        let file = std::fs::read(&path).unwrap();
        let data = chunk(&file, b"data").unwrap().1;
        let data = &data[..FRAMES * 6];
        if sox {
            let out = Command::new("sox")
                .arg(&path)
                .args(["-t", "raw", "-e", "signed", "-b", "24", "-L", "-"])
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(out.stdout == data, "sox decodes other samples ({rf64:?})");
        }
        if ffmpeg {
            let out = Command::new("ffmpeg")
                .args(["-v", "error", "-i"])
                .arg(&path)
                .args(["-f", "s24le", "-"])
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(
                out.stdout == data,
                "ffmpeg decodes other samples ({rf64:?})"
            );
            let probe = Command::new("ffprobe")
                .args(["-v", "error", "-show_entries", "format_tags", "-of", "flat"])
                .arg(&path)
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&probe.stdout);
            for expected in [
                "format.tags.comment=\"Midnight Drive - master for streaming\"",
                "format.tags.encoded_by=\"mixmaster test\"",
                "format.tags.originator_reference=\"GBAAA2500001\"",
                "format.tags.date=\"2025-03-01\"",
                "format.tags.time_reference=\"1728000007\"",
            ] {
                assert!(text.contains(expected), "ffprobe lacks {expected}:\n{text}");
            }
        }
    }
}

/// MediaInfo reads the Tech 3285 v2 loudness fields (an independent reader
/// of the offsets).
#[test]
fn mediainfo_reads_the_loudness_fields() {
    if !tool_available("mediainfo", "mediainfo") {
        return;
    }
    let dir = TempDir::new("bext_mediainfo");
    for rf64 in [Rf64Policy::Auto, Rf64Policy::Always] {
        let path = dir.join(&format!("m_{rf64:?}.wav"));
        write(
            &path,
            spec(Encoding::Pcm24, 2),
            options(rf64, Some(info())),
            &random_int_signal(2, FRAMES, 24, 8),
            Some(loudness()),
        );
        let out = Command::new("mediainfo").arg(&path).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let field = |name: &str| {
            text.lines()
                .find(|l| l.split(':').next().map(str::trim) == Some(name))
                .and_then(|l| l.split(':').nth(1))
                .map(|v| v.trim().to_string())
        };
        assert_eq!(field("LoudnessValue").as_deref(), Some("-14.02"), "{text}");
        assert_eq!(field("LoudnessRange").as_deref(), Some("6.50"));
        assert_eq!(field("MaxTruePeakLevel").as_deref(), Some("-1.03"));
        assert_eq!(field("MaxMomentaryLoudness").as_deref(), Some("-9.87"));
        assert_eq!(field("MaxShortTermLoudness").as_deref(), Some("-11.40"));
        assert_eq!(
            field("Description").as_deref(),
            Some("Midnight Drive - master for streaming")
        );
    }
}

#[test]
fn riff_info_tags_round_trip() {
    let dir = TempDir::new("info_tags");
    let path = dir.join("tags.wav");
    let tags = Tags {
        title: Some("Midnight Drive".into()),
        artist: Some("The Mixers".into()),
        album: Some("Night Songs".into()),
        track_number: Some(3),
        date: Some("2025".into()),
        genre: Some("Synthpop".into()),
        comment: Some("premaster".into()),
        ..Tags::default()
    };
    let mut opts = options(Rf64Policy::Auto, Some(info()));
    opts.metadata.tags = tags.clone();
    let signal = random_int_signal(2, FRAMES, 24, 9);
    write(
        &path,
        spec(Encoding::Pcm24, 2),
        opts,
        &signal,
        Some(loudness()),
    );
    assert_eq!(read_tags(&path).unwrap(), tags);
    assert_eq!(read_all(&path).unwrap().1.planar(), signal.as_slice());
    let file = std::fs::read(&path).unwrap();
    assert_eq!(chunk_ids(&file), ["JUNK", "bext", "fmt ", "LIST", "data"]);
    if tool_available("ffprobe", "ffmpeg") {
        let probe = Command::new("ffprobe")
            .args(["-v", "error", "-show_entries", "format_tags", "-of", "flat"])
            .arg(&path)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&probe.stdout);
        for expected in [
            "format.tags.title=\"Midnight Drive\"",
            "format.tags.artist=\"The Mixers\"",
            "format.tags.album=\"Night Songs\"",
            "format.tags.track=\"3\"",
            "format.tags.genre=\"Synthpop\"",
        ] {
            assert!(text.contains(expected), "ffprobe lacks {expected}:\n{text}");
        }
    }
}

/// What WAV cannot hold is refused at create, naming the file and the
/// field, and nothing is left behind.
#[test]
fn refusals_name_the_problem_and_leave_nothing() {
    let dir = TempDir::new("bext_refuse");
    let path = dir.join("x.wav");
    let flac = dir.join("x.flac");
    let long = BextInfo {
        description: "d".repeat(257),
        ..BextInfo::default()
    };
    let accented = BextInfo {
        originator: "Mélodie".into(),
        ..BextInfo::default()
    };
    let bad_date = BextInfo {
        origination_date: Some("1/3/2025".into()),
        ..BextInfo::default()
    };
    let wav = spec(Encoding::Pcm24, 2);
    let flac_spec = WriteSpec {
        format: FileFormat::Flac,
        ..wav
    };
    let isrc = WriteOptions {
        metadata: Metadata {
            tags: Tags {
                isrc: Some("GBAAA2500001".into()),
                ..Tags::default()
            },
            ..Metadata::default()
        },
        ..WriteOptions::default()
    };
    let loudness_only = WriteOptions {
        metadata: Metadata {
            loudness: loudness(),
            ..Metadata::default()
        },
        ..WriteOptions::default()
    };
    let cases: Vec<(&Path, WriteSpec, WriteOptions, &str)> = vec![
        (
            &path,
            wav,
            options(Rf64Policy::Auto, Some(long)),
            "at most 256",
        ),
        (
            &path,
            wav,
            options(Rf64Policy::Auto, Some(accented)),
            "ASCII",
        ),
        (
            &path,
            wav,
            options(Rf64Policy::Auto, Some(bad_date)),
            "yyyy-mm-dd",
        ),
        (&path, wav, isrc, "ISRC in WAV"),
        (&path, wav, loudness_only.clone(), "without a bext chunk"),
        (
            &flac,
            flac_spec,
            options(Rf64Policy::Auto, Some(info())),
            "bext chunk in FLAC",
        ),
        (&flac, flac_spec, loudness_only, "loudness metadata in FLAC"),
    ];
    for (p, s, o, words) in cases {
        let err = AudioWriter::create_with(p, s, &[], o).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, IoError::UnsupportedOutput { .. }), "{msg}");
        assert!(msg.starts_with(&format!("{}: ", p.display())), "{msg}");
        assert!(msg.contains(words), "'{words}' not in: {msg}");
        assert!(dir.entries().is_empty(), "{:?}", dir.entries());
    }
    // set_loudness on a writer without bext.
    let mut w = AudioWriter::create(&path, wav, &[]).unwrap();
    assert!(matches!(
        w.set_loudness(loudness()),
        Err(IoError::UnsupportedOutput { .. })
    ));
    drop(w);
    assert!(dir.entries().is_empty());
}
