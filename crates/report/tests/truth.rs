//! The report tells the truth: files with known properties give the
//! expected figures and flags.

use std::f64::consts::TAU;
use std::path::{Path, PathBuf};

use mixmaster_io::{AudioWriter, Encoding, FileFormat, WriteSpec};
use mixmaster_report::analyse;

const RATE: u32 = 48_000;

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mixmaster-report-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn write(path: &Path, channels: &[Vec<f64>]) {
    write_at(path, RATE, channels);
}

fn write_at(path: &Path, rate: u32, channels: &[Vec<f64>]) {
    let mut w = AudioWriter::create(
        path,
        WriteSpec {
            sample_rate_hz: rate,
            channels: channels.len(),
            format: FileFormat::Wav,
            encoding: Encoding::Float32,
        },
        &[],
    )
    .unwrap();
    w.write(channels).unwrap();
    w.finish().unwrap();
}

fn sine(freq: f64, dbfs: f64, seconds: f64) -> Vec<f64> {
    let a = 10f64.powf(dbfs / 20.0);
    (0..(seconds * f64::from(RATE)) as usize)
        .map(|i| a * (TAU * freq * i as f64 / f64::from(RATE)).sin())
        .collect()
}

/// White-ish noise from a fixed seed.
fn noise(seconds: f64, amplitude: f64, seed: u64) -> Vec<f64> {
    let mut x = seed.max(1);
    (0..(seconds * f64::from(RATE)) as usize)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            amplitude * ((x >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0)
        })
        .collect()
}

#[test]
fn a_minus_20_dbfs_tone_reads_minus_20_and_translates() {
    let path = temp("tone.wav");
    let tone = sine(1000.0, -20.0, 5.0);
    write(&path, &[tone.clone(), tone]);
    let a = analyse(&path, -1.0).unwrap();
    // EBU Tech 3341: a stereo 1 kHz sine at −23 dBFS reads −23 LUFS.
    assert!(
        (a.meter.integrated_lufs - -20.0).abs() < 0.05,
        "{}",
        a.meter.integrated_lufs
    );
    assert!((a.meter.true_peak_dbtp - -20.0).abs() < 0.05);
    assert!(a.clipped_regions.is_empty() && a.over_regions.is_empty());
    let mono = a.mono.as_ref().unwrap();
    assert!(
        mono.drop_lu.abs() < 0.01,
        "identical channels lose nothing: {}",
        mono.drop_lu
    );
    assert!(mono.cancelling_bands.is_empty());
    // 1 kHz is inside the phone band: nearly nothing lost.
    assert!(a.phone.drop_lu.abs() < 0.3, "{}", a.phone.drop_lu);
    assert!(a.head_silence_s < 0.001 && a.tail_silence_s < 0.001);
    assert_eq!(a.overview.columns.len(), 2);
    let (lo, hi) = a.overview.columns[0][600];
    assert!((f64::from(hi) - 0.1).abs() < 0.001 && (f64::from(lo) + 0.1).abs() < 0.001);
}

#[test]
fn an_out_of_phase_pair_cancels_in_mono() {
    let path = temp("phase.wav");
    let n = noise(5.0, 0.3, 3);
    let inverted: Vec<f64> = n.iter().map(|x| -x).collect();
    write(&path, &[n, inverted]);
    let a = analyse(&path, -1.0).unwrap();
    let mono = a.mono.as_ref().unwrap();
    assert!(mono.correlation.unwrap() < -0.99);
    assert!(
        mono.drop_lu > 60.0 || !mono.integrated_lufs.is_finite(),
        "{}",
        mono.drop_lu
    );
    // Every band with content cancels.
    assert!(
        mono.cancelling_bands.len() >= 25,
        "{:?}",
        mono.cancelling_bands
    );
}

#[test]
fn a_clipped_section_and_overs_are_located() {
    let path = temp("clipped.wav");
    let mut l = sine(440.0, -6.0, 6.0);
    // Seconds 2 to 3 driven into hard clipping.
    for x in &mut l[2 * RATE as usize..3 * RATE as usize] {
        *x = (*x * 4.0).clamp(-1.0, 1.0);
    }
    write(&path, &[l.clone(), l]);
    let a = analyse(&path, -1.0).unwrap();
    assert!(a.meter.clipped_samples > 1000);
    assert_eq!(a.clipped_regions.len(), 1, "{:?}", a.clipped_regions);
    let r = a.clipped_regions[0];
    assert!(
        (r.start_s - 2.0).abs() < 0.01 && (r.end_s - 3.0).abs() < 0.01,
        "{r:?}"
    );
    assert!(!a.over_regions.is_empty());
    assert!(
        a.over_regions
            .iter()
            .all(|o| o.start_s >= 1.9 && o.end_s <= 3.1)
    );
}

#[test]
fn a_treble_boost_shows_against_its_before() {
    // BEFORE: noise; AFTER: the same noise through a +6 dB high shelf.
    let before = temp("before.wav");
    let after = temp("after.wav");
    let n = noise(6.0, 0.1, 9);
    write(&before, &[n.clone(), n.clone()]);
    // A 6 dB high shelf at 4 kHz (half the gain there) from the EQ.
    use mixmaster_core::Processor;
    let mut eq = mixmaster_dsp::Eq::new(mixmaster_dsp::EqOptions {
        bands: vec![mixmaster_dsp::Band::HighShelf {
            freq_hz: 4000.0,
            gain_db: 6.0,
            q: std::f64::consts::FRAC_1_SQRT_2,
        }],
        ..mixmaster_dsp::EqOptions::default()
    })
    .unwrap();
    eq.prepare(RATE, n.len(), 1).unwrap();
    let mut boosted = n.clone();
    eq.process(&mut [&mut boosted[..]]);
    write(&after, &[boosted.clone(), boosted]);
    let a = analyse(&after, -1.0).unwrap();
    let b = analyse(&before, -1.0).unwrap();
    let bands = |x: &mixmaster_report::FileAnalysis| x.meter.spectrum.clone().unwrap().third_octave;
    for (ba, bb) in bands(&a).iter().zip(bands(&b)) {
        let diff = ba.mid_db - bb.mid_db;
        if ba.nominal_hz >= 12_500.0 && ba.nominal_hz <= 16_000.0 {
            assert!(
                diff > 5.0 && diff < 6.5,
                "{} Hz: {diff:+.2} dB",
                ba.nominal_hz
            );
        }
        if ba.nominal_hz <= 1000.0 {
            assert!(diff.abs() < 0.3, "{} Hz: {diff:+.2} dB", ba.nominal_hz);
        }
    }
}

#[test]
fn silence_at_head_and_tail_is_measured() {
    let path = temp("padded.wav");
    let mut l = vec![0.0; RATE as usize / 2];
    l.extend(sine(220.0, -12.0, 3.0));
    l.extend(vec![0.0; RATE as usize]);
    write(&path, &[l.clone(), l]);
    let a = analyse(&path, -1.0).unwrap();
    assert!(
        (a.head_silence_s - 0.5).abs() < 0.01,
        "{}",
        a.head_silence_s
    );
    assert!(
        (a.tail_silence_s - 1.0).abs() < 0.01,
        "{}",
        a.tail_silence_s
    );
}

fn report(path: &Path, before: Option<&Path>) -> mixmaster_report::Report {
    mixmaster_report::Report {
        file: analyse(path, -1.0).unwrap(),
        before: before.map(|b| analyse(b, -1.0).unwrap()),
        reference: None,
        target_lufs: Some(-14.0),
        lossy: None,
        name: None,
        markers: Vec::new(),
    }
}

fn status(r: &mixmaster_report::Report, id: &str) -> mixmaster_report::Status {
    r.checks().into_iter().find(|c| c.id == id).unwrap().status
}

#[test]
fn the_checks_flag_what_is_wrong_and_only_that() {
    use mixmaster_report::Status::{Fail, Pass};
    let tone = temp("check-tone.wav");
    let t = sine(1000.0, -20.0, 5.0);
    write(&tone, &[t.clone(), t]);
    let r = report(&tone, None);
    for id in [
        "mono",
        "phone",
        "clipping",
        "true_peak",
        "dc_offset",
        "silence",
    ] {
        assert_eq!(status(&r, id), Pass, "{id}: {:?}", r.checks());
    }
    let phase = temp("check-phase.wav");
    let n = noise(5.0, 0.3, 5);
    let inv: Vec<f64> = n.iter().map(|x| -x).collect();
    write(&phase, &[n, inv]);
    assert_eq!(status(&report(&phase, None), "mono"), Fail);
    let clipped = temp("check-clipped.wav");
    let mut c = sine(440.0, -6.0, 5.0);
    for x in &mut c[RATE as usize..2 * RATE as usize] {
        *x = (*x * 4.0).clamp(-1.0, 1.0);
    }
    write(&clipped, &[c.clone(), c]);
    let r = report(&clipped, None);
    assert_eq!(status(&r, "clipping"), Fail);
    assert_eq!(status(&r, "true_peak"), Fail);
    let json = r.to_json();
    assert!(json["clipped_samples"].as_u64().unwrap() > 0);
    assert_eq!(json["clipped_regions"].as_array().unwrap().len(), 1);
    // Bass only: lost on a phone speaker.
    let bass = temp("check-bass.wav");
    let b = sine(60.0, -10.0, 5.0);
    write(&bass, &[b.clone(), b]);
    assert_eq!(status(&report(&bass, None), "phone"), Fail);
}

#[test]
fn the_html_is_self_contained_with_every_plot_labelled_and_drawn() {
    let before = temp("html-before.wav");
    let after = temp("html-after.wav");
    // 12 s: the 10 Hz loudness series has over 100 points.
    let l = noise(12.0, 0.2, 21);
    let r: Vec<f64> = noise(12.0, 0.2, 22)
        .iter()
        .zip(&l)
        .map(|(a, b)| 0.5 * a + 0.5 * b)
        .collect();
    write(&before, &[l.clone(), r.clone()]);
    let louder: Vec<Vec<f64>> = [l, r]
        .iter()
        .map(|c| c.iter().map(|x| 1.5 * x).collect())
        .collect();
    write(&after, &louder);
    let html = report(&after, Some(&before)).to_html();
    assert!(html.starts_with("<!DOCTYPE html>"));
    for banned in ["<script", "http://", "https://", "@import", "url("] {
        let found = html.replace("http://www.w3.org/2000/svg", "");
        assert!(!found.contains(banned), "{banned}");
    }
    for id in [
        "waveform",
        "loudness",
        "spectrum",
        "third-octave",
        "correlation",
        "mid-side",
    ] {
        let at = html
            .find(&format!("<svg id=\"{id}\""))
            .unwrap_or_else(|| panic!("{id}"));
        let svg = &html[at..at + html[at..].find("</svg>").unwrap()];
        assert!(svg.contains("class=\"axis x-axis\"") && svg.contains("class=\"axis y-axis\""));
        assert!(svg.matches("class=\"axis-label\"").count() == 2, "{id}");
        let most = svg
            .match_indices("data-points=\"")
            .map(|(i, m)| {
                let rest = &svg[i + m.len()..];
                rest[..rest.find('"').unwrap()].parse::<usize>().unwrap()
            })
            .max()
            .unwrap_or(0);
        assert!(most >= 100, "{id}: {most} points");
    }
    // BEFORE is overlaid on the spectra, and the target drawn.
    assert!(html.contains("data-name=\"before\""));
    // BEFORE's short-term loudness on the loudness plot, and its figures in
    // their own column of the table.
    assert!(html.contains("data-name=\"before, short-term\""));
    assert!(html.contains("<th class=\"num\">this file</th><th class=\"num\">before</th>"));
    assert!(html.contains("target −14.0 LUFS") || html.contains("target -14.0 LUFS"));
    assert!(html.contains("id=\"platforms\"") && html.contains("Spotify"));
}

#[test]
fn a_hot_master_overs_through_mp3_and_a_quiet_one_does_not() {
    use mixmaster_report::{Status, lossy_check};
    // Noise hard-limited at −0.1 dBFS: MP3's band-limiting rings over it.
    let hot = temp("lossy-hot.wav");
    let n: Vec<f64> = noise(4.0, 2.0, 31)
        .iter()
        .map(|x| x.clamp(-0.989, 0.989))
        .collect();
    let m: Vec<f64> = noise(4.0, 2.0, 32)
        .iter()
        .map(|x| x.clamp(-0.989, 0.989))
        .collect();
    write(&hot, &[n, m]);
    let mut r = report(&hot, None);
    r.lossy = lossy_check(&hot, &r.file.meter).unwrap();
    let l = r.lossy.clone().unwrap();
    assert!(l.decoded_true_peak_dbtp > -0.1, "{l:?}");
    assert_ne!(status(&r, "lossy"), Status::Pass);
    let quiet = temp("lossy-quiet.wav");
    let t = sine(1000.0, -20.0, 4.0);
    write(&quiet, &[t.clone(), t]);
    let mut r = report(&quiet, None);
    r.lossy = lossy_check(&quiet, &r.file.meter).unwrap();
    let l = r.lossy.clone().unwrap();
    assert!((l.decoded_true_peak_dbtp - -20.0).abs() < 0.3, "{l:?}");
    assert_eq!(l.decoded_overs, 0);
    assert_eq!(status(&r, "lossy"), Status::Pass);
}

#[test]
fn a_high_rate_master_is_resampled_for_the_mp3_check_and_surround_has_no_stereo_fold_down() {
    use mixmaster_report::lossy_check;
    // A −20 dBFS 1 kHz tone at 96 kHz: resampled to 48 kHz, encoded, decoded.
    let path = temp("lossy-96k.wav");
    let t: Vec<f64> = (0..96_000 * 3)
        .map(|i| 0.1 * (2.0 * std::f64::consts::PI * 1000.0 * f64::from(i) / 96_000.0).sin())
        .collect();
    write_at(&path, 96_000, &[t.clone(), t]);
    let a = analyse(&path, -1.0).unwrap();
    let l = lossy_check(&path, &a.meter)
        .unwrap()
        .expect("checked at 48 kHz");
    assert!(l.codec.contains("resampled to 48 kHz"), "{l:?}");
    assert!((l.decoded_true_peak_dbtp - -20.0).abs() < 0.3, "{l:?}");
    assert!(l.loudness_change_lu.abs() < 0.1, "{l:?}");
    // Six channels: no stereo fold-down figures, no MP3 check; the rest is
    // measured.
    let six = temp("six.wav");
    let t = sine(1000.0, -30.0, 2.0);
    write(&six, &vec![t; 6]);
    let a = analyse(&six, -1.0).unwrap();
    assert!(a.mono.is_none());
    assert!(lossy_check(&six, &a.meter).unwrap().is_none());
    assert!(a.meter.integrated_lufs.is_finite());
}
