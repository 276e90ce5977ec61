//! FDN reverb: reverberation time by Schroeder backward integration, echo
//! density by Abel & Huang's normalised echo density profile, stereo
//! decorrelation, exact dry pass-through, automation without clicks, and
//! block-size invariance.

use mixmaster_core::{CoreError, Processor};
use mixmaster_dsp::reverb::line_lengths_frames;
use mixmaster_dsp::rng::SplitMix64;
use mixmaster_dsp::testing::{assert_block_size_invariant, run_in_blocks};
use mixmaster_dsp::{Reverb, ReverbOptions};
use std::f64::consts::PI;

const FS: u32 = 48_000;

/// Options for measuring the wet impulse response.
fn wet(decay_s: f64, damping: f64) -> ReverbOptions {
    ReverbOptions {
        decay_s,
        damping,
        predelay_ms: 0.0,
        mix: 1.0,
        ..ReverbOptions::default()
    }
}

/// Stereo impulse response (the same impulse into both inputs).
fn impulse_response(options: ReverbOptions, fs: u32, seconds: f64) -> Vec<Vec<f64>> {
    let frames = (seconds * f64::from(fs)) as usize;
    let mut x = vec![0.0; frames];
    x[0] = 1.0;
    let mut reverb = Reverb::new(options).unwrap();
    run_in_blocks(&mut reverb, fs, &[x.clone(), x], 4096)
}

/// Reverberation time from an impulse response by Schroeder's backward
/// integration (M. R. Schroeder, "New Method of Measuring Reverberation
/// Time", JASA 37(3), 1965): the energy decay curve
/// `EDC(t) = Σ_{τ≥t} h²(τ)` in dB, a least-squares line fitted between
/// −5 and −35 dB below its start, and `T30 = −60 / slope` (ISO 3382-1:2009,
/// T30: evaluated over 30 dB, extrapolated to 60 dB).
fn t30_s(h: &[f64], fs: u32) -> f64 {
    let mut edc = vec![0.0; h.len()];
    let mut acc = 0.0;
    for (e, x) in edc.iter_mut().zip(h).rev() {
        acc += x * x;
        *e = acc;
    }
    let total = edc[0];
    let (mut n, mut sx, mut sy, mut sxx, mut sxy) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for (i, e) in edc.iter().enumerate() {
        let db = 10.0 * (e / total).log10();
        if (-35.0..=-5.0).contains(&db) {
            let t = i as f64 / f64::from(fs);
            n += 1.0;
            sx += t;
            sy += db;
            sxx += t * t;
            sxy += t * db;
        }
        if db < -35.0 {
            break;
        }
    }
    let slope = (n * sxy - sx * sy) / (n * sxx - sx * sx);
    -60.0 / slope
}

/// RBJ band-pass (constant 0 dB peak gain), R. Bristow-Johnson, "Cookbook
/// formulae for audio EQ biquad filter coefficients"; bandwidth in octaves.
fn band_pass(x: &[f64], fs: u32, f0: f64, octaves: f64) -> Vec<f64> {
    let w0 = 2.0 * PI * f0 / f64::from(fs);
    let alpha = w0.sin() * (2f64.ln() / 2.0 * octaves * w0 / w0.sin()).sinh();
    let a0 = 1.0 + alpha;
    let (b0, b2) = (alpha / a0, -alpha / a0);
    let (a1, a2) = (-2.0 * w0.cos() / a0, (1.0 - alpha) / a0);
    let (mut x1, mut x2, mut y1, mut y2) = (0.0, 0.0, 0.0, 0.0);
    x.iter()
        .map(|&x0| {
            let y0 = b0 * x0 + b2 * x2 - a1 * y1 - a2 * y2;
            (x2, x1, y2, y1) = (x1, x0, y1, y0);
            y0
        })
        .collect()
}

/// Normalised echo density profile at time `t_s` (J. S. Abel and P. Huang,
/// "A Simple, Robust Measure of Reverberation Echo Density", AES 121st
/// Convention, 2006, preprint 6985): the share of samples in a
/// window that lie more than one standard deviation from zero, divided by
/// `erfc(1/√2)`, the share expected of Gaussian noise. 1 means as dense as
/// noise; a sparse set of reflections scores far below 1. Window: 20 ms Hann
/// centred on `t_s`, normalised to unit sum (our choice of length).
fn echo_density(h: &[f64], fs: u32, t_s: f64) -> f64 {
    const ERFC_1_OVER_SQRT2: f64 = 0.317_310_507_862_914_1;
    let half = (0.010 * f64::from(fs)) as usize;
    let centre = (t_s * f64::from(fs)) as usize;
    let w: Vec<f64> = (0..=2 * half)
        .map(|k| 0.5 - 0.5 * (2.0 * PI * k as f64 / (2 * half) as f64).cos())
        .collect();
    let sum_w: f64 = w.iter().sum();
    let seg = &h[centre - half..=centre + half];
    let sigma = (seg.iter().zip(&w).map(|(x, w)| w * x * x).sum::<f64>() / sum_w).sqrt();
    let outside: f64 = seg
        .iter()
        .zip(&w)
        .filter(|(x, _)| x.abs() > sigma)
        .map(|(_, w)| w)
        .sum();
    outside / sum_w / ERFC_1_OVER_SQRT2
}

fn correlation(a: &[f64], b: &[f64]) -> f64 {
    let ab: f64 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let aa: f64 = a.iter().map(|x| x * x).sum();
    let bb: f64 = b.iter().map(|x| x * x).sum();
    ab / (aa * bb).sqrt()
}

fn noise(frames: usize, seed: u64) -> Vec<f64> {
    let mut rng = SplitMix64::new(seed);
    (0..frames).map(|_| rng.next_f64() - 0.5).collect()
}

fn stereo_noise(frames: usize) -> Vec<Vec<f64>> {
    vec![noise(frames, 1), noise(frames, 2)]
}

/// Largest sample-to-sample step, a simple click detector.
fn max_step(x: &[f64]) -> f64 {
    x.windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .fold(0.0, f64::max)
}

fn assert_within(measured: f64, expected: f64, tolerance: f64, what: &str) {
    let err = (measured - expected) / expected;
    assert!(
        err.abs() <= tolerance,
        "{what}: measured {measured:.4} s, expected {expected:.4} s ({:+.1} %)",
        100.0 * err
    );
}

/// Acceptance: T30 within ±10 % of `decay_s` (damping 0) for 0.5, 1 and 2 s
/// at 48 kHz, both outputs; plus other rates and the extreme sizes.
#[test]
fn rt60_by_schroeder_integration_matches_decay() {
    let mut cases: Vec<(u32, f64, f64)> = [0.5, 1.0, 2.0].map(|d| (FS, d, 0.5)).to_vec();
    cases.extend([
        (44_100, 1.0, 0.5),
        (96_000, 1.0, 0.5),
        (192_000, 1.0, 0.5),
        (FS, 1.0, 0.0),
        (FS, 1.0, 1.0),
    ]);
    for (fs, decay, size) in cases {
        let options = ReverbOptions {
            size,
            ..wet(decay, 0.0)
        };
        let h = impulse_response(options, fs, 1.1 * decay + 0.1);
        for (c, ch) in h.iter().enumerate() {
            let t30 = t30_s(ch, fs);
            println!("fs {fs} size {size} decay {decay} s, channel {c}: T30 = {t30:.4} s");
            assert_within(
                t30,
                decay,
                0.10,
                &format!("fs {fs}, size {size}, channel {c}"),
            );
        }
    }
}

/// `decay_s` is the RT60 at low frequencies; damping 0.5 sets the RT60 at
/// 8 kHz to (1 − 0.9·0.5)·decay_s. Measured by T30 in octave bands (1/6
/// octave at 8 kHz, where the RT60 changes fast with frequency).
#[test]
fn damping_shortens_only_the_high_frequencies() {
    let decay = 1.5;
    let damping = 0.5;
    let h = impulse_response(wet(decay, damping), FS, 1.8);
    for f0 in [125.0, 250.0, 500.0] {
        let t30 = t30_s(&band_pass(&h[0], FS, f0, 1.0), FS);
        println!("damping {damping}: {f0} Hz octave T30 = {t30:.4} s (decay_s {decay})");
        assert_within(t30, decay, 0.10, &format!("{f0} Hz octave"));
    }
    let t_hf = (1.0 - 0.9 * damping) * decay;
    let t30 = t30_s(&band_pass(&h[0], FS, 8_000.0, 1.0 / 6.0), FS);
    println!("damping {damping}: 8 kHz 1/6-octave T30 = {t30:.4} s (designed {t_hf:.4})");
    assert_within(t30, t_hf, 0.10, "8 kHz");
    // The RT60 falls monotonically with frequency.
    let bands: Vec<f64> = [250.0, 1000.0, 4000.0, 8000.0]
        .iter()
        .map(|&f| t30_s(&band_pass(&h[0], FS, f, 1.0), FS))
        .collect();
    assert!(bands.windows(2).all(|w| w[1] < w[0]), "{bands:?}");
}

/// Acceptance: with the default settings the normalised echo density
/// (Abel & Huang 2006, 20 ms Hann window, mean of both outputs) first
/// reaches 0.9 within 50 ms of the impulse and stays near 1 afterwards.
#[test]
fn echo_density_reaches_0_9_within_50_ms() {
    let options = ReverbOptions {
        predelay_ms: 0.0,
        mix: 1.0,
        ..ReverbOptions::default()
    };
    let h = impulse_response(options, FS, 0.4);
    let profile: Vec<(usize, f64)> = (11..=300)
        .map(|ms| {
            let t = ms as f64 * 1e-3;
            let ned = 0.5 * (echo_density(&h[0], FS, t) + echo_density(&h[1], FS, t));
            (ms, ned)
        })
        .collect();
    let first = profile.iter().find(|(_, e)| *e >= 0.9).map(|(ms, _)| *ms);
    let after: Vec<f64> = profile
        .iter()
        .filter(|(ms, _)| *ms >= 50)
        .map(|p| p.1)
        .collect();
    let mean = after.iter().sum::<f64>() / after.len() as f64;
    let min = after.iter().copied().fold(f64::INFINITY, f64::min);
    println!("echo density: first >= 0.9 at {first:?} ms; 50..300 ms mean {mean:.3}, min {min:.3}");
    assert!(
        first.is_some_and(|ms| ms <= 50),
        "first crossing at {first:?} ms"
    );
    assert!(mean >= 0.95, "mean echo density {mean} after 50 ms");
    assert!(min >= 0.85, "echo density dips to {min} after 50 ms");
}

/// Acceptance: at width 1 the tails of the two outputs are decorrelated
/// (|ρ| < 0.3, measured from 50 ms to 1 s); at width 0 they are identical.
#[test]
fn width_one_decorrelates_width_zero_is_mono() {
    let tail = (FS as usize / 20)..(FS as usize);
    let h = impulse_response(wet(1.5, 0.3), FS, 1.0);
    let rho = correlation(&h[0][tail.clone()], &h[1][tail.clone()]);
    println!("width 1: L/R correlation of the tail = {rho:.4}");
    assert!(rho.abs() < 0.3, "ρ = {rho}");

    let h = impulse_response(
        ReverbOptions {
            width: 0.0,
            ..wet(1.5, 0.3)
        },
        FS,
        1.0,
    );
    assert_eq!(h[0], h[1], "width 0 must give identical outputs");
    let rho_half = {
        let h = impulse_response(
            ReverbOptions {
                width: 0.5,
                ..wet(1.5, 0.3)
            },
            FS,
            1.0,
        );
        correlation(&h[0][tail.clone()], &h[1][tail])
    };
    println!("width 0.5: ρ = {rho_half:.4}");
    assert!(rho_half > 0.5 && rho_half < 1.0);
}

/// Acceptance: mix = 0 passes the input through exactly, including after
/// the mix has been automated away and back.
#[test]
fn mix_zero_is_exact_dry_pass_through() {
    let input = stereo_noise(FS as usize / 2);
    let options = ReverbOptions {
        mix: 0.0,
        ..ReverbOptions::default()
    };
    let mut reverb = Reverb::new(options).unwrap();
    assert_eq!(run_in_blocks(&mut reverb, FS, &input, 64), input);

    // mix 0 → 0.5 → 0: once the ramp has landed, the output is the dry input.
    let mut reverb = Reverb::new(options).unwrap();
    reverb.prepare(FS, 4800, 2).unwrap();
    let mut out = input.clone();
    let mut step = |reverb: &mut Reverb, range: std::ops::Range<usize>| {
        let mut block: Vec<&mut [f64]> = out.iter_mut().map(|c| &mut c[range.clone()]).collect();
        reverb.process(&mut block);
    };
    step(&mut reverb, 0..4800);
    reverb.set_parameter("mix", 0.5).unwrap();
    step(&mut reverb, 4800..9600);
    reverb.set_parameter("mix", 0.0).unwrap();
    for k in 2..5 {
        step(&mut reverb, k * 4800..(k + 1) * 4800);
    }
    // The ramp lasts 20 ms = 960 frames.
    for c in 0..2 {
        assert_ne!(out[c][4800..9600], input[c][4800..9600]);
        assert_eq!(out[c][9600 + 960..24_000], input[c][9600 + 960..24_000]);
    }
}

#[test]
fn block_size_invariant() {
    let frames = FS as usize / 4;
    let mut input = stereo_noise(frames);
    for c in &mut input {
        c.extend(std::iter::repeat_n(0.0, frames));
    }
    assert_block_size_invariant(
        || Reverb::new(ReverbOptions::default()).unwrap(),
        FS,
        &input,
    );
    let mono = vec![input[0].clone()];
    let options = ReverbOptions {
        size: 1.0,
        damping: 0.8,
        ..ReverbOptions::default()
    };
    assert_block_size_invariant(|| Reverb::new(options).unwrap(), 44_100, &mono);
}

/// Parameter changes do not click. The input is a sine and the reverb has
/// reached its steady state (a short decay), so the output is a sine too and
/// its largest sample-to-sample step is small; after each change the step
/// stays of that order — within 4 times, allowing for the pitch glide of a
/// size change and the new steady-state level (a jump would be ~30 times
/// larger at 220 Hz).
#[test]
fn automation_does_not_click() {
    let f = 220.0;
    let frames = FS as usize;
    let sine: Vec<f64> = (0..frames)
        .map(|n| 0.5 * (2.0 * PI * f * n as f64 / f64::from(FS)).sin())
        .collect();
    let changes = [
        ("size", 1.0),
        ("size", 0.0),
        ("decay_s", 0.5),
        ("damping", 1.0),
        ("predelay_ms", 137.0),
        ("width", 0.0),
        ("diffusion", 0.0),
        ("mix", 1.0),
    ];
    for (name, value) in changes {
        let options = ReverbOptions {
            decay_s: 0.2,
            mix: 0.7,
            ..ReverbOptions::default()
        };
        let mut reverb = Reverb::new(options).unwrap();
        reverb.prepare(FS, 4800, 2).unwrap();
        let mut out = vec![sine.clone(), sine.clone()];
        let change_at = 6 * 4800;
        for start in (0..frames).step_by(4800) {
            if start == change_at {
                reverb.set_parameter(name, value).unwrap();
            }
            let mut block: Vec<&mut [f64]> = out
                .iter_mut()
                .map(|c| &mut c[start..start + 4800])
                .collect();
            reverb.process(&mut block);
        }
        for ch in &out {
            let before = max_step(&ch[change_at - 4800..change_at]);
            let after = max_step(&ch[change_at..]);
            println!("{name} -> {value}: max step before {before:.4}, after {after:.4}");
            assert!(
                after < 3.0 * before,
                "{name}: step {after} after, {before} before"
            );
        }
    }
}

#[test]
fn tail_frames_covers_the_decay_to_minus_90_db() {
    let options = ReverbOptions {
        decay_s: 0.3,
        predelay_ms: 20.0,
        ..wet(0.3, 0.0)
    };
    let mut reverb = Reverb::new(options).unwrap();
    reverb.prepare(FS, 512, 2).unwrap();
    let tail = reverb.tail_frames();
    let expected = 0.02 * 48_000.0 + 1.5 * 0.3 * 48_000.0;
    assert!(
        tail as f64 >= expected && (tail as f64) < expected + 0.1 * 48_000.0,
        "{tail}"
    );
    let h = impulse_response(options, FS, 0.8);
    for ch in &h {
        let peak = ch.iter().fold(0.0f64, |a, x| a.max(x.abs()));
        let late = ch[tail..].iter().fold(0.0f64, |a, x| a.max(x.abs()));
        let below_db = 20.0 * (late / peak).log10();
        println!("tail {tail} frames; largest sample after it: {below_db:.1} dB re peak");
        assert!(below_db < -90.0);
    }
    // Bounded: the longest decay gives a finite tail.
    let mut long = Reverb::new(ReverbOptions {
        decay_s: 30.0,
        ..ReverbOptions::default()
    })
    .unwrap();
    long.prepare(FS, 512, 2).unwrap();
    assert!(long.tail_frames() < 50 * 48_000);
}

#[test]
fn stable_at_the_extremes() {
    let options = ReverbOptions {
        decay_s: 30.0,
        size: 1.0,
        damping: 0.0,
        diffusion: 1.0,
        mix: 1.0,
        ..ReverbOptions::default()
    };
    let mut reverb = Reverb::new(options).unwrap();
    let input = stereo_noise(FS as usize);
    let out = run_in_blocks(&mut reverb, FS, &input, 4096);
    let peak = out.iter().flatten().fold(0.0f64, |a, x| a.max(x.abs()));
    assert!(peak.is_finite() && peak < 20.0, "peak {peak}");
    // Lossless matrix: the network's energy never grows without input.
    let options = ReverbOptions {
        size: 0.0,
        decay_s: 0.1,
        ..options
    };
    let out = run_in_blocks(&mut Reverb::new(options).unwrap(), FS, &input, 4096);
    assert!(out.iter().flatten().all(|x| x.is_finite()));
}

#[test]
fn line_lengths_are_distinct_primes_scaled_by_size() {
    fn is_prime(n: usize) -> bool {
        n > 1
            && (2..)
                .take_while(|k| k * k <= n)
                .all(|k| !n.is_multiple_of(k))
    }
    for fs in [44_100, 48_000, 96_000, 192_000] {
        let small = line_lengths_frames(0.0, fs);
        let large = line_lengths_frames(1.0, fs);
        for lengths in [small, large] {
            assert!(lengths.iter().all(|&d| is_prime(d)), "{lengths:?}");
            assert!(lengths.windows(2).all(|w| w[0] < w[1]), "{lengths:?}");
        }
        let ratio = small[15] as f64 / large[15] as f64;
        assert!((ratio - 0.25).abs() < 0.01, "{ratio}");
        // 20 ms .. 80 ms at size 1.
        let ms = |d: usize| d as f64 * 1e3 / f64::from(fs);
        assert!((ms(large[0]) - 20.0).abs() < 0.2 && (ms(large[15]) - 80.0).abs() < 0.2);
    }
}

#[test]
fn settings_are_validated() {
    let bad = [
        ReverbOptions {
            decay_s: 0.05,
            ..ReverbOptions::default()
        },
        ReverbOptions {
            size: 1.5,
            ..ReverbOptions::default()
        },
        ReverbOptions {
            damping: -0.1,
            ..ReverbOptions::default()
        },
        ReverbOptions {
            predelay_ms: 600.0,
            ..ReverbOptions::default()
        },
        ReverbOptions {
            width: f64::NAN,
            ..ReverbOptions::default()
        },
        ReverbOptions {
            mix: 2.0,
            ..ReverbOptions::default()
        },
        ReverbOptions {
            diffusion: 1.1,
            ..ReverbOptions::default()
        },
    ];
    for options in bad {
        assert!(matches!(
            Reverb::new(options),
            Err(CoreError::OutOfRange { .. })
        ));
    }
    let msg = Reverb::new(bad[0]).unwrap_err().to_string();
    assert!(
        msg.contains("decay_s") && msg.contains("0.1 ..= 30"),
        "{msg}"
    );

    let mut reverb = Reverb::new(ReverbOptions::default()).unwrap();
    let err = reverb.set_parameter("room", 1.0).unwrap_err().to_string();
    assert!(
        err.contains("decay_s") && err.contains("predelay_ms"),
        "{err}"
    );
    assert!(reverb.set_parameter("size", 2.0).is_err());
    assert_eq!(
        reverb.options().size,
        0.5,
        "a rejected value changes nothing"
    );
    for name in [
        "decay_s",
        "size",
        "damping",
        "predelay_ms",
        "width",
        "mix",
        "diffusion",
    ] {
        reverb.set_parameter(name, 0.2).unwrap();
    }
    assert_eq!(reverb.options().decay_s, 0.2);
    let err = reverb.prepare(FS, 64, 3).unwrap_err().to_string();
    assert!(err.contains("channels"), "{err}");
}
