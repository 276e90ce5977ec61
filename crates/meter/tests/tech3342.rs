//! EBU Tech 3342 (V4) loudness-range cases 1–4, one test per case, each at
//! 44.1, 48 and 96 kHz; tolerance ±1 LU. Cases 5 and 6 need the authentic
//! EBU programme files and are not part of this suite.

mod common;

use common::{assert_within, meter_stereo, tone_segments};

const RATES: [u32; 3] = [44_100, 48_000, 96_000];

fn lra_case(levels: &[f64], want: f64) {
    for fs in RATES {
        let segments: Vec<(f64, Option<f64>)> = levels.iter().map(|&l| (20.0, Some(l))).collect();
        let r = meter_stereo(fs, &tone_segments(fs, &segments));
        let lra = r.lra_lu.unwrap_or_else(|| panic!("{fs} Hz: no LRA"));
        assert_within(&format!("{fs} Hz LRA"), lra, want, 1.0, 1.0);
        // The peers all read the exact figure on these tones; so do we.
        assert_within(&format!("{fs} Hz LRA (tight)"), lra, want, 0.05, 0.05);
    }
}

#[test]
fn tech3342_case_1() {
    lra_case(&[-20.0, -30.0], 10.0);
}

#[test]
fn tech3342_case_2() {
    lra_case(&[-20.0, -15.0], 5.0);
}

#[test]
fn tech3342_case_3() {
    lra_case(&[-40.0, -20.0], 20.0);
}

#[test]
fn tech3342_case_4() {
    lra_case(&[-50.0, -35.0, -20.0, -35.0, -50.0], 15.0);
}
