//! Stereo imager: width 1 everywhere is an all-pass (flat, no crosstalk);
//! mono below 120 Hz removes the side below 60 Hz by more than 40 dB and
//! leaves it within 0.1 dB above 500 Hz while the mid stays flat; width 0
//! gives L == R; per-band width follows the band responses; parameters;
//! block-size invariance.

mod band_support;

use band_support::{
    RATES, bin_hz, db, fft_len, impulse, noise, null_db, sine, spectrum, tone_amplitude,
    worst_flatness_db,
};
use mixmaster_core::{CoreError, Processor};
use mixmaster_dsp::testing::{assert_block_size_invariant, run_in_blocks};
use mixmaster_dsp::{CrossoverKind, Imager, ImagerOptions};

fn imager(options: ImagerOptions) -> Imager {
    Imager::new(options).unwrap()
}

fn four_bands(widths: [f64; 4]) -> ImagerOptions {
    ImagerOptions {
        crossover_hz: vec![150.0, 1500.0, 8000.0],
        widths: widths.to_vec(),
        ..ImagerOptions::default()
    }
}

#[test]
fn width_one_everywhere_is_an_all_pass() {
    for kind in [
        CrossoverKind::Lr4,
        CrossoverKind::Lr8,
        CrossoverKind::LinearPhase,
    ] {
        for fs in RATES {
            let mut im = imager(ImagerOptions {
                crossover: kind,
                ..four_bands([1.0; 4])
            });
            // An impulse on the left only: the left output is the all-pass
            // (or the delay), the right one stays silent.
            let x = impulse(fft_len(fs), 0);
            let out = run_in_blocks(&mut im, fs, &[x.clone(), vec![0.0; x.len()]], 4096);
            let flat = worst_flatness_db(&out[0], fs);
            let crosstalk = out[1].iter().fold(0.0f64, |m, v| m.max(v.abs()));
            assert!(flat < 0.01, "{kind:?} {fs} Hz: {flat} dB");
            assert!(crosstalk < 1e-12, "{kind:?} {fs} Hz: crosstalk {crosstalk}");
            if kind == CrossoverKind::LinearPhase {
                let d = im.latency_frames();
                assert!((out[0][d] - 1.0).abs() < 1e-12);
            }
            if fs == 48_000 {
                println!("{kind:?}: width 1 flat within {flat:.1e} dB");
            }
        }
    }
}

#[test]
fn mono_below_120_hz_removes_the_low_side_only() {
    for fs in RATES {
        let mut im = imager(ImagerOptions {
            mono_below_hz: Some(120.0),
            ..four_bands([1.0; 4])
        });
        let len = fft_len(fs);
        let x = impulse(len, 0);
        let minus: Vec<f64> = x.iter().map(|v| -v).collect();
        let zero = vec![0.0; len];
        // Pure side in (L = δ, R = −δ): read the side out.
        let out = run_in_blocks(&mut im, fs, &[x.clone(), minus], 4096);
        let side: Vec<f64> = out[0]
            .iter()
            .zip(&out[1])
            .map(|(l, r)| 0.5 * (l - r))
            .collect();
        let mid_leak: Vec<f64> = out[0]
            .iter()
            .zip(&out[1])
            .map(|(l, r)| 0.5 * (l + r))
            .collect();
        assert!(mid_leak.iter().all(|v| v.abs() < 1e-12));
        let s = spectrum(&side);
        let (mut low_worst, mut low_energy, mut low_bins) = (f64::NEG_INFINITY, 0.0, 0);
        let mut high_worst = 0.0f64;
        for (bin, h) in s.iter().enumerate().skip(1) {
            let f = bin_hz(bin, fs, len);
            if f <= 60.0 {
                low_worst = low_worst.max(db(h.norm()));
                low_energy += h.norm_sqr();
                low_bins += 1;
            } else if (500.0..=0.49 * f64::from(fs)).contains(&f) {
                high_worst = high_worst.max(db(h.norm()).abs());
            }
        }
        let energy_db = 10.0 * (low_energy / f64::from(low_bins)).log10();
        println!(
            "{fs} Hz, mono below 120 Hz: side below 60 Hz at most {low_worst:.1} dB \
             (energy {energy_db:.1} dB), above 500 Hz within {high_worst:.2e} dB"
        );
        assert!(low_worst < -40.0, "{fs} Hz: {low_worst} dB");
        assert!(high_worst < 0.1, "{fs} Hz: {high_worst} dB");
        // Pure mid in (L = R = δ): flat, no side.
        let out = run_in_blocks(&mut im, fs, &[x.clone(), x.clone()], 4096);
        assert_eq!(out[0], out[1]);
        let flat = worst_flatness_db(&out[0], fs);
        assert!(flat < 0.01, "{fs} Hz: mid {flat} dB");
        // The left channel alone: below the mono frequency half of it goes
        // to the right.
        let out = run_in_blocks(&mut im, fs, &[x.clone(), zero], 4096);
        let r = spectrum(&out[1]);
        let bin_30 = (30.0 * len as f64 / f64::from(fs)).round() as usize;
        assert!((db(r[bin_30].norm()) + 6.02).abs() < 0.05);
    }
}

#[test]
fn mono_below_with_noise_energy() {
    // The same with noise: side energy below 60 Hz, measured in the output
    // spectrum against the input's. The noise is periodic and played twice;
    // the second period is analysed, so the spectra are exact (no edge
    // effects of the finite window).
    let fs = 48_000;
    let period = 1 << 16;
    let side_period = noise(0.5, period, 7);
    let side_in: Vec<f64> = side_period.iter().chain(&side_period).copied().collect();
    let input = vec![side_in.clone(), side_in.iter().map(|v| -v).collect()];
    let mut im = imager(ImagerOptions {
        mono_below_hz: Some(120.0),
        ..ImagerOptions::default()
    });
    let out = run_in_blocks(&mut im, fs, &input, 1024);
    let side_out: Vec<f64> = out[0][period..]
        .iter()
        .zip(&out[1][period..])
        .map(|(l, r)| 0.5 * (l - r))
        .collect();
    let frames = period;
    let (si, so) = (spectrum(&side_period), spectrum(&side_out));
    let band_energy = |s: &[realfft::num_complex::Complex<f64>], lo: f64, hi: f64| {
        s.iter()
            .enumerate()
            .filter(|(b, _)| (lo..=hi).contains(&bin_hz(*b, fs, frames)))
            .map(|(_, h)| h.norm_sqr())
            .sum::<f64>()
    };
    let low = 10.0 * (band_energy(&so, 1.0, 60.0) / band_energy(&si, 1.0, 60.0)).log10();
    let high =
        10.0 * (band_energy(&so, 500.0, 20_000.0) / band_energy(&si, 500.0, 20_000.0)).log10();
    println!("noise side energy: below 60 Hz {low:.1} dB, 500 Hz–20 kHz {high:.3} dB");
    assert!(low < -40.0);
    assert!(high.abs() < 0.1);
}

#[test]
fn width_zero_is_mono() {
    let input = vec![noise(0.5, 10_000, 1), noise(0.5, 10_000, 2)];
    for kind in [CrossoverKind::Lr4, CrossoverKind::LinearPhase] {
        let mut im = imager(ImagerOptions {
            crossover: kind,
            mono_below_hz: Some(100.0),
            ..four_bands([0.0; 4])
        });
        let out = run_in_blocks(&mut im, 48_000, &input, 333);
        assert_eq!(out[0], out[1], "{kind:?}");
        assert!(out[0].iter().any(|v| v.abs() > 0.1));
    }
}

#[test]
fn width_per_band_scales_the_side_of_that_band() {
    let fs = 48_000;
    let widths = [0.5, 2.0, 1.0, 0.0];
    for (f, amplitude) in [(60.0, 0.3), (500.0, 0.3), (3000.0, 0.3), (14_000.0, 0.3)] {
        let mut im = imager(four_bands(widths));
        let frames = 48_000;
        let s = sine(f, amplitude, fs, frames);
        let input = vec![s.clone(), s.iter().map(|v| -v).collect()];
        let out = run_in_blocks(&mut im, fs, &input, 4096);
        let side: Vec<f64> = out[0]
            .iter()
            .zip(&out[1])
            .map(|(l, r)| 0.5 * (l - r))
            .collect();
        let xo = im.crossover();
        let (mut re, mut im_part) = (0.0, 0.0);
        for (k, w) in widths.iter().enumerate() {
            let h = xo.band_response(k, f);
            re += w * h.0;
            im_part += w * h.1;
        }
        let expected = amplitude * re.hypot(im_part);
        let got = tone_amplitude(&side[24_000..], f, fs);
        assert!(
            (db(got) - db(expected)).abs() < 0.01,
            "{f} Hz: side {got}, expected {expected}"
        );
    }
}

#[test]
fn latency_adds_up_over_the_stages() {
    let mut im = imager(ImagerOptions {
        mono_below_hz: Some(120.0),
        mono_crossover: CrossoverKind::LinearPhase,
        ..ImagerOptions::default()
    });
    im.prepare(48_000, 512, 2).unwrap();
    let mono = im.mono_crossover().unwrap().latency_frames();
    assert!(mono > 0);
    assert_eq!(im.latency_frames(), mono);
    // Bass mono with a linear-phase crossover: the side is the input
    // delayed above the transition band, and nothing below 60 Hz.
    let frames = 1 << 16;
    let x = impulse(frames, 0);
    let minus: Vec<f64> = x.iter().map(|v| -v).collect();
    let out = run_in_blocks(&mut im, 48_000, &[x, minus], 4096);
    let side: Vec<f64> = out[0]
        .iter()
        .zip(&out[1])
        .map(|(l, r)| 0.5 * (l - r))
        .collect();
    let s = spectrum(&side);
    for (bin, h) in s.iter().enumerate().skip(1) {
        let f = bin_hz(bin, 48_000, frames);
        if f <= 60.0 {
            assert!(db(h.norm()) < -70.0, "{f} Hz: {}", db(h.norm()));
        } else if (180.0..20_000.0).contains(&f) {
            assert!(db(h.norm()).abs() < 0.002, "{f} Hz");
        }
    }
}

#[test]
fn parameters_and_validation() {
    let mut im = imager(ImagerOptions::default());
    im.prepare(48_000, 256, 2).unwrap();
    im.set_parameter("band2.width", 1.5).unwrap();
    im.set_parameter("crossover1_hz", 300.0).unwrap();
    assert_eq!(im.options().widths, [1.0, 1.5, 1.0]);
    assert_eq!(im.options().crossover_hz, [300.0, 4000.0]);
    assert!(matches!(
        im.set_parameter("band3.width", 2.5),
        Err(CoreError::OutOfRange {
            name: "band3.width",
            ..
        })
    ));
    assert!(matches!(
        im.set_parameter("band4.width", 1.0),
        Err(CoreError::UnknownParameter { .. })
    ));
    let err = im.set_parameter("mono_below_hz", 100.0).unwrap_err();
    assert!(err.to_string().contains("mono stage is off"), "{err}");
    assert!(matches!(
        im.prepare(48_000, 256, 1),
        Err(CoreError::ChannelCount { .. })
    ));

    let mut mono = imager(ImagerOptions {
        mono_below_hz: Some(120.0),
        ..ImagerOptions::default()
    });
    mono.set_parameter("mono_below_hz", 150.0).unwrap();
    assert_eq!(mono.options().mono_below_hz, Some(150.0));
    assert!(matches!(
        mono.set_parameter("mono_below_hz", 5000.0),
        Err(CoreError::OutOfRange {
            name: "mono_below_hz",
            ..
        })
    ));

    let bad = |o: ImagerOptions| Imager::new(o).unwrap_err().to_string();
    assert!(
        bad(ImagerOptions {
            widths: vec![1.0; 2],
            ..ImagerOptions::default()
        })
        .contains("widths (count)")
    );
    assert!(
        bad(ImagerOptions {
            widths: vec![1.0, 3.0, 1.0],
            ..ImagerOptions::default()
        })
        .contains("band2.width")
    );
    assert!(
        bad(ImagerOptions {
            mono_below_hz: Some(5.0),
            ..ImagerOptions::default()
        })
        .contains("mono_below_hz")
    );
}

#[test]
fn width_changes_ramp() {
    // A width step lands as a 20 ms ramp: the side moves gradually.
    let fs = 48_000;
    let mut im = imager(ImagerOptions {
        crossover_hz: vec![],
        widths: vec![1.0],
        ..ImagerOptions::default()
    });
    im.prepare(fs, 4800, 2).unwrap();
    let mut l = vec![1.0; 4800];
    let mut r = vec![-1.0; 4800];
    im.set_parameter("band1.width", 0.0).unwrap();
    im.process(&mut [&mut l[..], &mut r[..]]);
    let side: Vec<f64> = l.iter().zip(&r).map(|(a, b)| 0.5 * (a - b)).collect();
    assert!((side[0] - (1.0 - 1.0 / 960.0)).abs() < 1e-12);
    assert!((side[479] - 0.5).abs() < 1e-12);
    assert_eq!(side[959], 0.0);
    let steps = side
        .windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .fold(0.0, f64::max);
    assert!(steps < 1.1 / 960.0);
}

#[test]
fn block_size_invariant() {
    let input = vec![noise(0.5, 9000, 3), noise(0.5, 9000, 4)];
    for kind in [CrossoverKind::Lr4, CrossoverKind::LinearPhase] {
        assert_block_size_invariant(
            || {
                imager(ImagerOptions {
                    crossover: kind,
                    mono_below_hz: Some(120.0),
                    ..four_bands([0.3, 1.0, 1.7, 2.0])
                })
            },
            48_000,
            &input,
        );
    }
}

#[test]
fn null_of_width_one_linear_phase_is_deep() {
    let fs = 48_000;
    let input = vec![noise(0.5, 20_000, 5), noise(0.5, 20_000, 6)];
    let mut im = imager(ImagerOptions {
        crossover: CrossoverKind::LinearPhase,
        ..four_bands([1.0; 4])
    });
    let out = run_in_blocks(&mut im, fs, &input, 512);
    let d = im.latency_frames();
    let err: Vec<f64> = (d..20_000).map(|n| out[0][n] - input[0][n - d]).collect();
    let null = null_db(&err, &input[0]);
    println!("imager, linear phase, width 1: null {null:.0} dB at latency {d}");
    assert!(null < -120.0);
}
