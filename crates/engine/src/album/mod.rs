//! Album assembly and release delivery (`mixmaster album`): the songs of an
//! album file in order, with their gaps, segues and crossfades, at
//! consistent loudness, delivered as a CD image (CUE sheet, PQ listing,
//! per-track CD files) and as tagged streaming files.
//!
//! **Steps.**
//! 1. Every song's audio is made ready: a mastered file or a mix as it is
//!    (trimmed if asked), a session rendered to a float premaster, a
//!    generated programme written out. Each is metered (integrated
//!    loudness `L`).
//! 2. **Levels.** Each song gets an aim: in `album` mode
//!    `target + (L + level_db) − max(L + level_db)` — one gain for all, the
//!    loudest song at the target, quiet songs stay as much quieter as they
//!    were; in `track` mode `target + level_db`; in `none` mode
//!    `L + level_db`. Each song is then mastered to its aim once, at the
//!    highest delivery rate (a lower-rate delivery resamples it), into a
//!    float file ([`crate::master::master_file`]: a mix goes
//!    through the mastering chain, a mastered file only through gain and
//!    the true-peak limiter at the album's ceiling, which leaves it
//!    untouched when nothing is over).
//! 3. **Assembly**, once per delivery: the songs on the timeline
//!    ([`layout`]), fades and crossfades applied, one true-peak limiter over
//!    the whole album at the ceiling (it only acts where a crossfade sums
//!    over it), dither once to the delivery word length (digital silence —
//!    gaps, padding — stays digital silence), then one stream
//!    split at the track starts: the CD image and its per-track files, or
//!    the streaming files. Split points come from one continuous stream, so
//!    the tracks played back to back are the album sample for sample.
//! 4. **Proof.** Every written file is decoded and metered (our meter and
//!    the model of ffmpeg's true-peak reading); a file over the ceiling
//!    makes the assembly repeat with the album limiter's ceiling lowered by
//!    the overshoot. ReplayGain 2.0 values (track and album, −18 LUFS
//!    reference) come from these measurements; the album's loudness is the
//!    merged gating of all tracks, as one programme.
//!
//! Outputs go to a staging folder inside the output folder and are moved
//! into place only when everything succeeded: a failure leaves no partial
//! delivery.

pub mod cd;
pub mod layout;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use mixmaster_core::targets::Target;
use mixmaster_core::{AudioBuffer, Processor};
use mixmaster_dsp::{Limiter, LimiterOptions, NoiseShaping};
use mixmaster_io::{
    AudioReader, AudioWriter, BextInfo, Encoding, FileFormat, Metadata, ReplayGain, Rf64Policy,
    Tags, WriteOptions, WriteSpec,
};
use mixmaster_meter::{LoudnessBlocks, Meter, MeterOptions, MeterReport};
use mixmaster_session::album::{self, LoudnessMode, SongSource};
use mixmaster_session::{Curve, LoadedAlbum, LoadedSession, MasteringSpec};

use crate::error::EngineError;
use crate::master::{self, MasterSettings, MasterSummary};
use crate::render::{RenderOptions, render_to_file};
use layout::{Layout, SongTiming};

/// Frames per assembly block.
const BLOCK: usize = 8192;
/// Assemblies at most (the first, and lowered album-limiter ceilings).
const MAX_ASSEMBLIES: usize = 4;
/// ReplayGain 2.0 reference loudness.
pub const REPLAYGAIN_REFERENCE_LUFS: f64 = -18.0;
/// Default delivery preset of an album.
pub const DEFAULT_TARGET: &str = "spotify";

/// What to make, and where.
#[derive(Debug, Clone)]
pub struct AlbumOptions {
    /// The output folder (created if missing; must be empty unless
    /// `force`).
    pub out_dir: PathBuf,
    /// Make the CD delivery.
    pub cd: bool,
    /// Make the streaming delivery.
    pub streaming: bool,
    /// Write into a folder that is not empty (files of the same name, and
    /// those a previous album run listed in its `album.json`, are replaced).
    pub force: bool,
    /// Worker threads for rendering sessions.
    pub threads: usize,
}

/// Where the album is: a stage and its progress.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    /// What is being done (`mastering 2/5 'Title' at 44100 Hz`).
    pub stage: String,
    /// Frames done in this stage.
    pub done: u64,
    /// Frames in this stage.
    pub total: u64,
}

/// One song as prepared and mastered.
#[derive(Debug, Clone)]
pub struct SongResult {
    /// Title.
    pub title: String,
    /// "file", "mix", "session" or "generate".
    pub source_kind: &'static str,
    /// The source as named in the album file.
    pub source: String,
    /// Integrated loudness of the source (after trims), LUFS.
    pub input_lufs: f64,
    /// `level_db` of the song.
    pub level_db: f64,
    /// Integrated loudness the song was mastered to, LUFS.
    pub aim_lufs: f64,
    /// The mastering chain (`None` for a mastered file: gain and limiter
    /// only).
    pub chain: Option<MasteringSpec>,
    /// The rate the song was mastered at: the highest delivery rate
    /// (deliveries at a lower rate resample the master).
    pub master_rate_hz: u32,
    /// What mastering the song did.
    pub mastering: MasterSummary,
}

/// Figures of one delivered track (decoded again and metered).
#[derive(Debug, Clone)]
pub struct TrackResult {
    /// Track number from 1.
    pub number: usize,
    /// Title.
    pub title: String,
    /// Meter readings of the track file.
    pub report: MeterReport,
    /// The true peak as ffmpeg reads it (modelled), dBTP.
    pub ffmpeg_true_peak_dbtp: f64,
    /// Start on the album timeline (INDEX 01), in frames.
    pub start: u64,
    /// Frames in the track file.
    pub frames: u64,
    /// The files written for it (final paths).
    pub files: Vec<PathBuf>,
    /// ReplayGain values written (streaming).
    pub replay_gain: ReplayGain,
}

/// One delivery: CD or streaming.
#[derive(Debug, Clone)]
pub struct DeliveryResult {
    /// "cd" or "streaming".
    pub kind: &'static str,
    /// Rate of the files.
    pub sample_rate_hz: u32,
    /// Word length.
    pub bits: u32,
    /// The tracks.
    pub tracks: Vec<TrackResult>,
    /// The album as one programme: integrated loudness of the merged gating
    /// blocks of all tracks, LUFS.
    pub album_lufs: f64,
    /// Loudness range of the album as one programme, LU.
    pub album_lra_lu: Option<f64>,
    /// Highest true peak of any track, dBTP (our meter).
    pub album_true_peak_dbtp: f64,
    /// Highest true peak of any track as ffmpeg reads it, dBTP.
    pub album_ffmpeg_true_peak_dbtp: f64,
    /// Integrated loudness of the loudest track minus the quietest, LU.
    pub spread_lu: f64,
    /// Largest gain reduction of the album limiter (crossfade sums), dB.
    pub album_limiter_reduction_db: f64,
    /// The album limiter's ceiling used (lowered if a file measured over).
    pub album_limiter_ceiling_dbtp: f64,
    /// Files other than the tracks' (image, CUE sheet, PQ listings).
    pub files: Vec<PathBuf>,
    /// The album length in frames.
    pub total_frames: u64,
}

/// What `make_album` did.
#[derive(Debug, Clone)]
pub struct AlbumSummary {
    /// The output folder.
    pub out_dir: PathBuf,
    /// Loudness mode.
    pub mode: LoudnessMode,
    /// Target loudness, LUFS.
    pub target_lufs: f64,
    /// True-peak ceiling, dBTP.
    pub ceiling_dbtp: f64,
    /// The songs.
    pub songs: Vec<SongResult>,
    /// The deliveries made.
    pub deliveries: Vec<DeliveryResult>,
    /// `album.json`, the log of the run.
    pub log: PathBuf,
    /// Notes (for example a song the limiter had to hold).
    pub notes: Vec<String>,
}

/// A song's audio, ready to master.
struct Prepared {
    /// The file to master (the source, or a staged copy).
    path: PathBuf,
    kind: &'static str,
    source: String,
    /// The mastering chain; `None` for a mastered file (gain and limiter
    /// only).
    chain: Option<(MasteringSpec, PathBuf)>,
    input_lufs: f64,
}

/// Builds the album `loaded` describes into `options.out_dir`.
pub fn make_album(
    loaded: &LoadedAlbum,
    options: &AlbumOptions,
    mut progress: impl FnMut(&Progress),
) -> Result<AlbumSummary, EngineError> {
    let a = &loaded.album;
    if !options.cd && !options.streaming {
        return Err(EngineError::Render(
            "nothing to deliver: ask for the CD, streaming or both".into(),
        ));
    }
    let target_id = a.loudness.target.as_deref().unwrap_or(DEFAULT_TARGET);
    let preset = Target::by_id(target_id).map_err(|e| {
        loaded.error_at(
            &mixmaster_session::FieldPath::root()
                .key("loudness")
                .key("target"),
            e.to_string(),
            None,
        )
    })?;
    let mode = a.loudness.mode();
    let target_lufs = match (a.loudness.integrated_lufs, preset.integrated_lufs, mode) {
        (Some(l), _, _) | (None, Some(l), _) => l,
        (None, None, LoudnessMode::None) => f64::NAN,
        (None, None, _) => {
            return Err(loaded
                .error_at(
                    &mixmaster_session::FieldPath::root().key("loudness"),
                    format!(
                        "target '{}' has no loudness; give integrated_lufs, or mode = \"none\"",
                        preset.id
                    ),
                    None,
                )
                .into());
        }
    };
    let ceiling_dbtp = a
        .loudness
        .ceiling_dbtp
        .unwrap_or_else(|| preset.ceiling_for(target_lufs));

    // Sources exist before anything is made.
    for (i, s) in a.songs.iter().enumerate() {
        let (key, name) = match s.source() {
            SongSource::File(f) => ("file", f),
            SongSource::Mix(m) => ("mix", m),
            SongSource::Session(p) => ("session", p),
            SongSource::Generate(g) => {
                if crate::programmes::programme(g, 1.0).is_none() {
                    return Err(loaded
                        .error_at(
                            &LoadedAlbum::song_field(i).key("generate"),
                            format!(
                                "song {} '{}': no generated programme '{g}'; there are: {}",
                                i + 1,
                                s.title,
                                crate::programmes::names().collect::<Vec<_>>().join(", ")
                            ),
                            None,
                        )
                        .into());
                }
                continue;
            }
        };
        let path = loaded.resolve(name);
        if !path.is_file() {
            return Err(loaded
                .error_at(
                    &LoadedAlbum::song_field(i).key(key),
                    format!(
                        "song {} '{}': {} does not exist or is not a file",
                        i + 1,
                        s.title,
                        path.display()
                    ),
                    None,
                )
                .into());
        }
    }

    // A delivered file must never replace a source.
    if let Ok(out_dir) = options.out_dir.canonicalize() {
        for (i, s) in a.songs.iter().enumerate() {
            let name = match s.source() {
                SongSource::File(f) | SongSource::Mix(f) | SongSource::Session(f) => f,
                SongSource::Generate(_) => continue,
            };
            if let Ok(src) = loaded.resolve(name).canonicalize()
                && (["cd", "streaming"]
                    .iter()
                    .any(|d| src.starts_with(out_dir.join(d)))
                    || src == out_dir.join("album.json"))
            {
                return Err(EngineError::Render(format!(
                    "song {} '{}': {} is inside the delivery folders of {}, which this run \
                     replaces; move it out or deliver elsewhere",
                    i + 1,
                    s.title,
                    src.display(),
                    options.out_dir.display()
                )));
            }
        }
    }
    let out = Output::open(&options.out_dir, options.force)?;
    let result = (|| {
        let mut notes = Vec::new();
        let prepared = prepare_songs(loaded, options, &out.staging, &mut progress)?;

        // Aims.
        let offsets: Vec<f64> = a.songs.iter().map(|s| s.level_db.unwrap_or(0.0)).collect();
        let loudest = prepared
            .iter()
            .zip(&offsets)
            .map(|(p, o)| p.input_lufs + o)
            .fold(f64::NEG_INFINITY, f64::max);
        let aims: Vec<f64> = prepared
            .iter()
            .zip(&offsets)
            .map(|(p, o)| match mode {
                LoudnessMode::Album => target_lufs + (p.input_lufs + o) - loudest,
                LoudnessMode::Track => target_lufs + o,
                LoudnessMode::None => p.input_lufs + o,
            })
            .collect();

        let cd_rate = cd::CD_RATE as u32;
        let streaming_rate = a.streaming.sample_rate_hz.unwrap_or(cd_rate);
        // One master per song, at the highest delivery rate; a delivery at
        // a lower rate resamples it (as a CD is made from a high-resolution
        // master), and its album limiter and proof hold the ceiling.
        let master_rate = match (options.cd, options.streaming) {
            (true, true) => cd_rate.max(streaming_rate),
            (true, false) => cd_rate,
            _ => streaming_rate,
        };
        let mut songs: Vec<SongResult> = Vec::with_capacity(prepared.len());
        let mut masters: Vec<PathBuf> = Vec::with_capacity(prepared.len());
        for (i, p) in prepared.iter().enumerate() {
            let dst = out.staging.join(format!("master-{:02}.wav", i + 1));
            let settings = song_settings(p, aims[i], ceiling_dbtp, master_rate, &a.loudness)?;
            let stage = format!(
                "mastering {}/{} '{}'",
                i + 1,
                prepared.len(),
                a.songs[i].title
            );
            let summary =
                master::master_file(&p.path, &dst, &settings, FileFormat::Wav, |r, d, t| {
                    progress(&Progress {
                        stage: format!("{stage} (render {r})"),
                        done: d,
                        total: t,
                    });
                })
                .map_err(|e| song_error(i, &a.songs[i].title, e))?;
            if summary.max_limiter_reduction_db > 0.5 && p.chain.is_none() {
                notes.push(format!(
                    "song {} '{}': the gain it needed took the limiter to {:.1} dB of reduction",
                    i + 1,
                    a.songs[i].title,
                    summary.max_limiter_reduction_db
                ));
            }
            songs.push(SongResult {
                title: a.songs[i].title.clone(),
                source_kind: p.kind,
                source: p.source.clone(),
                input_lufs: p.input_lufs,
                level_db: offsets[i],
                aim_lufs: aims[i],
                chain: p.chain.as_ref().map(|c| c.0.clone()),
                master_rate_hz: master_rate,
                mastering: summary,
            });
            masters.push(dst);
        }

        let mut deliveries = Vec::new();
        if options.cd {
            let noise = noise_shaping(a.cd.noise_shaping.as_deref());
            deliveries.push(deliver(
                loaded,
                &songs,
                Delivery::Cd,
                &masters,
                cd_rate,
                16,
                noise,
                ceiling_dbtp,
                &out,
                &mut progress,
            )?);
        }
        if options.streaming {
            let bits = match a.streaming.bits.as_deref() {
                Some("16") => 16,
                _ => 24,
            };
            let noise = noise_shaping(a.streaming.noise_shaping.as_deref());
            deliveries.push(deliver(
                loaded,
                &songs,
                Delivery::Streaming,
                &masters,
                streaming_rate,
                bits,
                noise,
                ceiling_dbtp,
                &out,
                &mut progress,
            )?);
        }
        let summary = AlbumSummary {
            out_dir: options.out_dir.clone(),
            mode,
            target_lufs,
            ceiling_dbtp,
            songs,
            deliveries,
            log: options.out_dir.join("album.json"),
            notes,
        };
        write_log(&summary, loaded, &out)?;
        Ok(summary)
    })();
    match result {
        Ok(summary) => {
            out.commit()?;
            Ok(summary)
        }
        Err(e) => {
            out.abandon();
            Err(e)
        }
    }
}

/// An engine error about song `i`, naming it.
fn song_error(i: usize, title: &str, e: EngineError) -> EngineError {
    EngineError::Render(format!("song {} '{title}': {e}", i + 1))
}

fn noise_shaping(name: Option<&str>) -> NoiseShaping {
    match name {
        Some("first_order") => NoiseShaping::FirstOrder,
        Some("lipshitz") => NoiseShaping::Lipshitz,
        _ => NoiseShaping::None,
    }
}

/// Step 1: every song's audio as a file, metered.
fn prepare_songs(
    loaded: &LoadedAlbum,
    options: &AlbumOptions,
    staging: &Path,
    progress: &mut impl FnMut(&Progress),
) -> Result<Vec<Prepared>, EngineError> {
    let a = &loaded.album;
    let album_dir = loaded.path.parent().unwrap_or(Path::new("")).to_path_buf();
    let album_chain = a.mastering.clone().unwrap_or_default();
    let mut out = Vec::with_capacity(a.songs.len());
    for (i, s) in a.songs.iter().enumerate() {
        let err = |e: EngineError| song_error(i, &s.title, e);
        let stage = format!("preparing {}/{} '{}'", i + 1, a.songs.len(), s.title);
        progress(&Progress {
            stage: stage.clone(),
            done: 0,
            total: 1,
        });
        let song_chain = s.mastering.clone();
        let (path, kind, source, chain) = match s.source() {
            SongSource::File(f) => (loaded.resolve(f), "file", f.to_string(), None),
            SongSource::Mix(m) => (
                loaded.resolve(m),
                "mix",
                m.to_string(),
                Some((
                    song_chain.unwrap_or_else(|| album_chain.clone()),
                    album_dir.clone(),
                )),
            ),
            SongSource::Session(p) => {
                let session = LoadedSession::load(&loaded.resolve(p))?;
                let premaster = staging.join(format!("session-{:02}.wav", i + 1));
                render_to_file(
                    &session,
                    &RenderOptions {
                        output: premaster.clone(),
                        format: FileFormat::Wav,
                        encoding: Encoding::Float32,
                        threads: options.threads,
                        stems_dir: None,
                    },
                    |d, t| {
                        progress(&Progress {
                            stage: format!("{stage}: mixing {p}"),
                            done: d,
                            total: t,
                        });
                    },
                )
                .map_err(err)?;
                let session_dir = session.path.parent().unwrap_or(Path::new("")).to_path_buf();
                let chain = match (song_chain, &session.session.mastering) {
                    (Some(c), _) => (c, album_dir.clone()),
                    (None, Some(m)) => {
                        let mut m = m.clone();
                        // The album decides loudness, ceiling, rate and depth.
                        m.target = None;
                        m.integrated_lufs = None;
                        m.ceiling_dbtp = None;
                        (m, session_dir)
                    }
                    (None, None) => (album_chain.clone(), album_dir.clone()),
                };
                (premaster, "session", p.to_string(), Some(chain))
            }
            SongSource::Generate(g) => {
                let seconds = s.seconds.unwrap_or(album::DEFAULT_GENERATED_S);
                let prog = crate::programmes::programme(g, seconds)
                    .ok_or_else(|| EngineError::Render(format!("no generated programme '{g}'")))?;
                let path = staging.join(format!("generated-{:02}.wav", i + 1));
                let mut w = AudioWriter::create(
                    &path,
                    WriteSpec {
                        sample_rate_hz: prog.sample_rate_hz,
                        channels: prog.channels.len(),
                        format: FileFormat::Wav,
                        encoding: Encoding::Float32,
                    },
                    &[],
                )?;
                w.write(&prog.channels)?;
                w.finish()?;
                (
                    path,
                    "generate",
                    g.to_string(),
                    Some((
                        song_chain.unwrap_or_else(|| album_chain.clone()),
                        album_dir.clone(),
                    )),
                )
            }
        };
        let path = if s.start_s.is_some() || s.end_s.is_some() {
            let trimmed = staging.join(format!("trimmed-{:02}.wav", i + 1));
            trim(&path, &trimmed, s.start_s, s.end_s).map_err(err)?;
            trimmed
        } else {
            path
        };
        let report = master::measure_file(&path, false).map_err(err)?;
        if report.channels > 2 {
            return Err(err(EngineError::Render(format!(
                "{}: {} channels; an album takes mono or stereo songs",
                path.display(),
                report.channels
            ))));
        }
        if !report.integrated_lufs.is_finite() || report.integrated_lufs < master::SILENCE_LUFS {
            return Err(err(EngineError::Render(format!(
                "{}: the song is silent or nearly so (integrated {:.1} LUFS)",
                path.display(),
                report.integrated_lufs
            ))));
        }
        out.push(Prepared {
            path,
            kind,
            source,
            chain,
            input_lufs: report.integrated_lufs,
        });
    }
    Ok(out)
}

/// Copies `start_s ..= end_s` of `src` into a float WAV.
fn trim(
    src: &Path,
    dst: &Path,
    start_s: Option<f64>,
    end_s: Option<f64>,
) -> Result<(), EngineError> {
    let mut reader = AudioReader::open(src)?;
    let info = reader.info().clone();
    let fs = f64::from(info.sample_rate_hz);
    let start = (start_s.unwrap_or(0.0) * fs).round() as u64;
    let end = end_s.map(|e| (e * fs).round() as u64);
    let mut w = AudioWriter::create(
        dst,
        WriteSpec {
            sample_rate_hz: info.sample_rate_hz,
            channels: info.channels,
            format: FileFormat::Wav,
            encoding: Encoding::Float32,
        },
        &[src],
    )?;
    let mut buf = AudioBuffer::new(info.channels, 0);
    let mut at: u64 = 0;
    loop {
        let n = reader.read(&mut buf, 1 << 15)? as u64;
        if n == 0 {
            break;
        }
        let lo = start.max(at).min(at + n);
        let hi = end.map_or(at + n, |e| e.min(at + n)).max(lo);
        if hi > lo {
            let a = (lo - at) as usize;
            let b = (hi - at) as usize;
            let parts: Vec<&[f64]> = buf.planar().iter().map(|c| &c[a..b]).collect();
            w.write(&parts)?;
        }
        at += n;
        if end.is_some_and(|e| at >= e) {
            break;
        }
    }
    if w.frames() == 0 {
        return Err(EngineError::Render(format!(
            "{}: nothing left between start_s and end_s (the file is {:.2} s long)",
            src.display(),
            at as f64 / fs
        )));
    }
    w.finish()?;
    Ok(())
}

/// Mastering settings for one song at `rate`, aiming at `aim` LUFS.
fn song_settings(
    p: &Prepared,
    aim: f64,
    ceiling_dbtp: f64,
    rate: u32,
    loudness: &album::AlbumLoudness,
) -> Result<MasterSettings, EngineError> {
    let (mut spec, dir) = match &p.chain {
        Some((chain, dir)) => (chain.clone(), dir.clone()),
        None => (
            MasteringSpec {
                default_chain: Some(false),
                ..MasteringSpec::default()
            },
            PathBuf::from("."),
        ),
    };
    spec.target = None;
    spec.integrated_lufs = Some(aim.clamp(-60.0, 0.0));
    spec.ceiling_dbtp = Some(ceiling_dbtp);
    spec.sample_rate_hz = Some(rate);
    spec.bits = Some("32f".into());
    spec.channels = Some(2);
    if loudness.max_limiter_reduction_db.is_some() {
        spec.max_limiter_reduction_db = loudness.max_limiter_reduction_db;
    }
    if loudness.tolerance_lu.is_some() {
        spec.tolerance_lu = loudness.tolerance_lu;
    }
    let mut settings = MasterSettings::from_spec(&spec, FileFormat::Wav, &dir)?;
    // A song's float master is an intermediate: every track file made from
    // it is decoded and proved under the ceiling.
    settings.prove = false;
    Ok(settings)
}

/// The two deliveries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Delivery {
    Cd,
    Streaming,
}

impl Delivery {
    fn name(self) -> &'static str {
        match self {
            Delivery::Cd => "cd",
            Delivery::Streaming => "streaming",
        }
    }
}

/// `NN - Title` with characters file systems refuse replaced.
fn track_stem(n: usize, title: &str) -> String {
    let clean: String = title
        .chars()
        .map(|c| {
            if matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|') || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    let clean = clean.trim().trim_end_matches('.').to_string();
    format!("{n:02} - {clean}")
}

/// Steps 3 and 4 for one delivery.
#[allow(clippy::too_many_arguments)]
fn deliver(
    loaded: &LoadedAlbum,
    songs: &[SongResult],
    delivery: Delivery,
    masters: &[PathBuf],
    rate: u32,
    bits: u32,
    noise: NoiseShaping,
    ceiling_dbtp: f64,
    out: &Output,
    progress: &mut impl FnMut(&Progress),
) -> Result<DeliveryResult, EngineError> {
    let a = &loaded.album;
    let cd_frames = delivery == Delivery::Cd;
    let fs = f64::from(rate);
    let frames_of = |s: f64| (s * fs).round() as u64;
    let mut timings = Vec::with_capacity(masters.len());
    for (s, path) in a.songs.iter().zip(masters) {
        let frames = SongStream::open(path, rate)?.frames;
        timings.push(SongTiming {
            frames,
            gap_before: 0,
            crossfade: frames_of(s.crossfade()),
            segue: s.segue == Some(true),
            fade_in: frames_of(s.fade_in_s.unwrap_or(0.0)),
            fade_out: frames_of(s.fade_out_s.unwrap_or(0.0)),
            fade_curve: s.fade_curve.unwrap_or(Curve::SCurve),
            crossfade_curve: s.crossfade_curve.unwrap_or(Curve::EqualPower),
        });
    }
    for (i, t) in timings.iter_mut().enumerate() {
        t.gap_before = frames_of(a.gap_before(i));
    }
    let layout = layout::lay_out(&timings, cd_frames).map_err(|e| {
        loaded.error_at(
            &LoadedAlbum::song_field(e.song),
            format!(
                "song {} '{}': {}",
                e.song + 1,
                a.songs[e.song].title,
                e.message
            ),
            None,
        )
    })?;
    let disc = cd_frames.then(|| cd_disc(loaded, &layout));
    if let Some(d) = &disc {
        d.check_red_book()
            .map_err(|e| EngineError::Render(format!("CD delivery: {e}")))?;
        d.check_cd_text()
            .map_err(|e| EngineError::Render(format!("CD delivery: {e}")))?;
    }

    let dir = out.staging.join(delivery.name());
    std::fs::create_dir_all(&dir)
        .map_err(|e| EngineError::Render(format!("{}: {e}", dir.display())))?;
    let formats: Vec<FileFormat> = match delivery {
        Delivery::Cd => vec![FileFormat::Wav],
        Delivery::Streaming => a
            .streaming_formats()
            .iter()
            .map(|f| {
                if f == "flac" {
                    FileFormat::Flac
                } else {
                    FileFormat::Wav
                }
            })
            .collect(),
    };
    let stems: Vec<String> = a
        .songs
        .iter()
        .enumerate()
        .map(|(i, s)| track_stem(i + 1, &s.title))
        .collect();
    // The PCM of every track goes to a WAV first (the CD track files, or the
    // streaming WAVs, or a staging copy the FLACs are made from once the
    // album's ReplayGain is known).
    let track_wav = |i: usize| match delivery {
        Delivery::Cd => dir.join("tracks").join(format!("{}.wav", stems[i])),
        Delivery::Streaming => dir.join(format!("{}.wav", stems[i])),
    };
    if delivery == Delivery::Cd {
        std::fs::create_dir_all(dir.join("tracks"))
            .map_err(|e| EngineError::Render(format!("{}: {e}", dir.display())))?;
    }
    let image = dir.join("album.wav");

    let mut limiter_ceiling = ceiling_dbtp;
    let mut attempt = 0;
    let (pass, proofs) = loop {
        attempt += 1;
        let pass = assemble(
            loaded,
            delivery,
            masters,
            &layout,
            rate,
            bits,
            noise,
            limiter_ceiling,
            &track_wav,
            (delivery == Delivery::Cd).then_some(image.as_path()),
            progress,
        )?;
        let mut proofs = Vec::with_capacity(masters.len());
        let mut worst = f64::NEG_INFINITY;
        for i in 0..masters.len() {
            let (r, ff) = master::measure_file_with_peer(&track_wav(i), false)?;
            worst = worst.max(r.true_peak_dbtp.max(ff) - ceiling_dbtp);
            proofs.push((r, ff));
        }
        if worst <= 0.0 {
            break (pass, proofs);
        }
        if attempt >= MAX_ASSEMBLIES {
            return Err(EngineError::Render(format!(
                "{} delivery: a track still measures {worst:.2} dB over the {ceiling_dbtp:.2} dBTP \
                 ceiling after {attempt} assemblies — nothing delivered",
                delivery.name()
            )));
        }
        limiter_ceiling -= worst + 0.05;
    };

    // The album as one programme: the tracks' gating blocks merged.
    let mut merged = LoudnessBlocks::new();
    for b in &pass.blocks {
        merged.merge(b);
    }
    let album_lufs = merged.integrated_lufs();
    let album_peak_dbtp = proofs
        .iter()
        .map(|p| p.0.true_peak_dbtp)
        .fold(f64::NEG_INFINITY, f64::max);
    let album_ff_dbtp = proofs.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
    let lufs: Vec<f64> = proofs.iter().map(|p| p.0.integrated_lufs).collect();
    let spread_lu = lufs.iter().copied().fold(f64::NEG_INFINITY, f64::max)
        - lufs.iter().copied().fold(f64::INFINITY, f64::min);

    let mut tracks = Vec::with_capacity(masters.len());
    let mut files = Vec::new();
    let total = masters.len() as u32;
    for (i, (report, ff)) in proofs.into_iter().enumerate() {
        let s = &a.songs[i];
        let (start, end) = layout.track_range(i);
        let rg = ReplayGain {
            track_gain_db: Some(REPLAYGAIN_REFERENCE_LUFS - report.integrated_lufs),
            track_peak: Some(mixmaster_core::units::db_to_amplitude(
                report.true_peak_dbtp,
            )),
            album_gain_db: Some(REPLAYGAIN_REFERENCE_LUFS - album_lufs),
            album_peak: Some(mixmaster_core::units::db_to_amplitude(album_peak_dbtp)),
            reference_loudness_lufs: Some(REPLAYGAIN_REFERENCE_LUFS),
        };
        let mut track_files = Vec::new();
        match delivery {
            Delivery::Cd => track_files.push(track_wav(i)),
            Delivery::Streaming => {
                for f in &formats {
                    if *f == FileFormat::Flac {
                        let flac = dir.join(format!("{}.flac", stems[i]));
                        let tags = Tags {
                            album_artist: (performer(loaded, i) != a.album.artist)
                                .then(|| a.album.artist.clone()),
                            track_total: Some(total),
                            isrc: s
                                .isrc
                                .as_deref()
                                .map(|x| album::normalize_isrc(x).unwrap_or_default()),
                            replay_gain: rg,
                            extra: s
                                .songwriter
                                .iter()
                                .map(|w| ("COMPOSER".to_string(), w.clone()))
                                .collect(),
                            ..track_tags(loaded, i)
                        };
                        transcode(&track_wav(i), &flac, bits, tags)?;
                        track_files.push(flac);
                    }
                }
                if formats.contains(&FileFormat::Wav) {
                    track_files.push(track_wav(i));
                }
                let sidecar = dir.join(format!("{}.json", stems[i]));
                write_json(
                    &sidecar,
                    &track_json(loaded, &songs[i], i, &report, ff, &rg, &pass, rate),
                )?;
                track_files.push(sidecar);
            }
        }
        tracks.push(TrackResult {
            number: i + 1,
            title: s.title.clone(),
            report,
            ffmpeg_true_peak_dbtp: ff,
            start,
            frames: end - start,
            files: track_files.iter().map(|p| out.final_path(p)).collect(),
            replay_gain: rg,
        });
        if delivery == Delivery::Streaming && !formats.contains(&FileFormat::Wav) {
            std::fs::remove_file(track_wav(i)).ok();
        }
    }
    if let Some(d) = &disc {
        files.push(image.clone());
        for (name, text) in [
            ("album.cue", d.cue_sheet()),
            ("pq.txt", d.pq_text()),
            ("pq.csv", d.pq_csv()),
        ] {
            let p = dir.join(name);
            std::fs::write(&p, text)
                .map_err(|e| EngineError::Render(format!("{}: {e}", p.display())))?;
            files.push(p);
        }
    }
    Ok(DeliveryResult {
        kind: delivery.name(),
        sample_rate_hz: rate,
        bits,
        tracks,
        album_lufs,
        album_lra_lu: merged.lra_lu(),
        album_true_peak_dbtp: album_peak_dbtp,
        album_ffmpeg_true_peak_dbtp: album_ff_dbtp,
        spread_lu,
        album_limiter_reduction_db: pass.limiter_reduction_db,
        album_limiter_ceiling_dbtp: limiter_ceiling,
        files: files.iter().map(|p| out.final_path(p)).collect(),
        total_frames: layout.total,
    })
}

fn performer(loaded: &LoadedAlbum, i: usize) -> String {
    let a = &loaded.album;
    a.songs[i]
        .performer
        .clone()
        .unwrap_or_else(|| a.album.artist.clone())
}

/// The tags every streaming format of track `i` carries (RIFF INFO holds
/// no more; FLAC adds ISRC, totals and ReplayGain).
fn track_tags(loaded: &LoadedAlbum, i: usize) -> Tags {
    let a = &loaded.album;
    Tags {
        title: Some(a.songs[i].title.clone()),
        artist: Some(performer(loaded, i)),
        album: Some(a.album.title.clone()),
        track_number: Some(i as u32 + 1),
        date: a.album.date.clone(),
        genre: a.album.genre.clone(),
        ..Tags::default()
    }
}

/// The disc of a CD layout.
fn cd_disc(loaded: &LoadedAlbum, layout: &Layout) -> cd::CdDisc {
    let a = &loaded.album;
    cd::CdDisc {
        title: a.album.title.clone(),
        performer: a.album.artist.clone(),
        songwriter: a.album.songwriter.clone(),
        catalog: a
            .album
            .catalog
            .as_deref()
            .map(|c| album::catalog_13(c).unwrap_or_default()),
        genre: a.album.genre.clone(),
        date: a.album.date.clone(),
        image_file: "album.wav".into(),
        total_samples: layout.total,
        tracks: a
            .songs
            .iter()
            .zip(&layout.marks)
            .enumerate()
            .map(|(i, (s, m))| cd::CdTrack {
                title: s.title.clone(),
                performer: performer(loaded, i),
                songwriter: s.songwriter.clone(),
                isrc: s
                    .isrc
                    .as_deref()
                    .map(|x| album::normalize_isrc(x).unwrap_or_default()),
                index00: m.index00,
                index01: m.index01,
            })
            .collect(),
    }
}

/// What one assembly measured.
struct Pass {
    /// Gating blocks of each track, in order.
    blocks: Vec<LoudnessBlocks>,
    limiter_reduction_db: f64,
}

/// A song's master read into the album at the delivery rate (resampled
/// when the master is at another rate).
struct SongStream {
    reader: AudioReader,
    resampler: Option<mixmaster_io::Resampler>,
    buf: AudioBuffer,
    resampled: AudioBuffer,
    /// Delivery-rate frames decoded but not yet taken.
    fifo: Vec<Vec<f64>>,
    done: bool,
    /// Length at the delivery rate.
    frames: u64,
    /// Frames taken so far.
    at: u64,
}

impl SongStream {
    fn open(path: &Path, rate: u32) -> Result<Self, EngineError> {
        let reader = AudioReader::open(path)?;
        let info = reader.info().clone();
        let frames_in = info
            .frames
            .ok_or_else(|| EngineError::Render(format!("{}: unknown length", path.display())))?;
        let resampler = if info.sample_rate_hz == rate {
            None
        } else {
            Some(mixmaster_io::Resampler::new(
                info.sample_rate_hz,
                rate,
                info.channels,
            )?)
        };
        let frames = resampler
            .as_ref()
            .map_or(frames_in, |r| r.output_len(frames_in));
        Ok(Self {
            reader,
            resampler,
            buf: AudioBuffer::new(info.channels, 0),
            resampled: AudioBuffer::new(info.channels, 0),
            fifo: vec![Vec::new(); info.channels],
            done: false,
            frames,
            at: 0,
        })
    }

    /// Adds the next `n` frames, times `gain(frame)`, into `out[.., pos..]`.
    fn add_into(
        &mut self,
        out: &mut [Vec<f64>],
        pos: usize,
        n: usize,
        gain: impl Fn(u64) -> f64,
    ) -> Result<(), EngineError> {
        while self.fifo[0].len() < n && !self.done {
            let got = self.reader.read(&mut self.buf, BLOCK)?;
            let src = match (self.resampler.as_mut(), got) {
                (None, 0) => {
                    self.done = true;
                    continue;
                }
                (None, _) => &self.buf,
                (Some(r), 0) => {
                    r.flush(&mut self.resampled)?;
                    self.done = true;
                    &self.resampled
                }
                (Some(r), _) => {
                    r.process(self.buf.planar(), &mut self.resampled)?;
                    &self.resampled
                }
            };
            for (f, c) in self.fifo.iter_mut().zip(src.planar()) {
                f.extend_from_slice(c);
            }
        }
        if self.fifo[0].len() < n {
            return Err(EngineError::Render(format!(
                "{}: ended after {} of {} frames",
                self.reader.info().path.display(),
                self.at + self.fifo[0].len() as u64,
                self.frames
            )));
        }
        let last = self.fifo.len() - 1;
        for (c, o) in out.iter_mut().enumerate() {
            let src = &self.fifo[c.min(last)];
            for k in 0..n {
                o[pos + k] += gain(self.at + k as u64) * src[k];
            }
        }
        for f in &mut self.fifo {
            f.drain(..n);
        }
        self.at += n as u64;
        Ok(())
    }
}

/// Sums the songs onto the timeline, limits, dithers and writes the track
/// files (and the image), metering each track.
#[allow(clippy::too_many_arguments)]
fn assemble(
    loaded: &LoadedAlbum,
    delivery: Delivery,
    masters: &[PathBuf],
    layout: &Layout,
    rate: u32,
    bits: u32,
    noise: NoiseShaping,
    ceiling_dbtp: f64,
    track_wav: &dyn Fn(usize) -> PathBuf,
    image: Option<&Path>,
    progress: &mut impl FnMut(&Progress),
) -> Result<Pass, EngineError> {
    let a = &loaded.album;
    let channels = 2;
    let mut limiter = Limiter::new(LimiterOptions {
        ceiling_dbtp,
        ..LimiterOptions::default()
    })
    .map_err(|e| EngineError::Render(format!("limiter: {e}")))?;
    limiter
        .prepare(rate, BLOCK, channels)
        .map_err(|e| EngineError::Render(format!("limiter: {e}")))?;
    let latency = limiter.latency_frames() as u64;
    let mut dither = crate::render::dither(bits, noise, rate, channels)?;
    let spec = WriteSpec {
        sample_rate_hz: rate,
        channels,
        format: FileFormat::Wav,
        encoding: if bits == 16 {
            Encoding::Pcm16
        } else {
            Encoding::Pcm24
        },
    };
    let inputs: Vec<&Path> = masters.iter().map(PathBuf::as_path).collect();
    let mut image_writer = match image {
        Some(p) => Some(AudioWriter::create_with(
            p,
            spec,
            &inputs,
            WriteOptions {
                rf64: Rf64Policy::Never,
                ..WriteOptions::default()
            },
        )?),
        None => None,
    };
    let track_options = |i: usize| -> WriteOptions {
        match delivery {
            // Plain WAV with the canonical header, as a plant and
            // `shntool split` write it.
            Delivery::Cd => WriteOptions {
                rf64: Rf64Policy::Never,
                ..WriteOptions::default()
            },
            Delivery::Streaming => {
                let s = &a.songs[i];
                WriteOptions {
                    metadata: Metadata {
                        tags: track_tags(loaded, i),
                        bext: Some(BextInfo {
                            description: format!("{} - {}", a.album.title, s.title),
                            ..BextInfo::default()
                        }),
                        ..Metadata::default()
                    },
                    ..WriteOptions::default()
                }
            }
        }
    };
    let n_tracks = masters.len();
    let mut track: usize = 0;
    let mut writer = Some(AudioWriter::create_with(
        &track_wav(0),
        spec,
        &inputs,
        track_options(0),
    )?);
    let new_meter = || {
        Meter::new(MeterOptions::new(rate, channels))
            .map_err(|e| EngineError::Render(e.to_string()))
    };
    let mut meter = new_meter()?;
    let mut blocks = Vec::with_capacity(n_tracks);
    let mut playing: Vec<Option<SongStream>> = (0..n_tracks).map(|_| None).collect();
    let stage = format!("assembling the {} delivery", delivery.name());
    let total = layout.total;
    let mut t0: u64 = 0; // timeline frame of the block's start (before latency)
    let mut written: u64 = 0;
    let mut out: Vec<Vec<f64>> = vec![vec![0.0; BLOCK]; channels];
    let mut silent = vec![false; BLOCK];
    while written < total {
        for c in &mut out {
            c.fill(0.0);
        }
        let t1 = t0 + BLOCK as u64;
        for (i, p) in layout.placements.iter().enumerate() {
            if p.start >= t1 || p.end() <= t0 {
                continue;
            }
            if playing[i].is_none() {
                playing[i] = Some(SongStream::open(&masters[i], rate)?);
            }
            let Some(pl) = playing[i].as_mut() else {
                continue;
            };
            let from = p.start.max(t0);
            let to = p.end().min(t1);
            pl.add_into(&mut out, (from - t0) as usize, (to - from) as usize, |k| {
                p.gain_at(k)
            })?;
            if pl.at >= p.frames {
                playing[i] = None;
            }
        }
        {
            let mut slices: Vec<&mut [f64]> = out.iter_mut().map(Vec::as_mut_slice).collect();
            limiter.process(&mut slices);
            // Digital silence (the gaps, the padding to a whole frame)
            // stays digital silence: dither is for signal.
            for (k, s) in silent.iter_mut().enumerate() {
                *s = slices.iter().all(|c| c[k] == 0.0);
            }
            dither.process(&mut slices);
            for (k, _) in silent.iter().enumerate().filter(|(_, s)| **s) {
                for c in slices.iter_mut() {
                    c[k] = 0.0;
                }
            }
        }
        // The limiter's output lags by its latency: block frames before it
        // are dropped, and the album continues past `total` until every
        // frame is out.
        let skip = latency.saturating_sub(t0).min(BLOCK as u64) as usize;
        let mut k = skip;
        while k < BLOCK && written < total {
            // Frames up to the next track start (or the album's end).
            let next_mark = layout
                .marks
                .get(track + 1)
                .map_or(total, |m| m.index01)
                .min(total);
            let take = ((BLOCK - k) as u64).min(next_mark - written) as usize;
            if take > 0 {
                let part: Vec<&[f64]> = out.iter().map(|c| &c[k..k + take]).collect();
                if let Some(w) = writer.as_mut() {
                    w.write(&part)?;
                }
                if let Some(w) = image_writer.as_mut() {
                    w.write(&part)?;
                }
                meter
                    .process(&part)
                    .map_err(|e| EngineError::Render(e.to_string()))?;
                written += take as u64;
                k += take;
            }
            if written == next_mark {
                // The track ends here.
                if let Some(mut w) = writer.take() {
                    if delivery == Delivery::Streaming {
                        w.set_loudness(master::loudness_of(&meter.report()))?;
                    }
                    w.finish()?;
                }
                blocks.push(meter.loudness_blocks().clone());
                meter = new_meter()?;
                track += 1;
                if track < n_tracks {
                    writer = Some(AudioWriter::create_with(
                        &track_wav(track),
                        spec,
                        &inputs,
                        track_options(track),
                    )?);
                }
            }
        }
        t0 = t1;
        progress(&Progress {
            stage: stage.clone(),
            done: written,
            total,
        });
    }
    if let Some(w) = image_writer {
        w.finish()?;
    }
    Ok(Pass {
        blocks,
        limiter_reduction_db: limiter.max_gain_reduction_db(),
    })
}

/// Copies a PCM WAV into a FLAC of the same word length with `tags`
/// (sample for sample: integer PCM read as float and written back at the
/// same depth is exact).
fn transcode(wav: &Path, flac: &Path, bits: u32, tags: Tags) -> Result<(), EngineError> {
    let mut reader = AudioReader::open(wav)?;
    let info = reader.info().clone();
    let mut w = AudioWriter::create_with(
        flac,
        WriteSpec {
            sample_rate_hz: info.sample_rate_hz,
            channels: info.channels,
            format: FileFormat::Flac,
            encoding: if bits == 16 {
                Encoding::Pcm16
            } else {
                Encoding::Pcm24
            },
        },
        &[wav],
        WriteOptions {
            metadata: Metadata {
                tags,
                ..Metadata::default()
            },
            ..WriteOptions::default()
        },
    )?;
    let mut buf = AudioBuffer::new(info.channels, 0);
    loop {
        let n = reader.read(&mut buf, 1 << 15)?;
        if n == 0 {
            break;
        }
        w.write(buf.planar())?;
    }
    w.finish()?;
    Ok(())
}

fn round2(v: f64) -> serde_json::Value {
    if v.is_finite() {
        serde_json::json!((v * 100.0).round() / 100.0)
    } else {
        serde_json::Value::Null
    }
}

/// The sidecar log of a streaming track.
#[allow(clippy::too_many_arguments)]
fn track_json(
    loaded: &LoadedAlbum,
    song: &SongResult,
    i: usize,
    report: &MeterReport,
    ffmpeg_tp: f64,
    rg: &ReplayGain,
    pass: &Pass,
    rate: u32,
) -> serde_json::Value {
    let a = &loaded.album;
    let s = &a.songs[i];
    serde_json::json!({
        "mixmaster_version": env!("CARGO_PKG_VERSION"),
        "album": a.album.title,
        "track": i + 1,
        "title": s.title,
        "performer": performer(loaded, i),
        "isrc": s.isrc.as_deref().map(|x| album::normalize_isrc(x).unwrap_or_default()),
        "sample_rate_hz": rate,
        "source": { song.source_kind: song.source },
        "mastering": {
            "sample_rate_hz": song.master_rate_hz,
            "input_figures": master::figures(&song.mastering.input),
            "aim_lufs": round2(song.aim_lufs),
            "level_db": song.level_db,
            "gain_db": round2(song.mastering.gain_db),
            "renders": song.mastering.renders,
            "ceiling_dbtp": song.mastering.ceiling_dbtp,
            "limiter_max_gain_reduction_db": round2(song.mastering.max_limiter_reduction_db),
            "limiter_average_gain_reduction_db": round2(song.mastering.average_limiter_reduction_db),
            "latency_frames_compensated": song.mastering.latency_frames,
            "song_figures": master::figures(&song.mastering.output_report),
            "notes": song.mastering.notes,
        },
        "output_figures": master::figures(report),
        "ffmpeg_true_peak_dbtp": round2(ffmpeg_tp),
        "replaygain": {
            "reference_lufs": REPLAYGAIN_REFERENCE_LUFS,
            "track_gain_db": rg.track_gain_db.map(round2),
            "track_peak": rg.track_peak,
            "album_gain_db": rg.album_gain_db.map(round2),
            "album_peak": rg.album_peak,
        },
        "album_limiter_max_gain_reduction_db": round2(pass.limiter_reduction_db),
    })
}

fn write_json(path: &Path, doc: &serde_json::Value) -> Result<(), EngineError> {
    let text = serde_json::to_string_pretty(doc).unwrap_or_default() + "\n";
    std::fs::write(path, text)
        .map_err(|e| EngineError::Render(format!("{}: cannot write: {e}", path.display())))
}

/// `album.json`: the run's log and the list of files it delivered.
fn write_log(s: &AlbumSummary, loaded: &LoadedAlbum, out: &Output) -> Result<(), EngineError> {
    let songs: Vec<serde_json::Value> = s
        .songs
        .iter()
        .map(|song| {
            serde_json::json!({
                "title": song.title,
                "source": { song.source_kind: song.source },
                "input_lufs": round2(song.input_lufs),
                "level_db": song.level_db,
                "aim_lufs": round2(song.aim_lufs),
                "chain": song.chain.as_ref().map(|c| serde_json::to_value(c).unwrap_or_default()),
                "mastering": {
                    "sample_rate_hz": song.master_rate_hz,
                    "gain_db": round2(song.mastering.gain_db),
                    "renders": song.mastering.renders,
                    "limiter_max_gain_reduction_db": round2(song.mastering.max_limiter_reduction_db),
                    "output_lufs": round2(song.mastering.output_report.integrated_lufs),
                    "output_true_peak_dbtp": round2(song.mastering.output_report.true_peak_dbtp),
                    "notes": song.mastering.notes,
                },
            })
        })
        .collect();
    let mut files: Vec<String> = Vec::new();
    let deliveries: Vec<serde_json::Value> = s
        .deliveries
        .iter()
        .map(|d| {
            for p in d.files.iter().chain(d.tracks.iter().flat_map(|t| &t.files)) {
                if let Ok(rel) = p.strip_prefix(&s.out_dir) {
                    files.push(rel.to_string_lossy().into_owned());
                }
            }
            serde_json::json!({
                "kind": d.kind,
                "sample_rate_hz": d.sample_rate_hz,
                "bits": d.bits,
                "album_lufs": round2(d.album_lufs),
                "album_lra_lu": d.album_lra_lu.map(round2),
                "album_true_peak_dbtp": round2(d.album_true_peak_dbtp),
                "album_ffmpeg_true_peak_dbtp": round2(d.album_ffmpeg_true_peak_dbtp),
                "spread_lu": round2(d.spread_lu),
                "album_limiter_max_gain_reduction_db": round2(d.album_limiter_reduction_db),
                "album_limiter_ceiling_dbtp": round2(d.album_limiter_ceiling_dbtp),
                "length_frames": d.total_frames,
                "tracks": d.tracks.iter().map(|t| serde_json::json!({
                    "number": t.number,
                    "title": t.title,
                    "start_frame": t.start,
                    "frames": t.frames,
                    "integrated_lufs": round2(t.report.integrated_lufs),
                    "true_peak_dbtp": round2(t.report.true_peak_dbtp),
                    "ffmpeg_true_peak_dbtp": round2(t.ffmpeg_true_peak_dbtp),
                    "lra_lu": t.report.lra_lu.map(round2),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    files.push("album.json".into());
    let doc = serde_json::json!({
        "mixmaster_version": env!("CARGO_PKG_VERSION"),
        "album_file": loaded.path.file_name().map(|n| n.to_string_lossy().into_owned()),
        "title": loaded.album.album.title,
        "artist": loaded.album.album.artist,
        "loudness": {
            "mode": match s.mode { LoudnessMode::Album => "album", LoudnessMode::Track => "track", LoudnessMode::None => "none" },
            "target_lufs": round2(s.target_lufs),
            "ceiling_dbtp": s.ceiling_dbtp,
        },
        "songs": songs,
        "deliveries": deliveries,
        "notes": s.notes,
        "files": files,
    });
    write_json(&out.staging.join("album.json"), &doc)
}

/// The output folder and its staging folder.
struct Output {
    dir: PathBuf,
    staging: PathBuf,
    created: bool,
    /// Files a previous run listed (replaced with `--force`).
    previous: Vec<PathBuf>,
}

impl Output {
    fn open(dir: &Path, force: bool) -> Result<Self, EngineError> {
        let fail = |m: String| EngineError::Render(format!("{}: {m}", dir.display()));
        let mut created = false;
        let mut previous = Vec::new();
        if dir.exists() {
            if !dir.is_dir() {
                return Err(fail("exists and is not a folder".into()));
            }
            let entries: Vec<_> = std::fs::read_dir(dir)
                .map_err(|e| fail(e.to_string()))?
                .filter_map(Result::ok)
                .collect();
            if !entries.is_empty() && !force {
                return Err(fail(format!(
                    "the output folder is not empty ({} entries); choose an empty or new folder, \
                     or give --force to replace what an earlier run wrote",
                    entries.len()
                )));
            }
            // Staging folders a killed run left behind.
            for e in &entries {
                if e.file_name()
                    .to_string_lossy()
                    .starts_with(".mixmaster-album-")
                    && e.path().is_dir()
                {
                    std::fs::remove_dir_all(e.path()).ok();
                }
            }
            if let Ok(text) = std::fs::read_to_string(dir.join("album.json"))
                && let Ok(doc) = serde_json::from_str::<serde_json::Value>(&text)
                && let Some(list) = doc.get("files").and_then(|f| f.as_array())
            {
                previous = list
                    .iter()
                    .filter_map(|f| f.as_str())
                    .map(Path::new)
                    .filter(|p| {
                        p.components()
                            .all(|c| matches!(c, std::path::Component::Normal(_)))
                    })
                    .map(|p| dir.join(p))
                    .collect();
            }
        } else {
            std::fs::create_dir_all(dir).map_err(|e| fail(format!("cannot create: {e}")))?;
            created = true;
        }
        let staging = dir.join(format!(".mixmaster-album-{}", std::process::id()));
        std::fs::create_dir_all(&staging).map_err(|e| fail(format!("cannot create: {e}")))?;
        Ok(Self {
            dir: dir.to_path_buf(),
            staging,
            created,
            previous,
        })
    }

    /// Where a staged file ends up.
    fn final_path(&self, staged: &Path) -> PathBuf {
        staged
            .strip_prefix(&self.staging)
            .map_or_else(|_| staged.to_path_buf(), |rel| self.dir.join(rel))
    }

    /// Moves the deliverables into place: `cd/`, `streaming/` and
    /// `album.json` (the intermediate masters stay behind and go).
    fn commit(self) -> Result<(), EngineError> {
        let fail = |p: &Path, e: std::io::Error| {
            EngineError::Render(format!("{}: cannot move into place: {e}", p.display()))
        };
        for p in &self.previous {
            if p.is_file() {
                std::fs::remove_file(p).ok();
            }
        }
        let mut moved = BTreeSet::new();
        for name in ["cd", "streaming"] {
            let src = self.staging.join(name);
            if !src.exists() {
                continue;
            }
            for file in walk(&src) {
                let dst = self.final_path(&file);
                if let Some(parent) = dst.parent() {
                    std::fs::create_dir_all(parent).map_err(|e| fail(parent, e))?;
                }
                std::fs::rename(&file, &dst).map_err(|e| fail(&dst, e))?;
                moved.insert(dst);
            }
        }
        let log = self.staging.join("album.json");
        std::fs::rename(&log, self.dir.join("album.json")).map_err(|e| fail(&log, e))?;
        std::fs::remove_dir_all(&self.staging).ok();
        Ok(())
    }

    /// Removes everything this run made.
    fn abandon(self) {
        std::fs::remove_dir_all(&self.staging).ok();
        if self.created {
            std::fs::remove_dir(&self.dir).ok();
        }
    }
}

/// Every file under `dir`, sorted.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        if let Ok(rd) = std::fs::read_dir(&d) {
            for e in rd.filter_map(Result::ok) {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    out.push(p);
                }
            }
        }
    }
    out.sort();
    out
}
