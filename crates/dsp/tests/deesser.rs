//! De-esser: a sibilant-band tone above threshold is reduced by the amount
//! the static curve predicts; a low tone is untouched; the split sums back
//! to the (delayed) input exactly when nothing is reduced; latency, range,
//! automation and block-size invariance.

mod dynamics_support;

use dynamics_support::{amp, db, noise, rms, sine, tone_amplitude};
use mixmaster_core::{CoreError, Processor};
use mixmaster_dsp::testing::{assert_block_size_invariant, run_in_blocks};
use mixmaster_dsp::{DeEsser, DeEsserDetector, DeEsserOptions};
use std::f64::consts::{FRAC_1_SQRT_2, PI};

const FS: u32 = 48_000;

fn deesser(options: DeEsserOptions) -> DeEsser {
    DeEsser::new(options).unwrap()
}

/// The split band written out independently: RBJ-cookbook Butterworth
/// high-pass, direct form I.
fn highpass(x: &[f64], freq_hz: f64) -> Vec<f64> {
    let w0 = 2.0 * PI * freq_hz / f64::from(FS);
    let alpha = w0.sin() / (2.0 * FRAC_1_SQRT_2);
    let c = w0.cos();
    let a0 = 1.0 + alpha;
    let b = [(1.0 + c) / 2.0 / a0, -(1.0 + c) / a0, (1.0 + c) / 2.0 / a0];
    let a = [-2.0 * c / a0, (1.0 - alpha) / a0];
    let (mut x1, mut x2, mut y1, mut y2) = (0.0, 0.0, 0.0, 0.0);
    x.iter()
        .map(|&x0| {
            let y0 = b[0] * x0 + b[1] * x1 + b[2] * x2 - a[0] * y1 - a[1] * y2;
            (x2, x1, y2, y1) = (x1, x0, y1, y0);
            y0
        })
        .collect()
}

#[test]
fn sibilant_tone_is_reduced_by_the_expected_amount() {
    let (t, r) = (-30.0, 4.0);
    for (freq, level) in [(10_000.0, -10.0), (7000.0, -20.0), (12_000.0, -3.0)] {
        let mut d = deesser(DeEsserOptions {
            freq_hz: 6000.0,
            threshold_db: t,
            ratio: r,
            range_db: -40.0,
            attack_ms: 0.05,
            release_ms: 500.0,
            ..DeEsserOptions::default()
        });
        let n = 24_000;
        let x = sine(freq, amp(level), FS, n);
        let out = run_in_blocks(&mut d, FS, std::slice::from_ref(&x), 500);

        // Oracle: detector band peak → static curve → the tone, which lies
        // in the band's stopband-free region, comes out `reduction` lower.
        let band = highpass(&x, 6000.0);
        let tail = n / 2..n;
        let peak = band[tail.clone()]
            .iter()
            .fold(0.0f64, |m, v| m.max(v.abs()));
        let reduction = (1.0 - 1.0 / r) * (db(peak) - t);

        assert!(
            (d.gain_reduction_db() - reduction).abs() < 0.1,
            "{freq} Hz: reduction {} dB, expected {reduction}",
            d.gain_reduction_db()
        );
        let got = db(rms(&out[0][tail.clone()]) / rms(&x[tail]));
        assert!(
            (got + reduction).abs() < 0.1,
            "{freq} Hz: output changed by {got} dB, expected {}",
            -reduction
        );
    }
}

#[test]
fn bandpass_detector_reads_the_tone_at_its_centre() {
    let mut d = deesser(DeEsserOptions {
        freq_hz: 6000.0,
        detector: DeEsserDetector::Bandpass,
        threshold_db: -30.0,
        ratio: 4.0,
        range_db: -40.0,
        attack_ms: 0.05,
        release_ms: 500.0,
    });
    let x = sine(6000.0, amp(-10.0), FS, 24_000);
    run_in_blocks(&mut d, FS, &[x], 256);
    // 0 dB band-pass gain at the centre: (1 − 1/4)·(−10 + 30) = 15 dB.
    assert!((d.gain_reduction_db() - 15.0).abs() < 0.05);
}

/// `x` delayed by `d` frames (same length).
fn delayed(x: &[f64], d: usize) -> Vec<f64> {
    let mut y = vec![0.0; d.min(x.len())];
    y.extend_from_slice(&x[..x.len() - y.len()]);
    y
}

/// A sine faded in over 20 ms (raised cosine), so its onset has no click
/// that would itself be sibilance.
fn faded_sine(freq_hz: f64, amplitude: f64, frames: usize) -> Vec<f64> {
    let fade = 960.0;
    sine(freq_hz, amplitude, FS, frames)
        .into_iter()
        .enumerate()
        .map(|(n, v)| v * 0.5 * (1.0 - (PI * (n as f64 / fade).min(1.0)).cos()))
        .collect()
}

#[test]
fn latency_is_the_split_filter_delay() {
    for fs in [44_100, 48_000, 96_000] {
        let mut d = deesser(DeEsserOptions::default());
        let mut impulse = vec![0.0; 2000];
        impulse[0] = 0.01; // far below threshold
        let out = run_in_blocks(&mut d, fs, &[impulse], 256);
        let latency = d.latency_frames();
        assert!(out[0][latency] == 0.01 && out[0].iter().filter(|v| **v != 0.0).count() == 1);
        // About 4 ms of FIR: 1000 Hz transition at 70 dB.
        assert!(
            (latency as f64 / f64::from(fs) - 0.0022).abs() < 0.0003,
            "{fs}: {latency}"
        );
    }
}

#[test]
fn low_tone_is_untouched() {
    for detector in [DeEsserDetector::Highpass, DeEsserDetector::Bandpass] {
        let mut d = deesser(DeEsserOptions {
            detector,
            ..DeEsserOptions::default()
        });
        let x = vec![
            faded_sine(500.0, amp(-1.0), 24_000),
            faded_sine(300.0, 0.9, 24_000),
        ];
        let out = run_in_blocks(&mut d, FS, &x, 1000);
        let latency = d.latency_frames();
        assert!(out[0] == delayed(&x[0], latency), "{detector:?}");
        assert!(out[1] == delayed(&x[1], latency), "{detector:?}");
        assert_eq!(d.max_gain_reduction_db(), 0.0);
    }
}

#[test]
fn split_sums_back_to_the_input_when_inactive() {
    // Below threshold: a low tone and quiet sibilance.
    let n = 24_000;
    let x: Vec<f64> = faded_sine(200.0, 0.5, n)
        .iter()
        .zip(sine(8000.0, amp(-50.0), FS, n))
        .zip(noise(amp(-60.0), n, 9))
        .map(|((a, b), c)| a + b + c)
        .collect();
    let mut d = deesser(DeEsserOptions::default());
    let out = run_in_blocks(&mut d, FS, std::slice::from_ref(&x), 512);
    let latency = d.latency_frames();
    let reference = delayed(&x, latency);
    let worst = out[0]
        .iter()
        .zip(&reference)
        .map(|(y, x)| (y - x).abs())
        .fold(0.0, f64::max);
    assert!(worst <= 1e-9, "{worst}");
    assert!(out[0] == reference, "exact, in fact");

    // Loud sibilance but ratio 1: nothing to reduce, the sum is exact too.
    let loud: Vec<f64> = x.iter().zip(noise(0.5, n, 4)).map(|(a, b)| a + b).collect();
    let mut d = deesser(DeEsserOptions {
        ratio: 1.0,
        ..DeEsserOptions::default()
    });
    let out = run_in_blocks(&mut d, FS, std::slice::from_ref(&loud), 512);
    assert!(out[0] == delayed(&loud, latency));
}

#[test]
fn only_the_band_is_reduced() {
    let n = 48_000;
    let (low_f, high_f) = (300.0, 10_000.0);
    let low = sine(low_f, amp(-6.0), FS, n);
    let high = sine(high_f, amp(-10.0), FS, n);
    let x: Vec<f64> = low.iter().zip(&high).map(|(a, b)| a + b).collect();
    let mut d = deesser(DeEsserOptions {
        threshold_db: -30.0,
        ratio: 4.0,
        range_db: -40.0,
        release_ms: 500.0,
        ..DeEsserOptions::default()
    });
    let out = run_in_blocks(&mut d, FS, std::slice::from_ref(&x), 4096);
    let tail = &out[0][n / 2..];
    let low_change = db(tone_amplitude(tail, low_f, FS) / amp(-6.0));
    let high_change = db(tone_amplitude(tail, high_f, FS) / amp(-10.0));
    // 300 Hz lies in the split low-pass's passband: untouched.
    assert!(
        low_change.abs() < 0.01,
        "{low_f} Hz changed by {low_change} dB"
    );
    // 10 kHz is in the band: it drops by the whole reduction.
    let reduction = d.gain_reduction_db();
    assert!(reduction > 10.0, "{reduction}");
    assert!(
        (high_change + reduction).abs() < 0.2,
        "{high_f} Hz changed by {high_change} dB, reduction {reduction} dB"
    );
}

#[test]
fn range_limits_the_reduction() {
    let mut d = deesser(DeEsserOptions {
        threshold_db: -60.0,
        ratio: f64::INFINITY,
        range_db: -12.0,
        ..DeEsserOptions::default()
    });
    run_in_blocks(&mut d, FS, &[sine(9000.0, 0.5, FS, 9600)], 480);
    assert!((d.max_gain_reduction_db() - 12.0).abs() < 1e-9);
    d.clear_max_gain_reduction();
    assert_eq!(d.max_gain_reduction_db(), 0.0);
}

#[test]
fn automation_and_validation() {
    let mut d = deesser(DeEsserOptions::default());
    d.prepare(44_100, 441, 1).unwrap();
    let x = noise(0.5, 44_100, 11);
    let mut out = x.clone();
    for (k, block) in out.chunks_mut(441).enumerate() {
        if k == 20 {
            d.set_parameter("freq_hz", 4000.0).unwrap();
            d.set_parameter("threshold_db", -40.0).unwrap();
        }
        d.process(&mut [block]);
    }
    assert!(out.iter().all(|v| v.is_finite() && v.abs() < 1.0));
    assert_eq!(d.options().freq_hz, 4000.0);
    for (name, value) in [
        ("ratio", 8.0),
        ("range_db", -20.0),
        ("attack_ms", 2.0),
        ("release_ms", 80.0),
    ] {
        d.set_parameter(name, value).unwrap();
    }
    // 20 kHz is in range but not below 0.45 × 44.1 kHz.
    assert!(matches!(
        d.set_parameter("freq_hz", 20_000.0),
        Err(CoreError::OutOfRange {
            name: "freq_hz",
            ..
        })
    ));
    let mut high = deesser(DeEsserOptions {
        freq_hz: 20_000.0,
        ..DeEsserOptions::default()
    });
    assert!(high.prepare(44_100, 64, 2).is_err());
    assert!(high.prepare(48_000, 64, 2).is_ok());
    assert!(matches!(
        d.set_parameter("mix", 0.5),
        Err(CoreError::UnknownParameter { .. })
    ));
    assert_eq!(
        DeEsserDetector::from_name("bandpass"),
        Some(DeEsserDetector::Bandpass)
    );
}

#[test]
fn block_size_invariant() {
    let n = 24_000;
    let ess = |n: usize| {
        if (n / 2500).is_multiple_of(2) {
            0.4
        } else {
            0.01
        }
    };
    let input = vec![
        noise(1.0, n, 5)
            .iter()
            .enumerate()
            .map(|(i, v)| v * ess(i))
            .collect::<Vec<_>>(),
        sine(7000.0, 1.0, FS, n)
            .iter()
            .enumerate()
            .map(|(i, v)| v * ess(i + 900))
            .collect(),
    ];
    for detector in [DeEsserDetector::Highpass, DeEsserDetector::Bandpass] {
        let options = DeEsserOptions {
            detector,
            ..DeEsserOptions::default()
        };
        assert_block_size_invariant(|| deesser(options), FS, &input);
    }
}

#[test]
fn automated_frequency_sweep_is_block_size_invariant_and_click_free() {
    // Automation lands at frame 4480, a multiple of 1, 7 and 64.
    let x = faded_sine(5000.0, 0.5, 14_336);
    let run = |block: usize| {
        let mut d = deesser(DeEsserOptions {
            freq_hz: 8000.0,
            threshold_db: -40.0,
            range_db: -20.0,
            ..DeEsserOptions::default()
        });
        d.prepare(FS, block, 1).unwrap();
        let mut out = x.clone();
        for (k, chunk) in out.chunks_mut(block).enumerate() {
            if k * block == 4480 {
                d.set_parameter("freq_hz", 3000.0).unwrap();
            }
            d.process(&mut [chunk]);
        }
        out
    };
    let reference = run(64);
    assert!(run(1) == reference && run(7) == reference);
    // The 5 kHz tone moves from below the split into the band: its level
    // falls smoothly (no sample jumps far off the sine's own slope).
    // Largest step of the sampled sine itself: 2·A·sin(π·f/fs).
    let slope = 2.0 * 0.5 * (PI * 5000.0 / f64::from(FS)).sin();
    let max_step = reference
        .windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .fold(0.0, f64::max);
    assert!(max_step <= slope * 1.001, "{max_step} vs {slope}");
    let before = db(rms(&reference[2400..4400]) / rms(&x[2400..4400]));
    let after = db(rms(&reference[12_000..]) / rms(&x[12_000..]));
    assert!(before.abs() < 0.1 && after < -10.0, "{before} {after}");
}
