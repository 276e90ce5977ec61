//! Tags in a WAV file: the RIFF `LIST` chunk of type `INFO` (Microsoft
//! "Multimedia Programming Interface and Data Specifications 1.0", 1991,
//! §3-8 "INFO List Chunk").
//!
//! Each entry is a sub-chunk with a four-character id and a NUL-terminated
//! string, padded to an even length. We write text as UTF-8 (what ffmpeg
//! and most tools read and write today). Only the ids below have a clear
//! meaning; the other fields of [`Tags`] have no place in WAV and are
//! refused by the writer (see [`crate::metadata`]).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use crate::error::IoError;
use crate::metadata::Tags;
use crate::riff::find_chunks;

/// (INFO id, Vorbis-comment key) pairs.
const IDS: [(&[u8; 4], &str); 7] = [
    (b"INAM", "TITLE"),
    (b"IART", "ARTIST"),
    (b"IPRD", "ALBUM"),
    (b"ITRK", "TRACKNUMBER"),
    (b"ICRD", "DATE"),
    (b"IGNR", "GENRE"),
    (b"ICMT", "COMMENT"),
];

/// Why `tags` cannot be stored in WAV, if they cannot.
pub(crate) fn unsupported_field(tags: &Tags) -> Option<&'static str> {
    if tags.isrc.is_some() {
        Some("an ISRC")
    } else if !tags.replay_gain.is_empty() {
        Some("ReplayGain values")
    } else if tags.album_artist.is_some() {
        Some("an album artist")
    } else if tags.disc_number.is_some() {
        Some("a disc number")
    } else if tags.track_total.is_some() {
        Some("a track total")
    } else if !tags.extra.is_empty() {
        Some("extra tag pairs")
    } else {
        None
    }
}

/// The payload of a `LIST` chunk (starting with `INFO`), or `None` when
/// there is nothing to write.
pub(crate) fn encode(tags: &Tags) -> Option<Vec<u8>> {
    let values = [
        tags.title.clone(),
        tags.artist.clone(),
        tags.album.clone(),
        tags.track_number.map(|n| n.to_string()),
        tags.date.clone(),
        tags.genre.clone(),
        tags.comment.clone(),
    ];
    let mut b = b"INFO".to_vec();
    for ((id, _), value) in IDS.iter().zip(values) {
        let Some(v) = value else { continue };
        let size = v.len() + 1;
        b.extend_from_slice(*id);
        b.extend_from_slice(&(size as u32).to_le_bytes());
        b.extend_from_slice(v.as_bytes());
        b.push(0);
        if size % 2 == 1 {
            b.push(0);
        }
    }
    (b.len() > 4).then_some(b)
}

/// Reads the `LIST/INFO` tags of a WAVE file.
pub(crate) fn read_tags(path: &Path) -> Result<Tags, IoError> {
    let mut tags = Tags::default();
    let mut file = File::open(path).map_err(|e| IoError::read(path, e))?;
    // A file may hold several LIST chunks (adtl, INFO): take the INFO one.
    let mut b = Vec::new();
    for at in find_chunks(path, &mut file, b"LIST", false)? {
        if at.size < 4 || at.size > 1 << 20 {
            continue;
        }
        b = vec![0u8; at.size as usize];
        file.seek(SeekFrom::Start(at.offset))
            .and_then(|_| file.read_exact(&mut b))
            .map_err(|e| IoError::read(path, e))?;
        if &b[..4] == b"INFO" {
            break;
        }
        b.clear();
    }
    if b.is_empty() {
        return Ok(tags);
    }
    let mut pos = 4;
    while pos + 8 <= b.len() {
        let id = &b[pos..pos + 4];
        let size = u32::from_le_bytes([b[pos + 4], b[pos + 5], b[pos + 6], b[pos + 7]]) as usize;
        let body = b.get(pos + 8..pos + 8 + size).unwrap_or(&[]);
        let end = body.iter().position(|&c| c == 0).unwrap_or(body.len());
        let value = String::from_utf8_lossy(&body[..end]).into_owned();
        if let Some((_, key)) = IDS.iter().find(|(i, _)| i.as_slice() == id) {
            crate::metadata::set_from_pair(&mut tags, key, &value);
        }
        pos += 8 + size + (size & 1);
    }
    Ok(tags)
}
