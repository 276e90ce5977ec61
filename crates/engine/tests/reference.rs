//! Reference matching end to end on generated signals: tonal match of EQ'd
//! pink noise, amount 0, limits, width, mono, files and mixed rates.

use mixmaster_core::{AudioBuffer, Processor};
use mixmaster_dsp::{Band, Eq, EqOptions};
use mixmaster_engine::reference::{
    Analysis, Component, MatchOptions, MatchPlan, ToneDeviation, plan, tone_deviation,
};
use mixmaster_io::{AudioWriter, Encoding, FileFormat, Resampler, WriteSpec};

const FS: u32 = 48_000;

/// Uniform white noise in [−1, 1), xorshift64.
fn white(seed: u64, n: usize) -> Vec<f64> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            2.0 * ((s >> 11) as f64 / (1u64 << 53) as f64) - 1.0
        })
        .collect()
}

/// Pink noise (−3 dB/octave within ±0.05 dB above 10 Hz): Paul Kellet's
/// refined pinking filter on white noise, about −20 dBFS RMS.
fn pink(seed: u64, n: usize) -> Vec<f64> {
    let mut b = [0.0f64; 7];
    white(seed, n)
        .into_iter()
        .map(|w| {
            b[0] = 0.99886 * b[0] + w * 0.0555179;
            b[1] = 0.99332 * b[1] + w * 0.0750759;
            b[2] = 0.96900 * b[2] + w * 0.1538520;
            b[3] = 0.86650 * b[3] + w * 0.3104856;
            b[4] = 0.55000 * b[4] + w * 0.5329522;
            b[5] = -0.7616 * b[5] - w * 0.0168980;
            let p = b.iter().sum::<f64>() + w * 0.5362;
            b[6] = w * 0.115926;
            0.05 * p
        })
        .collect()
}

/// Runs a processor over a whole signal in blocks of 4096.
fn run<P: Processor>(p: &mut P, fs: u32, input: &[Vec<f64>]) -> Vec<Vec<f64>> {
    p.prepare(fs, 4096, input.len()).expect("prepare");
    let mut out = input.to_vec();
    let frames = out[0].len();
    let mut start = 0;
    while start < frames {
        let end = (start + 4096).min(frames);
        let mut block: Vec<&mut [f64]> = out.iter_mut().map(|c| &mut c[start..end]).collect();
        p.process(&mut block);
        start = end;
    }
    out
}

/// Runs a processor and removes its latency: the output is aligned with the
/// input and as long.
fn run_aligned<P: Processor>(p: &mut P, fs: u32, input: &[Vec<f64>]) -> Vec<Vec<f64>> {
    p.prepare(fs, 4096, input.len()).expect("prepare");
    let d = p.latency_frames();
    let padded: Vec<Vec<f64>> = input
        .iter()
        .map(|c| {
            let mut v = c.clone();
            v.resize(c.len() + d, 0.0);
            v
        })
        .collect();
    run(p, fs, &padded)
        .into_iter()
        .map(|c| c[d..].to_vec())
        .collect()
}

fn eq(bands: Vec<Band>, fs: u32, input: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let mut e = Eq::new(EqOptions {
        bands,
        smoothing_ms: 0.0,
    })
    .expect("valid EQ");
    run(&mut e, fs, input)
}

fn analyse(x: &[Vec<f64>], fs: u32) -> Analysis {
    Analysis::of_buffer(x, fs).expect("analysis")
}

fn stereo_pink(seconds: f64, seed: u64) -> Vec<Vec<f64>> {
    let n = (seconds * f64::from(FS)) as usize;
    vec![pink(seed, n), pink(seed + 1, n)]
}

fn deviation(a: &Analysis, b: &Analysis, c: Component) -> ToneDeviation {
    tone_deviation(a, b, c, 40.0, 15_000.0).expect("bands to compare")
}

fn shelves() -> Vec<Band> {
    vec![Band::low_shelf(120.0, 4.0), Band::high_shelf(5000.0, -3.0)]
}

/// Width of a programme (K-weighted S/M, 30 Hz – 16 kHz).
fn width(a: &Analysis) -> f64 {
    a.width_db(30.0, 16_000.0)
}

fn match_and_run(
    input: &[Vec<f64>],
    reference: &Analysis,
    options: &MatchOptions,
) -> (MatchPlan, Vec<Vec<f64>>) {
    let p = plan(&analyse(input, FS), reference, options).expect("valid options");
    let mut eq = p.processor(FS).expect("processor");
    let out = run_aligned(&mut eq, FS, input);
    (p, out)
}

#[test]
fn shelved_pink_noise_is_matched_within_half_a_db() {
    let input = stereo_pink(20.0, 1);
    let reference = eq(shelves(), FS, &input);
    let (a_in, a_ref) = (analyse(&input, FS), analyse(&reference, FS));
    let (p, out) = match_and_run(&input, &a_ref, &MatchOptions::default());
    let a_out = analyse(&out, FS);
    for c in [Component::Mid, Component::Side] {
        let before = deviation(&a_in, &a_ref, c);
        let after = deviation(&a_out, &a_ref, c);
        println!(
            "{c:?}: third-octave deviation 40 Hz-15 kHz before {:.2} dB max / {:.2} dB rms, \
             after {:.3} dB max / {:.3} dB rms ({} bands)",
            before.max_abs_db, before.rms_db, after.max_abs_db, after.rms_db, after.bands
        );
        assert!(before.max_abs_db > 2.5, "{before:?}");
        assert!(after.max_abs_db <= 0.5, "{c:?}: {after:?}");
    }
    // The curve is loudness-normalised, so its effect on loudness is small,
    // and the width is unchanged (both are the same noise).
    let loudness_change = a_out.integrated_lufs - a_in.integrated_lufs;
    assert!(loudness_change.abs() < 0.3, "{loudness_change}");
    assert!(p.width_change_db.abs() < 0.1, "{}", p.width_change_db);
    assert_eq!(p.loudness_target_lufs, Some(a_ref.integrated_lufs));
    for line in p.summary() {
        println!("{line}");
    }
    let summary = p.summary().join("\n");
    assert!(summary.contains("tone (mid): +"), "{summary}");
    assert!(summary.contains("LUFS from the reference"), "{summary}");
}

#[test]
fn amount_zero_is_a_pure_delay() {
    let input = stereo_pink(3.0, 11);
    let reference = eq(shelves(), FS, &input);
    let options = MatchOptions {
        amount: 0.0,
        ..MatchOptions::default()
    };
    let p = plan(&analyse(&input, FS), &analyse(&reference, FS), &options).expect("valid");
    assert!(p.is_identity());
    assert!(p.mid_difference_db.iter().any(|d| d.abs() > 2.0));
    let mut eq = p.processor(FS).expect("processor");
    let out = run(&mut eq, FS, &input);
    let d = eq.latency_frames();
    assert_eq!(d, 8191 + 8192);
    let mut err = 0.0f64;
    for (o, x) in out.iter().zip(&input) {
        for i in 0..x.len() {
            let expected = if i >= d { x[i - d] } else { 0.0 };
            err = err.max((o[i] - expected).abs());
        }
    }
    println!("amount 0: largest difference from the delayed input {err:e}");
    assert!(20.0 * err.log10() < -140.0, "{err:e}");
}

#[test]
fn half_the_amount_is_half_the_curve() {
    let input = stereo_pink(3.0, 13);
    let reference = eq(shelves(), FS, &input);
    let (a, b) = (analyse(&input, FS), analyse(&reference, FS));
    let full = plan(&a, &b, &MatchOptions::default()).expect("valid");
    let half = plan(
        &a,
        &b,
        &MatchOptions {
            amount: 0.5,
            ..MatchOptions::default()
        },
    )
    .expect("valid");
    for (h, f) in half.mid_curve_db.iter().zip(&full.mid_curve_db) {
        assert!((h - 0.5 * f).abs() < 1e-12);
    }
}

/// The largest |gain| of an FIR between `low` and `high` Hz, by its DTFT.
fn fir_gain_range_db(h: &[f64], fs: f64, low: f64, high: f64) -> (f64, f64) {
    let centre = (h.len() - 1) / 2;
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    let mut f = low;
    while f <= high {
        let w = std::f64::consts::TAU * f / fs;
        let mut sum = h[centre];
        for k in 1..=centre {
            sum += 2.0 * h[centre + k] * (w * k as f64).cos();
        }
        let g = 20.0 * sum.abs().log10();
        lo = lo.min(g);
        hi = hi.max(g);
        f *= 2f64.powf(1.0 / 12.0);
    }
    (lo, hi)
}

#[test]
fn boost_and_cut_limits_are_respected() {
    let input = stereo_pink(3.0, 21);
    let a = analyse(&input, FS);
    // A +15 dB bass bell, and a +15 dB treble shelf with -15 dB of bass.
    // Loudness normalisation moves the second mostly into a cut.
    let cases = [
        vec![Band::bell(60.0, 15.0, 1.4)],
        vec![
            Band::low_shelf(200.0, -15.0),
            Band::high_shelf(3000.0, 15.0),
        ],
    ];
    for (case, bands) in cases.into_iter().enumerate() {
        let b = analyse(&eq(bands, FS, &input), FS);
        let p = plan(&a, &b, &MatchOptions::default()).expect("valid");
        let max_diff = p.mid_difference_db.iter().copied().fold(f64::MIN, f64::max);
        let min_diff = p.mid_difference_db.iter().copied().fold(f64::MAX, f64::min);
        println!("case {case}: measured difference {min_diff:+.1} .. {max_diff:+.1} dB");
        let boosts = case == 0;
        if boosts {
            assert!(max_diff > 9.0, "{max_diff}");
        } else {
            assert!(min_diff < -9.0, "{min_diff}");
        }
        for (boost, cut) in [(6.0, 6.0), (2.0, 3.0)] {
            let options = MatchOptions {
                max_boost_db: boost,
                max_cut_db: cut,
                ..MatchOptions::default()
            };
            let p = plan(&a, &b, &options).expect("valid");
            let hi = p.mid_curve_db.iter().copied().fold(f64::MIN, f64::max);
            let lo = p.mid_curve_db.iter().copied().fold(f64::MAX, f64::min);
            assert!(hi <= boost && lo >= -cut, "{lo} {hi}");
            // The limit is reached exactly where the difference exceeds it.
            if boosts {
                assert_eq!(hi, boost);
            } else {
                assert_eq!(lo, -cut);
            }
            let eq = p.processor(FS).expect("processor");
            let (fir_lo, fir_hi) = fir_gain_range_db(eq.mid_fir(), f64::from(FS), 20.0, 20_000.0);
            println!("  limits +{boost}/-{cut} dB: FIR response {fir_lo:+.3} .. {fir_hi:+.3} dB");
            assert!(fir_hi <= boost + 0.05 && fir_lo >= -cut - 0.05);
        }
    }
}

/// Stereo pink noise with independent mid and side, side `side_db` below.
fn ms_noise(seconds: f64, side_db: f64, seed: u64) -> Vec<Vec<f64>> {
    let n = (seconds * f64::from(FS)) as usize;
    let m = pink(seed, n);
    let g = 10f64.powf(side_db / 20.0);
    let s: Vec<f64> = pink(seed + 7, n).iter().map(|v| g * v).collect();
    vec![
        m.iter().zip(&s).map(|(m, s)| m + s).collect(),
        m.iter().zip(&s).map(|(m, s)| m - s).collect(),
    ]
}

#[test]
fn width_is_matched_within_half_a_db() {
    let input = ms_noise(10.0, -6.0, 31);
    let reference = ms_noise(10.0, -12.0, 31);
    let a_ref = analyse(&reference, FS);
    let (p, out) = match_and_run(&input, &a_ref, &MatchOptions::default());
    let a_out = analyse(&out, FS);
    let (w_in, w_ref, w_out) = (width(&analyse(&input, FS)), width(&a_ref), width(&a_out));
    println!(
        "width (S/M): input {w_in:.2} dB, reference {w_ref:.2} dB, output {w_out:.2} dB; \
         side gain {:+.2} dB",
        p.width_change_db
    );
    assert!((w_out - w_ref).abs() <= 0.5, "{w_out} vs {w_ref}");
    // Per octave too.
    for centre in [63.0, 250.0, 1000.0, 4000.0, 12_000.0] {
        let (lo, hi) = (centre / 2f64.sqrt(), centre * 2f64.sqrt());
        let (o, r) = (a_out.width_db(lo, hi), a_ref.width_db(lo, hi));
        assert!((o - r).abs() <= 0.5, "{centre} Hz: {o} vs {r}");
    }
    assert!(
        p.summary().join("\n").contains("width: S/M -6.0 dB"),
        "{:?}",
        p.summary()
    );
}

#[test]
fn per_band_width_follows_the_side_spectrum() {
    // The reference has its side bass cut (a "bass mono" master).
    let input = ms_noise(10.0, -6.0, 41);
    let n = input[0].len();
    let (m, s): (Vec<f64>, Vec<f64>) = (0..n)
        .map(|i| {
            (
                0.5 * (input[0][i] + input[1][i]),
                0.5 * (input[0][i] - input[1][i]),
            )
        })
        .unzip();
    let s_cut = eq(vec![Band::low_shelf(150.0, -8.0)], FS, &[s])
        .pop()
        .expect("one channel");
    let reference = vec![
        m.iter().zip(&s_cut).map(|(m, s)| m + s).collect(),
        m.iter()
            .zip(&s_cut)
            .map(|(m, s)| m - s)
            .collect::<Vec<f64>>(),
    ];
    let a_ref = analyse(&reference, FS);
    // The side bass is 8 dB down: allow the cut.
    let options = MatchOptions {
        max_cut_db: 12.0,
        ..MatchOptions::default()
    };
    let (_, out) = match_and_run(&input, &a_ref, &options);
    let a_out = analyse(&out, FS);
    for (lo, hi) in [
        (40.0, 80.0),
        (80.0, 160.0),
        (1000.0, 2000.0),
        (5000.0, 10_000.0),
    ] {
        let (o, r) = (a_out.width_db(lo, hi), a_ref.width_db(lo, hi));
        let i = analyse(&input, FS).width_db(lo, hi);
        println!("{lo}-{hi} Hz: S/M input {i:.2}, reference {r:.2}, output {o:.2} dB");
        assert!((o - r).abs() <= 0.5, "{lo}-{hi} Hz: {o} vs {r}");
    }
}

#[test]
fn mono_input_stays_mono() {
    let n = 5 * FS as usize;
    let x = pink(51, n);
    let input = vec![x.clone(), x];
    let stereo = stereo_pink(5.0, 52);
    let reference = eq(shelves(), FS, &stereo);
    let (p, out) = match_and_run(&input, &analyse(&reference, FS), &MatchOptions::default());
    assert_eq!(out[0], out[1], "L and R differ");
    assert_eq!(p.width_change_db, 0.0);
    assert_eq!(p.side_trim_db, 0.0);
    assert!(p.side_curve_db.iter().all(|&g| g == 0.0));
    assert!(p.input_width_db == f64::NEG_INFINITY);
    assert!(
        p.notes.iter().any(|n| n.contains("input is mono")),
        "{:?}",
        p.notes
    );
    // A one-channel file is matched on its mid only.
    let mono = vec![input[0].clone()];
    let p1 = plan(
        &analyse(&mono, FS),
        &analyse(&reference, FS),
        &MatchOptions::default(),
    )
    .expect("valid");
    let mut eq1 = p1.processor(FS).expect("processor");
    let out1 = run_aligned(&mut eq1, FS, &mono);
    assert_eq!(out1.len(), 1);
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir =
        std::env::temp_dir().join(format!("mixmaster-reference-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn write_wav(path: &std::path::Path, fs: u32, channels: &[Vec<f64>]) {
    let spec = WriteSpec {
        sample_rate_hz: fs,
        channels: channels.len(),
        format: FileFormat::Wav,
        encoding: Encoding::Float32,
    };
    let mut w = AudioWriter::create(path, spec, &[]).expect("create");
    w.write(channels).expect("write");
    w.finish().expect("finish");
}

fn resample(x: &[Vec<f64>], from: u32, to: u32) -> Vec<Vec<f64>> {
    let mut r = Resampler::new(from, to, x.len()).expect("rate pair");
    let mut out = AudioBuffer::new(x.len(), 0);
    let mut tail = AudioBuffer::new(x.len(), 0);
    r.process(x, &mut out).expect("resample");
    r.flush(&mut tail).expect("flush");
    (0..x.len())
        .map(|c| [out.channel(c), tail.channel(c)].concat())
        .collect()
}

#[test]
fn files_plan_the_same_and_rates_may_differ() {
    let dir = temp_dir("files");
    // f32-exact signals, so the float WAV holds them exactly.
    let input: Vec<Vec<f64>> = stereo_pink(20.0, 61)
        .into_iter()
        .map(|c| c.into_iter().map(|v| f64::from(v as f32)).collect())
        .collect();
    let reference: Vec<Vec<f64>> = eq(shelves(), FS, &input)
        .into_iter()
        .map(|c| c.into_iter().map(|v| f64::from(v as f32)).collect())
        .collect();
    let (in_path, ref_path) = (dir.join("input.wav"), dir.join("reference.wav"));
    write_wav(&in_path, FS, &input);
    write_wav(&ref_path, FS, &reference);
    let options = MatchOptions::default();
    let from_files = plan(
        &Analysis::of_file(&in_path).expect("input"),
        &Analysis::of_file(&ref_path).expect("reference"),
        &options,
    )
    .expect("valid");
    let from_buffers =
        plan(&analyse(&input, FS), &analyse(&reference, FS), &options).expect("valid");
    assert_eq!(from_files, from_buffers);

    // The reference at 44.1 kHz: analysed at its own rate, planned in Hz.
    let ref_44k = resample(&reference, FS, 44_100);
    let ref_44k_path = dir.join("reference-44k1.wav");
    write_wav(&ref_44k_path, 44_100, &ref_44k);
    let a_ref_44k = Analysis::of_file(&ref_44k_path).expect("reference");
    assert_eq!(a_ref_44k.sample_rate_hz, 44_100);
    let mixed = plan(&analyse(&input, FS), &a_ref_44k, &options).expect("valid");
    // The two analyses average different FFT frames (other rate, other
    // bins), so the curves differ by the Welch estimator's noise, largest
    // where the smoothing window holds few bins.
    let worst = |range: std::ops::Range<f64>| {
        mixed
            .mid_curve_db
            .iter()
            .zip(&from_buffers.mid_curve_db)
            .zip(&mixed.freq_hz)
            .filter(|(_, f)| range.contains(*f))
            .fold(0.0f64, |m, ((a, b), _)| m.max((a - b).abs()))
    };
    let (low, mid, high) = (worst(0.0..100.0), worst(100.0..1000.0), worst(1000.0..1e6));
    println!(
        "44.1 kHz reference: curve within {low:.3} dB below 100 Hz, {mid:.3} dB to 1 kHz, \
         {high:.3} dB above, of the 48 kHz one"
    );
    assert!(
        low < 0.25 && mid < 0.15 && high < 0.05,
        "{low} {mid} {high}"
    );
    let mut eq = mixed.processor(FS).expect("processor");
    let out = run_aligned(&mut eq, FS, &input);
    let after = deviation(&analyse(&out, FS), &a_ref_44k, Component::Mid);
    println!("44.1 kHz reference: deviation after {after:?}");
    assert!(after.max_abs_db <= 0.5, "{after:?}");

    // Not mono or stereo: refused with the file name.
    let quad = dir.join("quad.wav");
    write_wav(&quad, FS, &[vec![0.0; 100], vec![0.0; 100], vec![0.0; 100]]);
    let err = Analysis::of_file(&quad).expect_err("three channels");
    assert!(err.to_string().contains("quad.wav"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn silence_and_short_input_leave_the_signal_alone() {
    let silent = vec![vec![0.0; 48_000]; 2];
    let reference = eq(shelves(), FS, &stereo_pink(3.0, 71));
    let p = plan(
        &analyse(&silent, FS),
        &analyse(&reference, FS),
        &MatchOptions::default(),
    )
    .expect("valid");
    assert!(p.is_identity());
    let short = stereo_pink(0.05, 72);
    let p = plan(
        &analyse(&short, FS),
        &analyse(&reference, FS),
        &MatchOptions::default(),
    )
    .expect("valid");
    assert!(p.is_identity());
    assert!(
        p.notes.iter().any(|n| n.contains("too short")),
        "{:?}",
        p.notes
    );
    let q = plan(
        &analyse(&reference, FS),
        &analyse(&silent, FS),
        &MatchOptions::default(),
    )
    .expect("valid");
    assert_eq!(q.loudness_target_lufs, None);
    assert!(q.is_identity());
}
