//! K-weighting: the two-stage pre-filter of ITU-R BS.1770-5, Annex 1 (§2.1
//! of `LOUDNESS_SPEC.md`).
//!
//! BS.1770 tabulates the coefficients at 48 kHz only (Tables 1 and 2) and
//! asks for "the same frequency response" at other rates. The coefficients are
//! derived here for any rate from the analog prototypes of both stages with a
//! bilinear transform pre-warped at the stage frequency (`K = tan(π·f0/fs)`),
//! the established method of libebur128 and its peers; at 48 kHz it
//! reproduces the BS.1770 tables to 1e-15.
//!
//! Filtering runs in `f64` (state and arithmetic) in direct form I, one
//! channel or a pair of channels at a time: a pair shares one loop so the two
//! independent recursions overlap (and map onto two SIMD lanes), which
//! roughly halves the cost per sample of the latency-bound recursion.

/// Stage 1 (high shelf, "head" effect) centre frequency in Hz. Analog
/// prototype parameter fitted to BS.1770-5 Annex 1 Table 1 (LOUDNESS_SPEC §2.1).
pub const SHELF_FREQ_HZ: f64 = 1681.974450955533;
/// Stage 1 shelf gain in dB (LOUDNESS_SPEC §2.1, fitted to BS.1770 Table 1).
pub const SHELF_GAIN_DB: f64 = 3.999843853973347;
/// Stage 1 quality factor (LOUDNESS_SPEC §2.1, fitted to BS.1770 Table 1).
pub const SHELF_Q: f64 = 0.7071752369554196;
/// Stage 1 exponent of the band gain `Vb = Vh^x` (LOUDNESS_SPEC §2.1).
pub const SHELF_VB_EXPONENT: f64 = 0.4996667741545416;
/// Stage 2 (RLB high-pass) corner frequency in Hz (LOUDNESS_SPEC §2.1, fitted
/// to BS.1770-5 Annex 1 Table 2).
pub const HIGH_PASS_FREQ_HZ: f64 = 38.13547087602444;
/// Stage 2 quality factor (LOUDNESS_SPEC §2.1, fitted to BS.1770 Table 2).
pub const HIGH_PASS_Q: f64 = 0.5003270373238773;

/// Filter states below this magnitude are set to zero after every 10 ms
/// sub-block. It is −600 dB, far below any audible or measurable effect, and
/// keeps the recursions out of subnormal numbers (which are very slow on x86)
/// when the input falls silent.
const STATE_FLUSH: f64 = 1e-30;

/// One biquad section `y[n] = b0·x[n] + b1·x[n−1] + b2·x[n−2] − a1·y[n−1] − a2·y[n−2]`
/// (the sign convention of BS.1770 Tables 1 and 2, with `a0 = 1`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Biquad {
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

/// The K-weighting filter of BS.1770-5 Annex 1 at one sample rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KWeighting {
    /// Stage 1: the high shelf modelling the acoustic effect of the head.
    pub shelf: Biquad,
    /// Stage 2: the revised low-frequency B-curve (RLB) high-pass. Its
    /// numerator is exactly `[1, −2, 1]` at every rate.
    pub high_pass: Biquad,
}

impl KWeighting {
    /// Derives both stages for `sample_rate_hz` (LOUDNESS_SPEC §2.1 formulas).
    pub fn for_rate(sample_rate_hz: u32) -> Self {
        let fs = f64::from(sample_rate_hz);

        let k = (std::f64::consts::PI * SHELF_FREQ_HZ / fs).tan();
        let vh = 10f64.powf(SHELF_GAIN_DB / 20.0);
        let vb = vh.powf(SHELF_VB_EXPONENT);
        let a0 = 1.0 + k / SHELF_Q + k * k;
        let shelf = Biquad {
            b0: (vh + vb * k / SHELF_Q + k * k) / a0,
            b1: 2.0 * (k * k - vh) / a0,
            b2: (vh - vb * k / SHELF_Q + k * k) / a0,
            a1: 2.0 * (k * k - 1.0) / a0,
            a2: (1.0 - k / SHELF_Q + k * k) / a0,
        };

        let k = (std::f64::consts::PI * HIGH_PASS_FREQ_HZ / fs).tan();
        let a0 = 1.0 + k / HIGH_PASS_Q + k * k;
        let high_pass = Biquad {
            b0: 1.0,
            b1: -2.0,
            b2: 1.0,
            a1: 2.0 * (k * k - 1.0) / a0,
            a2: (1.0 - k / HIGH_PASS_Q + k * k) / a0,
        };
        Self { shelf, high_pass }
    }

    /// Magnitude response in dB at `freq_hz` for a sample rate, evaluated on
    /// the unit circle (used by the tests and the documentation).
    pub fn gain_db(&self, freq_hz: f64, sample_rate_hz: u32) -> f64 {
        let w = 2.0 * std::f64::consts::PI * freq_hz / f64::from(sample_rate_hz);
        let mag2 = |q: &Biquad| {
            let (c1, s1, c2, s2) = (w.cos(), -w.sin(), (2.0 * w).cos(), -(2.0 * w).sin());
            let (nr, ni) = (q.b0 + q.b1 * c1 + q.b2 * c2, q.b1 * s1 + q.b2 * s2);
            let (dr, di) = (1.0 + q.a1 * c1 + q.a2 * c2, q.a1 * s1 + q.a2 * s2);
            (nr * nr + ni * ni) / (dr * dr + di * di)
        };
        10.0 * (mag2(&self.shelf) * mag2(&self.high_pass)).log10()
    }
}

/// The state of one channel's K-weighting filter (direct form I). Stage 2's
/// input history is stage 1's output history, so six values suffice.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct KState {
    x1: f64,
    x2: f64,
    y1: f64,
    y2: f64,
    z1: f64,
    z2: f64,
}

impl KState {
    /// Sets states below [`STATE_FLUSH`] to zero (see there).
    pub(crate) fn flush_tiny(&mut self) {
        for v in [
            &mut self.x1,
            &mut self.x2,
            &mut self.y1,
            &mut self.y2,
            &mut self.z1,
            &mut self.z2,
        ] {
            if v.abs() < STATE_FLUSH {
                *v = 0.0;
            }
        }
    }
}

/// Two lanes of `f64` (one SSE2 register when the compiler cooperates).
#[derive(Debug, Clone, Copy)]
struct F2([f64; 2]);

impl F2 {
    #[inline(always)]
    fn splat(v: f64) -> Self {
        F2([v, v])
    }
    #[inline(always)]
    fn mul(self, o: F2) -> Self {
        F2([self.0[0] * o.0[0], self.0[1] * o.0[1]])
    }
    #[inline(always)]
    fn add(self, o: F2) -> Self {
        F2([self.0[0] + o.0[0], self.0[1] + o.0[1]])
    }
    #[inline(always)]
    fn sub(self, o: F2) -> Self {
        F2([self.0[0] - o.0[0], self.0[1] - o.0[1]])
    }
}

/// The coefficients broadcast to both lanes.
#[derive(Clone, Copy)]
struct Coeffs2 {
    b0: F2,
    b1: F2,
    b2: F2,
    a1: F2,
    a2: F2,
    h1: F2,
    h2: F2,
}

impl Coeffs2 {
    #[inline(always)]
    fn new(k: &KWeighting) -> Self {
        Coeffs2 {
            b0: F2::splat(k.shelf.b0),
            b1: F2::splat(k.shelf.b1),
            b2: F2::splat(k.shelf.b2),
            a1: F2::splat(k.shelf.a1),
            a2: F2::splat(k.shelf.a2),
            h1: F2::splat(k.high_pass.a1),
            h2: F2::splat(k.high_pass.a2),
        }
    }
}

/// Filter memory of two lanes: stage-1 input `x`, stage-1 output `y`
/// (= stage-2 input) and stage-2 output `z`, one and two samples back.
#[derive(Clone, Copy)]
struct State2 {
    x1: F2,
    x2: F2,
    y1: F2,
    y2: F2,
    z1: F2,
    z2: F2,
}

impl State2 {
    fn pack(a: &KState, b: &KState) -> Self {
        State2 {
            x1: F2([a.x1, b.x1]),
            x2: F2([a.x2, b.x2]),
            y1: F2([a.y1, b.y1]),
            y2: F2([a.y2, b.y2]),
            z1: F2([a.z1, b.z1]),
            z2: F2([a.z2, b.z2]),
        }
    }

    fn unpack(&self, i: usize) -> KState {
        KState {
            x1: self.x1.0[i],
            x2: self.x2.0[i],
            y1: self.y1.0[i],
            y2: self.y2.0[i],
            z1: self.z1.0[i],
            z2: self.z2.0[i],
        }
    }
}

/// One sample through both stages of two lanes: returns the new state and
/// the stage-2 output. The feedback of the previous output is applied last
/// in each stage, so the loop-carried dependency is one multiply and one
/// subtraction; `2·y1` is computed as `y1 + y1` (exact).
#[inline(always)]
fn step(c: &Coeffs2, s: State2, x0: F2) -> (State2, F2) {
    let y =
        c.b0.mul(x0)
            .add(c.b1.mul(s.x1))
            .add(c.b2.mul(s.x2))
            .sub(c.a2.mul(s.y2))
            .sub(c.a1.mul(s.y1));
    let z = y
        .sub(s.y1.add(s.y1))
        .add(s.y2)
        .sub(c.h2.mul(s.z2))
        .sub(c.h1.mul(s.z1));
    (
        State2 {
            x1: x0,
            x2: s.x1,
            y1: y,
            y2: s.y1,
            z1: z,
            z2: s.z1,
        },
        z,
    )
}

/// K-weights two lanes of equal length; returns the sums of squares of the
/// output per lane. Unrolled by two samples so the state shuffle costs no
/// instructions.
#[inline(always)]
fn run2(k: &KWeighting, state: &mut State2, a: &[f64], b: &[f64]) -> [f64; 2] {
    let c = Coeffs2::new(k);
    let mut s = *state;
    let mut energy = F2::splat(0.0);
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut pa = a.chunks_exact(2);
    let mut pb = b.chunks_exact(2);
    for (x, y) in (&mut pa).zip(&mut pb) {
        let (s1, za) = step(&c, s, F2([x[0], y[0]]));
        energy = energy.add(za.mul(za));
        let (s2, zb) = step(&c, s1, F2([x[1], y[1]]));
        energy = energy.add(zb.mul(zb));
        s = s2;
    }
    for (&x, &y) in pa.remainder().iter().zip(pb.remainder()) {
        let (s1, z) = step(&c, s, F2([x, y]));
        energy = energy.add(z.mul(z));
        s = s1;
    }
    *state = s;
    energy.0
}

/// K-weights one channel and returns the sum of squares of the filtered
/// samples. It runs the two-lane kernel with both lanes on the same
/// samples, so its arithmetic is identical to [`filter_energy_pair`].
pub(crate) fn filter_energy(k: &KWeighting, state: &mut KState, x: &[f64]) -> f64 {
    let mut s = State2::pack(state, state);
    let [e, _] = run2(k, &mut s, x, x);
    *state = s.unpack(0);
    e
}

/// K-weights two channels of equal length in one loop and returns the two
/// sums of squares. The two recursions are independent, so they overlap
/// their latencies (and share one SIMD register); each channel's result is
/// identical to [`filter_energy`] on it alone, whatever the pairing.
pub(crate) fn filter_energy_pair(
    k: &KWeighting,
    states: [&mut KState; 2],
    a: &[f64],
    b: &[f64],
) -> [f64; 2] {
    let [sa, sb] = states;
    let mut s = State2::pack(sa, sb);
    let e = run2(k, &mut s, a, b);
    *sa = s.unpack(0);
    *sb = s.unpack(1);
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_close(got: f64, want: f64, tol: f64, what: &str) {
        assert!(
            (got - want).abs() <= tol,
            "{what}: got {got:.17}, want {want:.17}"
        );
    }

    #[test]
    fn reproduces_bs1770_tables_at_48k() {
        // BS.1770-5 Annex 1, Table 1 (stage 1) and Table 2 (stage 2).
        let k = KWeighting::for_rate(48_000);
        let s = k.shelf;
        assert_close(s.b0, 1.53512485958697, 1e-12, "b0");
        assert_close(s.b1, -2.69169618940638, 1e-12, "b1");
        assert_close(s.b2, 1.19839281085285, 1e-12, "b2");
        assert_close(s.a1, -1.69065929318241, 1e-12, "a1");
        assert_close(s.a2, 0.73248077421585, 1e-12, "a2");
        let h = k.high_pass;
        assert_eq!((h.b0, h.b1, h.b2), (1.0, -2.0, 1.0));
        assert_close(h.a1, -1.99004745483398, 1e-12, "hp a1");
        assert_close(h.a2, 0.99007225036621, 1e-12, "hp a2");
    }

    #[test]
    fn matches_listed_coefficients_at_44k1_and_96k() {
        // LOUDNESS_SPEC §2.1, "Resulting coefficients at other rates".
        let cases: [(u32, [f64; 7]); 2] = [
            (
                44_100,
                [
                    1.53084123005035,
                    -2.65097999515473,
                    1.16907907992159,
                    -1.66365511325602,
                    0.71259542807323,
                    -1.98916967362980,
                    0.98919903578704,
                ],
            ),
            (
                96_000,
                [
                    1.55971422897580,
                    -2.92674157825108,
                    1.37826120231582,
                    -1.84460946989011,
                    0.85584332293064,
                    -1.99501754472472,
                    0.99502375904092,
                ],
            ),
        ];
        for (rate, want) in cases {
            let k = KWeighting::for_rate(rate);
            let got = [
                k.shelf.b0,
                k.shelf.b1,
                k.shelf.b2,
                k.shelf.a1,
                k.shelf.a2,
                k.high_pass.a1,
                k.high_pass.a2,
            ];
            for (g, w) in got.iter().zip(want) {
                assert_close(*g, w, 1e-13, &format!("{rate} Hz"));
            }
        }
    }

    #[test]
    fn gain_at_997_hz_cancels_the_reference_offset() {
        // BS.1770-5 Annex 1: the −0.691 dB constant cancels the K-weighting
        // gain at 997 Hz (LOUDNESS_SPEC §2.1 "Reference gain").
        let g = KWeighting::for_rate(48_000).gain_db(997.0, 48_000);
        assert_close(g, 0.691, 0.001, "gain at 997 Hz");
        let g = KWeighting::for_rate(48_000).gain_db(1000.0, 48_000);
        assert_close(g, 0.698, 0.001, "gain at 1 kHz");
    }

    #[test]
    fn pair_equals_single() {
        let k = KWeighting::for_rate(44_100);
        let a: Vec<f64> = (0..1000)
            .map(|i| ((i * 7919) % 1013) as f64 / 1013.0 - 0.5)
            .collect();
        let b: Vec<f64> = (0..1000)
            .map(|i| ((i * 104729) % 997) as f64 / 997.0 - 0.5)
            .collect();
        let (mut s1, mut s2) = (KState::default(), KState::default());
        let ea = filter_energy(&k, &mut s1, &a);
        let eb = filter_energy(&k, &mut s2, &b);
        let (mut p1, mut p2) = (KState::default(), KState::default());
        let e = filter_energy_pair(&k, [&mut p1, &mut p2], &a, &b);
        assert_eq!(e[0].to_bits(), ea.to_bits());
        assert_eq!(e[1].to_bits(), eb.to_bits());
        assert_eq!((p1, p2), (s1, s2));
    }
}
