//! Reference matching (`--reference ref.wav`): tonal balance, stereo width
//! and loudness of a programme matched to a reference track, with an
//! amount, boost/cut limits, and a summary of what was changed.
//!
//! Three steps:
//!
//! 1. **Analysis** ([`Analysis`], streamed by [`Analyzer`] in bounded
//!    memory): the long-term average spectrum of mid `M = (L+R)/2` and side
//!    `S = (L−R)/2` by Welch's method (Hann, 50 % overlap, the meter's
//!    FFT length: 8192 points at 44.1/48 kHz, scaled with the rate so the
//!    bins stay 5.4–5.9 Hz wide), integrated loudness (ITU-R BS.1770-5
//!    via `mixmaster-meter`), correlation and third-octave bands. Each file
//!    is analysed at its own sample rate; everything after this step works
//!    on frequencies in Hz, so no resampling is needed.
//! 2. **Plan** ([`plan`] → [`MatchPlan`]):
//!    * both spectra are smoothed on a log-frequency axis with a Hann window
//!      `smoothing_octaves` wide (equivalent rectangular width; the Hann
//!      spans twice that), sampled every 1/48 octave from `low_hz` to
//!      `high_hz` (fractional-octave smoothing: P. D. Hatziantoniou,
//!      J. N. Mourjopoulos, "Generalized fractional-octave smoothing of audio
//!      and acoustic responses", JAES 48(4), 2000);
//!    * the difference `d(f) = 10·log10(P_ref/P_in)` is **loudness
//!      normalised**: the constant `c` with
//!      `Σ K·P_in·10^((d−c)/10) = Σ K·P_in` (sums over the bins in range,
//!      `K` the BS.1770 K-weighting power response) is removed, so the
//!      unlimited curve changes the tonal balance and not the loudness. Mid
//!      and side each get their own `c`;
//!    * the curve is limited to `−max_cut_db ..= +max_boost_db` with a 1 dB
//!      soft knee (no kink for the FIR to ring on), then scaled by `amount`
//!      (so 50 % is half-way, in dB, between the input and the fully
//!      matched result), and held flat outside `low_hz ..= high_hz`;
//!    * width: the K-weighted side/mid energy ratio in range (dB) of the
//!      reference minus the input's, limited to ±`max_width_db` and scaled
//!      by the width amount ([`MatchPlan::width_change_db`]), applied as a
//!      side gain. Since each curve is loudness-normalised on its own, this
//!      gain alone sets the side/mid balance; where the limits or the amount
//!      leave a curve with a level change, the side gain
//!      ([`MatchPlan::side_trim_db`]) takes it back, so the width changes by
//!      `width_change_db` exactly. Per band, the side curve matches the side
//!      spectrum's shape, which is the per-band width (the "implicit
//!      per-band width" of Matchering, `MASTERING_NOTES.md` §1.2);
//!    * loudness: the reference's integrated loudness becomes the target
//!      for the mastering loop ([`MatchPlan::loudness_target_lufs`]); the
//!      match EQ itself does not change the level.
//! 3. **Processing** ([`MatchPlan::processor`]): the curves become a
//!    [`MatchEq`] — M/S encode, linear-phase FIR per path (the side gain
//!    folded into the side FIR), decode — latency `(N−1)/2` frames.
//!
//! What is not (yet) done: Matchering's "loudest pieces" selection (here
//! the power average already weights loud passages by their energy) and
//! dynamics matching.

use std::path::Path;

use mixmaster_core::units::{db_to_power, power_to_db};
use mixmaster_core::{AudioBuffer, CoreError};
use mixmaster_dsp::match_eq::MAX_GAIN_DB;
use mixmaster_dsp::{GainCurve, MatchEq, MatchEqOptions};
use mixmaster_io::AudioReader;
use mixmaster_meter::{Band, KWeighting, Meter, MeterError, MeterOptions};

use crate::error::EngineError;

/// Frames read per block when a file is analysed.
pub const ANALYSIS_BLOCK_FRAMES: usize = 65_536;
/// Points of the plan's frequency grid per octave.
pub const GRID_POINTS_PER_OCTAVE: f64 = 48.0;
/// Width of the soft knee of the boost and cut limits, in dB.
pub const LIMIT_KNEE_DB: f64 = 1.0;
/// Side below this side/mid ratio (K-weighted, dB) counts as mono: no side
/// curve is derived from it, and an input this narrow gets no side gain.
pub const MONO_SIDE_RATIO_DB: f64 = -60.0;
/// Highest matched frequency as a share of the lower Nyquist frequency of
/// the two files (the anti-alias roll-off of a file starts above it).
pub const HIGH_HZ_NYQUIST_SHARE: f64 = 0.9;
/// Gains smaller than this are "unchanged" in the summary.
pub const SUMMARY_MIN_DB: f64 = 0.5;

/// Mid or side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Component {
    /// `M = (L+R)/2` (or the mono channel).
    Mid,
    /// `S = (L−R)/2`.
    Side,
}

/// The long-term analysis of one programme. See the module docs.
#[derive(Debug, Clone, PartialEq)]
pub struct Analysis {
    /// Sample rate of the analysed audio.
    pub sample_rate_hz: u32,
    /// Channels (1 or 2).
    pub channels: usize,
    /// Frames analysed.
    pub frames: u64,
    /// Integrated loudness (BS.1770-5), −∞ for silence.
    pub integrated_lufs: f64,
    /// L/R correlation, `None` for mono or silence.
    pub correlation: Option<f64>,
    /// FFT length of the spectra.
    pub fft_size: usize,
    /// Welch frames averaged; 0 when the programme is shorter than one.
    pub frames_averaged: u64,
    /// Bin spacing; bin `k` is at `k·bin_hz`.
    pub bin_hz: f64,
    /// Mean power of mid per bin, relative to a full-scale sine in that bin
    /// (the meter's calibration, linear).
    pub mid_power: Vec<f64>,
    /// Mean power of side per bin (zeros for mono).
    pub side_power: Vec<f64>,
    /// The meter's one-third-octave bands (L, R, M, S levels).
    pub third_octave: Vec<Band>,
}

/// Streams audio into an [`Analysis`]; memory does not grow with the
/// length except for the loudness gating blocks (16 bytes per 100 ms).
#[derive(Debug)]
pub struct Analyzer {
    meter: Meter,
}

fn meter_error(e: MeterError) -> CoreError {
    match e {
        MeterError::Core(c) => c,
        other => CoreError::OutOfRange {
            name: "meter option",
            value: f64::NAN,
            range: match other {
                MeterError::FftSize { .. } => "a power of two in 256 ..= 1048576",
                _ => "valid meter options",
            },
        },
    }
}

impl Analyzer {
    /// An analyzer for mono or stereo audio at 8000 ..= 768000 Hz.
    pub fn new(sample_rate_hz: u32, channels: usize) -> Result<Analyzer, CoreError> {
        if !(1..=2).contains(&channels) {
            return Err(CoreError::OutOfRange {
                name: "channels",
                value: channels as f64,
                range: "1 (mono) or 2 (stereo) for reference matching",
            });
        }
        let options = MeterOptions {
            spectrum: true,
            series: false,
            ..MeterOptions::new(sample_rate_hz, channels)
        };
        Ok(Analyzer {
            meter: Meter::new(options).map_err(meter_error)?,
        })
    }

    /// Feeds one planar block (one slice per channel, equal lengths).
    pub fn push<S: AsRef<[f64]>>(&mut self, block: &[S]) -> Result<(), CoreError> {
        self.meter.process(block).map_err(meter_error)
    }

    /// The analysis of everything fed so far.
    pub fn finish(&self) -> Analysis {
        let report = self.meter.report();
        let options = self.meter.options();
        let power = |db: &[f64]| -> Vec<f64> { db.iter().map(|&d| db_to_power(d)).collect() };
        let (fft_size, frames_averaged, bin_hz, mid_power, side_power, third_octave) =
            match report.spectrum {
                Some(s) => (
                    s.fft_size,
                    s.frames_averaged,
                    s.bin_hz,
                    power(&s.mid_db),
                    if options.channels == 2 {
                        power(&s.side_db)
                    } else {
                        vec![0.0; s.side_db.len()]
                    },
                    s.third_octave,
                ),
                None => (0, 0, 0.0, Vec::new(), Vec::new(), Vec::new()),
            };
        Analysis {
            sample_rate_hz: options.sample_rate_hz,
            channels: options.channels,
            frames: report.frames,
            integrated_lufs: report.integrated_lufs,
            correlation: report.correlation,
            fft_size,
            frames_averaged,
            bin_hz,
            mid_power,
            side_power,
            third_octave,
        }
    }
}

impl Analysis {
    /// Analyses planar audio in memory.
    pub fn of_buffer<S: AsRef<[f64]>>(
        channels: &[S],
        sample_rate_hz: u32,
    ) -> Result<Analysis, CoreError> {
        let mut analyzer = Analyzer::new(sample_rate_hz, channels.len())?;
        analyzer.push(channels)?;
        Ok(analyzer.finish())
    }

    /// Analyses a file, streamed in blocks of [`ANALYSIS_BLOCK_FRAMES`].
    ///
    /// # Errors
    /// [`EngineError::Io`] when the file cannot be read or decoded,
    /// [`EngineError::Analysis`] when it is not mono or stereo.
    pub fn of_file(path: &Path) -> Result<Analysis, EngineError> {
        let mut reader = AudioReader::open(path)?;
        let info = reader.info().clone();
        let analysis_error = |e: CoreError| EngineError::Analysis {
            path: path.to_path_buf(),
            message: e.to_string(),
        };
        let mut analyzer =
            Analyzer::new(info.sample_rate_hz, info.channels).map_err(analysis_error)?;
        let mut buf = AudioBuffer::new(info.channels, 0);
        while reader.read(&mut buf, ANALYSIS_BLOCK_FRAMES)? > 0 {
            analyzer.push(buf.planar()).map_err(analysis_error)?;
        }
        Ok(analyzer.finish())
    }

    fn power(&self, component: Component) -> &[f64] {
        match component {
            Component::Mid => &self.mid_power,
            Component::Side => &self.side_power,
        }
    }

    /// Power at `freq_hz`, interpolated linearly between bins; `None` beyond
    /// the last bin.
    fn power_at(&self, power: &[f64], freq_hz: f64) -> Option<f64> {
        let x = freq_hz / self.bin_hz;
        let last = power.len().checked_sub(1)?;
        if !(0.0..=last as f64).contains(&x) {
            return None;
        }
        let i = (x.floor() as usize).min(last.saturating_sub(1));
        let t = x - i as f64;
        let next = power.get(i + 1).copied().unwrap_or(power[i]);
        Some(power[i] + t * (next - power[i]))
    }

    /// The spectrum of `component` smoothed over `octaves` (equivalent
    /// rectangular width; a Hann window twice as wide in log-frequency) at
    /// each of `freq_hz`, as linear power relative to a full-scale sine per
    /// bin. A window reaching beyond Nyquist uses the part below it; a
    /// frequency above Nyquist reads NaN; no frames averaged reads 0.
    pub fn smoothed_power(&self, component: Component, freq_hz: &[f64], octaves: f64) -> Vec<f64> {
        let power = self.power(component);
        if self.frames_averaged == 0 || power.is_empty() {
            return vec![0.0; freq_hz.len()];
        }
        let half = octaves.max(1e-3);
        freq_hz
            .iter()
            .map(|&centre| {
                let lo = centre * (-half).exp2();
                let hi = centre * half.exp2();
                // Sample at least twice per bin, and at least 64 times.
                let samples = ((2.0 * (hi - lo) / self.bin_hz).ceil() as usize).max(64);
                let (mut sum, mut weights) = (0.0, 0.0);
                for j in 0..samples {
                    let u = -half + 2.0 * half * (j as f64 + 0.5) / samples as f64;
                    let Some(p) = self.power_at(power, centre * u.exp2()) else {
                        continue;
                    };
                    let c = (std::f64::consts::FRAC_PI_2 * u / half).cos();
                    sum += c * c * p;
                    weights += c * c;
                }
                if weights > 0.0 {
                    sum / weights
                } else {
                    f64::NAN
                }
            })
            .collect()
    }

    /// K-weighted energy of `component` over the bins in `low_hz ..= high_hz`.
    fn weighted_energy(&self, component: Component, low_hz: f64, high_hz: f64) -> f64 {
        let k = KWeighting::for_rate(self.sample_rate_hz);
        self.power(component)
            .iter()
            .enumerate()
            .map(|(i, &p)| (i as f64 * self.bin_hz, p))
            .filter(|&(f, _)| (low_hz..=high_hz).contains(&f))
            .map(|(f, p)| p * db_to_power(k.gain_db(f, self.sample_rate_hz)))
            .sum()
    }

    /// Stereo width: side/mid energy ratio in dB, both K-weighted, over the
    /// bins in `low_hz ..= high_hz` (call it per band for a per-band
    /// figure). −∞ for mono, NaN when mid is silent there too.
    pub fn width_db(&self, low_hz: f64, high_hz: f64) -> f64 {
        let mid = self.weighted_energy(Component::Mid, low_hz, high_hz);
        let side = self.weighted_energy(Component::Side, low_hz, high_hz);
        power_to_db(side / mid)
    }
}

/// How much and what to match. Validated by [`MatchOptions::validate`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MatchOptions {
    /// How much of the tonal correction (and of the width change, unless
    /// `width_amount` is given) to apply, 0 ..= 1 (default 1).
    pub amount: f64,
    /// Width amount, 0 ..= 1; `None` (default): `amount`.
    pub width_amount: Option<f64>,
    /// Largest boost of the tonal curves, 0 ..= 24 dB (default 24: at
    /// 100 % the result should sound like the reference; `amount` tempers
    /// it — with 6 dB, real reference pairs stayed 1–3 dB further from the
    /// reference than Matchering, BENCHMARKS.md).
    pub max_boost_db: f64,
    /// Largest cut of the tonal curves, 0 ..= 24 dB (default 24).
    pub max_cut_db: f64,
    /// Largest boost of the side curve, 0 ..= 24 dB (default 6, and never
    /// more than `max_boost_db`): where a mix has almost no side signal
    /// (mono bass) its side spectrum is noise-like and a reference's would
    /// ask for boosts of 15 dB and more there, which widen the bass and hurt
    /// mono playback; the overall width is the side gain's job.
    pub max_side_boost_db: f64,
    /// Spectrum smoothing in octaves, 1/24 ..= 2 (default 1/3).
    pub smoothing_octaves: f64,
    /// Lowest matched frequency, 10 ..= 1000 Hz (default 30); the curves
    /// are flat below it.
    pub low_hz: f64,
    /// Highest matched frequency, 1000 ..= 40000 Hz and at least one octave
    /// above `low_hz` (default 16000); the curves are flat above it. Lowered
    /// to 0.9 × the lower Nyquist frequency of the two files if above it.
    pub high_hz: f64,
    /// Match the tonal balance (default on).
    pub match_tone: bool,
    /// Match the stereo width (default on).
    pub match_width: bool,
    /// Largest width change, 0 ..= 24 dB of side gain (default 24).
    pub max_width_db: f64,
    /// Take the reference's integrated loudness as the loudness target
    /// (default on).
    pub match_loudness: bool,
}

impl Default for MatchOptions {
    fn default() -> Self {
        Self {
            amount: 1.0,
            width_amount: None,
            max_boost_db: 24.0,
            max_cut_db: 24.0,
            max_side_boost_db: 6.0,
            smoothing_octaves: 1.0 / 3.0,
            low_hz: 30.0,
            high_hz: 16_000.0,
            match_tone: true,
            match_width: true,
            max_width_db: 24.0,
            match_loudness: true,
        }
    }
}

fn check(
    name: &'static str,
    value: f64,
    lo: f64,
    hi: f64,
    range: &'static str,
) -> Result<(), CoreError> {
    if (lo..=hi).contains(&value) {
        Ok(())
    } else {
        Err(CoreError::OutOfRange { name, value, range })
    }
}

impl MatchOptions {
    /// Checks every field; the error names the field and its valid range.
    pub fn validate(&self) -> Result<(), CoreError> {
        check("amount", self.amount, 0.0, 1.0, "0 ..= 1")?;
        if let Some(w) = self.width_amount {
            check("width_amount", w, 0.0, 1.0, "0 ..= 1")?;
        }
        check("max_boost_db", self.max_boost_db, 0.0, 24.0, "0 ..= 24 dB")?;
        check("max_cut_db", self.max_cut_db, 0.0, 24.0, "0 ..= 24 dB")?;
        check(
            "max_side_boost_db",
            self.max_side_boost_db,
            0.0,
            24.0,
            "0 ..= 24 dB",
        )?;
        check("max_width_db", self.max_width_db, 0.0, 24.0, "0 ..= 24 dB")?;
        check(
            "smoothing_octaves",
            self.smoothing_octaves,
            1.0 / 24.0,
            2.0,
            "1/24 ..= 2 octaves",
        )?;
        check("low_hz", self.low_hz, 10.0, 1000.0, "10 ..= 1000 Hz")?;
        check(
            "high_hz",
            self.high_hz,
            1000.0,
            40_000.0,
            "1000 ..= 40000 Hz",
        )?;
        check(
            "high_hz",
            self.high_hz,
            2.0 * self.low_hz,
            f64::INFINITY,
            "at least one octave above low_hz",
        )
    }

    fn width_amount(&self) -> f64 {
        self.width_amount.unwrap_or(self.amount)
    }
}

/// What reference matching will do: curves, width and loudness target.
/// Built by [`plan`]; [`MatchPlan::processor`] makes the processor and
/// [`MatchPlan::summary`] describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct MatchPlan {
    /// The options it was planned with.
    pub options: MatchOptions,
    /// Frequencies of the curves: every 1/48 octave from `low_hz` to the
    /// effective high limit (included). The curves hold their end values
    /// beyond.
    pub freq_hz: Vec<f64>,
    /// Mid correction to apply, dB (limited, scaled by the amount).
    pub mid_curve_db: Vec<f64>,
    /// Side correction to apply, dB, before `side_trim_db`.
    pub side_curve_db: Vec<f64>,
    /// The measured loudness-normalised mid difference (reference − input),
    /// before limits and amount; zeros where it could not be measured.
    pub mid_difference_db: Vec<f64>,
    /// The same for side.
    pub side_difference_db: Vec<f64>,
    /// The change of width (K-weighted side/mid ratio in range, dB) the
    /// match makes: the reference's width minus the input's, limited to
    /// ±`max_width_db` and scaled by the width amount.
    pub width_change_db: f64,
    /// The side gain that makes it, dB: `width_change_db` corrected for the
    /// level changes the curves make to mid and side once limited and
    /// scaled (equal to `width_change_db` when they are neither).
    pub side_trim_db: f64,
    /// Input width (K-weighted side/mid, dB; −∞ for mono).
    pub input_width_db: f64,
    /// Reference width.
    pub reference_width_db: f64,
    /// Input integrated loudness.
    pub input_lufs: f64,
    /// Reference integrated loudness.
    pub reference_lufs: f64,
    /// The loudness target for the mastering loop: the reference's
    /// integrated loudness when `match_loudness` is on and it is finite.
    pub loudness_target_lufs: Option<f64>,
    /// Remarks on what could not be matched or was adjusted.
    pub notes: Vec<String>,
}

/// Log-spaced grid from `low` to `high`, both included.
fn log_grid(low: f64, high: f64) -> Vec<f64> {
    let steps = ((high / low).log2() * GRID_POINTS_PER_OCTAVE).floor() as usize;
    let mut grid: Vec<f64> = (0..=steps)
        .map(|i| low * (i as f64 / GRID_POINTS_PER_OCTAVE).exp2())
        .collect();
    if grid.last().is_some_and(|&f| high / f > 1.0 + 1e-9) {
        grid.push(high);
    }
    grid
}

/// Linear interpolation of `values` over log-frequency at `freq_hz`,
/// holding the end values.
fn interpolate(grid: &[f64], values: &[f64], freq_hz: f64) -> f64 {
    let last = grid.len() - 1;
    if freq_hz.is_nan() || freq_hz <= grid[0] {
        return values[0];
    }
    if freq_hz >= grid[last] {
        return values[last];
    }
    let i = grid.partition_point(|&x| x <= freq_hz) - 1;
    let t = (freq_hz / grid[i]).ln() / (grid[i + 1] / grid[i]).ln();
    values[i] + t * (values[i + 1] - values[i])
}

/// `x` limited to `−cut ..= boost` with a quadratic soft knee of
/// [`LIMIT_KNEE_DB`] (at most half the limit) on each side: identity up to
/// `limit − knee`, exactly `limit` from `limit + knee`, C¹ in between.
fn soft_limit(x: f64, cut: f64, boost: f64) -> f64 {
    fn upper(x: f64, limit: f64) -> f64 {
        let knee = LIMIT_KNEE_DB.min(0.5 * limit);
        if knee <= 0.0 {
            x.min(limit)
        } else if x <= limit - knee {
            x
        } else if x >= limit + knee {
            limit
        } else {
            let e = x - (limit - knee);
            x - e * e / (4.0 * knee)
        }
    }
    if x >= 0.0 {
        upper(x, boost)
    } else {
        -upper(-x, cut)
    }
}

/// The loudness-normalised difference `d − c` on `grid` (see the module
/// docs), or `None` when either spectrum has no energy in range.
fn difference_curve(
    input: &Analysis,
    reference: &Analysis,
    component: Component,
    grid: &[f64],
    octaves: f64,
) -> Option<Vec<f64>> {
    let (low, high) = (grid[0], grid[grid.len() - 1]);
    let p_in = input.smoothed_power(component, grid, octaves);
    let p_ref = reference.smoothed_power(component, grid, octaves);
    let peak = |p: &[f64]| {
        p.iter()
            .copied()
            .filter(|v| v.is_finite())
            .fold(0.0, f64::max)
    };
    let (peak_in, peak_ref) = (peak(&p_in), peak(&p_ref));
    if peak_in <= 0.0 || peak_ref <= 0.0 {
        return None;
    }
    // Floors 120 dB below each peak keep the ratio finite where a spectrum
    // is empty (the limits clamp what remains).
    let d: Vec<f64> = p_in
        .iter()
        .zip(&p_ref)
        .map(|(&a, &b)| {
            let a = if a.is_finite() {
                a.max(peak_in * 1e-12)
            } else {
                peak_in * 1e-12
            };
            let b = if b.is_finite() {
                b.max(peak_ref * 1e-12)
            } else {
                peak_ref * 1e-12
            };
            power_to_db(b / a)
        })
        .collect();
    // c: the K-weighted level change the raw curve would make to the input.
    if input.weighted_energy(component, low, high) <= 0.0 {
        return None;
    }
    let c = level_change_db(input, component, grid, &d);
    Some(d.into_iter().map(|v| v - c).collect())
}

/// The K-weighted level change (dB) that `curve` (on `grid`) makes to the
/// bins of `component` in the grid's range; 0 when they hold no energy.
fn level_change_db(input: &Analysis, component: Component, grid: &[f64], curve: &[f64]) -> f64 {
    let (low, high) = (grid[0], grid[grid.len() - 1]);
    let k = KWeighting::for_rate(input.sample_rate_hz);
    let (mut before, mut after) = (0.0, 0.0);
    for (i, &p) in input.power(component).iter().enumerate() {
        let f = i as f64 * input.bin_hz;
        if (low..=high).contains(&f) {
            let e = p * db_to_power(k.gain_db(f, input.sample_rate_hz));
            before += e;
            after += e * db_to_power(interpolate(grid, curve, f));
        }
    }
    if before > 0.0 {
        power_to_db(after / before)
    } else {
        0.0
    }
}

/// Plans the match of `input` to `reference`. Fails only on invalid
/// options; what cannot be matched (silence, mono) is left flat and noted.
pub fn plan(
    input: &Analysis,
    reference: &Analysis,
    options: &MatchOptions,
) -> Result<MatchPlan, CoreError> {
    options.validate()?;
    let mut notes = Vec::new();
    let lower_rate = input.sample_rate_hz.min(reference.sample_rate_hz);
    let nyquist_limit = HIGH_HZ_NYQUIST_SHARE * 0.5 * f64::from(lower_rate);
    let high = options.high_hz.min(nyquist_limit).max(2.0 * options.low_hz);
    if high < options.high_hz {
        notes.push(format!(
            "high limit lowered to {} (0.9 x Nyquist at {} Hz)",
            format_hz(high),
            lower_rate
        ));
    }
    let low = options.low_hz;
    let grid = log_grid(low, high);
    let octaves = options.smoothing_octaves;

    let input_width_db = input.width_db(low, high);
    let reference_width_db = reference.width_db(low, high);
    let side_present = |w: f64| w.is_finite() && w > MONO_SIDE_RATIO_DB;

    for (name, a) in [("input", input), ("reference", reference)] {
        if a.frames_averaged == 0 {
            notes.push(format!(
                "{name} is too short to analyse ({} frames, needs {})",
                a.frames, a.fft_size
            ));
        }
    }

    let zeros = vec![0.0; grid.len()];
    let tone_amount = if options.match_tone {
        options.amount
    } else {
        0.0
    };
    let mid_difference_db = difference_curve(input, reference, Component::Mid, &grid, octaves)
        .unwrap_or_else(|| {
            notes.push("mid: no signal to compare, tone left unchanged".into());
            zeros.clone()
        });
    let side_difference_db = if side_present(input_width_db) && side_present(reference_width_db) {
        difference_curve(input, reference, Component::Side, &grid, octaves)
            .unwrap_or_else(|| zeros.clone())
    } else {
        if options.match_tone || options.match_width {
            let which = if side_present(input_width_db) {
                "reference"
            } else {
                "input"
            };
            notes.push(format!("{which} is mono: side tone left unchanged"));
        }
        zeros.clone()
    };
    let apply = |d: &[f64], max_boost_db: f64| -> Vec<f64> {
        d.iter()
            .map(|&v| tone_amount * soft_limit(v, options.max_cut_db, max_boost_db))
            .collect()
    };
    let mid_curve_db = apply(&mid_difference_db, options.max_boost_db);
    let side_curve_db = apply(
        &side_difference_db,
        options.max_boost_db.min(options.max_side_boost_db),
    );

    let width_change_db = if options.match_width && side_present(input_width_db) {
        let wanted = reference_width_db - input_width_db;
        let wanted = if wanted.is_nan() { 0.0 } else { wanted };
        options.width_amount() * wanted.clamp(-options.max_width_db, options.max_width_db)
    } else {
        0.0
    };
    // The limits (and the amount) undo the loudness normalisation of the
    // curves in part: whatever they change in the side/mid balance the side
    // gain takes back, so the width changes by `width_change_db` exactly.
    let side_trim_db = if side_present(input_width_db) {
        let mid_change = level_change_db(input, Component::Mid, &grid, &mid_curve_db);
        let side_change = level_change_db(input, Component::Side, &grid, &side_curve_db);
        (width_change_db - (side_change - mid_change)).clamp(-MAX_GAIN_DB, MAX_GAIN_DB)
    } else {
        0.0
    };

    let loudness_target_lufs = (options.match_loudness && reference.integrated_lufs.is_finite())
        .then_some(reference.integrated_lufs);
    if options.match_loudness && loudness_target_lufs.is_none() {
        notes.push("reference is silent: no loudness target".into());
    }

    Ok(MatchPlan {
        options: *options,
        freq_hz: grid,
        mid_curve_db,
        side_curve_db,
        mid_difference_db,
        side_difference_db,
        width_change_db,
        side_trim_db,
        input_width_db,
        reference_width_db,
        input_lufs: input.integrated_lufs,
        reference_lufs: reference.integrated_lufs,
        loudness_target_lufs,
        notes,
    })
}

/// `83 Hz`, `3.2 kHz`, `16 kHz`.
fn format_hz(f: f64) -> String {
    if f < 999.5 {
        format!("{f:.0} Hz")
    } else {
        let khz = format!("{:.1}", f / 1000.0);
        format!("{} kHz", khz.strip_suffix(".0").unwrap_or(&khz))
    }
}

/// `+2.1 dB`, `-1.5 dB`, `-inf dB`.
fn format_db(x: f64) -> String {
    if x.is_finite() {
        format!("{x:+.1} dB")
    } else if x < 0.0 {
        "-inf dB".into()
    } else {
        "n/a".into()
    }
}

/// Where a move of the curve lies.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Place {
    /// A peak or dip at this frequency.
    Around(f64),
    /// A shelf at the low end, reaching half its gain at this frequency.
    Below(f64),
    /// A shelf at the high end.
    Above(f64),
}

/// The largest moves of a curve: local extrema of at least
/// [`SUMMARY_MIN_DB`], at least one octave apart, largest first, at most
/// `count`, returned in frequency order. An extremum at an end of the range
/// is a shelf, placed by the frequency where it has fallen to half.
fn main_moves(freq_hz: &[f64], gain_db: &[f64], count: usize) -> Vec<(Place, f64)> {
    let n = gain_db.len();
    let mut candidates: Vec<usize> = (0..n)
        .filter(|&i| {
            let g = gain_db[i];
            let left = if i > 0 { gain_db[i - 1] } else { g };
            let right = if i + 1 < n { gain_db[i + 1] } else { g };
            g.abs() >= SUMMARY_MIN_DB
                && ((g > 0.0 && g >= left && g >= right) || (g < 0.0 && g <= left && g <= right))
        })
        .collect();
    candidates.sort_by(|&a, &b| gain_db[b].abs().total_cmp(&gain_db[a].abs()));
    let mut picked: Vec<usize> = Vec::new();
    for c in candidates {
        if picked.len() == count {
            break;
        }
        if picked
            .iter()
            .all(|&p| (freq_hz[p] / freq_hz[c]).log2().abs() >= 1.0)
        {
            picked.push(c);
        }
    }
    picked.sort_unstable();
    let moves: Vec<(Place, f64)> = picked
        .into_iter()
        .map(|i| {
            let g = gain_db[i];
            let half = |j: &usize| (gain_db[*j] * g.signum()) < 0.5 * g.abs();
            let place = if i == 0 {
                Place::Below(freq_hz[(0..n).find(half).unwrap_or(n - 1)])
            } else if i == n - 1 {
                Place::Above(freq_hz[(0..n).rev().find(half).unwrap_or(0)])
            } else {
                Place::Around(freq_hz[i])
            };
            (place, g)
        })
        .collect();
    // A peak inside a shelf of the same sign is part of the shelf.
    let inside_shelf = |f: f64, g: f64| {
        moves.iter().any(|&(p, h)| {
            h.signum() == g.signum()
                && match p {
                    Place::Below(edge) => f < edge,
                    Place::Above(edge) => f > edge,
                    Place::Around(_) => false,
                }
        })
    };
    moves
        .iter()
        .copied()
        .filter(|&(p, g)| !matches!(p, Place::Around(f) if inside_shelf(f, g)))
        .collect()
}

impl MatchPlan {
    /// The mid curve as a [`GainCurve`].
    pub fn mid_curve(&self) -> GainCurve {
        GainCurve::new(self.freq_hz.clone(), self.mid_curve_db.clone())
            .unwrap_or_else(|_| GainCurve::flat())
    }

    /// The side curve as a [`GainCurve`] (without the width change).
    pub fn side_curve(&self) -> GainCurve {
        GainCurve::new(self.freq_hz.clone(), self.side_curve_db.clone())
            .unwrap_or_else(|_| GainCurve::flat())
    }

    /// True when the processor would only delay the signal.
    pub fn is_identity(&self) -> bool {
        self.side_trim_db == 0.0
            && self.mid_curve_db.iter().all(|&g| g == 0.0)
            && self.side_curve_db.iter().all(|&g| g == 0.0)
    }

    /// The match EQ for `sample_rate_hz`: M/S → linear-phase FIR per path
    /// (default length for the rate) → side gain → L/R. Latency
    /// `(N−1)/2` frames, reported by the processor.
    pub fn processor(&self, sample_rate_hz: u32) -> Result<MatchEq, CoreError> {
        MatchEq::new(
            MatchEqOptions {
                mid: self.mid_curve(),
                side: self.side_curve(),
                side_gain_db: self.side_trim_db,
                fir_taps: None,
            },
            sample_rate_hz,
        )
    }

    /// What the match changes, one line per dimension, e.g.
    /// `tone (mid): +2.1 dB around 80 Hz, -1.5 dB around 3.2 kHz`.
    pub fn summary(&self) -> Vec<String> {
        let o = &self.options;
        let mut lines = Vec::new();
        lines.push(format!(
            "reference match: amount {:.0} %, width amount {:.0} %, limits +{:.1}/-{:.1} dB \
             (side +{:.1}), {}-{}, 1/{:.0}-octave smoothing",
            100.0 * o.amount,
            100.0 * o.width_amount(),
            o.max_boost_db,
            o.max_cut_db,
            o.max_boost_db.min(o.max_side_boost_db),
            format_hz(self.freq_hz[0]),
            format_hz(self.freq_hz[self.freq_hz.len() - 1]),
            1.0 / o.smoothing_octaves
        ));
        for (name, gains) in [("mid", &self.mid_curve_db), ("side", &self.side_curve_db)] {
            let line = if !o.match_tone {
                "off".to_string()
            } else {
                let moves = main_moves(&self.freq_hz, gains, 4);
                if moves.is_empty() {
                    format!("unchanged (within {SUMMARY_MIN_DB} dB)")
                } else {
                    moves
                        .iter()
                        .map(|&(place, g)| {
                            let (word, f) = match place {
                                Place::Around(f) => ("around", f),
                                Place::Below(f) => ("below", f),
                                Place::Above(f) => ("above", f),
                            };
                            format!("{} {word} {}", format_db(g), format_hz(f))
                        })
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            };
            lines.push(format!("tone ({name}): {line}"));
        }
        let widths = format!(
            "input S/M {}, reference {}",
            format_db(self.input_width_db),
            format_db(self.reference_width_db)
        );
        lines.push(if !o.match_width {
            format!("width: off ({widths})")
        } else if self.width_change_db.abs() < 0.05 && self.side_trim_db.abs() < 0.05 {
            format!("width: unchanged ({widths})")
        } else {
            format!(
                "width: S/M {}, side gain {} ({widths})",
                format_db(self.width_change_db),
                format_db(self.side_trim_db)
            )
        });
        lines.push(match self.loudness_target_lufs {
            Some(t) => format!(
                "loudness: target {t:.1} LUFS from the reference (input {})",
                if self.input_lufs.is_finite() {
                    format!("{:.1} LUFS", self.input_lufs)
                } else {
                    "-inf LUFS".into()
                }
            ),
            None => "loudness: not matched".into(),
        });
        lines.extend(self.notes.iter().map(|n| format!("note: {n}")));
        lines
    }

    /// The plan as JSON (the match report; also a reusable match profile):
    /// options, curves per grid point, width, loudness and notes. −∞ and
    /// NaN are `null`.
    pub fn to_json(&self) -> serde_json::Value {
        let o = &self.options;
        let num = |x: f64| mixmaster_core::units::finite(x);
        serde_json::json!({
            "options": {
                "amount": o.amount,
                "width_amount": o.width_amount(),
                "max_boost_db": o.max_boost_db,
                "max_cut_db": o.max_cut_db,
                "max_side_boost_db": o.max_side_boost_db,
                "smoothing_octaves": o.smoothing_octaves,
                "low_hz": o.low_hz,
                "high_hz": o.high_hz,
                "match_tone": o.match_tone,
                "match_width": o.match_width,
                "max_width_db": o.max_width_db,
                "match_loudness": o.match_loudness,
            },
            "freq_hz": self.freq_hz,
            "mid_curve_db": self.mid_curve_db,
            "side_curve_db": self.side_curve_db,
            "mid_difference_db": self.mid_difference_db,
            "side_difference_db": self.side_difference_db,
            "width_change_db": self.width_change_db,
            "side_trim_db": self.side_trim_db,
            "input_width_db": num(self.input_width_db),
            "reference_width_db": num(self.reference_width_db),
            "input_lufs": num(self.input_lufs),
            "reference_lufs": num(self.reference_lufs),
            "loudness_target_lufs": self.loudness_target_lufs,
            "summary": self.summary(),
        })
    }
}

/// Third-octave tonal deviation between two analyses.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ToneDeviation {
    /// Largest level-aligned band difference, dB.
    pub max_abs_db: f64,
    /// RMS of the level-aligned band differences, dB.
    pub rms_db: f64,
    /// Bands compared.
    pub bands: usize,
}

/// Third-octave tonal deviation of `a` from `b` for `component`, over the
/// bands centred in `low_hz ..= high_hz` that both have: band level
/// differences (dB) minus their mean (level-aligned, since loudness is
/// matched separately), as maximum and RMS. `None` when no band compares.
pub fn tone_deviation(
    a: &Analysis,
    b: &Analysis,
    component: Component,
    low_hz: f64,
    high_hz: f64,
) -> Option<ToneDeviation> {
    let level = |band: &Band| match component {
        Component::Mid => band.mid_db,
        Component::Side => band.side_db,
    };
    let diffs: Vec<f64> = a
        .third_octave
        .iter()
        .filter(|x| (low_hz..=high_hz).contains(&x.centre_hz))
        .filter_map(|x| {
            let y = b
                .third_octave
                .iter()
                .find(|y| y.nominal_hz == x.nominal_hz)?;
            let d = level(x) - level(y);
            d.is_finite().then_some(d)
        })
        .collect();
    if diffs.is_empty() {
        return None;
    }
    let mean = diffs.iter().sum::<f64>() / diffs.len() as f64;
    let max_abs_db = diffs.iter().fold(0.0f64, |m, d| m.max((d - mean).abs()));
    let rms_db =
        (diffs.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / diffs.len() as f64).sqrt();
    Some(ToneDeviation {
        max_abs_db,
        rms_db,
        bands: diffs.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn soft_limit_is_exact_inside_and_bounded_outside() {
        for x in [-4.9, -1.0, 0.0, 0.3, 4.99] {
            assert_eq!(soft_limit(x, 6.0, 6.0), x);
        }
        assert_eq!(soft_limit(15.0, 6.0, 6.0), 6.0);
        assert_eq!(soft_limit(-15.0, 3.0, 6.0), -3.0);
        let mut previous = f64::NEG_INFINITY;
        for i in 0..2000 {
            let x = -10.0 + 0.01 * i as f64;
            let y = soft_limit(x, 4.0, 6.0);
            assert!((-4.0..=6.0).contains(&y));
            assert!(y >= previous, "not monotonic at {x}");
            previous = y;
        }
        assert_eq!(soft_limit(3.0, 0.0, 0.0), 0.0);
        assert_eq!(soft_limit(-3.0, 0.0, 0.0), 0.0);
    }

    #[test]
    fn grid_spans_the_range() {
        let g = log_grid(30.0, 16_000.0);
        assert_eq!(g[0], 30.0);
        assert_eq!(*g.last().expect("points"), 16_000.0);
        assert!(g.windows(2).all(|w| w[1] > w[0]));
        assert_eq!(interpolate(&g, &vec![1.0; g.len()], 5.0), 1.0);
    }

    #[test]
    fn moves_are_extrema_an_octave_apart() {
        let f = log_grid(30.0, 16_000.0);
        let g: Vec<f64> = f
            .iter()
            .map(|&x: &f64| {
                let a = (x / 80.0).log2();
                let b = (x / 3000.0).log2();
                2.1 * (-a * a * 4.0).exp() - 1.5 * (-b * b * 4.0).exp()
            })
            .collect();
        let moves = main_moves(&f, &g, 4);
        assert_eq!(moves.len(), 2, "{moves:?}");
        let near = |p: Place, hz: f64| matches!(p, Place::Around(f) if (f / hz - 1.0).abs() < 0.02);
        assert!(near(moves[0].0, 80.0) && (moves[0].1 - 2.1).abs() < 0.01);
        assert!(near(moves[1].0, 3000.0) && (moves[1].1 + 1.5).abs() < 0.01);
        // Shelves at the ends are placed by their half-gain frequency.
        let shelves: Vec<f64> = f
            .iter()
            .map(|&x| 4.0 / (1.0 + (x / 150.0).powi(2)) - 3.0 / (1.0 + (6000.0 / x).powi(2)))
            .collect();
        let moves = main_moves(&f, &shelves, 4);
        assert_eq!(moves.len(), 2, "{moves:?}");
        assert!(matches!(moves[0].0, Place::Below(f) if (f / 150.0 - 1.0).abs() < 0.15));
        assert!(matches!(moves[1].0, Place::Above(f) if (f / 6000.0 - 1.0).abs() < 0.15));
    }

    #[test]
    fn options_are_validated() {
        assert!(MatchOptions::default().validate().is_ok());
        let bad = [
            MatchOptions {
                amount: 1.5,
                ..Default::default()
            },
            MatchOptions {
                width_amount: Some(-0.1),
                ..Default::default()
            },
            MatchOptions {
                max_boost_db: 30.0,
                ..Default::default()
            },
            MatchOptions {
                max_cut_db: -1.0,
                ..Default::default()
            },
            MatchOptions {
                smoothing_octaves: 0.0,
                ..Default::default()
            },
            MatchOptions {
                low_hz: 5.0,
                ..Default::default()
            },
            MatchOptions {
                high_hz: 50_000.0,
                ..Default::default()
            },
            MatchOptions {
                low_hz: 800.0,
                high_hz: 1200.0,
                ..Default::default()
            },
            MatchOptions {
                amount: f64::NAN,
                ..Default::default()
            },
        ];
        for o in bad {
            assert!(o.validate().is_err(), "{o:?}");
        }
    }
}
