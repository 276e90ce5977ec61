//! MP3 encoding through LAME (the `mp3lame-encoder` crate, which builds the
//! LAME sources with the machine's C compiler). Behind the default cargo
//! feature `mp3`; without it, [`crate::FileFormat::Mp3`] is refused when a
//! writer is created.
//!
//! # Gapless: the LAME tag
//!
//! An MP3 decoder cannot know by itself where the music starts and ends:
//! the encoder adds a delay at the start (576 frames for LAME, plus 529 in
//! the decoder's synthesis filterbank) and pads the last MPEG frame. LAME
//! writes the lengths into its "LAME tag", an extension of the Xing/Info
//! header frame ("Mp3 Info Tag rev 1 specifications", the LAME tag spec:
//! "encoder delay" and "padding", 12 bits each, 141 bytes after the
//! `Xing`/`Info` id when the Xing header holds all its fields, as LAME's
//! does). With the library API, LAME puts a placeholder frame
//! first in the stream and hands out the finished tag frame after the
//! flush (`lame_get_lametag_frame`); [`Mp3Encoder::finish`] writes it over
//! the placeholder. Decoders that read the tag (ours via symphonia, ffmpeg,
//! mpg123, foobar2000, iTunes) then play exactly the frames that were
//! written.
//!
//! # Input and limits
//!
//! Samples go to LAME as `f64` (±1.0 full scale); the writer's
//! [`crate::Encoding`] does not apply. MPEG-1 Layer III only: 32, 44.1 or
//! 48 kHz (LAME would otherwise resample behind our back), 1 or 2 channels.
//! The MPEG-1 bit rates are 32–320 kbit/s; 56 kbit/s is not offered by
//! `mp3lame-encoder`.

/// Rate control.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mp3Mode {
    /// Constant bit rate, kbit/s: 32, 40, 48, 64, 80, 96, 112, 128, 160,
    /// 192, 224, 256 or 320.
    Cbr {
        /// Bit rate, kbit/s.
        kbps: u16,
    },
    /// LAME's variable bit rate (`-V`), quality 0 (best, ~245 kbit/s) to 9
    /// (smallest).
    Vbr {
        /// `-V` quality, 0..=9.
        quality: u8,
    },
}

/// MP3 encoder settings. Default: CBR 320 kbit/s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mp3Options {
    /// Rate control.
    pub mode: Mp3Mode,
}

impl Default for Mp3Options {
    fn default() -> Self {
        Mp3Options {
            mode: Mp3Mode::Cbr { kbps: 320 },
        }
    }
}

/// Sample rates of MPEG-1 Layer III.
pub const SAMPLE_RATES_HZ: [u32; 3] = [32_000, 44_100, 48_000];
/// CBR bit rates offered, kbit/s.
pub const CBR_KBPS: [u16; 13] = [32, 40, 48, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];

/// Why `options` cannot be used, if they cannot.
pub(crate) fn check_options(options: &Mp3Options) -> Option<String> {
    match options.mode {
        Mp3Mode::Cbr { kbps } if !CBR_KBPS.contains(&kbps) => Some(format!(
            "CBR at {kbps} kbit/s is not offered; choose one of {CBR_KBPS:?}"
        )),
        Mp3Mode::Vbr { quality } if quality > 9 => Some(format!(
            "VBR quality {quality} is out of range; LAME's -V runs from 0 (best) to 9"
        )),
        _ => None,
    }
}

#[cfg(feature = "mp3")]
pub(crate) use lame::Mp3Encoder;

#[cfg(feature = "mp3")]
mod lame {
    use std::fs::File;
    use std::io::{BufWriter, Seek, SeekFrom, Write};
    use std::num::NonZeroU32;

    use mp3lame_encoder::{
        Bitrate, Builder, DualPcm, Encoder, FlushGap, Mode, MonoPcm, Quality, VbrMode,
    };

    use super::{Mp3Mode, Mp3Options};

    /// Streaming MP3 encoder over the temporary output file.
    pub(crate) struct Mp3Encoder {
        lame: Encoder,
        out: BufWriter<File>,
        /// Offset of the first MPEG frame (after the ID3v2 tag): the
        /// placeholder for the LAME tag.
        stream_start: u64,
        channels: usize,
        buf: Vec<u8>,
    }

    impl std::fmt::Debug for Mp3Encoder {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("Mp3Encoder")
                .field("channels", &self.channels)
                .finish_non_exhaustive()
        }
    }

    fn quality(q: u8) -> Quality {
        match q {
            0 => Quality::Best,
            1 => Quality::SecondBest,
            2 => Quality::NearBest,
            3 => Quality::VeryNice,
            4 => Quality::Nice,
            5 => Quality::Good,
            6 => Quality::Decent,
            7 => Quality::Ok,
            8 => Quality::SecondWorst,
            _ => Quality::Worst,
        }
    }

    fn bitrate(kbps: u16) -> Option<Bitrate> {
        Some(match kbps {
            32 => Bitrate::Kbps32,
            40 => Bitrate::Kbps40,
            48 => Bitrate::Kbps48,
            64 => Bitrate::Kbps64,
            80 => Bitrate::Kbps80,
            96 => Bitrate::Kbps96,
            112 => Bitrate::Kbps112,
            128 => Bitrate::Kbps128,
            160 => Bitrate::Kbps160,
            192 => Bitrate::Kbps192,
            224 => Bitrate::Kbps224,
            256 => Bitrate::Kbps256,
            320 => Bitrate::Kbps320,
            _ => return None,
        })
    }

    impl Mp3Encoder {
        /// Sets LAME up and writes `id3` (a complete ID3v2 tag) first. The
        /// caller has checked rate, channels and options.
        pub(crate) fn new(
            file: File,
            sample_rate_hz: u32,
            channels: usize,
            options: &Mp3Options,
            id3: Option<&[u8]>,
        ) -> Result<Self, String> {
            let e = |what: &str, err: &dyn std::fmt::Display| format!("LAME {what}: {err}");
            let mut b = Builder::new().ok_or("LAME could not allocate an encoder")?;
            let ch = u8::try_from(channels).map_err(|_| "too many channels".to_string())?;
            b.set_num_channels(ch).map_err(|x| e("channels", &x))?;
            b.set_sample_rate(sample_rate_hz)
                .map_err(|x| e("sample rate", &x))?;
            b.set_output_sample_rate(NonZeroU32::new(sample_rate_hz))
                .map_err(|x| e("output sample rate", &x))?;
            b.set_mode(if channels == 1 {
                Mode::Mono
            } else {
                Mode::JointStereo
            })
            .map_err(|x| e("mode", &x))?;
            // -q 2: LAME's "near-best" noise shaping, its recommended setting.
            b.set_quality(Quality::NearBest)
                .map_err(|x| e("quality", &x))?;
            match options.mode {
                Mp3Mode::Cbr { kbps } => {
                    let rate = bitrate(kbps).ok_or_else(|| format!("no CBR rate {kbps}"))?;
                    b.set_vbr_mode(VbrMode::Off).map_err(|x| e("CBR", &x))?;
                    b.set_brate(rate).map_err(|x| e("bit rate", &x))?;
                }
                Mp3Mode::Vbr { quality: q } => {
                    b.set_vbr_mode(VbrMode::Mtrh).map_err(|x| e("VBR", &x))?;
                    b.set_vbr_quality(quality(q))
                        .map_err(|x| e("VBR quality", &x))?;
                }
            }
            b.set_to_write_vbr_tag(true)
                .map_err(|x| e("LAME tag", &x))?;
            let lame = b.build().map_err(|x| e("set-up", &x))?;
            let mut out = BufWriter::with_capacity(256 * 1024, file);
            let mut stream_start = 0;
            if let Some(tag) = id3 {
                out.write_all(tag).map_err(|x| e("write", &x))?;
                stream_start = tag.len() as u64;
            }
            Ok(Mp3Encoder {
                lame,
                out,
                stream_start,
                channels,
                buf: Vec::new(),
            })
        }

        /// Encodes one planar block (1 or 2 channels of equal length).
        pub(crate) fn write(&mut self, channels: &[&[f64]]) -> Result<(), String> {
            let frames = channels.first().map_or(0, |c| c.len());
            self.buf.clear();
            self.buf
                .reserve(mp3lame_encoder::max_required_buffer_size(frames));
            let result = if self.channels == 1 {
                self.lame.encode_to_vec(MonoPcm(channels[0]), &mut self.buf)
            } else {
                self.lame.encode_to_vec(
                    DualPcm {
                        left: channels[0],
                        right: channels[1],
                    },
                    &mut self.buf,
                )
            };
            result.map_err(|x| format!("LAME encode: {x}"))?;
            self.out
                .write_all(&self.buf)
                .map_err(|x| format!("write: {x}"))
        }

        /// Flushes LAME, writes the LAME tag over its placeholder and returns
        /// the flushed file.
        pub(crate) fn finish(mut self) -> Result<File, String> {
            self.buf.clear();
            // LAME's documentation asks for at least 7200 bytes for the flush.
            self.buf.reserve(7200);
            self.lame
                .flush_to_vec::<FlushGap>(&mut self.buf)
                .map_err(|x| format!("LAME flush: {x}"))?;
            self.out
                .write_all(&self.buf)
                .map_err(|x| format!("write: {x}"))?;
            let mut tag = Vec::with_capacity(self.lame.lame_tag_size());
            self.lame
                .lame_tag_encode_to_vec(&mut tag)
                .ok_or("LAME did not produce its LAME tag frame")?;
            let io = |x: std::io::Error| format!("write: {x}");
            self.out
                .seek(SeekFrom::Start(self.stream_start))
                .map_err(io)?;
            self.out.write_all(&tag).map_err(io)?;
            self.out.seek(SeekFrom::End(0)).map_err(io)?;
            self.out.flush().map_err(io)?;
            self.out.into_inner().map_err(|x| io(x.into_error()))
        }
    }
}
