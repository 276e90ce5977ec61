//! Multiband compressor: a [`Crossover`] splits the signal into 2 to 5
//! bands, each band runs through its own [`Compressor`], and the bands are
//! summed again; optional mid/side operation and a parallel (dry/wet) mix.
//!
//! Signal flow per block:
//!
//! 1. **Mid/side** (option `mid_side`, stereo only): `M = (L + R)/2`,
//!    `S = (L − R)/2`; otherwise the channels are processed as they are
//!    (any count up to [`crate::crossover::MAX_CHANNELS`]).
//! 2. **Split** with a Linkwitz–Riley crossover (LR4 by default, LR2 or LR8)
//!    whose bands sum to an all-pass, or a linear-phase one whose bands sum
//!    to the input delayed by [`Processor::latency_frames`] (see
//!    [`crate::crossover`] for the math).
//! 3. **Dry reference:** the sum of the *uncompressed* bands, i.e. the input
//!    through the crossover's all-pass (minimum-phase kinds) or delay
//!    (linear phase).
//! 4. **Compression per band.** Every band is a complete [`Compressor`]
//!    (peak detector, no lookahead, soft knee): static curve of Giannoulis,
//!    Massberg & Reiss, JAES 60(6), 2012, Eq. (4), smooth-branching
//!    attack/release, 20 ms ramps of threshold, ratio, knee and make-up —
//!    the same code, so a band behaves exactly as the single-band
//!    compressor with the same settings would on the band signal. In
//!    stereo mode the detector of a band is linked over all channels; in
//!    mid/side mode a band has one compressor for mid (`bands`) and an
//!    independent one for side (`side_bands`), so mid/side is chosen
//!    **globally** and set **per band**. `bypass` fades the band's
//!    compressor out over 20 ms (its internal dry/wet), leaving the band
//!    signal as split.
//! 5. **Sum** the bands (wet) and **mix**: `out = (1 − mix)·dry + mix·wet`,
//!    `mix` ramped over 20 ms. The dry signal is the reference of step 3,
//!    not the raw input: it carries the same all-pass phase (or delay) as
//!    the wet path, so a parallel mix never comb-filters, and with the
//!    bands uncompressed the output is that all-pass whatever `mix` is.
//!    With the linear-phase crossover `mix = 0` is the input delayed by the
//!    reported latency (to rounding); with LR it is the input through the
//!    crossover's all-pass (flat magnitude).
//! 6. Decode mid/side: `L = M + S`, `R = M − S`.
//!
//! Latency: 0 for the Linkwitz–Riley kinds, the FIR delay `(N − 1)/2` for
//! the linear-phase crossover.
//!
//! **Parameters** (session-file names; bands are numbered from 1, lowest
//! first, so `band1` … `band5`; crossovers likewise, `crossover1_hz` lies
//! between band 1 and band 2):
//!
//! * `bandN.threshold_db`, `bandN.ratio`, `bandN.knee_db`,
//!   `bandN.attack_ms`, `bandN.release_ms`, `bandN.makeup_db`,
//!   `bandN.bypass` (0 or 1): the band's compressor — both channels linked
//!   in stereo mode, the mid channel in mid/side mode;
//! * `bandN.side.threshold_db` … `bandN.side.bypass`: the side compressor of
//!   band N (mid/side mode only);
//! * `crossoverN_hz`: glides over 20 ms (Linkwitz–Riley only; fixed for the
//!   linear-phase crossover, whose frequencies set the latency);
//! * `mix` (0 ..= 1, i.e. 0–100 % wet).
//!
//! Ranges are the compressor's: threshold −80 ..= 0 dBFS, ratio 1 ..= ∞,
//! knee 0 ..= 24 dB, attack 0 ..= 1000 ms, release 0 ..= 5000 ms, make-up
//! −24 ..= 48 dB.

use mixmaster_core::{CoreError, Processor};

use crate::compressor::{Compressor, CompressorOptions};
use crate::crossover::{
    BandBuffers, Crossover, CrossoverKind, CrossoverOptions, MAX_BANDS, MAX_CHANNELS,
    check_channels,
};
use crate::filter::{check_range, check_sample_rate};
use crate::smoothing::{DEFAULT_SMOOTHING_MS, LinearSmoother, ramp_frames};

/// Fewest bands of the multiband compressor.
pub const MIN_MULTIBAND_BANDS: usize = 2;

/// Parameter names accepted by [`Multiband::set_parameter`](Processor::set_parameter).
pub const MULTIBAND_PARAMETERS: &str = "bandN.threshold_db, bandN.ratio, bandN.knee_db, \
     bandN.attack_ms, bandN.release_ms, bandN.makeup_db, bandN.bypass, bandN.side.<same> \
     (mid/side mode), crossoverN_hz, mix — N from 1 (lowest band)";

/// Per-band fields, in the order of the name tables.
const FIELDS: [&str; 7] = [
    "threshold_db",
    "ratio",
    "knee_db",
    "attack_ms",
    "release_ms",
    "makeup_db",
    "bypass",
];

macro_rules! band_names {
    ($mid:literal; $($b:literal),*) => {[$([
        concat!("band", $b, $mid, "threshold_db"),
        concat!("band", $b, $mid, "ratio"),
        concat!("band", $b, $mid, "knee_db"),
        concat!("band", $b, $mid, "attack_ms"),
        concat!("band", $b, $mid, "release_ms"),
        concat!("band", $b, $mid, "makeup_db"),
        concat!("band", $b, $mid, "bypass"),
    ]),*]};
}

/// `bandN.field` names, for errors that name the band.
const MAIN_NAMES: [[&str; FIELDS.len()]; MAX_BANDS] = band_names!("."; "1", "2", "3", "4", "5");
/// `bandN.side.field` names.
const SIDE_NAMES: [[&str; FIELDS.len()]; MAX_BANDS] =
    band_names!(".side."; "1", "2", "3", "4", "5");

/// The session name of `field` for band `band` (0-based).
fn qualified(field: &str, band: usize, side: bool) -> &'static str {
    let table = if side { &SIDE_NAMES } else { &MAIN_NAMES };
    let i = FIELDS.iter().position(|f| *f == field).unwrap_or(0);
    table[band.min(MAX_BANDS - 1)][i]
}

/// An error of the band's compressor, renamed to the band's field name.
fn qualify(e: CoreError, band: usize, side: bool) -> CoreError {
    match e {
        CoreError::OutOfRange { name, value, range } if FIELDS.contains(&name) => {
            CoreError::OutOfRange {
                name: qualified(name, band, side),
                value,
                range,
            }
        }
        other => other,
    }
}

/// Settings of one band's compressor.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BandOptions {
    /// Threshold in dBFS (−80 ..= 0).
    pub threshold_db: f64,
    /// Ratio (1 ..= ∞; 1 = no compression).
    pub ratio: f64,
    /// Soft-knee width in dB (0 ..= 24).
    pub knee_db: f64,
    /// Attack time constant in ms (0 ..= 1000).
    pub attack_ms: f64,
    /// Release time constant in ms (0 ..= 5000).
    pub release_ms: f64,
    /// Make-up gain in dB (−24 ..= 48).
    pub makeup_db: f64,
    /// Passes the band uncompressed (and without make-up).
    pub bypass: bool,
}

impl Default for BandOptions {
    fn default() -> Self {
        Self {
            threshold_db: -20.0,
            ratio: 2.0,
            knee_db: 6.0,
            attack_ms: 10.0,
            release_ms: 100.0,
            makeup_db: 0.0,
            bypass: false,
        }
    }
}

impl BandOptions {
    /// The single-band compressor settings this band runs with.
    pub fn compressor_options(&self) -> CompressorOptions {
        CompressorOptions {
            threshold_db: self.threshold_db,
            ratio: self.ratio,
            knee_db: self.knee_db,
            attack_ms: self.attack_ms,
            release_ms: self.release_ms,
            makeup_db: self.makeup_db,
            mix: if self.bypass { 0.0 } else { 1.0 },
            ..CompressorOptions::default()
        }
    }
}

/// Settings of [`Multiband`].
#[derive(Debug, Clone, PartialEq)]
pub struct MultibandOptions {
    /// Crossover family (LR4 by default; linear phase adds latency).
    pub crossover: CrossoverKind,
    /// Crossover frequencies, strictly increasing, 20 ..= 20000 Hz;
    /// 1 ..= 4 of them (2 ..= 5 bands).
    pub crossover_hz: Vec<f64>,
    /// One entry per band (`crossover_hz.len() + 1`), lowest first: the
    /// stereo-linked compressor, or the mid one in mid/side mode.
    pub bands: Vec<BandOptions>,
    /// Processes mid and side instead of left and right (2 channels only).
    pub mid_side: bool,
    /// The side compressors in mid/side mode, one per band; empty means
    /// "the same as `bands`". Ignored in stereo mode.
    pub side_bands: Vec<BandOptions>,
    /// Wet share of the output (0 ..= 1).
    pub mix: f64,
}

impl Default for MultibandOptions {
    fn default() -> Self {
        Self {
            crossover: CrossoverKind::Lr4,
            crossover_hz: vec![120.0, 1000.0, 6000.0],
            bands: vec![BandOptions::default(); 4],
            mid_side: false,
            side_bands: Vec::new(),
            mix: 1.0,
        }
    }
}

impl MultibandOptions {
    /// Number of bands.
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

    /// The side settings of band `band` (0-based).
    fn side_band(&self, band: usize) -> BandOptions {
        self.side_bands
            .get(band)
            .copied()
            .unwrap_or(self.bands[band])
    }

    /// Checks every field; the error names the field (`band2.ratio`, …)
    /// and its valid range.
    pub fn validate(&self) -> Result<(), CoreError> {
        self.crossover_options().validate()?;
        let n = self.band_count();
        if !(MIN_MULTIBAND_BANDS..=MAX_BANDS).contains(&n) {
            return Err(CoreError::OutOfRange {
                name: "crossover_hz (count)",
                value: self.crossover_hz.len() as f64,
                range: "1 ..= 4 frequencies (2 ..= 5 bands)",
            });
        }
        if self.bands.len() != n {
            return Err(CoreError::OutOfRange {
                name: "bands (count)",
                value: self.bands.len() as f64,
                range: "one per band: crossover_hz.len() + 1",
            });
        }
        if !self.side_bands.is_empty() && self.side_bands.len() != n {
            return Err(CoreError::OutOfRange {
                name: "side_bands (count)",
                value: self.side_bands.len() as f64,
                range: "empty (same as bands) or one per band: crossover_hz.len() + 1",
            });
        }
        for (k, b) in self.bands.iter().enumerate() {
            b.compressor_options()
                .validate()
                .map_err(|e| qualify(e, k, false))?;
        }
        for (k, b) in self.side_bands.iter().enumerate() {
            b.compressor_options()
                .validate()
                .map_err(|e| qualify(e, k, true))?;
        }
        check_range("mix", self.mix, 0.0, 1.0, "0 ..= 1")
    }
}

/// Multiband compressor; see the module docs.
#[derive(Debug, Clone)]
pub struct Multiband {
    options: MultibandOptions,
    crossover: Crossover,
    /// Per band: the linked (stereo) or mid compressor.
    main: Vec<Compressor>,
    /// Per band: the side compressor (mid/side mode).
    side: Vec<Compressor>,
    bands: BandBuffers,
    /// Input (or M/S) of the current chunk, then the wet sum.
    io: Vec<Vec<f64>>,
    /// The dry reference (sum of the uncompressed bands).
    dry: Vec<Vec<f64>>,
    mix: LinearSmoother,
    channels: usize,
    max_frames: usize,
}

impl Multiband {
    /// A multiband compressor; fails with the field and its range on a bad
    /// setting.
    pub fn new(mut options: MultibandOptions) -> Result<Self, CoreError> {
        options.validate()?;
        if options.mid_side && options.side_bands.is_empty() {
            options.side_bands = options.bands.clone();
        }
        let crossover = Crossover::new(options.crossover_options())?;
        let make = |b: &BandOptions| Compressor::new(b.compressor_options());
        let main = options.bands.iter().map(make).collect::<Result<_, _>>()?;
        let side = if options.mid_side {
            (0..options.band_count())
                .map(|k| make(&options.side_band(k)))
                .collect::<Result<_, _>>()?
        } else {
            Vec::new()
        };
        Ok(Self {
            mix: LinearSmoother::new(options.mix, 1),
            options,
            crossover,
            main,
            side,
            bands: BandBuffers::new(0, 0, 0),
            io: Vec::new(),
            dry: Vec::new(),
            channels: 0,
            max_frames: 0,
        })
    }

    /// The settings (automated values as their targets).
    pub fn options(&self) -> &MultibandOptions {
        &self.options
    }

    /// The crossover (for its band responses and latency).
    pub fn crossover(&self) -> &Crossover {
        &self.crossover
    }

    /// Gain reduction in dB (≥ 0, without make-up) of band `band`
    /// (0-based) at the last processed frame; in mid/side mode the larger
    /// of mid and side.
    pub fn gain_reduction_db(&self, band: usize) -> f64 {
        let main = self
            .main
            .get(band)
            .map_or(0.0, Compressor::gain_reduction_db);
        let side = self
            .side
            .get(band)
            .map_or(0.0, Compressor::gain_reduction_db);
        main.max(side)
    }

    fn run_chunk(&mut self, block: &mut [&mut [f64]], start: usize, n: usize) {
        let channels = self.channels;
        let ms = self.options.mid_side;
        if ms {
            for i in 0..n {
                let (l, r) = (block[0][start + i], block[1][start + i]);
                self.io[0][i] = 0.5 * (l + r);
                self.io[1][i] = 0.5 * (l - r);
            }
        } else {
            for (io, ch) in self.io.iter_mut().zip(block.iter()) {
                io[..n].copy_from_slice(&ch[start..start + n]);
            }
        }
        {
            let mut input: [&[f64]; MAX_CHANNELS] = [&[]; MAX_CHANNELS];
            for (slot, io) in input.iter_mut().zip(&self.io) {
                *slot = &io[..n];
            }
            self.crossover.split(&input[..channels], &mut self.bands);
        }
        self.bands.sum_into(&mut self.dry);
        for (k, main) in self.main.iter_mut().enumerate() {
            if ms {
                let side = &mut self.side[k];
                self.bands.with_band(k, |block| {
                    let (m, s) = block.split_at_mut(1);
                    main.process(m);
                    side.process(s);
                });
            } else {
                self.bands.with_band(k, |block| main.process(block));
            }
        }
        self.bands.sum_into(&mut self.io);
        if self.mix.is_ramping() || self.mix.current() != 1.0 {
            for i in 0..n {
                let m = self.mix.next_value();
                for (wet, dry) in self.io.iter_mut().zip(&self.dry) {
                    wet[i] = (1.0 - m) * dry[i] + m * wet[i];
                }
            }
        }
        if ms {
            for i in 0..n {
                let (m, s) = (self.io[0][i], self.io[1][i]);
                block[0][start + i] = m + s;
                block[1][start + i] = m - s;
            }
        } else {
            for (io, ch) in self.io.iter().zip(block.iter_mut()) {
                ch[start..start + n].copy_from_slice(&io[..n]);
            }
        }
    }

    fn set_band_parameter(
        &mut self,
        band: usize,
        side: bool,
        field: &str,
        value: f64,
    ) -> Result<(), CoreError> {
        let comp = if side {
            &mut self.side[band]
        } else {
            &mut self.main[band]
        };
        if field == "bypass" {
            if value != 0.0 && value != 1.0 {
                return Err(CoreError::OutOfRange {
                    name: qualified("bypass", band, side),
                    value,
                    range: "0 (off) or 1 (on)",
                });
            }
            comp.set_parameter("mix", 1.0 - value)?;
        } else {
            comp.set_parameter(field, value)
                .map_err(|e| qualify(e, band, side))?;
        }
        let o = &mut self.options;
        let b = if side {
            &mut o.side_bands[band]
        } else {
            &mut o.bands[band]
        };
        match field {
            "threshold_db" => b.threshold_db = value,
            "ratio" => b.ratio = value,
            "knee_db" => b.knee_db = value,
            "attack_ms" => b.attack_ms = value,
            "release_ms" => b.release_ms = value,
            "makeup_db" => b.makeup_db = value,
            _ => b.bypass = value == 1.0,
        }
        Ok(())
    }

    fn unknown(name: &str) -> CoreError {
        CoreError::UnknownParameter {
            name: name.to_string(),
            valid: MULTIBAND_PARAMETERS.to_string(),
        }
    }
}

/// Parses `N` of a 1-based `N…` prefix (`band2.` → 1); `None` if out of
/// `1 ..= count`.
pub(crate) fn parse_index(digits: &str, count: usize) -> Option<usize> {
    let n: usize = digits.parse().ok()?;
    (1..=count).contains(&n).then(|| n - 1)
}

impl Processor for Multiband {
    fn prepare(
        &mut self,
        sample_rate_hz: u32,
        max_block_frames: usize,
        channels: usize,
    ) -> Result<(), CoreError> {
        check_sample_rate(sample_rate_hz)?;
        check_channels(channels)?;
        if self.options.mid_side && channels != 2 {
            return Err(CoreError::ChannelCount {
                got: channels,
                expected: 2,
            });
        }
        let max = max_block_frames.max(1);
        self.crossover.prepare(sample_rate_hz, max, channels)?;
        let per_band = if self.options.mid_side { 1 } else { channels };
        for c in self.main.iter_mut().chain(&mut self.side) {
            c.prepare(sample_rate_hz, max, per_band)?;
        }
        self.bands = self.crossover.make_buffers();
        self.io = vec![vec![0.0; max]; channels];
        self.dry = vec![vec![0.0; max]; channels];
        self.mix = LinearSmoother::new(
            self.options.mix,
            ramp_frames(DEFAULT_SMOOTHING_MS, sample_rate_hz),
        );
        self.channels = channels;
        self.max_frames = max;
        self.reset();
        Ok(())
    }

    fn process(&mut self, block: &mut [&mut [f64]]) {
        if self.channels == 0 || block.len() < self.channels {
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
        self.crossover.reset();
        for c in self.main.iter_mut().chain(&mut self.side) {
            c.reset();
        }
        self.mix.set_immediate(self.options.mix);
    }

    fn latency_frames(&self) -> usize {
        self.crossover.latency_frames()
    }

    fn tail_frames(&self) -> usize {
        self.crossover.tail_frames()
    }

    /// See the module docs for the names. Threshold, ratio, knee, make-up,
    /// bypass and mix ramp over 20 ms; attack and release take effect at
    /// once; crossover frequencies glide over 20 ms.
    fn set_parameter(&mut self, name: &str, value: f64) -> Result<(), CoreError> {
        if name == "mix" {
            check_range("mix", value, 0.0, 1.0, "0 ..= 1")?;
            self.options.mix = value;
            self.mix.set_target(value);
            return Ok(());
        }
        let count = self.options.band_count();
        if let Some(index) = name
            .strip_prefix("crossover")
            .and_then(|r| r.strip_suffix("_hz"))
        {
            let j = parse_index(index, count - 1).ok_or_else(|| Self::unknown(name))?;
            self.crossover.set_frequency(j, value)?;
            self.options.crossover_hz[j] = value;
            return Ok(());
        }
        let Some((index, rest)) = name.strip_prefix("band").and_then(|r| r.split_once('.')) else {
            return Err(Self::unknown(name));
        };
        let band = parse_index(index, count).ok_or_else(|| Self::unknown(name))?;
        let (side, field) = match rest.strip_prefix("side.") {
            Some(field) => (true, field),
            None => (false, rest),
        };
        if !FIELDS.contains(&field) {
            return Err(Self::unknown(name));
        }
        if side && !self.options.mid_side {
            return Err(CoreError::UnknownParameter {
                name: name.to_string(),
                valid: format!(
                    "bandN.side.* exists in mid/side mode only (mid_side = true); \
                     valid: {MULTIBAND_PARAMETERS}"
                ),
            });
        }
        self.set_band_parameter(band, side, field, value)
    }
}
