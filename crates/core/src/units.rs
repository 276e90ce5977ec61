//! Unit conversions. Level names carry their unit: `_db` is a ratio in
//! decibels, `_dbfs` relative to digital full scale, `_lufs` loudness per
//! ITU-R BS.1770, `_hz`, `_ms`, `_s` and `_frames` as usual.

/// Amplitude ratio for a level in dB (20·log10 convention).
#[inline]
pub fn db_to_amplitude(db: f64) -> f64 {
    10f64.powf(db / 20.0)
}

/// Level in dB of an amplitude ratio; `-inf` for 0.
#[inline]
pub fn amplitude_to_db(amplitude: f64) -> f64 {
    20.0 * amplitude.abs().log10()
}

/// Level in dB of a power (energy) ratio (10·log10 convention); `-inf` for 0.
#[inline]
pub fn power_to_db(power: f64) -> f64 {
    10.0 * power.log10()
}

/// Power ratio for a level in dB.
#[inline]
pub fn db_to_power(db: f64) -> f64 {
    10f64.powf(db / 10.0)
}

/// Seconds to frames at a sample rate, rounded to the nearest frame.
#[inline]
pub fn seconds_to_frames(seconds: f64, sample_rate_hz: u32) -> u64 {
    (seconds * f64::from(sample_rate_hz)).round().max(0.0) as u64
}

/// Frames to seconds at a sample rate.
#[inline]
pub fn frames_to_seconds(frames: u64, sample_rate_hz: u32) -> f64 {
    frames as f64 / f64::from(sample_rate_hz)
}

/// `Some(x)` when `x` is finite, `None` for ±inf and NaN — the JSON
/// convention of mixmaster (`null` where a figure is −∞ or undefined).
#[inline]
pub fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn db_round_trips() {
        for db in [-120.0, -6.0206, 0.0, 3.0, 18.0] {
            assert!((amplitude_to_db(db_to_amplitude(db)) - db).abs() < 1e-12);
            assert!((power_to_db(db_to_power(db)) - db).abs() < 1e-12);
        }
        assert_eq!(amplitude_to_db(0.0), f64::NEG_INFINITY);
        assert!((amplitude_to_db(0.5) + 6.020_599_913_279_624).abs() < 1e-12);
    }

    #[test]
    fn frames_and_seconds() {
        assert_eq!(seconds_to_frames(0.4, 44_100), 17_640);
        assert_eq!(frames_to_seconds(48_000, 48_000), 1.0);
        assert_eq!(finite(f64::NEG_INFINITY), None);
        assert_eq!(finite(1.5), Some(1.5));
    }
}
