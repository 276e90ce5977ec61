//! Exciter ("aural exciter"): the top of the spectrum is split off with a
//! high-pass, driven through the saturation stage, and the result is added
//! back to the untouched signal. Only content above `freq_hz` is distorted,
//! so its harmonics brighten the top without muddying the lows.
//!
//! Per channel:
//!
//! ```text
//! x ─┬─ high-pass (freq_hz, slope_db_oct) ─ Saturation (drive_db, auto gain) ─ × amount ─┐
//!    └─ delay (latency of the saturation) ──────────────────────────────────────────── + ─ y
//! ```
//!
//! * The high-pass is [`Filter`] (Butterworth, magnitude-matched to the
//!   analog prototype, 12 dB/oct by default).
//! * The shaper is [`Saturation`] with its anti-aliasing as is: 8×
//!   oversampling (linear-phase half-band stages) and first-order ADAA, with
//!   automatic gain (`−drive_db` after the shaper), so the wet path has unit
//!   gain for quiet signals and `drive_db` sets only how much it distorts.
//!   Its aliasing figure therefore carries over: for a 10 kHz sine at
//!   −6 dBFS, +12 dB drive, 44.1 and 48 kHz, every non-harmonic component
//!   stays below −90 dBFS at amount 100 % (tests: `tests/exciter.rs`).
//! * The dry path is delayed by the saturation's latency (an integer number
//!   of frames), so `amount = 0` returns the input delayed by
//!   `latency_frames()`, sample for sample.
//!
//! `y = x[n − latency] + amount/100 · wet[n]`. The wet path carries the
//! high band itself as well as its harmonics, so well above `freq_hz`
//! quiet content is raised by `20·log10(1 + amount/100)` dB (+1.9 dB at the
//! default 25 %, +6 dB at 100 %), a presence lift on top of the added
//! harmonics; below the corner the high-pass keeps the wet path out.
//!
//! Parameters (session-file names): `freq_hz`, `drive_db`, `amount_pct`
//! (glide over 20 ms); `oversampling` and `character` are fixed.

use mixmaster_core::{CoreError, Processor};

use crate::dynamics::lookahead::Delay;
use crate::dynamics::validate::{fixed, in_range};
use crate::filter::{Filter, FilterKind, FilterOptions};
use crate::saturation::{Character, Saturation, SaturationOptions};
use crate::smoothing::{DEFAULT_SMOOTHING_MS, LinearSmoother, ramp_frames};

/// Parameter names accepted by [`Exciter::set_parameter`](Processor::set_parameter).
pub const EXCITER_PARAMETERS: &str = "freq_hz, drive_db, amount_pct, oversampling";

/// Frames processed at a time when a block is longer than the prepared
/// maximum (the scratch buffer's length).
const MIN_SCRATCH_FRAMES: usize = 64;

/// Settings of [`Exciter`]; names as in a session file.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExciterOptions {
    /// Corner of the high-pass that selects the band to excite
    /// (500 ..= 20000 Hz, default 3000; designed at no more than 0.45·fs).
    pub freq_hz: f64,
    /// Slope of the high-pass: 6, 12, …, 48 dB/oct (default 12).
    pub slope_db_oct: f64,
    /// Waveshaper (default `tape`).
    pub character: Character,
    /// Gain into the waveshaper in dB (0 ..= 36, default 12); the output
    /// of the shaper is lowered by the same amount.
    pub drive_db: f64,
    /// Share of the excited band added to the signal (0 ..= 100 %,
    /// default 25).
    pub amount_pct: f64,
    /// Oversampling of the shaper: 2, 4 or 8 (default 8).
    pub oversampling: usize,
}

impl Default for ExciterOptions {
    fn default() -> Self {
        Self {
            freq_hz: 3000.0,
            slope_db_oct: 12.0,
            character: Character::Tape,
            drive_db: 12.0,
            amount_pct: 25.0,
            oversampling: 8,
        }
    }
}

fn check_freq(v: f64) -> Result<f64, CoreError> {
    in_range("freq_hz", v, 500.0, 20_000.0, "500 ..= 20000 Hz")
}
fn check_drive(v: f64) -> Result<f64, CoreError> {
    in_range("drive_db", v, 0.0, 36.0, "0 ..= 36")
}
fn check_amount(v: f64) -> Result<f64, CoreError> {
    in_range("amount_pct", v, 0.0, 100.0, "0 ..= 100 %")
}

impl ExciterOptions {
    /// Checks every field; the error names the field and its valid range.
    pub fn validate(&self) -> Result<(), CoreError> {
        check_freq(self.freq_hz)?;
        check_drive(self.drive_db)?;
        check_amount(self.amount_pct)?;
        self.filter_options().map(|_| ())?;
        self.saturation_options().map(|_| ())
    }

    fn filter_options(&self) -> Result<Filter, CoreError> {
        Filter::new(FilterOptions {
            kind: FilterKind::HighPass,
            freq_hz: self.freq_hz,
            slope_db_oct: self.slope_db_oct,
            ..FilterOptions::default()
        })
    }

    fn saturation_options(&self) -> Result<Saturation, CoreError> {
        Saturation::new(SaturationOptions {
            character: self.character,
            drive_db: self.drive_db,
            output_db: 0.0,
            auto_gain: true,
            mix: 1.0,
            oversampling: self.oversampling,
        })
    }
}

#[derive(Debug, Clone)]
struct ChannelState {
    high_pass: Filter,
    saturation: Saturation,
    dry: Delay,
    wet: Vec<f64>,
}

/// High-passed, saturated band added to the signal; see the module docs.
#[derive(Debug, Clone)]
pub struct Exciter {
    options: ExciterOptions,
    amount: LinearSmoother,
    latency_frames: usize,
    channels: Vec<ChannelState>,
    /// The amount ramp values of the current chunk.
    gains: Vec<f64>,
}

impl Exciter {
    /// An exciter; fails on an option outside its range.
    pub fn new(options: ExciterOptions) -> Result<Self, CoreError> {
        options.validate()?;
        Ok(Self {
            options,
            amount: LinearSmoother::new(options.amount_pct / 100.0, 1),
            latency_frames: 0,
            channels: Vec::new(),
            gains: Vec::new(),
        })
    }

    /// The current settings (automated values as their targets).
    pub fn options(&self) -> ExciterOptions {
        self.options
    }
}

impl Processor for Exciter {
    fn prepare(
        &mut self,
        sample_rate_hz: u32,
        max_block_frames: usize,
        channels: usize,
    ) -> Result<(), CoreError> {
        in_range(
            "sample_rate_hz",
            f64::from(sample_rate_hz),
            8000.0,
            768_000.0,
            "8000 ..= 768000",
        )?;
        let scratch = max_block_frames.max(MIN_SCRATCH_FRAMES);
        let mut states = Vec::with_capacity(channels);
        for _ in 0..channels {
            let mut high_pass = self.options.filter_options()?;
            high_pass.prepare(sample_rate_hz, scratch, 1)?;
            let mut saturation = self.options.saturation_options()?;
            saturation.prepare(sample_rate_hz, scratch, 1)?;
            self.latency_frames = saturation.latency_frames();
            states.push(ChannelState {
                high_pass,
                saturation,
                dry: Delay::new(self.latency_frames),
                wet: vec![0.0; scratch],
            });
        }
        self.channels = states;
        self.gains = vec![0.0; scratch];
        self.amount = LinearSmoother::new(
            self.options.amount_pct / 100.0,
            ramp_frames(DEFAULT_SMOOTHING_MS, sample_rate_hz),
        );
        Ok(())
    }

    fn process(&mut self, block: &mut [&mut [f64]]) {
        let frames = block.first().map_or(0, |c| c.len());
        let chunk = self.gains.len();
        if chunk == 0 {
            return;
        }
        let mut start = 0;
        while start < frames {
            let end = (start + chunk).min(frames);
            let n = end - start;
            for g in &mut self.gains[..n] {
                *g = self.amount.next_value();
            }
            for (samples, state) in block.iter_mut().zip(&mut self.channels) {
                let x = &mut samples[start..end];
                let wet = &mut state.wet[..n];
                wet.copy_from_slice(x);
                state.high_pass.process(&mut [&mut wet[..]]);
                state.saturation.process(&mut [&mut wet[..]]);
                for ((y, w), g) in x.iter_mut().zip(wet.iter()).zip(&self.gains[..n]) {
                    let dry = state.dry.push(*y);
                    *y = dry + g * w;
                }
            }
            start = end;
        }
    }

    fn reset(&mut self) {
        self.amount.set_immediate(self.options.amount_pct / 100.0);
        for state in &mut self.channels {
            state.high_pass.reset();
            state.saturation.reset();
            state.dry.reset();
        }
    }

    fn latency_frames(&self) -> usize {
        self.latency_frames
    }

    /// The high-pass's decay plus the saturation's filters.
    fn tail_frames(&self) -> usize {
        self.channels.first().map_or(0, |c| {
            c.high_pass.tail_frames() + c.saturation.tail_frames()
        })
    }

    /// `freq_hz` glides in the log domain, `drive_db` and `amount_pct`
    /// ramp, all over 20 ms; `oversampling` sets the latency and only
    /// accepts its current value.
    fn set_parameter(&mut self, name: &str, value: f64) -> Result<(), CoreError> {
        match name {
            "freq_hz" => {
                self.options.freq_hz = check_freq(value)?;
                for c in &mut self.channels {
                    c.high_pass.set_parameter("freq_hz", value)?;
                }
            }
            "drive_db" => {
                self.options.drive_db = check_drive(value)?;
                for c in &mut self.channels {
                    c.saturation.set_parameter("drive_db", value)?;
                }
            }
            "amount_pct" => {
                self.options.amount_pct = check_amount(value)?;
                self.amount.set_target(value / 100.0);
            }
            "oversampling" => {
                if value != self.options.oversampling as f64 {
                    return Err(fixed("oversampling", value));
                }
            }
            _ => {
                return Err(CoreError::UnknownParameter {
                    name: name.to_string(),
                    valid: EXCITER_PARAMETERS.to_string(),
                });
            }
        }
        Ok(())
    }
}
