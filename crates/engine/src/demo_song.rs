//! The demo song: six stems (kick, snare, hats, bass, pad, lead) of a
//! music-like song generated in code, for `mixmaster demo` (which writes
//! them as WAV files and mixes them with a session) and as generated
//! programmes for albums (`generate = "demo-song"`).

use std::f64::consts::TAU;

use mixmaster_core::AudioBuffer;
use mixmaster_dsp::rng::SplitMix64;

/// Tempo of the demo song.
pub const TEMPO_BPM: f64 = 120.0;

/// The stems: file name and channel count.
pub const STEMS: [(&str, usize); 6] = [
    ("kick", 1),
    ("snare", 1),
    ("hats", 1),
    ("bass", 1),
    ("pad", 2),
    ("lead", 1),
];

/// A music-like song in A minor at 120 bpm, generated per stem: kick on
/// every beat, snare on 2 and 4, off-beat hats, a bass line, pad chords and
/// a lead melody, with a breakdown every 12 bars.
#[derive(Debug)]
pub struct DemoSong {
    fs: f64,
    tempo_bpm: f64,
    transpose: f64,
    frames: usize,
    position: usize,
    rng: SplitMix64,
    hat_state: f64,
}

/// A minor – F – C – G, one chord per bar (4 beats), in Hz.
const CHORDS: [[f64; 3]; 4] = [
    [220.00, 261.63, 329.63],
    [174.61, 220.00, 261.63],
    [261.63, 329.63, 392.00],
    [196.00, 246.94, 293.66],
];
const LEAD: [f64; 8] = [
    659.25, 587.33, 523.25, 493.88, 523.25, 587.33, 659.25, 783.99,
];

impl DemoSong {
    /// A song of `seconds` at `rate_hz`.
    pub fn new(rate_hz: u32, seconds: f64) -> Self {
        Self::with(rate_hz, seconds, TEMPO_BPM, 0.0, 7)
    }

    /// A variation: another tempo, transposed by `semitones`, another
    /// noise seed.
    pub fn with(rate_hz: u32, seconds: f64, tempo_bpm: f64, semitones: f64, seed: u64) -> Self {
        let fs = f64::from(rate_hz);
        Self {
            fs,
            tempo_bpm,
            transpose: 2f64.powf(semitones / 12.0),
            frames: (seconds * fs).max(0.0) as usize,
            position: 0,
            rng: SplitMix64::new(seed),
            hat_state: 0.0,
        }
    }

    /// The whole song mixed to stereo (a rough balance of the stems).
    pub fn stereo_mix(mut self) -> Vec<Vec<f64>> {
        let mut stems: Vec<AudioBuffer> = STEMS.iter().map(|_| AudioBuffer::default()).collect();
        let (mut l, mut r) = (Vec::new(), Vec::new());
        let gains = [0.55, 0.45, 0.35, 0.5, 0.7, 0.4];
        loop {
            let n = self.fill(&mut stems, 1 << 14);
            if n == 0 {
                break;
            }
            for k in 0..n {
                let (mut a, mut b) = (0.0, 0.0);
                for (s, g) in stems.iter().zip(gains) {
                    let (x, y) = if s.channels() == 2 {
                        (s.channel(0)[k], s.channel(1)[k])
                    } else {
                        (s.channel(0)[k], s.channel(0)[k])
                    };
                    a += g * x;
                    b += g * y;
                }
                l.push(0.5 * a);
                r.push(0.5 * b);
            }
        }
        vec![l, r]
    }

    /// Fills one buffer per stem (in the order of [`STEMS`]) with the next
    /// frames, at most `max_frames`; returns the frames, 0 at the end.
    pub fn fill(&mut self, stems: &mut [AudioBuffer], max_frames: usize) -> usize {
        let n = max_frames.min(self.frames - self.position);
        for (b, (_, channels)) in stems.iter_mut().zip(STEMS) {
            b.reshape(channels, n);
        }
        for k in 0..n {
            let parts = self.frame(self.position + k);
            let mut part = parts.iter();
            for b in stems.iter_mut() {
                for c in 0..b.channels() {
                    b.channel_mut(c)[k] = part.next().copied().unwrap_or(0.0);
                }
            }
        }
        self.position += n;
        n
    }

    /// One frame of every stem: kick, snare, hats, bass, pad L, pad R, lead.
    fn frame(&mut self, i: usize) -> [f64; 7] {
        let fs = self.fs;
        let t = i as f64 / fs;
        let beat_s = 60.0 / self.tempo_bpm;
        let beat = t / beat_s;
        let in_beat = beat.fract() * beat_s;
        let beat_in_bar = (beat as usize) % 4;
        let bar = (beat / 4.0) as usize;
        let chord = CHORDS[bar % 4].map(|f| f * self.transpose);
        let breakdown = (4..6).contains(&(bar % 12));
        let noise = self.rng.next_f64() * 2.0 - 1.0;

        let kick = if breakdown {
            0.0
        } else {
            let f = 50.0 + 90.0 * (-in_beat * 30.0).exp();
            0.8 * (TAU * f * in_beat).sin() * (-in_beat * 9.0).exp()
        };
        let snare = if breakdown || beat_in_bar.is_multiple_of(2) {
            0.0
        } else {
            let body = (TAU * 185.0 * in_beat).sin() * (-in_beat * 25.0).exp();
            0.5 * (0.6 * noise * (-in_beat * 14.0).exp() + 0.5 * body)
        };
        // Off-beat hats: high-passed noise (first difference).
        let hp = noise - self.hat_state;
        self.hat_state = noise;
        let off = (beat + 0.5).fract() * beat_s;
        let hats = if breakdown {
            0.0
        } else {
            0.25 * hp * (-off * 40.0).exp()
        };

        let bass_f = chord[0] / 4.0;
        let bass_env = (-in_beat * 3.0).exp() * 0.8 + 0.2;
        let bass = 0.5
            * bass_env
            * ((TAU * bass_f * t).sin() + 0.3 * (TAU * 2.0 * bass_f * t).sin())
            * if breakdown { 0.4 } else { 1.0 };

        let (mut pad_l, mut pad_r) = (0.0, 0.0);
        for (k, f) in chord.iter().enumerate() {
            let v = |detune: f64| {
                (TAU * f * detune * t).sin() + 0.3 * (TAU * 2.0 * f * detune * t).sin()
            };
            let spread = 0.0015 * (k as f64 + 1.0);
            pad_l += 0.12 * v(1.0 - spread);
            pad_r += 0.12 * v(1.0 + spread);
        }

        let note = LEAD[(beat * 2.0) as usize % LEAD.len()] * self.transpose;
        let note_t = (beat * 2.0).fract() * beat_s / 2.0;
        let lead = if breakdown {
            0.0
        } else {
            0.3 * (TAU * note * t + 0.8 * (TAU * 2.0 * note * t).sin()).sin()
                * (-note_t * 4.0).exp()
        };

        // 10 ms fades at both ends of every stem.
        let edge = i.min(self.frames - 1 - i) as f64;
        let g = (edge / (0.01 * fs)).min(1.0);
        [kick, snare, hats, bass, pad_l, pad_r, lead].map(|x| g * x)
    }
}
