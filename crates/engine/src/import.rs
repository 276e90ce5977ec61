//! Tracking/import: a folder of stems becomes a session with a rough mix
//! that renders, without edits, at a sensible loudness (`mixmaster init`).
//!
//! The steps, each a function here:
//!
//! 1. [`scan`] the folder (one level, or every level with `recursive`):
//!    every file [`AudioReader::open`] accepts is a stem. Files it does not
//!    recognise as audio are skipped with a note; a file that *is* audio (by
//!    its container, or by an audio extension such as `.wav`) but cannot be
//!    read is an error naming it. Hidden files (`.DS_Store`, macOS `._x.wav`
//!    companions) are skipped.
//! 2. Name each track from its file ([`track_name`]) and classify it
//!    ([`classify`]) into a [`Role`] and its [`Group`]; one bus per group.
//! 3. [`measure`] each stem, streamed through the meter; the loudness rule
//!    is [`representative_loudness`].
//! 4. Set faders from the role table, pans from the names ([`pans`]), a
//!    high-pass per role; then render the mix in memory and set the master
//!    fader so the mix sits at −18 LUFS with its sample peak at or below
//!    −1 dBFS ([`InitPlan::mix`]).
//! 5. [`write_session`] atomically.
//!
//! # Role table
//!
//! Targets are the loudness of the whole role in the rough mix, measured as
//! each stem alone (BS.1770 integrated; a mono stem at the centre with the
//! −3 dB pan law sounds exactly as loud as it measures). When several tracks
//! share a role (L/R pairs, doubles, two kick mics) they share its loudness:
//! each gets `target − 10·log10(n)`, at most 6 dB less (n ≥ 4), except toms,
//! which rarely sound together.
//!
//! | role | words in the name | group | target | high-pass |
//! |---|---|---|---|---|
//! | kick | kick, kik, bd, "bass drum" | Drums | −20 LUFS | 30 Hz, 12 dB/oct |
//! | snare | snare, snr, sn | Drums | −22 | 80 Hz, 12 |
//! | toms | tom, toms | Drums | −26 | 60 Hz, 12 |
//! | hats and cymbals | hat, hh, hihat, cymbal, crash, ride, china, splash | Drums | −30 | 200 Hz, 18 |
//! | overheads | overhead, oh | Drums | −28 | 200 Hz, 18 |
//! | room | room, amb, ambience | Drums | −30 | 60 Hz, 12 |
//! | percussion | perc, percussion, shaker, tamb, tambourine, conga, bongo, clap, cowbell | Drums | −30 | 100 Hz, 12 |
//! | lead vocal | vox, vocal, voice | Vocals | −18 | 80 Hz, 12 |
//! | backing vocal | bv, bvs, bgv, bgvs, backing, choir, harmony, harm; or a vocal named double/dbl | Vocals | −26 | 100 Hz, 12 |
//! | bass | bass, sub, 808 | Bass | −20 | 30 Hz, 12 |
//! | guitar | gtr, gtrs, guitar, guit | Guitars | −24 | 90 Hz, 12 |
//! | keys | keys, keyboard, piano, pno, synth, pad, organ, rhodes, wurli, clav | Keys | −26 | 60 Hz, 12 |
//! | other | anything else | Other | −26 | 60 Hz, 12 |
//!
//! Words match whole (case-insensitive, a plural `s` and trailing digits
//! allowed: `Toms`, `Gtr2`); `kick`, `snare`, `hihat`, `overhead`,
//! `cymbal`, `vocal`, `guitar`, `piano`, `synth` and `rhodes` also match
//! inside a word (`LeadVocal`). The first row that matches wins, so
//! "Kick Sub" is a kick and "Synth Bass" a bass.
//!
//! # Pans
//!
//! * Kick, snare, bass and lead vocal: centre, always.
//! * A name with the word `L`/`Left` or `R`/`Right`: ±0.9 for overheads and
//!   room mics, ±0.8 for everything else.
//! * Doubles: tracks with the same name once a trailing number and the words
//!   double/dbl/dt are removed ("Gtr 1"/"Gtr 2", "Gtr"/"Gtr Double",
//!   "BGV 1"/"BGV 2"), two or more of them: spread evenly from −0.5 to +0.5
//!   in file order.
//! * Everything else: centre. (A stereo stem's pan is a balance control.)
//!
//! # Gains
//!
//! The fader takes `target − measured`, rounded to 0.1 dB, plus, for a
//! stereo stem panned off-centre, what its balance control turns down
//! (−2.0 dB at ±0.5 with equally loud channels). The session
//! limits a fader to +24 dB; more (a very quiet stem) goes to the clip gain
//! as a trim, up to another +24 dB.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::path::{Component, Path, PathBuf};

use mixmaster_core::AudioBuffer;
use mixmaster_io::atomic::AtomicFile;
use mixmaster_io::{AudioReader, IoError, SourceInfo};
use mixmaster_meter::{Meter, MeterOptions, MeterReport};
use mixmaster_session::{
    Bus, Clip, FilterSpec, Insert, LoadedSession, MasterBus, Position, ProcessorSpec, Project,
    Session, Track,
};
use rayon::prelude::*;

use crate::error::EngineError;
use crate::graph::Mixer;
use crate::strip::balance_gains;

/// Loudness of the rough mix that `init` aims for, LUFS.
pub const DEFAULT_MIX_TARGET_LUFS: f64 = -18.0;
/// Highest sample peak of the rough mix, dBFS.
pub const DEFAULT_PEAK_CEILING_DBFS: f64 = -1.0;
/// Headroom kept below the peak ceiling, dB (the master gain is rounded
/// down to 0.1 dB on top of it).
const PEAK_MARGIN_DB: f64 = 0.05;
/// Most renders of the mix while setting the master fader. The mix is
/// linear in the master gain (the master has no inserts), so the second
/// render normally confirms the first estimate.
const MAX_RENDERS: usize = 4;
/// Largest gain of a fader and of a clip, dB (session-format limit).
const MAX_GAIN_DB: f64 = 24.0;
/// Largest loudness cut for tracks sharing a role, dB.
const MAX_SHARE_DB: f64 = 6.0;
/// Frames per read while measuring a stem.
const READ_FRAMES: usize = 65_536;
/// BS.1770-5 eq. 2: the −0.691 dB offset of the loudness sum (a 997 Hz
/// sine at 0 dBFS on one channel reads −3.01 LUFS).
const BS1770_OFFSET_DB: f64 = -0.691;

/// Extensions that mark a file as meant to be audio: such a file that
/// cannot be read is an error, not a skipped file.
const AUDIO_EXTENSIONS: &[&str] = &[
    "wav", "wave", "bwf", "rf64", "w64", "aif", "aiff", "aifc", "flac", "mp3", "mp2", "ogg", "oga",
    "opus", "m4a", "mp4", "aac", "alac", "caf", "wv",
];

/// Words kept in capitals in track names.
const ACRONYMS: &[&str] = &["oh", "hh", "bv", "bvs", "bgv", "bgvs", "di", "fx", "sfx"];

/// Separators between words in file names.
const SEPARATORS: &[char] = &[' ', '_', '-', '.'];

/// A mix group: one bus each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Group {
    /// Kick, snare, toms, cymbals, overheads, room, percussion.
    Drums,
    /// Bass, sub, 808.
    Bass,
    /// Guitars.
    Guitars,
    /// Keys, piano, synths, pads, organ.
    Keys,
    /// Lead and backing vocals.
    Vocals,
    /// Everything else.
    Other,
}

impl Group {
    /// Every group, in bus order.
    pub const ALL: [Group; 6] = [
        Group::Drums,
        Group::Bass,
        Group::Guitars,
        Group::Keys,
        Group::Vocals,
        Group::Other,
    ];

    /// The group's name (and its bus's name unless a track took it).
    pub fn name(self) -> &'static str {
        match self {
            Group::Drums => "Drums",
            Group::Bass => "Bass",
            Group::Guitars => "Guitars",
            Group::Keys => "Keys",
            Group::Vocals => "Vocals",
            Group::Other => "Other",
        }
    }
}

/// What a track is, as far as the rough mix cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Kick drum.
    Kick,
    /// Snare drum.
    Snare,
    /// Toms.
    Toms,
    /// Hi-hat and cymbals.
    Cymbals,
    /// Overhead microphones.
    Overheads,
    /// Room microphones.
    Room,
    /// Percussion.
    Percussion,
    /// Lead vocal.
    LeadVocal,
    /// Backing vocals and vocal doubles.
    BackingVocal,
    /// Bass.
    Bass,
    /// Guitar.
    Guitar,
    /// Keys and synths.
    Keys,
    /// Anything else.
    Other,
}

/// A high-pass filter setting.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HighPass {
    /// Corner frequency in Hz.
    pub freq_hz: f64,
    /// Slope in dB per octave.
    pub slope_db_oct: f64,
}

/// One row of the role table (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RoleRule {
    /// The group (and bus).
    pub group: Group,
    /// Loudness of the role in the rough mix, LUFS.
    pub target_lufs: f64,
    /// The high-pass insert.
    pub high_pass: HighPass,
    /// Always panned to the centre.
    pub centred: bool,
    /// Tracks of this role share its loudness.
    pub shares_loudness: bool,
}

impl Role {
    /// The role's row of the table in the module docs.
    pub fn rule(self) -> RoleRule {
        let (group, target_lufs, freq_hz, slope_db_oct, centred) = match self {
            Role::Kick => (Group::Drums, -20.0, 30.0, 12.0, true),
            Role::Snare => (Group::Drums, -22.0, 80.0, 12.0, true),
            Role::Toms => (Group::Drums, -26.0, 60.0, 12.0, false),
            Role::Cymbals => (Group::Drums, -30.0, 200.0, 18.0, false),
            Role::Overheads => (Group::Drums, -28.0, 200.0, 18.0, false),
            Role::Room => (Group::Drums, -30.0, 60.0, 12.0, false),
            Role::Percussion => (Group::Drums, -30.0, 100.0, 12.0, false),
            Role::LeadVocal => (Group::Vocals, -18.0, 80.0, 12.0, true),
            Role::BackingVocal => (Group::Vocals, -26.0, 100.0, 12.0, false),
            Role::Bass => (Group::Bass, -20.0, 30.0, 12.0, true),
            Role::Guitar => (Group::Guitars, -24.0, 90.0, 12.0, false),
            Role::Keys => (Group::Keys, -26.0, 60.0, 12.0, false),
            Role::Other => (Group::Other, -26.0, 60.0, 12.0, false),
        };
        RoleRule {
            group,
            target_lufs,
            high_pass: HighPass {
                freq_hz,
                slope_db_oct,
            },
            centred,
            shares_loudness: self != Role::Toms,
        }
    }

    /// The role's group.
    pub fn group(self) -> Group {
        self.rule().group
    }

    /// A short lower-case name for tables.
    pub fn name(self) -> &'static str {
        match self {
            Role::Kick => "kick",
            Role::Snare => "snare",
            Role::Toms => "toms",
            Role::Cymbals => "cymbals",
            Role::Overheads => "overheads",
            Role::Room => "room",
            Role::Percussion => "percussion",
            Role::LeadVocal => "lead vocal",
            Role::BackingVocal => "backing vocal",
            Role::Bass => "bass",
            Role::Guitar => "guitar",
            Role::Keys => "keys",
            Role::Other => "other",
        }
    }
}

fn import_error(path: &Path, message: impl Into<String>) -> EngineError {
    EngineError::Import {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

// ---------------------------------------------------------------- names

/// The track name for a file name: extension removed, leading numbering
/// removed (`01 `, `01_`, `01-`, `1.`, `01 - `: one or two digits, or up
/// to four with a leading zero, so "808_bass" keeps its 808), words split
/// at `_`, `-`, `.` and spaces, and capitalised: lower-case words get a
/// capital first letter, words written with capitals stay as written
/// (`L`, `DI`, `McCartney`), a name written all in capitals is treated as
/// lower case, and `OH`, `HH`, `BV`, `BGV`, `DI`, `FX` are capitals.
///
/// `"01_kick_in.wav"` → `"Kick In"`, `"gtr_L.wav"` → `"Gtr L"`.
pub fn track_name(file_name: &str) -> String {
    let stem = match file_name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && !ext.is_empty() && !ext.contains(' ') => stem,
        _ => file_name,
    };
    let stem = strip_numbering(stem);
    let all_caps = !stem.chars().any(char::is_lowercase);
    let words: Vec<String> = stem
        .split(SEPARATORS)
        .filter(|w| !w.is_empty())
        .map(|w| capitalise(w, all_caps))
        .collect();
    if words.is_empty() {
        "Track".to_string()
    } else {
        words.join(" ")
    }
}

fn strip_numbering(stem: &str) -> &str {
    let digits = stem.bytes().take_while(u8::is_ascii_digit).count();
    let is_numbering = digits > 0 && (digits <= 2 || (stem.starts_with('0') && digits <= 4));
    if !is_numbering {
        return stem;
    }
    let rest = &stem[digits..];
    let after = rest.trim_start_matches(SEPARATORS);
    if after.len() == rest.len() || after.is_empty() {
        stem
    } else {
        after
    }
}

fn capitalise(word: &str, name_is_all_caps: bool) -> String {
    let lower = word.to_lowercase();
    if ACRONYMS.contains(&lower.as_str()) {
        return lower.to_uppercase();
    }
    if !name_is_all_caps && word.chars().any(char::is_uppercase) {
        return word.to_string();
    }
    let mut chars = lower.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Lower-case words of a name, each without trailing digits ("Gtr2" → "gtr").
fn match_words(name: &str) -> Vec<String> {
    name.split(SEPARATORS)
        .map(|w| {
            w.to_lowercase()
                .trim_end_matches(|c: char| c.is_ascii_digit())
                .to_string()
        })
        .filter(|w| !w.is_empty())
        .collect()
}

/// The role of a track from its name (see the table in the module docs).
pub fn classify(name: &str) -> Role {
    let words = match_words(name);
    // "808" loses its digits as a word suffix; keep whole numbers too.
    let numbers: Vec<String> = name
        .split(SEPARATORS)
        .filter(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii_digit()))
        .map(str::to_string)
        .collect();
    let has = |keys: &[&str]| {
        words.iter().chain(&numbers).any(|w| {
            keys.iter()
                .any(|k| w == k || (w.len() == k.len() + 1 && w.starts_with(k) && w.ends_with('s')))
        })
    };
    let joined = words.concat();
    let contains = |keys: &[&str]| keys.iter().any(|k| joined.contains(k));

    if has(&["kick", "kik", "bd"]) || contains(&["kick"]) || (has(&["bass"]) && has(&["drum"])) {
        Role::Kick
    } else if has(&["snare", "snr", "sn"]) || contains(&["snare"]) {
        Role::Snare
    } else if has(&["tom"]) {
        Role::Toms
    } else if has(&[
        "hat", "hh", "hihat", "cymbal", "crash", "ride", "china", "splash",
    ]) || contains(&["hihat", "cymbal"])
    {
        Role::Cymbals
    } else if has(&["overhead", "oh"]) || contains(&["overhead"]) {
        Role::Overheads
    } else if has(&["room", "amb", "ambience"]) {
        Role::Room
    } else if has(&[
        "perc",
        "percussion",
        "shaker",
        "tamb",
        "tambourine",
        "conga",
        "bongo",
        "clap",
        "cowbell",
    ]) {
        Role::Percussion
    } else if has(&[
        "bv",
        "bgv",
        "backing",
        "choir",
        "harmony",
        "harmonies",
        "harm",
    ]) {
        Role::BackingVocal
    } else if has(&["vox", "vocal", "voice"]) || contains(&["vocal"]) {
        if has(&["double", "dbl", "dt"]) {
            Role::BackingVocal
        } else {
            Role::LeadVocal
        }
    } else if has(&["bass", "sub", "808"]) {
        Role::Bass
    } else if has(&["gtr", "guitar", "guit"]) || contains(&["guitar"]) {
        Role::Guitar
    } else if has(&[
        "keys", "keyboard", "piano", "pno", "synth", "pad", "organ", "rhodes", "wurli", "clav",
    ]) || contains(&["piano", "synth", "rhodes"])
    {
        Role::Keys
    } else {
        Role::Other
    }
}

/// −1 for a name with the word L/Left, +1 for R/Right, else `None`.
fn side_of(name: &str) -> Option<f64> {
    name.split(SEPARATORS)
        .rev()
        .find_map(|w| match w.to_lowercase().as_str() {
            "l" | "left" => Some(-1.0),
            "r" | "right" => Some(1.0),
            _ => None,
        })
}

/// The name without a side, double words and trailing numbers: the key
/// that pairs doubles ("Gtr 1", "Gtr 2", "Gtr Double" → "gtr").
fn base_of(name: &str) -> String {
    match_words(name)
        .into_iter()
        .filter(|w| {
            !matches!(
                w.as_str(),
                "l" | "left" | "r" | "right" | "double" | "dbl" | "dt" | "doubled"
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Pans for tracks given by name and role, by the rules in the module docs.
pub fn pans(tracks: &[(String, Role)]) -> Vec<f64> {
    let mut pans = vec![0.0; tracks.len()];
    let mut doubles: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, (name, role)) in tracks.iter().enumerate() {
        if role.rule().centred {
            continue;
        }
        match side_of(name) {
            Some(side) => {
                let width = if matches!(role, Role::Overheads | Role::Room) {
                    0.9
                } else {
                    0.8
                };
                pans[i] = side * width;
            }
            None => doubles.entry(base_of(name)).or_default().push(i),
        }
    }
    for members in doubles.values().filter(|m| m.len() >= 2) {
        let last = (members.len() - 1) as f64;
        for (k, &i) in members.iter().enumerate() {
            // Rounded so the session reads 0.17, not 0.16666666666666674.
            pans[i] = round_to(-0.5 + k as f64 / last, 100.0);
        }
    }
    pans
}

/// Unique among `taken` (compared without case; `master` is reserved):
/// the name itself, else with " 2", " 3", …
fn unique_name(name: &str, taken: &mut BTreeSet<String>) -> String {
    let free = |n: &str, taken: &BTreeSet<String>| {
        let lower = n.to_lowercase();
        lower != "master" && !taken.contains(&lower)
    };
    let mut candidate = name.to_string();
    let mut k = 2;
    while !free(&candidate, taken) {
        candidate = format!("{name} {k}");
        k += 1;
    }
    taken.insert(candidate.to_lowercase());
    candidate
}

// ---------------------------------------------------------------- scan

/// An audio file found in the stems folder.
#[derive(Debug, Clone)]
pub struct Stem {
    /// The file, as the stems folder path joined with its place in it.
    pub path: PathBuf,
    /// The path inside the stems folder.
    pub relative: PathBuf,
    /// Format, rate, channels, length.
    pub info: SourceInfo,
}

/// A file of the stems folder that is not imported, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The file or folder.
    pub path: PathBuf,
    /// Why it was skipped.
    pub reason: String,
}

/// What a folder holds.
#[derive(Debug, Clone, Default)]
pub struct Scan {
    /// Audio files, sorted by their path in the folder.
    pub stems: Vec<Stem>,
    /// Everything else.
    pub skipped: Vec<Skipped>,
}

/// Sort key that orders names as people do: without case, numbers by
/// value ("2 gtr" before "10 vox").
fn natural_key(name: &str) -> (String, String) {
    let mut key = String::new();
    let mut digits = String::new();
    for c in name.chars().chain(std::iter::once('\0')) {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        if !digits.is_empty() {
            key.push_str(&format!("{digits:0>20}"));
            digits.clear();
        }
        if c != '\0' {
            key.extend(c.to_lowercase());
        }
    }
    (key, name.to_string())
}

fn has_audio_extension(name: &str) -> bool {
    name.rsplit_once('.')
        .is_some_and(|(_, ext)| AUDIO_EXTENSIONS.iter().any(|a| a.eq_ignore_ascii_case(ext)))
}

/// Finds the stems in `dir` (and its subfolders with `recursive`).
///
/// # Errors
/// [`EngineError::Import`] when the folder is missing, not a folder,
/// unreadable, or holds no audio; [`EngineError::Io`] for an audio file
/// that cannot be read (named in the message).
pub fn scan(dir: &Path, recursive: bool) -> Result<Scan, EngineError> {
    let meta = std::fs::metadata(dir).map_err(|e| {
        import_error(
            dir,
            if e.kind() == std::io::ErrorKind::NotFound {
                "stems folder not found".to_string()
            } else {
                format!("cannot read the stems folder: {e}")
            },
        )
    })?;
    if !meta.is_dir() {
        return Err(import_error(
            dir,
            "not a folder: give the folder that holds the stems",
        ));
    }
    let mut scan = Scan::default();
    walk(dir, dir, recursive, &mut scan)?;
    if scan.stems.is_empty() {
        let folders = scan.skipped.iter().filter(|s| s.path.is_dir()).count();
        let hint = if folders > 0 && !recursive {
            " (it has subfolders: use --recursive to look inside them)"
        } else {
            ""
        };
        return Err(import_error(
            dir,
            format!(
                "no audio files found; {} other entr{} skipped{hint}",
                scan.skipped.len(),
                if scan.skipped.len() == 1 { "y" } else { "ies" }
            ),
        ));
    }
    Ok(scan)
}

fn walk(root: &Path, dir: &Path, recursive: bool, scan: &mut Scan) -> Result<(), EngineError> {
    let read_error = |e: std::io::Error| import_error(dir, format!("cannot read the folder: {e}"));
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(read_error)? {
        let entry = entry.map_err(read_error)?;
        entries.push((entry.file_name(), entry.path()));
    }
    entries.sort_by_cached_key(|(name, _)| natural_key(&name.to_string_lossy()));
    for (name, path) in entries {
        let mut skip = |reason: &str| {
            scan.skipped.push(Skipped {
                path: path.clone(),
                reason: reason.to_string(),
            });
        };
        let Some(name) = name.to_str() else {
            skip(
                "the file name is not valid UTF-8 (a session file cannot name it); rename it to import it",
            );
            continue;
        };
        if name.starts_with('.') {
            skip("hidden file");
            continue;
        }
        let is_link = std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink());
        let meta = std::fs::metadata(&path)
            .map_err(|e| import_error(&path, format!("cannot read: {e}")))?;
        if meta.is_dir() {
            if is_link {
                skip("a link to a folder (not followed)");
            } else if recursive {
                walk(root, &path, recursive, scan)?;
            } else {
                skip("a folder (use --recursive to import stems in subfolders)");
            }
            continue;
        }
        match AudioReader::open(&path) {
            Ok(reader) => {
                let info = reader.info().clone();
                if !(1..=2).contains(&info.channels) {
                    return Err(import_error(
                        &path,
                        format!(
                            "{} channels; tracks take mono or stereo stems (split it into mono or stereo files)",
                            info.channels
                        ),
                    ));
                }
                let relative = path.strip_prefix(root).unwrap_or(&path).to_path_buf();
                scan.stems.push(Stem {
                    path,
                    relative,
                    info,
                });
            }
            Err(e @ (IoError::Unsupported { .. } | IoError::Empty { .. }))
                if !has_audio_extension(name) =>
            {
                let message = e.to_string();
                let prefix = format!("{}: ", path.display());
                skip(&format!(
                    "not audio: {}",
                    message.strip_prefix(&prefix).unwrap_or(&message)
                ));
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- measure

/// Which measurement gave a stem's loudness (see [`representative_loudness`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoudnessMethod {
    /// Gated integrated loudness (BS.1770-5).
    Integrated,
    /// Largest short-term (3 s) loudness.
    ShortTermMax,
    /// Largest momentary (400 ms) loudness.
    MomentaryMax,
    /// From the RMS level.
    Rms,
    /// Digital silence.
    Silent,
}

impl LoudnessMethod {
    /// A short label for tables.
    pub fn label(self) -> &'static str {
        match self {
            LoudnessMethod::Integrated => "integrated",
            LoudnessMethod::ShortTermMax => "short-term max",
            LoudnessMethod::MomentaryMax => "momentary max",
            LoudnessMethod::Rms => "rms",
            LoudnessMethod::Silent => "silent",
        }
    }
}

/// A stem's measured level.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StemLevel {
    /// Representative loudness, LUFS (−∞ for silence).
    pub loudness_lufs: f64,
    /// How it was measured.
    pub method: LoudnessMethod,
    /// Sample peak, dBFS.
    pub sample_peak_dbfs: f64,
    /// Frames decoded.
    pub frames: u64,
}

/// The loudness that stands for a whole stem or mix:
///
/// 1. the gated integrated loudness (BS.1770-5). The gates (−70 LUFS
///    absolute, −10 LU relative) leave out the silence between the parts,
///    so a sparse stem — a crash once a chorus, a vocal only in the
///    verses — reads how loud it is *while it plays*;
/// 2. when that is −∞ (no 400 ms block above −70 LUFS: extremely quiet
///    material): the largest short-term loudness (3 s), or, for stems
///    shorter than 3 s, the largest momentary loudness (400 ms);
/// 3. for stems shorter than 400 ms: `−0.691 + 10·log10(Σ mean squares)`,
///    the BS.1770 sum without K-weighting, from the RMS level;
/// 4. −∞ for digital silence.
pub fn representative_loudness(report: &MeterReport) -> (f64, LoudnessMethod) {
    if report.integrated_lufs.is_finite() {
        (report.integrated_lufs, LoudnessMethod::Integrated)
    } else if report.short_term_max_lufs.is_finite() {
        (report.short_term_max_lufs, LoudnessMethod::ShortTermMax)
    } else if report.momentary_max_lufs.is_finite() {
        (report.momentary_max_lufs, LoudnessMethod::MomentaryMax)
    } else if report.rms_dbfs.is_finite() {
        (
            BS1770_OFFSET_DB + report.rms_dbfs + 10.0 * (report.channels.max(1) as f64).log10(),
            LoudnessMethod::Rms,
        )
    } else {
        (f64::NEG_INFINITY, LoudnessMethod::Silent)
    }
}

/// Streams a stem through the meter (memory does not grow with its length).
///
/// # Errors
/// [`EngineError::Io`] when the file cannot be decoded; [`EngineError::Import`]
/// when the meter refuses its rate or channel count.
pub fn measure(path: &Path) -> Result<StemLevel, EngineError> {
    let mut reader = AudioReader::open(path)?;
    let info = reader.info().clone();
    let mut options = MeterOptions::new(info.sample_rate_hz, info.channels);
    options.series = false;
    let mut meter = Meter::new(options).map_err(|e| import_error(path, e.to_string()))?;
    let mut buf = AudioBuffer::new(info.channels, 0);
    while reader.read(&mut buf, READ_FRAMES)? > 0 {
        meter
            .process(buf.planar())
            .map_err(|e| import_error(path, e.to_string()))?;
    }
    let report = meter.report();
    let (loudness_lufs, method) = representative_loudness(&report);
    Ok(StemLevel {
        loudness_lufs,
        method,
        sample_peak_dbfs: report.sample_peak_dbfs,
        frames: report.frames,
    })
}

// ---------------------------------------------------------------- plan

/// Settings of [`plan`].
#[derive(Debug, Clone, PartialEq)]
pub struct InitOptions {
    /// Look for stems in subfolders too.
    pub recursive: bool,
    /// Project tempo (20 ..= 400 bpm).
    pub tempo_bpm: f64,
    /// Project name; `None`: the stems folder's name.
    pub project_name: Option<String>,
    /// Worker threads for measuring and rendering (at least 1).
    pub threads: usize,
    /// Loudness of the rough mix, LUFS (−40 ..= −6).
    pub mix_target_lufs: f64,
    /// Highest sample peak of the rough mix, dBFS (−20 ..= 0).
    pub peak_ceiling_dbfs: f64,
}

impl Default for InitOptions {
    fn default() -> Self {
        Self {
            recursive: false,
            tempo_bpm: 120.0,
            project_name: None,
            threads: 1,
            mix_target_lufs: DEFAULT_MIX_TARGET_LUFS,
            peak_ceiling_dbfs: DEFAULT_PEAK_CEILING_DBFS,
        }
    }
}

impl InitOptions {
    fn validate(&self) -> Result<(), EngineError> {
        let bad = |m: String| Err(EngineError::Render(m));
        if !(20.0..=400.0).contains(&self.tempo_bpm) {
            return bad(format!(
                "tempo {} bpm is out of range: expected 20 ..= 400",
                self.tempo_bpm
            ));
        }
        if !(-40.0..=-6.0).contains(&self.mix_target_lufs) {
            return bad(format!(
                "mix target {} LUFS is out of range: expected -40 ..= -6",
                self.mix_target_lufs
            ));
        }
        if !(-20.0..=0.0).contains(&self.peak_ceiling_dbfs) {
            return bad(format!(
                "peak ceiling {} dBFS is out of range: expected -20 ..= 0",
                self.peak_ceiling_dbfs
            ));
        }
        Ok(())
    }
}

/// One imported track and how its settings were chosen.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedTrack {
    /// Track name (unique).
    pub name: String,
    /// The stem.
    pub path: PathBuf,
    /// The source as written in the session (relative to its folder).
    pub source: String,
    /// Role by name.
    pub role: Role,
    /// The bus it feeds.
    pub bus: String,
    /// Source rate.
    pub sample_rate_hz: u32,
    /// Source channels.
    pub channels: usize,
    /// Source length in seconds.
    pub duration_s: f64,
    /// Measured level.
    pub level: StemLevel,
    /// Loudness aimed for (the role's, less its share), LUFS.
    pub target_lufs: f64,
    /// Fader, dB.
    pub gain_db: f64,
    /// Clip gain beyond the fader's +24 dB, dB (usually 0).
    pub trim_db: f64,
    /// Pan or balance.
    pub pan: f64,
    /// Level a stereo stem loses to its balance control, dB (the fader
    /// makes up for it).
    pub balance_loss_db: f64,
    /// The high-pass insert.
    pub high_pass: HighPass,
}

impl PlannedTrack {
    /// Estimated loudness of the track in the mix, LUFS: measured + trim +
    /// fader − balance loss + master (the high-pass changes it slightly).
    pub fn in_mix_lufs(&self, master_gain_db: f64) -> f64 {
        self.level.loudness_lufs + self.trim_db + self.gain_db - self.balance_loss_db
            + master_gain_db
    }
}

/// The rough mix as rendered by [`plan`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MixCheck {
    /// The master fader chosen, dB.
    pub master_gain_db: f64,
    /// Loudness of the mix (see [`representative_loudness`]), LUFS.
    pub loudness_lufs: f64,
    /// How it was measured.
    pub method: LoudnessMethod,
    /// Sample peak of the mix, dBFS.
    pub sample_peak_dbfs: f64,
    /// True peak of the mix, dBTP.
    pub true_peak_dbtp: f64,
    /// Length of the render, seconds.
    pub duration_s: f64,
    /// Length of the longest source, seconds.
    pub longest_source_s: f64,
    /// Renders it took.
    pub renders: usize,
}

/// Everything `init` decided, ready to write.
#[derive(Debug, Clone)]
pub struct InitPlan {
    /// The session to write.
    pub session: Session,
    /// Where it will be written.
    pub session_path: PathBuf,
    /// The stems folder as given.
    pub stems_dir: PathBuf,
    /// The tracks, in session order.
    pub tracks: Vec<PlannedTrack>,
    /// Files not imported.
    pub skipped: Vec<Skipped>,
    /// The rendered rough mix.
    pub mix: MixCheck,
    /// Things the user should know (quiet stems, a mix outside −24 … −14 LUFS).
    pub warnings: Vec<String>,
}

/// `to` relative to `from_dir` (both absolute and canonical), or `None`
/// when they share no root (another drive on Windows).
fn relative_path(from_dir: &Path, to: &Path) -> Option<PathBuf> {
    let from: Vec<Component> = from_dir.components().collect();
    let target: Vec<Component> = to.components().collect();
    let common = from.iter().zip(&target).take_while(|(a, b)| a == b).count();
    if common == 0 {
        return None;
    }
    let mut rel = PathBuf::new();
    for _ in common..from.len() {
        rel.push("..");
    }
    for c in &target[common..] {
        rel.push(c.as_os_str());
    }
    Some(rel)
}

/// A path as written in a session: `/` between the parts.
fn session_path_text(path: &Path) -> Option<String> {
    if path.is_absolute() {
        return path.to_str().map(str::to_string);
    }
    let parts: Option<Vec<&str>> = path.components().map(|c| c.as_os_str().to_str()).collect();
    parts.map(|p| p.join("/"))
}

/// `x` rounded to 1/`per_unit` (10: tenths), landing on the closest
/// `f64` to the decimal, so the session reads `4.1`, not `4.1000000000000005`.
fn round_to(x: f64, per_unit: f64) -> f64 {
    (x * per_unit).round() / per_unit
}

fn canonical_folder(path: &Path, what: &str) -> Result<PathBuf, EngineError> {
    std::fs::canonicalize(path).map_err(|e| {
        import_error(
            path,
            if e.kind() == std::io::ErrorKind::NotFound {
                format!("{what} not found")
            } else {
                format!("cannot open {what}: {e}")
            },
        )
    })
}

/// Scans `stems_dir`, measures every stem, builds the session to be
/// written at `session_path`, and renders the rough mix to set the master
/// fader. Nothing is written.
///
/// # Errors
/// Bad options ([`EngineError::Render`]); the folder and its files
/// ([`scan`], [`measure`]); the session folder missing
/// ([`EngineError::Import`]); a render that fails.
pub fn plan(
    stems_dir: &Path,
    session_path: &Path,
    options: &InitOptions,
) -> Result<InitPlan, EngineError> {
    options.validate()?;
    let scan = scan(stems_dir, options.recursive)?;
    let session_folder = match session_path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let session_folder = canonical_folder(session_folder, "the folder of the session file")?;
    let stems_canonical = canonical_folder(stems_dir, "stems folder")?;
    let threads = options.threads.max(1);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| EngineError::Render(format!("cannot start {threads} threads: {e}")))?;
    let levels: Vec<StemLevel> = pool.install(|| {
        scan.stems
            .par_iter()
            .map(|s| measure(&s.path))
            .collect::<Result<_, _>>()
    })?;

    // Names (unique), roles, pans.
    let mut taken = BTreeSet::new();
    let named: Vec<(String, Role)> = scan
        .stems
        .iter()
        .map(|s| {
            let file = s
                .path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            let name = unique_name(&track_name(file), &mut taken);
            let role = classify(&name);
            (name, role)
        })
        .collect();
    let pans = pans(&named);
    let mut bus_names: BTreeMap<Group, String> = BTreeMap::new();
    for group in Group::ALL {
        if named.iter().any(|(_, r)| r.group() == group) {
            let wanted = group.name();
            let free = !taken.contains(&wanted.to_lowercase());
            let name = if free {
                unique_name(wanted, &mut taken)
            } else {
                unique_name(&format!("{wanted} Bus"), &mut taken)
            };
            bus_names.insert(group, name);
        }
    }
    let mut role_counts: BTreeMap<Role, usize> = BTreeMap::new();
    for (_, role) in &named {
        *role_counts.entry(*role).or_default() += 1;
    }

    let mut warnings = Vec::new();
    let mut tracks = Vec::new();
    for (i, (stem, level)) in scan.stems.iter().zip(&levels).enumerate() {
        let (name, role) = named[i].clone();
        let rule = role.rule();
        let n = role_counts.get(&role).copied().unwrap_or(1);
        let share_db = if rule.shares_loudness {
            (10.0 * (n as f64).log10()).min(MAX_SHARE_DB)
        } else {
            0.0
        };
        let target_lufs = round_to(rule.target_lufs - share_db, 10.0);
        let balance_loss_db = balance_loss_db(stem.info.channels, pans[i]);
        let (gain_db, trim_db) = if level.loudness_lufs.is_finite() {
            let needed = round_to(target_lufs - level.loudness_lufs + balance_loss_db, 10.0);
            let fader = needed.min(MAX_GAIN_DB);
            let trim = (needed - fader).min(MAX_GAIN_DB);
            if needed > 2.0 * MAX_GAIN_DB {
                warnings.push(format!(
                    "{name}: the stem is very quiet ({:.1} LUFS); it needs {needed:+.1} dB but gets {:+.1} dB",
                    level.loudness_lufs,
                    2.0 * MAX_GAIN_DB
                ));
            }
            (round_to(fader, 10.0), round_to(trim, 10.0))
        } else {
            warnings.push(format!(
                "{name}: {} is digital silence; its fader is left at 0 dB",
                stem.path.display()
            ));
            (0.0, 0.0)
        };
        let absolute = stems_canonical.join(&stem.relative);
        let relative =
            relative_path(&session_folder, &absolute).unwrap_or_else(|| absolute.clone());
        let source = session_path_text(&relative).ok_or_else(|| {
            import_error(
                &stem.path,
                "the path is not valid UTF-8, so a session file cannot name it",
            )
        })?;
        let rate = stem.info.sample_rate_hz;
        tracks.push(PlannedTrack {
            bus: bus_names
                .get(&role.group())
                .cloned()
                .unwrap_or_else(|| role.group().name().to_string()),
            name,
            path: stem.path.clone(),
            source,
            role,
            sample_rate_hz: rate,
            channels: stem.info.channels,
            duration_s: level.frames as f64 / f64::from(rate.max(1)),
            level: *level,
            target_lufs,
            gain_db,
            trim_db,
            pan: pans[i],
            balance_loss_db,
            high_pass: rule.high_pass,
        });
    }

    let project_name = options.project_name.clone().unwrap_or_else(|| {
        stems_canonical
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string()
    });
    let sample_rate_hz = project_rate(&tracks);
    let mut session = build_session(
        &tracks,
        &scan.stems,
        &bus_names,
        project_name,
        sample_rate_hz,
        options.tempo_bpm,
    );
    let longest_source_s = tracks.iter().map(|t| t.duration_s).fold(0.0, f64::max);
    let mix = set_master(
        &mut session,
        session_path,
        options,
        threads,
        longest_source_s,
    )?;

    if !(-24.0..=-14.0).contains(&mix.loudness_lufs) {
        warnings.push(format!(
            "the rough mix measures {:.1} LUFS, outside -24 … -14: its peaks (crest factor) leave no room at a {:.1} dBFS ceiling",
            mix.loudness_lufs, options.peak_ceiling_dbfs
        ));
    }
    if mix.sample_peak_dbfs > options.peak_ceiling_dbfs {
        warnings.push(format!(
            "the rough mix peaks at {:.2} dBFS, above the {:.1} dBFS ceiling",
            mix.sample_peak_dbfs, options.peak_ceiling_dbfs
        ));
    }
    if mix.duration_s > longest_source_s + 30.0 {
        warnings.push(format!(
            "the rough mix lasts {:.1} s, more than the longest stem ({longest_source_s:.1} s) + 30 s",
            mix.duration_s
        ));
    }
    for t in &tracks {
        let in_mix = t.in_mix_lufs(mix.master_gain_db);
        if t.level.loudness_lufs.is_finite() && in_mix < -60.0 {
            warnings.push(format!(
                "{}: about {in_mix:.1} LUFS in the mix, hard to hear",
                t.name
            ));
        }
    }
    Ok(InitPlan {
        session,
        session_path: session_path.to_path_buf(),
        stems_dir: stems_dir.to_path_buf(),
        tracks,
        skipped: scan.skipped,
        mix,
        warnings,
    })
}

/// Loudness a stem loses to its pan: nothing for mono (the −3 dB law keeps
/// the power), and for stereo what the balance control turns down
/// ([`balance_gains`]), assuming both channels equally loud.
fn balance_loss_db(channels: usize, pan: f64) -> f64 {
    if channels == 2 && pan != 0.0 {
        let (l, r) = balance_gains(pan);
        -10.0 * ((l * l + r * r) / 2.0).log10()
    } else {
        0.0
    }
}

/// The most common source rate; on a tie, the highest of them.
fn project_rate(tracks: &[PlannedTrack]) -> u32 {
    let mut counts: BTreeMap<u32, usize> = BTreeMap::new();
    for t in tracks {
        *counts.entry(t.sample_rate_hz).or_default() += 1;
    }
    counts
        .into_iter()
        .max_by_key(|&(rate, n)| (n, rate))
        .map_or(48_000, |(rate, _)| rate)
}

fn build_session(
    tracks: &[PlannedTrack],
    stems: &[Stem],
    bus_names: &BTreeMap<Group, String>,
    project_name: String,
    sample_rate_hz: u32,
    tempo_bpm: f64,
) -> Session {
    let session_tracks = tracks
        .iter()
        .zip(stems)
        .map(|(t, stem)| {
            // A stem of unknown length (some compressed streams) needs a
            // clip with a length; a trim is a clip gain.
            let length_unknown = stem.info.frames.is_none();
            let (source, clips) = if t.trim_db != 0.0 || length_unknown {
                let clip = Clip {
                    source: t.source.clone(),
                    at: Position::Seconds(0.0),
                    source_offset: None,
                    length: length_unknown.then_some(Position::Seconds(t.duration_s)),
                    gain_db: t.trim_db,
                    fade_in: None,
                    fade_out: None,
                };
                (None, vec![clip])
            } else {
                (Some(t.source.clone()), Vec::new())
            };
            Track {
                name: t.name.clone(),
                source,
                clips,
                solo: false,
                gain_db: t.gain_db,
                pan: t.pan,
                width: 1.0,
                pan_law_db: None,
                mute: false,
                invert_polarity: false,
                inserts: vec![Insert {
                    id: "hpf".into(),
                    bypass: false,
                    processor: ProcessorSpec::Hpf(FilterSpec {
                        freq_hz: t.high_pass.freq_hz,
                        slope_db_oct: Some(t.high_pass.slope_db_oct),
                    }),
                }],
                sends: Vec::new(),
                automation: Vec::new(),
                bus: Some(t.bus.clone()),
            }
        })
        .collect();
    let buses = bus_names
        .values()
        .map(|name| Bus {
            name: name.clone(),
            gain_db: 0.0,
            pan: 0.0,
            width: 1.0,
            pan_law_db: None,
            mute: false,
            invert_polarity: false,
            inserts: Vec::new(),
            sends: Vec::new(),
            automation: Vec::new(),
            bus: None,
        })
        .collect();
    Session {
        project: Project {
            name: project_name,
            sample_rate_hz,
            tempo_bpm,
            time_signature: [4, 4],
            pan_law_db: -3.0,
        },
        tracks: session_tracks,
        buses,
        master: MasterBus::default(),
        mastering: None,
    }
}

/// A TOML basic string.
fn toml_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The session as a person would write it (inline inserts, `[master]`
/// first, a comment per track), for the fields `init` sets.
fn readable_toml(session: &Session, comments: &[String]) -> String {
    use std::fmt::Write as _;
    let mut o = String::new();
    let p = &session.project;
    let [num, den] = p.time_signature;
    let _ = writeln!(o, "[project]");
    let _ = writeln!(o, "name = {}", toml_str(&p.name));
    let _ = writeln!(o, "sample_rate_hz = {}", p.sample_rate_hz);
    let _ = writeln!(o, "tempo_bpm = {:?}", p.tempo_bpm);
    let _ = writeln!(o, "time_signature = [{num}, {den}]");
    let _ = writeln!(o, "pan_law_db = {:?}", p.pan_law_db);
    let _ = writeln!(o, "\n[master]\ngain_db = {:?}", session.master.gain_db);
    for (i, t) in session.tracks.iter().enumerate() {
        let _ = writeln!(o);
        if let Some(c) = comments.get(i) {
            // Comments may hold any character but the control characters.
            let c: String = c
                .chars()
                .map(|ch| if ch.is_control() { ' ' } else { ch })
                .collect();
            let _ = writeln!(o, "# {c}");
        }
        let _ = writeln!(o, "[[track]]\nname = {}", toml_str(&t.name));
        if let Some(source) = &t.source {
            let _ = writeln!(o, "source = {}", toml_str(source));
        }
        if t.gain_db != 0.0 {
            let _ = writeln!(o, "gain_db = {:?}", t.gain_db);
        }
        if t.pan != 0.0 {
            let _ = writeln!(o, "pan = {:?}", t.pan);
        }
        if let Some(bus) = &t.bus {
            let _ = writeln!(o, "bus = {}", toml_str(bus));
        }
        let inserts: Vec<String> = t
            .inserts
            .iter()
            .filter_map(|insert| match &insert.processor {
                ProcessorSpec::Hpf(f) => Some(format!(
                    "{{ id = {}, hpf = {{ freq_hz = {:?}{} }} }}",
                    toml_str(&insert.id),
                    f.freq_hz,
                    f.slope_db_oct
                        .map(|s| format!(", slope_db_oct = {s:?}"))
                        .unwrap_or_default()
                )),
                // Not written here: the check in `session_toml` falls back.
                _ => None,
            })
            .collect();
        if !inserts.is_empty() {
            let _ = writeln!(o, "inserts = [{}]", inserts.join(", "));
        }
        for clip in &t.clips {
            let _ = writeln!(o, "[[track.clip]]\nsource = {}", toml_str(&clip.source));
            if let Some(Position::Seconds(length)) = clip.length {
                let _ = writeln!(o, "length = {length:?}");
            }
            if clip.gain_db != 0.0 {
                let _ = writeln!(o, "gain_db = {:?}", clip.gain_db);
            }
        }
    }
    for b in &session.buses {
        let _ = writeln!(o, "\n[[bus]]\nname = {}", toml_str(&b.name));
        if b.gain_db != 0.0 {
            let _ = writeln!(o, "gain_db = {:?}", b.gain_db);
        }
        if let Some(bus) = &b.bus {
            let _ = writeln!(o, "bus = {}", toml_str(bus));
        }
    }
    o
}

/// The session as TOML text: [`readable_toml`] when it reads back as the
/// very same session (it does for every session `init` builds), else the
/// generic serializer's text.
fn session_toml(session: &Session, comments: &[String]) -> Result<String, EngineError> {
    let text = readable_toml(session, comments);
    let same = LoadedSession::from_toml_str(&text, Path::new("session.toml"))
        .is_ok_and(|l| l.session == *session);
    if same {
        Ok(text)
    } else {
        session
            .to_toml_string()
            .map_err(|e| EngineError::Render(format!("cannot write the session as TOML: {e}")))
    }
}

/// What one render of the mix measured.
#[derive(Debug, Clone, Copy)]
struct Reading {
    loudness_lufs: f64,
    method: LoudnessMethod,
    sample_peak_dbfs: f64,
    true_peak_dbtp: f64,
    duration_s: f64,
}

/// Renders `session` (as it would load from `session_path`) into a meter.
/// The session goes through its TOML text and validation, so what is
/// measured is exactly what will be written.
fn render_reading(
    session: &Session,
    session_path: &Path,
    threads: usize,
) -> Result<Reading, EngineError> {
    let loaded = LoadedSession::from_toml_str(&session_toml(session, &[])?, session_path)?;
    let mut mixer = Mixer::build(&loaded)?;
    let mut options = MeterOptions::new(mixer.sample_rate_hz(), 2);
    options.series = false;
    let mut meter = Meter::new(options).map_err(|e| EngineError::Render(e.to_string()))?;
    mixer.render(threads, |block| {
        meter
            .process(block)
            .map_err(|e| EngineError::Render(e.to_string()))
    })?;
    let report = meter.report();
    let (loudness_lufs, method) = representative_loudness(&report);
    Ok(Reading {
        loudness_lufs,
        method,
        sample_peak_dbfs: report.sample_peak_dbfs,
        true_peak_dbtp: report.true_peak_dbtp,
        duration_s: report.duration_s,
    })
}

/// Sets the master fader so the mix lands at the target loudness with its
/// sample peak at or below the ceiling: render, compute the gain, render
/// again to check (at most [`MAX_RENDERS`] renders).
fn set_master(
    session: &mut Session,
    session_path: &Path,
    options: &InitOptions,
    threads: usize,
    longest_source_s: f64,
) -> Result<MixCheck, EngineError> {
    let mut master = 0.0;
    session.master.gain_db = master;
    let mut reading = render_reading(session, session_path, threads)?;
    let mut renders = 1;
    while renders < MAX_RENDERS && reading.loudness_lufs.is_finite() {
        // The master strip is a plain fader: level and peak move with it dB for dB.
        let at_unity = reading.loudness_lufs - master;
        let peak_at_unity = reading.sample_peak_dbfs - master;
        let for_loudness = round_to(options.mix_target_lufs - at_unity, 10.0);
        let for_peak =
            ((options.peak_ceiling_dbfs - PEAK_MARGIN_DB - peak_at_unity) * 10.0).floor() / 10.0;
        let next = for_loudness.min(for_peak).min(MAX_GAIN_DB);
        let peak_ok = reading.sample_peak_dbfs <= options.peak_ceiling_dbfs;
        if (next - master).abs() < 0.05 && peak_ok {
            break;
        }
        master = next;
        session.master.gain_db = master;
        reading = render_reading(session, session_path, threads)?;
        renders += 1;
    }
    Ok(MixCheck {
        master_gain_db: master,
        loudness_lufs: reading.loudness_lufs,
        method: reading.method,
        sample_peak_dbfs: reading.sample_peak_dbfs,
        true_peak_dbtp: reading.true_peak_dbtp,
        duration_s: reading.duration_s,
        longest_source_s,
        renders,
    })
}

/// The text of the session file: a short comment on how it was made, then
/// the session.
///
/// # Errors
/// [`EngineError::Render`] if the session cannot be written as TOML.
pub fn session_text(plan: &InitPlan) -> Result<String, EngineError> {
    let m = &plan.mix;
    let comments: Vec<String> = plan
        .tracks
        .iter()
        .map(|t| {
            let trim = if t.trim_db == 0.0 {
                String::new()
            } else {
                format!(" (fader {:+.1} dB + clip {:+.1} dB)", t.gain_db, t.trim_db)
            };
            format!(
                "{}: measured {:.1} LUFS ({}), aimed at {:.1} LUFS{trim}",
                t.role.name(),
                t.level.loudness_lufs,
                t.level.method.label(),
                t.target_lufs,
            )
        })
        .collect();
    Ok(format!(
        "# Written by `mixmaster init` from {}.\n\
         # Rough mix: each fader sets its stem to its role's loudness (see docs/init.md);\n\
         # the master fader puts the mix at {:.1} LUFS, sample peak {:.1} dBFS.\n\
         # Edit freely.\n\n{}",
        plan.stems_dir.display(),
        m.loudness_lufs,
        m.sample_peak_dbfs,
        session_toml(&plan.session, &comments)?
    ))
}

/// Writes the session atomically (a temporary file renamed into place).
/// An existing file is replaced only with `force`; a stem is never
/// overwritten, even with `force`.
///
/// # Errors
/// [`EngineError::Import`] when the file exists and `force` is off;
/// [`EngineError::Io`] when it names a stem or cannot be written.
pub fn write_session(plan: &InitPlan, force: bool) -> Result<(), EngineError> {
    let path = &plan.session_path;
    if !force && std::fs::symlink_metadata(path).is_ok() {
        return Err(import_error(
            path,
            "already exists; use --force to overwrite it",
        ));
    }
    let text = session_text(plan)?;
    let inputs: Vec<&Path> = plan.tracks.iter().map(|t| t.path.as_path()).collect();
    let (atomic, mut file) = AtomicFile::create(path, &inputs)?;
    file.write_all(text.as_bytes())
        .map_err(|source| IoError::Write {
            path: path.clone(),
            source,
        })?;
    atomic.commit(file)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths() {
        let rel = |a: &str, b: &str| relative_path(Path::new(a), Path::new(b));
        assert_eq!(rel("/a/b", "/a/b/c/d.wav"), Some(PathBuf::from("c/d.wav")));
        assert_eq!(rel("/a/b", "/a/x/d.wav"), Some(PathBuf::from("../x/d.wav")));
        assert_eq!(rel("/a/b", "/a/b/d.wav"), Some(PathBuf::from("d.wav")));
        assert_eq!(
            session_path_text(Path::new("../x/d.wav")).as_deref(),
            Some("../x/d.wav")
        );
    }

    #[test]
    fn readable_toml_reads_back_as_the_same_session() {
        let text = r#"
[project]
name = "Dan's \"Demo\" \\ ünïcode"
sample_rate_hz = 44100
tempo_bpm = 92.5
[master]
gain_db = -4.3
[[track]]
name = "Kick \"In\""
source = "stems/01 kick\\in.wav"
gain_db = 1.1
pan = -0.8
bus = "Drums"
inserts = [{ id = "hpf", hpf = { freq_hz = 30, slope_db_oct = 12 } }]
[[track]]
name = "HH"
bus = "Drums"
[[track.clip]]
source = "stems/hh.mp3"
length = 12.5
gain_db = 4.1
[[bus]]
name = "Drums"
"#;
        let session = LoadedSession::from_toml_str(text, Path::new("a.toml"))
            .unwrap_or_else(|e| panic!("{e}"))
            .session;
        let comments = ["a \"comment\" with\na newline\u{7}".to_string()];
        let written = readable_toml(&session, &comments);
        let back = LoadedSession::from_toml_str(&written, Path::new("a.toml"))
            .unwrap_or_else(|e| panic!("{e}\n{written}"))
            .session;
        assert_eq!(back, session, "{written}");
        assert_eq!(session_toml(&session, &comments).ok(), Some(written));
    }

    #[test]
    fn numbering_is_only_a_short_leading_number() {
        assert_eq!(strip_numbering("01_kick"), "kick");
        assert_eq!(strip_numbering("1.kick"), "kick");
        assert_eq!(strip_numbering("01 - kick"), "kick");
        assert_eq!(strip_numbering("0003_kick"), "kick");
        assert_eq!(strip_numbering("808_bass"), "808_bass");
        assert_eq!(strip_numbering("01"), "01");
        assert_eq!(strip_numbering("2nd_gtr"), "2nd_gtr");
    }

    #[test]
    fn project_rate_is_the_most_common_then_the_highest() {
        let t = |rate| PlannedTrack {
            name: String::new(),
            path: PathBuf::new(),
            source: String::new(),
            role: Role::Other,
            bus: String::new(),
            sample_rate_hz: rate,
            channels: 1,
            duration_s: 1.0,
            level: StemLevel {
                loudness_lufs: -20.0,
                method: LoudnessMethod::Integrated,
                sample_peak_dbfs: -6.0,
                frames: 1,
            },
            target_lufs: -20.0,
            gain_db: 0.0,
            trim_db: 0.0,
            pan: 0.0,
            balance_loss_db: 0.0,
            high_pass: Role::Other.rule().high_pass,
        };
        assert_eq!(project_rate(&[t(44_100), t(48_000), t(44_100)]), 44_100);
        assert_eq!(project_rate(&[t(44_100), t(48_000)]), 48_000);
    }
}
