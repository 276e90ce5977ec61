//! The engine end to end: null test, determinism across thread counts,
//! click-free automation, crossfades, resampled sources, and bad input.

use std::path::{Path, PathBuf};

use mixmaster_engine::automation::GainSmoother;
use mixmaster_engine::{EngineError, Mixer, RenderOptions, render_to_file};
use mixmaster_io::{AudioWriter, Encoding, FileFormat, WriteSpec, read_all};
use mixmaster_session::LoadedSession;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mixmaster-engine-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes planar f32-representable samples as a float WAV.
fn write_wav(path: &Path, rate: u32, channels: &[Vec<f64>]) {
    let spec = WriteSpec {
        sample_rate_hz: rate,
        channels: channels.len(),
        format: FileFormat::Wav,
        encoding: Encoding::Float32,
    };
    let mut w = AudioWriter::create(path, spec, &[]).unwrap();
    w.write(channels).unwrap();
    w.finish().unwrap();
}

/// Deterministic noise, rounded to f32 so the float WAV holds it exactly.
fn noise(seed: u64, n: usize, amp: f64) -> Vec<f64> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let u = (s >> 11) as f64 / (1u64 << 53) as f64;
            f64::from((amp * (2.0 * u - 1.0)) as f32)
        })
        .collect()
}

fn load(dir: &Path, text: &str) -> LoadedSession {
    let path = dir.join("session.toml");
    std::fs::write(&path, text).unwrap();
    LoadedSession::load(&path).unwrap_or_else(|e| panic!("{e}"))
}

fn render(loaded: &LoadedSession, threads: usize) -> [Vec<f64>; 2] {
    let mut mixer = Mixer::build(loaded).unwrap_or_else(|e| panic!("{e}"));
    let mut out = [Vec::new(), Vec::new()];
    mixer
        .render(threads, |b| {
            out[0].extend_from_slice(&b[0]);
            out[1].extend_from_slice(&b[1]);
            Ok(())
        })
        .unwrap();
    out
}

#[test]
fn unity_centre_0db_law_no_inserts_is_exactly_the_sum() {
    let dir = temp_dir("null");
    let n = 30_000;
    let mono = noise(1, n, 0.3);
    let (l, r) = (noise(2, n - 1000, 0.2), noise(3, n - 1000, 0.2));
    let late = noise(4, 5000, 0.1);
    write_wav(&dir.join("mono.wav"), 48_000, std::slice::from_ref(&mono));
    write_wav(&dir.join("stereo.wav"), 48_000, &[l.clone(), r.clone()]);
    write_wav(&dir.join("late.wav"), 48_000, std::slice::from_ref(&late));
    let loaded = load(
        &dir,
        r#"
[project]
sample_rate_hz = 48000
pan_law_db = 0
[[track]]
name = "mono"
source = "mono.wav"
[[track]]
name = "stereo"
source = "stereo.wav"
[[track]]
name = "late"
[[track.clip]]
source = "late.wav"
at = 0.25
"#,
    );
    let out = render(&loaded, 2);
    assert_eq!(out[0].len(), n);
    let at = 12_000;
    for i in 0..n {
        let late_v = if (at..at + late.len()).contains(&i) {
            late[i - at]
        } else {
            0.0
        };
        let sl = if i < l.len() { l[i] } else { 0.0 };
        let sr = if i < r.len() { r[i] } else { 0.0 };
        assert_eq!(out[0][i], mono[i] + sl + late_v, "left differs at {i}");
        assert_eq!(out[1][i], mono[i] + sr + late_v, "right differs at {i}");
    }
}

const BUSY_SESSION: &str = r#"
[project]
sample_rate_hz = 48000
tempo_bpm = 100
[[track]]
name = "a"
source = "a.wav"
pan = -0.4
bus = "Group"
sends = [ { bus = "Verb", level_db = -6 } ]
automation = [ { param = "gain_db", points = [[0, -20], [0.3, 0, "s-curve"], [0.6, -3, "exp"]] } ]
[[track]]
name = "b"
source = "b.wav"
pan = 0.5
width = 0.5
inserts = [ { id = "echo", delay = { note = "1/16", feedback = 0.4, mix = 0.3 } } ]
sends = [ { bus = "Verb", level_db = -10, pre_fader = true } ]
[[track]]
name = "c"
source = "a.wav"
invert_polarity = true
gain_db = -12
bus = "Group"
[[bus]]
name = "Group"
gain_db = -2
[[bus]]
name = "Verb"
inserts = [ { id = "room", reverb = { decay_s = 0.4, mix = 1.0 } } ]
"#;

#[test]
fn output_is_bit_identical_whatever_the_thread_count() {
    let dir = temp_dir("threads");
    write_wav(&dir.join("a.wav"), 48_000, &[noise(5, 40_000, 0.3)]);
    write_wav(
        &dir.join("b.wav"),
        48_000,
        &[noise(6, 30_000, 0.3), noise(7, 30_000, 0.3)],
    );
    let loaded = load(&dir, BUSY_SESSION);
    let one = render(&loaded, 1);
    let two = render(&loaded, 2);
    let three = render(&loaded, 3);
    assert!(one[0].len() > 40_000, "the reverb tail is rendered");
    assert!(one == two && two == three);
    // And through the file writer: byte-identical files.
    let mut files = Vec::new();
    for threads in [1, 2] {
        let out = dir.join(format!("mix-{threads}.wav"));
        let options = RenderOptions {
            output: out.clone(),
            format: FileFormat::Wav,
            encoding: Encoding::Pcm24,
            threads,
            stems_dir: None,
        };
        render_to_file(&loaded, &options, |_, _| {}).unwrap();
        files.push(std::fs::read(out).unwrap());
    }
    assert_eq!(files[0], files[1]);
}

#[test]
fn gain_automation_changes_no_faster_than_its_smoothing_allows() {
    let dir = temp_dir("click");
    write_wav(&dir.join("dc.wav"), 48_000, &[vec![0.5; 48_000]]);
    let loaded = load(
        &dir,
        r#"
[project]
pan_law_db = 0
[[track]]
name = "dc"
source = "dc.wav"
automation = [ { param = "gain_db", points = [[0, -60, "step"], [0.5, 0]] } ]
"#,
    );
    let out = render(&loaded, 1);
    let coefficient = GainSmoother::new(48_000, 0.0).coefficient();
    // A step of the whole range: each sample covers at most `coefficient`
    // of the remaining distance (one-pole, 5 ms).
    let range = 0.5 * (1.0 - 10f64.powf(-3.0));
    let max_step = out[0]
        .windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .fold(0.0, f64::max);
    assert!(
        max_step <= coefficient * range + 1e-12,
        "{max_step} > {}",
        coefficient * range
    );
    assert!(max_step > 0.5 * coefficient * range, "the step did happen");
    assert!((out[0][47_000] - 0.5).abs() < 1e-9);
    assert!((out[0][1000] - 0.5e-3).abs() < 1e-9);
}

#[test]
fn overlapping_clips_crossfade_with_equal_power() {
    let dir = temp_dir("xfade");
    write_wav(&dir.join("one.wav"), 48_000, &[vec![1.0; 48_000]]);
    let loaded = load(
        &dir,
        r#"
[project]
pan_law_db = 0
[[track]]
name = "t"
[[track.clip]]
source = "one.wav"
[[track.clip]]
source = "one.wav"
at = 0.5
"#,
    );
    let out = render(&loaded, 1);
    assert_eq!(out[0].len(), 72_000);
    // Middle of the overlap (0.5 .. 1.0 s): cos + sin of π/4.
    let mid = out[0][36_000];
    assert!((mid - std::f64::consts::SQRT_2).abs() < 1e-3, "{mid}");
    assert!((out[0][10_000] - 1.0).abs() < 1e-12 && (out[0][60_000] - 1.0).abs() < 1e-12);
}

#[test]
fn sources_at_other_rates_are_resampled_to_exact_lengths() {
    let dir = temp_dir("rate");
    write_wav(&dir.join("cd.wav"), 44_100, &[noise(8, 44_100, 0.2)]);
    let loaded = load(
        &dir,
        "[project]\nsample_rate_hz = 48000\n[[track]]\nname = \"t\"\nsource = \"cd.wav\"\n",
    );
    assert_eq!(render(&loaded, 1)[0].len(), 48_000);
}

fn build_error(dir: &Path, text: &str) -> String {
    let path = dir.join("bad.toml");
    std::fs::write(&path, text).unwrap();
    match LoadedSession::load(&path) {
        Err(e) => e.to_string(),
        Ok(loaded) => match Mixer::build(&loaded) {
            Err(e) => e.to_string(),
            Ok(mut m) => match m.render(1, |_| Ok(())) {
                Err(e) => e.to_string(),
                Ok(_) => panic!("accepted: {text}"),
            },
        },
    }
}

#[test]
fn bad_input_is_reported_by_track_and_file() {
    let dir = temp_dir("bad");
    write_wav(&dir.join("short.wav"), 48_000, &[vec![0.1; 4800]]);
    let e = build_error(
        &dir,
        "[project]\n[[track]]\nname = \"Vox\"\nsource = \"missing.wav\"\n",
    );
    assert!(e.contains("Vox") && e.contains("missing.wav"), "{e}");
    let e = build_error(
        &dir,
        "[project]\n[[track]]\nname = \"t\"\n[[track.clip]]\nsource = \"short.wav\"\nlength = 1.0\n",
    );
    assert!(
        e.contains("beyond the end") && e.contains("bad.toml:6"),
        "{e}"
    );
    let e = build_error(
        &dir,
        "[project]\n[[track]]\nname = \"t\"\n[[track.clip]]\nsource = \"short.wav\"\nsource_offset = 0.2\n",
    );
    assert!(e.contains("past the end"), "{e}");
    let e = build_error(
        &dir,
        "[project]\n[[track]]\nname = \"t\"\nsource = \"short.wav\"\ninserts = [ { id = \"d\", delay = { feedback = 1.5 } } ]\n",
    );
    assert!(
        e.contains("bad.toml:5") && e.contains("feedback") && e.contains("0.99"),
        "{e}"
    );
    // NaN in a source: error with the position.
    let mut bytes = std::fs::read(dir.join("short.wav")).unwrap();
    let data = bytes.len() - 4800 * 4;
    bytes[data + 4 * 1234..data + 4 * 1235].copy_from_slice(&f32::NAN.to_le_bytes());
    std::fs::write(dir.join("nan.wav"), bytes).unwrap();
    let e = build_error(
        &dir,
        "[project]\n[[track]]\nname = \"t\"\nsource = \"nan.wav\"\n",
    );
    assert!(e.contains("nan.wav") && e.contains("frame 1234"), "{e}");
}

#[test]
fn the_output_may_not_overwrite_an_input_and_failures_leave_no_file() {
    let dir = temp_dir("overwrite");
    write_wav(&dir.join("a.wav"), 48_000, &[noise(9, 4800, 0.1)]);
    let before = std::fs::read(dir.join("a.wav")).unwrap();
    let loaded = load(
        &dir,
        "[project]\n[[track]]\nname = \"t\"\nsource = \"a.wav\"\n",
    );
    let options = RenderOptions {
        output: dir.join("a.wav"),
        format: FileFormat::Wav,
        encoding: Encoding::Float32,
        threads: 1,
        stems_dir: None,
    };
    let err = render_to_file(&loaded, &options, |_, _| {}).unwrap_err();
    assert!(matches!(err, EngineError::Io(_)), "{err}");
    assert_eq!(std::fs::read(dir.join("a.wav")).unwrap(), before);
    // A render that fails midway (source shorter than the clip claims, found only while
    // streaming) leaves no output behind.
    let ok = dir.join("mix.wav");
    let options = RenderOptions {
        output: ok.clone(),
        ..options
    };
    render_to_file(&loaded, &options, |_, _| {}).unwrap();
    let (_, mix) = read_all(&ok).unwrap();
    assert_eq!(mix.frames(), 4800);
}

#[test]
fn parallel_paths_with_latency_stay_sample_aligned() {
    let dir = temp_dir("latency");
    let mut imp = vec![0.0; 9600];
    imp[1000] = 0.25;
    write_wav(&dir.join("imp.wav"), 48_000, std::slice::from_ref(&imp));
    // a: 5 ms lookahead (240 frames); b: dry; c: dry and, through a send, a
    // bus with 10 ms lookahead; d: keyed from a (its input waits for the key).
    let loaded = load(
        &dir,
        r#"
[project]
pan_law_db = 0
[[track]]
name = "a"
source = "imp.wav"
inserts = [ { id = "la", compressor = { ratio = 1, lookahead_ms = 5 } } ]
[[track]]
name = "b"
source = "imp.wav"
[[track]]
name = "c"
source = "imp.wav"
sends = [ { bus = "fx" } ]
[[track]]
name = "d"
source = "imp.wav"
inserts = [ { id = "duck", compressor = { ratio = 1, sidechain = "a" } } ]
[[bus]]
name = "fx"
inserts = [ { id = "la", compressor = { ratio = 1, lookahead_ms = 10 } } ]
"#,
    );
    let mixer = Mixer::build(&loaded).unwrap();
    assert_eq!(mixer.latency_frames(), 480);
    let out = render(&loaded, 2);
    assert_eq!(out[0].len(), 9600);
    for (i, &x) in out[0].iter().enumerate() {
        let want = if i == 1000 { 5.0 * 0.25 } else { 0.0 };
        assert!((x - want).abs() < 1e-9, "frame {i}: {x}, want {want}");
    }
}

#[test]
fn stems_are_aligned_with_the_mix_and_sum_to_it() {
    let dir = temp_dir("stems");
    write_wav(&dir.join("a.wav"), 48_000, &[noise(10, 9600, 0.2)]);
    write_wav(
        &dir.join("b.wav"),
        48_000,
        &[noise(11, 9600, 0.2), noise(12, 9600, 0.2)],
    );
    let loaded = load(
        &dir,
        r#"
[project]
[[track]]
name = "a"
source = "a.wav"
pan = 0.3
inserts = [ { id = "la", compressor = { ratio = 1, lookahead_ms = 5 } } ]
[[track]]
name = "b/2"
source = "b.wav"
"#,
    );
    let options = RenderOptions {
        output: dir.join("mix.wav"),
        format: FileFormat::Wav,
        encoding: Encoding::Float32,
        threads: 2,
        stems_dir: Some(dir.join("stems")),
    };
    render_to_file(&loaded, &options, |_, _| {}).unwrap();
    let (_, mix) = read_all(&dir.join("mix.wav")).unwrap();
    let (_, a) = read_all(&dir.join("stems/a.wav")).unwrap();
    let (_, b) = read_all(&dir.join("stems/b_2.wav")).unwrap();
    assert_eq!(a.frames(), mix.frames());
    assert_eq!(b.frames(), mix.frames());
    for c in 0..2 {
        for i in 0..mix.frames() {
            let sum = f64::from((a.channel(c)[i] + b.channel(c)[i]) as f32);
            assert!(
                (mix.channel(c)[i] - sum).abs() < 1e-7,
                "channel {c} frame {i}"
            );
        }
    }
}
