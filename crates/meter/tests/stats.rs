//! Signal statistics, silence and non-finite input.

mod common;

use common::{assert_same_text, assert_within, feed, meter_with, sine, white_noise};
use mixmaster_meter::{Meter, MeterOptions, MeterReport, MonoMode, NonFinite};

fn no_nan(r: &MeterReport) {
    let text = format!("{r:?}");
    assert!(!text.contains("NaN"), "NaN in report: {text}");
    // JSON: non-finite numbers become null, and it always serializes.
    let json = serde_json::to_string(r).expect("json");
    assert!(!json.contains("NaN") && !json.contains("inf"));
}

#[test]
fn sine_statistics() {
    let fs = 48_000;
    // −20 dBFS 1 kHz: RMS −23.01 dBFS (plain mean square), crest 3.01 dB.
    let x = sine(fs as usize * 10, fs, 1000, common::amp(-20.0), 0.0);
    let r = meter_with(MeterOptions::new(fs, 2), &[x.clone(), x.clone()], 4096);
    assert_within("sample peak", r.sample_peak_dbfs, -20.0, 1e-6, 1e-6);
    assert_within("RMS", r.rms_dbfs, -23.0103, 0.0005, 0.0005);
    assert_within("crest factor", r.crest_factor_db, 3.0103, 0.0005, 0.0005);
    assert_within("true peak", r.true_peak_dbtp, -20.0, 0.01, 0.01);
    assert!(
        r.dc_offset.iter().all(|d| d.abs() < 1e-9),
        "{:?}",
        r.dc_offset
    );
    assert_eq!(r.clipped_samples, 0);
    assert_eq!(r.correlation, Some(1.0));
    assert_within("PLR", r.plr_db, -20.0 - r.integrated_lufs, 1e-9, 1e-9);
    assert_eq!(r.duration_s, 10.0);
    assert_eq!(r.frames, 480_000);
    // A full-scale sine reads −3.01 dBFS RMS.
    let fs_sine = sine(48_000, fs, 1000, 1.0, 0.0);
    let r = meter_with(MeterOptions::new(fs, 1), &[fs_sine], 4096);
    assert_within("full-scale RMS", r.rms_dbfs, -3.0103, 0.0005, 0.0005);
}

#[test]
fn dc_offset_of_a_constant() {
    let fs = 44_100;
    let n = 44_100 + 17;
    let r = meter_with(
        MeterOptions::new(fs, 2),
        &[vec![0.25; n], vec![-0.5; n]],
        1000,
    );
    assert!((r.dc_offset[0] - 0.25).abs() < 1e-12, "{:?}", r.dc_offset);
    assert!((r.dc_offset[1] + 0.5).abs() < 1e-12, "{:?}", r.dc_offset);
    assert_eq!(r.correlation, Some(-1.0));
    // DC is removed by the K-weighting high-pass: once the step's
    // transient has died away there is no loudness left.
    let last = r.series.momentary_lufs.last().copied().unwrap_or(0.0);
    assert!(last < -100.0, "{last}");
}

#[test]
fn clipped_samples() {
    let fs = 48_000;
    let mut x = white_noise(50_000, 0.5, 4);
    let threshold = 32767.0 / 32768.0;
    for (i, v) in [1.0, -1.0, threshold, -threshold, 1.5, -7.0]
        .into_iter()
        .enumerate()
    {
        x[1000 + 7919 * i] = v; // counted
    }
    x[45_000] = 0.9999; // below 32767/32768: not counted
    let y = vec![1.0; 10]; // three more channels' worth, short
    let mut yy = vec![0.0; x.len()];
    yy[..10].copy_from_slice(&y);
    let r = meter_with(MeterOptions::new(fs, 2), &[x, yy], 333);
    assert_eq!(r.clipped_samples, 6 + 10);
    assert_within(
        "sample peak",
        r.sample_peak_dbfs,
        20.0 * 7f64.log10(),
        1e-9,
        1e-9,
    );
}

#[test]
fn correlation_cases() {
    let fs = 48_000;
    let n = 48_000;
    let a = white_noise(n, 0.5, 1);
    let inv: Vec<f64> = a.iter().map(|v| -v).collect();
    let b = white_noise(n, 0.5, 2);
    let corr = |l: &[f64], r: &[f64]| {
        meter_with(MeterOptions::new(fs, 2), &[l.to_vec(), r.to_vec()], 4096).correlation
    };
    assert_eq!(corr(&a, &a), Some(1.0));
    assert_eq!(corr(&a, &inv), Some(-1.0));
    let c = corr(&a, &b).unwrap_or(f64::NAN);
    assert!(c.abs() < 0.02, "uncorrelated noise: {c}");
    assert_eq!(corr(&a, &vec![0.0; n]), None);
    let mono = meter_with(MeterOptions::new(fs, 1), std::slice::from_ref(&a), 4096);
    assert_eq!(mono.correlation, None);
    assert!(mono.series.correlation.iter().all(Option::is_none));
    // Per-block correlation in the series.
    let r = meter_with(MeterOptions::new(fs, 2), &[a.clone(), inv], 4096);
    assert_eq!(r.series.correlation.len(), 10);
    assert!(r.series.correlation.iter().all(|&c| c == Some(-1.0)));
}

#[test]
fn silence_is_minus_infinity_and_never_nan() {
    for channels in [1usize, 2, 6] {
        let fs = 48_000;
        let mut o = MeterOptions::new(fs, channels);
        o.spectrum = true;
        let zeros = vec![vec![0.0; fs as usize * 5]; channels];
        let r = meter_with(o.clone(), &zeros, 4096);
        let ninf = f64::NEG_INFINITY;
        assert_eq!(r.integrated_lufs, ninf);
        assert_eq!(r.momentary_max_lufs, ninf);
        assert_eq!(r.short_term_max_lufs, ninf);
        assert_eq!(r.true_peak_dbtp, ninf);
        assert_eq!(r.sample_peak_dbfs, ninf);
        assert_eq!(r.rms_dbfs, ninf);
        assert_eq!(r.crest_factor_db, ninf);
        assert_eq!(r.plr_db, ninf);
        assert_eq!(r.lra_lu, None);
        assert_eq!(r.correlation, None);
        assert!(r.dc_offset.iter().all(|&d| d == 0.0));
        assert_eq!(r.series.momentary_lufs.len(), 50);
        assert!(r.series.momentary_lufs.iter().all(|&m| m == ninf));
        assert!(r.series.true_peak_dbtp.iter().all(|&t| t == ninf));
        no_nan(&r);
        // Nothing at all.
        let empty = Meter::new(o).expect("meter").report();
        assert_eq!(empty.frames, 0);
        assert_eq!(empty.integrated_lufs, ninf);
        assert!(empty.series.momentary_lufs.is_empty());
        no_nan(&empty);
    }
}

#[test]
fn non_finite_samples_are_counted_and_measured_as_zero() {
    let fs = 44_100;
    let n = fs as usize * 4;
    let clean = [white_noise(n, 0.5, 1), white_noise(n, 0.5, 2)];
    let mut dirty = clean.clone();
    let mut zeroed = clean.clone();
    for (frame, ch, v) in [
        (70_000usize, 1usize, f64::NAN),
        (70_000, 0, f64::INFINITY),
        (100, 1, f64::NEG_INFINITY),
        (150_000, 0, f64::NAN),
    ] {
        dirty[ch][frame] = v;
        zeroed[ch][frame] = 0.0;
    }
    for block in [1usize, 100, 4096] {
        let mut o = MeterOptions::new(fs, 2);
        o.spectrum = true;
        let r = meter_with(o.clone(), &dirty, block);
        assert_eq!(r.nonfinite_samples, 4);
        assert_eq!(
            r.first_nonfinite,
            Some(NonFinite {
                frame: 100,
                channel: 1
            })
        );
        no_nan(&r);
        let mut want = meter_with(o, &zeroed, block);
        want.nonfinite_samples = 4;
        want.first_nonfinite = r.first_nonfinite;
        assert_same_text(
            &format!("{r:?}"),
            &format!("{want:?}"),
            &format!("blocks of {block}"),
        );
    }
    // Same frame, two channels: the lower channel comes first.
    let mut d = clean.clone();
    d[1][500] = f64::NAN;
    d[0][500] = f64::NAN;
    let r = meter_with(MeterOptions::new(fs, 2), &d, 4096);
    assert_eq!(
        r.first_nonfinite,
        Some(NonFinite {
            frame: 500,
            channel: 0
        })
    );
}

#[test]
fn maxima_wait_for_full_windows() {
    let fs = 48_000;
    let tone = sine(fs as usize * 4, fs, 1000, common::amp(-20.0), 0.0);
    let mut m = Meter::new(MeterOptions::new(fs, 1)).expect("meter");
    feed(&mut m, &[tone[..19_199].to_vec()], 4096); // 0.39998 s
    assert_eq!(m.report().momentary_max_lufs, f64::NEG_INFINITY);
    feed(&mut m, &[tone[19_199..19_200].to_vec()], 1); // 0.4 s
    assert!(m.report().momentary_max_lufs.is_finite());
    assert!(m.report().integrated_lufs.is_finite());
    feed(&mut m, &[tone[19_200..143_999].to_vec()], 4096);
    assert_eq!(m.report().short_term_max_lufs, f64::NEG_INFINITY);
    feed(&mut m, &[tone[143_999..144_000].to_vec()], 1); // 3.0 s
    assert!(m.report().short_term_max_lufs.is_finite());
    assert!(m.report().lra_lu.is_some());
}

#[test]
fn mono_and_channel_weights() {
    let fs = 48_000;
    let x = sine(fs as usize * 5, fs, 1000, common::amp(-23.0), 0.0);
    let mono = meter_with(MeterOptions::new(fs, 1), std::slice::from_ref(&x), 4096);
    let mut o = MeterOptions::new(fs, 1);
    o.mono_mode = MonoMode::DualMono;
    let dual = meter_with(o, std::slice::from_ref(&x), 4096);
    let stereo = meter_with(MeterOptions::new(fs, 2), &[x.clone(), x.clone()], 4096);
    // BS.1770 mono reads 3.01 dB below the same signal on two channels;
    // dual-mono reads like it.
    assert_within(
        "mono − stereo",
        mono.integrated_lufs - stereo.integrated_lufs,
        -3.0103,
        1e-4,
        1e-4,
    );
    assert_eq!(dual.integrated_lufs, stereo.integrated_lufs);
    assert_eq!(dual.lra_lu, stereo.lra_lu);
    // Explicit weights: only the left channel counts.
    let mut o = MeterOptions::new(fs, 2);
    o.channel_weights = Some(vec![1.0, 0.0]);
    let left_only = meter_with(o, &[x.clone(), white_noise(x.len(), 0.9, 3)], 4096);
    assert_eq!(left_only.integrated_lufs, mono.integrated_lufs);
    // 5.1: a signal in the LFE alone has no loudness, but it has peaks.
    let mut six = vec![vec![0.0; x.len()]; 6];
    six[3] = x.clone();
    let r = meter_with(MeterOptions::new(fs, 6), &six, 4096);
    assert_eq!(r.integrated_lufs, f64::NEG_INFINITY);
    assert_within("LFE peak", r.sample_peak_dbfs, -23.0, 1e-6, 1e-6);
    // Surround channels weigh 1.41 (+1.49 dB).
    let mut five = vec![vec![0.0; x.len()]; 5];
    five[3] = x.clone();
    let r = meter_with(MeterOptions::new(fs, 5), &five, 4096);
    assert_within(
        "Ls",
        r.integrated_lufs - mono.integrated_lufs,
        10.0 * 1.41f64.log10(),
        1e-6,
        1e-6,
    );
}

#[test]
fn spectrum_is_optional() {
    let fs = 48_000;
    let x = sine(fs as usize * 2, fs, 1000, common::amp(-20.0), 0.0);
    let r = meter_with(MeterOptions::new(fs, 2), &[x.clone(), x.clone()], 4096);
    assert!(r.spectrum.is_none());
    let mut o = MeterOptions::new(fs, 2);
    o.spectrum = true;
    let r = meter_with(o, &[x.clone(), x.clone()], 4096);
    let s = r.spectrum.expect("spectrum");
    assert_eq!(s.fft_size, 8192);
    let band = s
        .third_octave
        .iter()
        .find(|b| b.nominal_hz == 1000.0)
        .expect("1 kHz band");
    assert_within("1 kHz band", band.left_db, -20.0, 0.05, 0.05);
    assert_within("1 kHz band (mid)", band.mid_db, -20.0, 0.05, 0.05);
    assert_eq!(band.side_db, f64::NEG_INFINITY);
    assert_eq!(s.left_db.len(), 4097);
}

#[test]
fn music_like_generator_stays_below_full_scale() {
    for fs in [44_100, 48_000, 96_000] {
        let [l, r] = common::music(40.0, fs, 9);
        let rep = meter_with(MeterOptions::new(fs, 2), &[l, r], 4096);
        assert!(rep.true_peak_dbtp < -1.0, "{fs} Hz: {}", rep.true_peak_dbtp);
        assert!(
            rep.integrated_lufs > -30.0,
            "{fs} Hz: {}",
            rep.integrated_lufs
        );
        assert_eq!(rep.clipped_samples, 0);
    }
}
