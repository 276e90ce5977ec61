//! Signal generators shared by the meter's tests (and its throughput
//! example): the EBU Tech 3341/3342 test signals of LOUDNESS_SPEC §1, noise,
//! and a music-like signal. Everything is deterministic.
#![allow(dead_code)]

use std::f64::consts::PI;

use mixmaster_meter::{Meter, MeterOptions, MeterReport};

/// Amplitude of a level in dBFS.
pub fn amp(dbfs: f64) -> f64 {
    10f64.powf(dbfs / 20.0)
}

/// Frames in `seconds` at `fs` (rounded).
pub fn frames(seconds: f64, fs: u32) -> usize {
    (seconds * f64::from(fs)).round() as usize
}

/// A sine `a·sin(2π·f·n/fs + φ)` of `n` samples, with the phase argument
/// reduced exactly (`n·f mod fs` in integers) so long tones stay exact.
pub fn sine(n: usize, fs: u32, freq_hz: u32, amplitude: f64, phase_rad: f64) -> Vec<f64> {
    let fs64 = u64::from(fs);
    (0..n as u64)
        .map(|i| {
            let cycles = (i * u64::from(freq_hz)) % fs64;
            amplitude * (2.0 * PI * cycles as f64 / fs64 as f64 + phase_rad).sin()
        })
        .collect()
}

/// A 1 kHz tone whose level changes between segments `(seconds, dBFS)`
/// (`None` = silence), phase-continuous across segments.
pub fn tone_segments(fs: u32, segments: &[(f64, Option<f64>)]) -> Vec<f64> {
    let total: usize = segments.iter().map(|&(s, _)| frames(s, fs)).sum();
    let carrier = sine(total, fs, 1000, 1.0, 0.0);
    let mut out = Vec::with_capacity(total);
    for &(seconds, level) in segments {
        let start = out.len();
        let a = level.map_or(0.0, amp);
        out.extend(
            carrier[start..start + frames(seconds, fs)]
                .iter()
                .map(|v| v * a),
        );
    }
    out
}

/// Meters planar channels with default options (or `options`), in blocks
/// of `block` frames.
pub fn meter_with(options: MeterOptions, channels: &[Vec<f64>], block: usize) -> MeterReport {
    let mut m = Meter::new(options).expect("valid options");
    feed(&mut m, channels, block);
    m.report()
}

/// Feeds planar channels in blocks of `block` frames.
pub fn feed(m: &mut Meter, channels: &[Vec<f64>], block: usize) {
    let n = channels.first().map_or(0, Vec::len);
    let mut pos = 0;
    while pos < n {
        let end = (pos + block).min(n);
        let blk: Vec<&[f64]> = channels.iter().map(|c| &c[pos..end]).collect();
        m.process(&blk).expect("block");
        pos = end;
    }
}

/// Meters a stereo signal (the same samples in both channels).
pub fn meter_stereo(fs: u32, x: &[f64]) -> MeterReport {
    meter_with(MeterOptions::new(fs, 2), &[x.to_vec(), x.to_vec()], 4096)
}

/// Asserts `got` is within `[want − minus, want + plus]`.
#[track_caller]
pub fn assert_within(what: &str, got: f64, want: f64, minus: f64, plus: f64) {
    assert!(
        got >= want - minus && got <= want + plus,
        "{what}: got {got:.4}, want {want} (−{minus}/+{plus})"
    );
}

/// Tech 3341 true-peak cases 15–19: a stereo sine of `fs/divisor` at
/// `amplitude`, phase `phase_deg`, 1 s with 10 ms linear fades (§1.1).
pub fn tp_sine(fs: u32, divisor: u32, amplitude: f64, phase_deg: f64) -> Vec<f64> {
    let n = fs as usize;
    let fade = frames(0.01, fs);
    let w = 2.0 * PI / f64::from(divisor);
    (0..n)
        .map(|i| {
            let g = (i.min(n - 1 - i) as f64 / fade as f64).min(1.0);
            g * amplitude * (w * i as f64 + phase_deg.to_radians()).sin()
        })
        .collect()
}

/// Tech 3341 cases 20–23 (LOUDNESS_SPEC §1.1): an fs/6 sine at 0.5 FFS
/// (−6 dBFS) with one period of an fs/4 sine of amplitude 1.0 spliced in at
/// a rising zero crossing near 0.51 s, phase-continuous on both sides;
/// synthesized at 4·fs, low-pass filtered (Kaiser-windowed sinc, β = 8,
/// 257 taps at 4·fs, cutoff fs/2) and decimated by 4 starting at `offset`
/// (0 … 3). 1 s, 10 ms fades. At 48 kHz the sample peaks are −0.13, −0.46,
/// −2.51, −0.46 dBFS and the 16× true peaks −0.09, −0.05, −0.10, −0.05
/// dBTP, matching the official files (LOUDNESS_SPEC §1.3).
pub fn tp_splice(fs: u32, offset: usize) -> Vec<f64> {
    tp_splice_with(fs, offset, 0.5, 8.0, 128)
}

/// [`tp_splice`] with a given anti-alias cutoff (fraction of fs), Kaiser β
/// and half length (taps at 4·fs).
pub fn tp_splice_with(fs: u32, offset: usize, cutoff: f64, beta: f64, half: isize) -> Vec<f64> {
    let up = 4usize;
    let n_out = fs as usize;
    // Splice point: a multiple of 6 output samples (a rising zero crossing
    // of the fs/6 sine).
    let splice = (0.51 * f64::from(fs) / 6.0).round() as usize * 6;
    let m0 = splice * up;
    let n_hi = (n_out + 64) * up;
    let a = amp(-6.0);
    let hi: Vec<f64> = (0..n_hi)
        .map(|m| {
            if m < m0 {
                a * (2.0 * PI * m as f64 / 24.0).sin()
            } else if m < m0 + 16 {
                (2.0 * PI * (m - m0) as f64 / 16.0).sin()
            } else {
                a * (2.0 * PI * (m - 16) as f64 / 24.0).sin()
            }
        })
        .collect();
    // Anti-alias low-pass at 4·fs: cutoff `cutoff`·fs.
    let fc = cutoff / up as f64;
    let i0 = |x: f64| {
        let (mut s, mut t) = (1.0f64, 1.0f64);
        for k in 1..50 {
            t *= (x / 2.0) * (x / 2.0) / (k * k) as f64;
            s += t;
        }
        s
    };
    let taps: Vec<f64> = (-half..=half)
        .map(|i| {
            let x = i as f64;
            let sinc = if i == 0 {
                2.0 * fc
            } else {
                (2.0 * PI * fc * x).sin() / (PI * x)
            };
            let r = x / half as f64;
            sinc * i0(beta * (1.0 - r * r).max(0.0).sqrt()) / i0(beta)
        })
        .collect();
    let dc: f64 = taps.iter().sum();
    let fade = frames(0.01, fs);
    (0..n_out)
        .map(|n| {
            let centre = (n * up + offset) as isize + 32 * up as isize;
            let mut acc = 0.0;
            for (k, &t) in taps.iter().enumerate() {
                let idx = centre + k as isize - half;
                if idx >= 0 && (idx as usize) < hi.len() {
                    acc += t * hi[idx as usize];
                }
            }
            let g = (n.min(n_out - 1 - n) as f64 / fade as f64).min(1.0);
            g * acc / dc
        })
        .collect()
}

/// Deterministic xorshift generator of uniform numbers in [−1, 1).
#[derive(Debug, Clone)]
pub struct Noise(u64);

impl Noise {
    pub fn new(seed: u64) -> Self {
        Noise(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    pub fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    }
}

/// White noise at a peak amplitude.
pub fn white_noise(n: usize, amplitude: f64, seed: u64) -> Vec<f64> {
    let mut g = Noise::new(seed);
    (0..n).map(|_| amplitude * g.next()).collect()
}

/// Pink-ish noise (three one-pole low-passes of white noise, ≈ −3 dB per
/// octave over the audio band) with a tremolo: the stand-in of the
/// benchmark's `sox … pinknoise vol 0.25 tremolo 0.3 60`.
pub fn pink_tremolo(n: usize, fs: u32, seed: u64) -> Vec<f64> {
    let mut g = Noise::new(seed);
    let pole = |f: f64| (-2.0 * PI * f / f64::from(fs)).exp();
    let (p1, p2, p3) = (pole(40.0), pole(400.0), pole(4000.0));
    let (mut s1, mut s2, mut s3) = (0.0, 0.0, 0.0);
    (0..n)
        .map(|i| {
            let w = g.next();
            s1 = p1 * s1 + (1.0 - p1) * w * 8.0;
            s2 = p2 * s2 + (1.0 - p2) * w * 2.5;
            s3 = p3 * s3 + (1.0 - p3) * w * 0.8;
            let pink = s1 + s2 + s3 + 0.15 * w;
            let t = i as f64 / f64::from(fs);
            let trem = 1.0 - 0.6 * (0.5 + 0.5 * (2.0 * PI * 0.3 * t).sin());
            0.25 * pink * trem
        })
        .collect()
}

/// A music-like stereo signal: bass and chord tones, kick and hi-hat
/// bursts, a noise bed, with sections of different level (verse/chorus
/// every 8 s) and a short quiet break. Peaks stay below about −1 dBFS.
pub fn music(seconds: f64, fs: u32, seed: u64) -> [Vec<f64>; 2] {
    let n = frames(seconds, fs);
    let f = f64::from(fs);
    let mut g = Noise::new(seed);
    let beat = 0.5; // 120 bpm
    let mut l = Vec::with_capacity(n);
    let mut r = Vec::with_capacity(n);
    let mut hat_state = 0.0;
    for i in 0..n {
        let t = i as f64 / f;
        let section = (t / 8.0) as usize;
        let level = match section % 4 {
            0 => 0.35,
            1 => 0.6,
            2 => 0.25,
            _ => 0.7,
        };
        let in_beat = t % beat;
        let bar_pos = (t / beat) as usize % 4;
        let bass_f = [55.0, 55.0, 73.4, 65.4][(t / 2.0) as usize % 4];
        let bass = 0.5 * (2.0 * PI * bass_f * t).sin() * (-in_beat * 3.0).exp();
        let chord: f64 = [220.0, 277.2, 329.6, 440.0]
            .iter()
            .map(|&fr| (2.0 * PI * fr * t).sin())
            .sum::<f64>()
            * 0.08
            * (1.0 + 0.3 * (2.0 * PI * 0.25 * t).sin());
        let kick = if bar_pos & 1 == 0 {
            0.9 * (2.0 * PI * (50.0 + 100.0 * (-in_beat * 30.0).exp()) * in_beat).sin()
                * (-in_beat * 12.0).exp()
        } else {
            0.0
        };
        let w = g.next();
        let hat_env = (-(t % (beat / 2.0)) * 60.0).exp();
        let hat = (w - hat_state) * 0.25 * hat_env;
        hat_state = w;
        let bed = 0.02 * g.next();
        let break_gain = if (20.0..22.0).contains(&t) { 0.05 } else { 1.0 };
        let g = 0.5 * level * break_gain;
        let mono = g * (bass + kick);
        l.push(mono + g * (chord * 1.1 + hat * 0.8) + bed);
        r.push(mono + g * (chord * 0.9 + hat * 1.2) - bed);
    }
    [l, r]
}

/// Asserts two texts (e.g. `Debug` of reports) are equal, showing the first
/// difference with some context instead of both texts.
#[track_caller]
pub fn assert_same_text(got: &str, want: &str, what: &str) {
    if got == want {
        return;
    }
    let at = got
        .bytes()
        .zip(want.bytes())
        .position(|(a, b)| a != b)
        .unwrap_or(got.len().min(want.len()));
    let from = at.saturating_sub(200);
    let ctx = |s: &str| {
        s.get(from..(at + 80).min(s.len()))
            .unwrap_or("")
            .to_string()
    };
    panic!(
        "{what}: texts differ at byte {at}\n  got:  …{}…\n  want: …{}…",
        ctx(got),
        ctx(want)
    );
}
