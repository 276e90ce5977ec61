//! Compressor: the static curve against its definition (hard and soft knee,
//! peak and RMS), attack and release time constants, lookahead, external
//! sidechain and its high-pass, make-up, parallel mix, metering,
//! automation and block-size invariance.

mod dynamics_support;

use dynamics_support::{Keyed, amp, db, noise, rms, sine};
use mixmaster_core::{CoreError, Processor};
use mixmaster_dsp::compressor::{AUTO_MAKEUP_REFERENCE_DBFS, Detector};
use mixmaster_dsp::testing::{assert_block_size_invariant, run_in_blocks};
use mixmaster_dsp::{Compressor, CompressorOptions};

const FS: u32 = 48_000;

fn comp(options: CompressorOptions) -> Compressor {
    Compressor::new(options).unwrap()
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
fn static_curve_matches_its_formula_for_hard_and_soft_knees() {
    let t = -24.0;
    let mut worst = 0.0f64;
    for knee in [0.0, 6.0, 12.0] {
        for ratio in [1.5, 2.0, 4.0, 10.0, f64::INFINITY] {
            for step in 0..=30 {
                let x_db = -60.0 + 2.0 * f64::from(step);
                let mut c = comp(CompressorOptions {
                    threshold_db: t,
                    ratio,
                    knee_db: knee,
                    attack_ms: 1.0,
                    release_ms: 10.0,
                    ..CompressorOptions::default()
                });
                // A constant level ("DC-like long tone"), both polarities.
                let n = 4800;
                let input = vec![vec![amp(x_db); n], vec![-amp(x_db); n]];
                let out = run_in_blocks(&mut c, FS, &input, 512);
                let y_db = db(out[0][n - 1]);
                assert_eq!(out[0][n - 1], -out[1][n - 1], "stereo link");
                let err = (y_db - static_output_db(x_db, t, ratio, knee)).abs();
                worst = worst.max(err);
                assert!(
                    err <= 0.1,
                    "knee {knee} ratio {ratio} level {x_db}: {y_db} dB, error {err}"
                );
            }
        }
    }
    println!("static curve (peak detector), worst error {worst:.2e} dB");
}

#[test]
fn rms_detector_follows_the_static_curve_of_the_rms_level() {
    let (t, r, w) = (-30.0, 3.0, 6.0);
    for level_db in [-40.0, -30.0, -20.0, -6.0] {
        let mut c = comp(CompressorOptions {
            threshold_db: t,
            ratio: r,
            knee_db: w,
            detector: Detector::Rms,
            rms_window_ms: 20.0,
            attack_ms: 5.0,
            release_ms: 50.0,
            ..CompressorOptions::default()
        });
        // A sine whose RMS is `level_db`; 1 kHz, 0.5 s.
        let input = vec![sine(1000.0, amp(level_db) * 2f64.sqrt(), FS, 24_000)];
        let out = run_in_blocks(&mut c, FS, &input, 256);
        let tail = 24_000 - 4800..24_000;
        let y = db(rms(&out[0][tail.clone()]));
        let x = db(rms(&input[0][tail]));
        let expected = static_output_db(x, t, r, w);
        assert!(
            (y - expected).abs() <= 0.1,
            "rms {level_db}: {y} dB, expected {expected}"
        );
    }
}

/// First frame at or after `start` where `pred` holds.
fn first(values: &[f64], start: usize, pred: impl Fn(f64) -> bool) -> usize {
    start + values[start..].iter().position(|&v| pred(v)).unwrap()
}

#[test]
fn attack_and_release_reach_one_minus_one_over_e_in_the_stated_time() {
    let cases = [(10.0, 100.0), (1.0, 50.0), (30.0, 300.0)];
    for fs in [44_100, 48_000, 96_000, 192_000] {
        for (attack_ms, release_ms) in cases {
            let mut c = comp(CompressorOptions {
                threshold_db: -30.0,
                ratio: 4.0,
                knee_db: 0.0,
                attack_ms,
                release_ms,
                ..CompressorOptions::default()
            });
            // −40 dBFS (below threshold), then −10 dBFS for 0.5 s, then −40.
            let half_second = fs as usize / 2;
            let (a, b) = (half_second, 2 * half_second);
            let mut x = vec![amp(-40.0); 4 * half_second];
            x[a..b].fill(amp(-10.0));
            let out = run_in_blocks(&mut c, fs, std::slice::from_ref(&x), 64);
            let reduction: Vec<f64> = out[0].iter().zip(&x).map(|(y, x)| db(x / y)).collect();
            let full = 0.75 * 20.0; // (1 − 1/R)(x − T)
            let e = (-1.0f64).exp();
            let t_attack = (first(&reduction, a, |g| g >= (1.0 - e) * full) - a) as f64;
            let t_release = (first(&reduction, b, |g| g <= e * full) - b) as f64;
            let ms = |frames: f64| frames * 1000.0 / f64::from(fs);
            if fs == 48_000 {
                println!(
                    "attack {attack_ms} ms → {:.3} ms, release {release_ms} ms → {:.3} ms",
                    ms(t_attack),
                    ms(t_release)
                );
            }
            assert!(
                (ms(t_attack) - attack_ms).abs() <= 0.1 * attack_ms,
                "{fs} Hz: attack {attack_ms} ms measured {} ms",
                ms(t_attack)
            );
            assert!(
                (ms(t_release) - release_ms).abs() <= 0.1 * release_ms,
                "{fs} Hz: release {release_ms} ms measured {} ms",
                ms(t_release)
            );
            assert!((reduction[b - 1] - full).abs() < 1e-6);
        }
    }
}

#[test]
fn lookahead_delays_the_audio_and_reduces_before_the_transient() {
    let lookahead_ms = 5.0;
    let mut c = comp(CompressorOptions {
        threshold_db: -20.0,
        ratio: 10.0,
        knee_db: 0.0,
        attack_ms: 1.0,
        release_ms: 100.0,
        lookahead_ms,
        ..CompressorOptions::default()
    });
    let latency = 240; // 5 ms at 48 kHz
    // An impulse below threshold comes out `latency` frames later, unchanged.
    let mut impulse = vec![0.0; 1000];
    impulse[10] = 0.05;
    let out = run_in_blocks(&mut c, FS, &[impulse], 100);
    assert_eq!(c.latency_frames(), latency);
    assert_eq!(out[0][10 + latency], 0.05);
    assert_eq!(out[0].iter().filter(|v| **v != 0.0).count(), 1);

    // Quiet tone, then a loud burst at `onset`.
    let onset = 4800;
    let mut x = sine(500.0, amp(-40.0), FS, 9600);
    for (n, v) in x.iter_mut().enumerate().skip(onset) {
        *v = amp(-6.0) * (2.0 * std::f64::consts::PI * 500.0 * n as f64 / f64::from(FS)).sin();
    }
    let out = run_in_blocks(&mut c, FS, std::slice::from_ref(&x), 64);
    let gain_at = |n: usize| out[0][n] / x[n - latency];
    // Before the onset reaches the output the quiet tone is already turned
    // down: the reduction started `latency` frames early.
    let arrival = onset + latency;
    let just_before = (arrival - 20..arrival)
        .find(|&n| x[n - latency].abs() > 1e-4)
        .unwrap();
    assert!(
        gain_at(just_before) < amp(-6.0),
        "gain just before the transient {} dB",
        db(gain_at(just_before))
    );
    // Nothing happened before the onset entered the detector.
    let early = (onset - 50..onset)
        .find(|&n| x[n - latency].abs() > 1e-4)
        .unwrap();
    assert_eq!(gain_at(early), 1.0);
}

#[test]
fn external_key_ducks_an_input_that_alone_is_not_compressed() {
    let options = CompressorOptions {
        threshold_db: -20.0,
        ratio: 4.0,
        knee_db: 0.0,
        attack_ms: 5.0,
        release_ms: 50.0,
        external_sidechain: true,
        ..CompressorOptions::default()
    };
    let n = 24_000;
    let input = vec![
        sine(220.0, amp(-30.0), FS, n),
        sine(330.0, amp(-30.0), FS, n),
    ];

    // Alone, the input is below threshold: the output is the input.
    let mut alone = comp(options);
    assert_eq!(alone.sidechain_channels(), 2);
    assert_eq!(run_in_blocks(&mut alone, FS, &input, 512), input);

    // A constant key at −6 dBFS: reduction (1 − 1/4)·(−6.02 + 20) dB.
    let key = vec![vec![amp(-6.0); n], vec![0.0; n]];
    let mut keyed = Keyed::new(comp(options), key.clone());
    let out = run_in_blocks(&mut keyed, FS, &input, 512);
    let expected = -0.75 * (-6.0 + 20.0);
    for ch in 0..2 {
        let tail = n - 4800..n;
        let got = db(rms(&out[ch][tail.clone()]) / rms(&input[ch][tail]));
        assert!((got - expected).abs() < 0.01, "channel {ch}: {got} dB");
    }
    assert!((keyed.inner.gain_reduction_db() + expected).abs() < 1e-6);

    // Without the option the key is ignored.
    let mut ignoring = Keyed::new(
        comp(CompressorOptions {
            external_sidechain: false,
            ..options
        }),
        key,
    );
    assert_eq!(ignoring.sidechain_channels(), 0);
    assert_eq!(run_in_blocks(&mut ignoring, FS, &input, 512), input);
}

#[test]
fn sidechain_high_pass_keeps_bass_from_pumping() {
    let n = 24_000;
    let bass = vec![sine(40.0, amp(-6.0), FS, n)];
    let reduction = |hpf: Option<f64>| {
        let mut c = comp(CompressorOptions {
            threshold_db: -20.0,
            ratio: 4.0,
            knee_db: 0.0,
            attack_ms: 1.0,
            release_ms: 200.0,
            sidechain_hpf_hz: hpf,
            ..CompressorOptions::default()
        });
        run_in_blocks(&mut c, FS, &bass, 1024);
        c.gain_reduction_db()
    };
    let plain = reduction(None);
    // 40 Hz through a 2nd-order 400 Hz high-pass: −40 dB, far below threshold.
    let filtered = reduction(Some(400.0));
    assert!(plain > 9.0, "{plain}");
    assert_eq!(filtered, 0.0);
}

#[test]
fn makeup_manual_and_automatic() {
    // Automatic make-up: a 0 dBFS level comes out at 0 dBFS.
    assert_eq!(AUTO_MAKEUP_REFERENCE_DBFS, 0.0);
    for (t, r, w) in [
        (-20.0, 4.0, 0.0),
        (-30.0, 2.0, 12.0),
        (-12.0, f64::INFINITY, 6.0),
    ] {
        let mut c = comp(CompressorOptions {
            threshold_db: t,
            ratio: r,
            knee_db: w,
            attack_ms: 0.5,
            auto_makeup: true,
            ..CompressorOptions::default()
        });
        let out = run_in_blocks(&mut c, FS, &[vec![1.0; 4800]], 480);
        assert!(
            db(out[0][4799]).abs() < 1e-6,
            "{t} {r} {w}: {}",
            out[0][4799]
        );
    }
    // Manual make-up adds its gain to the compressed level.
    let mut c = comp(CompressorOptions {
        threshold_db: -20.0,
        ratio: 2.0,
        knee_db: 0.0,
        makeup_db: 6.0,
        attack_ms: 0.5,
        ..CompressorOptions::default()
    });
    let out = run_in_blocks(&mut c, FS, &[vec![amp(-10.0); 4800]], 480);
    assert!((db(out[0][4799]) - (-15.0 + 6.0)).abs() < 1e-6);
}

#[test]
fn parallel_mix_blends_dry_and_compressed() {
    let x = amp(-4.0);
    let wet = amp(-20.0 + 16.0 / 4.0);
    for mix in [0.0, 0.3, 1.0] {
        let mut c = comp(CompressorOptions {
            threshold_db: -20.0,
            ratio: 4.0,
            knee_db: 0.0,
            attack_ms: 0.5,
            mix,
            ..CompressorOptions::default()
        });
        let out = run_in_blocks(&mut c, FS, &[vec![x; 4800]], 480);
        let expected = (1.0 - mix) * x + mix * wet;
        assert!((out[0][4799] - expected).abs() < 1e-9, "mix {mix}");
    }
}

#[test]
fn meters_report_current_and_maximum_reduction() {
    let mut c = comp(CompressorOptions {
        threshold_db: -20.0,
        ratio: 4.0,
        knee_db: 0.0,
        attack_ms: 0.5,
        release_ms: 20.0,
        ..CompressorOptions::default()
    });
    let mut x = vec![amp(-8.0); 4800];
    x.extend(vec![amp(-40.0); 9600]);
    run_in_blocks(&mut c, FS, &[x], 4800);
    assert!((c.max_gain_reduction_db() - 9.0).abs() < 1e-6);
    assert!(c.gain_reduction_db() < 0.01);
    c.clear_max_gain_reduction();
    assert_eq!(c.max_gain_reduction_db(), 0.0);
}

#[test]
fn threshold_automation_is_smoothed() {
    let mut c = comp(CompressorOptions {
        threshold_db: -20.0,
        ratio: 4.0,
        knee_db: 0.0,
        attack_ms: 0.0, // instantaneous: only the parameter ramp can smooth
        release_ms: 0.0,
        ..CompressorOptions::default()
    });
    c.prepare(FS, 480, 1).unwrap();
    let x = amp(-6.0);
    let mut out = Vec::new();
    for block in 0..20 {
        if block == 5 {
            c.set_parameter("threshold_db", -40.0).unwrap();
        }
        let mut buf = vec![x; 480];
        c.process(&mut [buf.as_mut_slice()]);
        out.extend(buf);
    }
    let max_step = out
        .windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .fold(0.0, f64::max);
    // Without the ramp the gain would jump by 15 dB in one sample.
    assert!(max_step < 1e-3 * x, "step {max_step}");
    let settled = db(*out.last().unwrap());
    assert!((settled - (-40.0 + 34.0 / 4.0)).abs() < 1e-9, "{settled}");
    assert_eq!(c.options().threshold_db, -40.0);
}

#[test]
fn parameters_are_validated() {
    let mut c = comp(CompressorOptions::default());
    for (name, value) in [
        ("threshold_db", -30.0),
        ("ratio", f64::INFINITY),
        ("knee_db", 0.0),
        ("attack_ms", 3.0),
        ("release_ms", 300.0),
        ("rms_window_ms", 50.0),
        ("makeup_db", 3.0),
        ("mix", 0.5),
        ("sidechain_hpf_hz", 120.0),
        ("sidechain_hpf_hz", 0.0),
        ("lookahead_ms", 0.0),
    ] {
        c.set_parameter(name, value).unwrap();
    }
    assert!(matches!(
        c.set_parameter("ratio", 0.5),
        Err(CoreError::OutOfRange { name: "ratio", .. })
    ));
    assert!(matches!(
        c.set_parameter("mix", f64::NAN),
        Err(CoreError::OutOfRange { name: "mix", .. })
    ));
    assert!(matches!(
        c.set_parameter("lookahead_ms", 5.0),
        Err(CoreError::OutOfRange {
            name: "lookahead_ms",
            ..
        })
    ));
    match c.set_parameter("treshold_db", -10.0) {
        Err(CoreError::UnknownParameter { valid, .. }) => assert!(valid.contains("threshold_db")),
        other => panic!("{other:?}"),
    }
    let err = Compressor::new(CompressorOptions {
        knee_db: 30.0,
        ..CompressorOptions::default()
    })
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "knee_db = 30 is out of range: expected 0 ..= 24"
    );
    assert_eq!(Detector::from_name("rms"), Some(Detector::Rms));
    assert_eq!(Detector::from_name("loud"), None);
}

fn program(frames: usize) -> Vec<Vec<f64>> {
    // Level changes, noise and tones: every branch of the detector moves.
    let envelope = |n: usize| match (n / 4000) % 4 {
        0 => 0.02,
        1 => 0.9,
        2 => 0.2,
        _ => 0.5,
    };
    let l = noise(1.0, frames, 1);
    let r = sine(330.0, 1.0, FS, frames);
    vec![
        l.iter().enumerate().map(|(n, v)| v * envelope(n)).collect(),
        r.iter()
            .enumerate()
            .map(|(n, v)| v * envelope(n + 2000))
            .collect(),
    ]
}

#[test]
fn block_size_invariant() {
    let input = program(24_000);
    for detector in [Detector::Peak, Detector::Rms] {
        let options = CompressorOptions {
            detector,
            knee_db: 6.0,
            lookahead_ms: 2.0,
            sidechain_hpf_hz: Some(80.0),
            auto_makeup: true,
            mix: 0.7,
            ..CompressorOptions::default()
        };
        assert_block_size_invariant(|| comp(options), FS, &input);
    }
    // With an external key.
    let key = program(24_000).into_iter().rev().collect::<Vec<_>>();
    let options = CompressorOptions {
        external_sidechain: true,
        ..CompressorOptions::default()
    };
    assert_block_size_invariant(|| Keyed::new(comp(options), key.clone()), FS, &input);
}
