//! Second-order sections ("biquads") in `f64`: coefficients, the evaluation
//! of their digital response `H(e^{jω})`, the transposed direct form II
//! state, and a chain of sections whose coefficients glide linearly from one
//! set to the next, so that a change of setting never clicks.
//!
//! Transfer function of one section, `a0` normalised to 1:
//!
//! ```text
//!         b0 + b1·z⁻¹ + b2·z⁻²
//! H(z) = ----------------------
//!          1 + a1·z⁻¹ + a2·z⁻²
//! ```
//!
//! Transposed direct form II (J. O. Smith, *Introduction to Digital
//! Filters*, "Transposed Direct-Forms"): `y = b0·x + s1`,
//! `s1 ← b1·x − a1·y + s2`, `s2 ← b2·x − a2·y`. Two state variables, one
//! rounding per product; in `f64` the round-off of a 20 Hz section at 192 kHz
//! is far below the 24-bit LSB.
//!
//! **Safe interpolation.** A section is stable iff `(a1, a2)` lies inside the
//! triangle `|a2| < 1, |a1| < 1 + a2` (Jury's criterion). The triangle is
//! convex, so every point on the straight line between two stable sections is
//! stable: gliding the coefficients linearly from one stable design to
//! another can never make the filter blow up. [`SectionChain`] glides this
//! way, one segment at a time; the processors put segments of at most
//! [`SEGMENT_FRAMES`] frames between designs computed along the parameter
//! ramp, so the path follows the designed responses closely.

use mixmaster_core::{CoreError, Processor};

use crate::smoothing::{DEFAULT_SMOOTHING_MS, ramp_frames};

/// Frames between two designs computed along a parameter ramp; the
/// coefficients glide linearly in between.
pub const SEGMENT_FRAMES: usize = 32;

/// State values below this magnitude are set to zero, so a decaying filter
/// never reaches subnormal numbers (which are slow on most CPUs). 1e-150 is
/// some 3000 dB below full scale.
pub const DENORMAL_FLOOR: f64 = 1e-150;

/// Coefficients of one second-order section, `a0 = 1`. A first-order section
/// is a biquad with `b2 = a2 = 0`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Coefficients {
    /// Feed-forward coefficient of `x[n]`.
    pub b0: f64,
    /// Feed-forward coefficient of `x[n−1]`.
    pub b1: f64,
    /// Feed-forward coefficient of `x[n−2]`.
    pub b2: f64,
    /// Feedback coefficient of `y[n−1]`.
    pub a1: f64,
    /// Feedback coefficient of `y[n−2]`.
    pub a2: f64,
}

impl Default for Coefficients {
    fn default() -> Self {
        Self::IDENTITY
    }
}

impl Coefficients {
    /// The section that passes its input unchanged (bit-exactly).
    pub const IDENTITY: Self = Self {
        b0: 1.0,
        b1: 0.0,
        b2: 0.0,
        a1: 0.0,
        a2: 0.0,
    };

    /// A section from numerator `[b0, b1, b2]` and denominator
    /// `[a0, a1, a2]`, normalised so that `a0 = 1`.
    pub fn from_polynomials(b: [f64; 3], a: [f64; 3]) -> Self {
        Self {
            b0: b[0] / a[0],
            b1: b[1] / a[0],
            b2: b[2] / a[0],
            a1: a[1] / a[0],
            a2: a[2] / a[0],
        }
    }

    /// True for the identity section.
    pub fn is_identity(&self) -> bool {
        *self == Self::IDENTITY
    }

    /// The section scaled by a gain (numerator times `gain`).
    pub fn scaled(self, gain: f64) -> Self {
        Self {
            b0: self.b0 * gain,
            b1: self.b1 * gain,
            b2: self.b2 * gain,
            ..self
        }
    }

    /// The reciprocal section `1/H(z)`: numerator and denominator swapped.
    /// Stable when the section is minimum phase (zeros inside the unit
    /// circle), which every design in this crate guarantees for the sections
    /// it inverts.
    pub fn inverted(self) -> Self {
        Self::from_polynomials([1.0, self.a1, self.a2], [self.b0, self.b1, self.b2])
    }

    /// True when both poles lie strictly inside the unit circle (Jury).
    pub fn is_stable(&self) -> bool {
        self.a2.abs() < 1.0 && self.a1.abs() < 1.0 + self.a2
    }

    /// Largest magnitude of the two poles.
    pub fn pole_radius(&self) -> f64 {
        let disc = self.a1 * self.a1 - 4.0 * self.a2;
        if disc < 0.0 {
            self.a2.sqrt()
        } else {
            0.5 * (self.a1.abs() + disc.sqrt())
        }
    }

    /// `self + (other − self)·t`, coefficient by coefficient.
    #[inline]
    pub fn lerp(&self, other: &Self, t: f64) -> Self {
        Self {
            b0: self.b0 + (other.b0 - self.b0) * t,
            b1: self.b1 + (other.b1 - self.b1) * t,
            b2: self.b2 + (other.b2 - self.b2) * t,
            a1: self.a1 + (other.a1 - self.a1) * t,
            a2: self.a2 + (other.a2 - self.a2) * t,
        }
    }

    /// Complex response `H(e^{jω})` at `omega` radians per sample, as
    /// `(re, im)`.
    pub fn response(&self, omega: f64) -> (f64, f64) {
        let (s1, c1) = omega.sin_cos();
        let (s2, c2) = (2.0 * omega).sin_cos();
        let nr = self.b0 + self.b1 * c1 + self.b2 * c2;
        let ni = -(self.b1 * s1 + self.b2 * s2);
        let dr = 1.0 + self.a1 * c1 + self.a2 * c2;
        let di = -(self.a1 * s1 + self.a2 * s2);
        let d = dr * dr + di * di;
        ((nr * dr + ni * di) / d, (ni * dr - nr * di) / d)
    }

    /// `|H(e^{jω})|²` at `omega` radians per sample.
    pub fn magnitude_squared(&self, omega: f64) -> f64 {
        let (re, im) = self.response(omega);
        re * re + im * im
    }

    /// `|H|` at `freq_hz` for a sample rate of `sample_rate_hz`.
    pub fn magnitude(&self, freq_hz: f64, sample_rate_hz: f64) -> f64 {
        self.magnitude_squared(2.0 * std::f64::consts::PI * freq_hz / sample_rate_hz)
            .sqrt()
    }
}

/// `|H(e^{jω})|` of sections in series at `freq_hz`.
pub fn cascade_magnitude(sections: &[Coefficients], freq_hz: f64, sample_rate_hz: f64) -> f64 {
    let omega = 2.0 * std::f64::consts::PI * freq_hz / sample_rate_hz;
    sections
        .iter()
        .map(|c| c.magnitude_squared(omega))
        .product::<f64>()
        .sqrt()
}

/// `20·log10 |H|` of sections in series at `freq_hz`.
pub fn cascade_magnitude_db(sections: &[Coefficients], freq_hz: f64, sample_rate_hz: f64) -> f64 {
    20.0 * cascade_magnitude(sections, freq_hz, sample_rate_hz).log10()
}

/// Frames until the impulse response of stable sections in series has
/// decayed by `decay_db` (a tail estimate from the slowest pole:
/// `r^n = 10^(−decay_db/20)`).
pub fn decay_frames(sections: &[Coefficients], decay_db: f64) -> usize {
    let r = sections
        .iter()
        .map(Coefficients::pole_radius)
        .fold(0.0, f64::max);
    if r <= 0.0 {
        return sections.iter().filter(|c| !c.is_identity()).count() * 2;
    }
    if r >= 1.0 {
        return usize::MAX;
    }
    let n = (-decay_db / 20.0 * std::f64::consts::LN_10 / r.ln()).ceil();
    n as usize + 2 * sections.len()
}

/// Decay that [`Processor::tail_frames`] of the filters reports: 120 dB.
pub const TAIL_DECAY_DB: f64 = 120.0;

/// The state of one section on one channel (transposed direct form II).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct BiquadState {
    s1: f64,
    s2: f64,
}

impl BiquadState {
    /// Filters one sample.
    #[inline]
    pub fn tick(&mut self, c: &Coefficients, x: f64) -> f64 {
        let y = c.b0 * x + self.s1;
        let s1 = c.b1 * x - c.a1 * y + self.s2;
        let s2 = c.b2 * x - c.a2 * y;
        self.s1 = if s1.abs() < DENORMAL_FLOOR { 0.0 } else { s1 };
        self.s2 = if s2.abs() < DENORMAL_FLOOR { 0.0 } else { s2 };
        y
    }

    /// Clears the state.
    pub fn reset(&mut self) {
        *self = Self::default();
    }
}

/// Sections in series, applied to every channel alike, whose coefficients
/// glide linearly from the set at the start of a segment to the set at its
/// end (see the module docs for why this is safe). The last frame of a
/// segment uses the end set exactly. Allocates only in
/// [`new`](Self::new) and [`prepare`](Self::prepare).
#[derive(Debug, Clone)]
pub struct SectionChain {
    start: Vec<Coefficients>,
    end: Vec<Coefficients>,
    segment_frames: usize,
    segment_pos: usize,
    /// `channels × sections`, channel-major.
    states: Vec<BiquadState>,
}

impl SectionChain {
    /// A chain of `sections` identity sections.
    pub fn new(sections: usize) -> Self {
        Self {
            start: vec![Coefficients::IDENTITY; sections],
            end: vec![Coefficients::IDENTITY; sections],
            segment_frames: 0,
            segment_pos: 0,
            states: Vec::new(),
        }
    }

    /// Number of sections.
    pub fn sections(&self) -> usize {
        self.end.len()
    }

    /// Allocates the state of `channels` channels (cleared).
    pub fn prepare(&mut self, channels: usize) {
        self.states = vec![BiquadState::default(); channels * self.sections()];
    }

    /// Clears the state and ends any glide at its end set.
    pub fn reset(&mut self) {
        self.states.iter_mut().for_each(BiquadState::reset);
        self.start.copy_from_slice(&self.end);
        self.segment_frames = 0;
        self.segment_pos = 0;
    }

    /// The set the chain is at or gliding to.
    pub fn target(&self) -> &[Coefficients] {
        &self.end
    }

    /// Frames left in the current glide (0 when static).
    pub fn segment_left(&self) -> usize {
        self.segment_frames - self.segment_pos
    }

    fn current(&self, section: usize) -> Coefficients {
        if self.segment_frames == 0 {
            self.end[section]
        } else {
            let t = self.segment_pos as f64 / self.segment_frames as f64;
            self.start[section].lerp(&self.end[section], t)
        }
    }

    /// Sets the coefficients at once (no glide); `sections` must have
    /// [`sections()`](Self::sections) entries.
    pub fn set_immediate(&mut self, sections: &[Coefficients]) {
        self.end.copy_from_slice(sections);
        self.start.copy_from_slice(sections);
        self.segment_frames = 0;
        self.segment_pos = 0;
    }

    /// Starts a glide from the current coefficients to `sections` over
    /// `frames` frames (at least 1). Never allocates.
    pub fn glide_to(&mut self, sections: &[Coefficients], frames: usize) {
        for i in 0..self.end.len() {
            self.start[i] = self.current(i);
        }
        self.end.copy_from_slice(sections);
        self.segment_frames = frames.max(1);
        self.segment_pos = 0;
    }

    /// Filters frames `from..to` of every channel of `block` in place. Within
    /// a glide, `to − from` must not exceed [`segment_left`](Self::segment_left).
    pub fn process(&mut self, block: &mut [&mut [f64]], from: usize, to: usize) {
        let n_sec = self.end.len();
        if n_sec == 0 || from >= to {
            return;
        }
        let gliding = self.segment_frames > 0;
        if !gliding && n_sec <= 64 {
            // Sample by sample through every section: the sections' recursions
            // overlap in the pipeline (a section-by-section pass waits on one
            // recursion at a time). Each section sees the same inputs in the
            // same order, so the result is identical.
            for (ch, samples) in block.iter_mut().enumerate() {
                let states = &mut self.states[ch * n_sec..(ch + 1) * n_sec];
                let mut active = 0u64;
                for (s, (state, c)) in states.iter().zip(&self.end).enumerate() {
                    if !(c.is_identity() && *state == BiquadState::default()) {
                        active |= 1 << s;
                    }
                }
                if active == 0 {
                    continue;
                }
                for x in &mut samples[from..to] {
                    let mut v = *x;
                    for (s, (state, c)) in states.iter_mut().zip(&self.end).enumerate() {
                        if active & (1 << s) != 0 {
                            v = state.tick(c, v);
                        }
                    }
                    *x = v;
                }
            }
            return;
        }
        for (ch, samples) in block.iter_mut().enumerate() {
            let states = &mut self.states[ch * n_sec..(ch + 1) * n_sec];
            for (s, state) in states.iter_mut().enumerate() {
                let (c0, c1) = (self.start[s], self.end[s]);
                if !gliding {
                    if c1.is_identity() && *state == BiquadState::default() {
                        continue;
                    }
                    for x in &mut samples[from..to] {
                        *x = state.tick(&c1, *x);
                    }
                } else {
                    let inv = 1.0 / self.segment_frames as f64;
                    for (k, x) in samples[from..to].iter_mut().enumerate() {
                        let t = (self.segment_pos + k + 1) as f64 * inv;
                        *x = state.tick(&c0.lerp(&c1, t), *x);
                    }
                }
            }
        }
        if gliding {
            self.segment_pos += to - from;
            if self.segment_pos >= self.segment_frames {
                self.start.copy_from_slice(&self.end);
                self.segment_frames = 0;
                self.segment_pos = 0;
            }
        }
    }
}

/// Settings of [`BiquadCascade`].
#[derive(Debug, Clone, PartialEq)]
pub struct BiquadCascadeOptions {
    /// Sections in series (at most [`BiquadCascade::MAX_SECTIONS`]); each
    /// must be stable.
    pub sections: Vec<Coefficients>,
    /// Length of the glide when the sections change, in ms (0 ..= 1000).
    pub smoothing_ms: f64,
}

impl Default for BiquadCascadeOptions {
    fn default() -> Self {
        Self {
            sections: vec![Coefficients::IDENTITY],
            smoothing_ms: DEFAULT_SMOOTHING_MS,
        }
    }
}

/// A cascade of user-given sections (the building block the other filters
/// share, usable on its own for coefficients designed elsewhere). A new set
/// given with [`set_sections`](Self::set_sections) is reached by a linear
/// glide of the coefficients over `smoothing_ms`, which is always stable.
#[derive(Debug, Clone)]
pub struct BiquadCascade {
    options: BiquadCascadeOptions,
    chain: SectionChain,
    glide_frames: usize,
}

impl BiquadCascade {
    /// Most sections a cascade may hold.
    pub const MAX_SECTIONS: usize = 64;

    /// A cascade; fails on an unstable section, too many sections or a
    /// smoothing time outside 0 ..= 1000 ms.
    pub fn new(options: BiquadCascadeOptions) -> Result<Self, CoreError> {
        check_sections(&options.sections)?;
        crate::filter::check_range(
            "smoothing_ms",
            options.smoothing_ms,
            0.0,
            1000.0,
            "0 ..= 1000",
        )?;
        let mut chain = SectionChain::new(options.sections.len());
        chain.set_immediate(&options.sections);
        Ok(Self {
            options,
            chain,
            glide_frames: 1,
        })
    }

    /// The sections the cascade is at or gliding to.
    pub fn sections(&self) -> &[Coefficients] {
        self.chain.target()
    }

    /// Glides to a new set of as many sections as the cascade has.
    pub fn set_sections(&mut self, sections: &[Coefficients]) -> Result<(), CoreError> {
        check_sections(sections)?;
        if sections.len() != self.chain.sections() {
            return Err(CoreError::OutOfRange {
                name: "sections (count)",
                value: sections.len() as f64,
                range: "the section count given at construction",
            });
        }
        self.chain.glide_to(sections, self.glide_frames);
        Ok(())
    }
}

fn check_sections(sections: &[Coefficients]) -> Result<(), CoreError> {
    if sections.len() > BiquadCascade::MAX_SECTIONS {
        return Err(CoreError::OutOfRange {
            name: "sections (count)",
            value: sections.len() as f64,
            range: "0 ..= 64",
        });
    }
    for c in sections {
        let finite = [c.b0, c.b1, c.b2, c.a1, c.a2].iter().all(|v| v.is_finite());
        if !finite || !c.is_stable() {
            return Err(CoreError::OutOfRange {
                name: "sections (a1, a2)",
                value: c.a2,
                range: "a stable section: |a2| < 1 and |a1| < 1 + a2, all coefficients finite",
            });
        }
    }
    Ok(())
}

impl Processor for BiquadCascade {
    fn prepare(
        &mut self,
        sample_rate_hz: u32,
        _max_block_frames: usize,
        channels: usize,
    ) -> Result<(), CoreError> {
        crate::filter::check_sample_rate(sample_rate_hz)?;
        self.glide_frames = ramp_frames(self.options.smoothing_ms, sample_rate_hz);
        self.chain.prepare(channels);
        self.chain.reset();
        Ok(())
    }

    fn process(&mut self, block: &mut [&mut [f64]]) {
        let frames = block.first().map_or(0, |c| c.len());
        let mut i = 0;
        while i < frames {
            let left = self.chain.segment_left();
            let n = if left > 0 {
                left.min(frames - i)
            } else {
                frames - i
            };
            self.chain.process(block, i, i + n);
            i += n;
        }
    }

    fn reset(&mut self) {
        self.chain.reset();
    }

    fn tail_frames(&self) -> usize {
        decay_frames(self.chain.target(), TAIL_DECAY_DB)
    }
}
