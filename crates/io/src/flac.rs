//! FLAC encoding through the `flac-codec` crate (RFC 9639).
//!
//! 16- and 24-bit integer only — FLAC has no floating-point samples — with
//! 1 to 8 channels (the format's limit) and rates below 2^20 Hz. Encoder
//! settings are `flac-codec`'s defaults: 4096-frame blocks, LPC up to order
//! 8, mid/side stereo, a seek table and 4 KiB of padding; STREAMINFO (total
//! frames, MD5 of the audio) is written when the encoder finishes. Tags go
//! in a VORBIS_COMMENT block (RFC 9639 §8.6) as `KEY=value` UTF-8 fields,
//! keys as listed in [`crate::metadata`].
//!
//! `flac-codec` owns its sink and does not give it back, so the sink is a
//! shared handle to our buffered temporary file; after finishing we take the
//! buffer back and flush it ourselves, so a failed final write is an error
//! rather than a silently short file.

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::sync::{Arc, Mutex};

use std::path::Path;

use flac_codec::encode::{FlacChannelWriter, Options};
use flac_codec::metadata::VorbisComment;

use crate::error::IoError;
use crate::metadata::Tags;

/// Largest channel count FLAC can store.
pub const MAX_CHANNELS: usize = 8;
/// Sample rates must be below this (20-bit STREAMINFO field).
pub const MAX_SAMPLE_RATE_HZ: u32 = (1 << 20) - 1;

/// A `Write + Seek` handle that the FLAC writer owns while we keep a second
/// handle to recover the buffered file.
#[derive(Debug, Clone)]
struct SharedSink(Arc<Mutex<BufWriter<File>>>);

impl SharedSink {
    fn lock(&self) -> std::io::Result<std::sync::MutexGuard<'_, BufWriter<File>>> {
        self.0
            .lock()
            .map_err(|_| std::io::Error::other("FLAC sink poisoned by an earlier panic"))
    }
}

impl Write for SharedSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.lock()?.write(buf)
    }
    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.lock()?.write_all(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.lock()?.flush()
    }
}

impl Seek for SharedSink {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        self.lock()?.seek(pos)
    }
    fn stream_position(&mut self) -> std::io::Result<u64> {
        self.lock()?.stream_position()
    }
}

/// Streaming FLAC encoder over the temporary output file.
pub(crate) struct FlacEncoder {
    writer: FlacChannelWriter<SharedSink>,
    sink: SharedSink,
}

impl std::fmt::Debug for FlacEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlacEncoder").finish_non_exhaustive()
    }
}

impl FlacEncoder {
    /// Writes the metadata header, with a VORBIS_COMMENT block when `tags`
    /// (`KEY`, value) is not empty. The caller has checked the channel
    /// count, rate, bit depth and tag keys.
    pub(crate) fn new(
        file: File,
        sample_rate_hz: u32,
        channels: usize,
        bits: u32,
        tags: &[(String, String)],
    ) -> Result<Self, String> {
        let sink = SharedSink(Arc::new(Mutex::new(BufWriter::with_capacity(
            256 * 1024,
            file,
        ))));
        let channels = u8::try_from(channels).map_err(|_| "too many channels".to_string())?;
        let mut options = Options::default();
        if !tags.is_empty() {
            options = options.comment(VorbisComment {
                fields: tags.iter().map(|(k, v)| format!("{k}={v}")).collect(),
                ..VorbisComment::default()
            });
        }
        let writer =
            FlacChannelWriter::new(sink.clone(), options, sample_rate_hz, bits, channels, None)
                .map_err(|e| e.to_string())?;
        Ok(FlacEncoder { writer, sink })
    }

    /// Encodes one block of planar integer samples.
    pub(crate) fn write(&mut self, channels: &[Vec<i32>]) -> Result<(), String> {
        self.writer.write(channels).map_err(|e| e.to_string())
    }

    /// Encodes what is buffered, writes STREAMINFO and the seek table, and
    /// returns the flushed file.
    pub(crate) fn finish(self) -> Result<File, String> {
        let FlacEncoder { writer, sink } = self;
        writer.finalize().map_err(|e| e.to_string())?;
        let mutex = Arc::try_unwrap(sink.0)
            .map_err(|_| "FLAC writer still holds the output file".to_string())?;
        let buffered = mutex
            .into_inner()
            .map_err(|_| "FLAC sink poisoned by an earlier panic".to_string())?;
        buffered.into_inner().map_err(|e| e.error().to_string())
    }
}

/// The Vorbis comments of a FLAC file as [`Tags`] (see
/// [`crate::metadata::read_tags`]).
pub(crate) fn read_tags(path: &Path) -> Result<Tags, IoError> {
    let comment = flac_codec::metadata::block::<_, VorbisComment>(path).map_err(|e| match e {
        flac_codec::Error::Io(io) => IoError::read(path, io),
        other => IoError::Malformed {
            path: path.to_path_buf(),
            container: "FLAC",
            detail: other.to_string(),
        },
    })?;
    let mut tags = Tags::default();
    for field in comment.iter().flat_map(|c| &c.fields) {
        if let Some((k, v)) = field.split_once('=') {
            crate::metadata::set_from_pair(&mut tags, k, v);
        }
    }
    Ok(tags)
}
