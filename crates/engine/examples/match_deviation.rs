//! Measures reference matching on music-like generated audio: the
//! third-octave tonal deviation (level-aligned, 40 Hz – 15 kHz) from the
//! reference before and after matching, for mid and side, the width, and the
//! match EQ's speed.
//!
//! `cargo run --release -p mixmaster-engine --example match_deviation`
//!
//! Two cases, 30 s at 48 kHz each:
//! 1. the reference is the same song through a different master EQ (low
//!    shelf, two bells, high shelf, wider side with its bass cut);
//! 2. the reference is another song (other tempo, key, arrangement and
//!    balance) through its own EQ — the everyday use, where the content
//!    differs and only the long-term balance can match.

use std::f64::consts::TAU;
use std::time::Instant;

use mixmaster_core::Processor;
use mixmaster_dsp::rng::SplitMix64;
use mixmaster_dsp::{Band, Eq, EqOptions};
use mixmaster_engine::reference::{
    Analysis, Component, MatchOptions, MatchPlan, plan, tone_deviation,
};

const FS: u32 = 48_000;
const SECONDS: f64 = 30.0;

/// A generated song in the style of `mixmaster demo`: kick, snare, hats,
/// bass, a stereo pad and a lead, each placed in the stereo field.
struct Song {
    tempo_bpm: f64,
    /// Chords (three notes each), one per bar.
    chords: [[f64; 3]; 4],
    lead: [f64; 8],
    /// Levels of kick, snare, hats, bass, pad, lead.
    levels: [f64; 6],
    seed: u64,
}

impl Song {
    fn render(&self) -> Vec<Vec<f64>> {
        let fs = f64::from(FS);
        let n = (SECONDS * fs) as usize;
        let mut rng = SplitMix64::new(self.seed);
        let mut hat_state = 0.0;
        let (mut left, mut right) = (vec![0.0; n], vec![0.0; n]);
        let [kick_l, snare_l, hats_l, bass_l, pad_l, lead_l] = self.levels;
        for i in 0..n {
            let t = i as f64 / fs;
            let beat_s = 60.0 / self.tempo_bpm;
            let beat = t / beat_s;
            let in_beat = beat.fract() * beat_s;
            let beat_in_bar = (beat as usize) % 4;
            let bar = (beat / 4.0) as usize;
            let chord = self.chords[bar % 4];
            let breakdown = (4..6).contains(&(bar % 12));
            let noise = rng.next_f64() * 2.0 - 1.0;
            let noise2 = rng.next_f64() * 2.0 - 1.0;

            let kick = if breakdown {
                0.0
            } else {
                let f = 50.0 + 90.0 * (-in_beat * 30.0).exp();
                (TAU * f * in_beat).sin() * (-in_beat * 9.0).exp()
            };
            let snare_env = if breakdown || beat_in_bar.is_multiple_of(2) {
                0.0
            } else {
                1.0
            };
            let body = (TAU * 185.0 * in_beat).sin() * (-in_beat * 25.0).exp();
            let snare_l_part = snare_env * (0.6 * noise * (-in_beat * 14.0).exp() + 0.5 * body);
            let snare_r_part = snare_env * (0.6 * noise2 * (-in_beat * 14.0).exp() + 0.5 * body);
            let hp = noise - hat_state;
            hat_state = noise;
            let off = (beat + 0.5).fract() * beat_s;
            let hats = if breakdown {
                0.0
            } else {
                hp * (-off * 40.0).exp()
            };
            let bass_f = chord[0] / 4.0;
            let bass_env = (-in_beat * 3.0).exp() * 0.8 + 0.2;
            let bass = bass_env
                * ((TAU * bass_f * t).sin() + 0.3 * (TAU * 2.0 * bass_f * t).sin())
                * if breakdown { 0.4 } else { 1.0 };
            let (mut pad_left, mut pad_right) = (0.0, 0.0);
            for (k, f) in chord.iter().enumerate() {
                let v = |detune: f64| {
                    (TAU * f * detune * t).sin() + 0.3 * (TAU * 2.0 * f * detune * t).sin()
                };
                let spread = 0.0015 * (k as f64 + 1.0);
                pad_left += 0.25 * v(1.0 - spread);
                pad_right += 0.25 * v(1.0 + spread);
            }
            let note = self.lead[(beat * 2.0) as usize % self.lead.len()];
            let note_t = (beat * 2.0).fract() * beat_s / 2.0;
            let lead = if breakdown {
                0.0
            } else {
                (TAU * note * t + 0.8 * (TAU * 2.0 * note * t).sin()).sin() * (-note_t * 4.0).exp()
            };
            // Kick, bass and lead in the centre, hats right of centre,
            // snare with decorrelated noise, pad wide.
            let centre = kick_l * kick + bass_l * bass + lead_l * lead;
            left[i] = centre + snare_l * snare_l_part + 0.7 * hats_l * hats + pad_l * pad_left;
            right[i] = centre + snare_l * snare_r_part + 1.0 * hats_l * hats + pad_l * pad_right;
        }
        vec![left, right]
    }
}

fn run<P: Processor>(p: &mut P, input: &[Vec<f64>]) -> Vec<Vec<f64>> {
    p.prepare(FS, 4096, input.len()).expect("prepare");
    let d = p.latency_frames();
    let mut out: Vec<Vec<f64>> = input
        .iter()
        .map(|c| {
            let mut v = c.clone();
            v.resize(c.len() + d, 0.0);
            v
        })
        .collect();
    let frames = out[0].len();
    let mut start = 0;
    while start < frames {
        let end = (start + 4096).min(frames);
        let mut block: Vec<&mut [f64]> = out.iter_mut().map(|c| &mut c[start..end]).collect();
        p.process(&mut block);
        start = end;
    }
    out.into_iter().map(|c| c[d..].to_vec()).collect()
}

/// A master EQ on L/R, then a side gain and a side EQ.
fn master(
    x: &[Vec<f64>],
    bands: Vec<Band>,
    side_gain_db: f64,
    side_bands: Vec<Band>,
) -> Vec<Vec<f64>> {
    let mut eq = Eq::new(EqOptions {
        bands,
        smoothing_ms: 0.0,
    })
    .expect("valid EQ");
    let y = run(&mut eq, x);
    let g = 10f64.powf(side_gain_db / 20.0);
    let (m, s): (Vec<f64>, Vec<f64>) = y[0]
        .iter()
        .zip(&y[1])
        .map(|(l, r)| (0.5 * (l + r), 0.5 * g * (l - r)))
        .unzip();
    let mut side_eq = Eq::new(EqOptions {
        bands: side_bands,
        smoothing_ms: 0.0,
    })
    .expect("valid EQ");
    let s = run(&mut side_eq, &[s]).pop().expect("one channel");
    vec![
        m.iter().zip(&s).map(|(m, s)| m + s).collect(),
        m.iter().zip(&s).map(|(m, s)| m - s).collect(),
    ]
}

fn report(name: &str, input: &[Vec<f64>], reference: &[Vec<f64>], options: &MatchOptions) {
    let a_in = Analysis::of_buffer(input, FS).expect("analysis");
    let a_ref = Analysis::of_buffer(reference, FS).expect("analysis");
    let p: MatchPlan = plan(&a_in, &a_ref, options).expect("valid");
    let mut eq = p.processor(FS).expect("processor");
    let out = run(&mut eq, input);
    let a_out = Analysis::of_buffer(&out, FS).expect("analysis");
    println!("## {name}");
    for line in p.summary() {
        println!("  {line}");
    }
    for c in [Component::Mid, Component::Side] {
        let dev = |a: &Analysis| tone_deviation(a, &a_ref, c, 40.0, 15_000.0).expect("bands");
        let (before, after) = (dev(&a_in), dev(&a_out));
        println!(
            "  {c:?} third-octave deviation (40 Hz-15 kHz, {} bands): before {:.2} dB rms / \
             {:.2} dB max, after {:.2} dB rms / {:.2} dB max",
            before.bands, before.rms_db, before.max_abs_db, after.rms_db, after.max_abs_db
        );
    }
    let w = |a: &Analysis| a.width_db(30.0, 16_000.0);
    println!(
        "  width S/M: input {:.2} dB, reference {:.2} dB, output {:.2} dB",
        w(&a_in),
        w(&a_ref),
        w(&a_out)
    );
    println!(
        "  loudness: input {:.2} LUFS, output {:.2} LUFS (the match EQ is loudness-neutral; \
         the target {:.2} LUFS is for the mastering loop)",
        a_in.integrated_lufs, a_out.integrated_lufs, a_ref.integrated_lufs
    );
}

fn main() {
    let song_a = Song {
        tempo_bpm: 120.0,
        chords: [
            [220.00, 261.63, 329.63],
            [174.61, 220.00, 261.63],
            [261.63, 329.63, 392.00],
            [196.00, 246.94, 293.66],
        ],
        lead: [
            659.25, 587.33, 523.25, 493.88, 523.25, 587.33, 659.25, 783.99,
        ],
        levels: [0.25, 0.12, 0.06, 0.18, 0.08, 0.08],
        seed: 7,
    };
    let song_b = Song {
        tempo_bpm: 96.0,
        chords: [
            [146.83, 174.61, 220.00],
            [116.54, 146.83, 174.61],
            [130.81, 164.81, 196.00],
            [110.00, 130.81, 164.81],
        ],
        lead: [
            880.0, 783.99, 698.46, 659.25, 587.33, 659.25, 698.46, 1046.5,
        ],
        levels: [0.3, 0.1, 0.1, 0.12, 0.1, 0.06],
        seed: 99,
    };
    let input = song_a.render();

    let reference_1 = master(
        &input,
        vec![
            Band::low_shelf(90.0, 3.0),
            Band::bell(400.0, -2.5, 1.0),
            Band::bell(3000.0, 2.0, 0.8),
            Band::high_shelf(10_000.0, 3.0),
        ],
        3.0,
        vec![Band::low_shelf(150.0, -4.0)],
    );
    let defaults = MatchOptions::default();
    report(
        "case 1: same song, other master EQ",
        &input,
        &reference_1,
        &defaults,
    );

    let reference_2 = master(
        &song_b.render(),
        vec![
            Band::low_shelf(70.0, 2.0),
            Band::bell(250.0, -2.0, 0.9),
            Band::high_shelf(6000.0, 4.0),
        ],
        -2.0,
        vec![],
    );
    report(
        "case 2: another song as the reference",
        &input,
        &reference_2,
        &defaults,
    );
    report(
        "case 2 with limits of +/-12 dB",
        &input,
        &reference_2,
        &MatchOptions {
            max_boost_db: 12.0,
            max_cut_db: 12.0,
            ..defaults
        },
    );

    // Speed of the match EQ alone (default 16383 taps, stereo).
    let a = Analysis::of_buffer(&input, FS).expect("analysis");
    let b = Analysis::of_buffer(&reference_1, FS).expect("analysis");
    let p = plan(&a, &b, &MatchOptions::default()).expect("valid");
    let mut best = f64::INFINITY;
    for _ in 0..3 {
        let mut eq = p.processor(FS).expect("processor");
        let t = Instant::now();
        let out = run(&mut eq, &input);
        best = best.min(t.elapsed().as_secs_f64());
        std::hint::black_box(out);
    }
    let start = Instant::now();
    let _ = Analysis::of_buffer(&input, FS).expect("analysis");
    let analysis_s = start.elapsed().as_secs_f64();
    println!(
        "## speed (one core, best of 3): match EQ {:.0}x real time ({:.1} ns per stereo frame), \
         analysis {:.0}x real time",
        SECONDS / best,
        best * 1e9 / (SECONDS * f64::from(FS)),
        SECONDS / analysis_s
    );
}
