//! Mastering EQ: both phases against the analog prototypes, the linear-phase
//! length rule, symmetry and latency of the FIR, mid/side and left/right
//! routing, mono, block-size invariance, automation and validation.
//!
//! Acceptance figures:
//! * minimum phase: stereo bands within 0.1 dB of the product of the analog
//!   magnitudes from 20 Hz to 0.45·fs (the impulse response of the
//!   processor, by FFT);
//! * linear phase: within 0.1 dB from 10 Hz to 0.45·fs for every band set
//!   the length rule does not cap; impulse response symmetric within 1e-12;
//!   latency `(N − 1)/2 + B` exactly (`B` the FFT partition);
//! * a mid band leaves `L − R` and a side band `L + R` unchanged within
//!   −120 dB of the signal peak;
//! * blocks of 1, 7, 64 and 4096 frames: bit-identical in minimum phase,
//!   within −140 dB in linear phase.

use mixmaster_core::{CoreError, Processor};
use mixmaster_dsp::fft_fir::default_partition_frames;
use mixmaster_dsp::fir_design::{amplitude_response, design_linear_phase, grid_points};
use mixmaster_dsp::mastering_eq::{FirLength, linear_phase_length, zero_phase_time_constant_s};
use mixmaster_dsp::testing::{assert_block_size_invariant, run_in_blocks};
use mixmaster_dsp::{Band, BandChannels, MasteringBand, MasteringEq, MasteringEqOptions, Phase};
use realfft::RealFftPlanner;
use std::f64::consts::{FRAC_1_SQRT_2, PI};

const TOL_DB: f64 = 0.1;

fn eq(bands: Vec<MasteringBand>, phase: Phase) -> MasteringEq {
    MasteringEq::new(MasteringEqOptions {
        bands,
        phase,
        ..MasteringEqOptions::default()
    })
    .unwrap()
}

fn db(x: f64) -> f64 {
    20.0 * x.abs().log10()
}

fn noise(channels: usize, frames: usize, seed: u64) -> Vec<Vec<f64>> {
    let mut s = seed;
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

/// Planar impulses: `gains[c]` at frame 0 of channel `c`.
fn impulse(gains: &[f64], frames: usize) -> Vec<Vec<f64>> {
    gains
        .iter()
        .map(|&g| {
            let mut x = vec![0.0; frames];
            x[0] = g;
            x
        })
        .collect()
}

/// Magnitude spectrum of `x` (zero-padded to `points`), bins `k·fs/points`.
fn magnitude_spectrum(x: &[f64], points: usize) -> Vec<f64> {
    let mut input = vec![0.0; points];
    input[..x.len()].copy_from_slice(x);
    let fft = RealFftPlanner::<f64>::new().plan_fft_forward(points);
    let mut out = fft.make_output_vec();
    fft.process(&mut input, &mut out).unwrap();
    out.iter().map(|c| c.norm()).collect()
}

/// Product of the analog magnitudes of `bands`.
fn analog(bands: &[Band], f: f64) -> f64 {
    bands.iter().map(|b| b.analog_magnitude(f)).product()
}

/// Worst dB error of a measured magnitude (bins `k·fs/points`) against
/// `target`, from `lo` Hz to 0.45·fs; with its frequency.
fn worst_db(
    measured: &[f64],
    points: usize,
    fs: f64,
    lo: f64,
    target: impl Fn(f64) -> f64,
) -> (f64, f64) {
    let mut worst = (0.0, 0.0);
    for (k, &m) in measured.iter().enumerate() {
        let f = k as f64 * fs / points as f64;
        if f < lo || f > 0.45 * fs {
            continue;
        }
        let e = db(m / target(f)).abs();
        assert!(e.is_finite(), "non-finite at {f} Hz");
        if e > worst.0 {
            worst = (e, f);
        }
    }
    worst
}

fn mastering_bands() -> Vec<Band> {
    vec![
        Band::low_shelf(80.0, 4.0),
        Band::bell(250.0, -3.0, 2.0),
        Band::bell(3000.0, 2.0, 0.7),
        Band::high_shelf(10_000.0, 2.5),
        Band::Tilt {
            pivot_hz: 1000.0,
            gain_db: -2.0,
        },
    ]
}

// ---------------------------------------------------------------------------
// Minimum phase
// ---------------------------------------------------------------------------

#[test]
fn minimum_phase_stereo_bands_match_the_analog_prototypes_within_0_1_db() {
    let points = 1 << 17;
    let mut worst = (0.0, String::new());
    for fs in [44_100u32, 48_000, 96_000, 192_000] {
        let f = f64::from(fs);
        let sets: Vec<Vec<Band>> = vec![
            mastering_bands(),
            vec![
                Band::bell(60.0, 6.0, 1.0),
                Band::bell((0.4 * f).min(20_000.0), -6.0, 0.7),
                Band::LowShelf {
                    freq_hz: 200.0,
                    gain_db: -4.0,
                    q: 2.0,
                },
            ],
            vec![
                Band::HighShelf {
                    freq_hz: (0.3 * f).min(16_000.0),
                    gain_db: 6.0,
                    q: 0.5,
                },
                Band::bell(1500.0, 12.0, 4.0),
            ],
        ];
        for bands in sets {
            let mut p = eq(
                bands.iter().copied().map(MasteringBand::stereo).collect(),
                Phase::Minimum,
            );
            let out = run_in_blocks(&mut p, fs, &impulse(&[1.0, 1.0], points), 4096);
            assert_eq!(out[0], out[1]);
            let m = magnitude_spectrum(&out[0], points);
            let (e, at) = worst_db(&m, points, f, 20.0, |x| analog(&bands, x));
            if e > worst.0 {
                worst = (e, format!("{fs} Hz {bands:?} at {at:.1} Hz"));
            }
        }
    }
    println!("minimum phase: worst {:.4} dB ({})", worst.0, worst.1);
    assert!(worst.0 <= TOL_DB, "{:.4} dB: {}", worst.0, worst.1);
}

#[test]
fn minimum_phase_is_block_size_invariant_with_every_kind_of_band() {
    let bands = vec![
        MasteringBand::stereo(Band::low_shelf(80.0, 3.0)),
        MasteringBand::mid(Band::bell(400.0, -4.0, 1.5)),
        MasteringBand::side(Band::high_shelf(6000.0, 3.0)),
        MasteringBand::left(Band::bell(2000.0, 2.0, 1.0)),
        MasteringBand::right(Band::Notch {
            freq_hz: 60.0,
            q: 8.0,
        }),
    ];
    let make = || eq(bands.clone(), Phase::Minimum);
    assert_block_size_invariant(make, 48_000, &noise(2, 9000, 1));
    // Mono: stereo and mid bands only.
    let mono: Vec<MasteringBand> = bands[..3].to_vec();
    assert_block_size_invariant(
        || eq(mono.clone(), Phase::Minimum),
        44_100,
        &noise(1, 5000, 2),
    );
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
    fn prepare(&mut self, fs: u32, max: usize, ch: usize) -> Result<(), CoreError> {
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
fn minimum_phase_automation_glides_block_size_invariantly_to_the_new_setting() {
    let bands = vec![
        MasteringBand::stereo(Band::bell(1000.0, 0.0, 1.0)),
        MasteringBand::mid(Band::low_shelf(100.0, 2.0)),
        MasteringBand::side(Band::Tilt {
            pivot_hz: 2000.0,
            gain_db: 1.0,
        }),
    ];
    let make = || ChangeAtStart {
        inner: eq(bands.clone(), Phase::Minimum),
        changes: vec![
            ("bands.0.gain_db", 6.0),
            ("bands.0.freq_hz", 4000.0),
            ("bands.1.q", 1.5),
            ("bands.2.pivot_hz", 500.0),
        ],
        done: false,
    };
    let input = noise(2, 4000, 3);
    let reference = run_in_blocks(&mut make(), 48_000, &input, 4096);
    for block in [1, 7, 64] {
        assert!(
            run_in_blocks(&mut make(), 48_000, &input, block) == reference,
            "block {block}"
        );
    }
    // After the glide (20 ms) a 4 kHz tone on both channels (pure mid)
    // gets the gain of the new stereo bell times the mid shelf.
    let fs = 48_000.0;
    let mut p = eq(bands.clone(), Phase::Minimum);
    p.prepare(48_000, 512, 2).unwrap();
    p.set_parameter("bands.0.gain_db", 6.0).unwrap();
    p.set_parameter("bands.0.freq_hz", 4000.0).unwrap();
    let tone: Vec<f64> = (0..24_000)
        .map(|n| (2.0 * PI * 4000.0 * n as f64 / fs).sin())
        .collect();
    let mut l = tone.clone();
    let mut r = tone.clone();
    for (a, b) in l.chunks_mut(512).zip(r.chunks_mut(512)) {
        p.process(&mut [a, b]);
    }
    let (mut s, mut c) = (0.0, 0.0);
    for (n, v) in l[12_000..].iter().enumerate() {
        let ph = 2.0 * PI * 4000.0 * (n + 12_000) as f64 / fs;
        s += v * ph.sin();
        c += v * ph.cos();
    }
    let measured = 2.0 * s.hypot(c) / 12_000.0;
    let expected = Band::bell(4000.0, 6.0, 1.0).analog_magnitude(4000.0)
        * Band::low_shelf(100.0, 2.0).analog_magnitude(4000.0);
    assert!(
        db(measured / expected).abs() < TOL_DB,
        "{measured} vs {expected}"
    );
    assert_eq!(
        p.options().bands[0].band,
        Band::bell(4000.0, 6.0, 1.0),
        "options follow automation"
    );
}

// ---------------------------------------------------------------------------
// Linear phase: the length rule and the design
// ---------------------------------------------------------------------------

#[test]
fn length_rule_gives_8191_taps_at_48_khz_scaled_with_rate_and_grows_for_narrow_low_bands() {
    let mild = vec![MasteringBand::stereo(Band::bell(200.0, 3.0, 1.0))];
    let cases = [
        (44_100, 8191),
        (48_000, 8191),
        (88_200, 16_383),
        (96_000, 16_383),
        (176_400, 32_767),
        (192_000, 32_767),
    ];
    for (fs, taps) in cases {
        let len = linear_phase_length(&mild, fs);
        assert_eq!(
            len,
            FirLength {
                taps,
                required_taps: taps
            },
            "{fs}"
        );
        assert_eq!(
            len.latency_frames(),
            (taps - 1) / 2 + default_partition_frames(taps)
        );
    }
    // Flat and zero-gain settings: the base length.
    assert_eq!(linear_phase_length(&[], 48_000).taps, 8191);
    // A bell's time constant is Q·10^(|g|/40)/(π·f0).
    let b = Band::bell(50.0, 12.0, 1.0);
    let tau = 10f64.powf(12.0 / 40.0) / (PI * 50.0);
    assert!((zero_phase_time_constant_s(&b) / tau - 1.0).abs() < 1e-12);
    // 16·τ·fs = 9757 → 16 383 taps.
    let len = linear_phase_length(&[MasteringBand::side(b)], 48_000);
    assert_eq!(len.taps, 16_383);
    // A narrow bell at 20 Hz asks for more than the cap.
    let len = linear_phase_length(&[MasteringBand::mid(Band::bell(20.0, 12.0, 10.0))], 48_000);
    assert!(len.is_capped());
    assert_eq!(len.taps, 65_535);
    assert_eq!(
        zero_phase_time_constant_s(&Band::bell(20.0, 0.0, 10.0)),
        0.0
    );
}

/// One rate of a grid of single bands: `(fs, number of f0 values from 20 Hz
/// to 0.4·fs, qs, gains)`; every type with a gain (bell, shelves, tilt).
type GridRate<'a> = (u32, usize, &'a [f64], &'a [f64]);

/// Designs every band of the grid with the length rule and returns the
/// worst dB error from 10 Hz to 0.45·fs over the uncapped designs.
fn check_linear_phase_grid(grid: &[GridRate]) -> f64 {
    let mut worst = (0.0, String::new());
    let (mut designs, mut capped) = (0, 0);
    for &(fs, n_f0, qs, gains) in grid {
        let f = f64::from(fs);
        for i in 0..n_f0 {
            let f0 = 20.0 * (0.4 * f / 20.0).powf(i as f64 / (n_f0 - 1) as f64);
            let mut bands = Vec::new();
            for &g in gains {
                bands.push(Band::Tilt {
                    pivot_hz: f0,
                    gain_db: g,
                });
                for &q in qs {
                    bands.push(Band::bell(f0, g, q));
                    bands.push(Band::LowShelf {
                        freq_hz: f0,
                        gain_db: g,
                        q,
                    });
                    bands.push(Band::HighShelf {
                        freq_hz: f0,
                        gain_db: g,
                        q,
                    });
                }
            }
            for band in bands {
                let len = linear_phase_length(&[MasteringBand::stereo(band)], fs);
                if len.is_capped() {
                    capped += 1;
                    continue;
                }
                designs += 1;
                let h = design_linear_phase(len.taps, f, |x| band.analog_magnitude(x)).unwrap();
                let points = grid_points(len.taps);
                let a = amplitude_response(&h, points);
                let (e, at) = worst_db(&a, points, f, 10.0, |x| band.analog_magnitude(x));
                if e > worst.0 {
                    worst = (
                        e,
                        format!(
                            "{band:?} at {fs} Hz, {} taps, worst at {at:.1} Hz",
                            len.taps
                        ),
                    );
                }
            }
        }
    }
    println!(
        "linear phase: {designs} designs, {capped} capped (not checked), worst {:.4} dB ({})",
        worst.0, worst.1
    );
    assert!(worst.0 <= TOL_DB, "{:.4} dB: {}", worst.0, worst.1);
    worst.0
}

/// Single bands on a grid at four rates; uncapped designs within 0.1 dB
/// from 10 Hz to 0.45·fs. (The wider grid below runs with `--ignored`.)
#[test]
fn linear_phase_designs_match_the_analog_prototypes_within_0_1_db() {
    check_linear_phase_grid(&[
        (44_100, 4, &[0.1, FRAC_1_SQRT_2, 10.0], &[-24.0, -1.0, 6.0]),
        (48_000, 4, &[0.3, 3.0, 10.0], &[-18.0, 1.0, 24.0]),
        (96_000, 3, &[FRAC_1_SQRT_2, 10.0], &[-6.0, 18.0]),
        (192_000, 3, &[1.0], &[-12.0, 12.0]),
    ]);
}

/// The wide grid (about 20 s): f0 at 10 points, Q 0.1 … 10, ±1 … ±24 dB.
/// Measured: 1576 designs, 114 capped, worst 0.0091 dB (from 10 Hz).
#[test]
#[ignore = "slow: the wide grid, run with --ignored"]
fn linear_phase_designs_match_the_analog_prototypes_on_a_wide_grid() {
    check_linear_phase_grid(&[
        (
            44_100,
            10,
            &[0.1, FRAC_1_SQRT_2, 3.0, 10.0],
            &[-24.0, -6.0, -1.0, 1.0, 6.0, 24.0],
        ),
        (
            48_000,
            10,
            &[0.3, 1.0, 3.0, 10.0],
            &[-18.0, -6.0, 6.0, 18.0],
        ),
        (96_000, 8, &[0.1, 1.0, 10.0], &[-24.0, -6.0, 6.0, 24.0]),
        (192_000, 5, &[FRAC_1_SQRT_2, 10.0], &[-12.0, 12.0]),
    ]);
}

#[test]
fn linear_phase_processor_matches_the_analog_product_and_is_symmetric() {
    for fs in [44_100u32, 48_000, 96_000] {
        let f = f64::from(fs);
        let bands = mastering_bands();
        let mut p = eq(
            bands.iter().copied().map(MasteringBand::stereo).collect(),
            Phase::Linear,
        );
        let len = linear_phase_length(&[], fs).taps;
        let b = default_partition_frames(len);
        let out = run_in_blocks(&mut p, fs, &impulse(&[1.0, 1.0], b + len + 500), 1024);
        assert_eq!(p.latency_frames(), (len - 1) / 2 + b);
        let latency = (len - 1) / 2;
        assert_eq!(p.kernels().len(), 1);
        assert!(out[0][..b].iter().all(|&v| v == 0.0));
        let h = &out[0][b..b + len];
        // Symmetric about the latency.
        let asym = (1..=latency)
            .map(|j| (h[latency - j] - h[latency + j]).abs())
            .fold(0.0, f64::max);
        // Nothing after the FIR.
        let after = out[0][b + len..].iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let points = grid_points(len);
        let a = amplitude_response(h, points);
        let (e, at) = worst_db(&a, points, f, 20.0, |x| analog(&bands, x));
        println!(
            "{fs} Hz: {len} taps, latency {latency}, asymmetry {asym:.1e}, after {after:.1e}, \
             worst {e:.4} dB at {at:.1} Hz"
        );
        assert!(asym <= 1e-12, "asymmetry {asym}");
        assert!(after <= 1e-12, "{after}");
        assert!(e <= TOL_DB, "{e} dB at {at} Hz");
        assert!(
            p.kernels()[0]
                .iter()
                .zip(p.kernels()[0].iter().rev())
                .all(|(a, b)| a == b)
        );
    }
}

#[test]
fn latency_is_the_impulse_peak_of_a_flat_setting_at_every_rate() {
    for fs in [44_100u32, 48_000, 88_200, 96_000, 192_000] {
        for bands in [
            vec![],
            vec![MasteringBand::stereo(Band::bell(1000.0, 0.0, 1.0))],
            vec![MasteringBand::mid(Band::bell(1000.0, 0.0, 1.0))],
        ] {
            let mut p = eq(bands, Phase::Linear);
            let taps = linear_phase_length(&[], fs).taps;
            let b = default_partition_frames(taps);
            let out = run_in_blocks(&mut p, fs, &impulse(&[0.5, -0.25], b + taps + 10), 777);
            let l = p.latency_frames();
            assert_eq!(l, (taps - 1) / 2 + b);
            assert_eq!(taps % 2, 1);
            for (c, g) in [(0, 0.5), (1, -0.25)] {
                let peak = (0..out[c].len())
                    .max_by(|&a, &b| out[c][a].abs().total_cmp(&out[c][b].abs()))
                    .unwrap();
                assert_eq!(peak, l, "{fs} Hz channel {c}");
                // A flat setting is an exact delay.
                let err = out[c]
                    .iter()
                    .enumerate()
                    .map(|(n, v)| (v - if n == l { g } else { 0.0 }).abs())
                    .fold(0.0, f64::max);
                assert!(err < 1e-15, "{fs} Hz: {err}");
            }
            assert_eq!(p.tail_frames(), taps - 1 + b);
        }
    }
    assert_eq!(eq(vec![], Phase::Minimum).latency_frames(), 0);
}

#[test]
fn linear_phase_is_block_size_invariant_within_minus_140_db() {
    let bands = vec![
        MasteringBand::stereo(Band::low_shelf(100.0, 3.0)),
        MasteringBand::mid(Band::bell(400.0, -4.0, 1.5)),
        MasteringBand::side(Band::high_shelf(6000.0, 3.0)),
    ];
    let input = noise(2, 12_000, 4);
    let fs = 48_000;
    let mut reference_eq = eq(bands.clone(), Phase::Linear);
    let reference = run_in_blocks(&mut reference_eq, fs, &input, 4096);
    let mut worst = 0.0f64;
    for block in [1, 7, 64] {
        let got = run_in_blocks(&mut eq(bands.clone(), Phase::Linear), fs, &input, block);
        for (a, b) in got.iter().zip(&reference) {
            for (x, y) in a.iter().zip(b) {
                worst = worst.max((x - y).abs());
            }
        }
    }
    reference_eq.reset();
    let mut again = input.clone();
    for start in (0..12_000).step_by(4096) {
        let end = (start + 4096).min(12_000);
        let (l, r) = again.split_at_mut(1);
        reference_eq.process(&mut [&mut l[0][start..end], &mut r[0][start..end]]);
    }
    for (a, b) in again.iter().zip(&reference) {
        for (x, y) in a.iter().zip(b) {
            worst = worst.max((x - y).abs());
        }
    }
    let peak = reference
        .iter()
        .flatten()
        .fold(0.0f64, |m, v| m.max(v.abs()));
    println!("linear phase block-size difference: {worst:e} (peak {peak:.2})");
    assert!(worst <= 1e-7 * peak, "{worst}");
}

// ---------------------------------------------------------------------------
// Mid/side and left/right routing
// ---------------------------------------------------------------------------

/// Largest difference of `f(out)` and `f(input)` delayed by `latency`,
/// relative to the peak of the input, in dB.
fn residual_db(
    input: &[Vec<f64>],
    output: &[Vec<f64>],
    latency: usize,
    f: impl Fn(f64, f64) -> f64,
) -> f64 {
    let peak = input.iter().flatten().fold(0.0f64, |m, v| m.max(v.abs()));
    let mut worst = 0.0f64;
    for n in latency..input[0].len() {
        let a = f(output[0][n], output[1][n]);
        let b = f(input[0][n - latency], input[1][n - latency]);
        worst = worst.max((a - b).abs());
    }
    db(worst.max(1e-300) / peak)
}

#[test]
fn a_mid_band_leaves_the_side_and_a_side_band_the_mid_untouched() {
    let input = noise(2, 16_000, 5);
    for phase in [Phase::Minimum, Phase::Linear] {
        let mid = vec![
            MasteringBand::mid(Band::bell(500.0, 9.0, 1.0)),
            MasteringBand::mid(Band::low_shelf(120.0, -6.0)),
        ];
        let mut p = eq(mid, phase);
        let out = run_in_blocks(&mut p, 48_000, &input, 1000);
        let l = p.latency_frames();
        let side_change = residual_db(&input, &out, l, |a, b| a - b);
        let mid_change = residual_db(&input, &out, l, |a, b| a + b);

        let side = vec![MasteringBand::side(Band::high_shelf(4000.0, 6.0))];
        let mut p = eq(side, phase);
        let out = run_in_blocks(&mut p, 48_000, &input, 1000);
        let l = p.latency_frames();
        let sum_change = residual_db(&input, &out, l, |a, b| a + b);
        let diff_change = residual_db(&input, &out, l, |a, b| a - b);
        println!(
            "{phase:?}: mid band changes L−R by {side_change:.0} dB (L+R by {mid_change:.0} dB); \
             side band changes L+R by {sum_change:.0} dB (L−R by {diff_change:.0} dB)"
        );
        assert!(side_change < -120.0, "{phase:?}: {side_change}");
        assert!(sum_change < -120.0, "{phase:?}: {sum_change}");
        // …while the band does act on its own part.
        assert!(mid_change > -20.0 && diff_change > -20.0);
    }
}

/// Response matrix (amplitude of output `o` for an impulse on input `i`),
/// measured through the processor.
fn response_matrix(p: &mut MasteringEq, fs: u32, frames: usize) -> [[Vec<f64>; 2]; 2] {
    let points = 1 << 17;
    let mut column = |gains: [f64; 2]| {
        let out = run_in_blocks(p, fs, &impulse(&gains, frames), 4096);
        [
            magnitude_spectrum(&out[0], points),
            magnitude_spectrum(&out[1], points),
        ]
    };
    let [ll, lr] = column([1.0, 0.0]);
    let [rl, rr] = column([0.0, 1.0]);
    // [output][input]
    [[ll, rl], [lr, rr]]
}

#[test]
fn mid_side_and_left_right_paths_follow_their_analog_products_in_both_phases() {
    let fs = 48_000u32;
    let f = f64::from(fs);
    let stereo = Band::low_shelf(90.0, 2.0);
    let mid = Band::bell(700.0, -5.0, 1.2);
    let side = Band::high_shelf(5000.0, 4.0);
    let left = Band::bell(2500.0, 3.0, 2.0);
    let right = Band::Tilt {
        pivot_hz: 800.0,
        gain_db: -3.0,
    };
    let bands = vec![
        MasteringBand::stereo(stereo),
        MasteringBand::mid(mid),
        MasteringBand::side(side),
        MasteringBand::left(left),
        MasteringBand::right(right),
    ];
    let points = 1 << 17;
    for phase in [Phase::Minimum, Phase::Linear] {
        // Linear phase, all five kinds of band: the 2×2 response matrix is
        // |A_oi| = ½|G_M ± G_S|·F_i (in minimum phase the M and S paths have
        // different phases, so only the M/S paths are checked, below).
        if phase == Phase::Linear {
            let mut p = eq(bands.clone(), phase);
            let m = response_matrix(&mut p, fs, points);
            assert_eq!(p.kernels().len(), 4);
            let mut worst = 0.0f64;
            for (k, _) in m[0][0].iter().enumerate() {
                let x = k as f64 * f / points as f64;
                if !(20.0..=0.45 * f).contains(&x) {
                    continue;
                }
                let gm = stereo.analog_magnitude(x) * mid.analog_magnitude(x);
                let gs = stereo.analog_magnitude(x) * side.analog_magnitude(x);
                let fl = left.analog_magnitude(x);
                let fr = right.analog_magnitude(x);
                let expected = [
                    [0.5 * (gm + gs) * fl, 0.5 * (gm - gs).abs() * fr],
                    [0.5 * (gm - gs).abs() * fl, 0.5 * (gm + gs) * fr],
                ];
                for o in 0..2 {
                    for i in 0..2 {
                        // Absolute error against the size of the paths.
                        let scale = 0.5 * (gm + gs) * if i == 0 { fl } else { fr };
                        worst = worst.max((m[o][i][k] - expected[o][i]).abs() / scale);
                    }
                }
            }
            println!("linear phase 2×2 matrix: worst relative error {worst:.2e}");
            assert!(worst < 0.0116, "{worst}");
        }
        // The mid and side paths on their own: an impulse on M (L = R) and
        // on S (L = −R), without the left/right stage.
        let ms_bands = vec![
            MasteringBand::stereo(stereo),
            MasteringBand::mid(mid),
            MasteringBand::side(side),
        ];
        let mut p = eq(ms_bands, phase);
        let out = run_in_blocks(&mut p, fs, &impulse(&[1.0, 1.0], points), 4096);
        let (e_mid, _) = worst_db(&magnitude_spectrum(&out[0], points), points, f, 20.0, |x| {
            stereo.analog_magnitude(x) * mid.analog_magnitude(x)
        });
        let out = run_in_blocks(&mut p, fs, &impulse(&[1.0, -1.0], points), 4096);
        let (e_side, _) = worst_db(&magnitude_spectrum(&out[0], points), points, f, 20.0, |x| {
            stereo.analog_magnitude(x) * side.analog_magnitude(x)
        });
        println!("{phase:?}: mid path {e_mid:.4} dB, side path {e_side:.4} dB");
        assert!(e_mid <= TOL_DB && e_side <= TOL_DB);
        assert!(p.uses_mid_side());
    }
}

#[test]
fn left_and_right_bands_act_on_one_channel_only() {
    let input = noise(2, 8000, 6);
    for phase in [Phase::Minimum, Phase::Linear] {
        let mut p = eq(
            vec![MasteringBand::left(Band::bell(1000.0, 6.0, 1.0))],
            phase,
        );
        let out = run_in_blocks(&mut p, 48_000, &input, 512);
        let l = p.latency_frames();
        for n in l..8000 {
            assert!((out[1][n] - input[1][n - l]).abs() < 1e-15);
        }
        assert!(!p.uses_mid_side());
    }
}

#[test]
fn mono_takes_stereo_and_mid_bands_and_ignores_side_bands() {
    let input = noise(1, 6000, 7);
    for phase in [Phase::Minimum, Phase::Linear] {
        let with_side = vec![
            MasteringBand::stereo(Band::low_shelf(100.0, 3.0)),
            MasteringBand::mid(Band::bell(1000.0, -4.0, 1.0)),
            MasteringBand::side(Band::high_shelf(5000.0, 6.0)),
        ];
        let reference = vec![
            MasteringBand::stereo(Band::low_shelf(100.0, 3.0)),
            MasteringBand::stereo(Band::bell(1000.0, -4.0, 1.0)),
        ];
        let a = run_in_blocks(&mut eq(with_side, phase), 48_000, &input, 333);
        let b = run_in_blocks(&mut eq(reference, phase), 48_000, &input, 333);
        let diff = a[0]
            .iter()
            .zip(&b[0])
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f64::max);
        // Linear phase: the same FIR once the side band is dropped, but the
        // length rule counted it (same length here).
        assert!(diff < 1e-12, "{phase:?}: {diff}");
    }
    // Left/right bands need two channels.
    let mut p = eq(
        vec![MasteringBand::left(Band::bell(1000.0, 3.0, 1.0))],
        Phase::Minimum,
    );
    let err = p.prepare(48_000, 512, 1).unwrap_err().to_string();
    assert!(
        err.starts_with("channels = 1 is out of range: expected 2: a band on the left"),
        "{err}"
    );
    let err = eq(vec![], Phase::Linear)
        .prepare(48_000, 512, 3)
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "channels = 3 is out of range: expected 1 (mono) or 2 (stereo)"
    );
}

// ---------------------------------------------------------------------------
// Notch in linear phase, parameters and validation
// ---------------------------------------------------------------------------

#[test]
fn linear_phase_notches_stereo_deep_one_path_limited_depth() {
    // A stereo notch is designed from its signed amplitude, a smooth zero
    // crossing the FIR follows (below −60 dB at f0). A mid (or side, left, right) notch keeps |H|, whose cusp the
    // FIR rounds off over about fs/N: its depth is limited, and outside
    // ±4·fs/N of f0 it is within the eq tests' linear tolerance for notches.
    let fs = 48_000u32;
    let f = f64::from(fs);
    for (f0, q) in [(60.0, 8.0), (1000.0, 4.0), (10_000.0, 2.0)] {
        let band = Band::Notch { freq_hz: f0, q };
        for channels in [BandChannels::Stereo, BandChannels::Mid] {
            let mut p = eq(vec![MasteringBand { band, channels }], Phase::Linear);
            p.prepare(fs, 1024, 2).unwrap();
            let h = &p.kernels()[0];
            let taps = h.len();
            let points = grid_points(taps);
            let a = amplitude_response(h, points);
            // Depth: the amplitude at f0 itself (by a direct sum).
            let c = (taps - 1) / 2;
            let w = 2.0 * PI * f0 / f;
            let at_f0 = h[c]
                + 2.0
                    * (1..=c)
                        .map(|j| h[c + j] * (w * j as f64).cos())
                        .sum::<f64>();
            let bin = f / points as f64;
            let guard = if channels == BandChannels::Stereo {
                0.0
            } else {
                4.0 * f / taps as f64
            };
            let worst = a
                .iter()
                .enumerate()
                .map(|(k, &v)| (k as f64 * bin, v))
                .filter(|&(x, _)| (20.0..=0.45 * f).contains(&x) && (x - f0).abs() > guard)
                .map(|(x, v)| (v.abs() - band.analog_magnitude(x)).abs())
                .fold(0.0, f64::max);
            println!(
                "{channels:?} notch {f0} Hz q {q}: {taps} taps, depth {:.1} dB, linear error \
                 {worst:.5} (outside ±{guard:.1} Hz)",
                db(at_f0)
            );
            assert!(worst < 0.011_579, "{worst}");
            if channels == BandChannels::Stereo {
                assert!(db(at_f0) < -60.0, "{}", db(at_f0));
            } else {
                assert!(db(at_f0) < -15.0, "{}", db(at_f0));
            }
        }
    }
}

#[test]
fn parameters_are_named_like_the_mixing_eq_and_linear_phase_ones_are_fixed() {
    let bands = vec![
        MasteringBand::stereo(Band::bell(1000.0, 3.0, 1.0)),
        MasteringBand::side(Band::Notch {
            freq_hz: 60.0,
            q: 4.0,
        }),
        MasteringBand::mid(Band::Tilt {
            pivot_hz: 1000.0,
            gain_db: 1.0,
        }),
    ];
    let mut p = eq(bands.clone(), Phase::Minimum);
    p.prepare(48_000, 256, 2).unwrap();
    for (name, value) in [
        ("bands.0.freq_hz", 2000.0),
        ("bands.0.gain_db", -3.0),
        ("bands.0.q", 2.0),
        ("bands.1.freq_hz", 50.0),
        ("bands.1.q", 8.0),
        ("bands.2.pivot_hz", 500.0),
        ("bands.2.gain_db", -2.0),
    ] {
        p.set_parameter(name, value).unwrap();
    }
    let err = p
        .set_parameter("bands.1.gain_db", 3.0)
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "unknown parameter 'bands.1.gain_db'; valid: bands.0.freq_hz, bands.0.gain_db, \
         bands.0.q, bands.1.freq_hz, bands.1.q, bands.2.pivot_hz, bands.2.gain_db"
    );
    assert!(p.set_parameter("bands.9.q", 1.0).is_err());
    assert!(p.set_parameter("gain_db", 1.0).is_err());
    let err = p
        .set_parameter("bands.0.gain_db", 30.0)
        .unwrap_err()
        .to_string();
    assert_eq!(err, "gain_db = 30 is out of range: expected -24 ..= 24 dB");
    assert!(matches!(
        p.set_parameter("bands.0.q", 20.0),
        Err(CoreError::OutOfRange { name: "q", .. })
    ));

    let mut p = eq(bands, Phase::Linear);
    p.prepare(48_000, 256, 2).unwrap();
    p.set_parameter("bands.0.gain_db", 3.0).unwrap();
    let err = p
        .set_parameter("bands.0.gain_db", 4.0)
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("gain_db = 4 is out of range: expected the value given at construction"),
        "{err}"
    );
    assert!(matches!(
        p.set_parameter("bands.2.pivot_hz", 400.0),
        Err(CoreError::OutOfRange {
            name: "pivot_hz",
            ..
        })
    ));
    // Range errors come first.
    assert_eq!(
        p.set_parameter("bands.0.freq_hz", 5.0)
            .unwrap_err()
            .to_string(),
        "freq_hz = 5 is out of range: expected 10 ..= 40000 Hz"
    );
}

#[test]
fn options_are_validated_with_their_range() {
    let bad = |band: Band| {
        MasteringEq::new(MasteringEqOptions {
            bands: vec![MasteringBand::mid(band)],
            ..MasteringEqOptions::default()
        })
        .unwrap_err()
        .to_string()
    };
    assert_eq!(
        bad(Band::bell(1000.0, 3.0, 20.0)),
        "q = 20 is out of range: expected 0.1 ..= 10"
    );
    assert_eq!(
        bad(Band::low_shelf(5.0, 3.0)),
        "freq_hz = 5 is out of range: expected 10 ..= 40000 Hz"
    );
    assert_eq!(
        bad(Band::Tilt {
            pivot_hz: 1000.0,
            gain_db: 30.0
        }),
        "gain_db = 30 is out of range: expected -24 ..= 24 dB"
    );
    let err = MasteringEq::new(MasteringEqOptions {
        smoothing_ms: -1.0,
        ..MasteringEqOptions::default()
    })
    .unwrap_err()
    .to_string();
    assert_eq!(
        err,
        "smoothing_ms = -1 is out of range: expected 0 ..= 1000"
    );
    assert_eq!(BandChannels::from_name("side"), Some(BandChannels::Side));
    assert_eq!(Phase::from_name("linear"), Some(Phase::Linear));
    assert_eq!(BandChannels::Mid.name(), "mid");
    assert!(
        eq(vec![], Phase::Minimum)
            .prepare(4000, 64, 2)
            .unwrap_err()
            .to_string()
            .starts_with("sample_rate_hz = 4000")
    );
}
