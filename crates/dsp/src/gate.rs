//! Noise gate and downward expander with hysteresis, hold, lookahead and an
//! optional external sidechain with high-pass.
//!
//! Per frame:
//!
//! 1. key (input or external sidechain, optionally high-passed), stereo
//!    linked: the largest |key| over channels;
//! 2. level: the maximum of that magnitude over the last
//!    [`DETECTOR_WINDOW_MS`] (a sliding peak hold), so a steady tone down to
//!    50 Hz reads as its peak without ripple;
//! 3. state: the gate opens when the level reaches `threshold_db` and, once
//!    open, stays open while the level is at or above
//!    `threshold_db − hysteresis_db`; when it falls below, the gate stays
//!    open for `hold_ms` more and then closes;
//! 4. target gain: 0 dB while open; while closed, the expander curve
//!    `(R − 1)(x − T)` below the open threshold `T`, floored at `range_db`
//!    — the compressor's hard-knee line mirrored below the threshold, the
//!    output level being `T + (x − T)·R`; with `ratio = ∞` a gate that
//!    attenuates by `range_db`;
//! 5. ballistics on the attenuation in dB: one-pole with the attack time
//!    constant while the gain rises (opening) and the release one while it
//!    falls (`α = exp(−1/(τ·fs))`, the 1 − 1/e definition of Giannoulis et
//!    al.);
//! 6. the audio, delayed by the lookahead, is multiplied by the gain.

use mixmaster_core::units::db_to_amplitude;
use mixmaster_core::{CoreError, Processor};

use crate::compressor::check_sidechain_hpf;
use crate::dynamics::ballistics::{SmoothBranching, coefficient};
use crate::dynamics::gain_computer::expander_gain_db;
use crate::dynamics::key::{EXTERNAL_KEY_CHANNELS, KeyPath};
use crate::dynamics::level_db;
use crate::dynamics::lookahead::{self, Delay};
use crate::dynamics::peak_hold::PeakHold;
use crate::dynamics::sidechain_filter::Coefficients;
use crate::dynamics::smoothing::LinearSmoother;
use crate::dynamics::validate::{fixed, in_range};

/// Window of the gate's peak-hold level detector: the half period of 50 Hz,
/// so no tone above 50 Hz makes the level dip between its peaks.
pub const DETECTOR_WINDOW_MS: f64 = 10.0;

/// Parameter names accepted by [`Gate::set_parameter`].
pub const GATE_PARAMETERS: &str = "threshold_db, ratio, range_db, hysteresis_db, hold_ms, \
     attack_ms, release_ms, lookahead_ms, sidechain_hpf_hz";

/// Settings of [`Gate`]; names as in a session file.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GateOptions {
    /// Open threshold in dBFS (−100 ..= 0).
    pub threshold_db: f64,
    /// Expansion ratio (1 ..= ∞); ∞ (the default) is a gate.
    pub ratio: f64,
    /// Floor of the gain in dB (−120 ..= 0): the most the gate attenuates.
    pub range_db: f64,
    /// Close threshold below the open threshold in dB (0 ..= 24).
    pub hysteresis_db: f64,
    /// Time the gate stays open after the level fell below the close
    /// threshold, in ms (0 ..= 2000).
    pub hold_ms: f64,
    /// Opening time constant in ms (0 ..= 1000).
    pub attack_ms: f64,
    /// Closing time constant in ms (0 ..= 5000).
    pub release_ms: f64,
    /// Lookahead in ms (0 ..= 50): delays the audio, reported as latency,
    /// so the gate is open when a transient arrives.
    pub lookahead_ms: f64,
    /// Takes the key from the sidechain input (2 channels).
    pub external_sidechain: bool,
    /// High-pass of the key in Hz (10 ..= 2000), `None` for none.
    pub sidechain_hpf_hz: Option<f64>,
}

impl Default for GateOptions {
    fn default() -> Self {
        Self {
            threshold_db: -40.0,
            ratio: f64::INFINITY,
            range_db: -80.0,
            hysteresis_db: 4.0,
            hold_ms: 20.0,
            attack_ms: 0.5,
            release_ms: 80.0,
            lookahead_ms: 0.0,
            external_sidechain: false,
            sidechain_hpf_hz: None,
        }
    }
}

fn check_threshold(v: f64) -> Result<f64, CoreError> {
    in_range("threshold_db", v, -100.0, 0.0, "-100 ..= 0")
}
fn check_ratio(v: f64) -> Result<f64, CoreError> {
    in_range("ratio", v, 1.0, f64::INFINITY, "1 ..= inf (inf = gate)")
}
fn check_range(v: f64) -> Result<f64, CoreError> {
    in_range("range_db", v, -120.0, 0.0, "-120 ..= 0")
}
fn check_hysteresis(v: f64) -> Result<f64, CoreError> {
    in_range("hysteresis_db", v, 0.0, 24.0, "0 ..= 24")
}
fn check_hold(v: f64) -> Result<f64, CoreError> {
    in_range("hold_ms", v, 0.0, 2000.0, "0 ..= 2000")
}
fn check_attack(v: f64) -> Result<f64, CoreError> {
    in_range("attack_ms", v, 0.0, 1000.0, "0 ..= 1000")
}
fn check_release(v: f64) -> Result<f64, CoreError> {
    in_range("release_ms", v, 0.0, 5000.0, "0 ..= 5000")
}
fn check_lookahead(v: f64) -> Result<f64, CoreError> {
    in_range("lookahead_ms", v, 0.0, 50.0, "0 ..= 50")
}

impl GateOptions {
    /// Checks every field; the error names the field and its valid range.
    pub fn validate(&self) -> Result<(), CoreError> {
        check_threshold(self.threshold_db)?;
        check_ratio(self.ratio)?;
        check_range(self.range_db)?;
        check_hysteresis(self.hysteresis_db)?;
        check_hold(self.hold_ms)?;
        check_attack(self.attack_ms)?;
        check_release(self.release_ms)?;
        check_lookahead(self.lookahead_ms)?;
        if let Some(hz) = self.sidechain_hpf_hz {
            check_sidechain_hpf(hz)?;
        }
        Ok(())
    }
}

/// Gate / downward expander; see the module docs.
#[derive(Debug, Clone)]
pub struct Gate {
    options: GateOptions,
    sample_rate_hz: u32,
    threshold_db: LinearSmoother,
    inv_ratio: LinearSmoother,
    range_db: LinearSmoother,
    hysteresis_db: LinearSmoother,
    attack_coeff: f64,
    release_coeff: f64,
    hold_frames: u64,
    hold_left: u64,
    open: bool,
    level: PeakHold,
    /// Attenuation in dB (≥ 0) after the ballistics.
    attenuation: SmoothBranching,
    key: KeyPath,
    delays: Vec<Delay>,
    latency_frames: usize,
}

impl Gate {
    /// A gate; fails on an option outside its range.
    pub fn new(options: GateOptions) -> Result<Self, CoreError> {
        options.validate()?;
        Ok(Self {
            options,
            sample_rate_hz: 0,
            threshold_db: LinearSmoother::new(options.threshold_db),
            inv_ratio: LinearSmoother::new(1.0 / options.ratio),
            range_db: LinearSmoother::new(options.range_db),
            hysteresis_db: LinearSmoother::new(options.hysteresis_db),
            attack_coeff: 0.0,
            release_coeff: 0.0,
            hold_frames: 0,
            hold_left: 0,
            open: false,
            level: PeakHold::new(1),
            attenuation: SmoothBranching::default(),
            key: KeyPath::default(),
            delays: Vec::new(),
            latency_frames: 0,
        })
    }

    /// The current settings (automated values as their targets).
    pub fn options(&self) -> GateOptions {
        self.options
    }

    /// Whether the gate was open at the last processed frame (its state
    /// machine; the gain follows with the attack and release times).
    pub fn is_open(&self) -> bool {
        self.open
    }

    /// Gain of the last processed frame in dB (≤ 0), for a meter.
    pub fn gain_db(&self) -> f64 {
        -self.attenuation.value()
    }

    fn update_coefficients(&mut self) {
        let fs = self.sample_rate_hz;
        if fs == 0 {
            return;
        }
        self.attack_coeff = coefficient(self.options.attack_ms, fs);
        self.release_coeff = coefficient(self.options.release_ms, fs);
        self.hold_frames = (self.options.hold_ms * 1e-3 * f64::from(fs)).round() as u64;
        self.key.set_highpass(
            self.options
                .sidechain_hpf_hz
                .map(|hz| Coefficients::butterworth_highpass(hz, fs)),
        );
    }

    fn run(&mut self, block: &mut [&mut [f64]], key: &[&[f64]]) {
        let frames = block.first().map_or(0, |c| c.len());
        for i in 0..frames {
            let t = self.threshold_db.next_value();
            let ir = self.inv_ratio.next_value();
            let range = self.range_db.next_value();
            let close = t - self.hysteresis_db.next_value();

            let x_db = level_db(self.level.push(self.key.peak(i, block, key)));
            if self.open {
                if x_db >= close {
                    self.hold_left = self.hold_frames;
                } else if self.hold_left > 0 {
                    self.hold_left -= 1;
                } else {
                    self.open = false;
                }
            } else if x_db >= t {
                self.open = true;
                self.hold_left = self.hold_frames;
            }
            let target = if self.open {
                0.0
            } else {
                -expander_gain_db(x_db, t, ir, range)
            };
            // Attenuation falling = gain rising = opening: the attack time.
            let attenuation =
                self.attenuation
                    .next_value(target, self.release_coeff, self.attack_coeff);
            let gain = db_to_amplitude(-attenuation);
            for (ch, delay) in block.iter_mut().zip(&mut self.delays) {
                ch[i] = delay.push(ch[i]) * gain;
            }
        }
    }
}

impl Processor for Gate {
    fn prepare(
        &mut self,
        sample_rate_hz: u32,
        _max_block_frames: usize,
        channels: usize,
    ) -> Result<(), CoreError> {
        in_range(
            "sample_rate_hz",
            f64::from(sample_rate_hz),
            8000.0,
            768_000.0,
            "8000 ..= 768000",
        )?;
        self.sample_rate_hz = sample_rate_hz;
        self.latency_frames = lookahead::frames(self.options.lookahead_ms, sample_rate_hz);
        self.delays = (0..channels)
            .map(|_| Delay::new(self.latency_frames))
            .collect();
        self.level = PeakHold::new(lookahead::frames(DETECTOR_WINDOW_MS, sample_rate_hz));
        self.key.prepare(channels);
        for s in [
            &mut self.threshold_db,
            &mut self.inv_ratio,
            &mut self.range_db,
            &mut self.hysteresis_db,
        ] {
            s.prepare(sample_rate_hz);
        }
        self.update_coefficients();
        self.reset();
        Ok(())
    }

    fn process(&mut self, block: &mut [&mut [f64]]) {
        self.run(block, &[]);
    }

    fn process_with_sidechain(&mut self, block: &mut [&mut [f64]], key: &[&[f64]]) {
        let frames = block.first().map_or(0, |c| c.len());
        let key_usable = self.options.external_sidechain
            && !key.is_empty()
            && key.iter().all(|k| k.len() >= frames);
        self.run(block, if key_usable { key } else { &[] });
    }

    /// Starts closed, fully attenuated (as a gate at rest on silence).
    fn reset(&mut self) {
        for s in [
            &mut self.threshold_db,
            &mut self.inv_ratio,
            &mut self.range_db,
            &mut self.hysteresis_db,
        ] {
            s.reset();
        }
        self.open = false;
        self.hold_left = 0;
        self.attenuation.reset(-self.range_db.target());
        self.level.reset();
        self.key.reset();
        self.delays.iter_mut().for_each(Delay::reset);
    }

    fn latency_frames(&self) -> usize {
        self.latency_frames
    }

    fn sidechain_channels(&self) -> usize {
        if self.options.external_sidechain {
            EXTERNAL_KEY_CHANNELS
        } else {
            0
        }
    }

    /// Threshold, ratio, range and hysteresis ramp over 20 ms (ratio as
    /// 1/R, so a ramp to ∞ is finite); hold, attack and release take effect
    /// at once; `sidechain_hpf_hz` = 0 removes the key high-pass;
    /// `lookahead_ms` sets the latency and only accepts its current value.
    fn set_parameter(&mut self, name: &str, value: f64) -> Result<(), CoreError> {
        let o = &mut self.options;
        match name {
            "threshold_db" => {
                o.threshold_db = check_threshold(value)?;
                self.threshold_db.set_target(value);
            }
            "ratio" => {
                o.ratio = check_ratio(value)?;
                self.inv_ratio.set_target(1.0 / value);
            }
            "range_db" => {
                o.range_db = check_range(value)?;
                self.range_db.set_target(value);
            }
            "hysteresis_db" => {
                o.hysteresis_db = check_hysteresis(value)?;
                self.hysteresis_db.set_target(value);
            }
            "hold_ms" => o.hold_ms = check_hold(value)?,
            "attack_ms" => o.attack_ms = check_attack(value)?,
            "release_ms" => o.release_ms = check_release(value)?,
            "sidechain_hpf_hz" => {
                o.sidechain_hpf_hz = if value == 0.0 {
                    None
                } else {
                    Some(check_sidechain_hpf(value)?)
                };
            }
            "lookahead_ms" => {
                if value != o.lookahead_ms {
                    return Err(fixed("lookahead_ms", value));
                }
            }
            _ => {
                return Err(CoreError::UnknownParameter {
                    name: name.to_string(),
                    valid: GATE_PARAMETERS.to_string(),
                });
            }
        }
        self.update_coefficients();
        Ok(())
    }
}
