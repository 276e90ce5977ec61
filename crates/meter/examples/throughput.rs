//! Throughput of the meter on 60 s of 48 kHz stereo signals, against the
//! `ebur128` crate (a port of libebur128) doing the same measurements
//! (I, LRA, M, S, sample and true peak).
//!
//! ```text
//! CARGO_TARGET_DIR=target-meter cargo run --release -p mixmaster-meter --example throughput
//! cargo run --release -p mixmaster-meter --example throughput -- --ours   # skip the peer
//! ```
//!
//! Signals: white noise with a slowly varying level; pink noise with a
//! tremolo (like the benchmark's `sox … pinknoise vol 0.25 tremolo 0.3 60`);
//! a music-like signal (tones, drums, sections). Blocks of 4096 frames are
//! copied into a small reused buffer before each call, as a decoder thread
//! hands them over (hot in cache); only the time inside the meter counts.
//! Prints nanoseconds per stereo frame; best of three runs on one core.
//! `--signal white|pink|music`, `--config 0|1|2` (4×, 4× with series, 8×)
//! and `--seconds S` select a single case (e.g. for instruction counts
//! under `valgrind --tool=cachegrind`). `--wav FILE` meters a PCM WAV file
//! (16/24/32-bit integer or 32-bit float) streamed in blocks of 4096 frames
//! instead, timing only the meter, to compare with `loudgain` or `ffmpeg`.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Instant;

use mixmaster_meter::{Meter, MeterOptions};

const FS: u32 = 48_000;
const BLOCK: usize = 4096;

/// The value after `--name` on the command line.
fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn best_of<F: FnMut(&[f64], &[f64])>(runs: usize, l: &[f64], r: &[f64], mut feed: F) -> f64 {
    let mut a = vec![0.0; BLOCK];
    let mut b = vec![0.0; BLOCK];
    (0..runs)
        .map(|_| {
            let mut secs = 0.0;
            for (x, y) in l.chunks(BLOCK).zip(r.chunks(BLOCK)) {
                a[..x.len()].copy_from_slice(x);
                b[..y.len()].copy_from_slice(y);
                let t = Instant::now();
                feed(&a[..x.len()], &b[..y.len()]);
                secs += t.elapsed().as_secs_f64();
            }
            secs
        })
        .fold(f64::INFINITY, f64::min)
}

/// Streams a PCM WAV file through a meter; returns the seconds spent in
/// the meter and the report. A minimal reader for this example only.
fn meter_wav(path: &str) -> std::io::Result<(f64, mixmaster_meter::MeterReport)> {
    use std::io::{Error, ErrorKind, Read};
    let bad = |m: &str| Error::new(ErrorKind::InvalidData, m.to_string());
    let mut f = std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(path)?);
    let mut head = [0u8; 12];
    f.read_exact(&mut head)?;
    if &head[..4] != b"RIFF" || &head[8..] != b"WAVE" {
        return Err(bad("not a RIFF/WAVE file"));
    }
    let (mut channels, mut rate, mut bits, mut float) = (0usize, 0u32, 0u16, false);
    loop {
        let mut ch = [0u8; 8];
        f.read_exact(&mut ch)?;
        let size = u32::from_le_bytes([ch[4], ch[5], ch[6], ch[7]]) as usize;
        match &ch[..4] {
            b"fmt " => {
                let mut fmt = vec![0u8; size + size % 2];
                f.read_exact(&mut fmt)?;
                let tag = u16::from_le_bytes([fmt[0], fmt[1]]);
                channels = usize::from(u16::from_le_bytes([fmt[2], fmt[3]]));
                rate = u32::from_le_bytes([fmt[4], fmt[5], fmt[6], fmt[7]]);
                bits = u16::from_le_bytes([fmt[14], fmt[15]]);
                let sub = if tag == 0xFFFE && fmt.len() >= 26 {
                    u16::from_le_bytes([fmt[24], fmt[25]])
                } else {
                    tag
                };
                float = sub == 3;
            }
            b"data" => break,
            _ => {
                let mut skip = vec![0u8; size + size % 2];
                f.read_exact(&mut skip)?;
            }
        }
    }
    if channels == 0 || !matches!((bits, float), (16 | 24 | 32, false) | (32, true)) {
        return Err(bad("unsupported WAV format"));
    }
    let bytes = usize::from(bits / 8);
    let mut meter = Meter::new(MeterOptions {
        series: false,
        ..MeterOptions::new(rate, channels)
    })
    .map_err(|e| bad(&e.to_string()))?;
    let mut raw = vec![0u8; BLOCK * channels * bytes];
    let mut planes = vec![vec![0.0f64; BLOCK]; channels];
    let mut secs = 0.0;
    loop {
        let mut filled = 0;
        while filled < raw.len() {
            match f.read(&mut raw[filled..])? {
                0 => break,
                n => filled += n,
            }
        }
        let frames = filled / (channels * bytes);
        if frames == 0 {
            break;
        }
        for (i, s) in raw[..frames * channels * bytes]
            .chunks_exact(bytes)
            .enumerate()
        {
            let v = match (bits, float) {
                (16, _) => f64::from(i16::from_le_bytes([s[0], s[1]])) / 32768.0,
                (24, _) => f64::from(i32::from_le_bytes([0, s[0], s[1], s[2]]) >> 8) / 8_388_608.0,
                (32, false) => {
                    f64::from(i32::from_le_bytes([s[0], s[1], s[2], s[3]])) / 2_147_483_648.0
                }
                _ => f64::from(f32::from_le_bytes([s[0], s[1], s[2], s[3]])),
            };
            planes[i % channels][i / channels] = v;
        }
        let block: Vec<&[f64]> = planes.iter().map(|p| &p[..frames]).collect();
        let t = Instant::now();
        meter.process(&block).map_err(|e| bad(&e.to_string()))?;
        secs += t.elapsed().as_secs_f64();
    }
    let t = Instant::now();
    let report = meter.report();
    secs += t.elapsed().as_secs_f64();
    Ok((secs, report))
}

fn main() {
    if let Some(path) = arg("--wav") {
        match meter_wav(&path) {
            Ok((secs, r)) => println!(
                "{path}: {:.3} s in the meter ({:.2} ns/frame): I {:.2} LUFS, LRA {:.2} LU, \
                 TP {:.2} dBTP, sample peak {:.2} dBFS, M max {:.2}, S max {:.2}",
                secs,
                secs * 1e9 / r.frames as f64,
                r.integrated_lufs,
                r.lra_lu.unwrap_or(f64::NAN),
                r.true_peak_dbtp,
                r.sample_peak_dbfs,
                r.momentary_max_lufs,
                r.short_term_max_lufs
            ),
            Err(e) => eprintln!("{path}: {e}"),
        }
        return;
    }
    let only_ours = std::env::args().any(|a| a == "--ours");
    let seconds: f64 = arg("--seconds")
        .and_then(|s| s.parse().ok())
        .unwrap_or(60.0);
    let only_signal = arg("--signal");
    let only_config: Option<usize> = arg("--config").and_then(|s| s.parse().ok());
    let runs = if only_signal.is_some() { 1 } else { 3 };
    let n = common::frames(seconds, FS);
    let white = {
        let mut g = common::Noise::new(7);
        let mut l = Vec::with_capacity(n);
        let mut r = Vec::with_capacity(n);
        for i in 0..n {
            let t = i as f64 / f64::from(FS);
            let level = 0.25 * (1.0 + 0.8 * (2.0 * std::f64::consts::PI * 0.2 * t).sin());
            let c = g.next();
            l.push(level * (0.7 * c + 0.3 * g.next()));
            r.push(level * (0.7 * c + 0.3 * g.next()));
        }
        [l, r]
    };
    let pink = [
        common::pink_tremolo(n, FS, 1),
        common::pink_tremolo(n, FS, 2),
    ];
    let music = common::music(seconds, FS, 3);

    for (signal, [l, r]) in [("white", &white), ("pink", &pink), ("music", &music)] {
        if only_signal.as_deref().is_some_and(|s| s != signal) {
            continue;
        }
        let frames = l.len() as f64;
        let line = |name: &str, secs: f64, summary: String| {
            println!(
                "{signal:<13} {name:<26} {:6.2} ns/frame {:6.0}x realtime   {summary}",
                secs * 1e9 / frames,
                seconds / secs
            );
        };
        for (config, (name, series, os)) in [
            ("mixmaster (4x TP)", false, 4),
            ("mixmaster (4x TP, series)", true, 4),
            ("mixmaster (8x TP)", false, 8),
        ]
        .into_iter()
        .enumerate()
        {
            if only_config.is_some_and(|c| c != config) {
                continue;
            }
            let mut o = MeterOptions::new(FS, 2);
            o.series = series;
            o.true_peak_oversampling = os;
            let mut m = Meter::new(o).expect("valid options");
            let secs = best_of(runs, l, r, |a, b| {
                if m.frames() >= l.len() as u64 {
                    m.reset();
                }
                m.process(&[a, b]).expect("stereo block");
            });
            let rep = m.report();
            line(
                name,
                secs,
                format!(
                    "I {:.2} LUFS, LRA {:.2} LU, TP {:.2} dBTP",
                    rep.integrated_lufs,
                    rep.lra_lu.unwrap_or(f64::NAN),
                    rep.true_peak_dbtp
                ),
            );
        }
        if only_ours || only_config.is_some() {
            continue;
        }
        use ebur128::{EbuR128, Mode};
        let mode = Mode::I | Mode::LRA | Mode::TRUE_PEAK | Mode::SAMPLE_PEAK | Mode::M | Mode::S;
        let mut e = EbuR128::new(2, FS, mode).expect("ebur128");
        let mut fed = 0usize;
        let secs = best_of(runs, l, r, |a, b| {
            if fed >= l.len() {
                e.reset();
                fed = 0;
            }
            e.add_frames_planar_f64(&[a, b]).expect("frames");
            fed += a.len();
        });
        let tp = e
            .true_peak(0)
            .unwrap_or(0.0)
            .max(e.true_peak(1).unwrap_or(0.0));
        line(
            "ebur128 crate",
            secs,
            format!(
                "I {:.2} LUFS, LRA {:.2} LU, TP {:.2} dBTP",
                e.loudness_global().unwrap_or(f64::NAN),
                e.loudness_range().unwrap_or(f64::NAN),
                20.0 * tp.log10()
            ),
        );
    }
}
