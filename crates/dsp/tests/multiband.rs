//! Multiband compressor: with compression off the output is the crossover's
//! all-pass (flat) or delay; each band follows the compressor's static
//! curve; mid/side leaves the side alone when only mid is compressed; mix 0
//! is the phase/delay-compensated dry; bypass; latency; parameter names;
//! block-size invariance.

mod band_support;

use band_support::{
    RATES, crossovers, db, fft_len, impulse, noise, null_db, sine, tone_amplitude,
    worst_flatness_db,
};
use mixmaster_core::{CoreError, Processor};
use mixmaster_dsp::fft_fir::default_partition_frames;
use mixmaster_dsp::testing::{assert_block_size_invariant, run_in_blocks};
use mixmaster_dsp::{BandOptions, CrossoverKind, Multiband, MultibandOptions};

fn multiband(options: MultibandOptions) -> Multiband {
    Multiband::new(options).unwrap()
}

fn options(kind: CrossoverKind, n_bands: usize, band: BandOptions) -> MultibandOptions {
    MultibandOptions {
        crossover: kind,
        crossover_hz: crossovers(n_bands),
        bands: vec![band; n_bands],
        ..MultibandOptions::default()
    }
}

fn heavy() -> BandOptions {
    BandOptions {
        threshold_db: -40.0,
        ratio: 8.0,
        knee_db: 6.0,
        attack_ms: 1.0,
        release_ms: 50.0,
        makeup_db: 6.0,
        bypass: false,
    }
}

/// Ratio 1 and no make-up: the band passes unchanged.
fn off() -> BandOptions {
    BandOptions {
        ratio: 1.0,
        makeup_db: 0.0,
        ..heavy()
    }
}

/// The static curve written out independently of the implementation:
/// Giannoulis, Massberg & Reiss, JAES 60(6), 2012, Eq. (4).
fn static_output_db(x: f64, t: f64, r: f64, w: f64) -> f64 {
    if 2.0 * (x - t) < -w {
        x
    } else if 2.0 * (x - t).abs() <= w && w > 0.0 {
        x + (1.0 / r - 1.0) * (x - t + w / 2.0).powi(2) / (2.0 * w)
    } else {
        t + (x - t) / r
    }
}

#[test]
fn compression_off_gives_the_flat_all_pass_sum() {
    let mut worst = 0.0f64;
    for kind in [CrossoverKind::Lr2, CrossoverKind::Lr4, CrossoverKind::Lr8] {
        for fs in RATES {
            for n_bands in 2..=5 {
                let mut mb = multiband(options(kind, n_bands, off()));
                let x = impulse(fft_len(fs), 0);
                let out = run_in_blocks(&mut mb, fs, &[x.clone(), x], 4096);
                let flat = worst_flatness_db(&out[0], fs);
                worst = worst.max(flat);
                assert!(flat < 0.01, "{kind:?} {fs} Hz {n_bands} bands: {flat} dB");
                assert_eq!(out[0], out[1]);
            }
        }
    }
    // Threshold above the signal: an impulse of 0.5 (−6 dBFS) never reaches
    // the knee of a 0 dBFS threshold.
    let above = BandOptions {
        threshold_db: 0.0,
        makeup_db: 0.0,
        ..heavy()
    };
    let fs = 48_000;
    let mut mb = multiband(options(CrossoverKind::Lr4, 5, above));
    let x: Vec<f64> = impulse(fft_len(fs), 0).iter().map(|v| 0.5 * v).collect();
    let out = run_in_blocks(&mut mb, fs, &[x.clone(), x], 4096);
    let scaled: Vec<f64> = out[0].iter().map(|v| 2.0 * v).collect();
    let flat = worst_flatness_db(&scaled, fs);
    worst = worst.max(flat);
    assert!(flat < 0.01, "threshold above the signal: {flat} dB");
    println!("multiband, compression off: flat within {worst:.1e} dB");
}

#[test]
fn compression_off_with_linear_phase_is_the_delayed_input() {
    for n_bands in 2..=5 {
        let fs = 48_000;
        let mut mb = multiband(options(CrossoverKind::LinearPhase, n_bands, off()));
        let x = noise(0.5, 20_000, 5);
        let out = run_in_blocks(&mut mb, fs, &[x.clone(), x.clone()], 1000);
        let d = mb.latency_frames();
        assert!(d > 0);
        let err: Vec<f64> = (d..x.len()).map(|n| out[0][n] - x[n - d]).collect();
        let null = null_db(&err, &x);
        println!("linear phase, {n_bands} bands, latency {d}: null {null:.0} dB");
        assert!(null < -120.0, "{n_bands} bands: {null} dB");
    }
}

#[test]
fn each_band_follows_the_compressor_static_curve() {
    let fs = 48_000;
    let (t, r, w) = (-30.0, 4.0, 6.0);
    let band = BandOptions {
        threshold_db: t,
        ratio: r,
        knee_db: w,
        attack_ms: 0.0,
        release_ms: 5000.0,
        makeup_db: 0.0,
        bypass: false,
    };
    // A tone in the middle of each band: an octave below 120 Hz, the
    // geometric centres, an octave and a quarter above 6 kHz.
    let tones = [60.0, 350.0, 2500.0, 14_000.0];
    let mut worst = 0.0f64;
    for (k, &f) in tones.iter().enumerate() {
        for peak_db in [-40.0, -31.0, -28.0, -20.0, -10.0, -3.0] {
            let mut mb = multiband(options(CrossoverKind::Lr4, 4, band));
            let frames = 72_000;
            let a = 10f64.powf(peak_db / 20.0);
            // A 100 ms raised-cosine fade-in, so no band overshoots its
            // steady level (the release is long).
            let x: Vec<f64> = sine(f, a, fs, frames)
                .into_iter()
                .enumerate()
                .map(|(n, v)| {
                    let fade = (n as f64 / 4800.0).min(1.0);
                    v * (0.5 - 0.5 * (std::f64::consts::PI * fade).cos())
                })
                .collect();
            let minus: Vec<f64> = x.iter().map(|v| -v).collect();
            let out = run_in_blocks(&mut mb, fs, &[x, minus], 4096);
            // Expected: each band j carries the tone at a·|H_j(f)| and gets
            // the static gain for that peak level; the output is the sum.
            let xo = mb.crossover();
            let (mut re, mut im) = (0.0, 0.0);
            let mut band_gain_db = 0.0;
            for j in 0..4 {
                let h = xo.band_response(j, f);
                let level = db(a * h.0.hypot(h.1));
                let g_db = static_output_db(level, t, r, w) - level;
                if j == k {
                    band_gain_db = g_db;
                }
                let g = 10f64.powf(g_db / 20.0);
                re += g * h.0;
                im += g * h.1;
            }
            let expected = db(a * re.hypot(im));
            let got = db(tone_amplitude(&out[0][frames - 24_000..], f, fs));
            let err = (got - expected).abs();
            worst = worst.max(err);
            assert!(
                err < 0.1,
                "band {k} at {f} Hz, {peak_db} dBFS: {got:.3} dB, expected {expected:.3}"
            );
            // The band's meter shows the static reduction.
            let meter = mb.gain_reduction_db(k);
            assert!(
                (meter + band_gain_db).abs() < 0.1,
                "band {k}, {peak_db} dBFS: meter {meter}, expected {}",
                -band_gain_db
            );
        }
    }
    println!("multiband static curve: worst error {worst:.3} dB");
}

/// `(L + R)/2` and `(L − R)/2` of a stereo output.
fn mid_side(out: &[Vec<f64>]) -> (Vec<f64>, Vec<f64>) {
    let m = out[0].iter().zip(&out[1]).map(|(l, r)| 0.5 * (l + r));
    let s = out[0].iter().zip(&out[1]).map(|(l, r)| 0.5 * (l - r));
    (m.collect(), s.collect())
}

#[test]
fn mid_side_leaves_the_side_untouched_when_only_mid_is_compressed() {
    let fs = 48_000;
    let frames = 24_000;
    let (mid, side) = (noise(0.8, frames, 21), noise(0.3, frames, 22));
    let input = vec![
        mid.iter()
            .zip(&side)
            .map(|(m, s)| m + s)
            .collect::<Vec<_>>(),
        mid.iter()
            .zip(&side)
            .map(|(m, s)| m - s)
            .collect::<Vec<_>>(),
    ];
    for kind in [CrossoverKind::Lr4, CrossoverKind::LinearPhase] {
        let ms = |bands: BandOptions, side_bands: BandOptions| MultibandOptions {
            mid_side: true,
            side_bands: vec![side_bands; 4],
            ..options(kind, 4, bands)
        };
        let side_off = off();
        let mut compressed = multiband(ms(heavy(), side_off));
        let mut reference = multiband(ms(side_off, side_off));
        let a = run_in_blocks(&mut compressed, fs, &input, 512);
        let b = run_in_blocks(&mut reference, fs, &input, 512);
        let (mid_a, side_a) = mid_side(&a);
        let (mid_b, side_b) = mid_side(&b);
        let diff: Vec<f64> = side_a.iter().zip(&side_b).map(|(x, y)| x - y).collect();
        let side_null = null_db(&diff, &side_b);
        let mid_diff: Vec<f64> = mid_a.iter().zip(&mid_b).map(|(x, y)| x - y).collect();
        let mid_change = null_db(&mid_diff, &mid_b);
        println!("{kind:?}: side change {side_null:.0} dB, mid change {mid_change:.1} dB");
        assert!(side_null < -200.0, "{kind:?}: {side_null}");
        assert!(mid_change > -10.0, "{kind:?}: mid barely compressed");
        if kind == CrossoverKind::LinearPhase {
            let d = compressed.latency_frames();
            let err: Vec<f64> = (d..frames).map(|n| side_a[n] - side[n - d]).collect();
            assert!(null_db(&err, &side) < -120.0);
        }
    }
}

#[test]
fn mix_zero_is_the_compensated_dry_and_mix_is_linear() {
    let fs = 48_000;
    let frames = 20_000;
    let x = noise(0.9, frames, 31);
    let y = noise(0.9, frames, 32);
    let input = vec![x.clone(), y];
    for kind in [CrossoverKind::Lr4, CrossoverKind::LinearPhase] {
        let run = |mix: f64, band: BandOptions| {
            let mut mb = multiband(MultibandOptions {
                mix,
                ..options(kind, 3, band)
            });
            (run_in_blocks(&mut mb, fs, &input, 700), mb.latency_frames())
        };
        let (dry, d) = run(0.0, heavy());
        let (uncompressed, _) = run(1.0, off());
        let (wet, _) = run(1.0, heavy());
        let (half, _) = run(0.5, heavy());
        // Mix 0 = the bands summed uncompressed, exactly.
        assert_eq!(dry, uncompressed, "{kind:?}");
        for c in 0..2 {
            let mid: Vec<f64> = half[c]
                .iter()
                .zip(dry[c].iter().zip(&wet[c]))
                .map(|(h, (a, b))| h - 0.5 * (a + b))
                .collect();
            assert!(null_db(&mid, &half[c]) < -250.0, "{kind:?}");
        }
        if kind == CrossoverKind::LinearPhase {
            let err: Vec<f64> = (d..frames).map(|n| dry[0][n] - x[n - d]).collect();
            let null = null_db(&err, &x);
            println!("linear phase, mix 0: dry null {null:.0} dB at latency {d}");
            assert!(null < -120.0);
        } else {
            assert_eq!(d, 0);
            let imp = impulse(fft_len(fs), 0);
            let mut mb = multiband(MultibandOptions {
                mix: 0.0,
                ..options(kind, 3, heavy())
            });
            let out = run_in_blocks(&mut mb, fs, &[imp.clone(), imp], 4096);
            assert!(worst_flatness_db(&out[0], fs) < 0.01);
        }
    }
}

#[test]
fn bypassed_bands_pass_uncompressed() {
    let fs = 48_000;
    let bypassed = BandOptions {
        bypass: true,
        ..heavy()
    };
    let mut mb = multiband(options(CrossoverKind::Lr8, 5, bypassed));
    let x: Vec<f64> = impulse(fft_len(fs), 0).iter().map(|v| 0.9 * v).collect();
    let out = run_in_blocks(&mut mb, fs, &[x.clone(), x], 4096);
    let scaled: Vec<f64> = out[0].iter().map(|v| v / 0.9).collect();
    assert!(worst_flatness_db(&scaled, fs) < 0.01);
}

#[test]
fn latency_is_zero_for_lr_and_the_fir_delay_plus_partition_for_linear_phase() {
    let mut lr = multiband(MultibandOptions::default());
    lr.prepare(48_000, 512, 2).unwrap();
    assert_eq!(lr.latency_frames(), 0);
    let mut lin = multiband(MultibandOptions {
        crossover: CrossoverKind::LinearPhase,
        ..MultibandOptions::default()
    });
    for fs in [44_100, 48_000, 96_000, 192_000] {
        lin.prepare(fs, 512, 2).unwrap();
        let taps = lin.crossover().fir_lowpasses()[0].len();
        assert_eq!(
            lin.latency_frames(),
            (taps - 1) / 2 + default_partition_frames(taps)
        );
        println!(
            "linear phase, lowest crossover 120 Hz at {fs} Hz: {taps} taps, latency {} frames ({:.1} ms)",
            lin.latency_frames(),
            1000.0 * lin.latency_frames() as f64 / f64::from(fs)
        );
    }
}

#[test]
fn parameter_names_and_ranges() {
    let mut mb = multiband(MultibandOptions::default());
    mb.prepare(48_000, 256, 2).unwrap();
    mb.set_parameter("band2.threshold_db", -30.0).unwrap();
    mb.set_parameter("band4.ratio", 10.0).unwrap();
    mb.set_parameter("band1.bypass", 1.0).unwrap();
    mb.set_parameter("crossover2_hz", 1500.0).unwrap();
    mb.set_parameter("mix", 0.25).unwrap();
    let o = mb.options();
    assert_eq!(o.bands[1].threshold_db, -30.0);
    assert_eq!(o.bands[3].ratio, 10.0);
    assert!(o.bands[0].bypass);
    assert_eq!(o.crossover_hz, [120.0, 1500.0, 6000.0]);
    assert_eq!(o.mix, 0.25);
    let err = mb.set_parameter("band2.ratio", 0.5).unwrap_err();
    assert!(matches!(
        err,
        CoreError::OutOfRange {
            name: "band2.ratio",
            ..
        }
    ));
    assert!(err.to_string().contains("1 ..= inf"), "{err}");
    for bad in [
        "band5.ratio",
        "band0.ratio",
        "band2.gain",
        "ratio",
        "crossover4_hz",
    ] {
        assert!(
            matches!(
                mb.set_parameter(bad, 1.0),
                Err(CoreError::UnknownParameter { .. })
            ),
            "{bad}"
        );
    }
    assert!(mb.set_parameter("band2.side.ratio", 2.0).is_err());
    assert!(mb.set_parameter("band1.bypass", 0.5).is_err());
    assert!(mb.set_parameter("crossover2_hz", 7000.0).is_err());

    let mut ms = multiband(MultibandOptions {
        mid_side: true,
        ..MultibandOptions::default()
    });
    ms.set_parameter("band3.side.makeup_db", 3.0).unwrap();
    assert_eq!(ms.options().side_bands[2].makeup_db, 3.0);
    assert_eq!(ms.options().bands[2].makeup_db, 0.0);
    assert!(matches!(
        ms.set_parameter("band3.side.knee_db", 30.0),
        Err(CoreError::OutOfRange {
            name: "band3.side.knee_db",
            ..
        })
    ));
    assert!(matches!(
        ms.prepare(48_000, 256, 1),
        Err(CoreError::ChannelCount { .. })
    ));

    let mut lin = multiband(options(CrossoverKind::LinearPhase, 3, heavy()));
    assert!(lin.set_parameter("crossover1_hz", 250.0).is_err());
}

#[test]
fn options_are_validated_with_clear_errors() {
    let bad = |o: MultibandOptions| Multiband::new(o).unwrap_err().to_string();
    let one_band = MultibandOptions {
        crossover_hz: vec![],
        bands: vec![BandOptions::default()],
        ..MultibandOptions::default()
    };
    assert!(bad(one_band).contains("2 ..= 5 bands"));
    let mismatch = MultibandOptions {
        bands: vec![BandOptions::default(); 3],
        ..MultibandOptions::default()
    };
    assert!(bad(mismatch).contains("bands (count)"));
    let mut o = MultibandOptions::default();
    o.bands[2].attack_ms = -1.0;
    assert!(bad(o).contains("band3.attack_ms"));
    let mut o = MultibandOptions {
        side_bands: vec![BandOptions::default(); 4],
        ..MultibandOptions::default()
    };
    o.side_bands[0].threshold_db = 5.0;
    assert!(bad(o).contains("band1.side.threshold_db"));
    let o = MultibandOptions {
        mix: 1.5,
        ..MultibandOptions::default()
    };
    assert!(bad(o).contains("mix"));
}

/// A test signal whose level moves, so compressors attack and release.
fn moving_stereo(frames: usize) -> Vec<Vec<f64>> {
    let env = |n: usize| {
        if (n / 1500).is_multiple_of(2) {
            0.9
        } else {
            0.05
        }
    };
    let a = noise(1.0, frames, 41);
    let b = noise(1.0, frames, 42);
    vec![
        a.iter().enumerate().map(|(n, v)| v * env(n)).collect(),
        b.iter()
            .zip(&a)
            .enumerate()
            .map(|(n, (v, w))| (0.5 * v + 0.5 * w) * env(n))
            .collect(),
    ]
}

#[test]
fn block_size_invariant() {
    let input = moving_stereo(9000);
    for kind in [CrossoverKind::Lr4, CrossoverKind::LinearPhase] {
        for mid_side in [false, true] {
            assert_block_size_invariant(
                || {
                    multiband(MultibandOptions {
                        mid_side,
                        mix: 0.7,
                        ..options(kind, 4, heavy())
                    })
                },
                48_000,
                &input,
            );
        }
    }
}

#[test]
fn automation_is_smooth_and_sample_accurate() {
    // A threshold step and a crossover move mid-signal: no sample jumps by
    // more than the signal itself allows, and the result is the same
    // whatever the block size when the change lands on the same frame.
    let fs = 48_000;
    let input = moving_stereo(12_000);
    let run = |block: usize| {
        let mut mb = multiband(options(CrossoverKind::Lr4, 4, heavy()));
        mb.prepare(fs, block, 2).unwrap();
        let mut out = input.clone();
        let mut start = 0;
        while start < 12_000 {
            if start == 6000 {
                mb.set_parameter("band2.threshold_db", -10.0).unwrap();
                mb.set_parameter("crossover1_hz", 300.0).unwrap();
                mb.set_parameter("mix", 0.5).unwrap();
            }
            let end = (start + block).min(12_000);
            let mut chunk: Vec<&mut [f64]> = out.iter_mut().map(|c| &mut c[start..end]).collect();
            mb.process(&mut chunk);
            start = end;
        }
        out
    };
    let a = run(100);
    let b = run(3000);
    assert_eq!(a, b);
    assert!(a[0].iter().all(|v| v.is_finite() && v.abs() < 4.0));
}
