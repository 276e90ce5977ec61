//! Saturation: the aliasing acceptance test (every non-harmonic component
//! below −90 dBFS for a 10 kHz sine at −6 dBFS driven by +12 dB, 44.1 and
//! 48 kHz, every character), identity below the soft clip's knee, DC of the
//! asymmetric tube, latency against the measured delay of an impulse,
//! harmonic signatures, mix, automatic gain, automation and block-size
//! invariance.

mod dynamics_support;

use dynamics_support::{amp, db, sine, tone_amplitude};
use mixmaster_core::{CoreError, Processor};
use mixmaster_dsp::saturation::Character;
use mixmaster_dsp::testing::{assert_block_size_invariant, run_in_blocks};
use mixmaster_dsp::{Saturation, SaturationOptions};
use realfft::RealFftPlanner;
use std::f64::consts::PI;

const CHARACTERS: [Character; 3] = [Character::Tape, Character::Tube, Character::SoftClip];

fn saturation(options: SaturationOptions) -> Saturation {
    Saturation::new(options).unwrap()
}

/// Minimum 7-term Blackman–Harris window (Albrecht, "A family of
/// cosine-sum windows for high-resolution measurements", ICASSP 2001):
/// sidelobes near −180 dB, main lobe ±7 bins.
const BH7: [f64; 7] = [
    0.271_051_400_693_42,
    0.433_297_939_234_48,
    0.218_122_999_543_11,
    0.065_925_446_388_03,
    0.010_811_742_098_37,
    0.000_776_584_825_22,
    0.000_013_887_217_35,
];
const MAIN_LOBE_BINS: f64 = 7.0;
const FFT_SIZE: usize = 65_536;

fn bh7(n: usize, len: usize) -> f64 {
    BH7.iter()
        .enumerate()
        .map(|(k, a)| {
            let sign = if k % 2 == 0 { 1.0 } else { -1.0 };
            sign * a * (2.0 * PI * k as f64 * n as f64 / len as f64).cos()
        })
        .sum()
}

/// Level in dBFS per bin of the last `FFT_SIZE` samples of `x`: a sine of
/// amplitude A centred on a bin reads 20·log10(A).
fn spectrum_dbfs(x: &[f64]) -> Vec<f64> {
    let tail = &x[x.len() - FFT_SIZE..];
    let mut input: Vec<f64> = tail
        .iter()
        .enumerate()
        .map(|(n, v)| v * bh7(n, FFT_SIZE))
        .collect();
    let fft = RealFftPlanner::<f64>::new().plan_fft_forward(FFT_SIZE);
    let mut out = fft.make_output_vec();
    fft.process(&mut input, &mut out).unwrap();
    let scale = 2.0 / (FFT_SIZE as f64 * BH7[0]);
    out.iter()
        .map(|c| 20.0 * (c.norm() * scale).max(1e-30).log10())
        .collect()
}

/// Worst level (dBFS) and its frequency outside the main lobes of the
/// harmonics `k·f0` below fs/2 (k = 0 is DC).
fn worst_non_harmonic(spectrum: &[f64], f0: f64, fs: u32) -> (f64, f64) {
    let bin_hz = f64::from(fs) / FFT_SIZE as f64;
    let guard = MAIN_LOBE_BINS + 1.0;
    let harmonic_bins: Vec<f64> = (0..)
        .map(|k| f64::from(k) * f0 / bin_hz)
        .take_while(|&b| b * bin_hz < f64::from(fs) / 2.0)
        .collect();
    spectrum
        .iter()
        .enumerate()
        .filter(|&(b, _)| harmonic_bins.iter().all(|&h| (b as f64 - h).abs() > guard))
        .map(|(b, &l)| (l, b as f64 * bin_hz))
        .fold(
            (f64::NEG_INFINITY, 0.0),
            |a, b| if b.0 > a.0 { b } else { a },
        )
}

/// Largest loss of a sine's bin level when it falls between bins (the
/// window's scalloping loss, at half a bin), in dB.
fn scalloping_loss_db() -> f64 {
    let (mut re, mut im, mut dc) = (0.0, 0.0, 0.0);
    for n in 0..FFT_SIZE {
        let w = bh7(n, FFT_SIZE);
        let ph = PI * n as f64 / FFT_SIZE as f64;
        re += w * ph.cos();
        im += w * ph.sin();
        dc += w;
    }
    -db(re.hypot(im) / dc)
}

#[test]
fn window_sidelobes_are_far_below_the_limit() {
    // A pure off-bin sine: everything outside its main lobe is window
    // leakage, which must be negligible against −90 dBFS.
    let fs = 48_000;
    let x = sine(1234.567, 1.0, fs, FFT_SIZE);
    let s = spectrum_dbfs(&x);
    let (worst, _) = worst_non_harmonic(&s, 1234.567, fs);
    // (Harmonics 2·f0 … are excluded too, but a pure sine has none.)
    assert!(worst < -150.0, "leakage {worst} dBFS");
    let peak = s.iter().cloned().fold(f64::MIN, f64::max);
    assert!(peak.abs() < scalloping_loss_db() + 1e-6, "{peak}");
}

#[test]
fn aliases_stay_below_minus_90_dbfs() {
    let f0 = 10_000.0;
    let scallop = scalloping_loss_db();
    for fs in [44_100, 48_000] {
        let settle = (0.4 * f64::from(fs)) as usize;
        let x = sine(f0, amp(-6.0), fs, settle + FFT_SIZE);
        for character in CHARACTERS {
            let mut s = saturation(SaturationOptions {
                character,
                drive_db: 12.0,
                ..SaturationOptions::default()
            });
            let out = run_in_blocks(&mut s, fs, std::slice::from_ref(&x), 4096);
            let spectrum = spectrum_dbfs(&out[0]);
            let (worst, at_hz) = worst_non_harmonic(&spectrum, f0, fs);
            let fundamental = db(tone_amplitude(&out[0][settle..settle + 44_100], f0, fs));
            println!(
                "{fs} Hz {character:?}: fundamental {fundamental:+.2} dBFS, worst non-harmonic \
                 {worst:.1} dBFS at {at_hz:.0} Hz (+{scallop:.2} dB scalloping margin)"
            );
            assert!(
                worst + scallop < -90.0,
                "{fs} Hz {character:?}: {worst:.1} dBFS at {at_hz:.0} Hz"
            );
        }
    }
}

#[test]
fn the_measurement_sees_aliasing_when_there_is_some() {
    // The same tone through tanh at the base rate, without anti-aliasing.
    let fs = 44_100;
    let x = sine(10_000.0, amp(-6.0), fs, FFT_SIZE);
    let naive: Vec<f64> = x.iter().map(|v| (v * amp(12.0)).tanh()).collect();
    let (worst, _) = worst_non_harmonic(&spectrum_dbfs(&naive), 10_000.0, fs);
    assert!(worst > -40.0, "naive tanh aliases at {worst} dBFS");
}

#[test]
fn soft_clip_below_its_knee_is_the_identity_at_0_db_drive() {
    // Tolerance: the oversampling filters' passband ripple (120 dB design,
    // ≤ 1e-6) and the equalised ADAA droop (≤ 4e-6 at 20 kHz at 8×): the
    // delayed input is reproduced within 1e-5 of full scale.
    for fs in [44_100, 48_000, 96_000] {
        for freq in [100.0, 1000.0, 15_000.0] {
            let mut s = saturation(SaturationOptions {
                character: Character::SoftClip,
                ..SaturationOptions::default()
            });
            let x = sine(freq, amp(-7.0), fs, 12_000);
            let out = run_in_blocks(&mut s, fs, std::slice::from_ref(&x), 1000);
            let l = s.latency_frames();
            let err = (2000..12_000)
                .map(|n| (out[0][n] - x[n - l]).abs())
                .fold(0.0, f64::max);
            assert!(err < 1e-5, "{fs} Hz, {freq} Hz tone: error {err:e}");
        }
    }
}

#[test]
fn tube_dc_is_removed() {
    let fs = 48_000;
    for freq in [100.0, 1000.0] {
        let x = sine(freq, 1.0, fs, fs as usize);
        // The curve itself puts out a large DC offset at this drive…
        let raw_dc = x
            .iter()
            .map(|v| Character::Tube.shape(v * amp(12.0)))
            .sum::<f64>()
            / x.len() as f64;
        assert!(raw_dc < -0.05, "{raw_dc}");
        // …which the DC blocker removes.
        let mut s = saturation(SaturationOptions {
            character: Character::Tube,
            drive_db: 12.0,
            ..SaturationOptions::default()
        });
        let out = run_in_blocks(&mut s, fs, &[x], 4096);
        let tail = &out[0][fs as usize / 2..];
        let dc = tail.iter().sum::<f64>() / tail.len() as f64;
        assert!(dc.abs() < 1e-4, "{freq} Hz: DC {dc}");
        assert!(out[0].iter().all(|v| v.abs() < 2.0));
    }
}

#[test]
fn latency_matches_the_delay_of_an_impulse() {
    for fs in [44_100, 48_000, 96_000] {
        for oversampling in [2, 4, 8] {
            for character in CHARACTERS {
                let mut s = saturation(SaturationOptions {
                    character,
                    oversampling,
                    ..SaturationOptions::default()
                });
                let mut x = vec![0.0; 2000];
                x[100] = 0.01;
                let out = run_in_blocks(&mut s, fs, &[x], 333);
                let peak = (0..2000)
                    .max_by(|&a, &b| out[0][a].abs().total_cmp(&out[0][b].abs()))
                    .unwrap();
                let l = s.latency_frames();
                assert_eq!(peak, 100 + l, "{fs} Hz ×{oversampling} {character:?}");
                // Linear phase: the response is symmetric about its peak
                // (not the tube's: its DC blocker is a minimum-phase IIR).
                for k in (1..20).filter(|_| character != Character::Tube) {
                    let (a, b) = (out[0][peak - k], out[0][peak + k]);
                    assert!((a - b).abs() < 1e-6 * 0.01, "{fs} ×{oversampling}: {k}");
                }
                assert!(s.tail_frames() >= l);
            }
        }
    }
}

#[test]
fn tube_adds_even_harmonics_tape_and_soft_clip_do_not() {
    let fs = 48_000;
    let x = sine(1000.0, amp(-6.0), fs, 24_000);
    for character in CHARACTERS {
        let mut s = saturation(SaturationOptions {
            character,
            drive_db: 6.0,
            ..SaturationOptions::default()
        });
        let out = run_in_blocks(&mut s, fs, std::slice::from_ref(&x), 4096);
        let tail = &out[0][4800..];
        let h2 = db(tone_amplitude(tail, 2000.0, fs));
        let h3 = db(tone_amplitude(tail, 3000.0, fs));
        match character {
            Character::Tube => assert!(h2 > -40.0, "tube H2 {h2}"),
            _ => assert!(h2 < -120.0, "{character:?} H2 {h2}"),
        }
        assert!(h3 > -60.0, "{character:?} H3 {h3}");
    }
}

#[test]
fn mix_and_automatic_gain() {
    let fs = 48_000;
    let x = sine(440.0, 0.8, fs, 9600);
    // mix 0: exactly the dry signal, delayed by the latency.
    let mut dry = saturation(SaturationOptions {
        drive_db: 24.0,
        mix: 0.0,
        ..SaturationOptions::default()
    });
    let out = run_in_blocks(&mut dry, fs, std::slice::from_ref(&x), 512);
    let l = dry.latency_frames();
    assert!(out[0][l..] == x[..9600 - l]);

    // Automatic gain: a quiet signal keeps unity gain at +12 dB drive.
    let quiet = sine(440.0, amp(-50.0), fs, 9600);
    let mut auto = saturation(SaturationOptions {
        drive_db: 12.0,
        auto_gain: true,
        ..SaturationOptions::default()
    });
    let out = run_in_blocks(&mut auto, fs, std::slice::from_ref(&quiet), 512);
    let gain = db(tone_amplitude(&out[0][4800..], 440.0, fs) / amp(-50.0));
    assert!(gain.abs() < 0.01, "{gain} dB");

    // Manual output gain.
    let mut manual = saturation(SaturationOptions {
        output_db: -6.0,
        ..SaturationOptions::default()
    });
    let out = run_in_blocks(&mut manual, fs, std::slice::from_ref(&quiet), 512);
    let gain = db(tone_amplitude(&out[0][4800..], 440.0, fs) / amp(-50.0));
    assert!((gain + 6.0).abs() < 0.01, "{gain} dB");
}

#[test]
fn automation_is_smoothed_and_validated() {
    let fs = 48_000;
    let mut s = saturation(SaturationOptions::default());
    s.prepare(fs, 480, 1).unwrap();
    let x = amp(-40.0);
    let mut out = Vec::new();
    for block in 0..20 {
        if block == 10 {
            s.set_parameter("output_db", -12.0).unwrap();
        }
        let mut buf = vec![x; 480];
        s.process(&mut [buf.as_mut_slice()]);
        out.extend(buf);
    }
    let steps = out[4000..]
        .windows(2)
        .map(|w| db(w[1] / w[0]).abs())
        .fold(0.0, f64::max);
    assert!(steps < 0.05, "largest step {steps} dB");
    // (tanh compresses −40 dBFS by 3e-4 dB.)
    assert!((db(out[9599] / x) + 12.0).abs() < 1e-3);

    for (name, value) in [("drive_db", 6.0), ("mix", 0.5), ("oversampling", 8.0)] {
        s.set_parameter(name, value).unwrap();
    }
    assert!(matches!(
        s.set_parameter("oversampling", 4.0),
        Err(CoreError::OutOfRange {
            name: "oversampling",
            ..
        })
    ));
    assert!(matches!(
        s.set_parameter("drive_db", 60.0),
        Err(CoreError::OutOfRange {
            name: "drive_db",
            ..
        })
    ));
    assert!(matches!(
        s.set_parameter("ratio", 2.0),
        Err(CoreError::UnknownParameter { .. })
    ));
    assert!(
        Saturation::new(SaturationOptions {
            oversampling: 3,
            ..SaturationOptions::default()
        })
        .is_err()
    );
    assert_eq!(Character::from_name("soft_clip"), Some(Character::SoftClip));
}

#[test]
fn block_size_invariant() {
    let fs = 44_100;
    let n = 6000;
    let input = vec![
        sine(3000.0, 0.9, fs, n),
        sine(150.0, 0.5, fs, n)
            .iter()
            .zip(sine(7000.0, 0.4, fs, n))
            .map(|(a, b)| a + b)
            .collect(),
    ];
    for character in CHARACTERS {
        let options = SaturationOptions {
            character,
            drive_db: 9.0,
            mix: 0.8,
            ..SaturationOptions::default()
        };
        assert_block_size_invariant(|| saturation(options), fs, &input);
    }
}
