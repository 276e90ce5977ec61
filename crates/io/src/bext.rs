//! The Broadcast Wave Format `bext` chunk, version 2 (EBU Tech 3285 v2,
//! 2011, §2.3), with the loudness fields of EBU R 128.
//!
//! Payload layout (little-endian), offsets from the start of the payload:
//!
//! | offset | bytes | field |
//! |---|---|---|
//! | 0 | 256 | Description (ASCII, NUL-padded) |
//! | 256 | 32 | Originator |
//! | 288 | 32 | OriginatorReference |
//! | 320 | 10 | OriginationDate `yyyy-mm-dd` |
//! | 330 | 8 | OriginationTime `hh:mm:ss` |
//! | 338 | 8 | TimeReference (u64: samples since midnight; low then high dword) |
//! | 346 | 2 | Version (u16) = 2 |
//! | 348 | 64 | UMID (SMPTE 330M; all zero: none) |
//! | 412 | 2 | LoudnessValue (i16, LUFS × 100) |
//! | 414 | 2 | LoudnessRange (i16, LU × 100) |
//! | 416 | 2 | MaxTruePeakLevel (i16, dBTP × 100) |
//! | 418 | 2 | MaxMomentaryLoudness (i16, LUFS × 100) |
//! | 420 | 2 | MaxShortTermLoudness (i16, LUFS × 100) |
//! | 422 | 180 | Reserved (zero) |
//! | 602 | n | CodingHistory (ASCII lines ending CR LF, EBU R 98) |
//!
//! A loudness field that was not measured holds 0x7FFF, the value Tech 3285
//! v2 gives to a loudness parameter that is not used.
//!
//! # Loudness after the audio
//!
//! The chunk has a fixed size once the coding history is known, and our
//! writer places it before `data`, so the ten loudness bytes sit at a fixed
//! offset that can be rewritten by seeking: [`crate::AudioWriter::set_loudness`]
//! stores them when the file is finished (still inside the temporary file,
//! so the published file is complete), and [`write_loudness`] patches a
//! finished file in place.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use crate::error::IoError;
use crate::metadata::Loudness;
use crate::riff::find_chunk;

/// Bytes before CodingHistory.
pub const FIXED_LEN: usize = 602;
/// Offset of LoudnessValue; the five loudness fields follow it.
pub const LOUDNESS_OFFSET: usize = 412;
/// The value of a loudness field that was not measured.
pub const LOUDNESS_UNKNOWN: i16 = 0x7FFF;
/// The version written (Tech 3285 v2 adds the loudness fields).
pub const VERSION: u16 = 2;

const DESCRIPTION_LEN: usize = 256;
const ORIGINATOR_LEN: usize = 32;
const REFERENCE_LEN: usize = 32;

/// What to write in a `bext` chunk. Text is ASCII (Tech 3285); a field that
/// is too long or not ASCII is refused when the writer is created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BextInfo {
    /// Free description, at most 256 characters.
    pub description: String,
    /// Who made the file (organisation or tool), at most 32 characters.
    pub originator: String,
    /// A reference unique to the originator (e.g. an EBU R 99 USID), at most
    /// 32 characters.
    pub originator_reference: String,
    /// `yyyy-mm-dd`; `None` writes the current date (UTC) when the writer is
    /// created. Set it for reproducible files.
    pub origination_date: Option<String>,
    /// `hh:mm:ss`; `None` writes the current time (UTC) when the writer is
    /// created.
    pub origination_time: Option<String>,
    /// Position of the first sample, in samples since midnight.
    pub time_reference_frames: u64,
    /// The coding history (EBU R 98), one process per line. `None` writes
    /// one line describing this file, e.g.
    /// `A=PCM,F=48000,W=24,M=stereo,T=mixmaster`. Lines get CR LF endings.
    pub coding_history: Option<String>,
}

impl Default for BextInfo {
    fn default() -> Self {
        BextInfo {
            description: String::new(),
            originator: "mixmaster".into(),
            originator_reference: String::new(),
            origination_date: None,
            origination_time: None,
            time_reference_frames: 0,
            coding_history: None,
        }
    }
}

/// A `bext` chunk as read from a file.
#[derive(Debug, Clone, PartialEq)]
pub struct Bext {
    /// Description.
    pub description: String,
    /// Originator.
    pub originator: String,
    /// OriginatorReference.
    pub originator_reference: String,
    /// OriginationDate as stored.
    pub origination_date: String,
    /// OriginationTime as stored.
    pub origination_time: String,
    /// TimeReference, samples since midnight.
    pub time_reference_frames: u64,
    /// Version of the chunk.
    pub version: u16,
    /// UMID bytes.
    pub umid: [u8; 64],
    /// Loudness fields (version 2 and later; `None` for 0x7FFF), in their
    /// units: the stored integer / 100.
    pub loudness: Loudness,
    /// CodingHistory as stored (lines end in CR LF).
    pub coding_history: String,
}

/// The `bext` payload for `info`, with `loudness` and the stream
/// description `(rate, bits, channels, float)` for a default coding history.
pub(crate) fn encode(
    path: &Path,
    info: &BextInfo,
    loudness: &Loudness,
    stream: (u32, u32, usize, bool),
) -> Result<Vec<u8>, IoError> {
    let bad = |what: &str, reason: String| IoError::UnsupportedOutput {
        path: path.to_path_buf(),
        what: format!("the bext {what}"),
        reason,
    };
    let text = |what: &str, value: &str, max: usize| -> Result<Vec<u8>, IoError> {
        if !value.is_ascii() || value.contains('\0') {
            return Err(bad(
                what,
                format!("'{value}' is not plain ASCII (EBU Tech 3285 text fields are ASCII)"),
            ));
        }
        if value.len() > max {
            return Err(bad(
                what,
                format!("{} characters, at most {max} fit", value.len()),
            ));
        }
        let mut b = value.as_bytes().to_vec();
        b.resize(max, 0);
        Ok(b)
    };
    let (now_date, now_time) = utc_now();
    let date = info.origination_date.clone().unwrap_or(now_date);
    let time = info.origination_time.clone().unwrap_or(now_time);
    if !is_pattern(&date, b"dddd-dd-dd") && !is_pattern(&date, b"dddd:dd:dd") {
        return Err(bad(
            "origination date",
            format!("'{date}' is not yyyy-mm-dd"),
        ));
    }
    if !is_pattern(&time, b"dd:dd:dd") && !is_pattern(&time, b"dd-dd-dd") {
        return Err(bad("origination time", format!("'{time}' is not hh:mm:ss")));
    }
    let history = match &info.coding_history {
        Some(h) => h.clone(),
        None => default_history(stream),
    };
    if !history.is_ascii() || history.contains('\0') {
        return Err(bad(
            "coding history",
            "it is not plain ASCII (EBU R 98 lines are ASCII)".into(),
        ));
    }
    let mut history_bytes = Vec::with_capacity(history.len() + 2);
    for line in history.lines() {
        history_bytes.extend_from_slice(line.trim_end_matches('\r').as_bytes());
        history_bytes.extend_from_slice(b"\r\n");
    }

    let mut b = Vec::with_capacity(FIXED_LEN + history_bytes.len());
    b.extend(text("description", &info.description, DESCRIPTION_LEN)?);
    b.extend(text("originator", &info.originator, ORIGINATOR_LEN)?);
    b.extend(text(
        "originator reference",
        &info.originator_reference,
        REFERENCE_LEN,
    )?);
    b.extend_from_slice(date.as_bytes());
    b.extend_from_slice(time.as_bytes());
    b.extend_from_slice(&info.time_reference_frames.to_le_bytes());
    b.extend_from_slice(&VERSION.to_le_bytes());
    b.extend_from_slice(&[0u8; 64]);
    b.extend_from_slice(&loudness_bytes(loudness));
    b.extend_from_slice(&[0u8; 180]);
    debug_assert_eq!(b.len(), FIXED_LEN);
    b.extend_from_slice(&history_bytes);
    Ok(b)
}

/// The ten bytes of the five loudness fields.
pub fn loudness_bytes(l: &Loudness) -> [u8; 10] {
    let mut out = [0u8; 10];
    let fields = [
        l.integrated_lufs,
        l.lra_lu,
        l.true_peak_dbtp,
        l.momentary_max_lufs,
        l.short_term_max_lufs,
    ];
    for (dst, v) in out.chunks_exact_mut(2).zip(fields) {
        dst.copy_from_slice(&loudness_field(v).to_le_bytes());
    }
    out
}

/// One loudness field: `round(value × 100)` (half away from zero), clamped
/// to the i16 range below the "unknown" marker; `None` and non-finite
/// values (the integrated loudness of silence is −∞) are 0x7FFF.
pub fn loudness_field(v: Option<f64>) -> i16 {
    match v {
        Some(v) if v.is_finite() => (v * 100.0).round().clamp(f64::from(i16::MIN), 32_766.0) as i16,
        _ => LOUDNESS_UNKNOWN,
    }
}

fn field_value(raw: i16) -> Option<f64> {
    (raw != LOUDNESS_UNKNOWN).then(|| f64::from(raw) / 100.0)
}

/// Reads the `bext` chunk of a WAV/RF64/BW64 file; `None` when the file has
/// none (or is not a WAVE file).
///
/// # Errors
/// [`IoError::NotFound`], [`IoError::Read`], [`IoError::Malformed`] (a
/// `bext` chunk shorter than its fixed part or cut short).
pub fn read_bext(path: &Path) -> Result<Option<Bext>, IoError> {
    let mut file = File::open(path).map_err(|e| IoError::read(path, e))?;
    let Some(at) = find_chunk(path, &mut file, b"bext")? else {
        return Ok(None);
    };
    let malformed = |detail: String| IoError::Malformed {
        path: path.to_path_buf(),
        container: "WAV",
        detail,
    };
    if at.size < 348 {
        return Err(malformed(format!(
            "bext chunk of {} bytes, need at least 348",
            at.size
        )));
    }
    if at.size > 16 << 20 {
        return Err(malformed(format!("bext chunk of {} bytes", at.size)));
    }
    let mut b = vec![0u8; at.size as usize];
    file.seek(SeekFrom::Start(at.offset))
        .and_then(|_| file.read_exact(&mut b))
        .map_err(|e| IoError::read(path, e))?;
    let text = |r: std::ops::Range<usize>| {
        let s = &b[r];
        let end = s.iter().position(|&c| c == 0).unwrap_or(s.len());
        String::from_utf8_lossy(&s[..end]).into_owned()
    };
    let u16_at = |i: usize| u16::from_le_bytes([b[i], b[i + 1]]);
    let version = u16_at(346);
    let mut umid = [0u8; 64];
    if b.len() >= 412 {
        umid.copy_from_slice(&b[348..412]);
    }
    let loudness = if version >= 2 && b.len() >= LOUDNESS_OFFSET + 10 {
        let f = |k: usize| field_value(u16_at(LOUDNESS_OFFSET + 2 * k) as i16);
        Loudness {
            integrated_lufs: f(0),
            lra_lu: f(1),
            true_peak_dbtp: f(2),
            momentary_max_lufs: f(3),
            short_term_max_lufs: f(4),
        }
    } else {
        Loudness::default()
    };
    let coding_history = if b.len() > FIXED_LEN {
        text(FIXED_LEN..b.len())
    } else {
        String::new()
    };
    Ok(Some(Bext {
        description: text(0..256),
        originator: text(256..288),
        originator_reference: text(288..320),
        origination_date: text(320..330),
        origination_time: text(330..338),
        time_reference_frames: u64::from_le_bytes(b[338..346].try_into().unwrap_or([0; 8])),
        version,
        umid,
        loudness,
        coding_history,
    }))
}

/// Stores `loudness` in the `bext` chunk of a finished file, in place (ten
/// bytes, plus the version raised to 2 when it was lower). Nothing else in
/// the file changes.
///
/// # Errors
/// [`IoError::Unsupported`] when the file has no `bext` chunk (or one
/// shorter than its fixed part), [`IoError::Read`], [`IoError::Write`].
pub fn write_loudness(path: &Path, loudness: &Loudness) -> Result<(), IoError> {
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(|e| IoError::read(path, e))?;
    let at = match find_chunk(path, &mut file, b"bext")? {
        Some(at) if at.size >= FIXED_LEN as u64 => at,
        _ => {
            return Err(IoError::Unsupported {
                path: path.to_path_buf(),
                detail: "no bext chunk (of at least 602 bytes) to hold loudness".into(),
            });
        }
    };
    let write = |file: &mut File, offset: u64, bytes: &[u8]| {
        file.seek(SeekFrom::Start(offset))
            .and_then(|_| file.write_all(bytes))
            .map_err(|e| IoError::write(path, e))
    };
    let mut version = [0u8; 2];
    file.seek(SeekFrom::Start(at.offset + 346))
        .and_then(|_| file.read_exact(&mut version))
        .map_err(|e| IoError::read(path, e))?;
    if u16::from_le_bytes(version) < VERSION {
        write(&mut file, at.offset + 346, &VERSION.to_le_bytes())?;
    }
    write(
        &mut file,
        at.offset + LOUDNESS_OFFSET as u64,
        &loudness_bytes(loudness),
    )?;
    file.sync_all().map_err(|e| IoError::write(path, e))
}

/// One coding-history line for the file being written (EBU R 98):
/// `A=PCM,F=48000,W=24,M=stereo,T=mixmaster`.
fn default_history((rate, bits, channels, float): (u32, u32, usize, bool)) -> String {
    let mode = match channels {
        1 => "mono".to_string(),
        2 => "stereo".to_string(),
        n => format!("{n}ch"),
    };
    let kind = if float { "IEEE float; " } else { "" };
    format!("A=PCM,F={rate},W={bits},M={mode},T={kind}mixmaster")
}

/// True when `s` matches `pattern`, where `d` is any ASCII digit and every
/// other byte must match itself.
fn is_pattern(s: &str, pattern: &[u8]) -> bool {
    s.len() == pattern.len()
        && s.bytes().zip(pattern).all(|(c, &p)| match p {
            b'd' => c.is_ascii_digit(),
            p => c == p,
        })
}

/// The current date and time in UTC as (`yyyy-mm-dd`, `hh:mm:ss`).
fn utc_now() -> (String, String) {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (y, m, d) = civil_from_days((secs / 86_400) as i64);
    let t = secs % 86_400;
    (
        format!("{y:04}-{m:02}-{d:02}"),
        format!("{:02}:{:02}:{:02}", t / 3600, t / 60 % 60, t % 60),
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day)
/// (H. Hinnant, "chrono-Compatible Low-Level Date Algorithms", civil_from_days).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
    }

    #[test]
    fn loudness_fields() {
        assert_eq!(loudness_field(Some(-23.0)), -2300);
        assert_eq!(loudness_field(Some(-14.006)), -1401);
        assert_eq!(loudness_field(Some(0.125)), 13);
        assert_eq!(loudness_field(None), 0x7FFF);
        assert_eq!(loudness_field(Some(f64::NEG_INFINITY)), 0x7FFF);
        assert_eq!(loudness_field(Some(-1000.0)), i16::MIN);
        assert_eq!(loudness_field(Some(1000.0)), 32_766);
    }

    #[test]
    fn patterns() {
        assert!(is_pattern("2025-03-01", b"dddd-dd-dd"));
        assert!(!is_pattern("2025-3-01", b"dddd-dd-dd"));
        assert!(is_pattern("23:59:00", b"dd:dd:dd"));
    }
}
