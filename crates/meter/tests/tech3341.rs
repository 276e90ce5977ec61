//! EBU Tech 3341 (V4) minimum-requirements cases, one test per case, each
//! at 44.1, 48 and 96 kHz (true-peak cases 15–23 also at 192 kHz). Signals
//! are generated in code from LOUDNESS_SPEC §1; cases 7 and 8 need the
//! authentic EBU programme files and are not part of this suite.

mod common;

use common::{
    assert_within, feed, frames, meter_stereo, meter_with, tone_segments, tp_sine, tp_splice,
};
use mixmaster_meter::{Meter, MeterOptions, MeterReport};

const RATES: [u32; 3] = [44_100, 48_000, 96_000];
const TP_RATES: [u32; 4] = [44_100, 48_000, 96_000, 192_000];
/// Loudness tolerance of Tech 3341: ±0.1 LU.
const LU: f64 = 0.1;

/// M, S and I of a steady stereo tone, and every M/S value of the series
/// once its window is full.
fn assert_steady(report: &MeterReport, want: f64, what: &str) {
    assert_within(&format!("{what} I"), report.integrated_lufs, want, LU, LU);
    assert_within(
        &format!("{what} max M"),
        report.momentary_max_lufs,
        want,
        LU,
        LU,
    );
    assert_within(
        &format!("{what} max S"),
        report.short_term_max_lufs,
        want,
        LU,
        LU,
    );
    for (i, &m) in report.series.momentary_lufs.iter().enumerate().skip(3) {
        assert_within(&format!("{what} M[{i}]"), m, want, LU, LU);
    }
    for (i, &s) in report.series.short_term_lufs.iter().enumerate().skip(29) {
        assert_within(&format!("{what} S[{i}]"), s, want, LU, LU);
    }
}

#[test]
fn tech3341_case_01() {
    for fs in RATES {
        let x = tone_segments(fs, &[(20.0, Some(-23.0))]);
        assert_steady(&meter_stereo(fs, &x), -23.0, &format!("{fs} Hz"));
    }
}

#[test]
fn tech3341_case_02() {
    for fs in RATES {
        let x = tone_segments(fs, &[(20.0, Some(-33.0))]);
        assert_steady(&meter_stereo(fs, &x), -33.0, &format!("{fs} Hz"));
    }
}

#[test]
fn tech3341_case_03() {
    for fs in RATES {
        let x = tone_segments(
            fs,
            &[
                (10.0, Some(-36.0)),
                (60.0, Some(-23.0)),
                (10.0, Some(-36.0)),
            ],
        );
        let r = meter_stereo(fs, &x);
        assert_within(&format!("{fs} Hz I"), r.integrated_lufs, -23.0, LU, LU);
    }
}

#[test]
fn tech3341_case_04() {
    for fs in RATES {
        let x = tone_segments(
            fs,
            &[
                (10.0, Some(-72.0)),
                (10.0, Some(-36.0)),
                (60.0, Some(-23.0)),
                (10.0, Some(-36.0)),
                (10.0, Some(-72.0)),
            ],
        );
        let r = meter_stereo(fs, &x);
        assert_within(&format!("{fs} Hz I"), r.integrated_lufs, -23.0, LU, LU);
    }
}

#[test]
fn tech3341_case_05() {
    for fs in RATES {
        let x = tone_segments(
            fs,
            &[
                (20.0, Some(-26.0)),
                (20.1, Some(-20.0)),
                (20.0, Some(-26.0)),
            ],
        );
        let r = meter_stereo(fs, &x);
        assert_within(&format!("{fs} Hz I"), r.integrated_lufs, -23.0, LU, LU);
    }
}

#[test]
fn tech3341_case_06() {
    for fs in RATES {
        // 5.0: L R C Ls Rs (weights 1, 1, 1, 1.41, 1.41).
        let tone = |db: f64| tone_segments(fs, &[(20.0, Some(db))]);
        let five = vec![
            tone(-28.0),
            tone(-28.0),
            tone(-24.0),
            tone(-30.0),
            tone(-30.0),
        ];
        let r = meter_with(MeterOptions::new(fs, 5), &five, 4096);
        assert_within(&format!("{fs} Hz 5.0 I"), r.integrated_lufs, -23.0, LU, LU);
        // The same as 5.1 (WAVE_FORMAT_EXTENSIBLE order L R C LFE Ls Rs)
        // with a silent LFE: the LFE is excluded, the result is the same.
        let mut six = five.clone();
        six.insert(3, vec![0.0; six[0].len()]);
        let r6 = meter_with(MeterOptions::new(fs, 6), &six, 4096);
        assert_eq!(r6.integrated_lufs, r.integrated_lufs, "{fs} Hz 5.1");
        // A loud LFE must not change it either.
        six[3] = tone(-10.0);
        let r6 = meter_with(MeterOptions::new(fs, 6), &six, 4096);
        assert_eq!(
            r6.integrated_lufs, r.integrated_lufs,
            "{fs} Hz 5.1 with LFE"
        );
    }
}

#[test]
fn tech3341_case_09() {
    for fs in RATES {
        let mut segments = Vec::new();
        for _ in 0..5 {
            segments.push((1.34, Some(-20.0)));
            segments.push((1.66, Some(-30.0)));
        }
        let r = meter_stereo(fs, &tone_segments(fs, &segments));
        // Every 3 s window holds one period: S is constant after 3 s.
        assert!(r.series.short_term_lufs.len() >= 150);
        for (i, &s) in r.series.short_term_lufs.iter().enumerate().skip(29) {
            assert_within(&format!("{fs} Hz S[{i}]"), s, -23.0, LU, LU);
        }
        assert_within(
            &format!("{fs} Hz max S"),
            r.short_term_max_lufs,
            -23.0,
            LU,
            LU,
        );
    }
}

#[test]
fn tech3341_case_10() {
    for fs in RATES {
        // File-based: 20 files, each metered from a reset meter.
        let mut m = Meter::new(MeterOptions::new(fs, 2)).expect("meter");
        for i in 0..20 {
            let x = tone_segments(
                fs,
                &[(i as f64 * 0.15, None), (3.0, Some(-23.0)), (1.0, None)],
            );
            m.reset();
            feed(&mut m, &[x.clone(), x], 4096);
            let r = m.report();
            assert_within(
                &format!("{fs} Hz file {i} max S"),
                r.short_term_max_lufs,
                -23.0,
                LU,
                LU,
            );
        }
    }
}

#[test]
fn tech3341_case_11() {
    for fs in RATES {
        // Live: one stream of 20 six-second segments; the running maximum
        // after segment i is that segment's level (levels increase).
        let mut m = Meter::new(MeterOptions::new(fs, 2)).expect("meter");
        for i in 0..20 {
            let x = tone_segments(
                fs,
                &[
                    (i as f64 * 0.15, None),
                    (3.0, Some(-38.0 + i as f64)),
                    (3.0 - i as f64 * 0.15, None),
                ],
            );
            feed(&mut m, &[x.clone(), x], 4096);
            let r = m.report();
            let want = -38.0 + i as f64;
            assert_within(
                &format!("{fs} Hz segment {i} max S"),
                r.short_term_max_lufs,
                want,
                LU,
                LU,
            );
        }
        assert_eq!(m.frames() as usize, frames(120.0, fs));
    }
}

#[test]
fn tech3341_case_12() {
    for fs in RATES {
        let mut segments = Vec::new();
        for _ in 0..25 {
            segments.push((0.18, Some(-20.0)));
            segments.push((0.22, Some(-30.0)));
        }
        let r = meter_stereo(fs, &tone_segments(fs, &segments));
        // Every 0.4 s window holds one period: M is constant after 1 s.
        assert_eq!(r.series.momentary_lufs.len(), 100);
        for (i, &m) in r.series.momentary_lufs.iter().enumerate().skip(9) {
            assert_within(&format!("{fs} Hz M[{i}]"), m, -23.0, LU, LU);
        }
        assert_within(
            &format!("{fs} Hz max M"),
            r.momentary_max_lufs,
            -23.0,
            LU,
            LU,
        );
    }
}

#[test]
fn tech3341_case_13() {
    for fs in RATES {
        let mut m = Meter::new(MeterOptions::new(fs, 2)).expect("meter");
        for i in 0..20 {
            let x = tone_segments(
                fs,
                &[(i as f64 * 0.02, None), (0.4, Some(-23.0)), (1.0, None)],
            );
            m.reset();
            feed(&mut m, &[x.clone(), x], 4096);
            let r = m.report();
            assert_within(
                &format!("{fs} Hz file {i} max M"),
                r.momentary_max_lufs,
                -23.0,
                LU,
                LU,
            );
        }
    }
}

#[test]
fn tech3341_case_14() {
    for fs in RATES {
        let mut m = Meter::new(MeterOptions::new(fs, 2)).expect("meter");
        for i in 0..20 {
            let x = tone_segments(
                fs,
                &[
                    (i as f64 * 0.02, None),
                    (0.4, Some(-38.0 + i as f64)),
                    (0.4 - i as f64 * 0.02, None),
                ],
            );
            feed(&mut m, &[x.clone(), x], 4096);
            let r = m.report();
            let want = -38.0 + i as f64;
            assert_within(
                &format!("{fs} Hz segment {i} max M"),
                r.momentary_max_lufs,
                want,
                LU,
                LU,
            );
        }
    }
}

/// Tech 3341 true-peak tolerance: +0.2 / −0.4 dB.
fn assert_true_peak(x: &[f64], fs: u32, want: f64, what: &str) {
    for oversampling in [4, 8] {
        if oversampling == 8 && fs != 48_000 {
            continue;
        }
        let mut o = MeterOptions::new(fs, 2);
        o.true_peak_oversampling = oversampling;
        let r = meter_with(o, &[x.to_vec(), x.to_vec()], 4096);
        let label = format!("{what} at {fs} Hz, {oversampling}x");
        assert_within(&label, r.true_peak_dbtp, want, 0.4, 0.2);
        for &tp in &r.channel_true_peak_dbtp {
            assert_eq!(tp, r.true_peak_dbtp, "{label}: channels differ");
        }
    }
}

#[test]
fn tech3341_case_15() {
    for fs in TP_RATES {
        let x = tp_sine(fs, 4, common::amp(-6.0), 0.0);
        assert_true_peak(&x, fs, -6.0, "case 15");
    }
}

#[test]
fn tech3341_case_16() {
    for fs in TP_RATES {
        let x = tp_sine(fs, 4, common::amp(-6.0), 45.0);
        // The generator is right: samples miss the crests by 3 dB.
        let r = meter_stereo(fs, &x);
        assert_within("case 16 sample peak", r.sample_peak_dbfs, -9.03, 0.02, 0.02);
        assert_true_peak(&x, fs, -6.0, "case 16");
    }
}

#[test]
fn tech3341_case_17() {
    for fs in TP_RATES {
        let x = tp_sine(fs, 6, common::amp(-6.0), 60.0);
        assert_true_peak(&x, fs, -6.0, "case 17");
    }
}

#[test]
fn tech3341_case_18() {
    for fs in TP_RATES {
        let x = tp_sine(fs, 8, common::amp(-6.0), 67.5);
        assert_true_peak(&x, fs, -6.0, "case 18");
    }
}

#[test]
fn tech3341_case_19() {
    for fs in TP_RATES {
        // 1.41 FFS: samples just below full scale, true peak +3 dBTP.
        let x = tp_sine(fs, 4, common::amp(3.0), 45.0);
        let r = meter_stereo(fs, &x);
        assert!(r.sample_peak_dbfs < 0.0);
        assert_true_peak(&x, fs, 3.0, "case 19");
    }
}

/// Cases 20–23 at every rate; the sample peaks of the 48 kHz signals are
/// checked against the official files (LOUDNESS_SPEC §1.1) to validate the
/// generator.
fn splice_case(offset: usize, sample_peak_48k: f64) {
    for fs in TP_RATES {
        let x = tp_splice(fs, offset);
        if fs == 48_000 {
            let r = meter_stereo(fs, &x);
            assert_within(
                &format!("case {} sample peak", 20 + offset),
                r.sample_peak_dbfs,
                sample_peak_48k,
                0.05,
                0.05,
            );
        }
        assert_true_peak(&x, fs, 0.0, &format!("case {}", 20 + offset));
    }
}

#[test]
fn tech3341_case_20() {
    splice_case(0, -0.13);
}

#[test]
fn tech3341_case_21() {
    splice_case(1, -0.46);
}

#[test]
fn tech3341_case_22() {
    splice_case(2, -2.5);
}

#[test]
fn tech3341_case_23() {
    splice_case(3, -0.46);
}
