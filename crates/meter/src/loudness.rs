//! Loudness from K-weighted energies: the 10 ms sub-block grid, the
//! momentary (400 ms) and short-term (3 s) windows, channel weights and the
//! energy ↔ LUFS conversion (ITU-R BS.1770-5 Annex 1, EBU Tech 3341 §2).
//!
//! The meter keeps one energy per 10 ms sub-block (the channel-weighted sum
//! of squared K-weighted samples) and its length in frames. Sub-block `k`
//! spans frames `floor(k·fs/100) .. floor((k+1)·fs/100)`, so any sample rate
//! works and 100 ms blocks are exactly 10 sub-blocks. A window's mean square
//! is the sum of its sub-block energies over the sum of their frames, summed
//! in time order, so every window is computed the same way wherever it comes
//! from (live metering or [`crate::LoudnessBlocks::merge`]).
//!
//! Following the implementation advice of LOUDNESS_SPEC §2.2, momentary is
//! the window of the last 40 sub-blocks, short-term of the last 300, and the
//! gating blocks of the integrated loudness are the momentary windows that
//! end on a 100 ms boundary (400 ms blocks, 75 % overlap). Maxima of M and S
//! are taken on the 10 ms grid, so a 400 ms burst is under-read by at most
//! 0.055 dB (0.007 dB for a 3 s burst).

use serde::Serialize;

/// Sub-blocks per second: the 10 ms grid (LOUDNESS_SPEC §2.2,
/// implementation advice).
pub const SUB_BLOCKS_PER_SECOND: u64 = 100;
/// Sub-blocks per 100 ms step: the gating-block hop (BS.1770-5 Annex 1,
/// 75 % overlap of 400 ms blocks) and the short-term rate for LRA (Tech 3342
/// §3, ≥ 10 Hz).
pub const SUB_BLOCKS_PER_STEP: usize = 10;
/// Sub-blocks per momentary window / gating block: 400 ms (Tech 3341 §2;
/// BS.1770-5 Annex 1, `T_g = 400 ms`).
pub const MOMENTARY_SUB_BLOCKS: usize = 40;
/// Sub-blocks per short-term window: 3 s (Tech 3341 §2, Tech 3342 §3).
pub const SHORT_TERM_SUB_BLOCKS: usize = 300;
/// The constant of the loudness formula `L = −0.691 + 10·log10(Σ G_i·z_i)`
/// (BS.1770-5 Annex 1, eq. (2)); it cancels the K-weighting gain at 997 Hz.
pub const LOUDNESS_OFFSET_DB: f64 = -0.691;
/// Weight of surround channels (Ls, Rs) (BS.1770-5 Annex 1, Table 3).
pub const SURROUND_WEIGHT: f64 = 1.41;

/// One 10 ms sub-block: the channel-weighted sum of squared K-weighted
/// samples `Σ_i G_i · Σ_n y_i[n]²` and the number of frames it spans.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SubBlock {
    /// Weighted energy (sum, not mean, of squares).
    pub energy: f64,
    /// Frames in the sub-block (`floor(fs/100)` or one more).
    pub frames: u32,
}

/// Loudness in LUFS of a weighted mean square `Σ_i G_i · z_i`
/// (BS.1770-5 Annex 1, eq. (2)); `-inf` for silence.
#[inline]
pub fn energy_to_lufs(mean_square: f64) -> f64 {
    if mean_square > 0.0 {
        LOUDNESS_OFFSET_DB + 10.0 * mean_square.log10()
    } else {
        f64::NEG_INFINITY
    }
}

/// The weighted mean square of a loudness in LUFS (inverse of
/// [`energy_to_lufs`]).
#[inline]
pub fn lufs_to_energy(lufs: f64) -> f64 {
    10f64.powf((lufs - LOUDNESS_OFFSET_DB) / 10.0)
}

/// Mean square of a window of sub-blocks: `Σ energy / Σ frames`, with the
/// energies summed in four interleaved partial sums (fixed order, so a
/// window gives the same bits wherever it is computed: live or across a
/// merge seam). 0 for an empty or zero-length window.
#[inline]
pub(crate) fn window_mean_square(window: &[SubBlock]) -> f64 {
    let mut energy = [0.0f64; 4];
    let mut frames = 0u64;
    let mut chunks = window.chunks_exact(4);
    for c in &mut chunks {
        for i in 0..4 {
            energy[i] += c[i].energy;
            frames += u64::from(c[i].frames);
        }
    }
    let mut total = (energy[0] + energy[1]) + (energy[2] + energy[3]);
    for sb in chunks.remainder() {
        total += sb.energy;
        frames += u64::from(sb.frames);
    }
    if frames == 0 {
        0.0
    } else {
        total / frames as f64
    }
}

/// Whether `n` sub-blocks end on a 100 ms boundary.
// `u64::is_multiple_of` needs Rust 1.87; the workspace MSRV is 1.85.
#[allow(clippy::manual_is_multiple_of)]
#[inline]
pub(crate) fn on_step(n: u64) -> bool {
    n % SUB_BLOCKS_PER_STEP as u64 == 0
}

/// First frame of sub-block `k` at `sample_rate_hz`: `floor(k·fs/100)`.
#[inline]
pub(crate) fn sub_block_start(k: u64, sample_rate_hz: u32) -> u64 {
    (u128::from(k) * u128::from(sample_rate_hz) / u128::from(SUB_BLOCKS_PER_SECOND)) as u64
}

/// Length in frames of sub-block `k`.
#[inline]
pub(crate) fn sub_block_len(k: u64, sample_rate_hz: u32) -> usize {
    (sub_block_start(k + 1, sample_rate_hz) - sub_block_start(k, sample_rate_hz)) as usize
}

/// Default channel weights `G_i` of BS.1770-5 Annex 1 Table 3 by channel
/// count, in the usual WAV/SMPTE orders:
///
/// * 1 (mono): `[1]`; 2: `[1, 1]`; 3 (L R C): `[1, 1, 1]`;
/// * 5 (L R C Ls Rs): `[1, 1, 1, 1.41, 1.41]`;
/// * 6 (5.1, L R C LFE Ls Rs): `[1, 1, 1, 0, 1.41, 1.41]` — the LFE is excluded;
/// * anything else: 1.0 for every channel (pass explicit weights in
///   [`crate::MeterOptions::channel_weights`] for other layouts).
pub fn default_channel_weights(channels: usize) -> Vec<f64> {
    match channels {
        5 => vec![1.0, 1.0, 1.0, SURROUND_WEIGHT, SURROUND_WEIGHT],
        6 => vec![1.0, 1.0, 1.0, 0.0, SURROUND_WEIGHT, SURROUND_WEIGHT],
        n => vec![1.0; n],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_covers_every_frame() {
        for fs in [
            8_000, 11_025, 22_050, 44_100, 48_000, 88_200, 96_000, 192_000, 768_000,
        ] {
            let mut total = 0u64;
            for k in 0..100 {
                total += sub_block_len(k, fs) as u64;
            }
            assert_eq!(total, u64::from(fs), "one second at {fs} Hz");
            assert_eq!(sub_block_start(10, fs), u64::from(fs) / 10);
        }
        assert_eq!(sub_block_len(0, 22_050), 220);
        assert_eq!(sub_block_len(1, 22_050), 221);
    }

    #[test]
    fn lufs_round_trip_and_silence() {
        assert_eq!(energy_to_lufs(0.0), f64::NEG_INFINITY);
        assert!((energy_to_lufs(lufs_to_energy(-23.0)) + 23.0).abs() < 1e-12);
        assert_eq!(default_channel_weights(6)[3], 0.0);
        assert_eq!(default_channel_weights(4), vec![1.0; 4]);
    }
}
