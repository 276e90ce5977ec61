//! Building blocks shared by the dynamics processors ([`crate::compressor`],
//! [`crate::gate`], [`crate::deesser`]): gain computers, ballistics, the key
//! (sidechain) path with its optional high-pass, the lookahead delay, linear
//! parameter ramps and range checks. Private to the crate: the processors
//! are the public surface.

pub(crate) mod ballistics;
pub(crate) mod gain_computer;
pub(crate) mod key;
pub(crate) mod lookahead;
pub(crate) mod peak_hold;
pub(crate) mod sidechain_filter;
pub(crate) mod smoothing;
pub(crate) mod validate;

/// States below this magnitude are flushed to zero so that long decays never
/// reach subnormal numbers (STYLE.md, "Flush denormals").
pub(crate) const DENORMAL_FLOOR: f64 = 1e-30;

/// Flushes a tiny state value to zero.
#[inline]
pub(crate) fn flush(x: f64) -> f64 {
    if x.abs() < DENORMAL_FLOOR { 0.0 } else { x }
}

/// Level in dB of an amplitude, floored at −400 dB so that silence gives a
/// finite level (far below every threshold a user can set).
#[inline]
pub(crate) fn level_db(amplitude: f64) -> f64 {
    // 20·log10(a) as ln(a)·20/ln 10: the natural logarithm is cheaper.
    amplitude.max(1e-20).ln() * (20.0 / std::f64::consts::LN_10)
}
