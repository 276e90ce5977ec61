//! The common writer: validation, quantisation, clip counting, metadata
//! and the atomic temporary file, over the WAV ([`crate::wav`]), FLAC
//! ([`crate::flac`]) and MP3 ([`crate::mp3`], feature `mp3`) encoders.
//!
//! Metadata ([`crate::metadata::Metadata`] in [`WriteOptions`]) is mapped
//! per format as the table in [`crate::metadata`] shows; what a format
//! cannot hold is refused at [`AudioWriter::create_with`], never dropped.
//!
//! # Writers only round
//!
//! A writer never dithers (DESIGN.md, "Signal path": dither happens once,
//! earlier, in the mastering chain). To an integer format of `bits` bits a
//! sample `x` is written as
//!
//! ```text
//! q = round_half_away_from_zero(x · 2^(bits−1)),   clamped to [−2^(bits−1), 2^(bits−1) − 1]
//! ```
//!
//! which is the exact inverse of the decoder's division by 2^(bits−1): an
//! unchanged 16- or 24-bit input written back at the same depth is
//! bit-identical. Halfway cases (x · 2^(bits−1) = n + ½ exactly) round away
//! from zero, as `f64::round` does. A sample that had to be clamped — any
//! `x ≥ (2^(bits−1) − ½) / 2^(bits−1)` or `x < (−2^(bits−1) − ½) / 2^(bits−1)`,
//! so +1.0 itself clips by one step — is counted, and
//! [`AudioWriter::finish`] returns the count for the CLI to warn about.
//!
//! To 32-bit float the sample is converted to the nearest `f32` (no clamp:
//! float keeps overs, and none are counted).
//!
//! To MP3 the `f64` samples go to the encoder as they are; a sample beyond
//! ±1.0 is counted as clipped (a decoder with integer output clips it),
//! though the encoder itself is not given a clamped value.
//!
//! NaN and ±infinity are refused with an error naming the frame and the
//! channel: there is no honest sample value to write for them.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use mixmaster_core::buffer::check_planar;

use crate::atomic::AtomicFile;
use crate::bext;
use crate::error::IoError;
use crate::flac::{self, FlacEncoder};
#[cfg(feature = "mp3")]
use crate::id3;
use crate::metadata::{self, Loudness, Metadata};
use crate::mp3::{self, Mp3Options};
use crate::riff_info;
use crate::wav::{Rf64Policy, WavEncoder};

/// Output container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    /// RIFF/WAVE, RF64 beyond 4 GiB.
    Wav,
    /// FLAC (integer samples only).
    Flac,
    /// MPEG-1 Layer III through LAME, with a LAME tag for gapless decoding
    /// (needs the cargo feature `mp3`, on by default).
    Mp3,
}

impl FileFormat {
    /// The format for a path's extension (case-insensitive): `wav`, `wave`,
    /// `rf64`, `bwf` → WAV; `flac` → FLAC; `mp3` → MP3; anything else `None`.
    pub fn from_path(path: &Path) -> Option<FileFormat> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "wav" | "wave" | "rf64" | "bwf" => Some(FileFormat::Wav),
            "flac" => Some(FileFormat::Flac),
            "mp3" => Some(FileFormat::Mp3),
            _ => None,
        }
    }
}

/// Sample encoding of the output (WAV and FLAC; MP3 ignores it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// 16-bit signed integer.
    Pcm16,
    /// 24-bit signed integer.
    Pcm24,
    /// 32-bit IEEE float (WAV only).
    Float32,
}

impl Encoding {
    /// Bits per sample.
    pub fn bits(self) -> u32 {
        match self {
            Encoding::Pcm16 => 16,
            Encoding::Pcm24 => 24,
            Encoding::Float32 => 32,
        }
    }
}

/// What to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteSpec {
    /// Sample rate.
    pub sample_rate_hz: u32,
    /// Channel count.
    pub channels: usize,
    /// Container.
    pub format: FileFormat,
    /// Sample encoding.
    pub encoding: Encoding,
}

/// Less common choices, with defaults: RF64 policy, metadata, MP3 rate
/// control.
///
/// Metadata lives here rather than in [`WriteSpec`] so that `WriteSpec`
/// stays a small `Copy` value that the engine passes around per stem.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct WriteOptions {
    /// When a WAV file is written as RF64.
    pub rf64: Rf64Policy,
    /// Tags, BWF `bext` and loudness, mapped per format.
    pub metadata: Metadata,
    /// MP3 encoder settings (default CBR 320 kbit/s).
    pub mp3: Mp3Options,
}

/// The result of a finished write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteSummary {
    /// Frames written.
    pub frames: u64,
    /// Samples (frames × channels, counted per channel) clamped to the
    /// integer range; always 0 for float output; for MP3, samples beyond
    /// ±1.0.
    pub clipped_samples: u64,
    /// The output path.
    pub path: PathBuf,
}

/// Quantises one sample to a `bits`-bit integer by the rule in the module
/// docs. Returns the integer and whether it was clamped.
#[inline]
pub fn quantize(x: f64, bits: u32) -> (i32, bool) {
    let scale = f64::from(1u32 << (bits - 1));
    let max = scale - 1.0;
    let min = -scale;
    let q = (x * scale).round();
    if q > max {
        (max as i32, true)
    } else if q < min {
        (min as i32, true)
    } else {
        (q as i32, false)
    }
}

enum Sink {
    Wav(WavEncoder<BufWriter<File>>),
    Flac(Box<FlacEncoder>),
    #[cfg(feature = "mp3")]
    Mp3(Box<mp3::Mp3Encoder>),
}

/// A streaming audio file writer. Output goes to a temporary file that
/// replaces the target only in [`AudioWriter::finish`]; dropping the writer
/// before that (or after an error) removes the temporary file.
pub struct AudioWriter {
    // Field order matters: the encoder must drop (and stop writing) before
    // the atomic guard removes the temporary file.
    sink: Sink,
    atomic: AtomicFile,
    path: PathBuf,
    spec: WriteSpec,
    frames: u64,
    clipped: u64,
    bytes: Vec<u8>,
    ints: Vec<Vec<i32>>,
}

impl std::fmt::Debug for AudioWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AudioWriter")
            .field("path", &self.path)
            .field("spec", &self.spec)
            .field("frames", &self.frames)
            .field("clipped", &self.clipped)
            .finish_non_exhaustive()
    }
}

impl AudioWriter {
    /// Creates a writer for `path`, refusing if `path` is any of `inputs`.
    ///
    /// # Errors
    /// [`IoError::UnsupportedOutput`] (float in FLAC, channel or rate limits,
    /// MP3 without the `mp3` feature, metadata the format cannot hold),
    /// [`IoError::WouldOverwriteInput`], [`IoError::Write`],
    /// [`IoError::Encode`].
    pub fn create(path: &Path, spec: WriteSpec, inputs: &[&Path]) -> Result<AudioWriter, IoError> {
        Self::create_with(path, spec, inputs, WriteOptions::default())
    }

    /// [`AudioWriter::create`] with [`WriteOptions`].
    ///
    /// # Errors
    /// As [`AudioWriter::create`].
    pub fn create_with(
        path: &Path,
        spec: WriteSpec,
        inputs: &[&Path],
        options: WriteOptions,
    ) -> Result<AudioWriter, IoError> {
        validate(path, &spec)?;
        validate_metadata(path, &spec, &options)?;
        let meta = &options.metadata;
        let encode_err = |detail: String| IoError::Encode {
            path: path.to_path_buf(),
            detail,
        };
        // Build every header before the temporary file exists, so a bad
        // field leaves nothing behind.
        let bext_payload = match &meta.bext {
            Some(info) => Some(bext::encode(
                path,
                info,
                &meta.loudness,
                (
                    spec.sample_rate_hz,
                    spec.encoding.bits(),
                    spec.channels,
                    spec.encoding == Encoding::Float32,
                ),
            )?),
            None => None,
        };
        let (atomic, file) = AtomicFile::create(path, inputs)?;
        let sink = match spec.format {
            FileFormat::Wav => Sink::Wav(
                WavEncoder::new(
                    BufWriter::with_capacity(256 * 1024, file),
                    spec.sample_rate_hz,
                    spec.channels,
                    spec.encoding,
                    options.rf64,
                    bext_payload.as_deref(),
                    riff_info::encode(&meta.tags).as_deref(),
                )
                .map_err(|e| IoError::write(path, e))?,
            ),
            FileFormat::Flac => Sink::Flac(Box::new(
                FlacEncoder::new(
                    file,
                    spec.sample_rate_hz,
                    spec.channels,
                    spec.encoding.bits(),
                    &metadata::to_pairs(&meta.tags),
                )
                .map_err(encode_err)?,
            )),
            #[cfg(feature = "mp3")]
            FileFormat::Mp3 => Sink::Mp3(Box::new(
                mp3::Mp3Encoder::new(
                    file,
                    spec.sample_rate_hz,
                    spec.channels,
                    &options.mp3,
                    id3::encode(&meta.tags).as_deref(),
                )
                .map_err(encode_err)?,
            )),
            #[cfg(not(feature = "mp3"))]
            FileFormat::Mp3 => unreachable!("validate refuses MP3 without the mp3 feature"),
        };
        Ok(AudioWriter {
            sink,
            atomic,
            path: path.to_path_buf(),
            spec,
            frames: 0,
            clipped: 0,
            bytes: Vec::new(),
            ints: Vec::new(),
        })
    }

    /// The spec this writer was created with.
    pub fn spec(&self) -> &WriteSpec {
        &self.spec
    }

    /// Frames written so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Stores loudness measured on the written audio in the file's BWF
    /// `bext` chunk (EBU Tech 3285 v2 loudness fields). Call it any time
    /// before [`AudioWriter::finish`]; the last call wins. The chunk has a
    /// fixed size and sits before the audio, so `finish` rewrites its ten
    /// loudness bytes in place, in the temporary file, before the file is
    /// published.
    ///
    /// # Errors
    /// [`IoError::UnsupportedOutput`] unless the writer is a WAV writer
    /// created with [`Metadata::bext`] set.
    pub fn set_loudness(&mut self, loudness: Loudness) -> Result<(), IoError> {
        match &mut self.sink {
            Sink::Wav(enc) if enc.has_bext() => {
                enc.set_bext_loudness(bext::loudness_bytes(&loudness));
                Ok(())
            }
            _ => Err(IoError::UnsupportedOutput {
                path: self.path.clone(),
                what: "loudness metadata".into(),
                reason: "only a WAV file with a bext chunk (WriteOptions.metadata.bext) \
                         holds loudness"
                    .into(),
            }),
        }
    }

    /// Appends one planar block: `channels.len()` must equal the spec's
    /// channel count and all channels must have the same length. A block
    /// with a NaN or infinite sample is refused whole.
    ///
    /// # Errors
    /// [`IoError::ChannelCount`], [`IoError::Core`] (ragged channels),
    /// [`IoError::NonFiniteSample`], [`IoError::Write`], [`IoError::Encode`].
    pub fn write<S: AsRef<[f64]>>(&mut self, channels: &[S]) -> Result<(), IoError> {
        if channels.len() != self.spec.channels {
            return Err(IoError::ChannelCount {
                got: channels.len(),
                expected: self.spec.channels,
            });
        }
        let frames = check_planar(channels)?;
        for (ch, samples) in channels.iter().enumerate() {
            if let Some(i) = samples.as_ref().iter().position(|x| !x.is_finite()) {
                return Err(IoError::NonFiniteSample {
                    path: self.path.clone(),
                    frame: self.frames + i as u64,
                    channel: ch,
                    value: samples.as_ref()[i],
                });
            }
        }
        if frames == 0 {
            return Ok(());
        }
        match &mut self.sink {
            Sink::Wav(enc) => {
                let n_ch = self.spec.channels;
                let width = (self.spec.encoding.bits() / 8) as usize;
                self.bytes.resize(frames * n_ch * width, 0);
                let mut clipped = 0;
                for (ch, samples) in channels.iter().enumerate() {
                    let dst = self.bytes[ch * width..].chunks_mut(n_ch * width);
                    match self.spec.encoding {
                        Encoding::Pcm16 => {
                            for (d, &x) in dst.zip(samples.as_ref()) {
                                let (q, c) = quantize(x, 16);
                                clipped += u64::from(c);
                                d[..2].copy_from_slice(&(q as i16).to_le_bytes());
                            }
                        }
                        Encoding::Pcm24 => {
                            for (d, &x) in dst.zip(samples.as_ref()) {
                                let (q, c) = quantize(x, 24);
                                clipped += u64::from(c);
                                d[..3].copy_from_slice(&q.to_le_bytes()[..3]);
                            }
                        }
                        Encoding::Float32 => {
                            for (d, &x) in dst.zip(samples.as_ref()) {
                                d[..4].copy_from_slice(&(x as f32).to_le_bytes());
                            }
                        }
                    }
                }
                enc.write_interleaved(&self.bytes)
                    .map_err(|e| IoError::write(&self.path, e))?;
                self.clipped += clipped;
            }
            Sink::Flac(enc) => {
                let bits = self.spec.encoding.bits();
                self.ints.resize_with(self.spec.channels, Vec::new);
                let mut clipped = 0;
                for (dst, samples) in self.ints.iter_mut().zip(channels) {
                    dst.clear();
                    dst.extend(samples.as_ref().iter().map(|&x| {
                        let (q, c) = quantize(x, bits);
                        clipped += u64::from(c);
                        q
                    }));
                }
                enc.write(&self.ints).map_err(|detail| IoError::Encode {
                    path: self.path.clone(),
                    detail,
                })?;
                self.clipped += clipped;
            }
            #[cfg(feature = "mp3")]
            Sink::Mp3(enc) => {
                let planar: Vec<&[f64]> = channels.iter().map(AsRef::as_ref).collect();
                let overs: usize = planar
                    .iter()
                    .map(|c| c.iter().filter(|x| x.abs() > 1.0).count())
                    .sum();
                enc.write(&planar).map_err(|detail| IoError::Encode {
                    path: self.path.clone(),
                    detail,
                })?;
                self.clipped += overs as u64;
            }
        }
        self.frames += frames as u64;
        Ok(())
    }

    /// Completes the file (sizes, STREAMINFO), syncs it and moves it over the
    /// target. Returns the frame count and the number of clipped samples.
    ///
    /// # Errors
    /// [`IoError::Write`], [`IoError::Encode`]; the temporary file is removed
    /// and an existing target is left untouched.
    pub fn finish(self) -> Result<WriteSummary, IoError> {
        let AudioWriter {
            sink,
            atomic,
            path,
            frames,
            clipped,
            ..
        } = self;
        let file = match sink {
            Sink::Wav(enc) => enc
                .finish()
                .and_then(|w| w.into_inner().map_err(|e| e.into_error()))
                .map_err(|e| IoError::write(&path, e))?,
            Sink::Flac(enc) => {
                if frames == 0 {
                    drop(enc);
                    drop(atomic);
                    return Err(IoError::UnsupportedOutput {
                        path,
                        what: "an empty FLAC file".into(),
                        reason: "FLAC cannot describe a stream of 0 frames; write WAV instead"
                            .into(),
                    });
                }
                (*enc).finish().map_err(|detail| IoError::Encode {
                    path: path.clone(),
                    detail,
                })?
            }
            #[cfg(feature = "mp3")]
            Sink::Mp3(enc) => (*enc).finish().map_err(|detail| IoError::Encode {
                path: path.clone(),
                detail,
            })?,
        };
        atomic.commit(file)?;
        Ok(WriteSummary {
            frames,
            clipped_samples: clipped,
            path,
        })
    }
}

fn validate(path: &Path, spec: &WriteSpec) -> Result<(), IoError> {
    let unsupported = |what: String, reason: &str| IoError::UnsupportedOutput {
        path: path.to_path_buf(),
        what,
        reason: reason.to_string(),
    };
    if spec.sample_rate_hz == 0 {
        return Err(unsupported(
            "a sample rate of 0 Hz".into(),
            "the rate must be positive",
        ));
    }
    if spec.channels == 0 {
        return Err(unsupported(
            "0 channels".into(),
            "at least one channel is needed",
        ));
    }
    match spec.format {
        FileFormat::Wav => {
            let frame_bytes = spec.channels * (spec.encoding.bits() / 8) as usize;
            if frame_bytes > usize::from(u16::MAX) {
                return Err(unsupported(
                    format!(
                        "WAV with {} channels of {} bits",
                        spec.channels,
                        spec.encoding.bits()
                    ),
                    "a WAV frame is limited to 65535 bytes",
                ));
            }
        }
        FileFormat::Flac => {
            if spec.encoding == Encoding::Float32 {
                return Err(unsupported(
                    "FLAC with 32-bit float samples".into(),
                    "FLAC stores integer samples only; choose 16- or 24-bit, or write WAV for float",
                ));
            }
            if spec.channels > flac::MAX_CHANNELS {
                return Err(unsupported(
                    format!("FLAC with {} channels", spec.channels),
                    "FLAC holds at most 8 channels; write WAV instead",
                ));
            }
            if spec.sample_rate_hz > flac::MAX_SAMPLE_RATE_HZ {
                return Err(unsupported(
                    format!("FLAC at {} Hz", spec.sample_rate_hz),
                    "FLAC rates must be below 1048576 Hz",
                ));
            }
        }
        FileFormat::Mp3 => {
            if !cfg!(feature = "mp3") {
                return Err(unsupported(
                    "MP3".into(),
                    "this build of mixmaster-io has no MP3 encoder (cargo feature `mp3`)",
                ));
            }
            if spec.channels > 2 {
                return Err(unsupported(
                    format!("MP3 with {} channels", spec.channels),
                    "MP3 holds 1 or 2 channels; write WAV or FLAC instead",
                ));
            }
            if !mp3::SAMPLE_RATES_HZ.contains(&spec.sample_rate_hz) {
                return Err(unsupported(
                    format!("MP3 at {} Hz", spec.sample_rate_hz),
                    "MPEG-1 Layer III runs at 32000, 44100 or 48000 Hz; resample first",
                ));
            }
        }
    }
    Ok(())
}

/// Refuses metadata the format cannot hold (see [`crate::metadata`]).
fn validate_metadata(path: &Path, spec: &WriteSpec, options: &WriteOptions) -> Result<(), IoError> {
    let meta = &options.metadata;
    let unsupported = |what: String, reason: String| IoError::UnsupportedOutput {
        path: path.to_path_buf(),
        what,
        reason,
    };
    meta.tags.validate(path)?;
    let name = match spec.format {
        FileFormat::Wav => "WAV",
        FileFormat::Flac => "FLAC",
        FileFormat::Mp3 => "MP3",
    };
    if spec.format != FileFormat::Wav {
        if meta.bext.is_some() {
            return Err(unsupported(
                format!("a BWF bext chunk in {name}"),
                "bext is a WAV chunk; use tags for FLAC and MP3".into(),
            ));
        }
        if !meta.loudness.is_empty() {
            return Err(unsupported(
                format!("loudness metadata in {name}"),
                "only WAV (bext) has loudness fields; use ReplayGain tags for FLAC and MP3".into(),
            ));
        }
    }
    match spec.format {
        FileFormat::Wav => {
            if let Some(field) = riff_info::unsupported_field(&meta.tags) {
                return Err(unsupported(
                    format!("{field} in WAV"),
                    "RIFF INFO has title, artist, album, track number, date, genre and comment \
                     only; write FLAC or MP3 for the other tags"
                        .into(),
                ));
            }
            if meta.bext.is_none() && !meta.loudness.is_empty() {
                return Err(unsupported(
                    "loudness metadata without a bext chunk".into(),
                    "set WriteOptions.metadata.bext to write loudness".into(),
                ));
            }
        }
        FileFormat::Flac => {}
        FileFormat::Mp3 => {
            if let Some(reason) = mp3::check_options(&options.mp3) {
                return Err(unsupported("MP3".into(), reason));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_rule() {
        let s = 32_768.0;
        assert_eq!(quantize(0.5 / s, 16), (1, false));
        assert_eq!(quantize(-0.5 / s, 16), (-1, false));
        assert_eq!(quantize(1.4999 / s, 16), (1, false));
        assert_eq!(quantize(2.5 / s, 16), (3, false));
        assert_eq!(quantize(32_767.49 / s, 16), (32_767, false));
        assert_eq!(quantize(32_767.5 / s, 16), (32_767, true));
        assert_eq!(quantize(1.0, 16), (32_767, true));
        assert_eq!(quantize(-1.0, 16), (-32_768, false));
        assert_eq!(quantize(-32_768.5 / s, 16), (-32_768, true));
        assert_eq!(quantize(-1.0, 24), (-8_388_608, false));
        assert_eq!(quantize(2.0, 24), (8_388_607, true));
    }

    #[cfg(not(feature = "mp3"))]
    #[test]
    fn mp3_needs_the_feature() {
        let spec = WriteSpec {
            sample_rate_hz: 44_100,
            channels: 2,
            format: FileFormat::Mp3,
            encoding: Encoding::Pcm16,
        };
        let err = validate(Path::new("x.mp3"), &spec).unwrap_err();
        assert!(err.to_string().contains("feature `mp3`"), "{err}");
    }

    #[test]
    fn extension_mapping() {
        assert_eq!(
            FileFormat::from_path(Path::new("a/b.WAV")),
            Some(FileFormat::Wav)
        );
        assert_eq!(
            FileFormat::from_path(Path::new("x.flac")),
            Some(FileFormat::Flac)
        );
        assert_eq!(
            FileFormat::from_path(Path::new("x.Mp3")),
            Some(FileFormat::Mp3)
        );
        assert_eq!(FileFormat::from_path(Path::new("x.ogg")), None);
        assert_eq!(FileFormat::from_path(Path::new("noext")), None);
    }
}
