//! Dither: the statistical properties of TPDF, the shaped noise spectrum
//! against the theoretical noise transfer function, and reproducibility.

use mixmaster_core::Processor;
use mixmaster_dsp::dither::needs_dither;
use mixmaster_dsp::testing::{assert_block_size_invariant, run_in_blocks};
use mixmaster_dsp::{Dither, DitherOptions, NoiseShaping};
use std::f64::consts::PI;

const FS: u32 = 44_100;

fn dither(bits: u32, shaping: NoiseShaping) -> Dither {
    Dither::new(DitherOptions {
        bits,
        shaping,
        ..DitherOptions::default()
    })
    .unwrap()
}

fn run(d: &mut Dither, input: Vec<f64>) -> Vec<f64> {
    run_in_blocks(d, FS, &[input], 4096).remove(0)
}

#[test]
fn output_lies_on_the_target_grid() {
    for bits in [16, 24] {
        let lsb = 1.0 / f64::from(1u32 << (bits - 1));
        let input: Vec<f64> = (0..10_000).map(|i| 0.7 * (i as f64 * 0.01).sin()).collect();
        for shaping in [NoiseShaping::None, NoiseShaping::Lipshitz] {
            for y in run(&mut dither(bits, shaping), input.clone()) {
                let code = y / lsb;
                assert_eq!(code, code.round(), "{bits}-bit output off the grid");
            }
        }
    }
}

/// TPDF makes the mean and variance of the total error independent of the
/// signal (Lipshitz et al. 1992): at every offset within an LSB the error has
/// mean 0 and variance 1/12 (quantisation) + 2/12 (dither) = 1/4 LSB².
#[test]
fn tpdf_error_moments_do_not_depend_on_the_signal() {
    let lsb = 1.0 / 32768.0;
    for offset_lsb in [0.0, 0.25, 0.5, 0.75, 0.9] {
        let x = (100.0 + offset_lsb) * lsb;
        let out = run(&mut dither(16, NoiseShaping::None), vec![x; 200_000]);
        let errors: Vec<f64> = out.iter().map(|y| (y - x) / lsb).collect();
        let n = errors.len() as f64;
        let mean = errors.iter().sum::<f64>() / n;
        let var = errors.iter().map(|e| (e - mean).powi(2)).sum::<f64>() / n;
        assert!(
            mean.abs() < 0.01,
            "offset {offset_lsb}: mean error {mean} LSB"
        );
        assert!(
            (var - 0.25).abs() < 0.01,
            "offset {offset_lsb}: variance {var} LSB²"
        );
    }
}

#[test]
fn a_sine_below_one_lsb_survives() {
    let lsb = 1.0 / 32768.0;
    let amp = 0.4 * lsb;
    let f = 1000.0 / f64::from(FS);
    let n = 441_000;
    let input: Vec<f64> = (0..n)
        .map(|i| amp * (2.0 * PI * f * i as f64).sin())
        .collect();
    let out = run(&mut dither(16, NoiseShaping::None), input);
    // Project on the sine: the recovered amplitude equals the input's.
    let proj: f64 = out
        .iter()
        .enumerate()
        .map(|(i, y)| y * (2.0 * PI * f * i as f64).sin())
        .sum::<f64>()
        * 2.0
        / n as f64;
    assert!(
        (proj / amp - 1.0).abs() < 0.05,
        "recovered {:.3} of the amplitude",
        proj / amp
    );
}

/// Power spectral density of `e` at `f` (cycles per sample) by the
/// Blackman–Tukey method: Σ w[k]·r[k]·cos(2πfk) over lags |k| ≤ 128.
fn psd(e: &[f64], f: f64) -> f64 {
    let n = e.len();
    let lags = 128usize;
    let r = |k: usize| {
        e[..n - k]
            .iter()
            .zip(&e[k..])
            .map(|(a, b)| a * b)
            .sum::<f64>()
            / n as f64
    };
    let mut s = r(0);
    for k in 1..=lags {
        let w = 0.5 * (1.0 + (PI * k as f64 / (lags + 1) as f64).cos());
        s += 2.0 * w * r(k) * (2.0 * PI * f * k as f64).cos();
    }
    s
}

#[test]
fn shaped_noise_follows_its_transfer_function() {
    let lsb = 1.0 / 32768.0;
    let input: Vec<f64> = (0..400_000)
        .map(|i| 0.25 * (i as f64 * 0.0123).sin())
        .collect();
    for shaping in [NoiseShaping::FirstOrder, NoiseShaping::Lipshitz] {
        let h: Vec<f64> = match shaping {
            NoiseShaping::FirstOrder => vec![1.0],
            _ => vec![
                2.412, -3.370, 3.937, -4.174, 3.353, -2.205, 1.281, -0.569, 0.0847,
            ],
        };
        let out = run(&mut dither(16, shaping), input.clone());
        let e: Vec<f64> = out.iter().zip(&input).map(|(y, x)| (y - x) / lsb).collect();
        for f_hz in [2000.0, 4000.0, 8000.0, 12000.0, 18000.0] {
            let f = f_hz / f64::from(FS);
            // |1 − H(e^{jω})|² × 1/4 LSB² (white total error).
            let (mut re, mut im) = (1.0, 0.0);
            for (k, c) in h.iter().enumerate() {
                let w = 2.0 * PI * f * (k + 1) as f64;
                re -= c * w.cos();
                im += c * w.sin();
            }
            let theory_db = 10.0 * (0.25 * (re * re + im * im)).log10();
            let got_db = 10.0 * psd(&e, f).log10();
            assert!(
                (got_db - theory_db).abs() < 1.5,
                "{shaping:?} at {f_hz} Hz: {got_db:.2} dB, theory {theory_db:.2} dB"
            );
        }
    }
}

#[test]
fn full_scale_input_clamps_without_instability() {
    let input: Vec<f64> = (0..50_000)
        .map(|i| if (i / 50) % 2 == 0 { 1.0 } else { -1.0 })
        .collect();
    let out = run(&mut dither(16, NoiseShaping::Lipshitz), input.clone());
    let max_code = 32767.0 / 32768.0;
    for (y, x) in out.iter().zip(&input) {
        assert!(*y <= max_code && *y >= -1.0);
        assert!(
            (y - x).abs() < 20.0 / 32768.0,
            "shaper ran away: {y} for {x}"
        );
    }
}

#[test]
fn reproducible_and_block_size_invariant() {
    let input: Vec<Vec<f64>> = (0..2)
        .map(|c| {
            (0..10_000)
                .map(|i| 0.3 * ((i + c * 7) as f64 * 0.02).sin())
                .collect()
        })
        .collect();
    for shaping in [
        NoiseShaping::None,
        NoiseShaping::FirstOrder,
        NoiseShaping::Lipshitz,
    ] {
        assert_block_size_invariant(|| dither(16, shaping), FS, &input);
    }
    // Channels get independent noise.
    let silent = vec![vec![0.0; 1000]; 2];
    let out = run_in_blocks(&mut dither(16, NoiseShaping::None), FS, &silent, 1000);
    assert_ne!(out[0], out[1]);
}

#[test]
fn only_dither_when_the_word_length_drops() {
    assert!(!needs_dither(Some(16), 16));
    assert!(!needs_dither(Some(16), 24));
    assert!(needs_dither(Some(24), 16));
    assert!(needs_dither(None, 24));
}

#[test]
fn invalid_settings_are_rejected() {
    assert!(
        Dither::new(DitherOptions {
            bits: 32,
            ..DitherOptions::default()
        })
        .is_err()
    );
    let mut d = dither(16, NoiseShaping::Lipshitz);
    let err = d.prepare(96_000, 64, 2).unwrap_err().to_string();
    assert!(err.contains("96000"), "{err}");
    assert_eq!(
        NoiseShaping::from_name("lipshitz"),
        Some(NoiseShaping::Lipshitz)
    );
}
