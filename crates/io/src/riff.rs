//! Finding a chunk in a finished RIFF/RF64/BW64 WAVE file, for the metadata
//! readers ([`crate::bext`], [`crate::riff_info`]). The sample reader is
//! [`crate::wav_reader`].

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use crate::error::IoError;

/// Where a chunk's payload is.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ChunkAt {
    /// Offset of the payload (after the 8-byte chunk header).
    pub offset: u64,
    /// Payload bytes.
    pub size: u64,
}

/// The first chunk with `id` in the WAVE file `file`, or `None` when the
/// file is not WAVE or has no such chunk.
pub(crate) fn find_chunk(
    path: &Path,
    file: &mut File,
    id: &[u8; 4],
) -> Result<Option<ChunkAt>, IoError> {
    Ok(find_chunks(path, file, id, true)?.into_iter().next())
}

/// Every chunk with `id` in the WAVE file `file` (only the first when
/// `first_only`), in file order. Walks past an RF64/BW64 `data` chunk
/// using the `ds64` data size (EBU Tech 3306 §3.3).
pub(crate) fn find_chunks(
    path: &Path,
    file: &mut File,
    id: &[u8; 4],
    first_only: bool,
) -> Result<Vec<ChunkAt>, IoError> {
    let mut found = Vec::new();
    let read_err = |e: std::io::Error| IoError::read(path, e);
    let len = file.metadata().map_err(read_err)?.len();
    file.seek(SeekFrom::Start(0)).map_err(read_err)?;
    let mut head = [0u8; 12];
    if len < 12 {
        return Ok(found);
    }
    file.read_exact(&mut head).map_err(read_err)?;
    let wide = match &head[0..4] {
        b"RIFF" => false,
        b"RF64" | b"BW64" => true,
        _ => return Ok(found),
    };
    if &head[8..12] != b"WAVE" {
        return Ok(found);
    }
    let mut pos = 12u64;
    let mut ds64_data: Option<u64> = None;
    while pos + 8 <= len {
        file.seek(SeekFrom::Start(pos)).map_err(read_err)?;
        let mut h = [0u8; 8];
        file.read_exact(&mut h).map_err(read_err)?;
        let size32 = u32::from_le_bytes([h[4], h[5], h[6], h[7]]);
        let mut size = u64::from(size32);
        if wide && &h[0..4] == b"ds64" && size >= 16 {
            let mut b = [0u8; 16];
            file.read_exact(&mut b).map_err(read_err)?;
            ds64_data = Some(u64::from_le_bytes([
                b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15],
            ]));
        }
        if wide && &h[0..4] == b"data" && size32 == u32::MAX {
            size = ds64_data.unwrap_or(len - pos - 8);
        }
        if &h[0..4] == id {
            if pos + 8 + size > len {
                return Err(IoError::Malformed {
                    path: path.to_path_buf(),
                    container: "WAV",
                    detail: format!(
                        "chunk '{}' of {size} bytes runs past the end of the file",
                        String::from_utf8_lossy(id)
                    ),
                });
            }
            found.push(ChunkAt {
                offset: pos + 8,
                size,
            });
            if first_only {
                break;
            }
        }
        pos += 8 + size + (size & 1);
    }
    Ok(found)
}
