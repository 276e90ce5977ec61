//! Time the true-peak limiter on one minute of stereo 48 kHz programme-like
//! noise (pink-ish noise plus a kick every 0.5 s, driven +9 dB, blocks of
//! 1024) and print seconds of CPU per minute of audio.
//!
//! `cargo run --release -p mixmaster-dsp --example limiter_throughput [out.f64]`
//! writes the limited output as interleaved little-endian f64 when a path
//! is given (e.g. for `ffmpeg -f f64le -ar 48000 -ac 2 -i out.f64 -af
//! ebur128=peak=true -f null -`).

use mixmaster_core::Processor;
use mixmaster_dsp::rng::SplitMix64;
use mixmaster_dsp::{Limiter, LimiterOptions};
use std::time::Instant;

fn main() {
    let fs = 48_000u32;
    let frames = 60 * fs as usize;
    let mut rng = SplitMix64::new(1);
    let mut input = vec![vec![0.0; frames]; 2];
    for ch in &mut input {
        // Two one-pole low-passes of white noise (a darker, music-like tilt).
        let (mut a, mut b) = (0.0, 0.0);
        for (i, v) in ch.iter_mut().enumerate() {
            a += 0.2 * ((2.0 * rng.next_f64() - 1.0) - a);
            b += 0.2 * (a - b);
            let t = (i % 24_000) as f64 / f64::from(fs);
            let kick = (2.0 * std::f64::consts::PI * 55.0 * t).sin() * (-t / 0.08).exp();
            *v = 0.9 * b + 0.5 * kick;
        }
    }
    let mut limiter = Limiter::new(LimiterOptions {
        gain_db: 9.0,
        ..LimiterOptions::default()
    })
    .expect("valid options");
    limiter.prepare(fs, 1024, 2).expect("valid rate");
    let mut out = input.clone();
    let start = Instant::now();
    for s in (0..frames).step_by(1024) {
        let e = (s + 1024).min(frames);
        let mut block: Vec<&mut [f64]> = out.iter_mut().map(|c| &mut c[s..e]).collect();
        limiter.process(&mut block);
    }
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "{seconds:.3} s for 60 s of stereo 48 kHz ({:.1}× real time); latency {} frames; max GR {:.2} dB, average GR {:.2} dB",
        60.0 / seconds,
        limiter.latency_frames(),
        limiter.max_gain_reduction_db(),
        limiter.average_gain_reduction_db()
    );
    if let Some(path) = std::env::args().nth(1) {
        let mut bytes = Vec::with_capacity(frames * 16);
        for i in 0..frames {
            for c in &out {
                bytes.extend_from_slice(&c[i].to_le_bytes());
            }
        }
        std::fs::write(path, bytes).expect("writable output path");
    }
}
