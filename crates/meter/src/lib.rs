//! Streaming, mergeable loudness and level metering for mixmaster.
//!
//! * **Loudness** per ITU-R BS.1770-5 and EBU R128: momentary (400 ms),
//!   short-term (3 s) and their maxima on a 10 ms grid (EBU Tech 3341),
//!   gated integrated loudness, loudness range (EBU Tech 3342 at 10 Hz).
//! * **True peak** with ≥ 4× oversampling at every sample rate up to
//!   768 kHz (a Nyquist polyphase interpolator of our own, see
//!   [`true_peak`]), and sample peak.
//! * **ffmpeg's true peak**, modelled ([`ffmpeg_true_peak`]): the reading
//!   of `ffmpeg -af ebur128=peak=true` (resampling to 192 kHz with
//!   libswresample's defaults), to the digits ffmpeg prints, for checking a
//!   master against that peer without running it.
//! * **Statistics**: RMS, crest factor, PLR, DC offset, clipped samples,
//!   stereo correlation; a 10 Hz time series; optionally an averaged
//!   spectrum with third-octave bands ([`spectrum`]).
//!
//! ```
//! use mixmaster_meter::{Meter, MeterOptions};
//!
//! let fs = 48_000;
//! let mut meter = Meter::new(MeterOptions::new(fs, 2)).expect("valid options");
//! // 5 s of a −23 dBFS 1 kHz sine on both channels.
//! let amp = 10f64.powf(-23.0 / 20.0);
//! let tone: Vec<f64> = (0..5 * fs)
//!     .map(|n| amp * (2.0 * std::f64::consts::PI * 1000.0 * f64::from(n) / f64::from(fs)).sin())
//!     .collect();
//! meter.process(&[&tone, &tone]).expect("two channels of equal length");
//! let report = meter.report();
//! assert!((report.integrated_lufs + 23.0).abs() < 0.1);
//! assert!((report.true_peak_dbtp + 23.0).abs() < 0.1);
//! ```
//!
//! # Design
//!
//! * **Block-size invariant.** Input is copied into an internal buffer of
//!   one 10 ms sub-block per channel (non-finite samples replaced by 0.0,
//!   counted, the first position kept); every complete sub-block is
//!   processed as a unit. All sums therefore run over the same blocks in the
//!   same order however the caller splits the stream: reports are
//!   bit-identical for blocks of any size (tested with 1, 7, 64, 4096 and
//!   irregular sizes).
//! * **Sub-block energies.** Each 10 ms sub-block (frames
//!   `floor(k·fs/100) .. floor((k+1)·fs/100)`, so any rate works) yields the
//!   K-weighted energy of every channel, combined with the channel weights.
//!   Momentary is the last 40 sub-blocks, short-term the last 300, gating
//!   blocks are the momentary windows ending on 100 ms boundaries, and the
//!   short-term values on those boundaries feed LRA ([`loudness`],
//!   [`gating`]).
//! * **Mid-stream reports.** [`Meter::report`] describes the input so far
//!   as if the stream ended there (the true-peak interpolator is flushed with
//!   silence; the incomplete final gating block is discarded, as for a
//!   file). It does not disturb the measurement.
//! * **Merging.** [`LoudnessBlocks`] holds the gating-block and short-term
//!   energies plus the sub-blocks at both ends of a programme, so
//!   [`LoudnessBlocks::merge`] can add the windows that straddle the seam: an
//!   album's integrated loudness and LRA are those of one programme (see
//!   [`gating`] for the exact seam semantics).
//! * **Speed.** The K-filter runs two channels per loop in `f64` (the two
//!   recursions share one SIMD register); the true-peak FIR runs in `f32`
//!   over 16 output intervals at a time and skips, exactly, runs whose bound
//!   cannot raise any reported maximum. On one core of the development
//!   machine (AMD EPYC, baseline x86-64 build, shared) the meter takes
//!   about 5–7 ns per 48 kHz stereo frame (`examples/throughput.rs`), 7–9×
//!   less than the `ebur128` crate; `mixmaster meter --json` on the
//!   benchmark's 10-minute 48 kHz/24-bit files took 0.19–0.22 s against
//!   3.4–3.7 s for loudgain and 2.7–2.8 s for ffmpeg `ebur128=peak=true`.
//!
//! Silence measures as −∞ (never NaN); see [`report`] for the conventions
//! of undefined figures, and [`stats`] for RMS, clipping and correlation.
#![forbid(unsafe_code)]

pub mod error;
pub mod ffmpeg_true_peak;
pub mod gating;
pub mod k_weighting;
pub mod loudness;
pub mod meter;
pub mod report;
pub mod spectrum;
pub mod stats;
pub mod true_peak;

pub use error::MeterError;
pub use ffmpeg_true_peak::{FfmpegTruePeak, SwrDesign};
pub use gating::LoudnessBlocks;
pub use k_weighting::KWeighting;
pub use loudness::{SubBlock, default_channel_weights};
pub use meter::{Meter, MeterOptions, MonoMode};
pub use report::{MeterReport, NonFinite, TimeSeries};
pub use spectrum::{Band, Spectrum};
pub use true_peak::Interpolator;

#[cfg(test)]
mod thread_safety {
    /// The CLI meters on its own thread: a meter must be `Send` (and is
    /// `Sync`, having no interior mutability).
    #[test]
    fn meter_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<crate::Meter>();
        check::<crate::FfmpegTruePeak>();
        check::<crate::LoudnessBlocks>();
        check::<crate::MeterReport>();
    }
}

/// Per-kernel timings for optimisation work (no assertions):
/// `cargo test --release -p mixmaster-meter --lib kernel_timing -- --ignored --nocapture`.
#[cfg(test)]
mod kernel_timing {
    use std::hint::black_box;
    use std::time::Instant;

    use crate::k_weighting::{KState, KWeighting, filter_energy_pair};
    use crate::stats::{block_cross, block_stats};
    use crate::true_peak::{Interpolator, PADDING, TruePeakBuffer};

    fn noise(n: usize) -> Vec<f64> {
        let mut s = 0x9e37_79b9_7f4a_7c15u64;
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                ((s >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 0.5
            })
            .collect()
    }

    fn time(name: &str, samples: usize, mut f: impl FnMut()) {
        // MM_KERNEL=<prefix> runs only the kernels whose name starts with it
        // (handy under valgrind --tool=cachegrind for instruction counts).
        if std::env::var("MM_KERNEL").is_ok_and(|only| !name.starts_with(&only)) {
            return;
        }
        let best = (0..5)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed().as_secs_f64()
            })
            .fold(f64::INFINITY, f64::min);
        println!("{name:<36} {:6.3} ns/sample", best * 1e9 / samples as f64);
    }

    #[test]
    #[ignore = "timing, run by hand"]
    fn kernel_timing() {
        const LEN: usize = 480;
        const BLOCKS: usize = 2000;
        let a = noise(LEN);
        let b = noise(LEN + 1)[1..].to_vec();
        let k = KWeighting::for_rate(48_000);
        time(
            "k-weighting pair (per channel-sample)",
            2 * LEN * BLOCKS,
            || {
                let (mut s1, mut s2) = (KState::default(), KState::default());
                for _ in 0..BLOCKS {
                    black_box(filter_energy_pair(
                        &k,
                        [&mut s1, &mut s2],
                        black_box(&a),
                        black_box(&b),
                    ));
                }
            },
        );
        time("block_stats", LEN * BLOCKS, || {
            for _ in 0..BLOCKS {
                black_box(block_stats(black_box(&a)));
            }
        });
        time("block_cross (per frame)", LEN * BLOCKS, || {
            for _ in 0..BLOCKS {
                black_box(block_cross(black_box(&a), black_box(&b)));
            }
        });
        for factor in [4, 8] {
            let ip = Interpolator::new(factor);
            let mut buf = TruePeakBuffer::new(LEN);
            buf.load(&a);
            time(
                &format!("true peak {factor}x, no skip"),
                LEN * BLOCKS,
                || {
                    for _ in 0..BLOCKS {
                        black_box(ip.scan(black_box(buf.samples()), 0, LEN, 0.0));
                    }
                },
            );
        }
        let _ = PADDING;
    }
}
