//! Range checks that turn a bad option or automation value into a
//! [`CoreError::OutOfRange`] naming the valid range, so `process` never has
//! to cope with one.

use mixmaster_core::CoreError;

/// `value` if `lo <= value <= hi` (NaN never is), else an error naming `range`.
pub(crate) fn in_range(
    name: &'static str,
    value: f64,
    lo: f64,
    hi: f64,
    range: &'static str,
) -> Result<f64, CoreError> {
    if value >= lo && value <= hi {
        Ok(value)
    } else {
        Err(CoreError::OutOfRange { name, value, range })
    }
}

/// The error for a structural setting (one that changes `latency_frames`)
/// that automation tried to change.
pub(crate) fn fixed(name: &'static str, value: f64) -> CoreError {
    CoreError::OutOfRange {
        name,
        value,
        range: "the value given at construction: it sets latency_frames, so it cannot be automated",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nan_and_bounds() {
        assert_eq!(in_range("x_db", 0.0, -1.0, 1.0, "-1 ..= 1"), Ok(0.0));
        assert_eq!(in_range("x_db", 1.0, -1.0, 1.0, "-1 ..= 1"), Ok(1.0));
        assert!(in_range("x_db", 1.5, -1.0, 1.0, "-1 ..= 1").is_err());
        assert!(in_range("x_db", f64::NAN, -1.0, 1.0, "-1 ..= 1").is_err());
        assert_eq!(
            in_range("ratio", f64::INFINITY, 1.0, f64::INFINITY, "1 ..= inf"),
            Ok(f64::INFINITY)
        );
    }
}
