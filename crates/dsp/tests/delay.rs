//! Feedback delay: arrival time (integer and fractional), decay per repeat,
//! ping-pong, feedback filters, note values at the session tempo, click-free
//! time changes, tail length, and block-size invariance.

use mixmaster_core::{CoreError, Processor};
use mixmaster_dsp::delay::NoteModifier;
use mixmaster_dsp::rng::SplitMix64;
use mixmaster_dsp::testing::{assert_block_size_invariant, run_in_blocks};
use mixmaster_dsp::{Delay, DelayOptions, NoteValue, note_to_ms};
use std::f64::consts::PI;

const FS: u32 = 48_000;

/// Wet only, no feedback unless set.
fn wet(time_ms: f64, feedback: f64) -> DelayOptions {
    DelayOptions {
        time_ms,
        feedback,
        mix: 1.0,
        ..DelayOptions::default()
    }
}

fn impulse(frames: usize) -> Vec<f64> {
    let mut x = vec![0.0; frames];
    x[0] = 1.0;
    x
}

fn run(options: DelayOptions, fs: u32, input: &[Vec<f64>]) -> Vec<Vec<f64>> {
    run_in_blocks(&mut Delay::new(options).unwrap(), fs, input, 512)
}

fn noise(frames: usize, seed: u64) -> Vec<f64> {
    let mut rng = SplitMix64::new(seed);
    (0..frames).map(|_| rng.next_f64() - 0.5).collect()
}

fn db(x: f64) -> f64 {
    20.0 * x.abs().log10()
}

#[test]
fn impulse_arrives_exactly_at_an_integer_delay() {
    for (fs, time_ms, frames) in [
        (48_000, 10.0, 480),
        (48_000, 250.0, 12_000),
        (44_100, 10.0, 441),
        (96_000, 1.0, 96),
    ] {
        let out = run(wet(time_ms, 0.0), fs, &[impulse(frames * 3)]);
        for (n, &y) in out[0].iter().enumerate() {
            let expected = if n == frames { 1.0 } else { 0.0 };
            assert_eq!(y, expected, "{time_ms} ms at {fs} Hz, frame {n}");
        }
    }
}

/// A fractional delay: the Hermite interpolator reproduces linear functions
/// (Niemitalo 2001), so the centroid of the delayed impulse lies exactly at
/// the delay, and a delayed low-frequency sine matches the analytic one.
#[test]
fn fractional_delay_is_interpolated() {
    let time_ms = 10.01; // 480.48 frames
    let d = time_ms * 48.0;
    let out = run(wet(time_ms, 0.0), FS, &[impulse(2000)]);
    let sum: f64 = out[0].iter().sum();
    let centroid = out[0]
        .iter()
        .enumerate()
        .map(|(n, y)| n as f64 * y)
        .sum::<f64>()
        / sum;
    assert!((sum - 1.0).abs() < 1e-12, "DC gain {sum}");
    assert!(
        (centroid - d).abs() < 1e-9,
        "centroid {centroid}, delay {d}"
    );

    let f = 500.0 / f64::from(FS);
    let sine: Vec<f64> = (0..4000).map(|n| (2.0 * PI * f * n as f64).sin()).collect();
    let out = run(wet(time_ms, 0.0), FS, &[sine]);
    let err = (1000..4000)
        .map(|n| (out[0][n] - (2.0 * PI * f * (n as f64 - d)).sin()).abs())
        .fold(0.0, f64::max);
    assert!(db(err) < -60.0, "error {:.1} dB at 500 Hz", db(err));
}

/// Echo k has the level 20·log10(g)·(k − 1) dB: each repeat falls by the
/// feedback gain.
#[test]
fn each_repeat_falls_by_the_feedback_gain() {
    let d = 480;
    for g in [0.3, 0.5, 0.7, 0.9, 0.99] {
        let out = run(wet(10.0, g), FS, &[impulse(d * 21)]);
        for k in 1..20 {
            let drop = db(out[0][(k + 1) * d]) - db(out[0][k * d]);
            assert!((drop - db(g)).abs() < 1e-9, "g {g}, repeat {k}: {drop} dB");
        }
        // Nothing between the echoes.
        assert!(
            out[0]
                .iter()
                .enumerate()
                .all(|(n, &y)| n % d == 0 || y == 0.0)
        );
    }
}

#[test]
fn ping_pong_alternates_channels() {
    let d = 480;
    let options = DelayOptions {
        ping_pong: true,
        ..wet(10.0, 0.6)
    };
    // A centred source: the mono sum enters the left line.
    let out = run(options, FS, &[impulse(d * 8), impulse(d * 8)]);
    for k in 1..8 {
        let (on, off) = if k % 2 == 1 { (0, 1) } else { (1, 0) };
        let expected = 0.6f64.powi(k as i32 - 1);
        assert!((out[on][k * d] - expected).abs() < 1e-12, "echo {k}");
        assert_eq!(out[off][k * d], 0.0, "echo {k} leaks to channel {off}");
    }
    // Without ping-pong, each channel echoes itself.
    let out = run(wet(10.0, 0.6), FS, &[impulse(d * 4), vec![0.0; d * 4]]);
    assert!(out[1].iter().all(|&y| y == 0.0));
    assert_eq!(out[0][2 * d], 0.6);
}

/// The low-pass darkens each repeat: the second echo went through it once,
/// so it has the one-pole's impulse response (unit DC gain, first sample
/// `a = 1 − e^(−2πf/fs)`). The high-pass removes DC from the repeats.
#[test]
fn feedback_filters_shape_the_repeats() {
    let d = 4800;
    let g = 0.8;
    let lp = DelayOptions {
        lowpass_hz: Some(1000.0),
        ..wet(100.0, g)
    };
    let out = run(lp, FS, &[impulse(3 * d)]);
    assert_eq!(out[0][d], 1.0, "the first echo is not filtered");
    let echo2 = &out[0][2 * d..3 * d];
    let a = 1.0 - (-2.0 * PI * 1000.0 / 48_000.0f64).exp();
    assert!((echo2[0] - g * a).abs() < 1e-12);
    assert!(
        (echo2.iter().sum::<f64>() - g).abs() < 1e-9,
        "DC gain of the low-pass"
    );

    let hp = DelayOptions {
        highpass_hz: Some(200.0),
        ..wet(100.0, g)
    };
    let out = run(hp, FS, &[impulse(3 * d)]);
    let echo2 = &out[0][2 * d..3 * d];
    assert!(
        echo2.iter().sum::<f64>().abs() < 1e-6,
        "DC passes the high-pass"
    );
    assert!(echo2[0] > 0.9 * g);
}

#[test]
fn note_values_at_the_session_tempo() {
    let cases = [
        ("1/4", 120.0, 500.0),
        ("1/8", 120.0, 250.0),
        ("1/4.", 120.0, 750.0),
        ("1/8t", 120.0, 500.0 / 3.0),
        ("1/16", 90.0, 166.666_666_666_666_66),
        ("1/1", 60.0, 4000.0),
        ("3/16", 120.0, 375.0),
        (" 1/2T ", 100.0, 800.0),
    ];
    for (note, bpm, ms) in cases {
        let got = note_to_ms(note, bpm).unwrap();
        assert!((got - ms).abs() < 1e-9, "{note} at {bpm} bpm: {got} ms");
    }
    let n: NoteValue = "1/8t".parse().unwrap();
    assert_eq!(
        (n.numerator, n.denominator, n.modifier),
        (1, 8, NoteModifier::Triplet)
    );
    for bad in ["1/3", "1/8x", "eighth", "0/4", "1/0", "1/256", "/4"] {
        let err = note_to_ms(bad, 120.0).unwrap_err();
        assert!(matches!(err, CoreError::UnknownId { .. }), "{bad}");
        assert!(err.to_string().contains("1/4."), "{err}");
    }
    assert!(matches!(
        note_to_ms("1/4", 0.0),
        Err(CoreError::OutOfRange {
            name: "tempo_bpm",
            ..
        })
    ));

    // The delay uses the note value: 1/8 at 120 bpm is 12 000 frames.
    let options = DelayOptions {
        note: Some("1/8".parse().unwrap()),
        tempo_bpm: 120.0,
        ..wet(999.0, 0.0)
    };
    assert_eq!(options.effective_time_ms(), 250.0);
    let out = run(options, FS, &[impulse(13_000)]);
    assert_eq!(out[0][12_000], 1.0);
    // A tempo change moves a synced time; the note value must stay in range.
    let mut delay = Delay::new(options).unwrap();
    delay.set_parameter("tempo_bpm", 60.0).unwrap();
    assert_eq!(delay.options().effective_time_ms(), 500.0);
    let slow = DelayOptions {
        note: Some("8/1".parse().unwrap()),
        tempo_bpm: 20.0,
        ..options
    };
    assert!(
        Delay::new(slow).is_err(),
        "96 s is beyond the longest delay"
    );
}

/// A change of time crossfades between the old and the new tap: the
/// output of a sine never steps further than the sine itself does, and once
/// the fade is over it is the sine at the new delay.
#[test]
fn time_changes_crossfade_without_clicks() {
    let f = 440.0;
    let w = 2.0 * PI * f / f64::from(FS);
    let frames = FS as usize;
    let sine: Vec<f64> = (0..frames).map(|n| (w * n as f64).sin()).collect();
    let mut delay = Delay::new(wet(100.0, 0.0)).unwrap();
    delay.prepare(FS, 1000, 1).unwrap();
    let mut out = sine.clone();
    for start in (0..frames).step_by(1000) {
        if start == 10_000 {
            delay.set_parameter("time_ms", 137.3).unwrap();
        }
        if start == 11_000 {
            // Arrives during the first fade: taken up when it ends.
            delay.set_parameter("time_ms", 211.0).unwrap();
        }
        delay.process(&mut [&mut out[start..start + 1000]]);
    }
    let max_step = out[5000..]
        .windows(2)
        .map(|p| (p[1] - p[0]).abs())
        .fold(0.0, f64::max);
    assert!(
        max_step <= 1.01 * w,
        "step {max_step}, sine's largest step {w}"
    );
    // 2 fades of 50 ms (2400 frames) each, the second starting at 12 400.
    let d = 211.0 * 48.0;
    for (n, y) in out.iter().enumerate().skip(15_000) {
        let expected = (w * (n as f64 - d)).sin();
        assert!((y - expected).abs() < 1e-3, "frame {n}");
    }
}

/// Changes of feedback, mix and the filter cutoffs are ramped. Click
/// detector: for a sine of `ω` rad/frame the second difference is at most
/// `ω²` times the amplitude, and a ramped gain or coefficient keeps it so,
/// while a jump of even 1 % of the level would exceed it tenfold at 220 Hz.
#[test]
fn parameter_changes_do_not_click() {
    let w = 2.0 * PI * 220.0 / f64::from(FS);
    let frames = FS as usize / 2;
    let sine: Vec<f64> = (0..frames).map(|n| (w * n as f64).sin()).collect();
    let changes = [
        ("feedback", 0.9),
        ("mix", 1.0),
        ("lowpass_hz", 500.0),
        ("highpass_hz", 2000.0),
        ("time_ms", 13.0),
    ];
    for (name, value) in changes {
        let options = DelayOptions {
            time_ms: 10.0,
            feedback: 0.3,
            mix: 0.5,
            lowpass_hz: Some(4000.0),
            ..DelayOptions::default()
        };
        let mut delay = Delay::new(options).unwrap();
        delay.prepare(FS, 1000, 1).unwrap();
        let mut out = sine.clone();
        for start in (0..frames).step_by(1000) {
            if start == 12_000 {
                delay.set_parameter(name, value).unwrap();
            }
            delay.process(&mut [&mut out[start..start + 1000]]);
        }
        let peak = out.iter().fold(0.0f64, |a, y| a.max(y.abs()));
        // From 50 ms on: the onset of the first echo (at 10 ms) is a kink.
        let curvature = out[2400..]
            .windows(3)
            .map(|v| (v[2] - 2.0 * v[1] + v[0]).abs())
            .fold(0.0, f64::max);
        println!(
            "{name}: max |Δ²y| = {:.2} ω²·peak",
            curvature / (w * w * peak)
        );
        assert!(curvature <= 1.5 * w * w * peak, "{name} clicks");
    }
}

#[test]
fn mix_blends_dry_and_wet_and_zero_is_dry() {
    let input = vec![noise(10_000, 1), noise(10_000, 2)];
    let dry = run(
        DelayOptions {
            mix: 0.0,
            feedback: 0.9,
            ..DelayOptions::default()
        },
        FS,
        &input,
    );
    assert_eq!(dry, input);
    let half = run(
        DelayOptions {
            mix: 0.5,
            ..wet(10.0, 0.0)
        },
        FS,
        &input,
    );
    for n in 480..10_000 {
        let expected = 0.5 * input[0][n] + 0.5 * input[0][n - 480];
        assert!((half[0][n] - expected).abs() < 1e-15);
    }
}

#[test]
fn tail_covers_the_repeats_down_to_minus_90_db() {
    let d = 480;
    let mut delay = Delay::new(wet(10.0, 0.5)).unwrap();
    delay.prepare(FS, 512, 1).unwrap();
    let tail = delay.tail_frames();
    let out = run(wet(10.0, 0.5), FS, &[impulse(40 * d)]);
    // Echo 16 (0.5^15, −90.3 dB) is the first below −90 dB.
    let last_audible = 15 * d;
    assert!(db(out[0][last_audible]) > -90.0 && db(out[0][16 * d]) < -90.0);
    assert!(tail >= 16 * d && tail <= 17 * d + 2500, "tail {tail}");
    // No feedback: one echo. Longest settings: finite.
    let mut delay = Delay::new(wet(10.0, 0.0)).unwrap();
    delay.prepare(FS, 512, 1).unwrap();
    assert!(delay.tail_frames() >= d && delay.tail_frames() < 2 * d + 2500);
    let mut delay = Delay::new(wet(10_000.0, 0.99)).unwrap();
    delay.prepare(FS, 512, 2).unwrap();
    assert!(delay.tail_frames() < 11_000 * FS as usize);
}

#[test]
fn block_size_invariant() {
    let frames = FS as usize / 2;
    let input = vec![noise(frames, 3), noise(frames, 4)];
    let options = DelayOptions {
        time_ms: 31.7,
        feedback: 0.8,
        lowpass_hz: Some(3000.0),
        highpass_hz: Some(150.0),
        mix: 0.4,
        ..DelayOptions::default()
    };
    assert_block_size_invariant(|| Delay::new(options).unwrap(), FS, &input);
    let ping_pong = DelayOptions {
        ping_pong: true,
        note: Some("1/32t".parse().unwrap()),
        ..options
    };
    assert_block_size_invariant(|| Delay::new(ping_pong).unwrap(), 44_100, &input);
}

#[test]
fn settings_are_validated() {
    let bad = [
        DelayOptions {
            time_ms: 0.5,
            ..DelayOptions::default()
        },
        DelayOptions {
            time_ms: 10_001.0,
            ..DelayOptions::default()
        },
        DelayOptions {
            feedback: 1.0,
            ..DelayOptions::default()
        },
        DelayOptions {
            mix: -0.1,
            ..DelayOptions::default()
        },
        DelayOptions {
            lowpass_hz: Some(10.0),
            ..DelayOptions::default()
        },
        DelayOptions {
            highpass_hz: Some(f64::NAN),
            ..DelayOptions::default()
        },
        DelayOptions {
            tempo_bpm: 1000.0,
            ..DelayOptions::default()
        },
    ];
    for options in bad {
        assert!(
            matches!(Delay::new(options), Err(CoreError::OutOfRange { .. })),
            "{options:?}"
        );
    }
    let msg = Delay::new(bad[2]).unwrap_err().to_string();
    assert!(
        msg.contains("feedback") && msg.contains("0 ..= 0.99"),
        "{msg}"
    );

    let mut delay = Delay::new(DelayOptions::default()).unwrap();
    let err = delay.set_parameter("delay", 1.0).unwrap_err().to_string();
    assert!(
        err.contains("time_ms") && err.contains("highpass_hz"),
        "{err}"
    );
    assert!(delay.set_parameter("feedback", 1.2).is_err());
    assert_eq!(delay.options().feedback, 0.35);
    delay.set_parameter("lowpass_hz", 5000.0).unwrap();
    assert_eq!(delay.options().lowpass_hz, Some(5000.0));
    delay.set_parameter("lowpass_hz", 0.0).unwrap();
    assert_eq!(delay.options().lowpass_hz, None);
    for (name, value) in [
        ("time_ms", 20.0),
        ("feedback", 0.5),
        ("mix", 1.0),
        ("highpass_hz", 80.0),
    ] {
        delay.set_parameter(name, value).unwrap();
    }
}
