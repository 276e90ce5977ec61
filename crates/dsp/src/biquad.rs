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
//! `s1 ← (b1·x + s2) − a1·y`, `s2 ← b2·x − a2·y` (summed in that order so the
//! recursion through `y` is one multiply and one subtraction long). Two state variables, one
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

use std::borrow::BorrowMut;

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
        let s1 = (c.b1 * x + self.s2) - c.a1 * y;
        let s2 = c.b2 * x - c.a2 * y;
        self.s1 = if s1.abs() < DENORMAL_FLOOR { 0.0 } else { s1 };
        self.s2 = if s2.abs() < DENORMAL_FLOOR { 0.0 } else { s2 };
        y
    }

    /// Filters one sample without the denormal flush (the chains flush on a
    /// grid instead).
    #[inline]
    fn step(&mut self, c: &Coefficients, x: f64) -> f64 {
        let y = c.b0 * x + self.s1;
        self.s1 = (c.b1 * x + self.s2) - c.a1 * y;
        self.s2 = c.b2 * x - c.a2 * y;
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
///
/// **Speed.** A static chain runs two channels at once and every section per
/// sample, with the state in registers (up to [`FUSED_SECTIONS`] sections
/// per pass), so the sections' recursions overlap in the pipeline; identity
/// sections with a zero state are skipped (they would pass their input
/// unchanged). Denormal protection is a flush of tiny states every
/// [`FLUSH_FRAMES`] frames counted from the last reset — a fixed grid, so
/// the output is the same however the signal is cut into blocks.
#[derive(Debug, Clone)]
pub struct SectionChain {
    start: Vec<Coefficients>,
    end: Vec<Coefficients>,
    segment_frames: usize,
    segment_pos: usize,
    /// `channels × sections`, channel-major.
    states: Vec<BiquadState>,
    /// Frames since the last flush of tiny states.
    grid_pos: usize,
}

/// Frames between two flushes of tiny filter states (see [`SectionChain`]).
pub const FLUSH_FRAMES: usize = 256;

/// Sections one pass of the static kernel keeps in registers.
pub const FUSED_SECTIONS: usize = 8;

impl SectionChain {
    /// A chain of `sections` identity sections.
    pub fn new(sections: usize) -> Self {
        Self {
            start: vec![Coefficients::IDENTITY; sections],
            end: vec![Coefficients::IDENTITY; sections],
            segment_frames: 0,
            segment_pos: 0,
            states: Vec::new(),
            grid_pos: 0,
        }
    }

    /// Number of sections.
    pub fn sections(&self) -> usize {
        self.end.len()
    }

    /// Allocates the state of `channels` channels (cleared).
    pub fn prepare(&mut self, channels: usize) {
        self.states = vec![BiquadState::default(); channels * self.sections()];
        self.grid_pos = 0;
    }

    /// Clears the state and ends any glide at its end set.
    pub fn reset(&mut self) {
        self.states.iter_mut().for_each(BiquadState::reset);
        self.start.copy_from_slice(&self.end);
        self.segment_frames = 0;
        self.segment_pos = 0;
        self.grid_pos = 0;
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
        if self.segment_frames == 0 {
            Self::process_series(std::slice::from_mut(self), block, from, to);
            return;
        }
        let mut i = from;
        while i < to {
            let n = (to - i).min(FLUSH_FRAMES - self.grid_pos);
            self.glide_run(block, i, i + n);
            self.segment_pos += n;
            self.advance_grid(n);
            i += n;
        }
        if self.segment_pos >= self.segment_frames {
            self.start.copy_from_slice(&self.end);
            self.segment_frames = 0;
            self.segment_pos = 0;
        }
    }

    /// Filters frames `from..to` through several static chains in series
    /// (the bands of an EQ) in one pass: the same result as processing them
    /// one after the other, faster. Every chain must be static
    /// ([`segment_left`](Self::segment_left) = 0), prepared for the block's
    /// channels and processed the same frames since its last reset.
    pub fn process_series<C: BorrowMut<Self>>(
        chains: &mut [C],
        block: &mut [&mut [f64]],
        from: usize,
        to: usize,
    ) {
        debug_assert!(chains.iter().all(|c| c.borrow().segment_frames == 0));
        let Some(first) = chains.first() else {
            return;
        };
        let grid = first.borrow().grid_pos;
        debug_assert!(chains.iter().all(|c| c.borrow().grid_pos == grid));
        let mut i = from;
        while i < to {
            let n = (to - i).min(FLUSH_FRAMES - chains[0].borrow().grid_pos);
            static_run(chains, block, i, i + n);
            chains
                .iter_mut()
                .for_each(|c| c.borrow_mut().advance_grid(n));
            i += n;
        }
    }

    /// True when the chain is not gliding (it may join
    /// [`process_series`](Self::process_series)).
    pub fn is_static(&self) -> bool {
        self.segment_frames == 0
    }

    fn advance_grid(&mut self, frames: usize) {
        self.grid_pos += frames;
        if self.grid_pos >= FLUSH_FRAMES {
            self.grid_pos = 0;
            for s in &mut self.states {
                s.s1 = flush(s.s1);
                s.s2 = flush(s.s2);
            }
        }
    }

    /// One run of a glide (within one flush interval): coefficients
    /// interpolated per sample, section by section.
    fn glide_run(&mut self, block: &mut [&mut [f64]], from: usize, to: usize) {
        let n_sec = self.end.len();
        let inv = 1.0 / self.segment_frames as f64;
        for (ch, samples) in block.iter_mut().enumerate() {
            let states = &mut self.states[ch * n_sec..(ch + 1) * n_sec];
            for (s, state) in states.iter_mut().enumerate() {
                let (c0, c1) = (self.start[s], self.end[s]);
                for (k, x) in samples[from..to].iter_mut().enumerate() {
                    let t = (self.segment_pos + k + 1) as f64 * inv;
                    *x = state.step(&c0.lerp(&c1, t), *x);
                }
            }
        }
    }
}

#[inline]
fn flush(x: f64) -> f64 {
    if x.abs() < DENORMAL_FLOOR { 0.0 } else { x }
}

/// Where a fused section's state lives: chain, section.
type Slot = (usize, usize);

/// Runs frames `from..to` of `block` through the active sections of
/// `chains` (static), two channels at a time.
fn static_run<C: BorrowMut<SectionChain>>(
    chains: &mut [C],
    block: &mut [&mut [f64]],
    from: usize,
    to: usize,
) {
    let channels = block.len();
    let mut ch = 0;
    while ch < channels {
        let lanes = if ch + 1 < channels { 2 } else { 1 };
        let mut coeffs = [Coefficients::IDENTITY; FUSED_SECTIONS];
        let mut slots: [Slot; FUSED_SECTIONS] = [(0, 0); FUSED_SECTIONS];
        let mut count = 0;
        for ci in 0..chains.len() {
            let n_sec = chains[ci].borrow().end.len();
            for s in 0..n_sec {
                let chain = chains[ci].borrow();
                let c = chain.end[s];
                let idle =
                    |lane: usize| chain.states[(ch + lane) * n_sec + s] == BiquadState::default();
                if c.is_identity() && (0..lanes).all(idle) {
                    continue;
                }
                coeffs[count] = c;
                slots[count] = (ci, s);
                count += 1;
                if count == FUSED_SECTIONS {
                    fused_pass(chains, &coeffs, &slots, count, ch, lanes, block, from, to);
                    count = 0;
                }
            }
        }
        if count > 0 {
            fused_pass(chains, &coeffs, &slots, count, ch, lanes, block, from, to);
        }
        ch += lanes;
    }
}

/// Gathers the states of `count` sections for channels `ch..ch + lanes`,
/// runs the kernel, writes the states back.
#[allow(clippy::too_many_arguments)]
fn fused_pass<C: BorrowMut<SectionChain>>(
    chains: &mut [C],
    coeffs: &[Coefficients; FUSED_SECTIONS],
    slots: &[Slot; FUSED_SECTIONS],
    count: usize,
    ch: usize,
    lanes: usize,
    block: &mut [&mut [f64]],
    from: usize,
    to: usize,
) {
    // [section][lane] = (s1, s2)
    let mut st = [[(0.0, 0.0); 2]; FUSED_SECTIONS];
    for k in 0..count {
        let (ci, s) = slots[k];
        let n_sec = chains[ci].borrow().end.len();
        for (lane, v) in st[k].iter_mut().enumerate().take(lanes) {
            let state = chains[ci].borrow().states[(ch + lane) * n_sec + s];
            *v = (state.s1, state.s2);
        }
    }
    if lanes == 2 {
        let (a, b) = block.split_at_mut(ch + 1);
        let (x0, x1) = (&mut a[ch][from..to], &mut b[0][from..to]);
        macro_rules! dispatch2 {
            ($($n:literal)*) => {
                match count { $($n => kernel2::<$n>(coeffs, &mut st, x0, x1),)* _ => unreachable!() }
            };
        }
        dispatch2!(1 2 3 4 5 6 7 8);
    } else {
        let x0 = &mut block[ch][from..to];
        macro_rules! dispatch1 {
            ($($n:literal)*) => {
                match count { $($n => kernel1::<$n>(coeffs, &mut st, x0),)* _ => unreachable!() }
            };
        }
        dispatch1!(1 2 3 4 5 6 7 8);
    }
    for k in 0..count {
        let (ci, s) = slots[k];
        let n_sec = chains[ci].borrow().end.len();
        for (lane, v) in st[k].iter().enumerate().take(lanes) {
            let state = &mut chains[ci].borrow_mut().states[(ch + lane) * n_sec + s];
            (state.s1, state.s2) = *v;
        }
    }
}

/// `N` sections on two channels, sample by sample, state in locals, the two
/// channels in the lanes of one SIMD register. The arithmetic is
/// [`BiquadState::step`]'s, term for term (no fused multiply-add).
#[inline(always)]
fn kernel2<const N: usize>(
    coeffs: &[Coefficients; FUSED_SECTIONS],
    st: &mut [[(f64, f64); 2]; FUSED_SECTIONS],
    x0: &mut [f64],
    x1: &mut [f64],
) {
    use wide::f64x2;
    let b0: [f64x2; N] = std::array::from_fn(|k| f64x2::splat(coeffs[k].b0));
    let b1: [f64x2; N] = std::array::from_fn(|k| f64x2::splat(coeffs[k].b1));
    let b2: [f64x2; N] = std::array::from_fn(|k| f64x2::splat(coeffs[k].b2));
    let a1: [f64x2; N] = std::array::from_fn(|k| f64x2::splat(coeffs[k].a1));
    let a2: [f64x2; N] = std::array::from_fn(|k| f64x2::splat(coeffs[k].a2));
    let mut s1: [f64x2; N] = std::array::from_fn(|k| f64x2::new([st[k][0].0, st[k][1].0]));
    let mut s2: [f64x2; N] = std::array::from_fn(|k| f64x2::new([st[k][0].1, st[k][1].1]));
    for (a, b) in x0.iter_mut().zip(x1.iter_mut()) {
        let mut v = f64x2::new([*a, *b]);
        for k in 0..N {
            let y = b0[k] * v + s1[k];
            s1[k] = (b1[k] * v + s2[k]) - a1[k] * y;
            s2[k] = b2[k] * v - a2[k] * y;
            v = y;
        }
        let [ya, yb] = v.to_array();
        *a = ya;
        *b = yb;
    }
    for k in 0..N {
        let (p, q) = (s1[k].to_array(), s2[k].to_array());
        st[k][0] = (p[0], q[0]);
        st[k][1] = (p[1], q[1]);
    }
}

/// `N` sections on one channel (see [`kernel2`]).
#[inline(always)]
fn kernel1<const N: usize>(
    coeffs: &[Coefficients; FUSED_SECTIONS],
    st: &mut [[(f64, f64); 2]; FUSED_SECTIONS],
    x0: &mut [f64],
) {
    let c: [Coefficients; N] = std::array::from_fn(|k| coeffs[k]);
    let mut s1: [f64; N] = std::array::from_fn(|k| st[k][0].0);
    let mut s2: [f64; N] = std::array::from_fn(|k| st[k][0].1);
    for a in x0.iter_mut() {
        let mut v = *a;
        for k in 0..N {
            let c = &c[k];
            let y = c.b0 * v + s1[k];
            s1[k] = (c.b1 * v + s2[k]) - c.a1 * y;
            s2[k] = c.b2 * v - c.a2 * y;
            v = y;
        }
        *a = v;
    }
    for k in 0..N {
        st[k][0] = (s1[k], s2[k]);
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
