//! Digital sections whose magnitude matches an analog prototype's up to
//! 0.45·fs — no "cramping" near Nyquist.
//!
//! The bilinear transform maps the whole analog frequency axis onto
//! 0 … fs/2, so a digital filter designed with it is squeezed towards Nyquist:
//! a bell at 15 kHz (Q 0.7) at 44.1 kHz comes out far too narrow, a wide
//! bell at 1 kHz loses several dB at 20 kHz. The analog prototypes of the
//! RBJ cookbook (R. Bristow-Johnson, "Cookbook formulae for audio EQ biquad
//! filter coefficients", 2005) are what users expect to hear; this module
//! builds digital filters whose magnitude follows them.
//!
//! # Method (our own design; the idea of matching the magnitude rather than
//! mapping the poles follows M. Vicanek, "Matched Second Order Digital
//! Filters", 2016)
//!
//! 1. **Magnitude-squared in φ.** For a section with real coefficients,
//!    `|H(e^{jω})|²` is a ratio of polynomials in `φ = sin²(ω/2)` (Vicanek
//!    §2: `|b0 + b1 z⁻¹ + b2 z⁻²|² = B0·(1−φ) + B1·φ + B2·4φ(1−φ)`), of
//!    degree 2 per biquad and 1 per first-order section. We fit a ratio of
//!    degree 3 (a biquad and a first-order section; degree 2 for a
//!    first-order prototype) to the analog `|H_a(jΩ)|²` at `Ω = ω·fs`.
//!    A single biquad (degree 2) cannot stay within 0.1 dB near 0.45·fs for
//!    every setting (its response must be flat at Nyquist while the analog
//!    one still falls or rises); the third degree gives the freedom to bend
//!    between 0.45·fs and 0.5·fs.
//! 2. **Linearised weighted least squares.** With `A(φ)` normalised to
//!    `A(0) = 1`, `B(φ_i) − M_i·A(φ_i) ≈ 0` is linear in the unknowns; each
//!    row is weighted by `1/(M_i·A_prev(φ_i))`, which turns the equation error
//!    into the relative (≈ dB) error of the response (Steiglitz–McBride
//!    iteration, IEEE Trans. Autom. Control 10(4), 1965). `A_prev` starts
//!    from the analog denominator. The variable is `u = φ/sin²(ω0/2)` so that
//!    low corner frequencies stay well conditioned; columns are scaled and
//!    the system is solved by Householder QR.
//! 3. **Nodes**: DC, 16 logarithmic nodes below 0.1·fs, 25 linear nodes to
//!    Nyquist, and 17 nodes clustered at each analog pole and zero pair
//!    frequency, spaced by its bandwidth. Nodes above 0.455·fs carry a small
//!    weight: they keep the response sane there without pulling the fit.
//! 4. **Realisation.** The roots of `A` and `B` in φ give the z-plane roots
//!    directly: `φ = −(z−1)²/(4z)`, so `z = 1/(t + √(t²−1))`, `t = 1 − 2φ`,
//!    taking the root inside the unit circle (minimum phase: every section
//!    can be inverted, which the EQ uses for cuts). Zeros the prototype has
//!    exactly (at DC for high-pass, on the unit circle at `ω0` for a notch)
//!    are imposed, not fitted. A real root of `A` inside `0 < φ < 1` would be
//!    a pole on the unit circle; it only occurs as a pole–zero "doublet"
//!    that the least-squares fit placed between nodes, and is removed with
//!    its nearest zero.
//! 5. **Selection.** Four fits with different weights above 0.455·fs are
//!    tried in turn; the first whose realised response is within 0.03 dB on
//!    a check grid (64 log + 64 linear points up to 0.45·fs) is taken, else
//!    the best. Should none be realisable, the pre-warped bilinear transform
//!    is the fallback (never observed over the tested parameter space).
//!
//! Cost: roughly 10–15 µs per fit, so 15–60 µs per design (up to four
//! fits) on the development machine; the design allocates nothing, so it
//! may run in `process` while a parameter glides (one design per band every
//! 32 frames during a glide).

use std::f64::consts::PI;

use crate::biquad::Coefficients;

/// An analog section `H(s) = (n0 + n1·s + n2·s²)/(d0 + d1·s + d2·s²)`
/// with `s` normalised to the corner frequency `ω0` (so `s = j` at `ω0`).
/// A first-order section has `n2 = d2 = 0`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AnalogSection {
    /// Numerator `[n0, n1, n2]`.
    pub num: [f64; 3],
    /// Denominator `[d0, d1, d2]`.
    pub den: [f64; 3],
}

/// `A = 10^(gain_db/40)`, the square root of the amplitude gain (RBJ
/// cookbook, "A").
fn rbj_a(gain_db: f64) -> f64 {
    10f64.powf(gain_db / 40.0)
}

impl AnalogSection {
    /// `|H(jx)|²` at the normalised frequency `x = f/f0`.
    pub fn magnitude_squared(&self, x: f64) -> f64 {
        let x2 = x * x;
        let nr = self.num[0] - self.num[2] * x2;
        let ni = self.num[1] * x;
        let dr = self.den[0] - self.den[2] * x2;
        let di = self.den[1] * x;
        (nr * nr + ni * ni) / (dr * dr + di * di)
    }

    /// `|H(jx)|` at the normalised frequency `x = f/f0`.
    pub fn magnitude(&self, x: f64) -> f64 {
        self.magnitude_squared(x).sqrt()
    }

    /// The reciprocal `1/H(s)`.
    pub fn inverted(self) -> Self {
        Self {
            num: self.den,
            den: self.num,
        }
    }

    /// Peaking EQ (RBJ cookbook, "peakingEQ"):
    /// `H(s) = (s² + s·A/Q + 1)/(s² + s/(A·Q) + 1)`.
    pub fn bell(gain_db: f64, q: f64) -> Self {
        let a = rbj_a(gain_db);
        Self {
            num: [1.0, a / q, 1.0],
            den: [1.0, 1.0 / (a * q), 1.0],
        }
    }

    /// Low shelf (RBJ cookbook, "lowShelf"):
    /// `H(s) = A·(s² + (√A/Q)·s + A)/(A·s² + (√A/Q)·s + 1)`; the gain is half
    /// (in dB) at `f0`.
    pub fn low_shelf(gain_db: f64, q: f64) -> Self {
        let a = rbj_a(gain_db);
        let k = a.sqrt() / q;
        Self {
            num: [a * a, a * k, a],
            den: [1.0, k, a],
        }
    }

    /// High shelf (RBJ cookbook, "highShelf"):
    /// `H(s) = A·(A·s² + (√A/Q)·s + 1)/(s² + (√A/Q)·s + A)`.
    pub fn high_shelf(gain_db: f64, q: f64) -> Self {
        let a = rbj_a(gain_db);
        let k = a.sqrt() / q;
        Self {
            num: [a, a * k, a * a],
            den: [a, k, 1.0],
        }
    }

    /// Notch (RBJ cookbook, "notch"): `H(s) = (s² + 1)/(s² + s/Q + 1)`.
    pub fn notch(q: f64) -> Self {
        Self {
            num: [1.0, 0.0, 1.0],
            den: [1.0, 1.0 / q, 1.0],
        }
    }

    /// Tilt around a pivot: a first-order high shelf of `gain_db` lowered by
    /// `gain_db/2`, i.e. opposite first-order shelves of ∓`gain_db/2` meeting
    /// at 0 dB at the pivot: `H(s) = (t·s + 1)/(s + t)`, `t = 10^(gain_db/40)`.
    /// `|H| = 1/t` at DC, `t` at infinity, exactly 1 at `s = j`.
    pub fn tilt(gain_db: f64) -> Self {
        let t = rbj_a(gain_db);
        Self {
            num: [1.0, t, 0.0],
            den: [t, 1.0, 0.0],
        }
    }

    /// Second-order low-pass `1/(s² + s/Q + 1)`.
    pub fn lowpass2(q: f64) -> Self {
        Self {
            num: [1.0, 0.0, 0.0],
            den: [1.0, 1.0 / q, 1.0],
        }
    }

    /// Second-order high-pass `s²/(s² + s/Q + 1)`.
    pub fn highpass2(q: f64) -> Self {
        Self {
            num: [0.0, 0.0, 1.0],
            den: [1.0, 1.0 / q, 1.0],
        }
    }

    /// First-order low-pass `1/(s + 1)`.
    pub fn lowpass1() -> Self {
        Self {
            num: [1.0, 0.0, 0.0],
            den: [1.0, 1.0, 0.0],
        }
    }

    /// First-order high-pass `s/(s + 1)`.
    pub fn highpass1() -> Self {
        Self {
            num: [0.0, 1.0, 0.0],
            den: [1.0, 1.0, 0.0],
        }
    }

    /// Band-pass with 0 dB peak (RBJ cookbook, "BPF, constant 0 dB peak
    /// gain"): `H(s) = (s/Q)/(s² + s/Q + 1)`.
    pub fn bandpass(q: f64) -> Self {
        Self {
            num: [0.0, 1.0 / q, 0.0],
            den: [1.0, 1.0 / q, 1.0],
        }
    }

    fn order(&self) -> usize {
        if self.den[2] == 0.0 { 1 } else { 2 }
    }

    fn fixed_zeros(&self) -> FixedZeros {
        let [n0, n1, n2] = self.num;
        if n0 == 0.0 && n1 == 0.0 {
            FixedZeros::Dc(2)
        } else if n0 == 0.0 {
            FixedZeros::Dc(1)
        } else if n1 == 0.0 && n2 != 0.0 && n0 * n2 > 0.0 {
            FixedZeros::UnitCircle((n0 / n2).sqrt())
        } else {
            FixedZeros::None
        }
    }
}

/// Zeros of the prototype that the digital section must have exactly.
#[derive(Debug, Clone, Copy, PartialEq)]
enum FixedZeros {
    None,
    /// `k` zeros at DC (`s = 0` ↦ `z = 1`).
    Dc(usize),
    /// A pair on the jΩ axis at `x` (times `ω0`) ↦ on the unit circle.
    UnitCircle(f64),
}

impl FixedZeros {
    fn count(self) -> usize {
        match self {
            Self::None => 0,
            Self::Dc(k) => k,
            Self::UnitCircle(_) => 2,
        }
    }
}

/// Digital sections (a biquad and a first-order section, either possibly
/// the identity) whose magnitude matches `proto` with its corner at
/// `omega0` radians per sample (`2π·f0/fs`, `0 < omega0 < π`).
pub fn match_analog(proto: &AnalogSection, omega0: f64) -> [Coefficients; 2] {
    let mut best: Option<([Coefficients; 2], f64)> = None;
    for tail_weight in [0.1, 0.3, 1.0, 0.03] {
        let Some(sections) = fit(proto, omega0, tail_weight) else {
            continue;
        };
        let err = check_error(proto, omega0, &sections);
        if best.is_none_or(|(_, e)| err < e) {
            best = Some((sections, err));
        }
        if err < 0.03 {
            break;
        }
    }
    best.map_or_else(|| bilinear(proto, omega0), |(s, _)| s)
}

/// Largest error of realised sections against the prototype on a check
/// grid up to 0.45·fs: dB where the prototype is above −60 dB of its
/// largest value, for unit-circle zeros the linear error scaled to dB near
/// unity (×8.69).
fn check_error(proto: &AnalogSection, omega0: f64, s: &[Coefficients; 2]) -> f64 {
    let notch = matches!(proto.fixed_zeros(), FixedZeros::UnitCircle(_));
    let lo = (omega0 / 8.0).min(0.01);
    let mid = 0.2 * PI;
    let mut worst = 0.0f64;
    let mut peak = 0.0f64;
    let mut pts = [(0.0, 0.0, 0.0); 128];
    for (i, p) in pts.iter_mut().enumerate() {
        let w = if i < 64 {
            lo * (mid / lo).powf(i as f64 / 64.0)
        } else {
            mid + 0.7 * PI * (i - 64) as f64 / 63.0
        };
        let hd = s[0].magnitude_squared(w) * s[1].magnitude_squared(w);
        let ha = proto.magnitude_squared(w / omega0);
        peak = peak.max(ha);
        *p = (w, hd, ha);
    }
    for &(_, hd, ha) in &pts {
        let e = if notch {
            (hd.sqrt() - ha.sqrt()).abs() * 8.69
        } else if ha >= peak * 1e-6 {
            10.0 * (hd / ha).log10().abs()
        } else {
            0.0
        };
        if e.is_nan() {
            worst = f64::INFINITY;
        } else if e > worst {
            worst = e;
        }
    }
    worst
}

/// Pre-warped bilinear transform of the prototype (the fallback).
fn bilinear(proto: &AnalogSection, omega0: f64) -> [Coefficients; 2] {
    let c = 1.0 / (omega0 / 2.0).tan();
    let map = |p: [f64; 3]| -> [f64; 3] {
        if proto.order() == 1 {
            [p[0] + p[1] * c, p[0] - p[1] * c, 0.0]
        } else {
            let c2 = c * c;
            [
                p[0] + p[1] * c + p[2] * c2,
                2.0 * (p[0] - p[2] * c2),
                p[0] - p[1] * c + p[2] * c2,
            ]
        }
    };
    [
        Coefficients::from_polynomials(map(proto.num), map(proto.den)),
        Coefficients::IDENTITY,
    ]
}

const MAX_NODES: usize = 80;
/// Unknowns: at most 4 numerator + 3 denominator coefficients.
const MAX_UNKNOWNS: usize = 7;
/// Nodes above this (radians per sample, 0.455·fs) get the tail weight.
const TAIL_START: f64 = 0.91 * PI;

fn fit(proto: &AnalogSection, omega0: f64, tail_weight: f64) -> Option<[Coefficients; 2]> {
    let fixed = proto.fixed_zeros();
    let na = if proto.order() == 1 { 2 } else { 3 };
    let nb = na - fixed.count();
    let nu = nb + 1 + na;
    let phi0 = (omega0 / 2.0).sin().powi(2);

    // Nodes.
    let mut w = [0.0; MAX_NODES];
    let mut n = 0;
    if !matches!(fixed, FixedZeros::Dc(_)) {
        n = 1; // DC
    }
    let lo = (omega0 / 16.0).min(3e-4);
    let mid = 0.2 * PI;
    for k in 0..16 {
        w[n] = lo * (mid / lo).powf(k as f64 / 16.0);
        n += 1;
    }
    for k in 0..=24 {
        w[n] = mid + (PI - mid) * k as f64 / 24.0;
        n += 1;
    }
    for c in [proto.den, proto.num] {
        if c[2] == 0.0 || c[0] == 0.0 {
            continue;
        }
        let wc = omega0 * (c[0] / c[2]).sqrt();
        let qc = if c[1] == 0.0 {
            100.0
        } else {
            (c[0] * c[2]).sqrt() / c[1].abs()
        };
        let h = (0.36 / qc).min(0.2);
        for k in -8i32..=8 {
            let wk = wc * 2f64.powf(h * f64::from(k));
            if wk < 0.999 * PI {
                w[n] = wk;
                n += 1;
            }
        }
    }

    let mut u = [0.0; MAX_NODES];
    let mut m = [0.0; MAX_NODES];
    let mut weight = [0.0; MAX_NODES];
    let mut fixed_factor = [0.0; MAX_NODES];
    let mut a_prev = [1.0; MAX_NODES];
    let floor = if matches!(fixed, FixedZeros::UnitCircle(_)) {
        1e-2
    } else {
        0.0
    };
    for i in 0..n {
        u[i] = (w[i] / 2.0).sin().powi(2) / phi0;
        m[i] = proto.magnitude_squared(w[i] / omega0);
        weight[i] = if w[i] > TAIL_START { tail_weight } else { 1.0 };
        fixed_factor[i] = fixed_factor_at(fixed, u[i], omega0);
        // Start from the analog denominator as the weight.
        let x = w[i] / omega0;
        let dr = proto.den[0] - proto.den[2] * x * x;
        let di = proto.den[1] * x;
        a_prev[i] = (dr * dr + di * di) / (proto.den[0] * proto.den[0]);
    }

    let mut x = [0.0; MAX_UNKNOWNS];
    for _ in 0..5 {
        let mut rows = [[0.0; MAX_UNKNOWNS + 1]; MAX_NODES];
        for (i, row) in rows[..n].iter_mut().enumerate() {
            let g = weight[i] / (m[i].max(floor) * a_prev[i]);
            let mut p = 1.0;
            for v in &mut row[..=nb] {
                *v = g * fixed_factor[i] * p;
                p *= u[i];
            }
            let mut p = u[i];
            for v in &mut row[nb + 1..=nb + na] {
                *v = -g * m[i] * p;
                p *= u[i];
            }
            row[nu] = g * m[i];
        }
        if !least_squares(&mut rows[..n], nu, &mut x) {
            return None;
        }
        for i in 0..n {
            a_prev[i] = poly_eval(&den_poly(&x, nb, na)[..=na], u[i])
                .abs()
                .max(1e-300);
        }
    }
    let mut b = [0.0; 4];
    b[..=nb].copy_from_slice(&x[..=nb]);
    let a = den_poly(&x, nb, na);

    let mut ra = roots(&a, na)?;
    let mut rb = roots(&b, nb)?;
    // Doublets: a real root of A inside 0 < φ < 1 cancels the nearest such
    // root of B.
    let inside = |r: f64| r * phi0 > 0.0 && r * phi0 < 1.0;
    let mut k = 0;
    while k < ra.n_real {
        if inside(ra.real[k]) {
            let mut nearest: Option<(usize, f64)> = None;
            for j in 0..rb.n_real {
                if inside(rb.real[j]) {
                    let d = (rb.real[j] - ra.real[k]).abs();
                    if nearest.is_none_or(|(_, bd)| d < bd) {
                        nearest = Some((j, d));
                    }
                }
            }
            let (j, _) = nearest?;
            rb.remove_real(j);
            ra.remove_real(k);
        } else {
            k += 1;
        }
    }

    let den = z_factors(&ra, phi0, &[], None)?;
    let ones = [1.0; 2];
    let (extra_real, extra_quad): (&[f64], Option<[f64; 3]>) = match fixed {
        FixedZeros::None => (&[], None),
        FixedZeros::Dc(k) => (&ones[..k], None),
        FixedZeros::UnitCircle(xz) => (&[], Some([1.0, -2.0 * (omega0 * xz).cos(), 1.0])),
    };
    let num = z_factors(&rb, phi0, extra_real, extra_quad)?;
    let mut sections = [
        Coefficients::from_polynomials(num.0, den.0),
        Coefficients::from_polynomials(num.1, den.1),
    ];

    // Overall gain: the fitted ratio at the node of largest target.
    let mut iref = 0;
    for i in 0..n {
        if weight[i] == 1.0 && m[i] > m[iref] {
            iref = i;
        }
    }
    let fitted = poly_eval(&b[..=nb], u[iref]) * fixed_factor[iref] / poly_eval(&a[..=na], u[iref]);
    let realised = sections[0].magnitude_squared(w[iref]) * sections[1].magnitude_squared(w[iref]);
    let gain = (fitted / realised).sqrt();
    if !gain.is_finite() || gain <= 0.0 {
        return None;
    }
    sections[0] = sections[0].scaled(gain);
    let ok = sections
        .iter()
        .all(|c| c.is_stable() && [c.b0, c.b1, c.b2, c.a1, c.a2].iter().all(|v| v.is_finite()));
    ok.then_some(sections)
}

fn fixed_factor_at(fixed: FixedZeros, u: f64, omega0: f64) -> f64 {
    match fixed {
        FixedZeros::None => 1.0,
        FixedZeros::Dc(k) => u.powi(k as i32),
        FixedZeros::UnitCircle(xz) => {
            let uz = (omega0 * xz / 2.0).sin().powi(2) / (omega0 / 2.0).sin().powi(2);
            (u - uz) * (u - uz)
        }
    }
}

/// `A(u) = 1 + a1·u + …` from the unknowns.
fn den_poly(x: &[f64; MAX_UNKNOWNS], nb: usize, na: usize) -> [f64; 4] {
    let mut a = [0.0; 4];
    a[0] = 1.0;
    a[1..=na].copy_from_slice(&x[nb + 1..=nb + na]);
    a
}

fn poly_eval(c: &[f64], u: f64) -> f64 {
    c.iter().rev().fold(0.0, |s, &v| s * u + v)
}

/// Solves the over-determined `rows·x ≈ rhs` (last column) in the least
/// squares sense: columns scaled to unit norm, Householder QR, back
/// substitution. False on a rank-deficient or non-finite system.
fn least_squares(
    rows: &mut [[f64; MAX_UNKNOWNS + 1]],
    nu: usize,
    x: &mut [f64; MAX_UNKNOWNS],
) -> bool {
    let n = rows.len();
    if n < nu {
        return false;
    }
    let mut scale = [0.0; MAX_UNKNOWNS];
    for j in 0..nu {
        let s = rows.iter().map(|r| r[j] * r[j]).sum::<f64>().sqrt();
        if !(s > 0.0 && s.is_finite()) {
            return false;
        }
        scale[j] = s;
        rows.iter_mut().for_each(|r| r[j] /= s);
    }
    for k in 0..nu {
        let norm = rows[k..].iter().map(|r| r[k] * r[k]).sum::<f64>().sqrt();
        if norm == 0.0 {
            return false;
        }
        let alpha = if rows[k][k] > 0.0 { -norm } else { norm };
        let v0 = rows[k][k] - alpha;
        let vnorm2 = v0 * v0 + (norm * norm - rows[k][k] * rows[k][k]);
        if vnorm2 > 0.0 {
            for j in k + 1..=nu {
                let mut d = v0 * rows[k][j];
                for r in &rows[k + 1..] {
                    d += r[k] * r[j];
                }
                d *= 2.0 / vnorm2;
                rows[k][j] -= d * v0;
                for r in &mut rows[k + 1..] {
                    r[j] -= d * r[k];
                }
            }
        }
        rows[k][k] = alpha;
    }
    for k in (0..nu).rev() {
        let mut s = rows[k][nu];
        for j in k + 1..nu {
            s -= rows[k][j] * x[j];
        }
        x[k] = s / rows[k][k];
    }
    for j in 0..nu {
        x[j] /= scale[j];
    }
    x[..nu].iter().all(|v| v.is_finite())
}

/// Roots of a real polynomial of degree ≤ 3: real ones, and at most one
/// complex-conjugate pair `(re, im)`.
#[derive(Debug, Clone, Copy, Default)]
struct Roots {
    real: [f64; 3],
    n_real: usize,
    pair: Option<(f64, f64)>,
}

impl Roots {
    fn remove_real(&mut self, i: usize) {
        self.real[i] = self.real[self.n_real - 1];
        self.n_real -= 1;
    }

    fn push_quadratic(&mut self, c0: f64, c1: f64, c2: f64) {
        if c2 == 0.0 {
            if c1 != 0.0 {
                self.real[self.n_real] = -c0 / c1;
                self.n_real += 1;
            }
            return;
        }
        let disc = c1 * c1 - 4.0 * c2 * c0;
        if disc >= 0.0 {
            // Numerically stable form (Numerical Recipes §5.6).
            let q = -0.5 * (c1 + c1.signum() * disc.sqrt());
            let (r1, r2) = if q == 0.0 {
                (0.0, 0.0)
            } else {
                (q / c2, c0 / q)
            };
            self.real[self.n_real] = r1;
            self.real[self.n_real + 1] = r2;
            self.n_real += 2;
        } else {
            self.pair = Some((-c1 / (2.0 * c2), (-disc).sqrt() / (2.0 * c2).abs()));
        }
    }
}

fn roots(c: &[f64; 4], degree: usize) -> Option<Roots> {
    let mut r = Roots::default();
    match degree {
        0 => {}
        1 => r.push_quadratic(c[0], c[1], 0.0),
        2 => r.push_quadratic(c[0], c[1], c[2]),
        _ => {
            let [d, cc, b, a] = *c;
            if a == 0.0 {
                r.push_quadratic(d, cc, b);
                return Some(r);
            }
            // One real root by safeguarded Newton inside the Cauchy bound.
            let f = |u: f64| ((a * u + b) * u + cc) * u + d;
            let bound = 1.0 + (b / a).abs().max((cc / a).abs()).max((d / a).abs());
            let (mut lo, mut hi) = (-bound, bound);
            if f(lo) > 0.0 {
                std::mem::swap(&mut lo, &mut hi);
            }
            let mut x = 0.5 * (lo + hi);
            for _ in 0..200 {
                let fx = f(x);
                if fx == 0.0 {
                    break;
                }
                if fx < 0.0 {
                    lo = x;
                } else {
                    hi = x;
                }
                let d1 = (3.0 * a * x + 2.0 * b) * x + cc;
                let mut xn = x - fx / d1;
                if !(xn > lo.min(hi) && xn < lo.max(hi)) {
                    xn = 0.5 * (lo + hi);
                }
                let done = (xn - x).abs() <= 1e-15 * x.abs();
                x = xn;
                if done {
                    break;
                }
            }
            if !x.is_finite() {
                return None;
            }
            r.real[0] = x;
            r.n_real = 1;
            // Deflate: forward for a small root, backward for a large one
            // (stable either way; Numerical Recipes §9.5).
            let (q0, q1, q2) = if x.abs() <= 1.0 {
                let q1 = b + a * x;
                (cc + q1 * x, q1, a)
            } else {
                let q0 = -d / x;
                let q1 = (q0 - cc) / x;
                (q0, q1, (q1 - b) / x)
            };
            r.push_quadratic(q0, q1, q2);
        }
    }
    Some(r)
}

/// The z of `|z| ≤ 1` with `−(z−1)²/(4z) = r` for a complex φ-root `r`:
/// `z = 1/(t + s)`, `t = 1 − 2r`, `s = √(t² − 1) = √(−4r(1−r))`, the sign of
/// `s` chosen so that `|t + s| ≥ 1`.
fn z_from_phi_root(re: f64, im: f64) -> (f64, f64) {
    let (r2r, r2i) = (re * re - im * im, 2.0 * re * im);
    let (qr, qi) = (-4.0 * (re - r2r), -4.0 * (im - r2i));
    let modulus = qr.hypot(qi);
    let sr = ((modulus + qr) / 2.0).max(0.0).sqrt();
    let si = ((modulus - qr) / 2.0).max(0.0).sqrt().copysign(qi);
    let (tr, ti) = (1.0 - 2.0 * re, -2.0 * im);
    let (sr, si) = if tr * sr + ti * si < 0.0 {
        (-sr, -si)
    } else {
        (sr, si)
    };
    let (dr, di) = (tr + sr, ti + si);
    let d2 = dr * dr + di * di;
    (dr / d2, -di / d2)
}

/// The real z root (|z| ≤ 1) of a real φ-root outside (0, 1).
fn real_z_from_phi_root(r: f64) -> Option<f64> {
    let t = 1.0 - 2.0 * r;
    if t >= 1.0 {
        Some(1.0 / (t + (t * t - 1.0).sqrt()))
    } else if t <= -1.0 {
        Some(-1.0 / (-t + (t * t - 1.0).sqrt()))
    } else {
        None
    }
}

fn mul(p: [f64; 3], c: [f64; 3]) -> [f64; 3] {
    [
        p[0] * c[0],
        p[0] * c[1] + p[1] * c[0],
        p[0] * c[2] + p[1] * c[1] + p[2] * c[0],
    ]
}

/// Monic z-polynomials of a biquad and a first-order section holding the
/// roots (given in `u = φ/phi0`) plus extra real roots and an extra
/// quadratic. The biquad takes the complex pair; the first-order section
/// the most negative real root when the biquad cannot hold them all.
#[allow(clippy::type_complexity)]
fn z_factors(
    roots: &Roots,
    phi0: f64,
    extra_real: &[f64],
    extra_quad: Option<[f64; 3]>,
) -> Option<([f64; 3], [f64; 3])> {
    let mut quad = extra_quad;
    if let Some((re, im)) = roots.pair {
        if quad.is_some() {
            return None;
        }
        let (zr, zi) = z_from_phi_root(re * phi0, im * phi0);
        quad = Some([1.0, -2.0 * zr, zr * zr + zi * zi]);
    }
    let mut zs = [0.0; 5];
    let mut nz = 0;
    for &r in &roots.real[..roots.n_real] {
        zs[nz] = real_z_from_phi_root(r * phi0)?;
        nz += 1;
    }
    for &z in extra_real {
        zs[nz] = z;
        nz += 1;
    }
    let zs = &mut zs[..nz];
    zs.sort_by(f64::total_cmp);
    let mut second = [1.0, 0.0, 0.0];
    let mut first = [1.0, 0.0, 0.0];
    let capacity = if let Some(q) = quad {
        second = q;
        0
    } else {
        2
    };
    let mut rest = &zs[..];
    if nz > capacity {
        first = [1.0, -zs[0], 0.0];
        rest = &zs[1..];
    }
    if rest.len() > capacity {
        return None;
    }
    for &z in rest {
        second = mul(second, [1.0, -z, 0.0]);
    }
    Some((second, first))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn z_roots_invert_the_phi_map() {
        for (re, im) in [(-0.3, 0.2), (1e-7, 3e-9), (0.8, 0.1), (2.0, -0.5)] {
            let (zr, zi) = z_from_phi_root(re, im);
            assert!(zr.hypot(zi) <= 1.0);
            // φ = −(z−1)²/(4z)
            let (ar, ai) = (zr - 1.0, zi);
            let (sq_r, sq_i) = (ar * ar - ai * ai, 2.0 * ar * ai);
            let d = 4.0 * (zr * zr + zi * zi);
            let pr = -(sq_r * zr + sq_i * zi) / d;
            let pi = -(sq_i * zr - sq_r * zi) / d;
            assert!((pr - re).abs() < 1e-12 * (1.0 + re.abs()), "{pr} {re}");
            assert!((pi - im).abs() < 1e-12 * (1.0 + im.abs()), "{pi} {im}");
        }
    }

    #[test]
    fn cubic_roots() {
        // (u − 2)(u² + 2u + 5): roots 2, −1 ± 2j
        let r = roots(&[-10.0, 1.0, 0.0, 1.0], 3).unwrap();
        assert_eq!(r.n_real, 1);
        assert!((r.real[0] - 2.0).abs() < 1e-12);
        let (re, im) = r.pair.unwrap();
        assert!((re + 1.0).abs() < 1e-12 && (im - 2.0).abs() < 1e-12);
    }
}
