//! Parametric EQ against the analog prototypes of the RBJ cookbook.
//!
//! The acceptance figure: over f0 = 20 Hz … 0.4·fs (12 log-spaced values),
//! Q ∈ {0.1, 0.3, 0.7071, 1, 3, 10}, gain ∈ {±1, ±6, ±18} dB and 44.1, 48,
//! 96 kHz, the digital magnitude (evaluated from the coefficients) stays
//! within 0.1 dB of the analog `|H_a(jΩ)|` on a 1/24-octave grid from 20 Hz
//! to 0.45·fs; notches are compared in linear magnitude (within
//! 10^(0.1/20) − 1 ≈ 0.0116).

use mixmaster_core::Processor;
use mixmaster_dsp::biquad::cascade_magnitude;
use mixmaster_dsp::testing::{assert_block_size_invariant, run_in_blocks};
use mixmaster_dsp::{Band, Eq, EqOptions};
use std::f64::consts::PI;

const RATES: [f64; 3] = [44_100.0, 48_000.0, 96_000.0];
// 0.7071 as written in the specification of the grid, not 1/√2 exactly.
#[allow(clippy::approx_constant)]
const QS: [f64; 6] = [0.1, 0.3, 0.7071, 1.0, 3.0, 10.0];
const GAINS: [f64; 6] = [-18.0, -6.0, -1.0, 1.0, 6.0, 18.0];
const TOL_DB: f64 = 0.1;
/// 0.1 dB expressed as a linear deviation around unity.
const TOL_LINEAR: f64 = 0.011_579;

fn f0_grid(fs: f64) -> Vec<f64> {
    (0..12)
        .map(|i| 20.0 * (0.4 * fs / 20.0).powf(i as f64 / 11.0))
        .collect()
}

fn check_grid(fs: f64) -> impl Iterator<Item = f64> {
    (0..)
        .map(|k| 20.0 * 2f64.powf(k as f64 / 24.0))
        .take_while(move |&f| f <= 0.45 * fs)
}

/// Worst error of a band against its analog prototype over the check grid:
/// dB for gain bands, linear for notches.
fn band_error(band: &Band, fs: f64) -> (f64, f64) {
    let sections = band.design(fs);
    let linear = matches!(band, Band::Notch { .. });
    let mut worst = (0.0, 0.0);
    for f in check_grid(fs) {
        let hd = cascade_magnitude(&sections, f, fs);
        let ha = band.analog_magnitude(f);
        let e = if linear {
            (hd - ha).abs()
        } else {
            (20.0 * (hd / ha).log10()).abs()
        };
        assert!(e.is_finite(), "{band:?} at {fs} Hz: non-finite at {f} Hz");
        if e > worst.0 {
            worst = (e, f);
        }
    }
    worst
}

#[derive(Debug, Default)]
struct Worst {
    error: f64,
    case: String,
}

impl Worst {
    fn update(&mut self, band: &Band, fs: f64) {
        let (e, f) = band_error(band, fs);
        if e > self.error {
            self.error = e;
            self.case = format!("{band:?} at fs {fs} Hz, worst at {f:.1} Hz");
        }
    }
}

#[test]
fn bells_and_shelves_match_the_analog_prototype_within_0_1_db() {
    let mut worst = [Worst::default(), Worst::default(), Worst::default()];
    for fs in RATES {
        for f0 in f0_grid(fs) {
            for q in QS {
                for g in GAINS {
                    let bands = [
                        Band::bell(f0, g, q),
                        Band::LowShelf {
                            freq_hz: f0,
                            gain_db: g,
                            q,
                        },
                        Band::HighShelf {
                            freq_hz: f0,
                            gain_db: g,
                            q,
                        },
                    ];
                    for (w, band) in worst.iter_mut().zip(&bands) {
                        w.update(band, fs);
                    }
                }
            }
        }
    }
    for (name, w) in ["bell", "low shelf", "high shelf"].iter().zip(&worst) {
        println!("worst {name} error: {:.4} dB ({})", w.error, w.case);
        assert!(
            w.error <= TOL_DB,
            "{name}: {:.4} dB > 0.1 dB: {}",
            w.error,
            w.case
        );
    }
}

#[test]
fn tilt_matches_its_analog_prototype_within_0_1_db() {
    let mut worst = Worst::default();
    for fs in RATES {
        for f0 in f0_grid(fs) {
            for g in GAINS {
                worst.update(
                    &Band::Tilt {
                        pivot_hz: f0,
                        gain_db: g,
                    },
                    fs,
                );
            }
        }
    }
    println!("worst tilt error: {:.4} dB ({})", worst.error, worst.case);
    assert!(
        worst.error <= TOL_DB,
        "{:.4} dB: {}",
        worst.error,
        worst.case
    );
}

#[test]
fn notch_matches_its_analog_prototype_in_linear_magnitude() {
    let mut worst = Worst::default();
    for fs in RATES {
        for f0 in f0_grid(fs) {
            for q in QS {
                let band = Band::Notch { freq_hz: f0, q };
                worst.update(&band, fs);
                // The notch itself is exact: zeros on the unit circle at f0.
                let depth = cascade_magnitude(&band.design(fs), f0, fs);
                assert!(depth < 1e-6, "{band:?}: {depth} at f0");
            }
        }
    }
    println!("worst notch error: {:.5} (linear)", worst.error);
    assert!(
        worst.error <= TOL_LINEAR,
        "{:.5}: {}",
        worst.error,
        worst.case
    );
}

/// Off-grid settings (a fixed pseudo-random sample, also at 88.2 and
/// 192 kHz) stay within the same bound.
#[test]
fn random_settings_between_the_grid_points_stay_within_0_1_db() {
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut rnd = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut worst = Worst::default();
    for _ in 0..1500 {
        let fs: f64 = [44_100.0, 48_000.0, 88_200.0, 96_000.0, 192_000.0][(rnd() * 5.0) as usize];
        let f0 = 20.0 * (0.4 * fs / 20.0).powf(rnd());
        let q = 0.1 * 100f64.powf(rnd());
        let g = rnd() * 36.0 - 18.0;
        let band = match (rnd() * 4.0) as usize {
            0 => Band::bell(f0, g, q),
            1 => Band::LowShelf {
                freq_hz: f0,
                gain_db: g,
                q,
            },
            2 => Band::HighShelf {
                freq_hz: f0,
                gain_db: g,
                q,
            },
            _ => Band::Tilt {
                pivot_hz: f0,
                gain_db: g,
            },
        };
        worst.update(&band, fs);
    }
    println!(
        "worst random-setting error: {:.4} dB ({})",
        worst.error, worst.case
    );
    assert!(
        worst.error <= TOL_DB,
        "{:.4} dB: {}",
        worst.error,
        worst.case
    );
}

#[test]
fn cuts_are_stable_and_mirror_boosts() {
    for fs in RATES {
        for f0 in f0_grid(fs) {
            for q in QS {
                let up = Band::bell(f0, 12.0, q).design(fs);
                let down = Band::bell(f0, -12.0, q).design(fs);
                assert!(up.iter().chain(&down).all(|c| c.is_stable()));
                for f in [100.0, f0, 0.3 * fs] {
                    let product = cascade_magnitude(&up, f, fs) * cascade_magnitude(&down, f, fs);
                    assert!((product - 1.0).abs() < 1e-9, "{f0} {q} {f}: {product}");
                }
            }
        }
    }
}

fn sine(freq_hz: f64, fs: f64, frames: usize) -> Vec<f64> {
    (0..frames)
        .map(|n| (2.0 * PI * freq_hz * n as f64 / fs).sin())
        .collect()
}

/// Amplitude of the `freq_hz` component of `x` (least-squares projection
/// on sine and cosine over the given span).
fn amplitude(x: &[f64], freq_hz: f64, fs: f64) -> f64 {
    let (mut s, mut c) = (0.0, 0.0);
    for (n, v) in x.iter().enumerate() {
        let ph = 2.0 * PI * freq_hz * n as f64 / fs;
        s += v * ph.sin();
        c += v * ph.cos();
    }
    2.0 * s.hypot(c) / x.len() as f64
}

#[test]
fn processed_sines_have_the_analytic_gain() {
    let fs = 48_000.0;
    let bands = vec![
        Band::bell(1000.0, 6.0, 1.0),
        Band::high_shelf(8000.0, -4.0),
        Band::Notch {
            freq_hz: 60.0,
            q: 5.0,
        },
    ];
    let mut eq = Eq::new(EqOptions {
        bands,
        ..EqOptions::default()
    })
    .unwrap();
    // 0.25 s; measured over the last 0.125 s, after the response has settled.
    for f in [100.0, 700.0, 1000.0, 3000.0, 12_000.0, 18_000.0] {
        let frames = 12_000;
        let out = run_in_blocks(&mut eq, fs as u32, &[sine(f, fs, frames)], 512).remove(0);
        let tail = &out[frames / 2..];
        // Whole periods are not guaranteed: project over many cycles.
        let measured = amplitude(tail, f, fs);
        let expected = cascade_magnitude(&eq.sections(), f, fs);
        assert!(
            (measured / expected - 1.0).abs() < 2e-3,
            "{f} Hz: measured {measured}, analytic {expected}"
        );
    }
}

#[test]
fn zero_gain_bands_are_an_exact_pass_through() {
    let mut eq = Eq::new(EqOptions {
        bands: vec![
            Band::bell(1000.0, 0.0, 1.0),
            Band::low_shelf(100.0, 0.0),
            Band::high_shelf(8000.0, 0.0),
            Band::Tilt {
                pivot_hz: 1000.0,
                gain_db: 0.0,
            },
        ],
        ..EqOptions::default()
    })
    .unwrap();
    let input: Vec<Vec<f64>> = (0..2)
        .map(|c| {
            (0..4800)
                .map(|n| ((n * 7919 + c * 104_729) % 2003) as f64 / 1001.0 - 1.0)
                .collect()
        })
        .collect();
    let out = run_in_blocks(&mut eq, 48_000, &input, 256);
    assert_eq!(out, input);
}

fn noise(channels: usize, frames: usize) -> Vec<Vec<f64>> {
    let mut s = 0x9E37_79B9_7F4A_7C15u64;
    (0..channels)
        .map(|_| {
            (0..frames)
                .map(|_| {
                    s = s.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                    (s >> 11) as f64 / (1u64 << 52) as f64 - 1.0
                })
                .collect()
        })
        .collect()
}

fn test_bands() -> Vec<Band> {
    vec![
        Band::bell(250.0, -3.0, 2.0),
        Band::low_shelf(80.0, 4.0),
        Band::high_shelf(10_000.0, 2.5),
        Band::Notch {
            freq_hz: 50.0,
            q: 8.0,
        },
        Band::Tilt {
            pivot_hz: 1000.0,
            gain_db: -2.0,
        },
    ]
}

#[test]
fn block_size_invariant() {
    let make = || {
        Eq::new(EqOptions {
            bands: test_bands(),
            ..EqOptions::default()
        })
        .unwrap()
    };
    assert_block_size_invariant(make, 48_000, &noise(2, 9000));
}

/// Changes parameters on the first block, so the glide itself is checked
/// for block-size invariance.
#[derive(Debug)]
struct ChangeAtStart<P> {
    inner: P,
    changes: Vec<(&'static str, f64)>,
    done: bool,
}

impl<P: Processor> Processor for ChangeAtStart<P> {
    fn prepare(&mut self, fs: u32, max: usize, ch: usize) -> Result<(), mixmaster_core::CoreError> {
        self.done = false;
        self.inner.prepare(fs, max, ch)
    }
    fn process(&mut self, block: &mut [&mut [f64]]) {
        if !self.done {
            for &(name, value) in &self.changes {
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
        inner: Eq::new(EqOptions {
            bands: test_bands(),
            ..EqOptions::default()
        })
        .unwrap(),
        changes: vec![
            ("bands.0.freq_hz", 2000.0),
            ("bands.0.gain_db", 9.0),
            ("bands.3.q", 1.0),
            ("bands.4.pivot_hz", 300.0),
        ],
        done: false,
    };
    let input = noise(2, 4000);
    let reference = run_in_blocks(&mut make(), 48_000, &input, 4096);
    for block in [1, 7, 64] {
        assert!(
            run_in_blocks(&mut make(), 48_000, &input, block) == reference,
            "block {block}"
        );
    }
}

#[test]
fn glide_ends_exactly_at_the_new_design() {
    let mut eq = Eq::new(EqOptions {
        bands: vec![Band::bell(500.0, 0.0, 1.0)],
        ..EqOptions::default()
    })
    .unwrap();
    eq.prepare(48_000, 512, 1).unwrap();
    eq.set_parameter("bands.0.gain_db", 6.0).unwrap();
    eq.set_parameter("bands.0.freq_hz", 4000.0).unwrap();
    let mut x = vec![0.0; 2000];
    eq.process(&mut [&mut x[..]]);
    let target = Band::bell(4000.0, 6.0, 1.0).design(48_000.0);
    assert_eq!(eq.band_sections(0).unwrap(), &target[..]);
}

#[test]
fn gain_changes_do_not_click() {
    // A 1 kHz sine through a bell at 1 kHz whose gain jumps from 0 to +12 dB
    // and back: the second difference of the output must stay that of a
    // sine at the largest amplitude reached (a click is a spike in it).
    let fs = 48_000.0;
    let f = 1000.0;
    let mut eq = Eq::new(EqOptions {
        bands: vec![Band::bell(f, 0.0, 2.0)],
        ..EqOptions::default()
    })
    .unwrap();
    eq.prepare(48_000, 4800, 1).unwrap();
    let mut x = sine(f, fs, 14_400);
    let (a, rest) = x.split_at_mut(4800);
    let (b, c) = rest.split_at_mut(4800);
    eq.process(&mut [a]);
    eq.set_parameter("bands.0.gain_db", 12.0).unwrap();
    eq.set_parameter("bands.0.freq_hz", 1500.0).unwrap();
    eq.process(&mut [b]);
    eq.set_parameter("bands.0.gain_db", 0.0).unwrap();
    eq.process(&mut [c]);
    let peak = x.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let w = 2.0 * PI * f / fs;
    let bound = peak * (2.0 - 2.0 * w.cos()) * 1.5;
    let worst = x
        .windows(3)
        .map(|s| (s[2] - 2.0 * s[1] + s[0]).abs())
        .fold(0.0, f64::max);
    assert!(
        worst <= bound,
        "second difference {worst} > {bound} (peak {peak})"
    );
}

#[test]
fn settings_are_validated_with_their_range() {
    let err = Eq::new(EqOptions {
        bands: vec![Band::bell(1000.0, 3.0, 20.0)],
        ..EqOptions::default()
    })
    .unwrap_err()
    .to_string();
    assert_eq!(err, "q = 20 is out of range: expected 0.1 ..= 10");
    let err = Eq::new(EqOptions {
        bands: vec![Band::low_shelf(5.0, 3.0)],
        ..EqOptions::default()
    })
    .unwrap_err()
    .to_string();
    assert_eq!(err, "freq_hz = 5 is out of range: expected 10 ..= 40000 Hz");
    let err = Eq::new(EqOptions {
        bands: vec![Band::Tilt {
            pivot_hz: 1000.0,
            gain_db: 30.0,
        }],
        ..EqOptions::default()
    })
    .unwrap_err()
    .to_string();
    assert_eq!(err, "gain_db = 30 is out of range: expected -24 ..= 24 dB");

    let mut eq = Eq::new(EqOptions {
        bands: vec![
            Band::bell(1000.0, 3.0, 1.0),
            Band::Notch {
                freq_hz: 60.0,
                q: 4.0,
            },
        ],
        ..EqOptions::default()
    })
    .unwrap();
    let err = eq
        .set_parameter("bands.1.gain_db", 3.0)
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "unknown parameter 'bands.1.gain_db'; valid: bands.0.freq_hz, bands.0.gain_db, \
         bands.0.q, bands.1.freq_hz, bands.1.q"
    );
    assert!(eq.set_parameter("bands.0.q", 0.0).is_err());
    assert!(eq.set_parameter("bands.7.q", 1.0).is_err());
    assert!(eq.set_parameter("bands.0.q", 2.0).is_ok());
}

#[test]
fn bands_above_0_45_fs_are_designed_at_0_45_fs() {
    let high = Band::bell(30_000.0, 6.0, 1.0).design(44_100.0);
    let clamped = Band::bell(0.45 * 44_100.0, 6.0, 1.0).design(44_100.0);
    assert_eq!(high, clamped);
    assert!(high.iter().all(|c| c.is_stable()));
}
