//! Shapes of fades and automation segments: functions from progress
//! `x ∈ [0, 1]` to a weight in `[0, 1]`, with `shape(0) = 0`, `shape(1) = 1`.

use mixmaster_session::Curve;

/// Steepness of the exponential and logarithmic shapes: `(e^{kx} − 1)/(e^k − 1)`.
const EXP_K: f64 = 4.0;

/// Weight at progress `x` (clamped to [0, 1]).
pub fn shape(curve: Curve, x: f64) -> f64 {
    let x = x.clamp(0.0, 1.0);
    match curve {
        Curve::Linear => x,
        // Slow start, fast end.
        Curve::Exponential => (EXP_K * x).exp_m1() / EXP_K.exp_m1(),
        // Fast start, slow end: the mirror image of the exponential.
        Curve::Logarithmic => 1.0 - (EXP_K * (1.0 - x)).exp_m1() / EXP_K.exp_m1(),
        // Raised cosine.
        Curve::SCurve => 0.5 - 0.5 * (std::f64::consts::PI * x).cos(),
        // sin for the fade in; a fade out uses shape(1 − x) = cos: constant power.
        Curve::EqualPower => (std::f64::consts::FRAC_PI_2 * x).sin(),
        // Hold the start value to the end of the segment.
        Curve::Step => {
            if x >= 1.0 {
                1.0
            } else {
                0.0
            }
        }
    }
}

/// Gain of a fade in at `x`, and of a fade out at `x` (progress through the
/// fade out): the fade out is the fade in's mirror image in time.
pub fn fade_in(curve: Curve, x: f64) -> f64 {
    shape(curve, x)
}

/// See [`fade_in`].
pub fn fade_out(curve: Curve, x: f64) -> f64 {
    shape(curve, 1.0 - x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ends_and_monotonicity() {
        for c in [
            Curve::Linear,
            Curve::Exponential,
            Curve::Logarithmic,
            Curve::SCurve,
            Curve::EqualPower,
        ] {
            assert!(shape(c, 0.0).abs() < 1e-15, "{c:?}");
            assert!((shape(c, 1.0) - 1.0).abs() < 1e-15, "{c:?}");
            let mut prev = 0.0;
            for i in 1..=100 {
                let v = shape(c, f64::from(i) / 100.0);
                assert!(v >= prev, "{c:?} not monotonic");
                prev = v;
            }
        }
        assert!(shape(Curve::Exponential, 0.5) < 0.5 && shape(Curve::Logarithmic, 0.5) > 0.5);
    }

    #[test]
    fn equal_power_crossfade_keeps_power() {
        for i in 0..=10 {
            let x = f64::from(i) / 10.0;
            let (a, b) = (
                fade_out(Curve::EqualPower, x),
                fade_in(Curve::EqualPower, x),
            );
            assert!((a * a + b * b - 1.0).abs() < 1e-12);
        }
    }
}
