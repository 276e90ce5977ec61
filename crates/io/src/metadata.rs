//! What a delivered file says about itself: descriptive tags, ReplayGain,
//! loudness measurements and broadcast (BWF) information.
//!
//! The model is the same for every format; each writer maps it to what its
//! container can hold:
//!
//! | model | WAV / RF64 | FLAC (Vorbis comments) | MP3 (ID3v2.4) |
//! |---|---|---|---|
//! | [`Tags::title`] | `LIST/INFO` `INAM` | `TITLE` | `TIT2` |
//! | [`Tags::artist`] | `IART` | `ARTIST` | `TPE1` |
//! | [`Tags::album`] | `IPRD` | `ALBUM` | `TALB` |
//! | [`Tags::album_artist`] | — | `ALBUMARTIST` | `TPE2` |
//! | [`Tags::track_number`] / [`Tags::track_total`] | `ITRK` (number only) | `TRACKNUMBER` / `TRACKTOTAL` | `TRCK` `n/total` |
//! | [`Tags::disc_number`] | — | `DISCNUMBER` | `TPOS` |
//! | [`Tags::date`] | `ICRD` | `DATE` | `TDRC` |
//! | [`Tags::genre`] | `IGNR` | `GENRE` | `TCON` |
//! | [`Tags::comment`] | `ICMT` | `COMMENT` | `COMM` |
//! | [`Tags::isrc`] | — | `ISRC` | `TSRC` |
//! | [`ReplayGain`] | — | `REPLAYGAIN_*` | `TXXX:REPLAYGAIN_*` |
//! | [`Tags::extra`] | — | `KEY=value` | `TXXX:KEY` |
//! | [`Loudness`] | `bext` v2 loudness fields | — | — |
//! | [`BextInfo`] | `bext` chunk | — | — |
//!
//! "—" means the container has no agreed place for it: a writer refuses a
//! WAV with an ISRC, ReplayGain, album artist, disc number, track total or
//! extra pairs ([`crate::IoError::UnsupportedOutput`]) rather than dropping
//! them silently; [`Loudness`] and [`BextInfo`] are WAV-only for the same reason
//! and refused for FLAC and MP3. (RIFF `INFO` has an `ISRC` id, but it means
//! "source", not the recording code.)
//!
//! Loudness is usually known only after the audio is written: pass it to
//! [`crate::AudioWriter::set_loudness`] before `finish`, or to
//! [`crate::bext::write_loudness`] for a finished file.

use std::path::Path;

use crate::bext::BextInfo;
use crate::error::IoError;

/// Descriptive tags of a track. Empty fields are not written.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tags {
    /// Track title.
    pub title: Option<String>,
    /// Track artist.
    pub artist: Option<String>,
    /// Album title.
    pub album: Option<String>,
    /// Album artist, when it differs from the track artist.
    pub album_artist: Option<String>,
    /// Position on the album, from 1.
    pub track_number: Option<u32>,
    /// Tracks on the album.
    pub track_total: Option<u32>,
    /// Disc of a multi-disc release, from 1.
    pub disc_number: Option<u32>,
    /// Release date, `YYYY` or `YYYY-MM-DD` (ISO 8601, as ID3v2.4 `TDRC`).
    pub date: Option<String>,
    /// Genre, free text.
    pub genre: Option<String>,
    /// Free-text comment.
    pub comment: Option<String>,
    /// International Standard Recording Code (ISO 3901): 12 characters,
    /// `CCXXXYYNNNNN`; hyphens are accepted and removed.
    pub isrc: Option<String>,
    /// ReplayGain values.
    pub replay_gain: ReplayGain,
    /// Further `(key, value)` pairs, written in order. Keys are ASCII
    /// without `=` (the Vorbis comment rule), e.g. `("LABEL", "…")`.
    pub extra: Vec<(String, String)>,
}

impl Tags {
    /// True when no field is set.
    pub fn is_empty(&self) -> bool {
        *self == Tags::default()
    }

    /// The ISRC without hyphens, upper case, when it is valid.
    ///
    /// ISO 3901: country code (2 letters), registrant (3 letters or digits),
    /// year (2 digits), designation (5 digits).
    pub fn normalized_isrc(&self) -> Option<Result<String, String>> {
        self.isrc
            .as_deref()
            .map(mixmaster_core::codes::normalize_isrc)
    }

    /// Checks what every format needs: no NUL in text, valid ISRC, extra
    /// keys of printable ASCII without `=`, finite ReplayGain numbers.
    pub(crate) fn validate(&self, path: &Path) -> Result<(), IoError> {
        let bad = |what: String, reason: String| IoError::UnsupportedOutput {
            path: path.to_path_buf(),
            what,
            reason,
        };
        let texts = [
            ("title", &self.title),
            ("artist", &self.artist),
            ("album", &self.album),
            ("album artist", &self.album_artist),
            ("date", &self.date),
            ("genre", &self.genre),
            ("comment", &self.comment),
        ];
        for (name, value) in texts {
            if let Some(v) = value
                && v.contains('\0')
            {
                return Err(bad(
                    format!("the {name} tag"),
                    "text tags cannot contain NUL characters".into(),
                ));
            }
        }
        if let Some(Err(reason)) = self.normalized_isrc() {
            return Err(bad("the ISRC tag".into(), reason));
        }
        for (key, value) in &self.extra {
            if key.is_empty() || !key.bytes().all(|b| (0x20..=0x7D).contains(&b) && b != b'=') {
                return Err(bad(
                    format!("the tag key '{key}'"),
                    "keys are 1 or more ASCII characters 0x20..0x7D other than '=' \
                     (Vorbis comment field names)"
                        .into(),
                ));
            }
            if value.contains('\0') {
                return Err(bad(
                    format!("the tag {key}"),
                    "text tags cannot contain NUL characters".into(),
                ));
            }
        }
        let rg = &self.replay_gain;
        for (name, value) in [
            ("track gain", rg.track_gain_db),
            ("track peak", rg.track_peak),
            ("album gain", rg.album_gain_db),
            ("album peak", rg.album_peak),
            ("reference loudness", rg.reference_loudness_lufs),
        ] {
            if let Some(v) = value
                && !v.is_finite()
            {
                return Err(bad(
                    format!("ReplayGain {name} {v}"),
                    "ReplayGain values must be finite numbers".into(),
                ));
            }
        }
        Ok(())
    }
}

/// ReplayGain 2.0 values (gain to apply in dB, peak as a linear amplitude,
/// 1.0 = full scale). The reference of ReplayGain 2.0 is −18 LUFS, so a
/// track gain is usually `−18 − integrated_lufs`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ReplayGain {
    /// `REPLAYGAIN_TRACK_GAIN`, dB.
    pub track_gain_db: Option<f64>,
    /// `REPLAYGAIN_TRACK_PEAK`, linear.
    pub track_peak: Option<f64>,
    /// `REPLAYGAIN_ALBUM_GAIN`, dB.
    pub album_gain_db: Option<f64>,
    /// `REPLAYGAIN_ALBUM_PEAK`, linear.
    pub album_peak: Option<f64>,
    /// `REPLAYGAIN_REFERENCE_LOUDNESS`, LUFS (−18 for ReplayGain 2.0).
    /// Older files say `89.0 dB`, ReplayGain 1's SPL reference; the reader
    /// returns the number as written.
    pub reference_loudness_lufs: Option<f64>,
}

impl ReplayGain {
    /// True when no value is set.
    pub fn is_empty(&self) -> bool {
        *self == ReplayGain::default()
    }

    /// The `(KEY, value)` pairs as Vorbis comments and ID3 `TXXX` frames
    /// carry them: gains `"+1.23 dB"`, peaks `"0.988123"`, reference
    /// `"-18.00 LUFS"`.
    pub fn to_pairs(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        let db = |v: f64| format!("{v:+.2} dB");
        let peak = |v: f64| format!("{v:.6}");
        if let Some(v) = self.track_gain_db {
            out.push((RG_TRACK_GAIN, db(v)));
        }
        if let Some(v) = self.track_peak {
            out.push((RG_TRACK_PEAK, peak(v)));
        }
        if let Some(v) = self.album_gain_db {
            out.push((RG_ALBUM_GAIN, db(v)));
        }
        if let Some(v) = self.album_peak {
            out.push((RG_ALBUM_PEAK, peak(v)));
        }
        if let Some(v) = self.reference_loudness_lufs {
            out.push((RG_REFERENCE, format!("{v:.2} LUFS")));
        }
        out
    }

    /// Takes a ReplayGain `(KEY, value)` pair; returns false for other keys
    /// (or a value that is not a number).
    pub(crate) fn take_pair(&mut self, key: &str, value: &str) -> bool {
        let number = || {
            let v = value.trim();
            let v = v
                .strip_suffix("LUFS")
                .or_else(|| v.strip_suffix("dB"))
                .or_else(|| v.strip_suffix("db"))
                .unwrap_or(v);
            v.trim().parse::<f64>().ok()
        };
        let slot = match key.to_ascii_uppercase().as_str() {
            RG_TRACK_GAIN => &mut self.track_gain_db,
            RG_TRACK_PEAK => &mut self.track_peak,
            RG_ALBUM_GAIN => &mut self.album_gain_db,
            RG_ALBUM_PEAK => &mut self.album_peak,
            RG_REFERENCE => &mut self.reference_loudness_lufs,
            _ => return false,
        };
        match number() {
            Some(v) => {
                *slot = Some(v);
                true
            }
            None => false,
        }
    }
}

const RG_TRACK_GAIN: &str = "REPLAYGAIN_TRACK_GAIN";
const RG_TRACK_PEAK: &str = "REPLAYGAIN_TRACK_PEAK";
const RG_ALBUM_GAIN: &str = "REPLAYGAIN_ALBUM_GAIN";
const RG_ALBUM_PEAK: &str = "REPLAYGAIN_ALBUM_PEAK";
const RG_REFERENCE: &str = "REPLAYGAIN_REFERENCE_LOUDNESS";

/// Loudness of the finished file (ITU-R BS.1770 / EBU R 128, as
/// `mixmaster-meter` reports it). `None` is "not measured".
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Loudness {
    /// Integrated (programme) loudness, LUFS.
    pub integrated_lufs: Option<f64>,
    /// Loudness range, LU (EBU Tech 3342).
    pub lra_lu: Option<f64>,
    /// Maximum true-peak level, dBTP.
    pub true_peak_dbtp: Option<f64>,
    /// Maximum momentary loudness (400 ms), LUFS.
    pub momentary_max_lufs: Option<f64>,
    /// Maximum short-term loudness (3 s), LUFS.
    pub short_term_max_lufs: Option<f64>,
}

impl Loudness {
    /// True when nothing is set.
    pub fn is_empty(&self) -> bool {
        *self == Loudness::default()
    }
}

/// Everything a writer may store besides the audio. Part of
/// [`crate::WriteOptions`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Metadata {
    /// Descriptive tags and ReplayGain (all formats; see the module table).
    pub tags: Tags,
    /// Write a BWF `bext` chunk (WAV/RF64 only).
    pub bext: Option<BextInfo>,
    /// Loudness known before writing (WAV with `bext` only). Usually set
    /// later with [`crate::AudioWriter::set_loudness`].
    pub loudness: Loudness,
}

/// Reads the tags of a WAV (`LIST/INFO`), FLAC (Vorbis comments) or MP3
/// (ID3v2.3/2.4) file, recognised by its first bytes. A file of another
/// format, or one without tags, gives empty [`Tags`]. Keys this model does
/// not name land in [`Tags::extra`].
///
/// # Errors
/// [`IoError::NotFound`], [`IoError::Read`], [`IoError::Malformed`] (a tag
/// block that is cut short).
pub fn read_tags(path: &Path) -> Result<Tags, IoError> {
    use std::io::Read;
    let mut head = [0u8; 12];
    let n = std::fs::File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .map_err(|e| IoError::read(path, e))?;
    let head = &head[..n];
    if head.starts_with(b"fLaC") {
        crate::flac::read_tags(path)
    } else if head.starts_with(b"ID3") {
        crate::id3::read_tags(path)
    } else if n == 12
        && matches!(&head[..4], b"RIFF" | b"RF64" | b"BW64")
        && &head[8..12] == b"WAVE"
    {
        crate::riff_info::read_tags(path)
    } else {
        Ok(Tags::default())
    }
}

/// Sets a field of `tags` from a `(KEY, value)` pair in the Vorbis comment
/// vocabulary (the ID3 and INFO readers translate to it first).
pub(crate) fn set_from_pair(tags: &mut Tags, key: &str, value: &str) {
    let parse_u32 = |v: &str| {
        v.split('/')
            .next()
            .and_then(|n| n.trim().parse::<u32>().ok())
    };
    let upper = key.to_ascii_uppercase();
    let text = Some(value.to_string());
    match upper.as_str() {
        "TITLE" => tags.title = text,
        "ARTIST" => tags.artist = text,
        "ALBUM" => tags.album = text,
        "ALBUMARTIST" => tags.album_artist = text,
        "DATE" => tags.date = text,
        "GENRE" => tags.genre = text,
        "COMMENT" => tags.comment = text,
        "ISRC" => tags.isrc = text,
        "TRACKNUMBER" => {
            tags.track_number = parse_u32(value);
            if let Some((_, total)) = value.split_once('/') {
                tags.track_total = total.trim().parse().ok();
            }
        }
        "TRACKTOTAL" | "TOTALTRACKS" => tags.track_total = parse_u32(value),
        "DISCNUMBER" => tags.disc_number = parse_u32(value),
        _ => {
            if !tags.replay_gain.take_pair(&upper, value) {
                tags.extra.push((key.to_string(), value.to_string()));
            }
        }
    }
}

/// The tags as `(KEY, value)` pairs in the Vorbis comment vocabulary, in a
/// fixed order (FLAC writes exactly these).
pub(crate) fn to_pairs(tags: &Tags) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut push = |k: &str, v: Option<String>| {
        if let Some(v) = v {
            out.push((k.to_string(), v));
        }
    };
    push("TITLE", tags.title.clone());
    push("ARTIST", tags.artist.clone());
    push("ALBUM", tags.album.clone());
    push("ALBUMARTIST", tags.album_artist.clone());
    push("TRACKNUMBER", tags.track_number.map(|n| n.to_string()));
    push("TRACKTOTAL", tags.track_total.map(|n| n.to_string()));
    push("DISCNUMBER", tags.disc_number.map(|n| n.to_string()));
    push("DATE", tags.date.clone());
    push("GENRE", tags.genre.clone());
    push("COMMENT", tags.comment.clone());
    push("ISRC", tags.normalized_isrc().and_then(Result::ok));
    for (k, v) in tags.replay_gain.to_pairs() {
        out.push((k.to_string(), v));
    }
    out.extend(tags.extra.iter().cloned());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isrc_is_normalised_and_checked() {
        let mut t = Tags {
            isrc: Some("gb-aaa-25-00001".into()),
            ..Tags::default()
        };
        assert_eq!(t.normalized_isrc(), Some(Ok("GBAAA2500001".into())));
        t.isrc = Some("GBAAA250000".into());
        assert!(matches!(t.normalized_isrc(), Some(Err(_))));
        t.isrc = Some("12AAA2500001".into());
        assert!(matches!(t.normalized_isrc(), Some(Err(_))));
    }

    #[test]
    fn replay_gain_pairs_round_trip() {
        let rg = ReplayGain {
            track_gain_db: Some(-7.891),
            track_peak: Some(0.988_123_4),
            album_gain_db: Some(1.5),
            album_peak: Some(1.0),
            reference_loudness_lufs: Some(-18.0),
        };
        let pairs = rg.to_pairs();
        assert_eq!(pairs[0], (RG_TRACK_GAIN, "-7.89 dB".to_string()));
        assert_eq!(pairs[2], (RG_ALBUM_GAIN, "+1.50 dB".to_string()));
        assert_eq!(pairs[4], (RG_REFERENCE, "-18.00 LUFS".to_string()));
        let mut back = ReplayGain::default();
        for (k, v) in &pairs {
            assert!(back.take_pair(k, v));
        }
        assert_eq!(back.track_gain_db, Some(-7.89));
        assert_eq!(back.track_peak, Some(0.988_123));
        assert_eq!(back.reference_loudness_lufs, Some(-18.0));
        assert!(back.take_pair("replaygain_reference_loudness", "89.0 dB"));
        assert_eq!(back.reference_loudness_lufs, Some(89.0));
    }
}
