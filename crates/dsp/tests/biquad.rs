//! Biquad sections: the response helper against the impulse response, safe
//! coefficient glides, the cascade processor.

use mixmaster_core::Processor;
use mixmaster_dsp::biquad::BiquadState;
use mixmaster_dsp::testing::{assert_block_size_invariant, run_in_blocks};
use mixmaster_dsp::{BiquadCascade, BiquadCascadeOptions, Coefficients};

fn section(b: [f64; 3], a: [f64; 3]) -> Coefficients {
    Coefficients::from_polynomials(b, a)
}

#[test]
fn response_equals_the_transform_of_the_impulse_response() {
    let c = section([0.3, -0.2, 0.1], [1.0, -0.9, 0.5]);
    let mut state = BiquadState::default();
    let h: Vec<f64> = (0..400)
        .map(|n| state.tick(&c, if n == 0 { 1.0 } else { 0.0 }))
        .collect();
    for omega in [0.0, 0.3, 1.0, 2.5, std::f64::consts::PI] {
        let (mut re, mut im) = (0.0, 0.0);
        for (n, v) in h.iter().enumerate() {
            re += v * (omega * n as f64).cos();
            im -= v * (omega * n as f64).sin();
        }
        let (r2, i2) = c.response(omega);
        assert!(
            (re - r2).abs() < 1e-12 && (im - i2).abs() < 1e-12,
            "{omega}"
        );
    }
}

#[test]
fn glides_between_stable_sections_stay_stable() {
    // Corners of the stability triangle (just inside) and a resonance.
    let sets = [
        section([1.0, 0.0, 0.0], [1.0, 1.98, 0.99]),
        section([1.0, 0.0, 0.0], [1.0, -1.98, 0.99]),
        section([1.0, 0.0, 0.0], [1.0, 0.0, -0.99]),
        section([0.5, 0.1, 0.2], [1.0, -1.6, 0.8]),
    ];
    for a in &sets {
        for b in &sets {
            for k in 0..=100 {
                assert!(a.lerp(b, k as f64 / 100.0).is_stable());
            }
        }
    }
}

#[test]
fn identity_is_exact_and_inversion_undoes_a_section() {
    let mut state = BiquadState::default();
    for x in [0.1, -0.7, 1e-300, 3.0] {
        assert_eq!(state.tick(&Coefficients::IDENTITY, x), x);
    }
    let c = section([1.2, -0.5, 0.3], [1.0, -0.4, 0.2]);
    let inv = c.inverted();
    for omega in [0.1, 1.0, 3.0] {
        let p = c.magnitude_squared(omega) * inv.magnitude_squared(omega);
        assert!((p - 1.0).abs() < 1e-12);
    }
}

fn input() -> Vec<Vec<f64>> {
    vec![
        (0..3000)
            .map(|n| ((n * 37) % 101) as f64 / 50.0 - 1.0)
            .collect(),
    ]
}

#[test]
fn cascade_is_block_size_invariant_and_glides_to_new_sections() {
    let sections = vec![
        section([0.2, 0.4, 0.2], [1.0, -0.5, 0.3]),
        section([1.0, -1.0, 0.0], [1.0, -0.9, 0.0]),
    ];
    let make = || {
        BiquadCascade::new(BiquadCascadeOptions {
            sections: sections.clone(),
            ..BiquadCascadeOptions::default()
        })
        .unwrap()
    };
    assert_block_size_invariant(make, 48_000, &input());

    let mut c = make();
    c.prepare(48_000, 64, 1).unwrap();
    let new = [Coefficients::IDENTITY, Coefficients::IDENTITY];
    c.set_sections(&new).unwrap();
    let out = run_in_blocks(&mut c, 48_000, &input(), 64);
    assert!(out[0].iter().all(|v| v.is_finite()));
    // run_in_blocks prepares again (and so ends the glide): glide by hand.
    let mut c = make();
    c.prepare(48_000, 4096, 1).unwrap();
    c.set_sections(&new).unwrap();
    let mut x = input().remove(0);
    c.process(&mut [&mut x[..]]);
    assert_eq!(c.sections(), &new);
    // After the 20 ms glide (960 frames) plus the decay of the state the
    // cascade passes its input unchanged.
    let clean = input().remove(0);
    assert_eq!(&x[2000..], &clean[2000..]);
}

#[test]
fn unstable_sections_are_refused() {
    let err = BiquadCascade::new(BiquadCascadeOptions {
        sections: vec![section([1.0, 0.0, 0.0], [1.0, -2.0, 1.01])],
        ..BiquadCascadeOptions::default()
    })
    .unwrap_err()
    .to_string();
    assert_eq!(
        err,
        "sections (a1, a2) = 1.01 is out of range: expected a stable section: |a2| < 1 and \
         |a1| < 1 + a2, all coefficients finite"
    );
}

/// Direct transposed-direct-form-II reference, section after section.
fn reference(sections: &[Coefficients], input: &[f64]) -> Vec<f64> {
    let mut out = input.to_vec();
    for c in sections {
        let (mut s1, mut s2) = (0.0, 0.0);
        for x in &mut out {
            let y = c.b0 * *x + s1;
            s1 = (c.b1 * *x + s2) - c.a1 * y;
            s2 = c.b2 * *x - c.a2 * y;
            *x = y;
        }
    }
    out
}

#[test]
fn fused_chains_equal_sections_run_one_after_the_other() {
    use mixmaster_dsp::SectionChain;
    // Eleven sections (more than one fused pass), an identity among them,
    // in three chains; 1, 2 and 3 channels (pairs and a single lane).
    let all: Vec<Coefficients> = (0..11)
        .map(|k| {
            if k == 4 {
                Coefficients::IDENTITY
            } else {
                let r = 0.5 + 0.04 * k as f64;
                let th = 0.2 + 0.25 * k as f64;
                section(
                    [0.4 + 0.05 * k as f64, -0.3, 0.1],
                    [1.0, -2.0 * r * th.cos(), r * r],
                )
            }
        })
        .collect();
    let split = [0..3, 3..8, 8..11];
    for channels in 1..=3 {
        let input: Vec<Vec<f64>> = (0..channels)
            .map(|c| {
                (0..3000)
                    .map(|n| ((n * (7 + c) % 31) as f64 / 15.0 - 1.0) * 0.5)
                    .collect()
            })
            .collect();
        let expected: Vec<Vec<f64>> = input.iter().map(|x| reference(&all, x)).collect();
        for block in [1, 7, 64, 300, 4096] {
            let mut chains: Vec<SectionChain> = split
                .iter()
                .map(|r| {
                    let mut c = SectionChain::new(r.len());
                    c.prepare(channels);
                    c.set_immediate(&all[r.clone()]);
                    c
                })
                .collect();
            let mut out = input.clone();
            let mut start = 0;
            while start < 3000 {
                let end = (start + block).min(3000);
                let mut b: Vec<&mut [f64]> = out.iter_mut().map(|c| &mut c[start..end]).collect();
                SectionChain::process_series(&mut chains, &mut b, 0, end - start);
                start = end;
            }
            assert_eq!(out, expected, "{channels} channels, blocks of {block}");
        }
    }
}
