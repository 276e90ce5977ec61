//! Long FIR filters by FFT, for offline and mastering use: uniformly
//! partitioned overlap-save convolution in which **every** partition, the
//! first included, runs in the frequency domain, at the price of one
//! partition of latency.
//!
//! [`Convolution`](crate::Convolution) adds no latency: it runs the first
//! partition as a direct-form FIR, `B` multiply-adds per frame (256 for a
//! 16 383-tap filter), and treats every frame one at a time (pre-delay, wet
//! mix). A linear-phase equaliser already delays its output by `(N − 1)/2`
//! frames, so a little more costs nothing that latency compensation does not
//! already handle, and the whole filter can run in the frequency domain:
//!
//! * the FIR `h` (length `L`) is cut into `P = ⌈L/B⌉` partitions of `B`
//!   frames ([`default_partition_frames`]: half the power of two at or above
//!   `L`, 64 ..= 8192, so `P` is 2 for the usual lengths);
//! * input is collected in partitions of `B` frames; when one completes, its
//!   `2B`-point spectrum (with the previous partition, overlap-save) joins a
//!   delay line of the last `P` spectra, `Y = Σ_p X_{m−p}·H_p`, and the last
//!   `B` points of `IFFT(Y)` are the linear convolution of the partition
//!   just completed — emitted while the next partition comes in.
//!
//! So `out[n] = Σ_k h[k]·in[n − B − k]`: the exact linear convolution
//! delayed by exactly [`FftFir::latency_frames`] = `B`. The work happens at
//! fixed input positions, so the output is bit-identical for any host block
//! size. Cost per frame and route ≈ two FFTs of `2B` points per `B` frames
//! (`≈ 6·log₂(2B)` flops) plus `P` complex multiply-adds.
//!
//! Layouts as in [`Convolution`](crate::Convolution): 1 FIR (on every
//! channel), 2 (FIR `c` on channel `c` of a stereo signal), or 4, the full
//! 2×2 system (`L→L, L→R, R→L, R→R`).

use std::fmt;
use std::sync::Arc;

use mixmaster_core::CoreError;
use realfft::num_complex::Complex;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};

/// Partition sizes accepted.
pub const PARTITION_RANGE: (usize, usize) = (16, 1 << 16);

/// The default partition for an FIR of `taps`: half the power of two at or
/// above `taps`, clamped to 64 ..= 8192 (two partitions up to 16 384 taps).
pub fn default_partition_frames(taps: usize) -> usize {
    (taps.max(2).next_power_of_two() / 2).clamp(64, 8192)
}

/// One input → output path through one FIR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Route {
    input: usize,
    output: usize,
    fir: usize,
}

/// Uniformly partitioned FFT FIR with one partition of latency; see the
/// module docs.
#[derive(Clone)]
pub struct FftFir {
    block: usize,
    parts: usize,
    /// Spectra of the partitions `0 .. P` of each FIR.
    spectra: Vec<Vec<Vec<Complex<f64>>>>,
    routes: Vec<Route>,
    /// Per input channel: the previous and the current partition, `2B`.
    xbuf: Vec<Vec<f64>>,
    /// Per input channel: spectra of the last `P` input partitions (a ring).
    fdl: Vec<Vec<Vec<Complex<f64>>>>,
    newest: usize,
    /// Per output channel: the output partition being emitted, `B`.
    ready: Vec<Vec<f64>>,
    acc: Vec<Complex<f64>>,
    pos: usize,
    forward: Arc<dyn RealToComplex<f64>>,
    inverse: Arc<dyn ComplexToReal<f64>>,
    time: Vec<f64>,
    scratch_fwd: Vec<Complex<f64>>,
    scratch_inv: Vec<Complex<f64>>,
}

impl fmt::Debug for FftFir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FftFir")
            .field("block", &self.block)
            .field("parts", &self.parts)
            .field("routes", &self.routes)
            .finish_non_exhaustive()
    }
}

impl FftFir {
    /// A filter of `firs` (1, 2 or 4 of equal length ≥ 1, finite) for
    /// `channels` channels (1 FIR: any count; 2 or 4: stereo), with
    /// partitions of `partition_frames` (a power of two in
    /// [`PARTITION_RANGE`]; `None`: [`default_partition_frames`]).
    /// Allocates.
    pub fn new<S: AsRef<[f64]>>(
        firs: &[S],
        channels: usize,
        partition_frames: Option<usize>,
    ) -> Result<Self, CoreError> {
        let taps = mixmaster_core::buffer::check_planar(firs)?;
        if taps == 0 {
            return Err(CoreError::OutOfRange {
                name: "fir_taps",
                value: 0.0,
                range: "at least 1",
            });
        }
        if let Some(bad) = firs
            .iter()
            .flat_map(|h| h.as_ref().iter())
            .find(|v| !v.is_finite())
        {
            return Err(CoreError::OutOfRange {
                name: "fir tap",
                value: *bad,
                range: "finite values",
            });
        }
        let route = |input, output, fir| Route { input, output, fir };
        let routes = match (firs.len(), channels) {
            (_, 0) => {
                return Err(CoreError::ChannelCount {
                    got: 0,
                    expected: 1,
                });
            }
            (1, _) => (0..channels).map(|c| route(c, c, 0)).collect(),
            (2, 2) => vec![route(0, 0, 0), route(1, 1, 1)],
            (4, 2) => vec![
                route(0, 0, 0),
                route(0, 1, 1),
                route(1, 0, 2),
                route(1, 1, 3),
            ],
            (2 | 4, _) => {
                return Err(CoreError::ChannelCount {
                    got: channels,
                    expected: 2,
                });
            }
            (n, _) => {
                return Err(CoreError::OutOfRange {
                    name: "fir_count",
                    value: n as f64,
                    range: "1, 2 (stereo) or 4 (2×2 system)",
                });
            }
        };
        let b = partition_frames.unwrap_or_else(|| default_partition_frames(taps));
        if !b.is_power_of_two() || b < PARTITION_RANGE.0 || b > PARTITION_RANGE.1 {
            return Err(CoreError::OutOfRange {
                name: "partition_frames",
                value: b as f64,
                range: "a power of two in 16 ..= 65536",
            });
        }
        let parts = taps.div_ceil(b);
        let mut planner = RealFftPlanner::<f64>::new();
        let forward = planner.plan_fft_forward(2 * b);
        let inverse = planner.plan_fft_inverse(2 * b);
        let mut time = forward.make_input_vec();
        let mut scratch_fwd = forward.make_scratch_vec();
        let spectra = firs
            .iter()
            .map(|h| {
                let h = h.as_ref();
                (0..parts)
                    .map(|p| {
                        time.fill(0.0);
                        let seg = &h[p * b..((p + 1) * b).min(taps)];
                        time[..seg.len()].copy_from_slice(seg);
                        let mut spectrum = forward.make_output_vec();
                        let result = forward.process_with_scratch(
                            &mut time,
                            &mut spectrum,
                            &mut scratch_fwd,
                        );
                        debug_assert!(result.is_ok(), "FFT lengths match their plans");
                        spectrum
                    })
                    .collect()
            })
            .collect();
        let bins = b + 1;
        Ok(Self {
            block: b,
            parts,
            spectra,
            routes,
            xbuf: vec![vec![0.0; 2 * b]; channels],
            fdl: vec![vec![vec![Complex::new(0.0, 0.0); bins]; parts]; channels],
            newest: 0,
            ready: vec![vec![0.0; b]; channels],
            acc: vec![Complex::new(0.0, 0.0); bins],
            pos: 0,
            scratch_inv: inverse.make_scratch_vec(),
            forward,
            inverse,
            time,
            scratch_fwd,
        })
    }

    /// The delay added to the FIR's own response: the partition size `B`.
    pub fn latency_frames(&self) -> usize {
        self.block
    }

    /// Channels processed.
    pub fn channels(&self) -> usize {
        self.xbuf.len()
    }

    /// Filters `block` (one slice per channel, equal lengths) in place.
    pub fn process(&mut self, block: &mut [&mut [f64]]) {
        let channels = self.xbuf.len();
        if block.len() < channels {
            return;
        }
        let frames = block[0].len();
        let b = self.block;
        let mut done = 0;
        while done < frames {
            let n = (b - self.pos).min(frames - done);
            let (pos, end) = (self.pos, self.pos + n);
            for ((channel, x), ready) in block.iter_mut().zip(&mut self.xbuf).zip(&self.ready) {
                let io = &mut channel[done..done + n];
                x[b + pos..b + end].copy_from_slice(io);
                io.copy_from_slice(&ready[pos..end]);
            }
            self.pos = end;
            done += n;
            if self.pos == b {
                self.pos = 0;
                self.advance();
            }
        }
    }

    /// A partition of input is complete: its spectrum, and the output of the
    /// next `B` frames.
    fn advance(&mut self) {
        let b = self.block;
        let p_count = self.parts;
        self.newest = (self.newest + 1) % p_count;
        for (x, fdl) in self.xbuf.iter_mut().zip(&mut self.fdl) {
            self.time.copy_from_slice(x);
            let result = self.forward.process_with_scratch(
                &mut self.time,
                &mut fdl[self.newest],
                &mut self.scratch_fwd,
            );
            debug_assert!(result.is_ok(), "FFT lengths match their plans");
            x.copy_within(b.., 0);
        }
        let scale = 1.0 / (2 * b) as f64;
        for output in 0..self.ready.len() {
            self.acc.fill(Complex::new(0.0, 0.0));
            for route in self.routes.iter().filter(|r| r.output == output) {
                let fdl = &self.fdl[route.input];
                for (p, h) in self.spectra[route.fir].iter().enumerate() {
                    let x = &fdl[(self.newest + p_count - p) % p_count];
                    for ((a, x), h) in self.acc.iter_mut().zip(x).zip(h) {
                        *a += x * h;
                    }
                }
            }
            // Real signals: the DC and Nyquist bins are real.
            self.acc[0].im = 0.0;
            self.acc[b].im = 0.0;
            let result = self.inverse.process_with_scratch(
                &mut self.acc,
                &mut self.time,
                &mut self.scratch_inv,
            );
            debug_assert!(result.is_ok(), "FFT lengths match their plans");
            for (r, y) in self.ready[output].iter_mut().zip(&self.time[b..]) {
                *r = y * scale;
            }
        }
    }

    /// Clears the signal history (the output is silence for `B` frames).
    pub fn reset(&mut self) {
        self.xbuf.iter_mut().for_each(|x| x.fill(0.0));
        for fdl in &mut self.fdl {
            fdl.iter_mut().for_each(|s| s.fill(Complex::new(0.0, 0.0)));
        }
        self.ready.iter_mut().for_each(|r| r.fill(0.0));
        self.newest = 0;
        self.pos = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SplitMix64;

    fn direct(h: &[f64], x: &[f64], delay: usize) -> Vec<f64> {
        (0..x.len())
            .map(|n| {
                (0..h.len())
                    .filter(|&k| n >= delay + k)
                    .map(|k| h[k] * x[n - delay - k])
                    .sum()
            })
            .collect()
    }

    #[test]
    fn equals_the_direct_convolution_delayed_by_one_partition_for_any_block() {
        let mut rng = SplitMix64::new(9);
        for taps in [1usize, 5, 64, 100, 257, 1000] {
            let h: Vec<f64> = (0..taps).map(|_| rng.next_f64() - 0.5).collect();
            let x: Vec<Vec<f64>> = (0..2)
                .map(|_| (0..3000).map(|_| rng.next_f64() - 0.5).collect())
                .collect();
            for partition in [None, Some(16), Some(128)] {
                let mut reference: Option<Vec<Vec<f64>>> = None;
                for block in [1usize, 7, 64, 1000, 3000] {
                    let mut fir = FftFir::new(&[&h], 2, partition).unwrap();
                    let d = fir.latency_frames();
                    let mut y = x.clone();
                    for start in (0..3000).step_by(block) {
                        let end = (start + block).min(3000);
                        let (l, r) = y.split_at_mut(1);
                        fir.process(&mut [&mut l[0][start..end], &mut r[0][start..end]]);
                    }
                    for c in 0..2 {
                        let want = direct(&h, &x[c], d);
                        let err = want
                            .iter()
                            .zip(&y[c])
                            .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
                        assert!(err < 1e-12, "taps {taps} B {d} block {block}: {err:e}");
                    }
                    match &reference {
                        None => reference = Some(y),
                        Some(r) => assert!(*r == y, "block {block} changed the output"),
                    }
                }
            }
        }
    }

    #[test]
    fn the_2x2_system_crosses_channels() {
        let h = [
            vec![1.0, 0.5],
            vec![0.25, 0.0],
            vec![0.0, 0.125],
            vec![2.0, 0.0],
        ];
        let mut fir = FftFir::new(&h, 2, Some(16)).unwrap();
        let (mut l, mut r) = (vec![0.0; 64], vec![0.0; 64]);
        l[0] = 1.0;
        r[1] = 1.0;
        fir.process(&mut [&mut l, &mut r]);
        let d = 16;
        // L out = hLL * L + hRL * R; R out = hLR * L + hRR * R.
        assert!((l[d] - 1.0).abs() < 1e-15 && (l[d + 1] - 0.5).abs() < 1e-15);
        assert!((l[d + 2] - 0.125).abs() < 1e-15);
        assert!((r[d] - 0.25).abs() < 1e-15 && (r[d + 1] - 2.0).abs() < 1e-15);
    }

    #[test]
    fn bad_settings_are_refused() {
        assert!(FftFir::new(&[[1.0]], 0, None).is_err());
        assert!(FftFir::new(&[[1.0], [1.0]], 1, None).is_err());
        assert!(FftFir::new(&[[1.0]; 3], 2, None).is_err());
        assert!(FftFir::new(&[[f64::NAN]], 1, None).is_err());
        assert!(FftFir::new(&[[1.0]], 1, Some(100)).is_err());
        assert!(FftFir::new::<[f64; 0]>(&[[]], 1, None).is_err());
    }
}
