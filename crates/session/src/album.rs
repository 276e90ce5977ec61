//! The album file (`mixmaster album album.toml -o OUTDIR`): the songs in
//! order, how each one leads into the next, the loudness of the whole, and
//! the deliveries (CD image with CUE sheet, streaming files).
//!
//! ```toml
//! [album]
//! title = "Night Drives"
//! artist = "The Examples"
//! catalog = "036000291452"          # UPC-A (12 digits) or EAN-13
//!
//! [loudness]
//! mode = "album"                    # album | track | none
//! target = "spotify"                # -14 LUFS, -1 dBTP
//!
//! [streaming]
//! sample_rate_hz = 48000
//! bits = "24"
//!
//! [[song]]
//! title = "Opening"
//! file = "masters/01-opening.wav"   # mastered: gain only
//! isrc = "GB-XYZ-26-00001"
//! crossfade_s = 4                   # into the next song
//!
//! [[song]]
//! title = "Night Drive"
//! mix = "mixes/night-drive.wav"     # mastered with [mastering]
//! ```
//!
//! The format is documented in `docs/album.md`.

use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::{self, SessionError};
use crate::field_path::FieldPath;
use crate::mastering::MasteringSpec;
use crate::model::Curve;

/// A whole album file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AlbumFile {
    /// Title, artist and codes of the release.
    pub album: AlbumInfo,
    /// How the songs' levels are set.
    #[serde(default)]
    pub loudness: AlbumLoudness,
    /// The mastering chain for songs given as mixes, sessions or generated
    /// programmes (the loudness fields come from `[loudness]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mastering: Option<MasteringSpec>,
    /// Which deliveries to make when the command line names none: "cd",
    /// "streaming" (default both).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deliver: Option<Vec<String>>,
    /// CD delivery settings.
    #[serde(default)]
    pub cd: CdSpec,
    /// Streaming delivery settings.
    #[serde(default)]
    pub streaming: StreamingSpec,
    /// The songs, in order.
    #[serde(default, rename = "song")]
    pub songs: Vec<SongSpec>,
}

/// `[album]`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AlbumInfo {
    /// Album title (CD-Text TITLE, the ALBUM tag).
    pub title: String,
    /// Album artist (CD-Text PERFORMER; each song's performer by default).
    pub artist: String,
    /// UPC-A (12 digits) or EAN-13 (13 digits) with a valid check digit;
    /// written as the CUE sheet's 13-digit CATALOG.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalog: Option<String>,
    /// Album songwriter (CD-Text SONGWRITER), if one for all songs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub songwriter: Option<String>,
    /// Genre, free text (the GENRE tag).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub genre: Option<String>,
    /// Release date, `YYYY` or `YYYY-MM-DD` (the DATE tag).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
}

/// `[loudness]`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AlbumLoudness {
    /// "album" (default): one gain keeps the songs' differences and puts
    /// the loudest at the target; "track": every song at the target;
    /// "none": levels as given (plus `level_db`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// Delivery preset whose loudness and ceiling are used (default
    /// "spotify": −14 LUFS, −1 dBTP).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Integrated loudness in LUFS (overrides the preset's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integrated_lufs: Option<f64>,
    /// True-peak ceiling in dBTP (overrides the preset's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ceiling_dbtp: Option<f64>,
    /// Largest limiter gain reduction a song may need, in dB (default 12).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_limiter_reduction_db: Option<f64>,
    /// How close each song lands to its level, in LU (default 0.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerance_lu: Option<f64>,
}

/// `[cd]`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CdSpec {
    /// Noise shaping of the 16-bit dither: "none" (default, plain TPDF),
    /// "first_order" or "lipshitz".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub noise_shaping: Option<String>,
}

/// `[streaming]`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StreamingSpec {
    /// Sample rate of the track files in Hz (default 44100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample_rate_hz: Option<u32>,
    /// Word length: "16" or "24" (default "24").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bits: Option<String>,
    /// File formats: "flac", "wav" (default both).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub formats: Option<Vec<String>>,
    /// Noise shaping of the dither (see `[cd]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub noise_shaping: Option<String>,
}

/// One `[[song]]`. Exactly one of `file`, `mix`, `session` and `generate`
/// names its audio.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SongSpec {
    /// Title (CD-Text TITLE, the TITLE tag).
    pub title: String,
    /// Performer (default: the album artist).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub performer: Option<String>,
    /// Songwriter (CD-Text SONGWRITER).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub songwriter: Option<String>,
    /// ISRC, `CC-XXX-YY-NNNNN` (hyphens optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub isrc: Option<String>,
    /// A mastered file: taken as it is, only its gain changes (and the
    /// limiter holds the ceiling if that gain needs it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// A mix to master with the album's (or this song's) mastering chain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mix: Option<String>,
    /// A session to render and master (its `[mastering]` table, else the
    /// album's chain).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    /// A generated programme standing in for a mix (`mixmaster album
    /// --help` lists them): for trying the album path without audio.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generate: Option<String>,
    /// Length of a generated programme in seconds (default 30, at most
    /// 600: a programme is generated in memory).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seconds: Option<f64>,
    /// Start this far into the source (seconds; default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_s: Option<f64>,
    /// End this far into the source (seconds; default its end).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_s: Option<f64>,
    /// Silence before this song, in seconds: the CD pregap (INDEX 00 to
    /// INDEX 01). Default 2 after a song that ends normally, 0 after a
    /// crossfade or segue; not allowed on the first song.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gap_before_s: Option<f64>,
    /// Overlap with the next song, in seconds: this song fades out while
    /// the next fades in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crossfade_s: Option<f64>,
    /// Shape of the crossfade (default "equal_power").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crossfade_curve: Option<Curve>,
    /// Runs straight into the next song, with no gap (a segue).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segue: Option<bool>,
    /// Fade in at the start, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fade_in_s: Option<f64>,
    /// Fade out at the end, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fade_out_s: Option<f64>,
    /// Shape of the fades in and out (default "s_curve").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fade_curve: Option<Curve>,
    /// Level offset in dB, added to the gain the loudness mode gives.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level_db: Option<f64>,
    /// Mastering chain for this song (replaces the album's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mastering: Option<MasteringSpec>,
}

/// Where a song's audio comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SongSource<'a> {
    /// A mastered file.
    File(&'a str),
    /// A mix to master.
    Mix(&'a str),
    /// A session to render and master.
    Session(&'a str),
    /// A generated programme (name).
    Generate(&'a str),
}

impl SongSpec {
    /// The song's source (validation makes sure there is exactly one).
    pub fn source(&self) -> SongSource<'_> {
        match (&self.file, &self.mix, &self.session, &self.generate) {
            (Some(f), ..) => SongSource::File(f),
            (_, Some(m), ..) => SongSource::Mix(m),
            (_, _, Some(s), _) => SongSource::Session(s),
            (.., Some(g)) => SongSource::Generate(g),
            _ => SongSource::Generate(""),
        }
    }

    /// The overlap with the next song in seconds (0 without a crossfade).
    pub fn crossfade(&self) -> f64 {
        self.crossfade_s.unwrap_or(0.0)
    }

    /// True when the next song follows with no silence (a crossfade or a
    /// segue).
    pub fn runs_on(&self) -> bool {
        self.crossfade() > 0.0 || self.segue == Some(true)
    }
}

/// How the songs' levels are set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoudnessMode {
    /// Keep the songs' differences; the loudest at the target.
    Album,
    /// Every song at the target.
    Track,
    /// Levels as they are.
    None,
}

impl AlbumLoudness {
    /// The mode (default album).
    pub fn mode(&self) -> LoudnessMode {
        match self.mode.as_deref() {
            Some("track") => LoudnessMode::Track,
            Some("none") => LoudnessMode::None,
            _ => LoudnessMode::Album,
        }
    }
}

/// Gap before a song that follows one ending normally, in seconds.
pub const DEFAULT_GAP_S: f64 = 2.0;
/// Length of a generated programme when `seconds` is not given.
pub const DEFAULT_GENERATED_S: f64 = 30.0;

impl AlbumFile {
    /// The gap before song `i` in seconds (see [`SongSpec::gap_before_s`]).
    pub fn gap_before(&self, i: usize) -> f64 {
        if i == 0 {
            return 0.0;
        }
        match self.songs[i].gap_before_s {
            Some(g) => g,
            None if self.songs[i - 1].runs_on() => 0.0,
            None => DEFAULT_GAP_S,
        }
    }

    /// The deliveries the file asks for: (cd, streaming).
    pub fn deliveries(&self) -> (bool, bool) {
        match &self.deliver {
            None => (true, true),
            Some(list) => (
                list.iter().any(|d| d == "cd"),
                list.iter().any(|d| d == "streaming"),
            ),
        }
    }

    /// The streaming formats (default FLAC and WAV).
    pub fn streaming_formats(&self) -> Vec<String> {
        self.streaming
            .formats
            .clone()
            .unwrap_or_else(|| vec!["flac".into(), "wav".into()])
    }
}

pub use mixmaster_core::codes::{catalog_13, normalize_isrc};

/// An album file with its path and text (errors point at lines).
#[derive(Debug, Clone)]
pub struct LoadedAlbum {
    /// The parsed, validated album.
    pub album: AlbumFile,
    /// The album file.
    pub path: PathBuf,
    text: String,
}

impl LoadedAlbum {
    /// Reads and validates an album file (TOML).
    pub fn load(path: &Path) -> Result<Self, SessionError> {
        let text = std::fs::read_to_string(path).map_err(|e| SessionError {
            file: path.to_path_buf(),
            location: None,
            field: None,
            message: format!("cannot read the album file: {e}"),
            hint: None,
        })?;
        Self::from_toml_str(&text, path)
    }

    /// Parses and validates TOML text; `path` names the file in errors and
    /// anchors relative paths.
    pub fn from_toml_str(text: &str, path: &Path) -> Result<Self, SessionError> {
        let album: AlbumFile =
            toml::from_str(text).map_err(|e| error::toml_error(text, path, &e))?;
        let loaded = Self {
            album,
            path: path.to_path_buf(),
            text: text.to_string(),
        };
        check(&loaded.album).map_err(|(field, message, hint)| {
            loaded.error_at(&field, message, hint.map(str::to_string))
        })?;
        Ok(loaded)
    }

    /// A path from the album file resolved against its folder.
    pub fn resolve(&self, relative: &str) -> PathBuf {
        error::resolve_beside(&self.path, relative)
    }

    /// An error pointing at `field` (line and column).
    pub fn error_at(
        &self,
        field: &FieldPath,
        message: impl Into<String>,
        hint: Option<String>,
    ) -> SessionError {
        error::error_at(&self.path, Some(&self.text), field, message.into(), hint)
    }

    /// The field path of song `i` (`song[i]`), for errors found later.
    pub fn song_field(i: usize) -> FieldPath {
        FieldPath::root().key("song").index(i)
    }
}

type Invalid = (FieldPath, String, Option<&'static str>);

fn bad(field: FieldPath, message: impl Into<String>) -> Invalid {
    (field, message.into(), None)
}

fn seconds(field: FieldPath, v: Option<f64>, lo: f64, hi: f64) -> Result<(), Invalid> {
    match v {
        Some(x) if !(lo..=hi).contains(&x) => Err(bad(
            field,
            format!("{x} is out of range: expected {lo} ..= {hi} s"),
        )),
        _ => Ok(()),
    }
}

/// Characters a CUE sheet's quoted text (and CD-Text, ISO 8859-1) can hold.
fn cue_text(field: FieldPath, v: &str) -> Result<(), Invalid> {
    if v.trim().is_empty() {
        return Err(bad(field, "is empty"));
    }
    if let Some(c) = v.chars().find(|&c| c == '"' || c.is_control()) {
        return Err((
            field,
            format!("contains {c:?}, which a CUE sheet cannot quote"),
            Some("use typographic quotes (“ ”) or ' instead of \""),
        ));
    }
    if v.chars().count() > 80 {
        return Err(bad(
            field,
            format!(
                "is {} characters long; CUE sheets and CD-Text take at most 80",
                v.chars().count()
            ),
        ));
    }
    Ok(())
}

/// Checks what the types cannot say.
fn check(a: &AlbumFile) -> Result<(), Invalid> {
    let root = FieldPath::root();
    let info = root.key("album");
    cue_text(info.key("title"), &a.album.title)?;
    cue_text(info.key("artist"), &a.album.artist)?;
    if let Some(s) = &a.album.songwriter {
        cue_text(info.key("songwriter"), s)?;
    }
    if let Some(c) = &a.album.catalog {
        catalog_13(c).map_err(|m| bad(info.key("catalog"), m))?;
    }
    if let Some(d) = &a.album.date {
        let ok = match d.len() {
            4 => d.bytes().all(|b| b.is_ascii_digit()),
            10 => d.bytes().enumerate().all(|(i, b)| {
                if i == 4 || i == 7 {
                    b == b'-'
                } else {
                    b.is_ascii_digit()
                }
            }),
            _ => false,
        };
        if !ok {
            return Err(bad(
                info.key("date"),
                format!("'{d}': expected YYYY or YYYY-MM-DD"),
            ));
        }
    }
    let loud = root.key("loudness");
    if let Some(m) = &a.loudness.mode
        && !matches!(m.as_str(), "album" | "track" | "none")
    {
        return Err(bad(
            loud.key("mode"),
            format!("'{m}': expected \"album\", \"track\" or \"none\""),
        ));
    }
    if let Some(v) = a.loudness.integrated_lufs
        && !(-60.0..=0.0).contains(&v)
    {
        return Err(bad(
            loud.key("integrated_lufs"),
            format!("{v} is out of range: expected -60 ..= 0 LUFS"),
        ));
    }
    if let Some(v) = a.loudness.ceiling_dbtp
        && !(-30.0..=0.0).contains(&v)
    {
        return Err(bad(
            loud.key("ceiling_dbtp"),
            format!("{v} is out of range: expected -30 ..= 0 dBTP"),
        ));
    }
    if let Some(v) = a.loudness.max_limiter_reduction_db
        && !(0.0..=40.0).contains(&v)
    {
        return Err(bad(
            loud.key("max_limiter_reduction_db"),
            format!("{v} is out of range: expected 0 ..= 40 dB"),
        ));
    }
    if let Some(v) = a.loudness.tolerance_lu
        && !(0.01..=3.0).contains(&v)
    {
        return Err(bad(
            loud.key("tolerance_lu"),
            format!("{v} is out of range: expected 0.01 ..= 3 LU"),
        ));
    }
    if let Some(m) = &a.mastering
        && (m.target.is_some() || m.integrated_lufs.is_some() || m.ceiling_dbtp.is_some())
    {
        return Err((
            root.key("mastering"),
            "the album's loudness and ceiling are set in [loudness], not in [mastering]".into(),
            Some("move target, integrated_lufs and ceiling_dbtp to [loudness]"),
        ));
    }
    if let Some(list) = &a.deliver {
        for (i, d) in list.iter().enumerate() {
            if !matches!(d.as_str(), "cd" | "streaming") {
                return Err(bad(
                    root.key("deliver").index(i),
                    format!("'{d}': expected \"cd\" or \"streaming\""),
                ));
            }
        }
    }
    for (table, ns) in [
        ("cd", &a.cd.noise_shaping),
        ("streaming", &a.streaming.noise_shaping),
    ] {
        if let Some(n) = ns
            && !matches!(n.as_str(), "none" | "first_order" | "lipshitz")
        {
            return Err(bad(
                root.key(table).key("noise_shaping"),
                format!("'{n}': expected \"none\", \"first_order\" or \"lipshitz\""),
            ));
        }
    }
    let st = root.key("streaming");
    if let Some(r) = a.streaming.sample_rate_hz
        && !(8000..=384_000).contains(&r)
    {
        return Err(bad(
            st.key("sample_rate_hz"),
            format!("{r} is out of range: expected 8000 ..= 384000 Hz"),
        ));
    }
    if let Some(b) = &a.streaming.bits
        && !matches!(b.as_str(), "16" | "24")
    {
        return Err(bad(
            st.key("bits"),
            format!("'{b}': expected \"16\" or \"24\""),
        ));
    }
    if let Some(formats) = &a.streaming.formats {
        if formats.is_empty() {
            return Err(bad(
                st.key("formats"),
                "is empty: expected \"flac\", \"wav\" or both",
            ));
        }
        for (i, f) in formats.iter().enumerate() {
            if !matches!(f.as_str(), "flac" | "wav") {
                return Err(bad(
                    st.key("formats").index(i),
                    format!("'{f}': expected \"flac\" or \"wav\""),
                ));
            }
        }
    }
    if a.songs.is_empty() {
        return Err((
            root,
            "the album has no songs".into(),
            Some("add [[song]] tables, each with a title and a file, mix, session or generate"),
        ));
    }
    let last = a.songs.len() - 1;
    let mut isrcs: Vec<(String, usize)> = Vec::new();
    for (i, s) in a.songs.iter().enumerate() {
        let f = root.key("song").index(i);
        cue_text(f.key("title"), &s.title)?;
        if let Some(p) = &s.performer {
            cue_text(f.key("performer"), p)?;
        }
        if let Some(w) = &s.songwriter {
            cue_text(f.key("songwriter"), w)?;
        }
        if let Some(isrc) = &s.isrc {
            let code = normalize_isrc(isrc).map_err(|m| bad(f.key("isrc"), m))?;
            if let Some((_, j)) = isrcs.iter().find(|(c, _)| *c == code) {
                return Err(bad(
                    f.key("isrc"),
                    format!(
                        "ISRC {code} is already song {}'s: every recording has its own",
                        j + 1
                    ),
                ));
            }
            isrcs.push((code, i));
        }
        let sources = [
            ("file", s.file.is_some()),
            ("mix", s.mix.is_some()),
            ("session", s.session.is_some()),
            ("generate", s.generate.is_some()),
        ];
        let given: Vec<&str> = sources.iter().filter(|s| s.1).map(|s| s.0).collect();
        match given.len() {
            0 => {
                return Err((
                    f,
                    format!("song '{}' has no audio", s.title),
                    Some("give one of file (mastered), mix, session or generate"),
                ));
            }
            1 => {}
            _ => {
                return Err(bad(
                    f.key(given[1]),
                    format!(
                        "song '{}' names {} sources ({}); give exactly one",
                        s.title,
                        given.len(),
                        given.join(", ")
                    ),
                ));
            }
        }
        if s.seconds.is_some() && s.generate.is_none() {
            return Err(bad(
                f.key("seconds"),
                "only a generated programme (generate) has a length to set; use start_s / end_s \
                 to trim a file",
            ));
        }
        seconds(f.key("seconds"), s.seconds, 1.0, 600.0)?;
        seconds(f.key("start_s"), s.start_s, 0.0, 86_400.0)?;
        seconds(f.key("end_s"), s.end_s, 0.0, 86_400.0)?;
        if let (Some(a0), Some(b0)) = (s.start_s, s.end_s)
            && b0 <= a0
        {
            return Err(bad(
                f.key("end_s"),
                format!("{b0} s is not after start_s = {a0} s"),
            ));
        }
        seconds(f.key("gap_before_s"), s.gap_before_s, 0.0, 60.0)?;
        if i == 0 && s.gap_before_s.is_some_and(|g| g > 0.0) {
            return Err((
                f.key("gap_before_s"),
                "the first song has no gap before it: a CD's 2-second pregap before track 1 is \
                 added by the plant, and a streaming album starts with its first song"
                    .into(),
                Some("remove gap_before_s from the first song"),
            ));
        }
        seconds(f.key("crossfade_s"), s.crossfade_s, 0.0, 60.0)?;
        seconds(f.key("fade_in_s"), s.fade_in_s, 0.0, 600.0)?;
        seconds(f.key("fade_out_s"), s.fade_out_s, 0.0, 600.0)?;
        if i == last && (s.crossfade() > 0.0 || s.segue == Some(true)) {
            let key = if s.crossfade() > 0.0 {
                "crossfade_s"
            } else {
                "segue"
            };
            return Err(bad(
                f.key(key),
                "the last song has no next song to run into",
            ));
        }
        if s.crossfade() > 0.0 && s.segue == Some(true) {
            return Err((
                f.key("segue"),
                "a song either crossfades into the next or segues (runs straight) into it, not \
                 both"
                    .into(),
                Some("keep crossfade_s for an overlap, or segue = true for a cut with no gap"),
            ));
        }
        if i > 0 && a.songs[i - 1].runs_on() && s.gap_before_s.is_some_and(|g| g > 0.0) {
            return Err(bad(
                f.key("gap_before_s"),
                format!(
                    "song {} runs into this one ({}), so there is no gap before it",
                    i,
                    if a.songs[i - 1].crossfade() > 0.0 {
                        "crossfade_s"
                    } else {
                        "segue"
                    }
                ),
            ));
        }
        if let Some(v) = s.level_db
            && !(-40.0..=24.0).contains(&v)
        {
            return Err(bad(
                f.key("level_db"),
                format!("{v} is out of range: expected -40 ..= 24 dB"),
            ));
        }
        if let Some(m) = &s.mastering {
            if s.file.is_some() {
                return Err((
                    f.key("mastering"),
                    "a mastered file (file) is not mastered again".into(),
                    Some("give the song as mix = \"…\" to master it with this chain"),
                ));
            }
            if m.target.is_some() || m.integrated_lufs.is_some() || m.ceiling_dbtp.is_some() {
                return Err((
                    f.key("mastering"),
                    "the album's loudness and ceiling are set in [loudness]".into(),
                    Some("use level_db to set this song apart"),
                ));
            }
        }
    }
    Ok(())
}
