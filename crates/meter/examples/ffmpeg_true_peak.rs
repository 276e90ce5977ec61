//! ffmpeg's true-peak reading, modelled ([`FfmpegTruePeak`]): the reading
//! and the time it takes, for WAV files or generated signals.
//!
//! ```text
//! cargo run --release -p mixmaster-meter --example ffmpeg_true_peak -- FILE.wav …
//! cargo run --release -p mixmaster-meter --example ffmpeg_true_peak -- --seconds 600
//! ```
//!
//! For files: the model's peak (linear, to 1e-9, and dBTP), time in the
//! model (best of three; whole file in memory, fed in blocks of 4096 frames)
//! and, with `--reference`, the scalar `f64` twin's peak. Compare with
//! `ffmpeg -i FILE -af volume=1e6:precision=double,ebur128=peak=true:metadata=1,ametadata=mode=print -f null -`
//! (the last `lavfi.r128.true_peak` divided by 10^6; the gain only adds
//! digits to the `%.3f` it prints).
//!
//! Without files: stereo signals of `--seconds` (default 600) at 44.1, 48
//! and 96 kHz: full-band white noise at −3 dBFS peak (every group
//! computed: the worst case), music-like, and noise bursts. Prints
//! nanoseconds per stereo frame and frames per second. One core.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Instant;

use mixmaster_meter::FfmpegTruePeak;

const BLOCK: usize = 4096;

/// The value after `--name` on the command line.
fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

/// Reads a PCM WAV file (16/24/32-bit integer or 32-bit float) into planar
/// `f64`. A minimal reader for this example only.
fn read_wav(path: &str) -> std::io::Result<(u32, Vec<Vec<f64>>)> {
    use std::io::{Error, ErrorKind};
    let bad = |m: &str| Error::new(ErrorKind::InvalidData, m.to_string());
    let data = std::fs::read(path)?;
    if data.len() < 12 || &data[..4] != b"RIFF" || &data[8..12] != b"WAVE" {
        return Err(bad("not a RIFF/WAVE file"));
    }
    let (mut channels, mut rate, mut bits, mut float) = (0usize, 0u32, 0u16, false);
    let mut pos = 12;
    let body = loop {
        let head = data.get(pos..pos + 8).ok_or_else(|| bad("no data chunk"))?;
        let size = u32::from_le_bytes([head[4], head[5], head[6], head[7]]) as usize;
        let chunk = &data[pos + 8..(pos + 8 + size).min(data.len())];
        match &head[..4] {
            b"fmt " if chunk.len() >= 16 => {
                let tag = u16::from_le_bytes([chunk[0], chunk[1]]);
                channels = usize::from(u16::from_le_bytes([chunk[2], chunk[3]]));
                rate = u32::from_le_bytes([chunk[4], chunk[5], chunk[6], chunk[7]]);
                bits = u16::from_le_bytes([chunk[14], chunk[15]]);
                let sub = if tag == 0xFFFE && chunk.len() >= 26 {
                    u16::from_le_bytes([chunk[24], chunk[25]])
                } else {
                    tag
                };
                float = sub == 3;
            }
            b"data" => break chunk,
            _ => {}
        }
        pos += 8 + size + size % 2;
    };
    if channels == 0 || !matches!((bits, float), (16 | 24 | 32, false) | (32, true)) {
        return Err(bad("unsupported WAV format"));
    }
    let bytes = usize::from(bits / 8);
    let mut planes = vec![Vec::new(); channels];
    for (i, s) in body.chunks_exact(bytes).enumerate() {
        let v = match (bits, float) {
            (16, _) => f64::from(i16::from_le_bytes([s[0], s[1]])) / 32768.0,
            (24, _) => f64::from(i32::from_le_bytes([0, s[0], s[1], s[2]]) >> 8) / 8_388_608.0,
            (32, false) => {
                f64::from(i32::from_le_bytes([s[0], s[1], s[2], s[3]])) / 2_147_483_648.0
            }
            _ => f64::from(f32::from_le_bytes([s[0], s[1], s[2], s[3]])),
        };
        planes[i % channels].push(v);
    }
    let frames = planes.iter().map(Vec::len).min().unwrap_or(0);
    planes.iter_mut().for_each(|p| p.truncate(frames));
    Ok((rate, planes))
}

/// Best of three: seconds in the model and its reading.
fn time_model(fs: u32, planes: &[Vec<f64>]) -> (f64, f64) {
    let mut model = FfmpegTruePeak::new(fs, planes.len()).expect("valid rate and channels");
    let frames = planes.first().map_or(0, Vec::len);
    let mut best = f64::INFINITY;
    let runs: usize = arg("--runs").and_then(|s| s.parse().ok()).unwrap_or(3);
    for _ in 0..runs {
        model.reset();
        let t = Instant::now();
        let mut pos = 0;
        while pos < frames {
            let end = (pos + BLOCK).min(frames);
            let block: Vec<&[f64]> = planes.iter().map(|p| &p[pos..end]).collect();
            model.process(&block).expect("block");
            pos = end;
        }
        best = best.min(t.elapsed().as_secs_f64());
    }
    (best, model.peak())
}

fn report(name: &str, fs: u32, planes: &[Vec<f64>], reference: bool) {
    let frames = planes.first().map_or(0, Vec::len) as f64;
    let (secs, peak) = time_model(fs, planes);
    let design = FfmpegTruePeak::new(fs, 1).expect("valid rate");
    let d = design.design();
    print!(
        "{name}: {fs} Hz, {} ch: peak {peak:.9} ({:.4} dBTP); {:.3} s, {:.2} ns/frame, {:.1} M frames/s \
         [L {}, P {}, linear {}]",
        planes.len(),
        20.0 * peak.log10(),
        secs,
        secs * 1e9 / frames,
        frames / secs / 1e6,
        d.filter_length,
        d.phase_count,
        d.linear_interp
    );
    if reference {
        let r = planes
            .iter()
            .map(|p| design.reference_channel_peak(p))
            .fold(0.0, f64::max);
        print!("; reference {r:.9}");
    }
    println!();
}

fn main() {
    let files: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a.ends_with(".wav"))
        .collect();
    let reference = std::env::args().any(|a| a == "--reference");
    if !files.is_empty() {
        for path in &files {
            match read_wav(path) {
                Ok((fs, planes)) => report(path, fs, &planes, reference),
                Err(e) => eprintln!("{path}: {e}"),
            }
        }
        return;
    }
    let seconds: f64 = arg("--seconds")
        .and_then(|s| s.parse().ok())
        .unwrap_or(600.0);
    let only_rate: Option<u32> = arg("--rate").and_then(|s| s.parse().ok());
    let only_signal = arg("--signal");
    let wanted = |name: &str| only_signal.as_deref().is_none_or(|s| name.starts_with(s));
    for fs in [44_100u32, 48_000, 96_000] {
        if only_rate.is_some_and(|r| r != fs) {
            continue;
        }
        let n = common::frames(seconds, fs);
        if wanted("white") {
            let amp = common::amp(-3.0);
            let white = [
                common::white_noise(n, amp, 1),
                common::white_noise(n, amp, 2),
            ];
            report("white noise", fs, &white, reference);
        }
        if wanted("music") {
            let music = common::music(seconds, fs, 3);
            report("music-like", fs, &music, reference);
        }
        if !wanted("bursts") {
            continue;
        }
        // A burst every 250 ms, decaying with a 10 ms time constant.
        let mut g = common::Noise::new(9);
        let mut burst = |i: usize| {
            let t = i % (fs as usize / 4);
            0.9 * (-(t as f64) / (0.01 * f64::from(fs))).exp() * g.next()
        };
        let bursts = [
            (0..n).map(&mut burst).collect(),
            (0..n).map(&mut burst).collect(),
        ];
        report("noise bursts", fs, &bursts, reference);
    }
}
