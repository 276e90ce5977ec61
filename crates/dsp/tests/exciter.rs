//! Exciter: the saturation's aliasing acceptance test at amount 100 %
//! (every non-harmonic component below −90 dBFS for a 10 kHz sine at
//! −6 dBFS driven by +12 dB, 44.1 and 48 kHz, every character), amount 0
//! as the exactly delayed input, harmonics only from the high band,
//! automation and block-size invariance.

use mixmaster_core::{CoreError, Processor};
use mixmaster_dsp::saturation::Character;
use mixmaster_dsp::testing::{assert_block_size_invariant, run_in_blocks};
use mixmaster_dsp::{Exciter, ExciterOptions};
use realfft::RealFftPlanner;
use std::f64::consts::PI;

const CHARACTERS: [Character; 3] = [Character::Tape, Character::Tube, Character::SoftClip];

fn exciter(options: ExciterOptions) -> Exciter {
    Exciter::new(options).unwrap()
}

fn amp(db: f64) -> f64 {
    10f64.powf(db / 20.0)
}

fn db(a: f64) -> f64 {
    20.0 * a.abs().log10()
}

fn sine(freq_hz: f64, amplitude: f64, fs: u32, frames: usize) -> Vec<f64> {
    (0..frames)
        .map(|n| amplitude * (2.0 * PI * freq_hz * n as f64 / f64::from(fs)).sin())
        .collect()
}

/// Amplitude of the `freq_hz` component (exact for whole periods).
fn tone_amplitude(x: &[f64], freq_hz: f64, fs: u32) -> f64 {
    let (mut re, mut im) = (0.0, 0.0);
    for (n, v) in x.iter().enumerate() {
        let ph = 2.0 * PI * freq_hz * n as f64 / f64::from(fs);
        re += v * ph.cos();
        im += v * ph.sin();
    }
    2.0 * re.hypot(im) / x.len() as f64
}

/// Minimum 7-term Blackman–Harris window (Albrecht, "A family of
/// cosine-sum windows for high-resolution measurements", ICASSP 2001), as
/// in the saturation test: sidelobes near −180 dB, main lobe ±7 bins.
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

/// dBFS per bin of the last `FFT_SIZE` samples (a sine centred on a bin
/// reads its amplitude).
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

/// The window's scalloping loss at half a bin, in dB.
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
fn aliases_stay_below_minus_90_dbfs_at_full_amount() {
    let f0 = 10_000.0;
    let scallop = scalloping_loss_db();
    for fs in [44_100, 48_000] {
        let settle = (0.4 * f64::from(fs)) as usize;
        let x = sine(f0, amp(-6.0), fs, settle + FFT_SIZE);
        for character in CHARACTERS {
            let mut e = exciter(ExciterOptions {
                character,
                drive_db: 12.0,
                amount_pct: 100.0,
                ..ExciterOptions::default()
            });
            let out = run_in_blocks(&mut e, fs, std::slice::from_ref(&x), 4096);
            let spectrum = spectrum_dbfs(&out[0]);
            let (worst, at_hz) = worst_non_harmonic(&spectrum, f0, fs);
            // Where the third harmonic would fold to without anti-aliasing.
            let folded = f64::from(fs) - 3.0 * f0 % f64::from(fs);
            let h3 = spectrum[(folded * FFT_SIZE as f64 / f64::from(fs)).round() as usize];
            let fundamental = db(tone_amplitude(&out[0][settle..settle + 44_100], f0, fs));
            println!(
                "{fs} Hz {character:?}: fundamental {fundamental:+.2} dBFS, worst non-harmonic \
                 {worst:.1} dBFS at {at_hz:.0} Hz (+{scallop:.2} dB scalloping margin); \
                 folded 3rd harmonic ({folded:.0} Hz) {h3:.1} dBFS"
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
    let fs = 44_100;
    let x = sine(10_000.0, amp(-6.0), fs, FFT_SIZE);
    let naive: Vec<f64> = x.iter().map(|v| v + (v * amp(12.0)).tanh()).collect();
    let (worst, _) = worst_non_harmonic(&spectrum_dbfs(&naive), 10_000.0, fs);
    assert!(worst > -40.0, "naive exciter aliases at {worst} dBFS");
}

#[test]
fn amount_zero_is_the_input_delayed_by_the_latency_exactly() {
    for fs in [44_100, 48_000, 96_000, 192_000] {
        for oversampling in [2, 4, 8] {
            let mut e = exciter(ExciterOptions {
                amount_pct: 0.0,
                drive_db: 36.0,
                oversampling,
                ..ExciterOptions::default()
            });
            let x: Vec<f64> = sine(5000.0, 0.9, fs, 6000)
                .iter()
                .zip(sine(123.0, 0.5, fs, 6000))
                .map(|(a, b)| a + b)
                .collect();
            let out = run_in_blocks(&mut e, fs, std::slice::from_ref(&x), 500);
            let l = e.latency_frames();
            assert!(l > 0);
            assert!(out[0][..l].iter().all(|&v| v == 0.0));
            assert!(out[0][l..] == x[..6000 - l], "{fs} Hz ×{oversampling}");
            assert!(e.tail_frames() >= l);
        }
    }
}

#[test]
fn only_the_high_band_is_excited() {
    let fs = 48_000;
    let frames = 48_000;
    let options = ExciterOptions {
        drive_db: 18.0,
        amount_pct: 50.0,
        ..ExciterOptions::default()
    };
    // A 4 kHz tone (above the 3 kHz corner) gains odd harmonics…
    let mut e = exciter(options);
    let out = run_in_blocks(&mut e, fs, &[sine(4000.0, amp(-6.0), fs, frames)], 1024);
    let tail = &out[0][24_000..];
    let h3 = db(tone_amplitude(tail, 12_000.0, fs));
    assert!(h3 > -50.0, "4 kHz: H3 {h3:.1} dBFS");
    // …a 200 Hz tone (47 dB down in the 12 dB/oct high-pass) practically
    // none, and its level barely moves.
    let mut e = exciter(options);
    let out = run_in_blocks(&mut e, fs, &[sine(200.0, amp(-6.0), fs, frames)], 1024);
    let tail = &out[0][24_000..];
    let h3 = db(tone_amplitude(tail, 600.0, fs));
    let gain = db(tone_amplitude(tail, 200.0, fs) / amp(-6.0));
    println!("200 Hz tone: H3 {h3:.1} dBFS, level change {gain:+.4} dB");
    assert!(h3 < -120.0, "200 Hz: H3 {h3:.1} dBFS");
    assert!(gain.abs() < 0.05, "{gain} dB");
}

#[test]
fn automation_is_smoothed_and_validated() {
    let fs = 48_000;
    let mut e = exciter(ExciterOptions {
        amount_pct: 0.0,
        ..ExciterOptions::default()
    });
    e.prepare(fs, 480, 1).unwrap();
    let x = sine(6000.0, 0.5, fs, 480 * 20);
    let mut out = Vec::new();
    for (i, chunk) in x.chunks(480).enumerate() {
        if i == 10 {
            e.set_parameter("amount_pct", 100.0).unwrap();
        }
        let mut buf = chunk.to_vec();
        e.process(&mut [buf.as_mut_slice()]);
        out.extend(buf);
    }
    // The wet share ramps over 20 ms (960 frames): the envelope of the
    // 6 kHz tone rises with no step larger than a sine's own change.
    let steps = out
        .windows(3)
        .map(|s| (s[2] - 2.0 * s[1] + s[0]).abs())
        .fold(0.0, f64::max);
    let w = 2.0 * PI * 6000.0 / f64::from(fs);
    let peak = out.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    assert!(steps <= peak * (2.0 - 2.0 * w.cos()) * 1.2, "{steps}");
    assert_eq!(e.options().amount_pct, 100.0);

    for (name, value) in [
        ("freq_hz", 5000.0),
        ("drive_db", 6.0),
        ("oversampling", 8.0),
    ] {
        e.set_parameter(name, value).unwrap();
    }
    assert_eq!(e.options().freq_hz, 5000.0);
    assert!(matches!(
        e.set_parameter("oversampling", 4.0),
        Err(CoreError::OutOfRange {
            name: "oversampling",
            ..
        })
    ));
    assert_eq!(
        e.set_parameter("amount_pct", 150.0)
            .unwrap_err()
            .to_string(),
        "amount_pct = 150 is out of range: expected 0 ..= 100 %"
    );
    assert_eq!(
        e.set_parameter("freq_hz", 100.0).unwrap_err().to_string(),
        "freq_hz = 100 is out of range: expected 500 ..= 20000 Hz"
    );
    assert!(matches!(
        e.set_parameter("mix", 0.5),
        Err(CoreError::UnknownParameter { .. })
    ));
    let err = |o: ExciterOptions| Exciter::new(o).unwrap_err().to_string();
    assert_eq!(
        err(ExciterOptions {
            drive_db: -3.0,
            ..ExciterOptions::default()
        }),
        "drive_db = -3 is out of range: expected 0 ..= 36"
    );
    assert!(
        err(ExciterOptions {
            slope_db_oct: 10.0,
            ..ExciterOptions::default()
        })
        .starts_with("slope_db_oct = 10")
    );
    assert!(
        err(ExciterOptions {
            oversampling: 3,
            ..ExciterOptions::default()
        })
        .starts_with("oversampling = 3")
    );
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
        let options = ExciterOptions {
            character,
            drive_db: 15.0,
            amount_pct: 60.0,
            ..ExciterOptions::default()
        };
        assert_block_size_invariant(|| exciter(options), fs, &input);
    }
}
