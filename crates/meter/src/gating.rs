//! Gated loudness: the integrated loudness of BS.1770-5 Annex 1 (absolute
//! gate −70 LUFS, relative gate −10 LU, energies averaged) and the loudness
//! range of EBU Tech 3342 (short-term values at 10 Hz, absolute gate
//! −70 LUFS, relative gate −20 LU, P95 − P10 by nearest rank), over blocks
//! that can be merged across files.
//!
//! # Merging and the seam
//!
//! [`LoudnessBlocks`] keeps, besides the gating-block and short-term
//! energies, the first and last 300 sub-block energies of its programme.
//! [`LoudnessBlocks::merge`] uses them to compute the windows that straddle
//! the seam between two programmes, so an album measures as one programme:
//!
//! * When the first programme's length is a whole number of 100 ms blocks
//!   (at a rate where 100 ms is a whole number of frames, i.e. every common
//!   rate), the merged blocks are the blocks of the concatenation, in the
//!   same order, with the same summation order. The only difference is the
//!   K-filter state at the seam: metered alone, the second programme starts
//!   from a silent filter. If the first programme ends in ≥ 0.5 s of digital
//!   silence the filter state has been flushed to zero and the results are
//!   bit-identical to metering the concatenation; otherwise they differ by
//!   the filter's transient (typically < 0.001 LU).
//! * Otherwise the first programme's last, incomplete 10 ms (if any) is not
//!   part of any block, and the 100 ms grid restarts at the seam: the
//!   windows across the seam end 100, 200, 300 ms (gating) or 100 … 2900 ms
//!   (short-term) after it, on the second programme's own grid, so the step
//!   from the first programme's last block to the first seam block is between
//!   100 and 190 ms.

use serde::{Serialize, Serializer};

use crate::loudness::{
    MOMENTARY_SUB_BLOCKS, SHORT_TERM_SUB_BLOCKS, SUB_BLOCKS_PER_STEP, SubBlock, energy_to_lufs,
    lufs_to_energy, on_step, window_mean_square,
};

/// Absolute gate of the integrated loudness and of LRA: −70 LUFS
/// (BS.1770-5 Annex 1, `Γa`; Tech 3342 §3).
pub const ABSOLUTE_GATE_LUFS: f64 = -70.0;
/// Relative gate of the integrated loudness: −10 LU (BS.1770-5 Annex 1, `Γr`).
pub const RELATIVE_GATE_LU: f64 = -10.0;
/// Relative gate of the loudness range: −20 LU (Tech 3342 §3).
pub const LRA_RELATIVE_GATE_LU: f64 = -20.0;
/// Lower percentile of the loudness range (Tech 3342 §3).
pub const LRA_LOW_PERCENT: f64 = 10.0;
/// Upper percentile of the loudness range (Tech 3342 §3).
pub const LRA_HIGH_PERCENT: f64 = 95.0;

/// Sub-blocks kept at each end of a programme for the seam windows of
/// [`LoudnessBlocks::merge`] (one short-term window).
const EDGE_SUB_BLOCKS: usize = SHORT_TERM_SUB_BLOCKS;

/// The mergeable loudness state of a programme: gating-block energies (every
/// 100 ms), short-term energies (every 100 ms, for LRA) and the sub-block
/// energies at both ends (for merging). Energies are channel-weighted mean
/// squares `Σ_i G_i · z_i` (see [`crate::loudness`]).
///
/// Memory grows by 16 bytes per 100 ms of programme (576 kB per hour).
#[derive(Clone, Debug, Default, Serialize)]
pub struct LoudnessBlocks {
    /// Complete 10 ms sub-blocks in the programme.
    sub_blocks: u64,
    /// The first (up to) 300 sub-blocks.
    head: Vec<SubBlock>,
    /// The most recent sub-blocks, oldest first: between 300 and 599 once
    /// the programme is long enough (trimmed in bulk, so the last 300 are
    /// always one contiguous slice). Only the last 300 ([`Self::tail`]) are
    /// part of the state.
    #[serde(rename = "tail", serialize_with = "serialize_tail")]
    recent: Vec<SubBlock>,
    /// Mean square of every 400 ms gating block (100 ms hop), in time order.
    gating_energies: Vec<f64>,
    /// Mean square of every 3 s short-term window at 10 Hz, in time order.
    short_term_energies: Vec<f64>,
}

/// Serializes only the meaningful part of `recent`.
fn serialize_tail<S: Serializer>(recent: &[SubBlock], s: S) -> Result<S::Ok, S::Error> {
    tail_of(recent).serialize(s)
}

/// The last (up to) 300 entries.
fn tail_of(recent: &[SubBlock]) -> &[SubBlock] {
    &recent[recent.len().saturating_sub(EDGE_SUB_BLOCKS)..]
}

impl PartialEq for LoudnessBlocks {
    /// Equal when they describe the same programme state (the trimmed-away
    /// part of the recent buffer does not count).
    fn eq(&self, other: &Self) -> bool {
        self.sub_blocks == other.sub_blocks
            && self.head == other.head
            && self.tail() == other.tail()
            && self.gating_energies == other.gating_energies
            && self.short_term_energies == other.short_term_energies
    }
}

/// The windows that a new sub-block completes on the 10 ms grid.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct WindowsDone {
    /// Mean square of the momentary window ending here, once 40 sub-blocks
    /// are in.
    pub momentary: Option<f64>,
    /// Mean square of the short-term window ending here, once 300 are in.
    pub short_term: Option<f64>,
}

impl LoudnessBlocks {
    /// Empty blocks (no programme yet).
    pub fn new() -> Self {
        Self::default()
    }

    /// Forgets everything, keeping allocations.
    pub fn clear(&mut self) {
        self.sub_blocks = 0;
        self.head.clear();
        self.recent.clear();
        self.gating_energies.clear();
        self.short_term_energies.clear();
    }

    /// Appends one sub-block and returns the momentary and short-term windows
    /// that end with it. Every 10th sub-block also records a gating block and
    /// a short-term value.
    pub(crate) fn push(&mut self, sb: SubBlock) -> WindowsDone {
        self.sub_blocks += 1;
        if self.head.len() < EDGE_SUB_BLOCKS {
            self.head.push(sb);
        }
        self.push_recent(sb);
        let recent = &self.recent;
        let n = recent.len();
        let done = WindowsDone {
            momentary: (n >= MOMENTARY_SUB_BLOCKS)
                .then(|| window_mean_square(&recent[n - MOMENTARY_SUB_BLOCKS..])),
            short_term: (n >= SHORT_TERM_SUB_BLOCKS)
                .then(|| window_mean_square(&recent[n - SHORT_TERM_SUB_BLOCKS..])),
        };
        if on_step(self.sub_blocks) {
            if let Some(m) = done.momentary {
                self.gating_energies.push(m);
            }
            if let Some(s) = done.short_term {
                self.short_term_energies.push(s);
            }
        }
        done
    }

    /// Appends to the recent buffer, trimming it in bulk.
    fn push_recent(&mut self, sb: SubBlock) {
        if self.recent.len() == 2 * EDGE_SUB_BLOCKS - 1 {
            self.recent.drain(..EDGE_SUB_BLOCKS);
        }
        self.recent.push(sb);
    }

    /// The last (up to) 300 sub-blocks, oldest first.
    pub fn tail(&self) -> &[SubBlock] {
        tail_of(&self.recent)
    }

    /// The first (up to) 300 sub-blocks.
    pub fn head(&self) -> &[SubBlock] {
        &self.head
    }

    /// Complete 10 ms sub-blocks measured.
    pub fn sub_blocks(&self) -> u64 {
        self.sub_blocks
    }

    /// Mean squares of the 400 ms gating blocks, in time order.
    pub fn gating_energies(&self) -> &[f64] {
        &self.gating_energies
    }

    /// Mean squares of the 3 s short-term windows at 10 Hz, in time order.
    pub fn short_term_energies(&self) -> &[f64] {
        &self.short_term_energies
    }

    /// Appends another programme as if it followed this one (see the module
    /// docs for what happens at the seam). Merging is associative for
    /// programmes whose lengths are whole numbers of 100 ms.
    pub fn merge(&mut self, other: &LoudnessBlocks) {
        if other.sub_blocks == 0 {
            return;
        }
        if self.sub_blocks == 0 {
            *self = other.clone();
            return;
        }
        // Windows across the seam, on `other`'s 100 ms grid extended back.
        let joined: Vec<SubBlock> = self.tail().iter().chain(&other.head).copied().collect();
        let seam = self.tail().len();
        let seam_windows = |window: usize| -> Vec<f64> {
            (1..)
                .map(|m| seam + m * SUB_BLOCKS_PER_STEP)
                .take_while(|&end| end < seam + window && end <= joined.len())
                .filter(|&end| end >= window)
                .map(|end| window_mean_square(&joined[end - window..end]))
                .collect()
        };
        let gating = seam_windows(MOMENTARY_SUB_BLOCKS);
        let short = seam_windows(SHORT_TERM_SUB_BLOCKS);
        self.gating_energies.extend(gating);
        self.gating_energies
            .extend_from_slice(&other.gating_energies);
        self.short_term_energies.extend(short);
        self.short_term_energies
            .extend_from_slice(&other.short_term_energies);

        if self.head.len() < EDGE_SUB_BLOCKS {
            let room = EDGE_SUB_BLOCKS - self.head.len();
            self.head.extend(other.head.iter().take(room));
        }
        for &sb in other.tail() {
            self.push_recent(sb);
        }
        // `other.tail` holds all of `other` when it is shorter than the edge,
        // so the combined tail is right in both cases.
        self.sub_blocks += other.sub_blocks;
    }

    /// Gated integrated loudness in LUFS (BS.1770-5 Annex 1): blocks above
    /// the absolute gate, then above the relative gate 10 LU below their
    /// energy mean, averaged as energies. `-inf` when no block passes the
    /// gates (silence, or less than 400 ms of input).
    pub fn integrated_lufs(&self) -> f64 {
        let absolute = lufs_to_energy(ABSOLUTE_GATE_LUFS);
        let Some(mean_abs) = gated_mean(&self.gating_energies, absolute) else {
            return f64::NEG_INFINITY;
        };
        let relative = mean_abs * 10f64.powf(RELATIVE_GATE_LU / 10.0);
        let threshold = if relative > absolute {
            relative
        } else {
            absolute
        };
        gated_mean(&self.gating_energies, threshold).map_or(f64::NEG_INFINITY, energy_to_lufs)
    }

    /// The relative gate of the integrated loudness in LUFS, `-inf` when no
    /// block passes the absolute gate.
    pub fn relative_gate_lufs(&self) -> f64 {
        let absolute = lufs_to_energy(ABSOLUTE_GATE_LUFS);
        gated_mean(&self.gating_energies, absolute)
            .map_or(f64::NEG_INFINITY, |m| energy_to_lufs(m) + RELATIVE_GATE_LU)
    }

    /// Loudness range in LU (EBU Tech 3342 §3 and its MATLAB reference, §5):
    /// short-term values ≥ −70 LUFS, then ≥ their energy mean − 20 LU; LRA
    /// = P95 − P10 with the nearest-rank index `round((n−1)·p/100)` (MATLAB
    /// `round`, half away from zero). `None` when no short-term value passes
    /// the gates (silence, or less than 3 s of input).
    pub fn lra_lu(&self) -> Option<f64> {
        self.lra_percentiles_lufs().map(|(lo, hi)| hi - lo)
    }

    /// The 10th and 95th percentiles of the gated short-term loudness (LUFS)
    /// whose difference is [`LoudnessBlocks::lra_lu`].
    pub fn lra_percentiles_lufs(&self) -> Option<(f64, f64)> {
        let absolute = lufs_to_energy(ABSOLUTE_GATE_LUFS);
        let mut kept: Vec<f64> = self
            .short_term_energies
            .iter()
            .copied()
            .filter(|&z| z >= absolute)
            .collect();
        if kept.is_empty() {
            return None;
        }
        let mean: f64 = kept.iter().sum::<f64>() / kept.len() as f64;
        let relative = mean * 10f64.powf(LRA_RELATIVE_GATE_LU / 10.0);
        kept.retain(|&z| z >= relative);
        let n = kept.len();
        if n == 0 {
            return None;
        }
        // MATLAB reference: sorted(round((n−1)·p/100 + 1)), 1-based.
        let rank = |percent: f64| -> usize {
            let one_based = ((n - 1) as f64 * percent / 100.0 + 1.0).round();
            (one_based as usize).clamp(1, n) - 1
        };
        let (lo, hi) = (rank(LRA_LOW_PERCENT), rank(LRA_HIGH_PERCENT));
        // Energies sort like their loudness (log10 is monotonic).
        let (_, &mut lo_z, _) = kept.select_nth_unstable_by(lo, f64::total_cmp);
        let (_, &mut hi_z, _) = kept.select_nth_unstable_by(hi, f64::total_cmp);
        Some((energy_to_lufs(lo_z), energy_to_lufs(hi_z)))
    }
}

/// Mean of the energies strictly above `threshold` (BS.1770 gates keep
/// `l_j > Γ`), summed in order; `None` when none is.
fn gated_mean(energies: &[f64], threshold: f64) -> Option<f64> {
    let (mut sum, mut n) = (0.0f64, 0u64);
    for &z in energies {
        if z > threshold {
            sum += z;
            n += 1;
        }
    }
    (n > 0).then(|| sum / n as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blocks(levels_lufs: &[f64], sub_blocks_each: usize) -> LoudnessBlocks {
        let mut b = LoudnessBlocks::new();
        for &l in levels_lufs {
            for _ in 0..sub_blocks_each {
                b.push(SubBlock {
                    energy: lufs_to_energy(l) * 480.0,
                    frames: 480,
                });
            }
        }
        b
    }

    #[test]
    fn silence_and_short_input() {
        let b = LoudnessBlocks::new();
        assert_eq!(b.integrated_lufs(), f64::NEG_INFINITY);
        assert_eq!(b.lra_lu(), None);
        let b = blocks(&[-20.0], 39);
        assert!(b.gating_energies().is_empty());
        let b = blocks(&[-20.0], 40);
        assert_eq!(b.gating_energies().len(), 1);
        assert!((b.integrated_lufs() + 20.0).abs() < 1e-9);
        assert_eq!(b.lra_lu(), None);
    }

    #[test]
    fn gates_remove_quiet_blocks() {
        // −80 is below the absolute gate, −40 below the relative gate; the
        // few blocks straddling a level change pass and pull slightly down.
        let b = blocks(&[-80.0, -20.0, -40.0, -20.0], 1000);
        let i = b.integrated_lufs();
        assert!((-20.1..=-20.0).contains(&i), "{i}");
        // Without gating the −40 part alone would pull the mean to ≈ −21.8.
        assert!((b.relative_gate_lufs() - (-21.8 - 10.0)).abs() < 0.2);
    }

    #[test]
    fn lra_of_two_levels() {
        let b = blocks(&[-20.0, -30.0], 2000);
        let lra = b.lra_lu().unwrap_or(f64::NAN);
        assert!((lra - 10.0).abs() < 0.05, "{lra}");
    }

    #[test]
    fn merge_equals_concatenation_on_whole_steps() {
        let levels = [-25.0, -18.0, -31.0, -22.0];
        let whole = blocks(&levels, 370);
        let mut a = blocks(&levels[..2], 370);
        let b = blocks(&levels[2..], 370);
        a.merge(&b);
        assert_eq!(a, whole);
        // Short pieces, including ones shorter than a window.
        for split in [10usize, 20, 50, 290, 300, 310, 600] {
            let all: Vec<f64> = (0..900).map(|i| -20.0 - (i % 37) as f64).collect();
            let mut whole = LoudnessBlocks::new();
            let mut x = LoudnessBlocks::new();
            let mut y = LoudnessBlocks::new();
            for (i, &l) in all.iter().enumerate() {
                let sb = SubBlock {
                    energy: lufs_to_energy(l) * 441.0,
                    frames: 441,
                };
                whole.push(sb);
                if i < split {
                    x.push(sb);
                } else {
                    y.push(sb);
                }
            }
            x.merge(&y);
            assert_eq!(x, whole, "split at {split}");
        }
    }
}
