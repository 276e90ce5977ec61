//! Gate and expander: opening and closing levels with hysteresis, hold,
//! the expander's static curve, range, lookahead, external key, automation
//! and block-size invariance.

mod dynamics_support;

use dynamics_support::{Keyed, amp, db, noise, sine};
use mixmaster_core::{CoreError, Processor};
use mixmaster_dsp::gate::DETECTOR_WINDOW_MS;
use mixmaster_dsp::testing::{assert_block_size_invariant, run_in_blocks};
use mixmaster_dsp::{Gate, GateOptions};

const FS: u32 = 48_000;
/// The detector's peak-hold window in frames.
const WINDOW: usize = (DETECTOR_WINDOW_MS * 48.0) as usize;

fn gate(options: GateOptions) -> Gate {
    Gate::new(options).unwrap()
}

/// Runs frame by frame and returns (output, open state after each frame).
fn run_tracking(g: &mut Gate, x: &[f64]) -> (Vec<f64>, Vec<bool>) {
    g.prepare(FS, 1, 1).unwrap();
    let mut out = Vec::with_capacity(x.len());
    let mut open = Vec::with_capacity(x.len());
    for &v in x {
        let mut s = [v];
        g.process(&mut [&mut s[..]]);
        out.push(s[0]);
        open.push(g.is_open());
    }
    (out, open)
}

/// A staircase of constant levels, `frames` each.
fn staircase(levels_db: &[f64], frames: usize) -> Vec<f64> {
    levels_db
        .iter()
        .flat_map(|&l| std::iter::repeat_n(amp(l), frames))
        .collect()
}

#[test]
fn opens_at_threshold_and_closes_at_threshold_minus_hysteresis() {
    let mut g = gate(GateOptions {
        threshold_db: -40.0,
        hysteresis_db: 6.0,
        hold_ms: 0.0,
        attack_ms: 0.1,
        release_ms: 1.0,
        ..GateOptions::default()
    });
    let steps = [
        -60.0, -44.0, -40.5, -39.99, -44.0, -45.9, -46.1, -44.0, -40.1, -39.0,
    ];
    let expected_open = [
        false, false, false, true, true, true, false, false, false, true,
    ];
    let len = 2400;
    let (out, open) = run_tracking(&mut g, &staircase(&steps, len));
    for (k, (&level, &want)) in steps.iter().zip(&expected_open).enumerate() {
        let last = (k + 1) * len - 1;
        assert_eq!(open[last], want, "level {level} dBFS");
        let gain = db(out[last] / amp(level));
        if want {
            assert!(gain.abs() < 1e-6, "open at {level}: {gain} dB");
        } else {
            assert!((gain + 80.0).abs() < 1e-3, "closed at {level}: {gain} dB");
        }
    }
    // It opens on the first frame at the threshold, and closes as soon as
    // the detector window no longer holds a level above the close threshold.
    assert!(!open[3 * len - 1] && open[3 * len]);
    assert!(open[6 * len + WINDOW - 2] && !open[6 * len + WINDOW - 1]);
}

#[test]
fn hold_keeps_the_gate_open() {
    for hold_ms in [0.0, 50.0] {
        let mut g = gate(GateOptions {
            threshold_db: -40.0,
            hysteresis_db: 0.0,
            hold_ms,
            attack_ms: 0.1,
            release_ms: 5.0,
            ..GateOptions::default()
        });
        let loud = 4800;
        let x = staircase(&[-20.0, -60.0], loud);
        let (out, open) = run_tracking(&mut g, &x);
        let hold = (hold_ms * 48.0) as usize;
        let closes = loud + WINDOW - 1 + hold;
        assert!(open[closes - 1], "hold {hold_ms}: closed early");
        assert!(!open[closes], "hold {hold_ms}: still open");
        // Until it closes the quiet part passes untouched.
        assert_eq!(&out[loud..closes], &x[loud..closes]);
        // Then it releases towards the range floor.
        assert!(db(out[2 * loud - 1] / x[2 * loud - 1]) < -79.0);
    }
}

#[test]
fn expander_static_curve() {
    let (t, range) = (-40.0, -60.0);
    for ratio in [1.5, 2.0, 4.0] {
        for step in 0..=14 {
            let x_db = -100.0 + 5.0 * f64::from(step);
            let mut g = gate(GateOptions {
                threshold_db: t,
                ratio,
                range_db: range,
                hysteresis_db: 0.0,
                hold_ms: 0.0,
                attack_ms: 1.0,
                release_ms: 10.0,
                ..GateOptions::default()
            });
            let out = run_in_blocks(&mut g, FS, &[vec![amp(x_db); 9600]], 1024);
            let gain = db(out[0][9599]) - x_db;
            let expected = if x_db >= t {
                0.0
            } else {
                ((ratio - 1.0) * (x_db - t)).max(range)
            };
            assert!(
                (gain - expected).abs() <= 0.1,
                "ratio {ratio}, {x_db} dBFS: gain {gain} dB, expected {expected}"
            );
        }
    }
}

#[test]
fn lookahead_opens_before_the_transient() {
    let burst_at = 4800;
    let mut x = vec![0.0; burst_at];
    x.extend(sine(1000.0, amp(-10.0), FS, 4800));
    let first_gain = |lookahead_ms: f64| {
        let mut g = gate(GateOptions {
            attack_ms: 0.2,
            lookahead_ms,
            ..GateOptions::default()
        });
        let out = run_in_blocks(&mut g, FS, std::slice::from_ref(&x), 64);
        let latency = g.latency_frames();
        // The first sample of the burst that is not a zero crossing.
        let n = burst_at + 1;
        (latency, db(out[0][n + latency] / x[n]))
    };
    let (latency, with) = first_gain(2.0);
    let (none, without) = first_gain(0.0);
    assert_eq!((latency, none), (96, 0));
    assert!(with > -0.01, "with lookahead: {with} dB");
    assert!(without < -60.0, "without lookahead: {without} dB");
}

#[test]
fn external_key_opens_the_gate() {
    let n = 9600;
    let input = vec![
        sine(200.0, amp(-60.0), FS, n),
        sine(300.0, amp(-60.0), FS, n),
    ];
    let options = GateOptions {
        external_sidechain: true,
        ..GateOptions::default()
    };
    let key = vec![sine(1000.0, amp(-10.0), FS, n)];
    let mut keyed = Keyed::new(gate(options), key);
    assert_eq!(keyed.inner.sidechain_channels(), 2);
    let out = run_in_blocks(&mut keyed, FS, &input, 256);
    assert_eq!(&out[0][4800..], &input[0][4800..]);
    assert_eq!(&out[1][4800..], &input[1][4800..]);
    // Without the key the quiet input is gated.
    let mut alone = gate(options);
    let out = run_in_blocks(&mut alone, FS, &input, 256);
    assert!(out[0][4800..].iter().all(|v| v.abs() < amp(-130.0)));
}

#[test]
fn automation_is_validated_and_smoothed() {
    let mut g = gate(GateOptions {
        ratio: 2.0,
        hysteresis_db: 0.0,
        attack_ms: 0.0,
        release_ms: 0.0,
        ..GateOptions::default()
    });
    g.prepare(FS, 480, 1).unwrap();
    let x = amp(-50.0);
    let mut out = Vec::new();
    for block in 0..10 {
        if block == 3 {
            g.set_parameter("range_db", -6.0).unwrap();
        }
        let mut buf = vec![x; 480];
        g.process(&mut [buf.as_mut_slice()]);
        out.extend(buf);
    }
    let steps = out
        .windows(2)
        .map(|w| db(w[1] / w[0]).abs())
        .fold(0.0, f64::max);
    // Unsmoothed, the floor would jump by 4 dB (−10 → −6) in one frame.
    assert!(steps < 0.1, "largest step {steps} dB");
    assert!((db(out[4799] / x) + 6.0).abs() < 1e-9);

    for (name, value) in [
        ("threshold_db", -30.0),
        ("ratio", f64::INFINITY),
        ("range_db", -40.0),
        ("hysteresis_db", 3.0),
        ("hold_ms", 10.0),
        ("attack_ms", 1.0),
        ("release_ms", 50.0),
        ("sidechain_hpf_hz", 100.0),
        ("lookahead_ms", 0.0),
    ] {
        g.set_parameter(name, value).unwrap();
    }
    assert!(matches!(
        g.set_parameter("ratio", 0.9),
        Err(CoreError::OutOfRange { name: "ratio", .. })
    ));
    assert!(matches!(
        g.set_parameter("hysteresis_db", -1.0),
        Err(CoreError::OutOfRange { .. })
    ));
    assert!(matches!(
        g.set_parameter("knee_db", 1.0),
        Err(CoreError::UnknownParameter { .. })
    ));
    assert!(
        Gate::new(GateOptions {
            range_db: 3.0,
            ..GateOptions::default()
        })
        .is_err()
    );
}

#[test]
fn block_size_invariant() {
    let frames = 24_000;
    let env = |n: usize| {
        if (n / 3000).is_multiple_of(2) {
            0.5
        } else {
            0.003
        }
    };
    let l = noise(1.0, frames, 3);
    let r = sine(150.0, 1.0, FS, frames);
    let input = vec![
        l.iter()
            .enumerate()
            .map(|(n, v)| v * env(n))
            .collect::<Vec<_>>(),
        r.iter()
            .enumerate()
            .map(|(n, v)| v * env(n + 1000))
            .collect(),
    ];
    for ratio in [f64::INFINITY, 2.0] {
        let options = GateOptions {
            ratio,
            lookahead_ms: 1.0,
            sidechain_hpf_hz: Some(60.0),
            ..GateOptions::default()
        };
        assert_block_size_invariant(|| gate(options), FS, &input);
    }
    let key = vec![input[1].clone(), input[0].clone()];
    let options = GateOptions {
        external_sidechain: true,
        ..GateOptions::default()
    };
    assert_block_size_invariant(|| Keyed::new(gate(options), key.clone()), FS, &input);
}
