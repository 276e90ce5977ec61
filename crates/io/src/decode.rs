//! Streaming decoding of audio files to planar `f64`.
//!
//! [`AudioReader::open`] recognises the file by its bytes (the extension is
//! only a hint) and hands it to one of two back ends:
//!
//! * uncompressed WAVE in RIFF, RF64 or BW64 — our own reader
//!   ([`crate::wav_reader`]), because symphonia 0.6 rejects RF64/BW64 and
//!   caps the channel count;
//! * everything else — symphonia: AIFF, FLAC, MP3, Ogg Vorbis, MP4/M4A (AAC,
//!   ALAC), and compressed WAVE payloads (ADPCM, A-law, μ-law).
//!
//! Samples come out as planar `f64`, ±1.0 = full scale. Integer PCM is divided
//! by 2^(bits − 1) (2^(container bits − 1) when fewer bits are valid, since
//! the valid bits are left-justified), so integer → f64 → integer is exact;
//! 8-bit WAVE is unsigned and is centred first.
//!
//! # Exact lengths
//!
//! | source | frames | how |
//! |---|---|---|
//! | WAV/RF64/BW64, AIFF, FLAC | exact | header / STREAMINFO |
//! | MP3 with a LAME/Xing "Info" tag | exact | symphonia trims encoder delay + 529 decoder delay and the padding (gapless) |
//! | MP3 without a LAME tag | `None` | nothing says where the music starts and ends; the decoder delay stays in |
//! | Ogg Vorbis | exact | symphonia trims by granule positions |
//! | MP4 ALAC | exact | no priming |
//! | MP4 AAC with an edit list or `iTunSMPB` | exact | we trim ([`crate::mp4_gapless`]); symphonia does not |
//! | MP4 AAC without either | `None` | the 1024/2112 priming frames and the last packet's padding stay in |
//!
//! # Damaged files
//!
//! Decoding is strict: a packet the codec rejects is an error naming the
//! file and the frame, never skipped silently. When the stream ends (or
//! breaks off) before the frame count the header promised, the error is
//! [`IoError::Truncated`] with both counts. For uncompressed WAV this is
//! detected at `open` from the file size.

use std::fs::File;
use std::path::{Path, PathBuf};

use mixmaster_core::AudioBuffer;
use symphonia::core::codecs::CodecParameters;
use symphonia::core::codecs::audio::well_known as codec_ids;
use symphonia::core::codecs::audio::{AudioCodecId, AudioDecoder, AudioDecoderOptions};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::well_known as format_ids;
use symphonia::core::formats::{FormatOptions, FormatReader, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;

use crate::error::IoError;
use crate::mp4_gapless;
use crate::wav_reader::{self, WavReader, WavSample};

/// How the source stores its samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleFormat {
    /// Integer PCM with this many significant bits (8-bit WAV is unsigned in
    /// the file, but is reported here as `Int { bits: 8 }`).
    Int {
        /// Significant bits per sample.
        bits: u32,
    },
    /// IEEE floating point of this width (32 or 64).
    Float {
        /// Bits per sample.
        bits: u32,
    },
    /// A lossy codec (MP3, Vorbis, AAC): no meaningful bit depth.
    Lossy,
}

/// What a source file is.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceInfo {
    /// The path as given to [`AudioReader::open`].
    pub path: PathBuf,
    /// Sample rate.
    pub sample_rate_hz: u32,
    /// Channel count.
    pub channels: usize,
    /// Frames the reader will deliver, when that is known exactly (see the
    /// module docs for which formats).
    pub frames: Option<u64>,
    /// "WAV", "RF64", "BW64", "AIFF", "FLAC", "MP3", "Ogg", "MP4" or "ADTS".
    pub container: String,
    /// "PCM", "FLAC", "MP3", "Vorbis", "AAC", "ALAC", or symphonia's name of
    /// another codec.
    pub codec: String,
    /// Sample storage of the source.
    pub sample_format: SampleFormat,
}

/// A streaming decoder over one file. Memory use is bounded by one codec
/// packet plus the caller's block, whatever the file length.
#[derive(Debug)]
pub struct AudioReader {
    info: SourceInfo,
    source: Source,
}

#[derive(Debug)]
enum Source {
    Wav(WavReader),
    Symphonia(Box<SymphoniaSource>),
}

impl AudioReader {
    /// Opens `path` and reads its header.
    ///
    /// # Errors
    /// [`IoError::NotFound`], [`IoError::IsDirectory`], [`IoError::Empty`],
    /// [`IoError::Read`], [`IoError::Unsupported`], [`IoError::Malformed`],
    /// [`IoError::Truncated`] (uncompressed WAV shorter than its header says),
    /// [`IoError::Decode`] (the first packet is damaged).
    pub fn open(path: &Path) -> Result<AudioReader, IoError> {
        let meta = std::fs::metadata(path).map_err(|e| IoError::read(path, e))?;
        if meta.is_dir() {
            return Err(IoError::IsDirectory {
                path: path.to_path_buf(),
            });
        }
        if meta.len() == 0 {
            return Err(IoError::Empty {
                path: path.to_path_buf(),
            });
        }
        let file = File::open(path).map_err(|e| IoError::read(path, e))?;
        let probe_file = file.try_clone().map_err(|e| IoError::read(path, e))?;
        if let Some(wav) = wav_reader::probe(path, probe_file, meta.len())? {
            let h = wav.header();
            let info = SourceInfo {
                path: path.to_path_buf(),
                sample_rate_hz: h.sample_rate_hz,
                channels: h.channels,
                frames: Some(h.frames),
                container: h.container.name().to_string(),
                codec: "PCM".to_string(),
                sample_format: match h.sample {
                    WavSample::U8 => SampleFormat::Int { bits: 8 },
                    WavSample::Int { valid_bits, .. } => SampleFormat::Int { bits: valid_bits },
                    WavSample::F32 => SampleFormat::Float { bits: 32 },
                    WavSample::F64 => SampleFormat::Float { bits: 64 },
                },
            };
            return Ok(AudioReader {
                info,
                source: Source::Wav(wav),
            });
        }
        // The WAV probe moved the shared file offset; symphonia starts at 0.
        let mut file = file;
        std::io::Seek::seek(&mut file, std::io::SeekFrom::Start(0))
            .map_err(|e| IoError::read(path, e))?;
        let (info, source) = SymphoniaSource::open(path, file)?;
        Ok(AudioReader {
            info,
            source: Source::Symphonia(Box::new(source)),
        })
    }

    /// What the file is.
    pub fn info(&self) -> &SourceInfo {
        &self.info
    }

    /// Fills `buf` (reshaped to the source's channel count) with up to
    /// `max_frames` frames; returns the frames read, 0 at the end of the
    /// stream (or when `max_frames` is 0). Fewer than `max_frames` only at the end of the stream; `buf`
    /// is resized to the frames read. Reusing one `buf` avoids allocation.
    ///
    /// # Errors
    /// [`IoError::Truncated`], [`IoError::Decode`], [`IoError::Read`].
    pub fn read(&mut self, buf: &mut AudioBuffer, max_frames: usize) -> Result<usize, IoError> {
        buf.reshape(self.info.channels, max_frames);
        let mut filled = 0;
        while filled < max_frames {
            let n = match &mut self.source {
                Source::Wav(r) => r.read(buf, filled, max_frames - filled)?,
                Source::Symphonia(s) => s.read(buf, filled, max_frames - filled)?,
            };
            if n == 0 {
                break;
            }
            filled += n;
        }
        buf.resize(filled);
        Ok(filled)
    }
}

/// Decodes a whole file into memory. For tests and short files; long files
/// should be streamed with [`AudioReader::read`].
///
/// # Errors
/// As [`AudioReader::open`] and [`AudioReader::read`].
pub fn read_all(path: &Path) -> Result<(SourceInfo, AudioBuffer), IoError> {
    const BLOCK_FRAMES: usize = 65_536;
    let mut reader = AudioReader::open(path)?;
    let info = reader.info().clone();
    let capacity = info.frames.map_or(0, |f| f.min(1 << 28) as usize);
    let mut planar: Vec<Vec<f64>> = (0..info.channels)
        .map(|_| Vec::with_capacity(capacity))
        .collect();
    let mut block = AudioBuffer::default();
    while reader.read(&mut block, BLOCK_FRAMES)? > 0 {
        for (dst, src) in planar.iter_mut().zip(block.planar()) {
            dst.extend_from_slice(src);
        }
    }
    let buffer = AudioBuffer::from_planar(planar)?;
    Ok((info, buffer))
}

/// The symphonia back end.
struct SymphoniaSource {
    path: PathBuf,
    format: Box<dyn FormatReader>,
    decoder: Box<dyn AudioDecoder>,
    track_id: u32,
    channels: usize,
    /// The decoded packet not yet delivered, from `pending_pos` on.
    pending: Vec<Vec<f64>>,
    pending_frames: usize,
    pending_pos: usize,
    /// Decoded frames still to drop at the start (MP4 priming).
    skip_left: u64,
    /// Frames still to deliver before the end set by the file (MP4 edit).
    keep_left: Option<u64>,
    /// Frames the header promises, for the truncation check.
    expected_frames: Option<u64>,
    /// Frames moved into `pending` after skipping, in total.
    produced: u64,
    finished: bool,
}

impl std::fmt::Debug for SymphoniaSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SymphoniaSource")
            .field("path", &self.path)
            .field("track_id", &self.track_id)
            .field("channels", &self.channels)
            .field("produced", &self.produced)
            .finish_non_exhaustive()
    }
}

impl SymphoniaSource {
    fn open(path: &Path, file: File) -> Result<(SourceInfo, SymphoniaSource), IoError> {
        let mss = MediaSourceStream::new(Box::new(file), Default::default());
        let mut hint = Hint::new();
        if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
            hint.with_extension(ext);
        }
        let format = symphonia::default::get_probe()
            .probe(
                &hint,
                mss,
                FormatOptions::default(),
                MetadataOptions::default(),
            )
            .map_err(|e| probe_error(path, e))?;
        let format_id = format.format_info().format;
        let container = container_name(format_id, format.format_info().short_name);
        let unsupported = |detail: String| IoError::Unsupported {
            path: path.to_path_buf(),
            detail,
        };
        let track = format
            .default_track(TrackType::Audio)
            .ok_or_else(|| unsupported(format!("{container} file without an audio track")))?
            .clone();
        let Some(CodecParameters::Audio(params)) = track.codec_params.clone() else {
            return Err(unsupported(format!(
                "{container} file without an audio track"
            )));
        };
        let decoder = symphonia::default::get_codecs()
            .make_audio_decoder(&params, &AudioDecoderOptions::default().gapless(true))
            .map_err(|e| {
                unsupported(format!(
                    "{container} with a codec that cannot be decoded: {e}"
                ))
            })?;
        let codec = codec_name(params.codec, decoder.codec_info().short_name);
        let sample_format = sample_format(
            params.codec,
            params.bits_per_sample,
            params.extra_data.as_deref(),
        );

        // Which frame counts are exact, and what to trim (module docs).
        let mut skip_frames = 0;
        let mut keep_frames = None;
        let frames = match format_id {
            format_ids::FORMAT_ID_MP3 | format_ids::FORMAT_ID_MP2 | format_ids::FORMAT_ID_MP1 => {
                track.delay.and(track.num_frames)
            }
            format_ids::FORMAT_ID_ISOMP4 if track.delay.is_none() && track.padding.is_none() => {
                let rate = params.sample_rate.unwrap_or(0);
                match mp4_gapless::read(path, rate) {
                    Some(g) => {
                        skip_frames = g.skip_frames;
                        keep_frames = g.keep_frames;
                        g.keep_frames
                    }
                    None if params.codec == codec_ids::CODEC_ID_ALAC => track.num_frames,
                    None => None,
                }
            }
            format_ids::FORMAT_ID_ADTS => None,
            _ => track.num_frames.filter(|&n| n > 0),
        };

        let mut source = SymphoniaSource {
            path: path.to_path_buf(),
            format,
            decoder,
            track_id: track.id,
            channels: params.channels.as_ref().map_or(0, |c| c.count()),
            pending: Vec::new(),
            pending_frames: 0,
            pending_pos: 0,
            skip_left: skip_frames,
            keep_left: keep_frames,
            expected_frames: frames,
            produced: 0,
            finished: false,
        };
        // Decode the first packet now: it settles the channel count and rate
        // for codecs whose headers leave them open, and a file whose first
        // packet is damaged fails at open rather than mid-render.
        let first_spec = source.fill_pending()?;
        let (spec_rate, spec_channels) = first_spec.unwrap_or((0, 0));
        let sample_rate_hz = params.sample_rate.filter(|&r| r > 0).unwrap_or(spec_rate);
        if source.channels == 0 {
            source.channels = spec_channels;
        }
        if sample_rate_hz == 0 || source.channels == 0 {
            return Err(IoError::Malformed {
                path: path.to_path_buf(),
                container,
                detail: "sample rate or channel count missing".into(),
            });
        }
        let info = SourceInfo {
            path: path.to_path_buf(),
            sample_rate_hz,
            channels: source.channels,
            frames,
            container: container.to_string(),
            codec,
            sample_format,
        };
        Ok((info, source))
    }

    /// Decodes packets until one yields frames to deliver. Returns the
    /// (rate, channels) of that packet, or `None` at the end of the stream.
    fn fill_pending(&mut self) -> Result<Option<(u32, usize)>, IoError> {
        loop {
            if self.finished {
                return Ok(None);
            }
            let packet = match self.format.next_packet() {
                Ok(Some(p)) => p,
                Ok(None) => {
                    self.finished = true;
                    self.check_complete()?;
                    return Ok(None);
                }
                Err(e) => return Err(self.stream_error(e)),
            };
            if packet.track_id != self.track_id {
                continue;
            }
            let decoded = match self.decoder.decode(&packet) {
                Ok(buf) => buf,
                Err(e) => return Err(self.stream_error(e)),
            };
            let frames = decoded.frames();
            if frames == 0 {
                continue;
            }
            let rate = decoded.spec().rate();
            let channels = decoded.spec().channels().count();
            if self.channels != 0 && channels != self.channels {
                return Err(IoError::Unsupported {
                    path: self.path.clone(),
                    detail: format!(
                        "channel count changes from {} to {channels} after frame {}",
                        self.channels, self.produced
                    ),
                });
            }
            decoded.copy_to_vecs_planar::<f64>(&mut self.pending);
            let skip = self.skip_left.min(frames as u64) as usize;
            self.skip_left -= skip as u64;
            let mut end = frames;
            if let Some(keep) = self.keep_left {
                let take = (end - skip).min(usize::try_from(keep).unwrap_or(usize::MAX));
                end = skip + take;
                self.keep_left = Some(keep - take as u64);
                if keep - take as u64 == 0 {
                    // The edit list ends here; what follows is padding.
                    self.finished = true;
                }
            }
            self.pending_pos = skip;
            self.pending_frames = end;
            self.produced += (end - skip) as u64;
            if end > skip {
                return Ok(Some((rate, channels)));
            }
            if self.finished {
                self.check_complete()?;
                return Ok(None);
            }
        }
    }

    /// At the end of the stream: fewer frames than promised is truncation.
    fn check_complete(&self) -> Result<(), IoError> {
        match self.expected_frames {
            Some(expected) if self.produced < expected => Err(IoError::Truncated {
                path: self.path.clone(),
                expected_frames: expected,
                actual_frames: self.produced,
            }),
            _ => Ok(()),
        }
    }

    fn stream_error(&mut self, e: SymError) -> IoError {
        self.finished = true;
        let path = self.path.clone();
        match e {
            SymError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
                match self.expected_frames {
                    Some(expected) if self.produced < expected => IoError::Truncated {
                        path,
                        expected_frames: expected,
                        actual_frames: self.produced,
                    },
                    _ => IoError::Decode {
                        path,
                        frame: self.produced,
                        detail: "file ends in the middle of a packet".into(),
                    },
                }
            }
            SymError::IoError(io) => IoError::Read { path, source: io },
            SymError::Unsupported(what) => IoError::Unsupported {
                path,
                detail: format!("{what} (after frame {})", self.produced),
            },
            SymError::ResetRequired => IoError::Unsupported {
                path,
                detail: format!(
                    "the stream changes its format after frame {} (chained streams are not supported)",
                    self.produced
                ),
            },
            other => IoError::Decode {
                path,
                frame: self.produced,
                detail: other.to_string(),
            },
        }
    }

    fn read(
        &mut self,
        buf: &mut AudioBuffer,
        offset: usize,
        max_frames: usize,
    ) -> Result<usize, IoError> {
        if self.pending_pos >= self.pending_frames && self.fill_pending()?.is_none() {
            return Ok(0);
        }
        let n = (self.pending_frames - self.pending_pos).min(max_frames);
        for (ch, src) in self.pending.iter().enumerate().take(self.channels) {
            buf.channel_mut(ch)[offset..offset + n]
                .copy_from_slice(&src[self.pending_pos..self.pending_pos + n]);
        }
        self.pending_pos += n;
        Ok(n)
    }
}

/// Maps a probe failure. When the first bytes carry a known container's
/// signature the file is that container, damaged (often cut short), and the
/// error says so rather than "unrecognised".
fn probe_error(path: &Path, e: SymError) -> IoError {
    let path = path.to_path_buf();
    if let SymError::IoError(io) = &e
        && io.kind() != std::io::ErrorKind::UnexpectedEof
    {
        return IoError::Read {
            path,
            source: e_into_io(e),
        };
    }
    let mut head = [0u8; 12];
    let sniffed = File::open(&path)
        .and_then(|mut f| {
            use std::io::Read;
            let n = f.read(&mut head)?;
            Ok(sniff(&head[..n]))
        })
        .ok()
        .flatten();
    let detail = match &e {
        SymError::IoError(_) => "the file ends inside the header".to_string(),
        other if sniffed == Some("MP4") && other.to_string().contains("moov") => {
            "no 'moov' box: the file is cut short or was never finished".to_string()
        }
        other => other.to_string(),
    };
    if sniffed == Some("AIFF")
        && let Some((expected_frames, actual_frames)) = aiff_shortfall(&path)
    {
        return IoError::Truncated {
            path,
            expected_frames,
            actual_frames,
        };
    }
    match sniffed {
        Some(container) => IoError::Malformed {
            path,
            container,
            detail,
        },
        None => IoError::Unsupported {
            path,
            detail: "no known container signature".into(),
        },
    }
}

/// For an uncompressed AIFF/AIFC whose sound data runs past the end of the
/// file (symphonia fails to open those): (frames promised by COMM, frames
/// present). AIFF layout: Apple "Audio Interchange File Format 1.3".
fn aiff_shortfall(path: &Path) -> Option<(u64, u64)> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = File::open(path).ok()?;
    let len = f.metadata().ok()?.len();
    let mut head = [0u8; 12];
    f.read_exact(&mut head).ok()?;
    let aifc = &head[8..12] == b"AIFC";
    let mut pos = 12u64;
    let mut comm: Option<(u64, u64, u64)> = None; // (channels, frames, bytes per sample)
    while pos + 8 <= len {
        f.seek(SeekFrom::Start(pos)).ok()?;
        let mut ch = [0u8; 8];
        f.read_exact(&mut ch).ok()?;
        let size = u64::from(u32::from_be_bytes([ch[4], ch[5], ch[6], ch[7]]));
        match &ch[0..4] {
            b"COMM" => {
                let mut b = [0u8; 22];
                let n = f.read(&mut b).ok()?;
                if n < 18 {
                    return None;
                }
                if aifc && n >= 22 && !matches!(&b[18..22], b"NONE" | b"sowt" | b"twos") {
                    return None;
                }
                let channels = u64::from(u16::from_be_bytes([b[0], b[1]]));
                let frames = u64::from(u32::from_be_bytes([b[2], b[3], b[4], b[5]]));
                let bits = u64::from(u16::from_be_bytes([b[6], b[7]]));
                comm = Some((channels, frames, bits.div_ceil(8)));
            }
            b"SSND" => {
                let (channels, frames, bytes) = comm?;
                let mut b = [0u8; 4];
                f.read_exact(&mut b).ok()?;
                let offset = u64::from(u32::from_be_bytes(b));
                let data_start = pos + 16 + offset;
                let frame_bytes = channels * bytes;
                if frame_bytes == 0 {
                    return None;
                }
                let actual = len.saturating_sub(data_start) / frame_bytes;
                return (actual < frames).then_some((frames, actual));
            }
            _ => {}
        }
        pos += 8 + size + (size & 1);
    }
    None
}

fn e_into_io(e: SymError) -> std::io::Error {
    match e {
        SymError::IoError(io) => io,
        other => std::io::Error::other(other.to_string()),
    }
}

/// The container a file's first bytes announce, if any.
fn sniff(head: &[u8]) -> Option<&'static str> {
    match head {
        [b'f', b'L', b'a', b'C', ..] => Some("FLAC"),
        [b'O', b'g', b'g', b'S', ..] => Some("Ogg"),
        [b'F', b'O', b'R', b'M', _, _, _, _, b'A', b'I', b'F', ..] => Some("AIFF"),
        [_, _, _, _, b'f', b't', b'y', b'p', ..] => Some("MP4"),
        [b'I', b'D', b'3', ..] => Some("MP3"),
        [
            b'R',
            b'I',
            b'F',
            b'F',
            _,
            _,
            _,
            _,
            b'W',
            b'A',
            b'V',
            b'E',
            ..,
        ] => Some("WAV"),
        _ => None,
    }
}

fn container_name(id: symphonia::core::formats::FormatId, short_name: &str) -> &'static str {
    match id {
        format_ids::FORMAT_ID_WAVE => "WAV",
        format_ids::FORMAT_ID_AIFF => "AIFF",
        format_ids::FORMAT_ID_FLAC => "FLAC",
        format_ids::FORMAT_ID_MP3 => "MP3",
        format_ids::FORMAT_ID_MP2 => "MP2",
        format_ids::FORMAT_ID_MP1 => "MP1",
        format_ids::FORMAT_ID_OGG => "Ogg",
        format_ids::FORMAT_ID_ISOMP4 => "MP4",
        format_ids::FORMAT_ID_ADTS => "ADTS",
        format_ids::FORMAT_ID_CAF => "CAF",
        format_ids::FORMAT_ID_MKV => "MKV",
        _ if short_name.is_empty() => "unknown",
        _ => "other",
    }
}

fn codec_name(id: AudioCodecId, short_name: &str) -> String {
    let name = match id {
        codec_ids::CODEC_ID_FLAC => "FLAC",
        codec_ids::CODEC_ID_MP3 => "MP3",
        codec_ids::CODEC_ID_VORBIS => "Vorbis",
        codec_ids::CODEC_ID_AAC => "AAC",
        codec_ids::CODEC_ID_ALAC => "ALAC",
        _ if is_pcm(id) => "PCM",
        _ => return short_name.to_string(),
    };
    name.to_string()
}

const PCM_FLOAT32: [AudioCodecId; 4] = [
    codec_ids::CODEC_ID_PCM_F32LE,
    codec_ids::CODEC_ID_PCM_F32LE_PLANAR,
    codec_ids::CODEC_ID_PCM_F32BE,
    codec_ids::CODEC_ID_PCM_F32BE_PLANAR,
];
const PCM_FLOAT64: [AudioCodecId; 4] = [
    codec_ids::CODEC_ID_PCM_F64LE,
    codec_ids::CODEC_ID_PCM_F64LE_PLANAR,
    codec_ids::CODEC_ID_PCM_F64BE,
    codec_ids::CODEC_ID_PCM_F64BE_PLANAR,
];

/// Symphonia numbers its linear PCM codecs 0x100..0x124 (integer and float,
/// both byte orders, interleaved and planar); A-law and μ-law follow.
fn is_pcm(id: AudioCodecId) -> bool {
    (codec_ids::CODEC_ID_PCM_S32LE..=codec_ids::CODEC_ID_PCM_F64BE_PLANAR).contains(&id)
}

fn sample_format(id: AudioCodecId, bits: Option<u32>, extra: Option<&[u8]>) -> SampleFormat {
    if PCM_FLOAT32.contains(&id) {
        return SampleFormat::Float { bits: 32 };
    }
    if PCM_FLOAT64.contains(&id) {
        return SampleFormat::Float { bits: 64 };
    }
    if is_pcm(id) || id == codec_ids::CODEC_ID_FLAC {
        return SampleFormat::Int {
            bits: bits.unwrap_or(16),
        };
    }
    if id == codec_ids::CODEC_ID_ALAC {
        return SampleFormat::Int {
            bits: bits
                .or_else(|| extra.and_then(alac_bit_depth))
                .unwrap_or(16),
        };
    }
    SampleFormat::Lossy
}

/// `ALACSpecificConfig.bitDepth` (Apple ALAC "magic cookie"): byte 5 of the
/// config, which may sit behind a 12-byte `alac` atom header.
fn alac_bit_depth(cookie: &[u8]) -> Option<u32> {
    let config = if cookie.len() >= 12 && &cookie[4..8] == b"alac" {
        &cookie[12..]
    } else {
        cookie
    };
    config
        .get(5)
        .map(|&b| u32::from(b))
        .filter(|&b| (8..=32).contains(&b))
}
