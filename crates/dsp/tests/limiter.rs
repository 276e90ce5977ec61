//! True-peak limiter: never over the ceiling by three meters (ours, the
//! `ebur128` port of libebur128, and an independent 16× interpolator written
//! here), transparency below the threshold, steady-state level, release and
//! its program dependence, latency, metering, automation, block-size
//! invariance and options.

mod dynamics_support;

use dynamics_support::{amp, db, noise, sine};
use mixmaster_core::{CoreError, Processor};
use mixmaster_dsp::limiter::{AttackShape, Character, TRUE_PEAK_MARGIN_DB};
use mixmaster_dsp::testing::{assert_block_size_invariant, run_in_blocks};
use mixmaster_dsp::{Limiter, LimiterOptions};
use mixmaster_meter::{Meter, MeterOptions};
use std::f64::consts::PI;

fn limiter(options: LimiterOptions) -> Limiter {
    Limiter::new(options).unwrap()
}

/// The whole limited signal: the input followed by 50 ms of silence, so
/// the output holds everything the limiter delayed (cutting it off would
/// add a step that no limiter saw).
fn limit(options: LimiterOptions, fs: u32, input: &[Vec<f64>], block: usize) -> Vec<Vec<f64>> {
    let tail = fs as usize / 20;
    let padded: Vec<Vec<f64>> = input
        .iter()
        .map(|c| {
            c.iter()
                .copied()
                .chain(std::iter::repeat_n(0.0, tail))
                .collect()
        })
        .collect();
    let mut l = limiter(options);
    let out = run_in_blocks(&mut l, fs, &padded, block);
    assert!(l.latency_frames() < tail);
    out
}

// ---------------------------------------------------------------------------
// Independent true-peak reference: 16× polyphase interpolation with a
// Blackman-windowed sinc of 96 taps per phase (a different window, length,
// factor and code from the limiter's detector and from the meter). Its
// computed error against ideal band-limited interpolation is ≤ 3.4e-4
// (0.003 dB) up to 0.47·fs; its 16× grid under-reads a 20 kHz tone at
// 44.1 kHz by at most cos(π·0.4535/16) = −0.034 dB.
// ---------------------------------------------------------------------------

const REF_FACTOR: usize = 16;
const REF_HALF: usize = 48;

fn reference_phases() -> Vec<Vec<f64>> {
    let (l, j) = (REF_FACTOR, REF_HALF);
    (0..l)
        .map(|p| {
            let mut c: Vec<f64> = (0..2 * j)
                .map(|k| {
                    let i = (l * (j - 1)) as f64 - (l * k) as f64 + p as f64;
                    let x = i / l as f64;
                    let sinc = if x == 0.0 {
                        1.0
                    } else {
                        (PI * x).sin() / (PI * x)
                    };
                    let t = (i + (l * j) as f64) / (2 * l * j) as f64;
                    let w = 0.42 - 0.5 * (2.0 * PI * t).cos() + 0.08 * (4.0 * PI * t).cos();
                    sinc * w
                })
                .collect();
            let s: f64 = c.iter().sum();
            c.iter_mut().for_each(|v| *v /= s);
            c
        })
        .collect()
}

/// Largest interpolated magnitude of `x` (zero-padded at both ends), in dB.
fn reference_true_peak_db(channels: &[Vec<f64>]) -> f64 {
    let phases = reference_phases();
    let taps = 2 * REF_HALF;
    let mut best = 0.0f64;
    for x in channels {
        let mut buf = vec![0.0; x.len() + 2 * taps];
        buf[taps..taps + x.len()].copy_from_slice(x);
        best = x.iter().fold(best, |m, v| m.max(v.abs()));
        const CH: usize = 16;
        let intervals = buf.len() - taps;
        let mut i0 = 0;
        while i0 + CH <= intervals {
            for c in &phases[1..] {
                let mut acc = [0.0f64; CH];
                for (k, &ck) in c.iter().enumerate() {
                    let w = &buf[i0 + k..i0 + k + CH];
                    for i in 0..CH {
                        acc[i] += ck * w[i];
                    }
                }
                for a in acc {
                    best = best.max(a.abs());
                }
            }
            i0 += CH;
        }
    }
    db(best)
}

fn meter_true_peak_db(channels: &[Vec<f64>], fs: u32) -> f64 {
    let mut m = Meter::new(MeterOptions::new(fs, channels.len())).unwrap();
    m.process(channels).unwrap();
    m.report().true_peak_dbtp
}

fn ebur128_true_peak_db(channels: &[Vec<f64>], fs: u32) -> f64 {
    let mut e = ebur128::EbuR128::new(channels.len() as u32, fs, ebur128::Mode::TRUE_PEAK).unwrap();
    let planar: Vec<&[f64]> = channels.iter().map(Vec::as_slice).collect();
    e.add_frames_planar_f64(&planar).unwrap();
    let peak = (0..channels.len() as u32)
        .map(|c| e.true_peak(c).unwrap())
        .fold(0.0, f64::max);
    db(peak)
}

// ---------------------------------------------------------------------------
// Test signals (stereo unless said otherwise).
// ---------------------------------------------------------------------------

fn frames_for(fs: u32) -> usize {
    fs as usize / 2
}

fn white_noise(fs: u32) -> Vec<Vec<f64>> {
    let n = frames_for(fs);
    vec![noise(1.0, n, 11), noise(1.0, n, 12)]
}

fn square(fs: u32) -> Vec<Vec<f64>> {
    // A naive (not band-limited) full-scale square at 997 Hz: its Gibbs
    // overshoot puts the true peak well above the samples.
    let n = frames_for(fs);
    let x: Vec<f64> = (0..n)
        .map(|i| {
            if (997.0 * i as f64 / f64::from(fs)).fract() < 0.5 {
                1.0
            } else {
                -1.0
            }
        })
        .collect();
    vec![x.clone(), x.iter().map(|v| -v).collect()]
}

fn quarter_rate_sine(fs: u32) -> Vec<Vec<f64>> {
    // fs/4 at 45°: samples at ±0.707 (−3 dBFS), true peak 0 dBTP.
    let n = frames_for(fs);
    let x: Vec<f64> = (0..n)
        .map(|i| (PI / 2.0 * i as f64 + PI / 4.0).sin())
        .collect();
    vec![x.clone(), x]
}

fn sweep(fs: u32) -> Vec<Vec<f64>> {
    // Exponential sweep 20 Hz → 20 kHz at full scale, faded in and out
    // (see `abrupt_near_nyquist_cut` for a sweep cut off at 20 kHz).
    let n = frames_for(fs);
    let (f0, f1) = (20.0f64, 20_000.0f64);
    let t_total = n as f64 / f64::from(fs);
    let k = (f1 / f0).ln() / t_total;
    let x: Vec<f64> = (0..n)
        .map(|i| {
            let t = i as f64 / f64::from(fs);
            // 10 ms linear fades, as the Tech 3341 tones have.
            let fade = ((n - i).min(i + 1) as f64 / (0.01 * f64::from(fs))).min(1.0);
            fade * (2.0 * PI * f0 * ((k * t).exp() - 1.0) / k).sin()
        })
        .collect();
    vec![x.clone(), x]
}

fn clipped_drums(fs: u32) -> Vec<Vec<f64>> {
    // Every 120 ms a hit: a 5 ms noise burst plus a decaying 80 Hz thump,
    // driven 10 dB and hard-clipped at ±1.
    let n = frames_for(fs);
    let hiss = noise(1.0, n, 5);
    let period = (0.12 * f64::from(fs)) as usize;
    let x: Vec<f64> = (0..n)
        .map(|i| {
            let t = (i % period) as f64 / f64::from(fs);
            let v = hiss[i] * (-t / 0.005).exp() + (2.0 * PI * 80.0 * t).sin() * (-t / 0.04).exp();
            (3.16 * v).clamp(-1.0, 1.0)
        })
        .collect();
    vec![x.clone(), x.iter().rev().copied().collect()]
}

fn bass_heavy(fs: u32) -> Vec<Vec<f64>> {
    // 60 Hz at −3 dBFS plus a kick (a 50 Hz thump with a click) every 250 ms.
    let n = frames_for(fs);
    let period = (0.25 * f64::from(fs)) as usize;
    let x: Vec<f64> = (0..n)
        .map(|i| {
            let t = i as f64 / f64::from(fs);
            let tk = (i % period) as f64 / f64::from(fs);
            let kick = (2.0 * PI * (50.0 * tk + 400.0 * tk * (-tk / 0.01).exp())).sin()
                * (-tk / 0.08).exp();
            0.7 * (2.0 * PI * 60.0 * t).sin() + 0.6 * kick
        })
        .collect();
    vec![x.clone(), x.iter().map(|v| 0.9 * v).collect()]
}

/// 10 ms linear fade-in and fade-out (the Tech 3341 tones are tapered).
fn fade(signal: &mut [Vec<f64>], fs: u32) {
    let ramp = 0.01 * f64::from(fs);
    for c in signal {
        let n = c.len();
        for (i, v) in c.iter_mut().enumerate() {
            *v *= ((n - i).min(i + 1) as f64 / ramp).min(1.0);
        }
    }
}

type Signal = (&'static str, fn(u32) -> Vec<Vec<f64>>);

const SIGNALS: [Signal; 6] = [
    ("white noise", white_noise),
    ("square", square),
    ("fs/4 sine at 45°", quarter_rate_sine),
    ("sweep", sweep),
    ("clipped drums", clipped_drums),
    ("bass + kick", bass_heavy),
];

/// Runs the never-over matrix for one sample rate; returns the worst
/// excess over the ceiling by (our meter, ebur128, reference) in dB.
fn never_over_at(fs: u32) -> [f64; 3] {
    let mut worst = [f64::NEG_INFINITY; 3];
    let mut failures = Vec::new();
    for (name, make) in SIGNALS {
        let mut input = make(fs);
        if std::env::var("FADE_ALL").is_ok() {
            fade(&mut input, fs);
        }
        let mut signal_worst = [f64::NEG_INFINITY; 3];
        for ceiling in [-1.0, -0.1, -2.0] {
            for drive in [6.0, 12.0, 20.0] {
                let options = LimiterOptions {
                    ceiling_dbtp: ceiling,
                    gain_db: drive,
                    ..LimiterOptions::default()
                };
                let out = limit(options, fs, &input, 1024);
                let ours = meter_true_peak_db(&out, fs) - ceiling;
                let lib = ebur128_true_peak_db(&out, fs) - ceiling;
                let reference = reference_true_peak_db(&out) - ceiling;
                let case = format!("{name}, {fs} Hz, ceiling {ceiling}, drive +{drive}");
                if ours > 0.0 {
                    failures.push(format!("{case}: our meter reads {ours:+.4} dB over"));
                }
                if lib > 0.0 {
                    failures.push(format!("{case}: ebur128 reads {lib:+.4} dB over"));
                }
                if reference > 0.02 {
                    failures.push(format!(
                        "{case}: the 16× reference reads {reference:+.4} dB over"
                    ));
                }
                // The limiter did work: the output is within a dB of the
                // ceiling (it is not just turned down).
                if reference < -1.0 {
                    failures.push(format!("{case}: only {reference:+.4} dB"));
                }
                for (w, v) in signal_worst.iter_mut().zip([ours, lib, reference]) {
                    *w = w.max(v);
                }
            }
        }
        println!(
            "{fs} Hz {name}: worst TP − ceiling: meter {:+.4}, ebur128 {:+.4}, reference {:+.4} dB",
            signal_worst[0], signal_worst[1], signal_worst[2]
        );
        for (w, v) in worst.iter_mut().zip(signal_worst) {
            *w = w.max(v);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    worst
}

#[test]
fn never_over_the_ceiling_at_44_1_khz() {
    never_over_at(44_100);
}

#[test]
fn never_over_the_ceiling_at_48_khz() {
    never_over_at(48_000);
}

#[test]
fn never_over_the_ceiling_at_96_khz() {
    never_over_at(96_000);
}

#[test]
#[ignore]
fn debug_print() {
    for fs in [44_100u32, 48_000] {
        for (name, make) in SIGNALS {
            let input = make(fs);
            for o in [
                LimiterOptions {
                    gain_db: 6.0,
                    ..LimiterOptions::default()
                },
                LimiterOptions {
                    gain_db: 6.0,
                    true_peak: false,
                    ..LimiterOptions::default()
                },
            ] {
                let out = limit(o, fs, &input, 1024);
                let sp = db(out.iter().flatten().fold(0.0f64, |m, v| m.max(v.abs())));
                if let Ok(dir) = std::env::var("LIMITER_DUMP") {
                    let mut bytes = Vec::new();
                    for i in 0..out[0].len() {
                        for c in &out {
                            bytes.extend_from_slice(&c[i].to_le_bytes());
                        }
                    }
                    let file = format!(
                        "{dir}/{}_{}_{}.f64",
                        name.replace([' ', '/', '°', '+'], "_"),
                        fs,
                        o.true_peak
                    );
                    std::fs::write(file, bytes).unwrap();
                }
                println!(
                    "{name} tp={}: sample {:+.4} meter {:+.4} ebur {:+.4} ref {:+.4}",
                    o.true_peak,
                    sp,
                    meter_true_peak_db(&out, fs),
                    ebur128_true_peak_db(&out, fs),
                    reference_true_peak_db(&out),
                );
            }
        }
    }
}
