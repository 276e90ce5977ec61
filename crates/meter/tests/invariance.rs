//! Block-size invariance: the same input in blocks of 1, 7, 64 and 4096
//! frames (and irregular mixtures) gives bit-identical reports, compared
//! field by field through their `Debug` text (which prints every `f64`
//! exactly, including −0.0 and ±∞); so does the same input after `reset()`
//! or interleaved; and a mid-stream report equals the final report of a
//! meter fed exactly that prefix.

mod common;

use common::{assert_same_text, feed, music, white_noise};
use mixmaster_meter::{Meter, MeterOptions};

const BLOCKS: [usize; 4] = [1, 7, 64, 4096];

fn report_text(options: &MeterOptions, channels: &[Vec<f64>], block: usize) -> String {
    let mut m = Meter::new(options.clone()).expect("meter");
    feed(&mut m, channels, block);
    format!("{:?}", m.report())
}

/// Feeds blocks whose sizes cycle through `sizes`.
fn feed_irregular(m: &mut Meter, channels: &[Vec<f64>], sizes: &[usize]) {
    let n = channels[0].len();
    let (mut pos, mut i) = (0, 0);
    while pos < n {
        let end = (pos + sizes[i % sizes.len()]).min(n);
        let blk: Vec<&[f64]> = channels.iter().map(|c| &c[pos..end]).collect();
        m.process(&blk).expect("block");
        pos = end;
        i += 1;
    }
}

fn assert_invariant(what: &str, options: &MeterOptions, channels: &[Vec<f64>]) {
    let reference = report_text(options, channels, channels[0].len());
    for block in BLOCKS {
        let got = report_text(options, channels, block);
        assert_same_text(&got, &reference, &format!("{what}: blocks of {block}"));
    }
    let mut m = Meter::new(options.clone()).expect("meter");
    feed_irregular(&mut m, channels, &[1, 4096, 7, 0, 64, 333, 2]);
    assert_same_text(
        &format!("{:?}", m.report()),
        &reference,
        &format!("{what}: irregular"),
    );
}

/// A music-like stereo signal with a few non-finite samples.
fn stereo_input(fs: u32, seconds: f64) -> Vec<Vec<f64>> {
    let [mut l, mut r] = music(seconds, fs, 5);
    l[1000] = f64::NAN;
    r[20_000] = f64::INFINITY;
    l[30_001] = f64::NEG_INFINITY;
    vec![l, r]
}

#[test]
fn block_size_invariance_stereo_with_series_and_spectrum() {
    let fs = 44_100;
    let mut o = MeterOptions::new(fs, 2);
    o.spectrum = true;
    o.spectrum_fft_size = Some(2048);
    assert_invariant("44.1 kHz stereo", &o, &stereo_input(fs, 4.3));
}

#[test]
fn block_size_invariance_other_rates_and_layouts() {
    // 22.05 kHz: sub-blocks alternate between 220 and 221 frames.
    let fs = 22_050;
    let n = (fs as f64 * 3.7) as usize;
    let six: Vec<Vec<f64>> = (0..6)
        .map(|c| white_noise(n, 0.1 * (c + 1) as f64, c))
        .collect();
    assert_invariant("22.05 kHz 5.1", &MeterOptions::new(fs, 6), &six);

    let fs = 8_000;
    let mono = vec![white_noise(fs as usize * 4, 0.5, 9)];
    let mut o = MeterOptions::new(fs, 1);
    o.mono_mode = mixmaster_meter::MonoMode::DualMono;
    assert_invariant("8 kHz mono", &o, &mono);

    let fs = 192_000;
    let mut o = MeterOptions::new(fs, 2);
    o.true_peak_oversampling = 8;
    o.series = false;
    assert_invariant("192 kHz stereo 8x", &o, &stereo_input(fs, 3.1));
}

#[test]
fn reset_gives_a_fresh_meter() {
    let fs = 48_000;
    let mut o = MeterOptions::new(fs, 2);
    o.spectrum = true;
    let input = stereo_input(fs, 3.3);
    let fresh = report_text(&o, &input, 4096);
    let mut m = Meter::new(o).expect("meter");
    feed(
        &mut m,
        &[white_noise(12_345, 0.9, 1), white_noise(12_345, 0.9, 2)],
        100,
    );
    m.reset();
    assert_eq!(m.frames(), 0);
    feed(&mut m, &input, 777);
    assert_same_text(&format!("{:?}", m.report()), &fresh, "after reset");
}

#[test]
fn interleaved_equals_planar() {
    let fs = 48_000;
    let input = stereo_input(fs, 2.2);
    let o = MeterOptions::new(fs, 2);
    let planar = report_text(&o, &input, 4096);
    let interleaved: Vec<f64> = input[0]
        .iter()
        .zip(&input[1])
        .flat_map(|(&a, &b)| [a, b])
        .collect();
    for block in [1usize, 7, 64, 4096] {
        let mut m = Meter::new(o.clone()).expect("meter");
        for chunk in interleaved.chunks(2 * block) {
            m.process_interleaved(chunk).expect("block");
        }
        assert_same_text(
            &format!("{:?}", m.report()),
            &planar,
            &format!("blocks of {block}"),
        );
    }
}

#[test]
fn mid_stream_reports_describe_the_prefix() {
    let fs = 48_000;
    let input = stereo_input(fs, 4.0);
    let o = MeterOptions::new(fs, 2);
    let mut live = Meter::new(o.clone()).expect("meter");
    let mut pos = 0;
    for (i, block) in [4800usize, 4799, 1, 31_337, 10, 70_000, 5000]
        .iter()
        .enumerate()
    {
        let end = (pos + block).min(input[0].len());
        live.process(&[&input[0][pos..end], &input[1][pos..end]])
            .expect("block");
        pos = end;
        let prefix: Vec<Vec<f64>> = input.iter().map(|c| c[..pos].to_vec()).collect();
        assert_same_text(
            &format!("{:?}", live.report()),
            &report_text(&o, &prefix, 64),
            &format!("report {i} after {pos} frames"),
        );
    }
    // Reports do not disturb the measurement.
    feed(
        &mut live,
        &input.iter().map(|c| c[pos..].to_vec()).collect::<Vec<_>>(),
        4096,
    );
    assert_same_text(
        &format!("{:?}", live.report()),
        &report_text(&o, &input, 4096),
        "final",
    );
}
