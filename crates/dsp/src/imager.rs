//! Stereo imager: stereo width per band and a bass mono-maker.
//!
//! Mid/side (MASTERING_NOTES §3.4): `M = (L + R)/2`, `S = (L − R)/2`, and
//! back `L = M + S`, `R = M − S`. Width scales the side: `S' = w·S`, so
//! `w = 0` is mono (`L = R` exactly), 1 leaves the image as it is and 2
//! doubles the side.
//!
//! Two stages in series, each splitting **both** M and S with the same
//! [`Crossover`] so that mid and side keep the same phase (the same
//! all-pass, or the same delay):
//!
//! 1. **Mono below** `mono_below_hz` (optional, "bass mono", the digital
//!    elliptical EQ of vinyl cutting): a two-band crossover at that
//!    frequency; the mid is the sum of its two bands (its all-pass), the
//!    side keeps its high band only. The default filter is LR8
//!    (48 dB/oct), which puts the side −48 dB one octave below the
//!    frequency (LR4 would give only −25 dB there); LR4, LR2 or linear
//!    phase can be chosen with `mono_crossover`.
//! 2. **Width per band**: a 1- to 5-band crossover at `crossover_hz`;
//!    `M' = Σ M_k`, `S' = Σ w_k·S_k`. With every `w_k = 1` the output is
//!    the input through the crossovers' all-passes: magnitude flat (a pure
//!    delay with linear-phase crossovers). A width change ramps linearly
//!    over 20 ms.
//!
//! No loudness compensation: widening raises the side energy, and the
//! level is left for the user (or a later loudness stage) to judge.
//!
//! Latency: the sum of the two stages' latencies (0 with Linkwitz–Riley).
//!
//! **Parameters:** `bandN.width` (0 ..= 2; N from 1, lowest band first),
//! `crossoverN_hz` (glides over 20 ms; fixed for linear phase),
//! `mono_below_hz` (20 ..= 1000 Hz, glides; only when the mono stage was
//! switched on in the options, since the stage's presence sets the
//! latency and phase).

use mixmaster_core::{CoreError, Processor};

use crate::crossover::{
    BandBuffers, Crossover, CrossoverKind, CrossoverOptions, MAX_BANDS, MAX_CROSSOVER_FRACTION,
};
use crate::filter::{check_range, check_sample_rate};
use crate::multiband::parse_index;
use crate::smoothing::{DEFAULT_SMOOTHING_MS, LinearSmoother, ramp_frames};

/// Parameter names accepted by [`Imager::set_parameter`](Processor::set_parameter).
pub const IMAGER_PARAMETERS: &str =
    "bandN.width (N from 1, lowest band), crossoverN_hz, mono_below_hz";

/// Lowest and highest `mono_below_hz`.
pub const MONO_BELOW_RANGE_HZ: (f64, f64) = (20.0, 1000.0);

const WIDTH_NAMES: [&str; MAX_BANDS] = [
    "band1.width",
    "band2.width",
    "band3.width",
    "band4.width",
    "band5.width",
];

/// Settings of [`Imager`].
#[derive(Debug, Clone, PartialEq)]
pub struct ImagerOptions {
    /// Crossover family of the width bands.
    pub crossover: CrossoverKind,
    /// Crossover frequencies of the width bands, strictly increasing,
    /// 20 ..= 20000 Hz; 0 ..= 4 of them (1 ..= 5 bands).
    pub crossover_hz: Vec<f64>,
    /// Width per band (0 ..= 2), lowest first; one per band.
    pub widths: Vec<f64>,
    /// Makes the side silent below this frequency (20 ..= 1000 Hz);
    /// `None` = no mono stage.
    pub mono_below_hz: Option<f64>,
    /// Crossover family of the mono stage (LR8 by default).
    pub mono_crossover: CrossoverKind,
}

impl Default for ImagerOptions {
    fn default() -> Self {
        Self {
            crossover: CrossoverKind::Lr4,
            crossover_hz: vec![250.0, 4000.0],
            widths: vec![1.0; 3],
            mono_below_hz: None,
            mono_crossover: CrossoverKind::Lr8,
        }
    }
}

fn check_width(band: usize, value: f64) -> Result<(), CoreError> {
    check_range(WIDTH_NAMES[band], value, 0.0, 2.0, "0 ..= 2")
}

fn check_mono_below(value: f64) -> Result<(), CoreError> {
    check_range(
        "mono_below_hz",
        value,
        MONO_BELOW_RANGE_HZ.0,
        MONO_BELOW_RANGE_HZ.1,
        "20 ..= 1000 Hz",
    )
}

impl ImagerOptions {
    /// Number of width bands.
    pub fn band_count(&self) -> usize {
        self.crossover_hz.len() + 1
    }

    fn crossover_options(&self) -> CrossoverOptions {
        CrossoverOptions {
            kind: self.crossover,
            crossover_hz: self.crossover_hz.clone(),
            smoothing_ms: DEFAULT_SMOOTHING_MS,
        }
    }

    fn mono_options(&self) -> Option<CrossoverOptions> {
        self.mono_below_hz.map(|f| CrossoverOptions {
            kind: self.mono_crossover,
            crossover_hz: vec![f],
            smoothing_ms: DEFAULT_SMOOTHING_MS,
        })
    }

    /// Checks every field; the error names the field and its valid range.
    pub fn validate(&self) -> Result<(), CoreError> {
        self.crossover_options().validate()?;
        if self.widths.len() != self.band_count() {
            return Err(CoreError::OutOfRange {
                name: "widths (count)",
                value: self.widths.len() as f64,
                range: "one per band: crossover_hz.len() + 1",
            });
        }
        for (k, &w) in self.widths.iter().enumerate() {
            check_width(k, w)?;
        }
        if let Some(f) = self.mono_below_hz {
            check_mono_below(f)?;
        }
        Ok(())
    }
}

/// The crossover of one stage with its buffers.
#[derive(Debug, Clone)]
struct Stage {
    crossover: Crossover,
    bands: BandBuffers,
}

impl Stage {
    fn new(options: CrossoverOptions) -> Result<Self, CoreError> {
        Ok(Self {
            crossover: Crossover::new(options)?,
            bands: BandBuffers::new(0, 0, 0),
        })
    }

    fn prepare(&mut self, sample_rate_hz: u32, max: usize) -> Result<(), CoreError> {
        self.crossover.prepare(sample_rate_hz, max, 2)?;
        self.bands = self.crossover.make_buffers();
        Ok(())
    }

    fn split(&mut self, ms: &[Vec<f64>], n: usize) {
        let input = [&ms[0][..n], &ms[1][..n]];
        self.crossover.split(&input, &mut self.bands);
    }
}

/// Stereo imager; see the module docs.
#[derive(Debug, Clone)]
pub struct Imager {
    options: ImagerOptions,
    mono: Option<Stage>,
    width: Stage,
    widths: Vec<LinearSmoother>,
    /// Mid and side of the current chunk.
    ms: Vec<Vec<f64>>,
    sample_rate_hz: f64,
    max_frames: usize,
}

impl Imager {
    /// An imager; fails with the field and its range on a bad setting.
    pub fn new(options: ImagerOptions) -> Result<Self, CoreError> {
        options.validate()?;
        let mono = options.mono_options().map(Stage::new).transpose()?;
        let width = Stage::new(options.crossover_options())?;
        Ok(Self {
            widths: options
                .widths
                .iter()
                .map(|&w| LinearSmoother::new(w, 1))
                .collect(),
            options,
            mono,
            width,
            ms: Vec::new(),
            sample_rate_hz: 0.0,
            max_frames: 0,
        })
    }

    /// The settings (automated values as their targets).
    pub fn options(&self) -> &ImagerOptions {
        &self.options
    }

    /// The crossover of the width bands.
    pub fn crossover(&self) -> &Crossover {
        &self.width.crossover
    }

    /// The crossover of the mono stage, when there is one.
    pub fn mono_crossover(&self) -> Option<&Crossover> {
        self.mono.as_ref().map(|s| &s.crossover)
    }

    fn run_chunk(&mut self, block: &mut [&mut [f64]], start: usize, n: usize) {
        for i in 0..n {
            let (l, r) = (block[0][start + i], block[1][start + i]);
            self.ms[0][i] = 0.5 * (l + r);
            self.ms[1][i] = 0.5 * (l - r);
        }
        if let Some(mono) = &mut self.mono {
            mono.split(&self.ms, n);
            let b = &mono.bands;
            for (i, (lo, hi)) in b.band(0, 0).iter().zip(b.band(1, 0)).enumerate() {
                self.ms[0][i] = lo + hi;
            }
            self.ms[1][..n].copy_from_slice(b.band(1, 1));
        }
        self.width.split(&self.ms, n);
        let bands = &self.width.bands;
        bands.sum_into(&mut self.ms[..1]);
        let ramping = self.widths.iter().any(LinearSmoother::is_ramping);
        let side = &mut self.ms[1][..n];
        if ramping {
            for (i, y) in side.iter_mut().enumerate() {
                *y = 0.0;
                for (k, w) in self.widths.iter_mut().enumerate() {
                    *y += w.next_value() * bands.band(k, 1)[i];
                }
            }
        } else {
            for (k, w) in self.widths.iter().enumerate() {
                let w = w.current();
                let s = bands.band(k, 1);
                if k == 0 {
                    side.iter_mut().zip(s).for_each(|(y, x)| *y = w * x);
                } else {
                    side.iter_mut().zip(s).for_each(|(y, x)| *y += w * x);
                }
            }
        }
        for i in 0..n {
            let (m, s) = (self.ms[0][i], self.ms[1][i]);
            block[0][start + i] = m + s;
            block[1][start + i] = m - s;
        }
    }
}

impl Processor for Imager {
    /// Stereo only (2 channels).
    fn prepare(
        &mut self,
        sample_rate_hz: u32,
        max_block_frames: usize,
        channels: usize,
    ) -> Result<(), CoreError> {
        check_sample_rate(sample_rate_hz)?;
        if channels != 2 {
            return Err(CoreError::ChannelCount {
                got: channels,
                expected: 2,
            });
        }
        if let Some(f) = self.options.mono_below_hz {
            check_range(
                "mono_below_hz",
                f,
                MONO_BELOW_RANGE_HZ.0,
                MAX_CROSSOVER_FRACTION * f64::from(sample_rate_hz),
                "20 Hz ..= 0.45 × the sample rate",
            )?;
        }
        let max = max_block_frames.max(1);
        if let Some(mono) = &mut self.mono {
            mono.prepare(sample_rate_hz, max)?;
        }
        self.width.prepare(sample_rate_hz, max)?;
        let ramp = ramp_frames(DEFAULT_SMOOTHING_MS, sample_rate_hz);
        self.widths.iter_mut().for_each(|w| w.set_ramp_frames(ramp));
        self.ms = vec![vec![0.0; max]; 2];
        self.sample_rate_hz = f64::from(sample_rate_hz);
        self.max_frames = max;
        self.reset();
        Ok(())
    }

    fn process(&mut self, block: &mut [&mut [f64]]) {
        if self.max_frames == 0 || block.len() < 2 {
            return;
        }
        let frames = block[0].len();
        let mut start = 0;
        while start < frames {
            let n = self.max_frames.min(frames - start);
            self.run_chunk(block, start, n);
            start += n;
        }
    }

    fn reset(&mut self) {
        if let Some(mono) = &mut self.mono {
            mono.crossover.reset();
        }
        self.width.crossover.reset();
        for (s, &w) in self.widths.iter_mut().zip(&self.options.widths) {
            s.set_immediate(w);
        }
    }

    fn latency_frames(&self) -> usize {
        self.mono
            .as_ref()
            .map_or(0, |m| m.crossover.latency_frames())
            + self.width.crossover.latency_frames()
    }

    fn tail_frames(&self) -> usize {
        self.mono.as_ref().map_or(0, |m| m.crossover.tail_frames())
            + self.width.crossover.tail_frames()
    }

    /// See the module docs for the names. Widths ramp over 20 ms;
    /// frequencies glide over 20 ms.
    fn set_parameter(&mut self, name: &str, value: f64) -> Result<(), CoreError> {
        let unknown = || CoreError::UnknownParameter {
            name: name.to_string(),
            valid: IMAGER_PARAMETERS.to_string(),
        };
        let count = self.options.band_count();
        if name == "mono_below_hz" {
            check_mono_below(value)?;
            let Some(mono) = &mut self.mono else {
                return Err(CoreError::OutOfRange {
                    name: "mono_below_hz",
                    value,
                    range: "no value: the mono stage is off (set mono_below_hz in the options \
                            to switch it on)",
                });
            };
            if self.sample_rate_hz > 0.0 {
                check_range(
                    "mono_below_hz",
                    value,
                    MONO_BELOW_RANGE_HZ.0,
                    MAX_CROSSOVER_FRACTION * self.sample_rate_hz,
                    "20 Hz ..= 0.45 × the sample rate",
                )?;
            }
            mono.crossover
                .set_frequency(0, value)
                .map_err(|e| match e {
                    CoreError::OutOfRange { value, range, .. } => CoreError::OutOfRange {
                        name: "mono_below_hz",
                        value,
                        range,
                    },
                    other => other,
                })?;
            self.options.mono_below_hz = Some(value);
            return Ok(());
        }
        if let Some(index) = name
            .strip_prefix("crossover")
            .and_then(|r| r.strip_suffix("_hz"))
        {
            let j = parse_index(index, count - 1).ok_or_else(unknown)?;
            self.width.crossover.set_frequency(j, value)?;
            self.options.crossover_hz[j] = value;
            return Ok(());
        }
        let band = name
            .strip_prefix("band")
            .and_then(|r| r.strip_suffix(".width"))
            .and_then(|i| parse_index(i, count))
            .ok_or_else(unknown)?;
        check_width(band, value)?;
        self.options.widths[band] = value;
        self.widths[band].set_target(value);
        Ok(())
    }
}
