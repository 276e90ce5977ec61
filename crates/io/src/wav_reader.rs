//! A small streaming reader for uncompressed WAVE audio in RIFF, RF64 and
//! BW64 containers.
//!
//! Why our own and not symphonia's WAV reader: symphonia 0.6 rejects RF64
//! (EBU Tech 3306) and BW64 (ITU-R BS.2088) outright, caps plain WAV at 26
//! channels and WAVE_FORMAT_EXTENSIBLE at the 18 speaker positions of the
//! channel mask (DAW "poly WAV" exports have more), and stops silently at the
//! end of a short data chunk. This reader handles every channel count, knows
//! the exact frame count from the header, and reports a file that ends before
//! its data chunk does as truncated. Compressed WAVE payloads (ADPCM, A-law,
//! μ-law, …) are left to symphonia: [`probe`] answers `Ok(None)` for them.
//!
//! Layout references: Microsoft "Multimedia Programming Interface and Data
//! Specifications 1.0" (RIFF, `fmt `, `data`), "WAVEFORMATEXTENSIBLE"
//! (KSDATAFORMAT_SUBTYPE_PCM / _IEEE_FLOAT GUIDs), EBU Tech 3306 (RF64,
//! `ds64`), ITU-R BS.2088 (BW64).

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use mixmaster_core::AudioBuffer;

use crate::error::IoError;

/// `WAVE_FORMAT_PCM`.
const FORMAT_PCM: u16 = 0x0001;
/// `WAVE_FORMAT_IEEE_FLOAT`.
const FORMAT_IEEE_FLOAT: u16 = 0x0003;
/// `WAVE_FORMAT_EXTENSIBLE`.
const FORMAT_EXTENSIBLE: u16 = 0xFFFE;
/// The 14 bytes every KSDATAFORMAT_SUBTYPE GUID of a WAVE format tag shares
/// after its first two (the format tag): `-0000-0010-8000-00AA00389B71`.
const GUID_TAIL: [u8; 14] = [
    0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71,
];
/// A 32-bit chunk size of all ones: "see ds64" in RF64/BW64, "unknown,
/// read to the end" in RIFF files written to a pipe (ffmpeg does this).
const SIZE_UNKNOWN: u32 = u32::MAX;

/// Which RIFF flavour the file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WavContainer {
    /// Classic RIFF/WAVE, 32-bit sizes.
    Riff,
    /// EBU Tech 3306 RF64, sizes in `ds64`.
    Rf64,
    /// ITU-R BS.2088 BW64, same layout as RF64.
    Bw64,
}

impl WavContainer {
    /// The container name reported in `SourceInfo::container`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            WavContainer::Riff => "WAV",
            WavContainer::Rf64 => "RF64",
            WavContainer::Bw64 => "BW64",
        }
    }
}

/// How one sample is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WavSample {
    /// 8-bit unsigned, offset binary (the only 8-bit WAVE PCM form).
    U8,
    /// Signed little-endian integer in `bytes` bytes (2, 3 or 4), of which
    /// `valid_bits` carry signal (left-justified).
    Int {
        /// Container width.
        bytes: usize,
        /// Significant bits (`wValidBitsPerSample`, or the container width).
        valid_bits: u32,
    },
    /// IEEE 754 binary32.
    F32,
    /// IEEE 754 binary64.
    F64,
}

impl WavSample {
    fn bytes(self) -> usize {
        match self {
            WavSample::U8 => 1,
            WavSample::Int { bytes, .. } => bytes,
            WavSample::F32 => 4,
            WavSample::F64 => 8,
        }
    }
}

/// What the header says.
#[derive(Debug, Clone)]
pub(crate) struct WavHeader {
    pub(crate) container: WavContainer,
    pub(crate) sample_rate_hz: u32,
    pub(crate) channels: usize,
    pub(crate) sample: WavSample,
    /// Bytes per frame (`nBlockAlign`).
    pub(crate) block_align: usize,
    /// Frames in the data chunk (whole frames only).
    pub(crate) frames: u64,
}

/// A streaming reader over the data chunk.
#[derive(Debug)]
pub(crate) struct WavReader {
    path: PathBuf,
    file: BufReader<File>,
    header: WavHeader,
    frames_left: u64,
    raw: Vec<u8>,
}

/// Reads the header of `file` (positioned anywhere). Returns `Ok(None)` when
/// the file is not RIFF/RF64/BW64 WAVE, or is WAVE with a compressed payload
/// that symphonia should decode instead.
pub(crate) fn probe(
    path: &Path,
    mut file: File,
    file_len: u64,
) -> Result<Option<WavReader>, IoError> {
    let read_err = |e: std::io::Error| IoError::read(path, e);
    file.seek(SeekFrom::Start(0)).map_err(read_err)?;
    let mut file = BufReader::with_capacity(64 * 1024, file);

    let mut head = [0u8; 12];
    if !read_full(&mut file, &mut head).map_err(read_err)? {
        return Ok(None);
    }
    let container = match &head[0..4] {
        b"RIFF" => WavContainer::Riff,
        b"RF64" => WavContainer::Rf64,
        b"BW64" => WavContainer::Bw64,
        _ => return Ok(None),
    };
    if &head[8..12] != b"WAVE" {
        return Ok(None);
    }
    let malformed = |detail: String| IoError::Malformed {
        path: path.to_path_buf(),
        container: container.name(),
        detail,
    };

    let mut pos: u64 = 12;
    let mut ds64_data_size: Option<u64> = None;
    let mut format: Option<(WavSample, usize, u32, usize)> = None;
    loop {
        let mut chunk = [0u8; 8];
        if !read_full(&mut file, &mut chunk).map_err(read_err)? {
            return Err(if format.is_some() {
                malformed("file ends before the data chunk".into())
            } else {
                malformed("file ends before the fmt and data chunks".into())
            });
        }
        pos += 8;
        let id = [chunk[0], chunk[1], chunk[2], chunk[3]];
        let size32 = u32::from_le_bytes([chunk[4], chunk[5], chunk[6], chunk[7]]);
        match &id {
            b"ds64" => {
                if container == WavContainer::Riff {
                    // Harmless in a RIFF file; skip it like any other chunk.
                    skip(&mut file, &mut pos, u64::from(size32)).map_err(read_err)?;
                    continue;
                }
                if size32 < 24 {
                    return Err(malformed(format!("ds64 chunk of {size32} bytes, need 24")));
                }
                let mut body = vec![0u8; size32 as usize];
                if !read_full(&mut file, &mut body).map_err(read_err)? {
                    return Err(malformed("file ends inside the ds64 chunk".into()));
                }
                pos += u64::from(size32);
                ds64_data_size = Some(le_u64(&body[8..16]));
                if size32 % 2 == 1 {
                    skip(&mut file, &mut pos, 1).map_err(read_err)?;
                }
            }
            b"fmt " => {
                if !(16..=1024).contains(&size32) {
                    return Err(malformed(format!("fmt chunk of {size32} bytes")));
                }
                let mut body = vec![0u8; size32 as usize];
                if !read_full(&mut file, &mut body).map_err(read_err)? {
                    return Err(malformed("file ends inside the fmt chunk".into()));
                }
                pos += u64::from(size32);
                if size32 % 2 == 1 {
                    skip(&mut file, &mut pos, 1).map_err(read_err)?;
                }
                match parse_fmt(&body).map_err(malformed)? {
                    Some(f) => format = Some(f),
                    // A compressed payload: symphonia's job.
                    None => return Ok(None),
                }
            }
            b"data" => {
                let Some((sample, channels, sample_rate_hz, block_align)) = format else {
                    return Err(malformed("data chunk before the fmt chunk".into()));
                };
                let available = file_len.saturating_sub(pos);
                let data_bytes = match (container, size32) {
                    (WavContainer::Riff, SIZE_UNKNOWN) => available,
                    (WavContainer::Riff, n) => u64::from(n),
                    (_, SIZE_UNKNOWN) => ds64_data_size.ok_or_else(|| {
                        malformed("data size refers to a missing ds64 chunk".into())
                    })?,
                    (_, n) => u64::from(n),
                };
                let align = block_align as u64;
                let frames = data_bytes / align;
                if data_bytes > available {
                    return Err(IoError::Truncated {
                        path: path.to_path_buf(),
                        expected_frames: frames,
                        actual_frames: available / align,
                    });
                }
                let header = WavHeader {
                    container,
                    sample_rate_hz,
                    channels,
                    sample,
                    block_align,
                    frames,
                };
                return Ok(Some(WavReader {
                    path: path.to_path_buf(),
                    file,
                    frames_left: frames,
                    header,
                    raw: Vec::new(),
                }));
            }
            _ => {
                let size = u64::from(size32);
                if pos + size > file_len {
                    return Err(malformed(format!(
                        "chunk '{}' of {size} bytes runs past the end of the file before the data chunk",
                        String::from_utf8_lossy(&id)
                    )));
                }
                skip(&mut file, &mut pos, size + (size & 1)).map_err(read_err)?;
            }
        }
    }
}

/// Parses a `fmt ` chunk body. `Ok(None)` for compressed formats.
/// Returns (sample type, channels, rate, block align).
#[allow(clippy::type_complexity)]
fn parse_fmt(body: &[u8]) -> Result<Option<(WavSample, usize, u32, usize)>, String> {
    let mut tag = le_u16(&body[0..2]);
    let channels = usize::from(le_u16(&body[2..4]));
    let sample_rate_hz = le_u32(&body[4..8]);
    let block_align = usize::from(le_u16(&body[12..14]));
    let bits = u32::from(le_u16(&body[14..16]));
    let mut valid_bits = bits;
    if tag == FORMAT_EXTENSIBLE {
        if body.len() < 40 {
            return Err(format!(
                "WAVE_FORMAT_EXTENSIBLE fmt chunk of {} bytes, need 40",
                body.len()
            ));
        }
        let valid = u32::from(le_u16(&body[18..20]));
        if valid != 0 {
            valid_bits = valid;
        }
        if body[26..40] != GUID_TAIL {
            return Ok(None);
        }
        tag = le_u16(&body[24..26]);
    }
    if tag != FORMAT_PCM && tag != FORMAT_IEEE_FLOAT {
        return Ok(None);
    }
    if channels == 0 {
        return Err("0 channels".into());
    }
    if sample_rate_hz == 0 {
        return Err("sample rate of 0 Hz".into());
    }
    if block_align == 0 || block_align % channels != 0 {
        return Err(format!(
            "block align of {block_align} bytes does not fit {channels} channels"
        ));
    }
    let bytes = block_align / channels;
    if bits == 0 || bits as usize > bytes * 8 || valid_bits > bits {
        return Err(format!(
            "{bits} bits per sample ({valid_bits} valid) in {bytes}-byte samples"
        ));
    }
    let sample = match (tag, bytes) {
        (FORMAT_PCM, 1) => WavSample::U8,
        (FORMAT_PCM, 2..=4) => WavSample::Int { bytes, valid_bits },
        (FORMAT_IEEE_FLOAT, 4) if bits == 32 => WavSample::F32,
        (FORMAT_IEEE_FLOAT, 8) if bits == 64 => WavSample::F64,
        _ => {
            return Err(format!(
                "{} with {bits} bits per sample in {bytes}-byte samples is not a WAVE sample format",
                if tag == FORMAT_PCM {
                    "integer PCM"
                } else {
                    "IEEE float"
                }
            ));
        }
    };
    Ok(Some((sample, channels, sample_rate_hz, block_align)))
}

impl WavReader {
    /// The parsed header.
    pub(crate) fn header(&self) -> &WavHeader {
        &self.header
    }

    /// Reads up to `max_frames` frames into `out` from frame `offset` on
    /// (`out` already has the channels and room). Returns the frames read;
    /// 0 at the end of the data.
    pub(crate) fn read(
        &mut self,
        out: &mut AudioBuffer,
        offset: usize,
        max_frames: usize,
    ) -> Result<usize, IoError> {
        let frames = (max_frames as u64).min(self.frames_left) as usize;
        if frames == 0 {
            return Ok(0);
        }
        let align = self.header.block_align;
        self.raw.resize(frames * align, 0);
        let mut got = 0;
        while got < self.raw.len() {
            match self.file.read(&mut self.raw[got..]) {
                Ok(0) => {
                    let done = self.header.frames - self.frames_left + (got / align) as u64;
                    return Err(IoError::Truncated {
                        path: self.path.clone(),
                        expected_frames: self.header.frames,
                        actual_frames: done,
                    });
                }
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(IoError::read(&self.path, e)),
            }
        }
        let bytes = self.header.sample.bytes();
        for ch in 0..self.header.channels {
            let dst = &mut out.channel_mut(ch)[offset..offset + frames];
            let src = self.raw[ch * bytes..].chunks(align);
            convert(self.header.sample, src, dst);
        }
        self.frames_left -= frames as u64;
        Ok(frames)
    }
}

/// Converts one channel: `src` yields frames starting at this channel's
/// first byte. Integer samples are divided by 2^(container bits − 1), so
/// integer → f64 → integer is exact.
fn convert<'a>(sample: WavSample, src: impl Iterator<Item = &'a [u8]>, dst: &mut [f64]) {
    match sample {
        WavSample::U8 => {
            for (d, s) in dst.iter_mut().zip(src) {
                *d = (f64::from(s[0]) - 128.0) / 128.0;
            }
        }
        WavSample::Int { bytes: 2, .. } => {
            for (d, s) in dst.iter_mut().zip(src) {
                *d = f64::from(i16::from_le_bytes([s[0], s[1]])) / 32_768.0;
            }
        }
        WavSample::Int { bytes: 3, .. } => {
            for (d, s) in dst.iter_mut().zip(src) {
                // Sign-extend by placing the 3 bytes in the top of an i32.
                let v = i32::from_le_bytes([0, s[0], s[1], s[2]]) >> 8;
                *d = f64::from(v) / 8_388_608.0;
            }
        }
        WavSample::Int { .. } => {
            for (d, s) in dst.iter_mut().zip(src) {
                *d = f64::from(i32::from_le_bytes([s[0], s[1], s[2], s[3]])) / 2_147_483_648.0;
            }
        }
        WavSample::F32 => {
            for (d, s) in dst.iter_mut().zip(src) {
                *d = f64::from(f32::from_le_bytes([s[0], s[1], s[2], s[3]]));
            }
        }
        WavSample::F64 => {
            for (d, s) in dst.iter_mut().zip(src) {
                *d = f64::from_le_bytes([s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]]);
            }
        }
    }
}

/// Fills `buf` completely; `Ok(false)` when the file ends first.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<bool> {
    match r.read_exact(buf) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(false),
        Err(e) => Err(e),
    }
}

fn skip(r: &mut BufReader<File>, pos: &mut u64, bytes: u64) -> std::io::Result<()> {
    let delta = i64::try_from(bytes).map_err(|_| std::io::Error::other("chunk too large"))?;
    r.seek_relative(delta)?;
    *pos += bytes;
    Ok(())
}

fn le_u16(b: &[u8]) -> u16 {
    u16::from_le_bytes([b[0], b[1]])
}

fn le_u32(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

fn le_u64(b: &[u8]) -> u64 {
    u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt_body(tag: u16, channels: u16, bits: u16, block_align: u16) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&tag.to_le_bytes());
        b.extend_from_slice(&channels.to_le_bytes());
        b.extend_from_slice(&44_100u32.to_le_bytes());
        b.extend_from_slice(&(44_100u32 * u32::from(block_align)).to_le_bytes());
        b.extend_from_slice(&block_align.to_le_bytes());
        b.extend_from_slice(&bits.to_le_bytes());
        b
    }

    #[test]
    fn fmt_variants() {
        let (s, ch, _, ba) = parse_fmt(&fmt_body(1, 2, 16, 4)).unwrap().unwrap();
        assert_eq!(
            (s, ch, ba),
            (
                WavSample::Int {
                    bytes: 2,
                    valid_bits: 16
                },
                2,
                4
            )
        );
        let (s, ..) = parse_fmt(&fmt_body(1, 1, 8, 1)).unwrap().unwrap();
        assert_eq!(s, WavSample::U8);
        let (s, ..) = parse_fmt(&fmt_body(3, 1, 64, 8)).unwrap().unwrap();
        assert_eq!(s, WavSample::F64);
        // ADPCM goes to symphonia.
        assert!(parse_fmt(&fmt_body(2, 1, 4, 256)).unwrap().is_none());
        // Nonsense is an error, not a panic.
        assert!(parse_fmt(&fmt_body(1, 0, 16, 4)).is_err());
        assert!(parse_fmt(&fmt_body(1, 2, 16, 3)).is_err());
        assert!(parse_fmt(&fmt_body(3, 1, 16, 2)).is_err());
    }

    #[test]
    fn int24_sign_extension() {
        let mut out = [0.0; 2];
        let raw = [0xFFu8, 0xFF, 0x7F, 0x00, 0x00, 0x80];
        convert(
            WavSample::Int {
                bytes: 3,
                valid_bits: 24,
            },
            raw.chunks(3),
            &mut out,
        );
        assert_eq!(out, [8_388_607.0 / 8_388_608.0, -1.0]);
    }
}
