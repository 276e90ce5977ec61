//! Album assembly and delivery end to end: levels (album mode keeps the
//! songs' differences, track mode evens them), the ceiling on every file,
//! CD frame alignment, gapless splitting, tags and ReplayGain, and bad input
//! refused with nothing written.

use std::f64::consts::TAU;
use std::path::{Path, PathBuf};

use mixmaster_core::AudioBuffer;
use mixmaster_engine::album::layout::CD_FRAME;
use mixmaster_engine::album::{AlbumOptions, AlbumSummary, make_album};
use mixmaster_engine::master::{measure_file, measure_file_with_peer};
use mixmaster_engine::programmes::Xorshift64;
use mixmaster_io::{AudioReader, AudioWriter, Encoding, FileFormat, WriteSpec, read_tags};
use mixmaster_session::LoadedAlbum;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mixmaster-album-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A music-like stereo song: a chord with a pulse over noise, `frames`
/// long at 44.1 kHz, scaled by `level` (linear).
fn song(path: &Path, frames: usize, level: f64, seed: u64) {
    let mut rng = Xorshift64::new(seed);
    let fs = 44_100.0;
    let (l, r): (Vec<f64>, Vec<f64>) = (0..frames)
        .map(|i| {
            let t = i as f64 / fs;
            let pulse = (-(t % 0.5) * 8.0).exp();
            let tone = [220.0, 277.2, 329.6]
                .iter()
                .map(|f| (TAU * f * t).sin())
                .sum::<f64>()
                / 3.0;
            let s = level * (0.6 * tone * pulse + 0.25 * rng.bipolar());
            (s, level * (0.6 * tone * pulse + 0.25 * rng.bipolar()))
        })
        .unzip();
    let mut w = AudioWriter::create(
        path,
        WriteSpec {
            sample_rate_hz: 44_100,
            channels: 2,
            format: FileFormat::Wav,
            encoding: Encoding::Float32,
        },
        &[],
    )
    .unwrap();
    w.write(&[l, r]).unwrap();
    w.finish().unwrap();
}

fn load(dir: &Path, toml: &str) -> LoadedAlbum {
    let path = dir.join("album.toml");
    std::fs::write(&path, toml).unwrap();
    LoadedAlbum::load(&path).unwrap()
}

fn run(loaded: &LoadedAlbum, out: &Path, cd: bool, streaming: bool) -> AlbumSummary {
    make_album(
        loaded,
        &AlbumOptions {
            out_dir: out.to_path_buf(),
            cd,
            streaming,
            force: false,
            threads: 2,
        },
        |_| {},
    )
    .unwrap()
}

/// Interleaved 16/24-bit sample values of a PCM file, as integers.
fn pcm(path: &Path) -> Vec<i32> {
    let mut r = AudioReader::open(path).unwrap();
    let mut buf = AudioBuffer::new(r.info().channels, 0);
    let mut out = Vec::new();
    loop {
        let n = r.read(&mut buf, 1 << 15).unwrap();
        if n == 0 {
            break;
        }
        for k in 0..n {
            for c in 0..buf.channels() {
                out.push((buf.channel(c)[k] * 8_388_608.0).round() as i32);
            }
        }
    }
    out
}

const ALBUM_HEAD: &str = r#"
[album]
title = "Test Album"
artist = "Test Artist"
catalog = "4006381333931"
date = "2026"
"#;

#[test]
fn album_mode_keeps_the_songs_differences_under_the_ceiling() {
    let dir = temp_dir("album-mode");
    // Mastered at different levels: a loud one, one 6 dB down, a quiet
    // interlude 20 dB down.
    song(&dir.join("a.wav"), 44_100 * 6, 0.5, 1);
    song(&dir.join("b.wav"), 44_100 * 6, 0.25, 2);
    song(&dir.join("c.wav"), 44_100 * 5, 0.05, 3);
    let loaded = load(
        &dir,
        &format!(
            r#"{ALBUM_HEAD}
[loudness]
mode = "album"
integrated_lufs = -12
ceiling_dbtp = -1

[streaming]
sample_rate_hz = 48000

[[song]]
title = "Loud"
file = "a.wav"
[[song]]
title = "Down Six"
file = "b.wav"
[[song]]
title = "Interlude"
file = "c.wav"
gap_before_s = 1.5
"#
        ),
    );
    let inputs: Vec<f64> = ["a.wav", "b.wav", "c.wav"]
        .iter()
        .map(|f| measure_file(&dir.join(f), false).unwrap().integrated_lufs)
        .collect();
    let out = dir.join("out");
    let s = run(&loaded, &out, true, true);
    assert_eq!(s.deliveries.len(), 2);
    // Each song as mastered (once, at 48 kHz; the CD resamples).
    let got: Vec<f64> = s
        .songs
        .iter()
        .map(|song| song.mastering.output_report.integrated_lufs)
        .collect();
    eprintln!("inputs {inputs:?} → songs {got:?}");
    assert!(s.songs.iter().all(|song| song.master_rate_hz == 48_000));
    // The loudest at the target, the others as much below it as before.
    assert!((got[0] - -12.0).abs() <= 0.1, "{got:?}");
    for i in 1..3 {
        let want = inputs[i] - inputs[0];
        let have = got[i] - got[0];
        assert!((have - want).abs() <= 0.2, "song {i}: {have} vs {want}");
    }
    for d in &s.deliveries {
        // The track files say the same (a track file also holds the next
        // song's pregap, whose silence the gating nearly ignores).
        for (t, g) in d.tracks.iter().zip(&got) {
            assert!((t.report.integrated_lufs - g).abs() <= 0.25, "{t:?}");
        }
        for t in &d.tracks {
            assert!(
                t.report.true_peak_dbtp <= -1.0,
                "{}",
                t.report.true_peak_dbtp
            );
            assert!(
                t.ffmpeg_true_peak_dbtp <= -1.0,
                "{}",
                t.ffmpeg_true_peak_dbtp
            );
            for f in &t.files {
                if f.extension().is_some_and(|e| e != "json") {
                    let (r, ff) = measure_file_with_peer(f, false).unwrap();
                    assert!(r.true_peak_dbtp.max(ff) <= -1.0, "{}", f.display());
                }
            }
        }
        // The album as one programme equals the whole album metered.
        if d.kind == "cd" {
            let image = measure_file(&out.join("cd/album.wav"), false).unwrap();
            assert!((image.integrated_lufs - d.album_lufs).abs() < 0.02);
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn track_mode_puts_every_song_at_the_target() {
    let dir = temp_dir("track-mode");
    song(&dir.join("a.wav"), 44_100 * 5, 0.5, 4);
    song(&dir.join("b.wav"), 44_100 * 5, 0.1, 5);
    let loaded = load(
        &dir,
        &format!(
            r#"{ALBUM_HEAD}
[loudness]
mode = "track"
target = "apple-music"

[[song]]
title = "A"
mix = "a.wav"
[[song]]
title = "B"
mix = "b.wav"
level_db = -2
"#
        ),
    );
    let s = run(&loaded, &dir.join("out"), false, true);
    let songs: Vec<f64> = s
        .songs
        .iter()
        .map(|song| song.mastering.output_report.integrated_lufs)
        .collect();
    assert!((songs[0] - -16.0).abs() <= 0.1, "{songs:?}");
    assert!((songs[1] - -18.0).abs() <= 0.1, "{songs:?}");
    let t = &s.deliveries[0].tracks;
    assert!((t[0].report.integrated_lufs - -16.0).abs() <= 0.25);
    assert!((t[1].report.integrated_lufs - -18.0).abs() <= 0.25);
    assert!(t.iter().all(|t| t.report.true_peak_dbtp <= -1.0));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn cd_tracks_sit_on_frames_and_streaming_tracks_are_gapless() {
    let dir = temp_dir("gapless");
    // Lengths and gaps in whole CD frames, so the streaming layout at
    // 44.1 kHz equals the CD's and the two can be compared sample for
    // sample; one song of odd length to exercise the alignment.
    song(&dir.join("a.wav"), 588 * 600, 0.3, 6);
    song(&dir.join("b.wav"), 588 * 500, 0.3, 7);
    song(&dir.join("c.wav"), 588 * 450, 0.3, 8);
    song(&dir.join("d.wav"), 588 * 400 + 123, 0.3, 9);
    let loaded = load(
        &dir,
        &format!(
            r#"{ALBUM_HEAD}
[loudness]
mode = "none"

[streaming]
sample_rate_hz = 44100
bits = "16"

[[song]]
title = "A"
file = "a.wav"
crossfade_s = 1.0
isrc = "GB-ABC-26-00001"
[[song]]
title = "B"
file = "b.wav"
segue = true
[[song]]
title = "C"
file = "c.wav"
[[song]]
title = "D"
file = "d.wav"
gap_before_s = 2.0
"#
        ),
    );
    let out = dir.join("out");
    let s = run(&loaded, &out, true, true);
    let cd = &s.deliveries[0];
    let image = pcm(&out.join("cd/album.wav"));
    assert_eq!(image.len() as u64, 2 * cd.total_frames);
    assert_eq!(cd.total_frames % CD_FRAME, 0);
    // Expected lengths: A + B − 1 s overlap + C (segue) + 2 s + D, the
    // end padded to a whole frame.
    let content: u64 = 588 * (600 + 500 + 450 + 400) + 123 - 44_100 + 88_200;
    assert_eq!(cd.total_frames, content.div_ceil(588) * 588);
    let mut joined = Vec::new();
    for t in &cd.tracks {
        assert_eq!(t.start % CD_FRAME, 0, "track {} start", t.number);
        assert_eq!(t.frames % CD_FRAME, 0, "track {} length", t.number);
        joined.extend(pcm(&t.files[0]));
    }
    assert!(joined == image, "CD tracks do not concatenate to the image");
    // The pregap before D is digital silence (no dither noise).
    let d_at = cd.tracks[3].start as usize;
    assert!(image[2 * (d_at - 88_200)..2 * d_at].iter().all(|&x| x == 0));
    assert!(image[2 * d_at..2 * d_at + 200].iter().any(|&x| x != 0));
    // Streaming: the track files back to back are the album, and the
    // FLACs hold the same samples as the WAVs.
    let st = &s.deliveries[1];
    let mut joined = Vec::new();
    for t in &st.tracks {
        let flac = t
            .files
            .iter()
            .find(|f| f.extension().unwrap() == "flac")
            .unwrap();
        let wav = t
            .files
            .iter()
            .find(|f| f.extension().unwrap() == "wav")
            .unwrap();
        let samples = pcm(wav);
        assert!(pcm(flac) == samples, "track {}", t.number);
        joined.extend(samples);
    }
    // The CD image ends with silence to a whole frame (465 frames here);
    // the streaming album ends with the last song.
    assert_eq!(image.len() - joined.len(), 2 * 465);
    assert!(
        joined[..] == image[..joined.len()],
        "streaming tracks do not concatenate to the album"
    );
    // The CUE sheet's indexes are the tracks' starts.
    let cue = std::fs::read_to_string(out.join("cd/album.cue")).unwrap();
    assert!(cue.contains("ISRC GBABC2600001"));
    assert!(cue.contains("CATALOG 4006381333931"));
    let d_start = cd.tracks[3].start / 588;
    assert!(cue.contains(&format!(
        "INDEX 01 {:02}:{:02}:{:02}",
        d_start / 75 / 60,
        d_start / 75 % 60,
        d_start % 75
    )));
    assert!(cue.contains("INDEX 00"), "D has a pregap");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn streaming_files_carry_tags_replaygain_and_bext_loudness() {
    let dir = temp_dir("tags");
    song(&dir.join("a.wav"), 44_100 * 5, 0.4, 10);
    song(&dir.join("b.wav"), 44_100 * 5, 0.2, 11);
    let loaded = load(
        &dir,
        &format!(
            r#"{ALBUM_HEAD}
genre = "Test"
[loudness]
integrated_lufs = -14

[[song]]
title = "First"
file = "a.wav"
isrc = "US-S1Z-99-00001"
songwriter = "W. Riter"
[[song]]
title = "Second"
performer = "Guest"
file = "b.wav"
"#
        ),
    );
    let s = run(&loaded, &dir.join("out"), false, true);
    let d = &s.deliveries[0];
    for (i, t) in d.tracks.iter().enumerate() {
        let flac = t
            .files
            .iter()
            .find(|f| f.extension().unwrap() == "flac")
            .unwrap();
        let tags = read_tags(flac).unwrap();
        assert_eq!(tags.title.as_deref(), Some(["First", "Second"][i]));
        assert_eq!(tags.artist.as_deref(), Some(["Test Artist", "Guest"][i]));
        assert_eq!(tags.album.as_deref(), Some("Test Album"));
        assert_eq!(tags.track_number, Some(i as u32 + 1));
        assert_eq!(tags.track_total, Some(2));
        assert_eq!(tags.genre.as_deref(), Some("Test"));
        if i == 0 {
            assert_eq!(tags.isrc.as_deref(), Some("USS1Z9900001"));
        }
        let rg = tags.replay_gain;
        let want_track = -18.0 - t.report.integrated_lufs;
        assert!((rg.track_gain_db.unwrap() - want_track).abs() < 0.006);
        assert!((rg.album_gain_db.unwrap() - (-18.0 - d.album_lufs)).abs() < 0.006);
        let peak = 10f64.powf(t.report.true_peak_dbtp / 20.0);
        assert!((rg.track_peak.unwrap() - peak).abs() < 1e-5);
        // The WAV's bext holds the same loudness.
        let wav = t
            .files
            .iter()
            .find(|f| f.extension().unwrap() == "wav")
            .unwrap();
        let bext = mixmaster_io::read_bext(wav).unwrap().unwrap();
        let lufs = bext.loudness.integrated_lufs.unwrap();
        assert!((lufs - t.report.integrated_lufs).abs() <= 0.011, "{lufs}");
    }
    // The album as one programme: the power mean of two songs of equal
    // length.
    let (a, b) = (
        d.tracks[0].report.integrated_lufs,
        d.tracks[1].report.integrated_lufs,
    );
    let mean = 10.0 * ((10f64.powf(a / 10.0) + 10f64.powf(b / 10.0)) / 2.0).log10();
    assert!(
        (d.album_lufs - mean).abs() < 0.3,
        "{} vs {mean}",
        d.album_lufs
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bad_input_is_refused_with_nothing_written() {
    let dir = temp_dir("bad");
    song(&dir.join("a.wav"), 44_100 * 6, 0.3, 12);
    song(&dir.join("short.wav"), 44_100 * 3, 0.3, 13);
    let write = |toml: &str| {
        let path = dir.join("album.toml");
        std::fs::write(&path, toml).unwrap();
        path
    };
    // ISRC format, catalog check digit: the file, line and field.
    let e = LoadedAlbum::load(&write(&format!(
        "{ALBUM_HEAD}\n[[song]]\ntitle = \"A\"\nfile = \"a.wav\"\nisrc = \"GB-XYZ-26-0001\"\n"
    )))
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("album.toml:11:") && e.contains("song[0].isrc"),
        "{e}"
    );
    let e = LoadedAlbum::load(&write(
        "[album]\ntitle = \"T\"\nartist = \"A\"\ncatalog = \"4006381333932\"\n[[song]]\ntitle = \"A\"\nfile = \"a.wav\"\n",
    ))
    .unwrap_err()
    .to_string();
    assert!(e.contains(":4:") && e.contains("check digit is 2"), "{e}");
    // A missing file names the song.
    let loaded = LoadedAlbum::load(&write(&format!(
        "{ALBUM_HEAD}\n[[song]]\ntitle = \"A\"\nfile = \"a.wav\"\n[[song]]\ntitle = \"Gone\"\nmix = \"gone.wav\"\n"
    )))
    .unwrap();
    let out = dir.join("out");
    let opts = |cd: bool, streaming: bool, force: bool| AlbumOptions {
        out_dir: out.clone(),
        cd,
        streaming,
        force,
        threads: 2,
    };
    let e = make_album(&loaded, &opts(true, true, false), |_| {})
        .unwrap_err()
        .to_string();
    assert!(e.contains("song 2 'Gone'") && e.contains("gone.wav"), "{e}");
    assert!(!out.exists(), "nothing is created for a refused album");
    // A track shorter than Red Book's 4 s: refused for CD (nothing left
    // behind), accepted for streaming.
    let loaded = LoadedAlbum::load(&write(&format!(
        "{ALBUM_HEAD}\n[[song]]\ntitle = \"A\"\nfile = \"a.wav\"\n[[song]]\ntitle = \"Tiny\"\nfile = \"short.wav\"\n"
    )))
    .unwrap();
    let e = make_album(&loaded, &opts(true, true, false), |_| {})
        .unwrap_err()
        .to_string();
    assert!(e.contains("track 2 'Tiny' is 3.00 s"), "{e}");
    assert!(!out.exists());
    make_album(&loaded, &opts(false, true, false), |_| {}).unwrap();
    assert!(out.join("streaming/02 - Tiny.flac").is_file());
    // A folder that is not empty: refused, then replaced with force.
    let e = make_album(&loaded, &opts(false, true, false), |_| {})
        .unwrap_err()
        .to_string();
    assert!(e.contains("not empty") && e.contains("--force"), "{e}");
    std::fs::write(out.join("notes.txt"), "mine").unwrap();
    make_album(&loaded, &opts(false, true, true), |_| {}).unwrap();
    assert_eq!(
        std::fs::read_to_string(out.join("notes.txt")).unwrap(),
        "mine"
    );
    // A source inside the delivery folders is never replaced.
    let loaded = LoadedAlbum::load(&write(&format!(
        "{ALBUM_HEAD}\n[[song]]\ntitle = \"Again\"\nfile = \"out/streaming/01 - A.flac\"\n"
    )))
    .unwrap();
    let e = make_album(&loaded, &opts(false, true, true), |_| {})
        .unwrap_err()
        .to_string();
    assert!(e.contains("inside the delivery folders"), "{e}");
    assert!(out.join("streaming/01 - A.flac").is_file());
    let leftovers: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with(".mixmaster"))
        .collect();
    assert!(leftovers.is_empty(), "the staging folder is gone");
    std::fs::remove_dir_all(&dir).ok();
}
