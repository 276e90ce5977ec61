//! Utility: gain smoothing, polarity, mono, width, all-pass rotation.

use mixmaster_core::Processor;
use mixmaster_core::units::db_to_amplitude;
use mixmaster_dsp::testing::{assert_block_size_invariant, run_in_blocks};
use mixmaster_dsp::utility::allpass_phase_deg;
use mixmaster_dsp::{Utility, UtilityOptions};

fn utility(options: UtilityOptions) -> Utility {
    Utility::new(options).unwrap()
}

fn stereo(frames: usize) -> Vec<Vec<f64>> {
    let l = (0..frames)
        .map(|n| (n as f64 * 0.013).sin() * 0.6)
        .collect();
    let r = (0..frames)
        .map(|n| (n as f64 * 0.029).cos() * 0.3 + 0.05)
        .collect();
    vec![l, r]
}

#[test]
fn unity_settings_are_an_exact_pass_through() {
    let input = stereo(3000);
    let out = run_in_blocks(&mut utility(UtilityOptions::default()), 48_000, &input, 100);
    assert_eq!(out, input);
}

#[test]
fn polarity_mono_and_width() {
    let input = stereo(500);
    let run = |o: UtilityOptions| run_in_blocks(&mut utility(o), 48_000, &input, 64);
    let inv = run(UtilityOptions {
        invert_polarity: true,
        ..UtilityOptions::default()
    });
    for c in 0..2 {
        assert!(inv[c].iter().zip(&input[c]).all(|(y, x)| *y == -*x));
    }
    let mono = run(UtilityOptions {
        mono: true,
        width: 1.7,
        ..UtilityOptions::default()
    });
    for i in 0..500 {
        let m = 0.5 * (input[0][i] + input[1][i]);
        assert!((mono[0][i] - m).abs() < 1e-15 && (mono[1][i] - m).abs() < 1e-15);
    }
    let wide = run(UtilityOptions {
        width: 2.0,
        ..UtilityOptions::default()
    });
    for i in 0..500 {
        let (l, r) = (input[0][i], input[1][i]);
        let (m, s) = (0.5 * (l + r), 0.5 * (l - r));
        assert!((wide[0][i] - (m + 2.0 * s)).abs() < 1e-15);
        assert!((wide[1][i] - (m - 2.0 * s)).abs() < 1e-15);
    }
    let gained = run(UtilityOptions {
        gain_db: -6.0,
        ..UtilityOptions::default()
    });
    let g = db_to_amplitude(-6.0);
    assert!(gained[1].iter().zip(&input[1]).all(|(y, x)| *y == x * g));
}

#[test]
fn polarity_flip_fades_through_zero_instead_of_clicking() {
    let mut u = utility(UtilityOptions::default());
    u.prepare(48_000, 4096, 1).unwrap();
    u.set_parameter("invert_polarity", 1.0).unwrap();
    let mut x = vec![1.0; 1200];
    u.process(&mut [&mut x[..]]);
    let max_step = x
        .windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .fold(0.0, f64::max);
    assert!(max_step <= 2.0 / 960.0 + 1e-12, "{max_step}");
    assert_eq!(x[1199], -1.0);
}

#[test]
fn phase_rotation_is_an_all_pass_with_minus_180_degrees_at_its_frequency() {
    let fs = 48_000u32;
    for (f0, q) in [
        (100.0, std::f64::consts::FRAC_1_SQRT_2),
        (1000.0, 2.0),
        (15_000.0, 0.5),
    ] {
        let mut u = utility(UtilityOptions {
            phase_freq_hz: Some(f0),
            phase_q: q,
            ..UtilityOptions::default()
        });
        u.prepare(fs, 64, 2).unwrap();
        let c = u.allpass_section();
        for f in [20.0, 300.0, 5000.0, 20_000.0] {
            let m = c.magnitude(f, f64::from(fs));
            assert!((m - 1.0).abs() < 1e-12, "{f0}: |H({f})| = {m}");
        }
        let ph = allpass_phase_deg(&c, f0, f64::from(fs));
        assert!((ph.abs() - 180.0).abs() < 1e-6, "{f0}: {ph}");
    }
}

#[test]
fn block_size_invariant() {
    let make = || {
        utility(UtilityOptions {
            gain_db: -3.0,
            invert_polarity: true,
            width: 1.4,
            phase_freq_hz: Some(250.0),
            ..UtilityOptions::default()
        })
    };
    assert_block_size_invariant(make, 44_100, &stereo(5000));
}

#[derive(Debug)]
struct ChangeAtStart {
    inner: Utility,
    done: bool,
}

impl Processor for ChangeAtStart {
    fn prepare(&mut self, fs: u32, max: usize, ch: usize) -> Result<(), mixmaster_core::CoreError> {
        self.done = false;
        self.inner.prepare(fs, max, ch)
    }
    fn process(&mut self, block: &mut [&mut [f64]]) {
        if !self.done {
            for (name, value) in [
                ("gain_db", -20.0),
                ("width", 0.3),
                ("mono", 1.0),
                ("phase_freq_hz", 2000.0),
                ("phase_q", 3.0),
            ] {
                self.inner.set_parameter(name, value).unwrap();
            }
            self.done = true;
        }
        self.inner.process(block);
    }
    fn reset(&mut self) {
        self.inner.reset();
    }
}

#[test]
fn parameter_glides_are_block_size_invariant() {
    let make = || ChangeAtStart {
        inner: utility(UtilityOptions {
            phase_freq_hz: Some(300.0),
            ..UtilityOptions::default()
        }),
        done: false,
    };
    let input = stereo(3000);
    let reference = run_in_blocks(&mut make(), 48_000, &input, 4096);
    for block in [1, 7, 64] {
        assert!(
            run_in_blocks(&mut make(), 48_000, &input, block) == reference,
            "block {block}"
        );
    }
}

#[test]
fn settings_are_validated_with_their_range() {
    let err = |o: UtilityOptions| Utility::new(o).unwrap_err().to_string();
    assert_eq!(
        err(UtilityOptions {
            width: 2.5,
            ..UtilityOptions::default()
        }),
        "width = 2.5 is out of range: expected 0 ..= 2"
    );
    assert_eq!(
        err(UtilityOptions {
            gain_db: 30.0,
            ..UtilityOptions::default()
        }),
        "gain_db = 30 is out of range: expected -120 ..= 24 dB"
    );
    let mut u = utility(UtilityOptions::default());
    assert_eq!(
        u.set_parameter("mono", 0.5).unwrap_err().to_string(),
        "mono = 0.5 is out of range: expected 0 (off) or 1 (on)"
    );
    assert!(u.set_parameter("phase_freq_hz", 100.0).is_err());
    assert_eq!(
        u.set_parameter("pan", 0.0).unwrap_err().to_string(),
        "unknown parameter 'pan'; valid: gain_db, width, invert_polarity, mono, phase_freq_hz, phase_q"
    );
}
