//! Crossover: Linkwitz–Riley bands with all-pass compensation sum to a flat
//! magnitude for 2–5 bands at 44.1/48/96/192 kHz (impulse response, FFT, dense
//! log grid); bands meet at −6.02 dB; the stated band responses match the
//! measured ones; linear-phase bands sum to the delayed input; frequency
//! glides; validation; block-size invariance.

mod band_support;

use band_support::{
    RATES, bin_hz, crossovers, db, fft_len, impulse, log_grid_bins, noise, null_db, spectrum,
    worst_flatness_db,
};
use mixmaster_core::{CoreError, Processor};
use mixmaster_dsp::crossover::{BandBuffers, LINEAR_PHASE_STOPBAND_DB, linear_phase_design};
use mixmaster_dsp::fft_fir::default_partition_frames;
use mixmaster_dsp::testing::assert_block_size_invariant;
use mixmaster_dsp::{Crossover, CrossoverKind, CrossoverOptions};

const LR_KINDS: [CrossoverKind; 3] = [CrossoverKind::Lr2, CrossoverKind::Lr4, CrossoverKind::Lr8];

fn crossover(kind: CrossoverKind, crossover_hz: Vec<f64>) -> Crossover {
    Crossover::new(CrossoverOptions {
        kind,
        crossover_hz,
        ..CrossoverOptions::default()
    })
    .unwrap()
}

/// Splits mono `x` in blocks of `block` frames; returns the bands.
fn split_all(xo: &mut Crossover, fs: u32, x: &[f64], block: usize) -> Vec<Vec<f64>> {
    xo.prepare(fs, block, 1).unwrap();
    let mut buffers = xo.make_buffers();
    let mut bands = vec![Vec::with_capacity(x.len()); xo.bands()];
    for chunk in x.chunks(block) {
        xo.split(&[chunk], &mut buffers);
        for (k, band) in bands.iter_mut().enumerate() {
            band.extend_from_slice(buffers.band(k, 0));
        }
    }
    bands
}

fn sum(bands: &[Vec<f64>]) -> Vec<f64> {
    let mut s = vec![0.0; bands[0].len()];
    for b in bands {
        s.iter_mut().zip(b).for_each(|(y, x)| *y += x);
    }
    s
}

#[test]
fn linkwitz_riley_bands_sum_flat_for_2_to_5_bands() {
    let mut worst_all = 0.0f64;
    for kind in LR_KINDS {
        for fs in RATES {
            for n_bands in 2..=5 {
                let mut xo = crossover(kind, crossovers(n_bands));
                let x = impulse(fft_len(fs), 0);
                let bands = split_all(&mut xo, fs, &x, 1024);
                let worst = worst_flatness_db(&sum(&bands), fs);
                worst_all = worst_all.max(worst);
                println!("{kind:?} {fs} Hz {n_bands} bands: sum flat within {worst:.1e} dB");
                assert!(worst < 0.01, "{kind:?} {fs} Hz {n_bands} bands: {worst} dB");
            }
        }
    }
    println!("LR sum flatness, worst over the matrix: {worst_all:.1e} dB");
}

#[test]
fn without_compensation_the_sum_would_notch() {
    // The reason for the all-pass compensation: band 1 of a 3-band LR4
    // split one octave apart, summed without its all-pass at f2, dips by
    // 3.6 dB (analog value; 0.05 dB with the crossovers 4 octaves apart).
    let fs = 48_000;
    let mut xo = crossover(CrossoverKind::Lr4, vec![500.0, 1000.0]);
    let x = impulse(fft_len(fs), 0);
    let bands = split_all(&mut xo, fs, &x, 4096);
    let mut two = crossover(CrossoverKind::Lr4, vec![500.0]);
    let low_uncompensated = split_all(&mut two, fs, &x, 4096).remove(0);
    let naive = sum(&[low_uncompensated, bands[1].clone(), bands[2].clone()]);
    let worst = worst_flatness_db(&naive, fs);
    println!("uncompensated 3-band LR4 sum: worst {worst:.1} dB");
    assert!(worst > 3.0);
}

#[test]
fn bands_meet_at_minus_6_db_and_match_their_stated_response() {
    for kind in LR_KINDS.into_iter().chain([CrossoverKind::LinearPhase]) {
        let fs = 48_000;
        let freqs = crossovers(4);
        let mut xo = crossover(kind, freqs.clone());
        let len = fft_len(fs);
        let x = impulse(len, 0);
        let bands = split_all(&mut xo, fs, &x, 512);
        for (j, &f) in freqs.iter().enumerate() {
            for band in [j, j + 1] {
                let h = xo.band_response(band, f);
                // Neighbouring crossovers pull a little (LR2 most); the
                // crossover itself is −6.02 dB.
                let tolerance = if kind == CrossoverKind::Lr2 { 1.5 } else { 0.3 };
                let level = db(h.0.hypot(h.1));
                assert!(
                    (level + 6.02).abs() < tolerance,
                    "{kind:?} band {band} at {f} Hz: {level} dB"
                );
            }
        }
        // Measured spectra against band_response on the log grid.
        let mut worst = 0.0f64;
        for (k, band) in bands.iter().enumerate() {
            let s = spectrum(band);
            for bin in log_grid_bins(fs, len, 300) {
                let (re, im) = xo.band_response(k, bin_hz(bin, fs, len));
                worst = worst.max((s[bin].re - re).hypot(s[bin].im - im));
            }
        }
        println!("{kind:?}: band spectra vs band_response, worst |error| {worst:.1e}");
        assert!(worst < 1e-9, "{kind:?}: {worst}");
    }
}

#[test]
fn linear_phase_bands_sum_to_the_delayed_input() {
    let mut worst = f64::NEG_INFINITY;
    for fs in RATES {
        for n_bands in 2..=5 {
            let freqs = crossovers(n_bands);
            let mut xo = crossover(CrossoverKind::LinearPhase, freqs.clone());
            xo.prepare(fs, 256, 1).unwrap();
            let d = xo.latency_frames();
            let (_, taps) = linear_phase_design(&freqs, f64::from(fs));
            assert_eq!(d, (taps - 1) / 2 + default_partition_frames(taps));
            assert_eq!(xo.fir_lowpasses()[0].len(), taps);
            // Noise with the impulse response's length, in odd blocks.
            let frames = 2 * taps + d + 3000;
            let x = noise(0.5, frames, 11);
            let bands = split_all(&mut xo, fs, &x, 333);
            let s = sum(&bands);
            let err: Vec<f64> = (d..frames).map(|n| s[n] - x[n - d]).collect();
            let null = null_db(&err, &x[..frames - d]);
            worst = worst.max(null);
            println!(
                "linear phase {fs} Hz {n_bands} bands: {taps} taps, latency {d}, null {null:.0} dB"
            );
            assert!(null < -120.0, "{fs} Hz {n_bands} bands: {null} dB");
            assert!(s[..d].iter().all(|v| v.abs() < 1e-12));
        }
    }
    println!("linear-phase null, worst over the matrix: {worst:.0} dB");
}

#[test]
fn linear_phase_bands_separate() {
    // Lowest band passes well below f1 and the top band stops there, with
    // the stated stopband attenuation.
    let fs = 48_000;
    let freqs = crossovers(3);
    let mut xo = crossover(CrossoverKind::LinearPhase, freqs.clone());
    xo.prepare(fs, 512, 1).unwrap();
    let (transition, _) = linear_phase_design(&freqs, f64::from(fs));
    assert_eq!(transition, 200.0);
    let mag = |band: usize, f: f64| {
        let h = xo.band_response(band, f);
        db(h.0.hypot(h.1))
    };
    for f in [20.0, 50.0, 99.0] {
        assert!(mag(0, f).abs() < 1e-3, "{f} Hz: {}", mag(0, f));
        assert!(mag(1, f) < -LINEAR_PHASE_STOPBAND_DB + 1.0);
        assert!(mag(2, f) < -LINEAR_PHASE_STOPBAND_DB + 1.0);
    }
    for f in [301.0, 1000.0, 2899.0] {
        assert!(mag(1, f).abs() < 1e-3, "{f} Hz: {}", mag(1, f));
    }
}

#[test]
fn frequency_glides_to_the_new_design() {
    let fs = 48_000;
    let mut moved = crossover(CrossoverKind::Lr4, vec![200.0, 3000.0]);
    moved.prepare(fs, 64, 1).unwrap();
    let mut buffers = moved.make_buffers();
    let silence = [0.0; 64];
    moved.set_frequency(0, 500.0).unwrap();
    // A whole number of the filters' denormal-flush intervals (256 frames,
    // counted from reset), so both crossovers flush tiny states on the same
    // frames and the tails agree to the last bit.
    for _ in 0..(fs as usize / 64).next_multiple_of(4) {
        moved.split(&[&silence[..]], &mut buffers);
    }
    assert_eq!(moved.options().crossover_hz, [500.0, 3000.0]);
    let mut fresh = crossover(CrossoverKind::Lr4, vec![500.0, 3000.0]);
    fresh.prepare(fs, 64, 1).unwrap();
    let mut fresh_buffers = fresh.make_buffers();
    let mut x = impulse(64, 0);
    for _ in 0..200 {
        moved.split(&[&x[..]], &mut buffers);
        fresh.split(&[&x[..]], &mut fresh_buffers);
        for k in 0..3 {
            assert_eq!(buffers.band(k, 0), fresh_buffers.band(k, 0));
        }
        x.fill(0.0);
    }
}

#[test]
fn frequency_changes_are_checked() {
    let mut xo = crossover(CrossoverKind::Lr4, vec![200.0, 3000.0]);
    assert!(matches!(
        xo.set_frequency(0, 3000.0),
        Err(CoreError::OutOfRange {
            name: "crossover1_hz",
            ..
        })
    ));
    assert!(xo.set_frequency(1, 25_000.0).is_err());
    assert!(xo.set_frequency(2, 5000.0).is_err());
    xo.prepare(44_100, 64, 2).unwrap();
    assert!(matches!(
        xo.set_frequency(1, 19_900.0),
        Err(CoreError::OutOfRange {
            name: "crossover2_hz",
            ..
        })
    ));
    let mut lin = crossover(CrossoverKind::LinearPhase, vec![200.0, 3000.0]);
    assert!(lin.set_frequency(0, 250.0).is_err());
    assert!(lin.set_frequency(0, 200.0).is_ok());
}

#[test]
fn options_are_validated_with_clear_errors() {
    let bad = |crossover_hz: Vec<f64>| {
        Crossover::new(CrossoverOptions {
            crossover_hz,
            ..CrossoverOptions::default()
        })
        .unwrap_err()
        .to_string()
    };
    assert!(bad(vec![100.0, 200.0, 300.0, 400.0, 500.0]).contains("1 ..= 5 bands"));
    assert!(bad(vec![10.0]).contains("20 ..= 20000 Hz"));
    assert!(bad(vec![1000.0, 500.0]).contains("must increase"));
    let mut xo = crossover(CrossoverKind::Lr4, vec![1000.0]);
    assert!(xo.prepare(48_000, 64, 17).is_err());
    let mut high = crossover(CrossoverKind::Lr4, vec![20_000.0]);
    assert!(high.prepare(44_100, 64, 2).is_err());
    assert!(high.prepare(48_000, 64, 2).is_ok());
}

#[test]
fn one_band_is_a_copy() {
    for kind in [CrossoverKind::Lr4, CrossoverKind::LinearPhase] {
        let mut xo = crossover(kind, vec![]);
        let x = noise(0.5, 1000, 3);
        let bands = split_all(&mut xo, 48_000, &x, 100);
        assert_eq!(xo.latency_frames(), 0);
        assert_eq!(bands.len(), 1);
        assert_eq!(bands[0], x);
    }
}

/// The crossover as a processor that outputs band `band`, for the shared
/// block-size helper.
struct BandTap {
    xo: Crossover,
    buffers: BandBuffers,
    band: usize,
}

impl Processor for BandTap {
    fn prepare(&mut self, fs: u32, max: usize, channels: usize) -> Result<(), CoreError> {
        self.xo.prepare(fs, max, channels)?;
        self.buffers = self.xo.make_buffers();
        Ok(())
    }

    fn process(&mut self, block: &mut [&mut [f64]]) {
        let input: Vec<Vec<f64>> = block.iter().map(|c| c.to_vec()).collect();
        self.xo.split(&input, &mut self.buffers);
        for (c, ch) in block.iter_mut().enumerate() {
            ch.copy_from_slice(self.buffers.band(self.band, c));
        }
    }

    fn reset(&mut self) {
        self.xo.reset();
    }
}

#[test]
fn split_is_block_size_invariant() {
    let input = vec![noise(0.5, 9000, 1), noise(0.5, 9000, 2)];
    for kind in [
        CrossoverKind::Lr2,
        CrossoverKind::Lr8,
        CrossoverKind::LinearPhase,
    ] {
        for band in 0..4 {
            assert_block_size_invariant(
                || BandTap {
                    xo: crossover(kind, crossovers(4)),
                    buffers: BandBuffers::new(0, 0, 0),
                    band,
                },
                48_000,
                &input,
            );
        }
    }
}
