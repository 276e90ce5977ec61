//! Merging loudness blocks across programmes (an album measured as one
//! programme). See `gating.rs` for the seam semantics:
//!
//! * first programme a whole number of 100 ms long and ending in silence:
//!   the merged blocks are bit-identical to those of the concatenation;
//! * whole 100 ms but not silent at the end: identical windows except for
//!   the K-filter state at the seam (differences ≪ 0.01 LU);
//! * otherwise the 100 ms grid restarts at the seam (the first programme's
//!   last incomplete 10 ms is not measured): close, not identical.

mod common;

use common::{feed, frames, music};
use mixmaster_meter::{LoudnessBlocks, Meter, MeterOptions};

const FS: u32 = 44_100;

fn blocks_of(channels: &[Vec<f64>]) -> LoudnessBlocks {
    let mut m = Meter::new(MeterOptions::new(FS, 2)).expect("meter");
    feed(&mut m, channels, 4096);
    m.loudness_blocks().clone()
}

fn song(seconds: f64, seed: u64, silence_s: f64) -> Vec<Vec<f64>> {
    let [mut l, mut r] = music(seconds, FS, seed);
    let pad = frames(silence_s, FS);
    l.resize(l.len() + pad, 0.0);
    r.resize(r.len() + pad, 0.0);
    vec![l, r]
}

fn concat(parts: &[&Vec<Vec<f64>>]) -> Vec<Vec<f64>> {
    (0..2)
        .map(|c| parts.iter().flat_map(|p| p[c].iter().copied()).collect())
        .collect()
}

#[test]
fn merge_after_silence_is_bit_identical_to_the_concatenation() {
    let a = song(7.0, 1, 1.0); // 8.0 s, ends in 1 s of silence
    let b = song(9.35, 2, 0.0);
    let whole = blocks_of(&concat(&[&a, &b]));
    let mut merged = blocks_of(&a);
    merged.merge(&blocks_of(&b));
    assert_eq!(merged, whole);
    assert_eq!(
        merged.integrated_lufs().to_bits(),
        whole.integrated_lufs().to_bits()
    );
    assert_eq!(merged.lra_lu(), whole.lra_lu());
}

#[test]
fn merge_on_whole_100ms_blocks_matches_the_concatenation() {
    let a = song(8.0, 3, 0.0);
    let b = song(12.7, 4, 0.0);
    let c = song(6.2, 5, 0.0);
    let whole = blocks_of(&concat(&[&a, &b, &c]));
    let (ba, bb, bc) = (blocks_of(&a), blocks_of(&b), blocks_of(&c));
    let mut album = ba.clone();
    album.merge(&bb);
    album.merge(&bc);
    assert_eq!(album.gating_energies().len(), whole.gating_energies().len());
    assert_eq!(
        album.short_term_energies().len(),
        whole.short_term_energies().len()
    );
    assert_eq!(album.sub_blocks(), whole.sub_blocks());
    let di = album.integrated_lufs() - whole.integrated_lufs();
    assert!(di.abs() < 1e-3, "integrated differs by {di} LU");
    let dl = album.lra_lu().unwrap_or(f64::NAN) - whole.lra_lu().unwrap_or(f64::NAN);
    assert!(dl.abs() < 1e-2, "LRA differs by {dl} LU");
    // Associative: (a + b) + c == a + (b + c).
    let mut right = bb.clone();
    right.merge(&bc);
    let mut left = ba.clone();
    left.merge(&right);
    assert_eq!(left, album);
}

#[test]
fn merge_elsewhere_restarts_the_grid_at_the_seam() {
    // 8.0537 s: not a whole number of 100 ms, nor of 10 ms.
    let a = song(8.0537, 6, 0.0);
    let b = song(10.0, 7, 0.0);
    let whole = blocks_of(&concat(&[&a, &b]));
    let (ba, bb) = (blocks_of(&a), blocks_of(&b));
    let mut merged = ba.clone();
    merged.merge(&bb);
    // A's last 3.7 ms are in no sub-block; the seam adds the three gating
    // blocks (and 29 short-term windows) that end 100…300 ms (100…2900 ms)
    // into B on B's own grid.
    assert_eq!(merged.sub_blocks(), ba.sub_blocks() + bb.sub_blocks());
    assert_eq!(
        merged.gating_energies().len(),
        ba.gating_energies().len() + 3 + bb.gating_energies().len()
    );
    assert_eq!(
        merged.short_term_energies().len(),
        ba.short_term_energies().len() + 29 + bb.short_term_energies().len()
    );
    let di = merged.integrated_lufs() - whole.integrated_lufs();
    assert!(di.abs() < 0.05, "integrated differs by {di} LU");
}

#[test]
fn merge_with_empty_and_short_programmes() {
    let a = blocks_of(&song(5.0, 8, 0.0));
    let empty = LoudnessBlocks::default();
    let mut x = a.clone();
    x.merge(&empty);
    assert_eq!(x, a);
    let mut y = empty.clone();
    y.merge(&a);
    assert_eq!(y, a);
    // Programmes shorter than a gating block still contribute across seams:
    // exactly when each ends in silence that flushes the filter…
    let tiny = song(0.2, 9, 0.5);
    let whole = blocks_of(&concat(&[&tiny, &tiny, &tiny, &tiny]));
    let bt = blocks_of(&tiny);
    let mut merged = bt.clone();
    for _ in 0..3 {
        merged.merge(&bt);
    }
    assert_eq!(merged, whole);
    // … and approximately otherwise: each 0.2 s piece metered alone starts
    // from a silent K-filter, whose transient is a sizeable part of 0.2 s.
    let tiny = song(0.2, 9, 0.0);
    let whole = blocks_of(&concat(&[&tiny, &tiny, &tiny, &tiny]));
    let bt = blocks_of(&tiny);
    assert!(bt.gating_energies().is_empty());
    let mut merged = bt.clone();
    for _ in 0..3 {
        merged.merge(&bt);
    }
    assert_eq!(
        merged.gating_energies().len(),
        whole.gating_energies().len()
    );
    let di = merged.integrated_lufs() - whole.integrated_lufs();
    assert!(di.abs() < 0.15, "integrated differs by {di} LU");
}
