//! The committed fixtures (scripts/make_fixtures.sh) decode to their exact
//! lengths, levels and time alignment.
//!
//! Every fixture holds a 1 kHz sine starting at phase 0 on frame 0, left at
//! amplitude 0.5 and right at 0.25. Besides the level, each test fits the
//! sine's phase in the middle of the file and converts it to a delay in
//! frames: a decoder that forgot to trim the encoder delay, or trimmed the
//! wrong amount, is off by hundreds of frames.

mod common;

use common::{blackman_harris7, db, fixture};
use mixmaster_io::{SampleFormat, SourceInfo, read_all};
use std::f64::consts::PI;

const TONE_HZ: f64 = 1000.0;

/// Amplitude and delay (frames, modulo one period) of the 1 kHz tone in the
/// middle `len` frames of `x`, by a windowed least-squares fit of
/// a·sin(ωn) + b·cos(ωn) with n the absolute frame index.
fn fit_tone(x: &[f64], rate_hz: u32, len: usize) -> (f64, f64) {
    let len = len.min(x.len());
    let start = (x.len() - len) / 2;
    let w = blackman_harris7(len);
    let omega = 2.0 * PI * TONE_HZ / f64::from(rate_hz);
    let (mut a, mut b) = (0.0, 0.0);
    for (i, (&s, &wi)) in x[start..start + len].iter().zip(&w).enumerate() {
        let n = (start + i) as f64;
        a += wi * s * (omega * n).sin();
        b += wi * s * (omega * n).cos();
    }
    let norm = 2.0 / w.iter().sum::<f64>();
    let (a, b) = (a * norm, b * norm);
    let amplitude = (a * a + b * b).sqrt();
    // x[n] = A·sin(ω(n − d)) gives a = A·cos(ωd), b = −A·sin(ωd).
    let delay = (-b).atan2(a) / omega;
    (amplitude, delay)
}

/// Checks both channels' levels (±0.5 dB) and alignment (±`max_delay` frames).
fn check_tone(info: &SourceInfo, planar: &[Vec<f64>], max_delay: f64) {
    let name = info.path.display();
    for (ch, expected) in [(0usize, 0.5f64), (1, 0.25)] {
        let (amp, delay) = fit_tone(&planar[ch], info.sample_rate_hz, 8192);
        let err_db = db(amp / expected);
        println!("{name} ch{ch}: level error {err_db:+.3} dB, delay {delay:+.3} frames");
        assert!(
            err_db.abs() < 0.5,
            "{name} ch{ch}: level off by {err_db:.3} dB"
        );
        assert!(
            delay.abs() <= max_delay,
            "{name} ch{ch}: delayed by {delay:.3} frames"
        );
    }
}

#[test]
fn mp3_with_lame_tag_is_gapless_and_exact() {
    let (info, buf) = read_all(&fixture("tone.mp3")).unwrap();
    assert_eq!(
        (info.container.as_str(), info.codec.as_str()),
        ("MP3", "MP3")
    );
    assert_eq!(info.sample_format, SampleFormat::Lossy);
    assert_eq!((info.sample_rate_hz, info.channels), (44_100, 2));
    assert_eq!(info.frames, Some(44_321));
    assert_eq!(buf.frames(), 44_321);
    // Encoder delay (576) + decoder delay (529) removed: the tone starts on
    // frame 0, to within the codec's phase error.
    check_tone(&info, buf.planar(), 0.25);
}

#[test]
fn ogg_vorbis_is_exact() {
    let (info, buf) = read_all(&fixture("tone.ogg")).unwrap();
    assert_eq!(
        (info.container.as_str(), info.codec.as_str()),
        ("Ogg", "Vorbis")
    );
    assert_eq!(info.sample_format, SampleFormat::Lossy);
    assert_eq!(info.frames, Some(44_321));
    assert_eq!(buf.frames(), 44_321);
    check_tone(&info, buf.planar(), 0.25);
}

#[test]
fn aac_in_mp4_is_trimmed_by_its_edit_list() {
    // Untrimmed, symphonia 0.6 yields 46 080 frames: 1024 priming frames
    // ahead of the music and 735 padding frames after it. The edit list
    // (media_time 1024, 1005 ms) and the track duration (45 345) give the
    // exact 44 321.
    let (info, buf) = read_all(&fixture("tone_aac.m4a")).unwrap();
    assert_eq!(
        (info.container.as_str(), info.codec.as_str()),
        ("MP4", "AAC")
    );
    assert_eq!(info.sample_format, SampleFormat::Lossy);
    assert_eq!(info.frames, Some(44_321));
    assert_eq!(buf.frames(), 44_321);
    check_tone(&info, buf.planar(), 0.25);
}

#[test]
fn aac_in_mp4_without_edit_list_is_not_exact() {
    // The documented limitation: with neither an edit list nor iTunSMPB the
    // file does not say how much to trim, so `frames` is `None` and the
    // decoded stream keeps the encoder's 1024 priming frames (the tone
    // arrives 1024 frames late) and the last packet's 735 padding frames.
    let (info, buf) = read_all(&fixture("tone_aac_noedit.m4a")).unwrap();
    assert_eq!(info.codec, "AAC");
    assert_eq!(info.frames, None);
    assert_eq!(buf.frames(), 44_321 + 1024 + 735);
    let late: Vec<Vec<f64>> = buf
        .planar()
        .iter()
        .map(|c| c[1024..1024 + 44_321].to_vec())
        .collect();
    check_tone(&info, &late, 0.25);
}

#[test]
fn alac_in_mp4_is_lossless() {
    let (info, buf) = read_all(&fixture("tone_alac.m4a")).unwrap();
    assert_eq!(
        (info.container.as_str(), info.codec.as_str()),
        ("MP4", "ALAC")
    );
    assert_eq!(info.sample_format, SampleFormat::Int { bits: 16 });
    assert_eq!(info.frames, Some(11_025));
    assert_eq!(buf.frames(), 11_025);
    check_tone(&info, buf.planar(), 0.01);
    // Same source as the AIFF fixture: the lossless decodes must agree exactly.
    let (_, aiff) = read_all(&fixture("tone.aiff")).unwrap();
    assert_eq!(buf, aiff);
}

#[test]
fn aiff_is_exact() {
    let (info, buf) = read_all(&fixture("tone.aiff")).unwrap();
    assert_eq!(
        (info.container.as_str(), info.codec.as_str()),
        ("AIFF", "PCM")
    );
    assert_eq!(info.sample_format, SampleFormat::Int { bits: 16 });
    assert_eq!(info.frames, Some(11_025));
    assert_eq!(buf.frames(), 11_025);
    check_tone(&info, buf.planar(), 0.01);
    // Within one 16-bit step of the ideal sine (sox rounds twice).
    for (ch, amp) in [(0usize, 0.5), (1, 0.25)] {
        let ideal = common::sine(TONE_HZ, amp, 44_100, 11_025);
        let worst = buf
            .channel(ch)
            .iter()
            .zip(&ideal)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        assert!(worst <= 1.01 / 32_768.0, "ch{ch}: {worst}");
    }
}

#[test]
fn sox_24_bit_extensible_wav() {
    let (info, buf) = read_all(&fixture("sox_s24.wav")).unwrap();
    assert_eq!(
        (info.container.as_str(), info.codec.as_str()),
        ("WAV", "PCM")
    );
    assert_eq!(info.sample_format, SampleFormat::Int { bits: 24 });
    assert_eq!((info.sample_rate_hz, info.frames), (48_000, Some(4801)));
    assert_eq!(buf.frames(), 4801);
    check_tone(&info, buf.planar(), 0.01);
    for (ch, amp) in [(0usize, 0.5), (1, 0.25)] {
        let ideal = common::sine(TONE_HZ, amp, 48_000, 4801);
        let worst = buf
            .channel(ch)
            .iter()
            .zip(&ideal)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        assert!(worst <= 1.01 / 8_388_608.0, "ch{ch}: {worst}");
    }
}

#[test]
fn fixtures_stay_small() {
    for entry in std::fs::read_dir(fixture("")).unwrap() {
        let entry = entry.unwrap();
        let len = entry.metadata().unwrap().len();
        assert!(len <= 100 * 1024, "{:?} is {len} bytes", entry.file_name());
    }
}
