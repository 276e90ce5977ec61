//! Number formatting for tables: one decimal for levels (Tech 3341 asks
//! meters to show at most one), `-inf` for silence, `n/a` for undefined.

/// A level with one decimal, `-inf` for −∞, `n/a` for NaN.
pub fn level(x: f64) -> String {
    if x.is_nan() {
        "n/a".to_string()
    } else if x == f64::NEG_INFINITY {
        "-inf".to_string()
    } else {
        format!("{x:.1}")
    }
}

/// A signed gain with one decimal (`+4.0`, `-6.0`).
pub fn gain(x: f64) -> String {
    if x.is_finite() {
        format!("{x:+.1}")
    } else {
        level(x)
    }
}

/// An optional value with `decimals`, `n/a` when absent.
pub fn opt(x: Option<f64>, decimals: usize) -> String {
    match x {
        Some(v) if v.is_finite() => format!("{v:.decimals$}"),
        Some(v) => level(v),
        None => "n/a".to_string(),
    }
}

/// Duration as `m:ss.mmm` (or `h:mm:ss.mmm`).
pub fn duration(seconds: f64) -> String {
    let ms_total = (seconds * 1000.0).round() as u64;
    let (h, rem) = (ms_total / 3_600_000, ms_total % 3_600_000);
    let (m, rem) = (rem / 60_000, rem % 60_000);
    let (s, ms) = (rem / 1000, rem % 1000);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}.{ms:03}")
    } else {
        format!("{m}:{s:02}.{ms:03}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(level(f64::NEG_INFINITY), "-inf");
        assert_eq!(level(-23.04), "-23.0");
        assert_eq!(gain(4.0), "+4.0");
        assert_eq!(opt(None, 2), "n/a");
        assert_eq!(duration(65.4321), "1:05.432");
        assert_eq!(duration(3725.0), "1:02:05.000");
    }
}
