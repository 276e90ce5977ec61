//! Static curves (gain computers) of the dynamics processors, in dB.

/// Gain in dB (≤ 0) of a downward compressor for a detector level `x_db`,
/// with threshold `t_db`, `inv_ratio` = 1/R (0 for R = ∞) and knee width
/// `knee_db` (0 = hard knee). Below the knee the gain is 0; above it the
/// output level is `T + (x − T)/R`; inside it the quadratic soft knee of
/// Giannoulis, Massberg & Reiss, JAES 60(6), 2012, Eq. (4):
/// `y = x + (1/R − 1)·(x − T + W/2)² / (2W)` for `2·|x − T| ≤ W`.
#[inline]
pub(crate) fn compressor_gain_db(x_db: f64, t_db: f64, inv_ratio: f64, knee_db: f64) -> f64 {
    let over = x_db - t_db;
    if 2.0 * over <= -knee_db {
        0.0
    } else if knee_db > 0.0 && 2.0 * over.abs() <= knee_db {
        let k = over + 0.5 * knee_db;
        (inv_ratio - 1.0) * k * k / (2.0 * knee_db)
    } else {
        (inv_ratio - 1.0) * over
    }
}

/// Gain in dB (≤ 0) of a downward expander for a level `x_db` below the
/// threshold `t_db`: the output level is `T + (x − T)·R` (the compressor's
/// hard-knee line mirrored below the threshold), so the gain is
/// `(R − 1)(x − T)`, never below `range_db`. `inv_ratio` =
/// 1/R; 0 (R = ∞) is a gate, whose gain below threshold is `range_db`.
#[inline]
pub(crate) fn expander_gain_db(x_db: f64, t_db: f64, inv_ratio: f64, range_db: f64) -> f64 {
    if x_db >= t_db {
        0.0
    } else if inv_ratio <= 0.0 {
        range_db
    } else {
        ((1.0 / inv_ratio - 1.0) * (x_db - t_db)).max(range_db)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn soft_knee_is_continuous_and_joins_both_lines() {
        let (t, ir, w) = (-20.0, 0.25, 10.0);
        for x in [-25.0, -15.0] {
            let below = compressor_gain_db(x - 1e-9, t, ir, w);
            let above = compressor_gain_db(x + 1e-9, t, ir, w);
            assert!((below - above).abs() < 1e-6, "{x}: {below} vs {above}");
        }
        assert_eq!(compressor_gain_db(-30.0, t, ir, w), 0.0);
        assert!((compressor_gain_db(0.0, t, ir, w) + 15.0).abs() < 1e-12);
        // At the threshold the soft knee gives (1/R − 1)·W/8.
        assert!((compressor_gain_db(t, t, ir, w) - (ir - 1.0) * w / 8.0).abs() < 1e-12);
    }

    #[test]
    fn expander_and_gate() {
        assert_eq!(expander_gain_db(-30.0, -40.0, 0.5, -60.0), 0.0);
        assert!((expander_gain_db(-50.0, -40.0, 0.5, -60.0) + 10.0).abs() < 1e-12);
        assert_eq!(expander_gain_db(-100.0, -40.0, 0.5, -60.0), -60.0);
        assert_eq!(expander_gain_db(-41.0, -40.0, 0.0, -80.0), -80.0);
    }
}
