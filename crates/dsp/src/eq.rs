//! Parametric EQ: any number of bands in series — bell, low shelf, high
//! shelf, notch, tilt — whose magnitude follows the **analog** prototypes
//! of the RBJ Audio-EQ cookbook within 0.1 dB up to 0.45·fs.
//!
//! Each band is designed by [`match_analog`]: a biquad plus a first-order
//! section fitted to the analog magnitude (see that module for the method
//! and why plain bilinear designs "cramp" near Nyquist). Boosts are fitted
//! directly; a cut is the reciprocal of the boost of the same size, exactly
//! as in the analog domain (`bell(−g) = 1/bell(g)`, `low_shelf(−g) =
//! 1/low_shelf(g)`, `high_shelf(g) = A²/low_shelf(g)` with `A² = 10^(g/20)`,
//! `tilt(−g) = 1/tilt(g)`), so a cut and the boost of the same size
//! multiply to 1 (up to rounding), and every section is stable (the fitted
//! boosts are minimum phase).
//! A band with `gain_db = 0` is the identity section: the EQ is then an
//! exact pass-through.
//!
//! # Parameters
//!
//! Named as in the session file, `bands.<index>.<field>` with the index in
//! the order of [`EqOptions::bands`]: `bands.0.freq_hz`, `bands.0.gain_db`,
//! `bands.0.q`, and for a tilt band `bands.3.pivot_hz`, `bands.3.gain_db`.
//! Frequency and q glide in the log domain, gain in dB, all over
//! `smoothing_ms`, with a new design every
//! [`SEGMENT_FRAMES`] frames and linear
//! coefficient glides in between.
//!
//! Valid ranges: frequencies 10 ..= 40000 Hz (designed at no more than
//! 0.45·fs), gains −24 ..= +24 dB, q 0.1 ..= 10. The 0.1 dB accuracy is
//! verified for f0 ≤ 0.4·fs, |gain| ≤ 18 dB and q 0.1 ..= 10.

use mixmaster_core::{CoreError, Processor};

use crate::analog_match::{AnalogSection, match_analog};
use crate::biquad::{Coefficients, SEGMENT_FRAMES, SectionChain, TAIL_DECAY_DB, decay_frames};
use crate::filter::{
    BUTTERWORTH_Q, check_freq, check_q, check_range, check_sample_rate, design_omega,
};
use crate::smoothing::{DEFAULT_SMOOTHING_MS, LinearSmoother, ramp_frames};

/// Default q of the shelves when the session gives none: 1/√2 (the
/// cookbook's shelf slope S = 1, the steepest without overshoot).
pub const DEFAULT_SHELF_Q: f64 = BUTTERWORTH_Q;

/// One EQ band.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Band {
    /// Peaking EQ, `gain_db` at `freq_hz`, bandwidth set by `q`.
    Bell {
        /// Centre frequency.
        freq_hz: f64,
        /// Gain at the centre.
        gain_db: f64,
        /// Quality factor.
        q: f64,
    },
    /// Low shelf, half its gain (in dB) at `freq_hz`.
    LowShelf {
        /// Mid-point frequency.
        freq_hz: f64,
        /// Gain at DC.
        gain_db: f64,
        /// Quality factor (resonance at the knee above 1/√2).
        q: f64,
    },
    /// High shelf, half its gain (in dB) at `freq_hz`.
    HighShelf {
        /// Mid-point frequency.
        freq_hz: f64,
        /// Gain at high frequencies.
        gain_db: f64,
        /// Quality factor.
        q: f64,
    },
    /// Notch: zero gain at `freq_hz`, −3 dB bandwidth `freq_hz/q`.
    Notch {
        /// Notch frequency.
        freq_hz: f64,
        /// Quality factor.
        q: f64,
    },
    /// Tilt: −`gain_db/2` at low and +`gain_db/2` at high frequencies,
    /// 0 dB at `pivot_hz` (first-order shelves, 6 dB/oct transition).
    Tilt {
        /// Frequency that stays at 0 dB.
        pivot_hz: f64,
        /// Difference between the high and the low end.
        gain_db: f64,
    },
}

impl Band {
    /// A bell.
    pub fn bell(freq_hz: f64, gain_db: f64, q: f64) -> Self {
        Self::Bell {
            freq_hz,
            gain_db,
            q,
        }
    }

    /// A low shelf with the default q.
    pub fn low_shelf(freq_hz: f64, gain_db: f64) -> Self {
        Self::LowShelf {
            freq_hz,
            gain_db,
            q: DEFAULT_SHELF_Q,
        }
    }

    /// A high shelf with the default q.
    pub fn high_shelf(freq_hz: f64, gain_db: f64) -> Self {
        Self::HighShelf {
            freq_hz,
            gain_db,
            q: DEFAULT_SHELF_Q,
        }
    }

    /// The session-file name of the band type.
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Bell { .. } => "bell",
            Self::LowShelf { .. } => "low_shelf",
            Self::HighShelf { .. } => "high_shelf",
            Self::Notch { .. } => "notch",
            Self::Tilt { .. } => "tilt",
        }
    }

    /// `(frequency, gain_db, q)`, with 0 dB and q 1 where the type has none.
    fn values(&self) -> (f64, f64, f64) {
        match *self {
            Self::Bell {
                freq_hz,
                gain_db,
                q,
            }
            | Self::LowShelf {
                freq_hz,
                gain_db,
                q,
            }
            | Self::HighShelf {
                freq_hz,
                gain_db,
                q,
            } => (freq_hz, gain_db, q),
            Self::Notch { freq_hz, q } => (freq_hz, 0.0, q),
            Self::Tilt { pivot_hz, gain_db } => (pivot_hz, gain_db, 1.0),
        }
    }

    fn freq_name(&self) -> &'static str {
        if matches!(self, Self::Tilt { .. }) {
            "pivot_hz"
        } else {
            "freq_hz"
        }
    }

    fn has_gain(&self) -> bool {
        !matches!(self, Self::Notch { .. })
    }

    fn has_q(&self) -> bool {
        !matches!(self, Self::Tilt { .. })
    }

    /// The band with its frequency, gain and q replaced.
    fn with_values(self, freq: f64, gain_db: f64, q: f64) -> Self {
        match self {
            Self::Bell { .. } => Self::bell(freq, gain_db, q),
            Self::LowShelf { .. } => Self::LowShelf {
                freq_hz: freq,
                gain_db,
                q,
            },
            Self::HighShelf { .. } => Self::HighShelf {
                freq_hz: freq,
                gain_db,
                q,
            },
            Self::Notch { .. } => Self::Notch { freq_hz: freq, q },
            Self::Tilt { .. } => Self::Tilt {
                pivot_hz: freq,
                gain_db,
            },
        }
    }

    fn validate(&self) -> Result<(), CoreError> {
        let (f, g, q) = self.values();
        check_freq(self.freq_name(), f)?;
        check_gain(g)?;
        check_q(q)
    }

    /// The analog prototype `H_a(s)` of the band, `s` normalised to the band
    /// frequency (the oracle the tests compare against).
    pub fn analog(&self) -> AnalogSection {
        let (_, g, q) = self.values();
        match self {
            Self::Bell { .. } => AnalogSection::bell(g, q),
            Self::LowShelf { .. } => AnalogSection::low_shelf(g, q),
            Self::HighShelf { .. } => AnalogSection::high_shelf(g, q),
            Self::Notch { .. } => AnalogSection::notch(q),
            Self::Tilt { .. } => AnalogSection::tilt(g),
        }
    }

    /// Analog magnitude `|H_a(j·2π·f)|` of the band at `freq_hz`.
    pub fn analog_magnitude(&self, freq_hz: f64) -> f64 {
        self.analog().magnitude(freq_hz / self.values().0)
    }

    /// The digital sections of the band at `sample_rate_hz` (no allocation).
    pub fn design(&self, sample_rate_hz: f64) -> [Coefficients; 2] {
        let (f, g, q) = self.values();
        let omega0 = design_omega(f, sample_rate_hz);
        let invert = |s: [Coefficients; 2]| [s[0].inverted(), s[1].inverted()];
        match self {
            Self::Notch { .. } => match_analog(&AnalogSection::notch(q), omega0),
            _ if g == 0.0 => [Coefficients::IDENTITY; 2],
            Self::Bell { .. } => {
                let s = match_analog(&AnalogSection::bell(g.abs(), q), omega0);
                if g > 0.0 { s } else { invert(s) }
            }
            Self::LowShelf { .. } => {
                let s = match_analog(&AnalogSection::low_shelf(g.abs(), q), omega0);
                if g > 0.0 { s } else { invert(s) }
            }
            Self::HighShelf { .. } => {
                // high_shelf(g) = A²/low_shelf(g) = A²·low_shelf(−g).
                let s = match_analog(&AnalogSection::low_shelf(g.abs(), q), omega0);
                let s = if g > 0.0 { invert(s) } else { s };
                [s[0].scaled(10f64.powf(g / 20.0)), s[1]]
            }
            Self::Tilt { .. } => {
                let s = match_analog(&AnalogSection::tilt(g.abs()), omega0);
                if g > 0.0 { s } else { invert(s) }
            }
        }
    }
}

fn check_gain(value: f64) -> Result<(), CoreError> {
    check_range("gain_db", value, -24.0, 24.0, "-24 ..= 24 dB")
}

/// Settings of [`Eq`](struct@Eq).
#[derive(Debug, Clone, PartialEq)]
pub struct EqOptions {
    /// Bands, applied in this order.
    pub bands: Vec<Band>,
    /// Glide time of parameter changes (0 ..= 1000 ms).
    pub smoothing_ms: f64,
}

impl Default for EqOptions {
    fn default() -> Self {
        Self {
            bands: Vec::new(),
            smoothing_ms: DEFAULT_SMOOTHING_MS,
        }
    }
}

#[derive(Debug, Clone)]
struct BandState {
    /// Target setting.
    band: Band,
    log_freq: LinearSmoother,
    gain_db: LinearSmoother,
    log_q: LinearSmoother,
}

impl BandState {
    fn new(band: Band, ramp: usize) -> Self {
        let (f, g, q) = band.values();
        Self {
            band,
            log_freq: LinearSmoother::new(f.log2(), ramp),
            gain_db: LinearSmoother::new(g, ramp),
            log_q: LinearSmoother::new(q.ln(), ramp),
        }
    }

    fn ramping(&self) -> bool {
        self.log_freq.is_ramping() || self.gain_db.is_ramping() || self.log_q.is_ramping()
    }

    fn current_design(&self, sample_rate_hz: f64) -> [Coefficients; 2] {
        self.band
            .with_values(
                self.log_freq.current().exp2(),
                self.gain_db.current(),
                self.log_q.current().exp(),
            )
            .design(sample_rate_hz)
    }

    fn process(
        &mut self,
        chain: &mut SectionChain,
        block: &mut [&mut [f64]],
        frames: usize,
        sample_rate_hz: f64,
    ) {
        let mut i = 0;
        while i < frames {
            if chain.segment_left() == 0 && self.ramping() {
                let left = self
                    .log_freq
                    .remaining()
                    .max(self.gain_db.remaining())
                    .max(self.log_q.remaining());
                let len = SEGMENT_FRAMES.min(left);
                self.log_freq.advance(len);
                self.gain_db.advance(len);
                self.log_q.advance(len);
                let design = self.current_design(sample_rate_hz);
                chain.glide_to(&design, len);
            }
            let left = chain.segment_left();
            let n = if left > 0 {
                left.min(frames - i)
            } else {
                frames - i
            };
            chain.process(block, i, i + n);
            i += n;
        }
    }
}

/// Parametric EQ, the same filter on every channel.
#[derive(Debug, Clone)]
pub struct Eq {
    options: EqOptions,
    sample_rate_hz: f64,
    bands: Vec<BandState>,
    /// The sections of each band (two per band), in band order.
    chains: Vec<SectionChain>,
}

impl Eq {
    /// An EQ; fails with the valid range on a bad band setting.
    pub fn new(options: EqOptions) -> Result<Self, CoreError> {
        for band in &options.bands {
            band.validate()?;
        }
        check_range(
            "smoothing_ms",
            options.smoothing_ms,
            0.0,
            1000.0,
            "0 ..= 1000",
        )?;
        let bands = options
            .bands
            .iter()
            .map(|&b| BandState::new(b, 1))
            .collect();
        let chains = options.bands.iter().map(|_| SectionChain::new(2)).collect();
        Ok(Self {
            options,
            sample_rate_hz: 48_000.0,
            bands,
            chains,
        })
    }

    /// The bands (targets of any glide in progress).
    pub fn bands(&self) -> Vec<Band> {
        self.bands.iter().map(|b| b.band).collect()
    }

    /// Digital sections of band `index` at its target setting (valid after
    /// `prepare`).
    pub fn band_sections(&self, index: usize) -> Option<&[Coefficients]> {
        self.chains.get(index).map(SectionChain::target)
    }

    /// All digital sections in series (for response plots and tests).
    pub fn sections(&self) -> Vec<Coefficients> {
        self.chains
            .iter()
            .flat_map(|c| c.target().iter().copied())
            .collect()
    }

    /// The bands' sections when nothing is ramping or gliding (a host may
    /// then run them fused with others: [`SectionChain::process_series`]).
    pub fn static_chains(&mut self) -> Option<&mut [SectionChain]> {
        let idle = self
            .bands
            .iter()
            .zip(&self.chains)
            .all(|(b, c)| !b.ramping() && c.is_static());
        idle.then_some(self.chains.as_mut_slice())
    }

    fn parameter_names(&self) -> String {
        let mut v = Vec::new();
        for (i, b) in self.bands.iter().enumerate() {
            v.push(format!("bands.{i}.{}", b.band.freq_name()));
            if b.band.has_gain() {
                v.push(format!("bands.{i}.gain_db"));
            }
            if b.band.has_q() {
                v.push(format!("bands.{i}.q"));
            }
        }
        v.join(", ")
    }
}

impl Processor for Eq {
    fn prepare(
        &mut self,
        sample_rate_hz: u32,
        _max_block_frames: usize,
        channels: usize,
    ) -> Result<(), CoreError> {
        check_sample_rate(sample_rate_hz)?;
        self.sample_rate_hz = f64::from(sample_rate_hz);
        let ramp = ramp_frames(self.options.smoothing_ms, sample_rate_hz);
        for (state, chain) in self.bands.iter_mut().zip(&mut self.chains) {
            let band = state.band;
            *state = BandState::new(band, ramp);
            chain.prepare(channels);
            chain.set_immediate(&band.design(self.sample_rate_hz));
        }
        Ok(())
    }

    fn process(&mut self, block: &mut [&mut [f64]]) {
        let frames = block.first().map_or(0, |c| c.len());
        if let Some(chains) = self.static_chains() {
            // Every band static: all sections in one pass.
            SectionChain::process_series(chains, block, 0, frames);
            return;
        }
        for (band, chain) in self.bands.iter_mut().zip(&mut self.chains) {
            band.process(chain, block, frames, self.sample_rate_hz);
        }
    }

    fn reset(&mut self) {
        for (state, chain) in self.bands.iter_mut().zip(&mut self.chains) {
            let (f, g, q) = state.band.values();
            state.log_freq.set_immediate(f.log2());
            state.gain_db.set_immediate(g);
            state.log_q.set_immediate(q.ln());
            chain.set_immediate(&state.band.design(self.sample_rate_hz));
            chain.reset();
        }
    }

    fn tail_frames(&self) -> usize {
        decay_frames(&self.sections(), TAIL_DECAY_DB)
    }

    fn as_any_mut(&mut self) -> Option<&mut dyn std::any::Any> {
        Some(self)
    }

    fn set_parameter(&mut self, name: &str, value: f64) -> Result<(), CoreError> {
        let unknown = |eq: &Self| CoreError::UnknownParameter {
            name: name.to_string(),
            valid: eq.parameter_names(),
        };
        let mut parts = name.splitn(3, '.');
        let (Some("bands"), Some(index), Some(field)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(unknown(self));
        };
        let Some(index) = index
            .parse::<usize>()
            .ok()
            .filter(|&i| i < self.bands.len())
        else {
            return Err(unknown(self));
        };
        let state = &mut self.bands[index];
        let band = state.band;
        let (f, g, q) = band.values();
        match field {
            f_name if f_name == band.freq_name() => {
                check_freq(band.freq_name(), value)?;
                state.band = band.with_values(value, g, q);
                state.log_freq.set_target(value.log2());
            }
            "gain_db" if band.has_gain() => {
                check_gain(value)?;
                state.band = band.with_values(f, value, q);
                state.gain_db.set_target(value);
            }
            "q" if band.has_q() => {
                check_q(value)?;
                state.band = band.with_values(f, g, value);
                state.log_q.set_target(value.ln());
            }
            _ => return Err(unknown(self)),
        }
        Ok(())
    }
}
