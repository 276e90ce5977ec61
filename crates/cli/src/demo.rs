//! `mixmaster demo`: until the mixing engine exists, the demo generates a
//! short music-like programme in code, runs it through the delivery path
//! the engine will use (dither to 24-bit WAV; resample to 44.1 kHz, dither
//! to 16-bit FLAC), checks the FLAC round trip, and meters both files.

use std::f64::consts::TAU;
use std::fs;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use mixmaster_core::{AudioBuffer, Processor};
use mixmaster_dsp::rng::SplitMix64;
use mixmaster_dsp::{Dither, DitherOptions, NoiseShaping};
use mixmaster_io::{AudioReader, AudioWriter, Encoding, FileFormat, Resampler, WriteSpec};

use crate::meter_cmd::{self, MeterArgs};
use crate::pipeline::BLOCK_FRAMES;

const RATE_HZ: u32 = 48_000;
const TEMPO_BPM: f64 = 120.0;
/// Keeps the summed parts about 6 dB below full scale.
const MASTER_GAIN: f64 = 0.45;

pub fn run(out_dir: &Path, seconds: f64) -> Result<ExitCode> {
    if !(1.0..=3600.0).contains(&seconds) {
        bail!("--seconds {seconds} is out of range: expected 1 ..= 3600");
    }
    fs::create_dir_all(out_dir)
        .with_context(|| format!("{}: cannot create the output folder", out_dir.display()))?;
    let wav = out_dir.join("demo-48k-24bit.wav");
    let flac = out_dir.join("demo-44k1-16bit.flac");
    let spec = |rate, format, encoding| WriteSpec {
        sample_rate_hz: rate,
        channels: 2,
        format,
        encoding,
    };
    // Float → 24 and 16 bit drops the word length: dither once, last.
    let mut wav_out =
        AudioWriter::create(&wav, spec(RATE_HZ, FileFormat::Wav, Encoding::Pcm24), &[])?;
    let mut flac_out =
        AudioWriter::create(&flac, spec(44_100, FileFormat::Flac, Encoding::Pcm16), &[])?;
    let mut dither24 = dither(RATE_HZ, 24, NoiseShaping::None)?;
    let mut dither16 = dither(44_100, 16, NoiseShaping::Lipshitz)?;
    let mut resampler = Resampler::new(RATE_HZ, 44_100, 2)?;

    let mut programme = DemoProgramme::new(RATE_HZ, seconds);
    let (mut block, mut copy, mut cd) = (
        AudioBuffer::new(2, 0),
        AudioBuffer::new(2, 0),
        AudioBuffer::new(2, 0),
    );
    let mut flac_hash = Fnv::default();
    let mut deliver_cd = |cd: &mut AudioBuffer, flac_hash: &mut Fnv| -> Result<()> {
        process(&mut dither16, cd);
        flac_hash.add(cd);
        flac_out.write(cd.planar())?;
        Ok(())
    };
    while programme.fill(&mut block, BLOCK_FRAMES) > 0 {
        copy.clone_from(&block);
        process(&mut dither24, &mut copy);
        wav_out.write(copy.planar())?;
        resampler.process(block.planar(), &mut cd)?;
        deliver_cd(&mut cd, &mut flac_hash)?;
    }
    resampler.flush(&mut cd)?;
    deliver_cd(&mut cd, &mut flac_hash)?;
    for summary in [wav_out.finish()?, flac_out.finish()?] {
        say!(
            "Wrote {} ({} frames).",
            summary.path.display(),
            summary.frames
        );
        if summary.clipped_samples > 0 {
            eprintln!(
                "warning: {}: {} samples clipped at full scale",
                summary.path.display(),
                summary.clipped_samples
            );
        }
    }
    say!(
        "Generated a {seconds} s stereo demo programme at 48 kHz (drums, bass, chords, lead); \
         24-bit WAV dithered (TPDF), 44.1 kHz FLAC resampled and dithered to 16 bit (Lipshitz noise shaping)."
    );

    // Read the FLAC back: it must hold exactly the samples we wrote.
    let mut reader = AudioReader::open(&flac)?;
    let mut decoded_hash = Fnv::default();
    while reader.read(&mut block, BLOCK_FRAMES)? > 0 {
        decoded_hash.add(&block);
    }
    if decoded_hash != flac_hash {
        bail!("{}: FLAC round trip is not bit-exact", flac.display());
    }
    say!(
        "FLAC round trip: bit-exact ({} frames).\n",
        flac_hash.frames
    );

    meter_cmd::run(&MeterArgs {
        files: vec![wav, flac],
        json: false,
        target: Some("spotify".into()),
        dual_mono: false,
        oversampling: 4,
        series: false,
        spectrum: false,
    })
}

fn dither(rate_hz: u32, bits: u32, shaping: NoiseShaping) -> Result<Dither> {
    let mut dither = Dither::new(DitherOptions {
        bits,
        shaping,
        ..DitherOptions::default()
    })?;
    dither.prepare(rate_hz, usize::MAX, 2)?;
    Ok(dither)
}

fn process(processor: &mut impl Processor, audio: &mut AudioBuffer) {
    let mut block: Vec<&mut [f64]> = audio.planar_mut().collect();
    processor.process(&mut block);
}

/// FNV-1a over the sample bits and a frame count: a cheap fingerprint to
/// compare what was written with what is read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Fnv {
    hash: u64,
    frames: u64,
}

impl Default for Fnv {
    fn default() -> Self {
        Self {
            hash: 0xCBF2_9CE4_8422_2325,
            frames: 0,
        }
    }
}

impl Fnv {
    fn add(&mut self, audio: &AudioBuffer) {
        for i in 0..audio.frames() {
            for ch in audio.planar() {
                for byte in ch[i].to_bits().to_le_bytes() {
                    self.hash = (self.hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01B3);
                }
            }
        }
        self.frames += audio.frames() as u64;
    }
}

/// A music-like stereo programme, generated block by block: four-on-the-floor
/// kick, off-beat hats, a bass line, pad chords spread in stereo and a lead
/// melody, with a quieter breakdown every 12 bars so the loudness range is
/// not zero. Memory does not grow with its length.
#[derive(Debug)]
pub struct DemoProgramme {
    fs: f64,
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

impl DemoProgramme {
    /// A programme of `seconds` at `rate_hz`.
    pub fn new(rate_hz: u32, seconds: f64) -> Self {
        let fs = f64::from(rate_hz);
        Self {
            fs,
            frames: (seconds * fs) as usize,
            position: 0,
            rng: SplitMix64::new(7),
            hat_state: 0.0,
        }
    }

    /// Fills `out` with the next frames (at most `max_frames`); 0 at the end.
    pub fn fill(&mut self, out: &mut AudioBuffer, max_frames: usize) -> usize {
        let n = max_frames.min(self.frames - self.position);
        out.reshape(2, n);
        for k in 0..n {
            let (l, r) = self.frame(self.position + k);
            out.channel_mut(0)[k] = l;
            out.channel_mut(1)[k] = r;
        }
        self.position += n;
        n
    }

    fn frame(&mut self, i: usize) -> (f64, f64) {
        let fs = self.fs;
        let t = i as f64 / fs;
        let beat_s = 60.0 / TEMPO_BPM;
        let beat = t / beat_s;
        let in_beat = beat.fract() * beat_s;
        let bar = (beat / 4.0) as usize;
        let chord = CHORDS[bar % 4];
        let breakdown = (4..6).contains(&(bar % 12));
        let section_gain = if breakdown { 0.45 } else { 1.0 };

        let kick = if breakdown {
            0.0
        } else {
            let f = 50.0 + 90.0 * (-in_beat * 30.0).exp();
            0.9 * (TAU * f * in_beat).sin() * (-in_beat * 9.0).exp()
        };
        // Hats on the off-beats: high-passed noise (first difference).
        let noise = self.rng.next_f64() * 2.0 - 1.0;
        let hp = noise - self.hat_state;
        self.hat_state = noise;
        let off = (beat + 0.5).fract() * beat_s;
        let hat = if breakdown {
            0.0
        } else {
            0.12 * hp * (-off * 40.0).exp()
        };

        let bass_f = chord[0] / 4.0;
        let bass_env = (-in_beat * 3.0).exp() * 0.8 + 0.2;
        let bass = 0.35
            * bass_env
            * ((TAU * bass_f * t).sin() + 0.3 * (TAU * 2.0 * bass_f * t).sin())
            * if breakdown { 0.3 } else { 1.0 };

        let (mut pad_l, mut pad_r) = (0.0, 0.0);
        for (k, f) in chord.iter().enumerate() {
            let detune = 1.0 + 0.002 * (k as f64 - 1.0);
            let v = (TAU * f * t).sin() + 0.3 * (TAU * 2.0 * f * detune * t).sin();
            let pan = 0.25 + 0.25 * k as f64;
            pad_l += 0.07 * v * (1.0 - pan).sqrt();
            pad_r += 0.07 * v * pan.sqrt();
        }

        let note = LEAD[(beat * 2.0) as usize % LEAD.len()];
        let note_t = (beat * 2.0).fract() * beat_s / 2.0;
        let lead = if breakdown {
            0.0
        } else {
            0.12 * (TAU * note * t + 0.8 * (TAU * 2.0 * note * t).sin()).sin()
                * (-note_t * 4.0).exp()
        };

        // 10 ms fades at both ends.
        let fade_frames = 0.01 * fs;
        let edge = i.min(self.frames - 1 - i) as f64;
        let fade = (edge / fade_frames).min(1.0);
        let mono = kick + bass + lead;
        let g = MASTER_GAIN * section_gain * fade;
        (
            g * (mono + pad_l + 0.8 * hat),
            g * (mono + pad_r + 1.2 * hat),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn programme_is_stereo_and_below_full_scale() {
        let mut p = AudioBuffer::default();
        let mut source = DemoProgramme::new(48_000, 4.0);
        assert_eq!(source.fill(&mut p, 1 << 20), 192_000);
        assert_eq!(source.fill(&mut p, 1 << 20), 0);
        source = DemoProgramme::new(48_000, 4.0);
        source.fill(&mut p, 1 << 20);
        assert_eq!(p.channels(), 2);
        assert_eq!(p.frames(), 192_000);
        let peak = p
            .planar()
            .iter()
            .flatten()
            .fold(0.0f64, |a, &b| a.max(b.abs()));
        assert!(peak > 0.3 && peak < 1.0, "peak {peak}");
    }
}
