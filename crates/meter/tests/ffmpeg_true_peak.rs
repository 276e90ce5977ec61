//! Differential test of [`FfmpegTruePeak`] against ffmpeg itself (the peer
//! it models): signals generated here, written as 32-bit float WAV, read by
//! `ffmpeg -af ebur128=peak=true` at 44.1, 48 and 96 kHz.
//!
//! * **Exact:** ffmpeg prints the true peak linear with 3 decimals
//!   (`metadata=1`, `lavfi.r128.true_peaks_chN`); a `volume=1e6` in double
//!   precision before the filter scales every resampled value by 10^6 (the
//!   resampler is linear), so the same figure carries 9 significant digits.
//!   The model agrees per channel within [`EXACT_DB`] (measured: below
//!   1e-7 dB, the printed digits).
//! * **As the matrix benchmark reads it** (no gain): the model's peak rounds
//!   to ffmpeg's 3-decimal linear figure, and its dB value to the summary's
//!   one-decimal "Peak".
//!
//! Signals (2 s each, multiples of ffmpeg's 100 ms frames so the last
//! metadata holds the whole file): noise bursts with instantaneous onsets,
//! full-band white noise, sines at 15, 19 and 21 kHz, the music-like test
//! signal, clipped noise (an "already limited" master: large inter-sample
//! peaks), and music with a spike in the last 16 samples (which ffmpeg never
//! reads: its resampler is not flushed).
//!
//! `scripts/test.sh` installs ffmpeg; outside CI a machine without it skips
//! with a note, and with `CI=true` a missing ffmpeg fails the test.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Noise, amp, frames, music, white_noise};
use mixmaster_meter::FfmpegTruePeak;

/// Largest |model − ffmpeg| in dB with the 10^6 gain (9 digits).
const EXACT_DB: f64 = 1e-4;
/// Gain that adds digits to ffmpeg's `%.3f`.
const GAIN: f64 = 1e6;
const SECONDS: f64 = 2.0;

/// Whether ffmpeg runs; with `CI=true` its absence fails the test.
fn ffmpeg_available() -> bool {
    let ok = Command::new("ffmpeg").arg("-version").output().is_ok();
    if !ok {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "ffmpeg is not installed (apt-get install ffmpeg); CI must not skip this check"
        );
        eprintln!("ffmpeg not installed; skipping the comparison with ffmpeg");
    }
    ok
}

/// A directory removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("mm-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Writes planar channels as a 32-bit float WAV (`WAVE_FORMAT_IEEE_FLOAT`).
fn write_wav(path: &Path, fs: u32, channels: &[Vec<f64>]) {
    let (nch, n) = (channels.len() as u32, channels[0].len() as u32);
    let data = n * nch * 4;
    let mut b = Vec::with_capacity(44 + data as usize);
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&(36 + data).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&16u32.to_le_bytes());
    b.extend_from_slice(&3u16.to_le_bytes());
    b.extend_from_slice(&(nch as u16).to_le_bytes());
    b.extend_from_slice(&fs.to_le_bytes());
    b.extend_from_slice(&(fs * nch * 4).to_le_bytes());
    b.extend_from_slice(&(nch as u16 * 4).to_le_bytes());
    b.extend_from_slice(&32u16.to_le_bytes());
    b.extend_from_slice(b"data");
    b.extend_from_slice(&data.to_le_bytes());
    for i in 0..n as usize {
        for c in channels {
            b.extend_from_slice(&(c[i] as f32).to_le_bytes());
        }
    }
    std::fs::write(path, b).expect("write WAV");
}

/// ffmpeg's reading: the last per-channel true peaks (linear) of the
/// metadata, divided by `gain`, and the summary's "Peak" in dB.
fn ffmpeg_true_peaks(path: &Path, channels: usize, gain: f64) -> (Vec<f64>, f64) {
    let meter = "ebur128=peak=true:metadata=1,ametadata=mode=print";
    let filter = if gain == 1.0 {
        meter.to_string()
    } else {
        format!("volume={gain}:precision=double,{meter}")
    };
    let out = Command::new("ffmpeg")
        .args(["-nostdin", "-hide_banner", "-nostats", "-i"])
        .arg(path)
        .args(["-af", &filter, "-f", "null", "-"])
        .output()
        .expect("run ffmpeg");
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "ffmpeg failed:\n{log}");
    let last = |key: &str| -> f64 {
        let at = log
            .rfind(key)
            .unwrap_or_else(|| panic!("no {key} in:\n{log}"));
        let value: String = log[at + key.len()..]
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        value.parse::<f64>().expect("number") / gain
    };
    let peaks = (0..channels)
        .map(|c| last(&format!("lavfi.r128.true_peaks_ch{c}=")))
        .collect();
    let summary = &log[log.rfind("Summary:").expect("summary")..];
    let at = summary.find("Peak:").expect("summary peak") + "Peak:".len();
    let word = summary[at..].split_whitespace().next().expect("peak value");
    let summary_db = if word.ends_with("inf") {
        f64::NEG_INFINITY
    } else {
        word.parse().expect("summary dB")
    };
    (peaks, summary_db)
}

fn db(x: f64) -> f64 {
    20.0 * x.log10()
}

/// The model's per-channel peaks, fed in blocks of 4096 frames.
fn model_peaks(fs: u32, channels: &[Vec<f64>]) -> Vec<f64> {
    let mut m = FfmpegTruePeak::new(fs, channels.len()).expect("model");
    let n = channels[0].len();
    for start in (0..n).step_by(4096) {
        let end = (start + 4096).min(n);
        let block: Vec<&[f64]> = channels.iter().map(|c| &c[start..end]).collect();
        m.process(&block).expect("block");
    }
    m.channel_peaks().collect()
}

/// The test signals at `fs`, rounded to `f32` as the WAV stores them.
fn signals(fs: u32) -> Vec<(&'static str, Vec<Vec<f64>>)> {
    let n = frames(SECONDS, fs);
    let f = f64::from(fs);
    let bursts = |seed: u64| {
        // 30 ms of noise every 250 ms, full level from the first sample.
        let mut g = Noise::new(seed);
        (0..n)
            .map(|i| {
                let t = i % (fs as usize / 4);
                let v = g.next();
                if t < frames(0.03, fs) {
                    0.9 * v * (-(t as f64) / (0.01 * f)).exp()
                } else {
                    0.0
                }
            })
            .collect::<Vec<f64>>()
    };
    let sine = |hz: f64, phase: f64| {
        (0..n)
            .map(|i| 0.5 * (2.0 * std::f64::consts::PI * hz * i as f64 / f + phase).sin())
            .collect::<Vec<f64>>()
    };
    let clipped: Vec<f64> = white_noise(n, 3.0, 11)
        .iter()
        .map(|v| v.clamp(-0.5, 0.5))
        .collect();
    let [l, r] = music(SECONDS, fs, 3);
    let mut spiked = l.clone();
    spiked[n - 10] = 0.99;
    let list = vec![
        ("noise bursts", vec![bursts(1), bursts(2)]),
        (
            "full-band noise",
            vec![white_noise(n, amp(-1.0), 3), white_noise(n, amp(-1.0), 4)],
        ),
        (
            "sines 15/19/21 kHz",
            vec![
                sine(15_000.0, 0.3),
                sine(19_000.0, 1.1),
                sine(21_000.0, 2.0),
            ],
        ),
        ("music-like", vec![l, r]),
        ("clipped noise", vec![clipped]),
        ("spike in the last 16 samples", vec![spiked]),
    ];
    list.into_iter()
        .map(|(name, chans)| {
            let rounded = chans
                .into_iter()
                .map(|c| c.into_iter().map(|v| f64::from(v as f32)).collect())
                .collect();
            (name, rounded)
        })
        .collect()
}

#[test]
fn model_reads_what_ffmpeg_reads() {
    if !ffmpeg_available() {
        return;
    }
    let dir = TempDir::new("ffmpeg-true-peak");
    let mut worst = 0f64;
    for fs in [44_100u32, 48_000, 96_000] {
        for (i, (name, channels)) in signals(fs).into_iter().enumerate() {
            let path = dir.0.join(format!("{fs}-{i}.wav"));
            write_wav(&path, fs, &channels);
            let ours = model_peaks(fs, &channels);
            let what = |c: usize| format!("{name} at {fs} Hz, channel {c}");

            let (exact, _) = ffmpeg_true_peaks(&path, channels.len(), GAIN);
            for (c, (&o, &e)) in ours.iter().zip(&exact).enumerate() {
                let d = db(o) - db(e);
                worst = worst.max(d.abs());
                println!(
                    "{:<40} ffmpeg {:+.6} dBTP, model {:+.6} dBTP ({d:+.1e} dB)",
                    what(c),
                    db(e),
                    db(o)
                );
                assert!(
                    d.abs() <= EXACT_DB,
                    "{}: model {o:.9} vs ffmpeg {e:.9} ({d:+.6} dB)",
                    what(c)
                );
            }

            let (plain, summary_db) = ffmpeg_true_peaks(&path, channels.len(), 1.0);
            for (c, (&o, &p)) in ours.iter().zip(&plain).enumerate() {
                assert!(
                    (o - p).abs() <= 0.0005 + 1e-9,
                    "{}: model {o:.6} does not round to ffmpeg's {p:.3}",
                    what(c)
                );
            }
            let ours_db = db(ours.iter().fold(0.0, |m: f64, &v| m.max(v)));
            assert!(
                (ours_db - summary_db).abs() <= 0.05 + 1e-9,
                "{name} at {fs} Hz: model {ours_db:.4} dBTP, ffmpeg summary {summary_db:.1}"
            );
        }
    }
    println!("largest |model − ffmpeg|: {worst:.2e} dB");
}
