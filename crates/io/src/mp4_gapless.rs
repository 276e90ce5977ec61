//! Gapless trimming information of MP4/M4A audio, which symphonia 0.6's
//! ISO/MP4 reader does not apply.
//!
//! AAC encoders prepend "priming" frames (ffmpeg: 1024, Apple: 2112) and pad
//! the last packet; the file says how much to drop in one of two places:
//!
//! 1. the edit list (`moov/trak/edts/elst`, ISO/IEC 14496-12 §8.6.6): the
//!    first non-empty edit starts at `media_time` (media timescale) and lasts
//!    `segment_duration` (movie timescale);
//! 2. Apple's `iTunSMPB` tag (`moov/udta/meta/ilst/----`): hex fields
//!    "0 delay padding original_length".
//!
//! The edit list wins when both are present. Its duration is in the movie
//! timescale, which ffmpeg sets to 1000 Hz, so it is only exact to a
//! millisecond; the track's media duration (`mdhd`, in frames) minus the
//! start offset is exact, and is used when it agrees with the edit to within
//! one movie tick. Empty edits (`media_time` = −1, a delayed start) and any
//! edits after the first non-empty one are ignored.
//!
//! Only the small boxes on the way are read; `mdat` and the sample tables are
//! skipped by seeking, so memory does not grow with the file.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

/// Frames to drop at the start, and the frames to keep after that.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Mp4Gapless {
    /// Decoded frames to discard before the first output frame.
    pub(crate) skip_frames: u64,
    /// Frames of output after the skip, when the file says.
    pub(crate) keep_frames: Option<u64>,
    /// Where the figures came from, for diagnostics.
    pub(crate) source: &'static str,
}

/// Reads the gapless information of the first sound track of an MP4 file.
/// Any parse failure gives `None`: this is best effort on top of a file
/// symphonia has already accepted.
pub(crate) fn read(path: &Path, sample_rate_hz: u32) -> Option<Mp4Gapless> {
    let file = File::open(path).ok()?;
    let len = file.metadata().ok()?.len();
    let mut r = BufReader::new(file);
    let moov = find_child(&mut r, 0, len, b"moov")?;
    let mut movie_timescale = None;
    let mut track: Option<TrackTimes> = None;
    let mut smpb = None;
    for (kind, start, end) in children(&mut r, moov.0, moov.1) {
        match &kind {
            b"mvhd" => movie_timescale = read_timescale(&mut r, start).map(|(ts, _)| ts),
            b"trak" if track.is_none() => track = read_trak(&mut r, start, end),
            b"udta" => smpb = read_itunsmpb(&mut r, start, end),
            _ => {}
        }
    }
    let track = track?;
    let to_frames = |media: u64| -> u64 {
        if track.media_timescale == sample_rate_hz || track.media_timescale == 0 {
            media
        } else {
            ((u128::from(media) * u128::from(sample_rate_hz)
                + u128::from(track.media_timescale) / 2)
                / u128::from(track.media_timescale)) as u64
        }
    };
    if let Some((segment_duration, media_time)) = track.first_edit {
        let skip = media_time;
        let mut keep = track.media_duration.map(|d| d.saturating_sub(skip));
        if let (Some(movie_ts), true) = (movie_timescale, segment_duration > 0)
            && movie_ts > 0
        {
            // Edit duration in media units, rounded up: the edit is exact
            // only to one movie tick.
            let edit = (u128::from(segment_duration) * u128::from(track.media_timescale))
                .div_ceil(u128::from(movie_ts)) as u64;
            keep = Some(keep.map_or(edit, |k| k.min(edit)));
        }
        if skip > 0 || keep.is_some() {
            return Some(Mp4Gapless {
                skip_frames: to_frames(skip),
                keep_frames: keep.map(to_frames),
                source: "edit list",
            });
        }
    }
    smpb.map(|(delay, _padding, original)| Mp4Gapless {
        skip_frames: delay,
        keep_frames: (original > 0).then_some(original),
        source: "iTunSMPB",
    })
}

/// What one `trak` says about timing.
#[derive(Debug)]
struct TrackTimes {
    media_timescale: u32,
    media_duration: Option<u64>,
    /// (segment_duration in movie units, media_time in media units) of the
    /// first non-empty edit.
    first_edit: Option<(u64, u64)>,
}

fn read_trak(r: &mut BufReader<File>, start: u64, end: u64) -> Option<TrackTimes> {
    let mut first_edit = None;
    let mut media = None;
    let mut is_sound = false;
    for (kind, s, e) in children(r, start, end) {
        match &kind {
            b"edts" => {
                if let Some((es, ee)) = find_child(r, s, e, b"elst") {
                    first_edit = read_elst(r, es, ee);
                }
            }
            b"mdia" => {
                for (k, ms, me) in children(r, s, e) {
                    match &k {
                        b"mdhd" => media = read_timescale(r, ms),
                        b"hdlr" => {
                            // version/flags (4), pre_defined (4), handler_type (4)
                            let body = read_body(r, ms, me.min(ms + 12), 12)?;
                            is_sound = body.get(8..12) == Some(b"soun".as_slice());
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    if !is_sound {
        return None;
    }
    let (media_timescale, duration) = media?;
    Some(TrackTimes {
        media_timescale,
        media_duration: (duration != 0 && duration != u64::from(u32::MAX) && duration != u64::MAX)
            .then_some(duration),
        first_edit,
    })
}

/// `mvhd`/`mdhd`: (timescale, duration).
fn read_timescale(r: &mut BufReader<File>, start: u64) -> Option<(u32, u64)> {
    r.seek(SeekFrom::Start(start)).ok()?;
    let mut b = [0u8; 32];
    r.read_exact(&mut b[..20]).ok()?;
    if b[0] == 1 {
        r.read_exact(&mut b[20..32]).ok()?;
        let ts = u32::from_be_bytes([b[20], b[21], b[22], b[23]]);
        let dur = u64::from_be_bytes([b[24], b[25], b[26], b[27], b[28], b[29], b[30], b[31]]);
        Some((ts, dur))
    } else {
        let ts = u32::from_be_bytes([b[12], b[13], b[14], b[15]]);
        let dur = u32::from_be_bytes([b[16], b[17], b[18], b[19]]);
        Some((ts, u64::from(dur)))
    }
}

fn read_elst(r: &mut BufReader<File>, start: u64, end: u64) -> Option<(u64, u64)> {
    let body = read_body(r, start, end, 64 * 1024)?;
    let version = *body.first()?;
    let count = u32::from_be_bytes(body.get(4..8)?.try_into().ok()?) as usize;
    let entry = if version == 1 { 20 } else { 12 };
    for i in 0..count {
        let e = body.get(8 + i * entry..8 + (i + 1) * entry)?;
        let (duration, media_time) = if version == 1 {
            (
                u64::from_be_bytes(e[0..8].try_into().ok()?),
                i64::from_be_bytes(e[8..16].try_into().ok()?),
            )
        } else {
            (
                u64::from(u32::from_be_bytes(e[0..4].try_into().ok()?)),
                i64::from(i32::from_be_bytes(e[4..8].try_into().ok()?)),
            )
        };
        if media_time >= 0 {
            return Some((duration, media_time as u64));
        }
    }
    None
}

/// `udta/meta/ilst/----` with name `iTunSMPB`: (delay, padding, original length).
fn read_itunsmpb(r: &mut BufReader<File>, start: u64, end: u64) -> Option<(u64, u64, u64)> {
    let (ms, me) = find_child(r, start, end, b"meta")?;
    // `meta` is a full box in ISO files (4 bytes of version and flags) but a
    // plain container in some QuickTime writers; look for `ilst` both ways.
    let (ls, le) = find_child(r, ms + 4, me, b"ilst").or_else(|| find_child(r, ms, me, b"ilst"))?;
    for (kind, s, e) in children(r, ls, le) {
        if &kind != b"----" {
            continue;
        }
        let mut name = None;
        let mut data = None;
        for (k, cs, ce) in children(r, s, e) {
            match &k {
                b"name" => {
                    name = read_body(r, cs, ce, 256).map(|b| b.get(4..).unwrap_or(&[]).to_vec())
                }
                b"data" => {
                    data = read_body(r, cs, ce, 1024).map(|b| b.get(8..).unwrap_or(&[]).to_vec())
                }
                _ => {}
            }
        }
        if name.as_deref() == Some(b"iTunSMPB") {
            return parse_itunsmpb(&String::from_utf8_lossy(&data?));
        }
    }
    None
}

/// Parses " 00000000 00000840 000001CA 00000000003F31F6 …".
pub(crate) fn parse_itunsmpb(text: &str) -> Option<(u64, u64, u64)> {
    let mut fields = text.split_whitespace().map(|f| u64::from_str_radix(f, 16));
    let _ = fields.next()?.ok()?;
    let delay = fields.next()?.ok()?;
    let padding = fields.next()?.ok()?;
    let original = fields.next()?.ok()?;
    Some((delay, padding, original))
}

fn read_body(r: &mut BufReader<File>, start: u64, end: u64, max: u64) -> Option<Vec<u8>> {
    let len = end.checked_sub(start)?;
    if len > max {
        return None;
    }
    r.seek(SeekFrom::Start(start)).ok()?;
    let mut b = vec![0u8; len as usize];
    r.read_exact(&mut b).ok()?;
    Some(b)
}

fn find_child(r: &mut BufReader<File>, start: u64, end: u64, kind: &[u8; 4]) -> Option<(u64, u64)> {
    children(r, start, end)
        .into_iter()
        .find(|(k, ..)| k == kind)
        .map(|(_, s, e)| (s, e))
}

/// The child boxes of the byte range `start..end`: (type, body start, end).
fn children(r: &mut BufReader<File>, start: u64, end: u64) -> Vec<([u8; 4], u64, u64)> {
    let mut out = Vec::new();
    let mut pos = start;
    while pos + 8 <= end && out.len() < 4096 {
        if r.seek(SeekFrom::Start(pos)).is_err() {
            break;
        }
        let mut h = [0u8; 8];
        if r.read_exact(&mut h).is_err() {
            break;
        }
        let size32 = u32::from_be_bytes([h[0], h[1], h[2], h[3]]);
        let kind = [h[4], h[5], h[6], h[7]];
        let (size, header) = match size32 {
            0 => (end - pos, 8),
            1 => {
                let mut l = [0u8; 8];
                if r.read_exact(&mut l).is_err() {
                    break;
                }
                (u64::from_be_bytes(l), 16)
            }
            n => (u64::from(n), 8),
        };
        if size < header || pos + size > end {
            break;
        }
        out.push((kind, pos + header, pos + size));
        pos += size;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn itunsmpb_fields() {
        let s = " 00000000 00000840 000001CA 00000000003F31F6 00000000 00000000";
        assert_eq!(parse_itunsmpb(s), Some((0x840, 0x1CA, 0x3F31F6)));
        assert_eq!(parse_itunsmpb("garbage"), None);
    }
}
