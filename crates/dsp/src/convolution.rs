//! Convolution reverb: the input convolved with a measured impulse response
//! (IR), by uniformly partitioned FFT convolution with a direct-form head,
//! so the processor adds **no latency**.
//!
//! The IR `h` (length `L`) is cut into partitions of `B` frames (a power of
//! two, [`ConvolutionOptions::partition_frames`], by default chosen from `L`):
//!
//! * the head `h[0 .. B)` runs as a direct-form FIR, sample by sample;
//! * every later partition `p ≥ 1` runs in the frequency domain by
//!   overlap-save with FFTs of `2B` points and a frequency-domain delay line
//!   of past input spectra (uniformly partitioned overlap-save, "UPOLS":
//!   T. G. Stockham, "High-speed convolution and correlation", AFIPS 1966;
//!   W. G. Gardner, "Efficient Convolution without Input-Output Delay",
//!   JAES 43(3), 1995; F. Wefers, "Partitioned convolution algorithms
//!   for real-time auralization", PhD thesis, RWTH Aachen, 2014).
//!
//! Partition `p` only needs input that is at least `p·B ≥ B` frames old, so
//! when an input partition completes, the FFT part of the *next* `B` output
//! frames can be computed at once: `Y_m = Σ_{p=1}^{P} X_{m−p}·H_p`, the last
//! `B` points of `IFFT(Y_m)`. The head covers the lags below `B`. The sum is
//! the exact linear convolution, with no latency; the work happens at fixed
//! input positions (every `B` frames), so the output does not depend on the
//! host block size — in fact it is bit-identical for any block size.
//!
//! Cost per frame and route ≈ `B` multiply-adds (head) + `4L/B` (spectral
//! products) + two FFTs of `2B` per `B` frames; the default `B` is the power
//! of two nearest to `2√L`, which minimises the first two terms.
//!
//! IR layouts: 1 channel (applied to every channel), 2 channels (channel `c`
//! of the IR to channel `c` of a stereo signal), or 4 channels, true stereo
//! (`L→L, L→R, R→L, R→R`).
//!
//! `out = (1 − mix)·dry + mix·gain·wet`, with `mix` and `gain_db` ramped over
//! [`crate::delay::PARAMETER_RAMP_MS`], and `predelay_ms` applied to the
//! wet path's input with a crossfading tap.

use std::fmt;
use std::sync::Arc;

use mixmaster_core::units::db_to_amplitude;
use mixmaster_core::{CoreError, Processor};
use realfft::num_complex::Complex;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};

use crate::delay::{
    CrossfadeTap, DelayLine, PARAMETER_RAMP_MS, Ramp, TIME_CROSSFADE_MS, check_range,
    ms_to_frames_at_least_one,
};

/// Longest impulse response accepted, in frames (2²⁴, about 350 s at 48 kHz).
pub const MAX_IR_FRAMES: usize = 1 << 24;
/// Longest pre-delay.
pub const MAX_PREDELAY_MS: f64 = 500.0;
/// Partition sizes accepted.
pub const PARTITION_RANGE: (usize, usize) = (16, 16_384);

/// Settings of [`Convolution`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ConvolutionOptions {
    /// Wet share: `out = (1 − mix)·dry + mix·wet`, 0 ..= 1 (1 on a send bus).
    pub mix: f64,
    /// Gain of the wet signal in dB, −60 ..= 24.
    pub gain_db: f64,
    /// Delay before the reverb, 0 ..= 500 ms.
    pub predelay_ms: f64,
    /// Partition size `B`: a power of two, 16 ..= 16384; `None` chooses the
    /// power of two nearest `2√L` (clamped to 64 ..= 4096). Changes only the
    /// cost and the rounding, not the result.
    pub partition_frames: Option<usize>,
}

impl Default for ConvolutionOptions {
    fn default() -> Self {
        Self {
            mix: 0.3,
            gain_db: 0.0,
            predelay_ms: 0.0,
            partition_frames: None,
        }
    }
}

impl ConvolutionOptions {
    /// Checks every field; the error names the field and its valid range.
    pub fn validate(&self) -> Result<(), CoreError> {
        check_range("mix", self.mix, 0.0, 1.0, "0 ..= 1")?;
        check_range("gain_db", self.gain_db, -60.0, 24.0, "-60 ..= 24 dB")?;
        check_range(
            "predelay_ms",
            self.predelay_ms,
            0.0,
            MAX_PREDELAY_MS,
            "0 ..= 500 ms",
        )?;
        if let Some(b) = self.partition_frames
            && (!b.is_power_of_two() || !(PARTITION_RANGE.0..=PARTITION_RANGE.1).contains(&b))
        {
            return Err(CoreError::OutOfRange {
                name: "partition_frames",
                value: b as f64,
                range: "a power of two in 16 ..= 16384",
            });
        }
        Ok(())
    }
}

/// The default partition size for an IR of `ir_frames`: the power of two
/// nearest `2·√L` in the log domain, clamped to 64 ..= 4096.
pub fn default_partition_frames(ir_frames: usize) -> usize {
    let ideal = 2.0 * (ir_frames.max(1) as f64).sqrt();
    let exp = ideal.log2().round().clamp(6.0, 12.0);
    1usize << (exp as u32)
}

/// One input → output path through one IR channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Route {
    input: usize,
    output: usize,
    ir: usize,
}

#[derive(Debug, Clone, Default)]
struct InputState {
    predelay: DelayLine,
    /// Previous and current input partition, `2B` frames (overlap-save).
    xbuf: Vec<f64>,
    /// Spectra of the last `P` input partitions (a ring).
    fdl: Vec<Vec<Complex<f64>>>,
}

#[derive(Debug, Clone, Default)]
struct OutputState {
    /// Spectral accumulator, `B + 1` bins.
    acc: Vec<Complex<f64>>,
    /// FFT part of the current output partition, `B` frames.
    tail: Vec<f64>,
}

#[derive(Clone)]
struct Fft {
    forward: Arc<dyn RealToComplex<f64>>,
    inverse: Arc<dyn ComplexToReal<f64>>,
    time: Vec<f64>,
    scratch_fwd: Vec<Complex<f64>>,
    scratch_inv: Vec<Complex<f64>>,
}

impl fmt::Debug for Fft {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fft")
            .field("len", &self.forward.len())
            .finish_non_exhaustive()
    }
}

/// Convolution reverb; see the module docs.
#[derive(Debug, Clone)]
pub struct Convolution {
    options: ConvolutionOptions,
    ir: Vec<Vec<f64>>,
    ir_sample_rate_hz: u32,
    sample_rate_hz: u32,
    /// Partition size `B`.
    block: usize,
    /// Number of FFT partitions `P` (after the head).
    parts: usize,
    /// The head of each IR channel, reversed, `min(B, L)` taps.
    head_rev: Vec<Vec<f64>>,
    /// Spectra of the partitions `1 ..= P` of each IR channel.
    spectra: Vec<Vec<Vec<Complex<f64>>>>,
    routes: Vec<Route>,
    inputs: Vec<InputState>,
    outputs: Vec<OutputState>,
    fdl_newest: usize,
    fft: Option<Fft>,
    pos: usize,
    dry: Vec<f64>,
    wet: Vec<f64>,
    predelay_tap: CrossfadeTap,
    mix: Ramp,
    gain: Ramp,
    ramp_frames: usize,
}

impl Convolution {
    /// A convolution reverb for an impulse response given as planar
    /// channels (1, 2 or 4 of equal length, at most [`MAX_IR_FRAMES`],
    /// finite samples) recorded at `ir_sample_rate_hz`, which must equal the
    /// rate passed to `prepare` (resample the IR first).
    pub fn new<S: AsRef<[f64]>>(
        ir: &[S],
        ir_sample_rate_hz: u32,
        options: ConvolutionOptions,
    ) -> Result<Self, CoreError> {
        options.validate()?;
        if ![1, 2, 4].contains(&ir.len()) {
            return Err(CoreError::OutOfRange {
                name: "ir_channels",
                value: ir.len() as f64,
                range: "1 (mono), 2 (stereo) or 4 (true stereo: LL, LR, RL, RR)",
            });
        }
        let frames = mixmaster_core::buffer::check_planar(ir)?;
        check_range(
            "ir_frames",
            frames as f64,
            1.0,
            MAX_IR_FRAMES as f64,
            "1 ..= 16777216",
        )?;
        for channel in ir {
            if let Some(&bad) = channel.as_ref().iter().find(|x| !x.is_finite()) {
                return Err(CoreError::OutOfRange {
                    name: "ir sample",
                    value: bad,
                    range: "finite values",
                });
            }
        }
        check_range(
            "ir_sample_rate_hz",
            f64::from(ir_sample_rate_hz),
            1.0,
            768_000.0,
            "1 ..= 768000",
        )?;
        let ir: Vec<Vec<f64>> = ir.iter().map(|c| c.as_ref().to_vec()).collect();
        Ok(Self {
            options,
            ir,
            ir_sample_rate_hz,
            sample_rate_hz: 0,
            block: 0,
            parts: 0,
            head_rev: Vec::new(),
            spectra: Vec::new(),
            routes: Vec::new(),
            inputs: Vec::new(),
            outputs: Vec::new(),
            fdl_newest: 0,
            fft: None,
            pos: 0,
            dry: Vec::new(),
            wet: Vec::new(),
            predelay_tap: CrossfadeTap::new(0.0, 1),
            mix: Ramp::new(options.mix),
            gain: Ramp::new(db_to_amplitude(options.gain_db)),
            ramp_frames: 0,
        })
    }

    /// The settings, including changes made with `set_parameter`.
    pub fn options(&self) -> ConvolutionOptions {
        self.options
    }

    /// Length of the impulse response in frames.
    pub fn ir_frames(&self) -> usize {
        self.ir.first().map_or(0, Vec::len)
    }

    /// The partition size `B` in use after `prepare`.
    pub fn partition_frames(&self) -> usize {
        self.block
    }

    fn prepared(&self) -> bool {
        self.sample_rate_hz > 0
    }

    fn predelay_frames(&self) -> f64 {
        self.options.predelay_ms * 1e-3 * f64::from(self.sample_rate_hz)
    }

    fn routes_for(&self, channels: usize) -> Result<Vec<Route>, CoreError> {
        let route = |input, output, ir| Route { input, output, ir };
        match self.ir.len() {
            1 => Ok((0..channels).map(|c| route(c, c, 0)).collect()),
            2 | 4 if channels != 2 => Err(CoreError::ChannelCount {
                got: channels,
                expected: 2,
            }),
            2 => Ok(vec![route(0, 0, 0), route(1, 1, 1)]),
            _ => Ok(vec![
                route(0, 0, 0),
                route(0, 1, 1),
                route(1, 0, 2),
                route(1, 1, 3),
            ]),
        }
    }

    fn snap_state(&mut self) {
        self.predelay_tap.snap(self.predelay_frames());
        self.mix.snap(self.options.mix);
        self.gain.snap(db_to_amplitude(self.options.gain_db));
    }

    /// Called when an input partition is complete: the spectra of the new
    /// partition, and the FFT part of the next `B` output frames.
    fn advance_partition(&mut self) {
        let b = self.block;
        let Some(fft) = self.fft.as_mut() else {
            for input in &mut self.inputs {
                input.xbuf.copy_within(b.., 0);
            }
            return;
        };
        let p_count = self.parts;
        self.fdl_newest = (self.fdl_newest + 1) % p_count;
        for input in &mut self.inputs {
            fft.time.copy_from_slice(&input.xbuf);
            let result = fft.forward.process_with_scratch(
                &mut fft.time,
                &mut input.fdl[self.fdl_newest],
                &mut fft.scratch_fwd,
            );
            debug_assert!(result.is_ok(), "FFT lengths are set in prepare");
            input.xbuf.copy_within(b.., 0);
        }
        for output in &mut self.outputs {
            output.acc.fill(Complex::new(0.0, 0.0));
        }
        for route in &self.routes {
            let acc = &mut self.outputs[route.output].acc;
            let fdl = &self.inputs[route.input].fdl;
            for (p, h) in self.spectra[route.ir].iter().enumerate() {
                // Partition p + 1 multiplies the spectrum of the input
                // partition p + 1 blocks back; the newest is one back.
                let x = &fdl[(self.fdl_newest + p_count - p) % p_count];
                for ((a, x), h) in acc.iter_mut().zip(x).zip(h) {
                    *a += x * h;
                }
            }
        }
        let scale = 1.0 / (2 * b) as f64;
        for output in &mut self.outputs {
            // Real signals: DC and Nyquist bins are real.
            output.acc[0].im = 0.0;
            output.acc[b].im = 0.0;
            let result = fft.inverse.process_with_scratch(
                &mut output.acc,
                &mut fft.time,
                &mut fft.scratch_inv,
            );
            debug_assert!(result.is_ok(), "FFT lengths are set in prepare");
            for (t, y) in output.tail.iter_mut().zip(&fft.time[b..]) {
                *t = y * scale;
            }
        }
    }
}

/// Dot product with four partial sums (a fixed order, so the result does not
/// depend on the block size).
#[inline]
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0; 4];
    let ca = a.chunks_exact(4);
    let cb = b.chunks_exact(4);
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        acc[0] += x[0] * y[0];
        acc[1] += x[1] * y[1];
        acc[2] += x[2] * y[2];
        acc[3] += x[3] * y[3];
    }
    let mut sum = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for (x, y) in ra.iter().zip(rb) {
        sum += x * y;
    }
    sum
}

impl Processor for Convolution {
    fn prepare(
        &mut self,
        sample_rate_hz: u32,
        _max_block_frames: usize,
        channels: usize,
    ) -> Result<(), CoreError> {
        if sample_rate_hz != self.ir_sample_rate_hz {
            return Err(CoreError::OutOfRange {
                name: "ir_sample_rate_hz",
                value: f64::from(self.ir_sample_rate_hz),
                range: "the processing sample rate: resample the impulse response first",
            });
        }
        self.routes = self.routes_for(channels)?;
        self.sample_rate_hz = sample_rate_hz;
        let len = self.ir_frames();
        let b = self
            .options
            .partition_frames
            .unwrap_or_else(|| default_partition_frames(len));
        self.block = b;
        let head = len.min(b);
        self.parts = len.saturating_sub(b).div_ceil(b);
        self.head_rev = self
            .ir
            .iter()
            .map(|h| h[..head].iter().rev().copied().collect())
            .collect();
        let bins = b + 1;
        if self.parts > 0 {
            let mut planner = RealFftPlanner::<f64>::new();
            let forward = planner.plan_fft_forward(2 * b);
            let inverse = planner.plan_fft_inverse(2 * b);
            let mut time = forward.make_input_vec();
            let mut scratch_fwd = forward.make_scratch_vec();
            self.spectra = self
                .ir
                .iter()
                .map(|h| {
                    (1..=self.parts)
                        .map(|p| {
                            time.fill(0.0);
                            let seg = &h[p * b..((p + 1) * b).min(len)];
                            time[..seg.len()].copy_from_slice(seg);
                            let mut spectrum = forward.make_output_vec();
                            let result = forward.process_with_scratch(
                                &mut time,
                                &mut spectrum,
                                &mut scratch_fwd,
                            );
                            debug_assert!(result.is_ok());
                            spectrum
                        })
                        .collect()
                })
                .collect();
            self.fft = Some(Fft {
                scratch_inv: inverse.make_scratch_vec(),
                forward,
                inverse,
                time,
                scratch_fwd,
            });
        } else {
            self.spectra = self.ir.iter().map(|_| Vec::new()).collect();
            self.fft = None;
        }
        let fs = f64::from(sample_rate_hz);
        let predelay_max = (MAX_PREDELAY_MS * 1e-3 * fs).ceil() as usize + 2;
        self.inputs = (0..channels)
            .map(|_| InputState {
                predelay: DelayLine::new(predelay_max),
                xbuf: vec![0.0; 2 * b],
                fdl: vec![vec![Complex::new(0.0, 0.0); bins]; self.parts],
            })
            .collect();
        self.outputs = (0..channels)
            .map(|_| OutputState {
                acc: vec![Complex::new(0.0, 0.0); bins],
                tail: vec![0.0; b],
            })
            .collect();
        self.fdl_newest = 0;
        self.pos = 0;
        self.dry = vec![0.0; channels];
        self.wet = vec![0.0; channels];
        self.predelay_tap = CrossfadeTap::new(
            0.0,
            ms_to_frames_at_least_one(TIME_CROSSFADE_MS, sample_rate_hz),
        );
        self.ramp_frames = ms_to_frames_at_least_one(PARAMETER_RAMP_MS, sample_rate_hz);
        self.snap_state();
        Ok(())
    }

    // Frames are the outer loop (the channels interact within a frame), so
    // `block` is indexed by channel and frame.
    #[allow(clippy::needless_range_loop)]
    fn process(&mut self, block: &mut [&mut [f64]]) {
        let channels = self.inputs.len();
        if channels == 0 || block.len() < channels {
            return;
        }
        let b = self.block;
        let frames = block[0].len();
        for i in 0..frames {
            let mix = self.mix.next_value();
            let gain = self.gain.next_value();
            let (d_old, d_new, w) = self.predelay_tap.tick();
            let pos = self.pos;
            for (c, input) in self.inputs.iter_mut().enumerate() {
                let x = block[c][i];
                self.dry[c] = x;
                input.predelay.push(x);
                let old = input.predelay.read_hermite(d_old);
                input.xbuf[b + pos] = if w == 0.0 {
                    old
                } else {
                    (1.0 - w) * old + w * input.predelay.read_hermite(d_new)
                };
            }
            for (wet, output) in self.wet.iter_mut().zip(&self.outputs) {
                *wet = output.tail[pos];
            }
            for route in &self.routes {
                let h = &self.head_rev[route.ir];
                let x = &self.inputs[route.input].xbuf[b + pos + 1 - h.len()..=b + pos];
                self.wet[route.output] += dot(h, x);
            }
            for c in 0..channels {
                block[c][i] = (1.0 - mix) * self.dry[c] + mix * (gain * self.wet[c]);
            }
            self.pos += 1;
            if self.pos == b {
                self.pos = 0;
                self.advance_partition();
            }
        }
    }

    fn reset(&mut self) {
        for input in &mut self.inputs {
            input.predelay.clear();
            input.xbuf.fill(0.0);
            for spectrum in &mut input.fdl {
                spectrum.fill(Complex::new(0.0, 0.0));
            }
        }
        for output in &mut self.outputs {
            output.tail.fill(0.0);
        }
        self.fdl_newest = 0;
        self.pos = 0;
        if self.prepared() {
            self.snap_state();
        }
    }

    /// The IR length plus the pre-delay.
    fn tail_frames(&self) -> usize {
        self.ir_frames() + self.predelay_tap.max_delay().ceil() as usize
    }

    fn set_parameter(&mut self, name: &str, value: f64) -> Result<(), CoreError> {
        let mut next = self.options;
        match name {
            "mix" => next.mix = value,
            "gain_db" => next.gain_db = value,
            "predelay_ms" => next.predelay_ms = value,
            _ => {
                return Err(CoreError::UnknownParameter {
                    name: name.to_string(),
                    valid: "mix, gain_db, predelay_ms".into(),
                });
            }
        }
        next.validate()?;
        self.options = next;
        if self.prepared() {
            let n = self.ramp_frames;
            self.mix.set(next.mix, n);
            self.gain.set(db_to_amplitude(next.gain_db), n);
            self.predelay_tap.set_target(self.predelay_frames());
        }
        Ok(())
    }
}
