//! The parameter smoother, through the gain of the utility processor.

use mixmaster_core::Processor;
use mixmaster_core::units::db_to_amplitude;
use mixmaster_dsp::smoothing::{DEFAULT_SMOOTHING_MS, ramp_frames};
use mixmaster_dsp::testing::run_in_blocks;
use mixmaster_dsp::{Utility, UtilityOptions};

fn utility(options: UtilityOptions) -> Utility {
    Utility::new(options).unwrap()
}

/// The acceptance test of the smoother: a gain step from 0 dB to −60 dB
/// never changes the gain by more than `(1 − 10^(−3))/N` per sample, with
/// `N` the frames of the stated 20 ms, and arrives exactly after `N` frames.
#[test]
fn gain_step_to_minus_60_db_is_smoothed_over_the_stated_time() {
    let fs = 48_000;
    let n = ramp_frames(20.0, fs);
    assert_eq!(n, 960);
    let mut u = utility(UtilityOptions::default());
    u.prepare(fs, 4096, 1).unwrap();
    u.set_parameter("gain_db", -60.0).unwrap();
    let mut x = vec![1.0; 2000]; // DC of 1: the output is the gain itself
    u.process(&mut [&mut x[..]]);
    let target = db_to_amplitude(-60.0);
    let max_step = (1.0 - target) / n as f64;
    let mut prev = 1.0;
    for (i, &g) in x.iter().enumerate() {
        assert!(
            (prev - g).abs() <= max_step * (1.0 + 1e-9),
            "frame {i}: step {} > {max_step}",
            (prev - g).abs()
        );
        prev = g;
    }
    assert!(x[n - 2] > target, "arrived early");
    assert!(
        x[n - 1..].iter().all(|&g| g == target),
        "not settled at -60 dB"
    );
}

#[test]
fn smoothing_time_is_configurable_and_zero_is_a_one_frame_step() {
    assert_eq!(DEFAULT_SMOOTHING_MS, 20.0);
    assert_eq!(ramp_frames(5.0, 96_000), 480);
    assert_eq!(ramp_frames(0.0, 44_100), 1);
    let mut u = utility(UtilityOptions {
        smoothing_ms: 0.0,
        ..UtilityOptions::default()
    });
    let out = run_in_blocks(&mut u, 48_000, &[vec![1.0; 10]], 10);
    assert_eq!(out[0], vec![1.0; 10]);
}
