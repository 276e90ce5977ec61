//! ID3v2 tags for MP3: writing version 2.4 with UTF-8 text (ID3v2.4.0
//! "Main structure" §3 and "Native frames" §4), reading 2.3 and 2.4.
//!
//! Frames written: `TIT2` title, `TPE1` artist, `TALB` album, `TPE2` album
//! artist, `TRCK` `n` or `n/total`, `TPOS` disc, `TDRC` date, `TCON` genre,
//! `COMM` comment, `TSRC` ISRC, and `TXXX` user frames for ReplayGain
//! (`REPLAYGAIN_TRACK_GAIN`, …, as foobar2000, ffmpeg and mp3gain write
//! them) and for [`Tags::extra`]. The tag ends with [`PADDING`] zero bytes
//! so a tag editor can change it later without rewriting the audio.
// Without the `mp3` feature only the reader is used.
#![cfg_attr(not(feature = "mp3"), allow(dead_code))]

use std::fs::File;
use std::io::Read;
use std::path::Path;

use crate::error::IoError;
use crate::metadata::{Tags, set_from_pair};

/// Zero bytes after the frames (ID3v2.4 §3.3 padding).
pub const PADDING: usize = 1024;

/// Text encoding byte for UTF-8 (ID3v2.4 §4.2).
const UTF8: u8 = 3;

/// The complete ID3v2.4 tag (header, frames, padding), or `None` when
/// `tags` is empty. The caller has validated `tags`.
pub(crate) fn encode(tags: &Tags) -> Option<Vec<u8>> {
    if tags.is_empty() {
        return None;
    }
    let mut frames = Vec::new();
    let mut text = |id: &[u8; 4], value: &str| {
        let mut body = vec![UTF8];
        body.extend_from_slice(value.as_bytes());
        push_frame(&mut frames, id, &body);
    };
    if let Some(v) = &tags.title {
        text(b"TIT2", v);
    }
    if let Some(v) = &tags.artist {
        text(b"TPE1", v);
    }
    if let Some(v) = &tags.album {
        text(b"TALB", v);
    }
    if let Some(v) = &tags.album_artist {
        text(b"TPE2", v);
    }
    match (tags.track_number, tags.track_total) {
        (Some(n), Some(t)) => text(b"TRCK", &format!("{n}/{t}")),
        (Some(n), None) => text(b"TRCK", &n.to_string()),
        _ => {}
    }
    if let Some(d) = tags.disc_number {
        text(b"TPOS", &d.to_string());
    }
    if let Some(v) = &tags.date {
        text(b"TDRC", v);
    }
    if let Some(v) = &tags.genre {
        text(b"TCON", v);
    }
    if let Some(Ok(isrc)) = tags.normalized_isrc() {
        text(b"TSRC", &isrc);
    }
    if let Some(v) = &tags.comment {
        // encoding, language, empty short description, text
        let mut body = vec![UTF8];
        body.extend_from_slice(b"eng\0");
        body.extend_from_slice(v.as_bytes());
        push_frame(&mut frames, b"COMM", &body);
    }
    let mut user: Vec<(String, String)> = Vec::new();
    if let (None, Some(t)) = (tags.track_number, tags.track_total) {
        user.push(("TRACKTOTAL".into(), t.to_string()));
    }
    user.extend(
        tags.replay_gain
            .to_pairs()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v)),
    );
    user.extend(tags.extra.iter().cloned());
    for (key, value) in user {
        let mut body = vec![UTF8];
        body.extend_from_slice(key.as_bytes());
        body.push(0);
        body.extend_from_slice(value.as_bytes());
        push_frame(&mut frames, b"TXXX", &body);
    }
    let size = frames.len() + PADDING;
    let mut tag = Vec::with_capacity(10 + size);
    tag.extend_from_slice(b"ID3\x04\x00\x00");
    tag.extend_from_slice(&syncsafe(size as u32));
    tag.extend_from_slice(&frames);
    tag.resize(10 + size, 0);
    Some(tag)
}

fn push_frame(out: &mut Vec<u8>, id: &[u8; 4], body: &[u8]) {
    out.extend_from_slice(id);
    out.extend_from_slice(&syncsafe(body.len() as u32));
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(body);
}

/// A 28-bit number as four 7-bit bytes (ID3v2.4 §6.2). Tag and frame sizes
/// here stay far below 2^28.
fn syncsafe(n: u32) -> [u8; 4] {
    [
        (n >> 21 & 0x7F) as u8,
        (n >> 14 & 0x7F) as u8,
        (n >> 7 & 0x7F) as u8,
        (n & 0x7F) as u8,
    ]
}

fn unsyncsafe(b: &[u8]) -> usize {
    b.iter()
        .fold(0usize, |acc, &x| (acc << 7) | usize::from(x & 0x7F))
}

/// Undoes unsynchronisation: `FF 00` → `FF` (ID3v2.4 §6.1).
fn resync(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(b.len());
    let mut prev_ff = false;
    for &x in b {
        if !(prev_ff && x == 0) {
            out.push(x);
        }
        prev_ff = x == 0xFF;
    }
    out
}

/// Reads the ID3v2.3/2.4 tag at the start of `path` into [`Tags`]. Frames
/// outside the list in the module docs are ignored; `TXXX` frames other
/// than ReplayGain land in [`Tags::extra`].
pub(crate) fn read_tags(path: &Path) -> Result<Tags, IoError> {
    let malformed = |detail: String| IoError::Malformed {
        path: path.to_path_buf(),
        container: "ID3v2",
        detail,
    };
    let mut file = File::open(path).map_err(|e| IoError::read(path, e))?;
    let mut head = [0u8; 10];
    file.read_exact(&mut head)
        .map_err(|_| malformed("file ends inside the tag header".into()))?;
    let mut tags = Tags::default();
    let version = head[3];
    if &head[..3] != b"ID3" || !(3..=4).contains(&version) {
        return Ok(tags);
    }
    let flags = head[5];
    let size = unsyncsafe(&head[6..10]);
    let mut body = vec![0u8; size];
    file.read_exact(&mut body)
        .map_err(|_| malformed(format!("file ends inside the {size}-byte tag")))?;
    if version == 3 && flags & 0x80 != 0 {
        body = resync(&body);
    }
    let mut pos = 0;
    if flags & 0x40 != 0 && body.len() >= 4 {
        // Extended header: v2.4 counts itself (syncsafe), v2.3 does not.
        pos = if version == 4 {
            unsyncsafe(&body[..4])
        } else {
            4 + u32::from_be_bytes([body[0], body[1], body[2], body[3]]) as usize
        };
    }
    while pos + 10 <= body.len() && body[pos] != 0 {
        let id: [u8; 4] = [body[pos], body[pos + 1], body[pos + 2], body[pos + 3]];
        let size = if version == 4 {
            unsyncsafe(&body[pos + 4..pos + 8])
        } else {
            u32::from_be_bytes([body[pos + 4], body[pos + 5], body[pos + 6], body[pos + 7]])
                as usize
        };
        let format_flags = body[pos + 9];
        let start = pos + 10;
        let Some(raw) = body.get(start..start + size) else {
            return Err(malformed(format!(
                "frame {} of {size} bytes runs past the tag",
                String::from_utf8_lossy(&id)
            )));
        };
        pos = start + size;
        // Compressed or encrypted frames: skip (v2.3 flags 0x80/0x40, v2.4 0x08/0x04).
        let skip_mask = if version == 4 { 0x0C } else { 0xC0 };
        if format_flags & skip_mask != 0 {
            continue;
        }
        let mut frame = raw.to_vec();
        if version == 4 {
            if format_flags & 0x02 != 0 {
                frame = resync(&frame);
            }
            if format_flags & 0x01 != 0 && frame.len() >= 4 {
                frame.drain(..4);
            }
        }
        read_frame(&mut tags, &id, &frame);
    }
    Ok(tags)
}

fn read_frame(tags: &mut Tags, id: &[u8; 4], frame: &[u8]) {
    let Some((&enc, data)) = frame.split_first() else {
        return;
    };
    let key = match id {
        b"TIT2" => "TITLE",
        b"TPE1" => "ARTIST",
        b"TALB" => "ALBUM",
        b"TPE2" => "ALBUMARTIST",
        b"TRCK" => "TRACKNUMBER",
        b"TPOS" => "DISCNUMBER",
        b"TDRC" | b"TYER" => "DATE",
        b"TCON" => "GENRE",
        b"TSRC" => "ISRC",
        b"COMM" => {
            // language (3), short description, terminator, text
            let Some(rest) = data.get(3..) else { return };
            let parts = split_terminated(enc, rest);
            if let Some(text) = parts.get(1) {
                set_from_pair(tags, "COMMENT", text);
            }
            return;
        }
        b"TXXX" => {
            let parts = split_terminated(enc, data);
            if let (Some(k), Some(v)) = (parts.first(), parts.get(1)) {
                set_from_pair(tags, k, v);
            }
            return;
        }
        _ => return,
    };
    if let Some(text) = split_terminated(enc, data).first() {
        set_from_pair(tags, key, text);
    }
}

/// Decodes `data` in ID3 text encoding `enc` and splits it at string
/// terminators (one NUL, or two for UTF-16).
fn split_terminated(enc: u8, data: &[u8]) -> Vec<String> {
    let decoded = match enc {
        0 => data.iter().map(|&b| char::from(b)).collect::<String>(),
        1 | 2 => {
            let units: Vec<u16> = data
                .chunks_exact(2)
                .map(|p| u16::from_be_bytes([p[0], p[1]]))
                .collect();
            let mut little = false;
            // Every string of encoding 1 starts with its own BOM.
            let mut out = String::new();
            for part in units.split(|&u| u == 0) {
                let mut s: &[u16] = part;
                if enc == 1 {
                    match s.first() {
                        Some(0xFFFE) => {
                            little = true;
                            s = &s[1..];
                        }
                        Some(0xFEFF) => {
                            little = false;
                            s = &s[1..];
                        }
                        _ => {}
                    }
                }
                let fixed: Vec<u16> = s
                    .iter()
                    .map(|&u| if little { u.swap_bytes() } else { u })
                    .collect();
                out.push_str(&String::from_utf16_lossy(&fixed));
                out.push('\0');
            }
            out
        }
        _ => String::from_utf8_lossy(data).into_owned(),
    };
    let mut parts: Vec<String> = decoded.split('\0').map(str::to_string).collect();
    while parts.last().is_some_and(String::is_empty) {
        parts.pop();
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syncsafe_round_trip() {
        for n in [0u32, 127, 128, 1024, 0x0FFF_FFFF] {
            assert_eq!(unsyncsafe(&syncsafe(n)), n as usize);
        }
        assert_eq!(syncsafe(257), [0, 0, 2, 1]);
    }

    #[test]
    fn text_encodings() {
        assert_eq!(split_terminated(0, b"Caf\xe9\0"), vec!["Café"]);
        assert_eq!(split_terminated(3, b"key\0value"), vec!["key", "value"]);
        // UTF-16 with a little-endian BOM: "Hi"
        assert_eq!(split_terminated(1, b"\xff\xfeH\0i\0\0\0"), vec!["Hi"]);
        assert_eq!(resync(&[0xFF, 0x00, 0xE0, 0x00]), vec![0xFF, 0xE0, 0x00]);
    }
}
