//! Windowed-sinc FIR design with the Kaiser window (J. F. Kaiser,
//! "Nonrecursive digital filter design using the I0-sinh window function",
//! Proc. IEEE ISCAS 1974), with Kaiser's empirical formulas for the window
//! parameter β and the length needed for a stopband attenuation `A` (dB)
//! and a transition width Δf (as a fraction of the sample rate):
//!
//! * `β = 0.1102·(A − 8.7)` for `A > 50`,
//! * `N − 1 ≥ (A − 7.95) / (14.36·Δf)`.
//!
//! (Also in Oppenheim & Schafer, *Discrete-Time Signal Processing*, 3rd ed.,
//! 2010, chapter 7, on FIR design by windowing.)

use std::f64::consts::PI;

/// Kaiser's β for a stopband attenuation in dB (`A > 50` branch; our
/// filters all ask for more).
pub(crate) fn beta(attenuation_db: f64) -> f64 {
    0.1102 * (attenuation_db - 8.7)
}

/// Smallest number of taps (`N`, so order `N − 1`) for an attenuation in dB
/// and a transition width as a fraction of the sample rate.
pub(crate) fn min_taps(attenuation_db: f64, transition: f64) -> usize {
    ((attenuation_db - 7.95) / (14.36 * transition)).ceil() as usize + 1
}

/// Modified Bessel function of the first kind, order 0, by its power series
/// `Σ ((x/2)^k / k!)²`, summed until the terms no longer matter.
pub(crate) fn bessel_i0(x: f64) -> f64 {
    let q = 0.25 * x * x;
    let (mut sum, mut term, mut k) = (1.0, 1.0, 1.0);
    while term > sum * 1e-17 {
        term *= q / (k * k);
        sum += term;
        k += 1.0;
    }
    sum
}

/// The Kaiser window of `taps` points with parameter `beta`.
pub(crate) fn window(taps: usize, beta: f64) -> Vec<f64> {
    let half = (taps as f64 - 1.0) / 2.0;
    let norm = bessel_i0(beta);
    (0..taps)
        .map(|n| {
            let r = if half > 0.0 {
                (n as f64 - half) / half
            } else {
                0.0
            };
            bessel_i0(beta * (1.0 - r * r).max(0.0).sqrt()) / norm
        })
        .collect()
}

/// Fills `taps` with a low-pass of cutoff `cutoff` (fraction of the sample
/// rate, the −6 dB point) shaped by `window`, normalised to unit DC gain.
/// Odd or even length; symmetric, so linear phase with a delay of
/// `(len − 1)/2` samples. The sines of the sinc come from the recurrence
/// `sin((t+1)θ) = 2·cos θ·sin(tθ) − sin((t−1)θ)`, so a redesign costs a few
/// operations per tap (the de-esser redesigns every frame of a sweep).
pub(crate) fn lowpass_into(taps: &mut [f64], cutoff: f64, window: &[f64]) {
    let theta = 2.0 * PI * cutoff;
    let centre = (taps.len() as f64 - 1.0) / 2.0;
    let two_cos = 2.0 * theta.cos();
    let t0 = -centre;
    let (mut prev, mut cur) = ((theta * (t0 - 1.0)).sin(), (theta * t0).sin());
    let mut sum = 0.0;
    for (n, (h, w)) in taps.iter_mut().zip(window).enumerate() {
        let t = n as f64 - centre;
        let sinc = if t == 0.0 { theta / PI } else { cur / (PI * t) };
        *h = sinc * w;
        sum += *h;
        (prev, cur) = (cur, two_cos * cur - prev);
    }
    let norm = 1.0 / sum;
    taps.iter_mut().for_each(|h| *h *= norm);
}

/// Magnitude of the FIR `taps` at `freq` (fraction of the sample rate).
#[cfg(test)]
pub(crate) fn magnitude(taps: &[f64], freq: f64) -> f64 {
    let (mut re, mut im) = (0.0, 0.0);
    for (n, h) in taps.iter().enumerate() {
        let ph = 2.0 * PI * freq * n as f64;
        re += h * ph.cos();
        im -= h * ph.sin();
    }
    re.hypot(im)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bessel_i0_known_values() {
        // Abramowitz & Stegun, Table 9.8.
        assert!((bessel_i0(0.0) - 1.0).abs() < 1e-15);
        assert!((bessel_i0(1.0) - 1.266_065_877_752_008).abs() < 1e-14);
        assert!((bessel_i0(5.0) - 27.239_871_823_604_44).abs() < 1e-11);
    }

    #[test]
    fn recurrence_matches_direct_sines() {
        for (n, cutoff) in [(829, 1000.0 / 192_000.0), (207, 0.125), (170, 0.25)] {
            let w = window(n, beta(70.0));
            let mut h = vec![0.0; n];
            lowpass_into(&mut h, cutoff, &w);
            let centre = (n as f64 - 1.0) / 2.0;
            let direct: Vec<f64> = (0..n)
                .map(|k| {
                    let t = k as f64 - centre;
                    let s = if t == 0.0 {
                        2.0 * cutoff
                    } else {
                        (2.0 * PI * cutoff * t).sin() / (PI * t)
                    };
                    s * w[k]
                })
                .collect();
            let sum: f64 = direct.iter().sum();
            for (a, b) in h.iter().zip(&direct) {
                assert!(
                    (a - b / sum).abs() < 1e-12,
                    "{n} {cutoff}: {a} vs {}",
                    b / sum
                );
            }
        }
    }

    #[test]
    fn kaiser_formulas_deliver_the_attenuation() {
        for (a, pass, stop) in [(70.0, 0.1, 0.12), (120.0, 0.2, 0.3)] {
            let n = min_taps(a, stop - pass);
            let w = window(n, beta(a));
            let mut h = vec![0.0; n];
            lowpass_into(&mut h, (pass + stop) / 2.0, &w);
            let worst_stop = (0..200)
                .map(|k| stop + (0.5 - stop) * f64::from(k) / 199.0)
                .map(|f| magnitude(&h, f))
                .fold(0.0, f64::max);
            let worst_pass = (0..200)
                .map(|k| pass * f64::from(k) / 199.0)
                .map(|f| (magnitude(&h, f) - 1.0).abs())
                .fold(0.0, f64::max);
            assert!(20.0 * worst_stop.log10() < -a + 1.0, "{a} dB: {worst_stop}");
            assert!(
                worst_pass < 2.0 * 10f64.powf(-a / 20.0),
                "{a} dB: {worst_pass}"
            );
        }
    }
}
