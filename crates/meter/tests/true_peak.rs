//! True peak against analytic values and a long reference interpolator.
//!
//! * A sine's true peak is its amplitude. With 4× oversampling the reading
//!   may be low by the sampling-position under-read `20·log10(cos(π·f/(4·fs)))`
//!   (BS.1770-5 Annex 2) plus the interpolator's pass-band error (≤ 0.012 dB
//!   up to 0.35·fs); it is never more than that error high.
//! * Band-limited noise (content up to 0.35·fs) reads within 0.05 dB of a
//!   16× Kaiser-windowed sinc with 128 taps per phase.
//! * Full-band white noise reads low (up to about 1 dB) because any Nyquist
//!   interpolator's transition band is centred on fs/2; libebur128's shorter
//!   filter reads lower still. The test pins that behaviour down.

mod common;

use common::{meter_with, white_noise};
use mixmaster_meter::MeterOptions;

fn true_peak(fs: u32, x: &[f64], oversampling: u32) -> f64 {
    let mut o = MeterOptions::new(fs, 1);
    o.true_peak_oversampling = oversampling;
    meter_with(o, &[x.to_vec()], 4096).true_peak_dbtp
}

#[test]
fn sines_read_their_amplitude() {
    for fs in [44_100u32, 48_000, 96_000, 192_000] {
        for oversampling in [4u32, 8, 16] {
            for (i, f_norm) in [0.013, 0.05, 0.11, 0.2, 0.27, 0.33, 0.35]
                .into_iter()
                .enumerate()
            {
                let amplitude = 0.7;
                let phase = 0.37 + i as f64;
                // 0.1 s with 20 ms raised-cosine fades (an abrupt start is a
                // step, whose band-limited reconstruction overshoots).
                let n = fs as usize / 10;
                let fade = fs as usize / 50;
                let x: Vec<f64> = (0..n)
                    .map(|k| {
                        let edge = k.min(n - 1 - k);
                        let g = if edge < fade {
                            0.5 - 0.5 * (std::f64::consts::PI * edge as f64 / fade as f64).cos()
                        } else {
                            1.0
                        };
                        g * amplitude
                            * (2.0 * std::f64::consts::PI * f_norm * k as f64 + phase).sin()
                    })
                    .collect();
                let got = true_peak(fs, &x, oversampling);
                let want = 20.0 * f64::log10(amplitude);
                let under = 20.0
                    * (std::f64::consts::PI * f_norm / f64::from(oversampling))
                        .cos()
                        .log10();
                assert!(
                    got <= want + 0.015 && got >= want + under - 0.015,
                    "{fs} Hz, {oversampling}x, f = {f_norm}·fs: {got:.4} dBTP, amplitude {want:.4}"
                );
            }
        }
    }
}

/// 16× oversampled, 128-tap-per-phase Kaiser(β = 10) sinc interpolation:
/// the largest |value| away from the signal's ends.
fn reference_true_peak(x: &[f64]) -> f64 {
    const L: usize = 16;
    const HALF: isize = 64;
    let i0 = |v: f64| {
        let (mut s, mut t) = (1.0f64, 1.0f64);
        for k in 1..60 {
            t *= (v / 2.0) * (v / 2.0) / (k * k) as f64;
            s += t;
        }
        s
    };
    let phases: Vec<Vec<f64>> = (0..L)
        .map(|p| {
            (-HALF + 1..=HALF)
                .map(|k| {
                    let t = k as f64 - p as f64 / L as f64;
                    let sinc = if t == 0.0 {
                        1.0
                    } else {
                        (std::f64::consts::PI * t).sin() / (std::f64::consts::PI * t)
                    };
                    let r = t / HALF as f64;
                    sinc * i0(10.0 * (1.0 - r * r).max(0.0).sqrt()) / i0(10.0)
                })
                .collect()
        })
        .collect();
    let mut best = 0.0f64;
    for n in HALF as usize..x.len() - HALF as usize {
        let window = &x[n + 1 - HALF as usize..=n + HALF as usize];
        for c in &phases {
            // Tap k of the window multiplies x[n + 1 − HALF + k], at
            // distance (k + 1 − HALF) − p/L from the point n + p/L.
            let y: f64 = c.iter().rev().zip(window).map(|(a, b)| a * b).sum();
            best = best.max(y.abs());
        }
    }
    20.0 * best.log10()
}

/// White noise low-passed at 0.35·fs (Kaiser-windowed sinc, 255 taps).
fn band_limited_noise(n: usize, seed: u64) -> Vec<f64> {
    let w = white_noise(n + 256, 0.5, seed);
    let fc = 0.35;
    let taps: Vec<f64> = (-127..=127)
        .map(|i: i32| {
            let x = f64::from(i);
            let sinc = if i == 0 {
                2.0 * fc
            } else {
                (2.0 * std::f64::consts::PI * fc * x).sin() / (std::f64::consts::PI * x)
            };
            let r = x / 128.0;
            sinc * (0.5 + 0.5 * (std::f64::consts::PI * r).cos())
        })
        .collect();
    (0..n)
        .map(|k| taps.iter().zip(&w[k..]).map(|(a, b)| a * b).sum())
        .collect()
}

#[test]
fn band_limited_noise_matches_a_long_reference() {
    for (fs, seed) in [(44_100u32, 1u64), (48_000, 2), (96_000, 3)] {
        let x = band_limited_noise(20_000, seed);
        let want = reference_true_peak(&x);
        for oversampling in [4, 8] {
            let got = true_peak(fs, &x, oversampling);
            assert!(
                (got - want).abs() < 0.05,
                "{fs} Hz, {oversampling}x: {got:.4} vs reference {want:.4}"
            );
        }
    }
}

#[test]
fn full_band_noise_reads_low_but_above_libebur128() {
    let fs = 48_000;
    let x = white_noise(20_000, 0.3, 1);
    let want = reference_true_peak(&x);
    let got = true_peak(fs, &x, 4);
    let mut e = ebur128::EbuR128::new(1, fs, ebur128::Mode::TRUE_PEAK).expect("ebur128");
    e.add_frames_f64(&x).expect("frames");
    let theirs = 20.0 * e.true_peak(0).expect("true peak").log10();
    assert!(
        got <= want + 0.05 && got >= want - 1.5,
        "{got:.3} vs reference {want:.3}"
    );
    assert!(got >= theirs - 0.05, "{got:.3} vs libebur128 {theirs:.3}");
}
