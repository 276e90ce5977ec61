//! A streaming RIFF/WAVE writer that becomes RF64 when the data outgrows
//! 32-bit sizes.
//!
//! Layout written (sizes fixed up by [`WavEncoder::finish`]):
//!
//! ```text
//! RIFF <size> WAVE
//! JUNK (28 bytes)      space for a ds64 chunk, EBU Tech 3306 §3.3
//! bext (602 + n)       optional: BWF metadata ([`crate::bext`]), fixed size,
//!                      so its loudness fields can be rewritten in place
//! fmt  (16 or 40)      WAVE_FORMAT_PCM for 16-bit with ≤ 2 channels,
//!                      WAVE_FORMAT_EXTENSIBLE otherwise (24-bit, float,
//!                      or more than 2 channels), with a channel mask
//! fact (4)             float only: the frame count
//! LIST INFO            optional: tags ([`crate::riff_info`])
//! data <size> …        interleaved little-endian samples (+ pad byte if odd)
//! ```
//!
//! If the finished RIFF would be larger than 4 GiB − 1 byte (the RIFF size
//! field is 32-bit), `finish` turns the file into RF64: the `RIFF` id becomes
//! `RF64`, the JUNK chunk becomes `ds64` with the 64-bit RIFF, data and
//! sample counts, and the 32-bit size fields are set to 0xFFFFFFFF (EBU Tech
//! 3306). Nothing has to move, because the JUNK chunk reserved the space.

use std::io::{Seek, SeekFrom, Write};

use crate::bext::LOUDNESS_OFFSET;
use crate::writer::Encoding;

/// `WAVE_FORMAT_PCM`.
const FORMAT_PCM: u16 = 0x0001;
/// `WAVE_FORMAT_EXTENSIBLE`.
const FORMAT_EXTENSIBLE: u16 = 0xFFFE;
/// KSDATAFORMAT_SUBTYPE_PCM, {00000001-0000-0010-8000-00AA00389B71}.
const SUBTYPE_PCM: [u8; 16] = [
    0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71,
];
/// KSDATAFORMAT_SUBTYPE_IEEE_FLOAT, {00000003-0000-0010-8000-00AA00389B71}.
const SUBTYPE_IEEE_FLOAT: [u8; 16] = [
    0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71,
];
/// Payload of the JUNK/ds64 chunk: riffSize, dataSize, sampleCount (u64
/// each) and a table length (u32) of 0.
const DS64_LEN: u32 = 28;

/// When to write RF64.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Rf64Policy {
    /// Plain RIFF/WAVE, switching to RF64 only when the file passes 4 GiB.
    #[default]
    Auto,
    /// Always RF64 (some broadcast workflows require it).
    Always,
    /// Plain RIFF/WAVE with no space reserved for RF64 (the canonical
    /// 44-byte header of 16-bit stereo, as CD tools such as `shntool` write
    /// it); a file that passes 4 GiB fails to finish.
    Never,
}

/// The speaker mask of `dwChannelMask` for a channel count
/// (WAVEFORMATEXTENSIBLE): mono = FC; stereo = FL FR; 3.0 = FL FR FC;
/// quad = FL FR BL BR; 5.0 = FL FR FC BL BR; 5.1 = FL FR FC LFE BL BR;
/// 6.1 = FL FR FC LFE BC SL SR; 7.1 = FL FR FC LFE BL BR SL SR. Other counts
/// get 0 ("no particular speaker positions").
pub fn channel_mask(channels: usize) -> u32 {
    const FL: u32 = 0x1;
    const FR: u32 = 0x2;
    const FC: u32 = 0x4;
    const LFE: u32 = 0x8;
    const BL: u32 = 0x10;
    const BR: u32 = 0x20;
    const BC: u32 = 0x100;
    const SL: u32 = 0x200;
    const SR: u32 = 0x400;
    match channels {
        1 => FC,
        2 => FL | FR,
        3 => FL | FR | FC,
        4 => FL | FR | BL | BR,
        5 => FL | FR | FC | BL | BR,
        6 => FL | FR | FC | LFE | BL | BR,
        7 => FL | FR | FC | LFE | BC | SL | SR,
        8 => FL | FR | FC | LFE | BL | BR | SL | SR,
        _ => 0,
    }
}

/// Appends a chunk (header, payload, pad byte when odd) to `h`.
fn push_chunk(h: &mut Vec<u8>, id: &[u8; 4], payload: &[u8]) -> std::io::Result<()> {
    let size = u32::try_from(payload.len())
        .map_err(|_| std::io::Error::other("chunk larger than 4 GiB"))?;
    h.extend_from_slice(id);
    h.extend_from_slice(&size.to_le_bytes());
    h.extend_from_slice(payload);
    if size % 2 == 1 {
        h.push(0);
    }
    Ok(())
}

/// True when a RIFF body (everything after the 8-byte RIFF header) of
/// `riff_body_bytes` no longer fits the 32-bit size field.
pub fn needs_rf64(riff_body_bytes: u64) -> bool {
    riff_body_bytes > u64::from(u32::MAX)
}

/// Streaming WAV encoder over a seekable sink.
#[derive(Debug)]
pub(crate) struct WavEncoder<W: Write + Seek> {
    out: W,
    channels: usize,
    encoding: Encoding,
    policy: Rf64Policy,
    /// Offset of the JUNK chunk header.
    junk_pos: u64,
    /// Offset of the fact chunk's payload, for float.
    fact_pos: Option<u64>,
    /// Offset of the data chunk's size field.
    data_size_pos: u64,
    /// Offset of the bext loudness fields, when there is a bext chunk.
    bext_loudness_pos: Option<u64>,
    /// Loudness bytes to store there when finishing.
    pending_loudness: Option<[u8; 10]>,
    data_bytes: u64,
    frames: u64,
}

impl<W: Write + Seek> WavEncoder<W> {
    /// Writes the header. `channels` ≥ 1 and the block align must fit 16 bits
    /// (checked by the caller). `bext` is a `bext` payload
    /// ([`crate::bext`]), `info` a `LIST` payload ([`crate::riff_info`]).
    pub(crate) fn new(
        mut out: W,
        sample_rate_hz: u32,
        channels: usize,
        encoding: Encoding,
        policy: Rf64Policy,
        bext: Option<&[u8]>,
        info: Option<&[u8]>,
    ) -> std::io::Result<Self> {
        let bits = encoding.bits();
        let bytes = bits / 8;
        let block_align = u16::try_from(channels * bytes as usize)
            .map_err(|_| std::io::Error::other("too many channels for a WAV frame"))?;
        let channels16 = u16::try_from(channels)
            .map_err(|_| std::io::Error::other("too many channels for WAV"))?;
        let float = encoding == Encoding::Float32;
        let extensible = channels > 2 || bits > 16;

        let mut h = Vec::with_capacity(128);
        h.extend_from_slice(b"RIFF");
        h.extend_from_slice(&0u32.to_le_bytes());
        h.extend_from_slice(b"WAVE");
        let junk_pos = h.len() as u64;
        if policy != Rf64Policy::Never {
            h.extend_from_slice(b"JUNK");
            h.extend_from_slice(&DS64_LEN.to_le_bytes());
            h.extend_from_slice(&[0u8; DS64_LEN as usize]);
        }

        let mut bext_loudness_pos = None;
        if let Some(bext) = bext {
            bext_loudness_pos = Some(h.len() as u64 + 8 + LOUDNESS_OFFSET as u64);
            push_chunk(&mut h, b"bext", bext)?;
        }

        h.extend_from_slice(b"fmt ");
        h.extend_from_slice(&(if extensible { 40u32 } else { 16 }).to_le_bytes());
        h.extend_from_slice(
            &(if extensible {
                FORMAT_EXTENSIBLE
            } else {
                FORMAT_PCM
            })
            .to_le_bytes(),
        );
        h.extend_from_slice(&channels16.to_le_bytes());
        h.extend_from_slice(&sample_rate_hz.to_le_bytes());
        h.extend_from_slice(&(sample_rate_hz.saturating_mul(u32::from(block_align))).to_le_bytes());
        h.extend_from_slice(&block_align.to_le_bytes());
        h.extend_from_slice(&(bits as u16).to_le_bytes());
        if extensible {
            h.extend_from_slice(&22u16.to_le_bytes());
            h.extend_from_slice(&(bits as u16).to_le_bytes());
            h.extend_from_slice(&channel_mask(channels).to_le_bytes());
            h.extend_from_slice(if float {
                &SUBTYPE_IEEE_FLOAT
            } else {
                &SUBTYPE_PCM
            });
        }
        let fact_pos = if float {
            h.extend_from_slice(b"fact");
            h.extend_from_slice(&4u32.to_le_bytes());
            let pos = h.len() as u64;
            h.extend_from_slice(&0u32.to_le_bytes());
            Some(pos)
        } else {
            None
        };
        if let Some(info) = info {
            push_chunk(&mut h, b"LIST", info)?;
        }
        h.extend_from_slice(b"data");
        let data_size_pos = h.len() as u64;
        h.extend_from_slice(&0u32.to_le_bytes());
        out.write_all(&h)?;
        Ok(WavEncoder {
            out,
            channels,
            encoding,
            policy,
            junk_pos,
            fact_pos,
            data_size_pos,
            bext_loudness_pos,
            pending_loudness: None,
            data_bytes: 0,
            frames: 0,
        })
    }

    /// Appends interleaved little-endian sample bytes of whole frames.
    pub(crate) fn write_interleaved(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.out.write_all(bytes)?;
        self.data_bytes += bytes.len() as u64;
        let frame_bytes = self.channels * (self.encoding.bits() / 8) as usize;
        self.frames += (bytes.len() / frame_bytes) as u64;
        Ok(())
    }

    /// Whether the file has a `bext` chunk to hold loudness.
    pub(crate) fn has_bext(&self) -> bool {
        self.bext_loudness_pos.is_some()
    }

    /// Loudness field bytes to store in the `bext` chunk when finishing.
    pub(crate) fn set_bext_loudness(&mut self, bytes: [u8; 10]) {
        self.pending_loudness = Some(bytes);
    }

    /// Pads, fixes the sizes (switching to RF64 if needed), flushes and
    /// returns the sink.
    pub(crate) fn finish(mut self) -> std::io::Result<W> {
        if self.data_bytes % 2 == 1 {
            self.out.write_all(&[0])?;
        }
        let data_start = self.data_size_pos + 4;
        let riff_body = data_start - 8 + self.data_bytes + (self.data_bytes & 1);
        let rf64 = self.policy == Rf64Policy::Always || needs_rf64(riff_body);
        if rf64 && self.policy == Rf64Policy::Never {
            return Err(std::io::Error::other(
                "the audio passes 4 GiB, which a plain RIFF/WAVE file cannot hold (RF64 was not \
                 allowed)",
            ));
        }
        if rf64 {
            self.out.seek(SeekFrom::Start(0))?;
            self.out.write_all(b"RF64")?;
            self.out.write_all(&u32::MAX.to_le_bytes())?;
            self.out.seek(SeekFrom::Start(self.junk_pos))?;
            let mut ds64 = Vec::with_capacity(8 + DS64_LEN as usize);
            ds64.extend_from_slice(b"ds64");
            ds64.extend_from_slice(&DS64_LEN.to_le_bytes());
            ds64.extend_from_slice(&riff_body.to_le_bytes());
            ds64.extend_from_slice(&self.data_bytes.to_le_bytes());
            ds64.extend_from_slice(&self.frames.to_le_bytes());
            ds64.extend_from_slice(&0u32.to_le_bytes());
            self.out.write_all(&ds64)?;
            if let Some(pos) = self.fact_pos {
                self.out.seek(SeekFrom::Start(pos))?;
                self.out.write_all(&u32::MAX.to_le_bytes())?;
            }
            self.out.seek(SeekFrom::Start(self.data_size_pos))?;
            self.out.write_all(&u32::MAX.to_le_bytes())?;
        } else {
            // Both fit: riff_body ≤ u32::MAX and data_bytes < riff_body.
            self.out.seek(SeekFrom::Start(4))?;
            self.out.write_all(&(riff_body as u32).to_le_bytes())?;
            if let Some(pos) = self.fact_pos {
                self.out.seek(SeekFrom::Start(pos))?;
                self.out
                    .write_all(&(self.frames.min(u64::from(u32::MAX)) as u32).to_le_bytes())?;
            }
            self.out.seek(SeekFrom::Start(self.data_size_pos))?;
            self.out
                .write_all(&(self.data_bytes as u32).to_le_bytes())?;
        }
        if let (Some(pos), Some(bytes)) = (self.bext_loudness_pos, self.pending_loudness) {
            self.out.seek(SeekFrom::Start(pos))?;
            self.out.write_all(&bytes)?;
        }
        self.out.seek(SeekFrom::End(0))?;
        self.out.flush()?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    #[test]
    fn rf64_threshold() {
        assert!(!needs_rf64(u64::from(u32::MAX)));
        assert!(needs_rf64(u64::from(u32::MAX) + 1));
    }

    #[test]
    fn header_sizes_are_fixed_up() {
        let enc = WavEncoder::new(
            Cursor::new(Vec::new()),
            48_000,
            1,
            Encoding::Pcm24,
            Rf64Policy::Auto,
            None,
            None,
        )
        .unwrap();
        let mut enc = enc;
        enc.write_interleaved(&[1, 2, 3]).unwrap();
        let bytes = enc.finish().unwrap().into_inner();
        // 12 + JUNK 36 + fmt 48 + data header 8 + 3 data + 1 pad
        assert_eq!(bytes.len(), 108);
        assert_eq!(&bytes[0..4], b"RIFF");
        assert_eq!(u32::from_le_bytes(bytes[4..8].try_into().unwrap()), 100);
        assert_eq!(&bytes[96..100], b"data");
        assert_eq!(u32::from_le_bytes(bytes[100..104].try_into().unwrap()), 3);
        assert_eq!(bytes[107], 0);
    }

    #[test]
    fn never_rf64_writes_the_canonical_44_byte_header() {
        let mut enc = WavEncoder::new(
            Cursor::new(Vec::new()),
            44_100,
            2,
            Encoding::Pcm16,
            Rf64Policy::Never,
            None,
            None,
        )
        .unwrap();
        enc.write_interleaved(&[1, 2, 3, 4]).unwrap();
        let bytes = enc.finish().unwrap().into_inner();
        assert_eq!(bytes.len(), 48);
        assert_eq!(&bytes[12..16], b"fmt ");
        assert_eq!(&bytes[36..40], b"data");
        assert_eq!(u32::from_le_bytes(bytes[4..8].try_into().unwrap()), 40);
        assert_eq!(u32::from_le_bytes(bytes[40..44].try_into().unwrap()), 4);
    }

    /// A sink that keeps only the first bytes of what is written, so a
    /// file of more than 4 GiB can pass through the encoder in a test.
    struct HeaderSink {
        head: Vec<u8>,
        pos: u64,
        len: u64,
    }

    impl Write for HeaderSink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            for (i, &b) in buf.iter().enumerate() {
                let at = self.pos + i as u64;
                if at >= self.head.len() as u64 {
                    break;
                }
                self.head[at as usize] = b;
            }
            self.pos += buf.len() as u64;
            self.len = self.len.max(self.pos);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Seek for HeaderSink {
        fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
            self.pos = match pos {
                SeekFrom::Start(p) => p,
                SeekFrom::End(d) => self.len.checked_add_signed(d).unwrap(),
                SeekFrom::Current(d) => self.pos.checked_add_signed(d).unwrap(),
            };
            Ok(self.pos)
        }
    }

    #[test]
    fn switches_to_rf64_past_4_gib() {
        let sink = HeaderSink {
            head: vec![0; 128],
            pos: 0,
            len: 0,
        };
        // 16-bit stereo: 4 bytes per frame; 2^30 + 1000 frames is just over 4 GiB.
        let mut enc = WavEncoder::new(
            sink,
            48_000,
            2,
            Encoding::Pcm16,
            Rf64Policy::Auto,
            None,
            None,
        )
        .unwrap();
        let block = vec![0u8; 1 << 22];
        let frames: u64 = (1 << 30) + 1000;
        let mut left = frames * 4;
        while left > 0 {
            let n = left.min(block.len() as u64) as usize;
            enc.write_interleaved(&block[..n]).unwrap();
            left -= n as u64;
        }
        let sink = enc.finish().unwrap();
        let h = &sink.head;
        let u32_at = |i: usize| u32::from_le_bytes(h[i..i + 4].try_into().unwrap());
        let u64_at = |i: usize| u64::from_le_bytes(h[i..i + 8].try_into().unwrap());
        assert_eq!(&h[0..4], b"RF64");
        assert_eq!(u32_at(4), u32::MAX);
        assert_eq!(&h[12..16], b"ds64");
        assert_eq!(u64_at(20), sink.len - 8, "ds64 riffSize");
        assert_eq!(u64_at(28), frames * 4, "ds64 dataSize");
        assert_eq!(u64_at(36), frames, "ds64 sampleCount");
        // 16-bit stereo uses the plain 16-byte fmt chunk: data header at 72.
        assert_eq!(&h[72..76], b"data");
        assert_eq!(u32_at(76), u32::MAX);
    }

    #[test]
    fn stays_riff_just_below_4_gib() {
        let sink = HeaderSink {
            head: vec![0; 128],
            pos: 0,
            len: 0,
        };
        let mut enc = WavEncoder::new(
            sink,
            48_000,
            1,
            Encoding::Pcm16,
            Rf64Policy::Auto,
            None,
            None,
        )
        .unwrap();
        // Header is 80 bytes; RIFF body = file − 8 must stay ≤ u32::MAX.
        let data = u64::from(u32::MAX) - 72 - 1; // even, so no pad byte
        let block = vec![0u8; 1 << 22];
        let mut left = data;
        while left > 0 {
            let n = left.min(block.len() as u64) as usize;
            enc.write_interleaved(&block[..n]).unwrap();
            left -= n as u64;
        }
        let sink = enc.finish().unwrap();
        assert_eq!(&sink.head[0..4], b"RIFF");
        assert_eq!(sink.len - 8, u64::from(u32::MAX) - 1);
        assert_eq!(&sink.head[12..16], b"JUNK");
    }

    #[test]
    fn masks() {
        assert_eq!(channel_mask(2), 0x3);
        assert_eq!(channel_mask(6), 0x3F);
        assert_eq!(channel_mask(8), 0x63F);
        assert_eq!(channel_mask(9), 0);
    }
}
