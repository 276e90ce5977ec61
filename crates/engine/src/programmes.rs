//! Generated programmes for testing and benchmarking the mastering stage:
//! ten deterministic, music-like inputs that cover what a mastering
//! preset meets in practice — a quiet acoustic take, dense loud rock,
//! bass-heavy electronic music, a very wide mix, a mono file, spiky
//! percussion, a mix that is already limited, and the sample rates 44.1, 48
//! and 96 kHz.
//!
//! The same signals feed the mastering acceptance test
//! (`crates/engine/tests/master.rs`) and the three-meter check
//! `scripts/bench_master_matrix.sh` (which writes them to WAV with the
//! `mastering_inputs` example), so a figure in `BENCHMARKS.md` and a test
//! result speak of the same audio.
//!
//! Every programme is a pure function of its name, rate and length: the
//! noise comes from a seeded [`Xorshift64`], so two runs give bit-identical
//! samples, and a longer programme starts with the samples of a shorter one.

use std::f64::consts::TAU;

/// A generated programme: planar `f64` samples at a sample rate.
#[derive(Debug, Clone, PartialEq)]
pub struct Programme {
    /// Short kebab-case name, usable as a file stem (`dense-rock`).
    pub name: &'static str,
    /// What the programme stands for, in a few words.
    pub description: &'static str,
    /// Sample rate in Hz.
    pub sample_rate_hz: u32,
    /// Planar samples: one `Vec` per channel (one for mono, two for stereo),
    /// all of the same length.
    pub channels: Vec<Vec<f64>>,
}

impl Programme {
    /// Length in frames.
    #[must_use]
    pub fn frames(&self) -> usize {
        self.channels.first().map_or(0, Vec::len)
    }
}

/// Marsaglia's xorshift64 (shifts 13, 7, 17; "Xorshift RNGs", J. Stat.
/// Softw. 8(14), 2003): a tiny deterministic noise source for generated
/// test signals. Not for anything that needs statistical quality.
#[derive(Debug, Clone)]
pub struct Xorshift64(u64);

impl Xorshift64 {
    /// A generator from a seed; the seed must not be 0 (xorshift's one
    /// fixed point), and 0 is replaced by 1.
    #[must_use]
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    /// The next value, uniform in `[-1, 1)` with 53-bit resolution.
    pub fn bipolar(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    }
}

/// The ten programmes, in order: name, sample rate, description.
const INPUTS: [(&str, u32, &str); 10] = [
    (
        "quiet-acoustic",
        48_000,
        "quiet plucked G3 + octave, decaying every 0.5 s, a little noise (stereo, right 0.9x)",
    ),
    (
        "dense-rock",
        48_000,
        "loud saturated noise + 110 Hz, partly decorrelated stereo",
    ),
    (
        "bass-electronic",
        48_000,
        "50 Hz kick every 0.5 s over a 55 Hz sub bass (dual mono)",
    ),
    (
        "very-wide",
        48_000,
        "independent noise in left and right (uncorrelated)",
    ),
    (
        "mono",
        48_000,
        "one channel: 440 Hz with a 2 Hz tremolo, light noise",
    ),
    (
        "spiky-percussion",
        48_000,
        "40-sample noise bursts near full scale every 0.25 s over near silence",
    ),
    (
        "already-limited",
        48_000,
        "loud noise hard-clipped at -0.5 dBFS, independent channels",
    ),
    ("rock-44k", 44_100, "dense-rock at 44.1 kHz"),
    ("acoustic-96k", 96_000, "quiet-acoustic at 96 kHz"),
    ("electronic-44k", 44_100, "bass-electronic at 44.1 kHz"),
];

/// The ten mastering inputs, each `seconds` long (rounded to whole frames;
/// a length that is not positive and finite gives empty programmes).
///
/// At `seconds = 4.0` these are exactly the inputs of the mastering
/// acceptance test; a different length keeps each signal's beginning.
#[must_use]
pub fn mastering_inputs(seconds: f64) -> Vec<Programme> {
    INPUTS
        .iter()
        .map(|&(name, rate, description)| Programme {
            name,
            description,
            sample_rate_hz: rate,
            channels: generate(name, rate, seconds),
        })
        .collect()
}

/// Songs made from the demo song's stems ([`crate::demo_song`]), mixed to
/// stereo: name, tempo, transposition in semitones, noise seed,
/// description. Music to try albums with (`generate = "demo-song"`).
const SONGS: [(&str, f64, f64, u64, &str); 3] = [
    (
        "demo-song",
        120.0,
        0.0,
        7,
        "the demo song: A minor, 120 bpm, six stems mixed",
    ),
    (
        "demo-song-slow",
        96.0,
        -3.0,
        11,
        "the demo song in F# minor at 96 bpm",
    ),
    (
        "demo-song-fast",
        132.0,
        2.0,
        13,
        "the demo song in B minor at 132 bpm",
    ),
];

/// The names of every programme: the ten mastering inputs, then the
/// demo songs.
pub fn names() -> impl Iterator<Item = &'static str> {
    INPUTS.iter().map(|i| i.0).chain(SONGS.iter().map(|s| s.0))
}

/// One programme by name, `seconds` long (see [`mastering_inputs`]; the
/// demo songs are stereo at 48 kHz); `None` for an unknown name.
#[must_use]
pub fn programme(name: &str, seconds: f64) -> Option<Programme> {
    if let Some(&(name, tempo, semitones, seed, description)) = SONGS.iter().find(|s| s.0 == name) {
        let rate = 48_000;
        return Some(Programme {
            name,
            description,
            sample_rate_hz: rate,
            channels: crate::demo_song::DemoSong::with(rate, seconds, tempo, semitones, seed)
                .stereo_mix(),
        });
    }
    INPUTS
        .iter()
        .find(|i| i.0 == name)
        .map(|&(name, rate, description)| Programme {
            name,
            description,
            sample_rate_hz: rate,
            channels: generate(name, rate, seconds),
        })
}

/// The planar samples of the programme `name`.
fn generate(name: &str, rate: u32, seconds: f64) -> Vec<Vec<f64>> {
    let fs = f64::from(rate);
    let n = if seconds.is_finite() && seconds > 0.0 {
        (seconds * fs).round() as usize
    } else {
        0
    };
    // The seed depends on the name's length only, as it always has: the
    // acceptance test's figures were taken with these signals.
    let mut rng = Xorshift64::new(0x1234_5678 ^ (name.len() as u64 * 7919));
    let (l, r): (Vec<f64>, Vec<f64>) = (0..n)
        .map(|i| {
            let x = i as f64 / fs;
            match name {
                "quiet-acoustic" | "acoustic-96k" => {
                    let env = (-(x % 0.5) * 4.0).exp();
                    let s = 0.05 * env * ((TAU * 196.0 * x).sin() + 0.5 * (TAU * 392.0 * x).sin())
                        + 0.002 * rng.bipolar();
                    (s, 0.9 * s)
                }
                "dense-rock" | "rock-44k" => {
                    let s = (0.6 * rng.bipolar() + 0.4 * (TAU * 110.0 * x).sin()).tanh() * 0.7;
                    (s, 0.8 * s + 0.2 * rng.bipolar() * 0.5)
                }
                "bass-electronic" | "electronic-44k" => {
                    let kick = (-(x % 0.5) * 30.0).exp() * (TAU * 50.0 * x).sin();
                    let s = 0.5 * kick + 0.2 * (TAU * 55.0 * x).sin() + 0.05 * rng.bipolar();
                    (s, s)
                }
                "very-wide" => (0.2 * rng.bipolar(), 0.2 * rng.bipolar()),
                "mono" => {
                    let s = 0.1 * (TAU * 440.0 * x).sin() * (0.5 + 0.5 * (TAU * 2.0 * x).sin())
                        + 0.02 * rng.bipolar();
                    (s, s)
                }
                "spiky-percussion" => {
                    let hit = if i % (rate as usize / 4) < 40 {
                        0.9 * rng.bipolar()
                    } else {
                        0.0
                    };
                    (hit + 0.003 * rng.bipolar(), hit)
                }
                _ => {
                    // Already limited: loud noise hard-clipped at −0.5 dBFS.
                    let c = 0.944;
                    let s = (1.5 * rng.bipolar()).clamp(-c, c);
                    (s, (1.5 * rng.bipolar()).clamp(-c, c))
                }
            }
        })
        .unzip();
    if name == "mono" { vec![l] } else { vec![l, r] }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_programmes_of_the_asked_length_and_shape() {
        let p = mastering_inputs(0.5);
        assert_eq!(p.len(), 10);
        for prog in &p {
            assert_eq!(
                prog.frames(),
                prog.sample_rate_hz as usize / 2,
                "{}",
                prog.name
            );
            let want = if prog.name == "mono" { 1 } else { 2 };
            assert_eq!(prog.channels.len(), want, "{}", prog.name);
            assert!(prog.channels.iter().all(|c| c.len() == prog.frames()));
            assert!(
                prog.channels.iter().flatten().all(|s| s.abs() < 1.0),
                "{}",
                prog.name
            );
        }
        assert!(mastering_inputs(f64::NAN).iter().all(|p| p.frames() == 0));
    }

    #[test]
    fn every_name_gives_a_programme_and_the_demo_songs_are_stereo_music() {
        for name in names() {
            let p = programme(name, 0.5).unwrap();
            assert_eq!(p.frames(), p.sample_rate_hz as usize / 2, "{name}");
        }
        assert!(programme("no-such", 1.0).is_none());
        for name in ["demo-song", "demo-song-slow", "demo-song-fast"] {
            let p = programme(name, 2.0).unwrap();
            assert_eq!((p.sample_rate_hz, p.channels.len()), (48_000, 2));
            let peak = p
                .channels
                .iter()
                .flatten()
                .fold(0.0f64, |a, x| a.max(x.abs()));
            assert!(peak > 0.1 && peak < 1.0, "{name}: {peak}");
        }
        // The variations differ from the demo song.
        assert_ne!(
            programme("demo-song", 1.0).unwrap().channels,
            programme("demo-song-fast", 1.0).unwrap().channels
        );
    }

    #[test]
    fn a_longer_programme_starts_with_the_shorter_one() {
        let short = mastering_inputs(0.25);
        let long = mastering_inputs(0.5);
        for (s, l) in short.iter().zip(&long) {
            for (a, b) in s.channels.iter().zip(&l.channels) {
                assert_eq!(a[..], b[..a.len()], "{}", s.name);
            }
        }
    }
}
