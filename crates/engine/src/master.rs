//! Mastering: one stereo (or mono) file in, a release-ready file out, at
//! the loudness a delivery target asks for and never over its true-peak
//! ceiling.
//!
//! Signal order (DESIGN.md): decode → channel layout → sample-rate
//! conversion to the delivery rate → the chain (inserts) → gain → true-peak
//! limiter → dither (integer outputs only) → write, every block metered.
//!
//! **Loudness to target.** The input is metered first; the first render
//! puts the gain at `target − input loudness`. The level measured is the
//! gated integrated loudness (LUFS), or for a target whose policy is an RMS
//! window (`acx`) the unweighted RMS of the whole file in dBFS
//! ([`LevelMeasure`]); the loop is the same for both. Each render is metered on the
//! way to the (temporary) output file; when the integrated loudness lands
//! within the tolerance the file is kept, otherwise the gain is corrected
//! (a secant step on the measured gain → loudness curve, which the limiter
//! bends) and the render repeats. A target that needs more limiter gain
//! reduction than `max_limiter_reduction_db` stops with the numbers.
//!
//! **Proof.** Every written file is decoded again and metered; if its true
//! peak is over the ceiling it is deleted and mastering fails. A lossy
//! output (MP3) is checked after encode → decode, and the limiter's ceiling
//! is lowered by the overshoot until the decoded file is under it.
//!
//! **ACX.** For an RMS-window target the decoded file is also checked
//! against ACX's requirements ([`crate::acx`]): RMS and sample peak, which
//! mastering controls, fail mastering when missed; noise floor, room tone
//! and delivery format are reported with what to do about them.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Instant;

use mixmaster_core::targets::{NormalizationPolicy, Target};
use mixmaster_core::{AudioBuffer, Processor};
use mixmaster_dsp::limiter::{AttackShape, Character};
use mixmaster_dsp::{Limiter, LimiterOptions, NoiseShaping};
use mixmaster_io::{
    AudioReader, AudioWriter, BextInfo, Encoding, FileFormat, Loudness, Metadata, Tags,
    WriteOptions, WriteSpec,
};
use mixmaster_meter::{FfmpegTruePeak, Meter, MeterOptions, MeterReport, MonoMode};
use mixmaster_session::{CompressorSpec, FilterSpec, Insert, MasteringSpec, ProcessorSpec};

use crate::acx::{self, AcxFigures, AcxReport, Delivery};
use crate::error::EngineError;
use crate::factory::{self, Context};
use crate::reference::{self, Analysis, MatchOptions, MatchPlan};
use crate::render::dither;

/// Frames per processing block.
const BLOCK: usize = 4096;
/// Blocks in flight between two stages of a render.
const PIPELINE_DEPTH: usize = 4;
/// Most renders of the loudness loop: speech limited to an RMS aim
/// (`acx`) into MP3 takes up to 8 (a flat gain → RMS curve, and two ceiling
/// corrections for the encoder's overs, each a render at the old gain).
const MAX_RENDERS: usize = 12;
/// Below this input loudness the input counts as silence: no gain is
/// applied to reach a target.
pub const SILENCE_LUFS: f64 = -70.0;
/// Default largest limiter gain reduction a target may need, in dB.
pub const DEFAULT_MAX_LIMITER_REDUCTION_DB: f64 = 12.0;
/// Default loudness tolerance in LU.
pub const DEFAULT_TOLERANCE_LU: f64 = 0.1;

/// The level the loudness loop measures and drives to the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LevelMeasure {
    /// Gated integrated loudness, ITU-R BS.1770 (LUFS).
    IntegratedLufs,
    /// Unweighted RMS of the whole file, all channels' power averaged
    /// (dBFS): ACX's RMS as Audacity's ACX Check computes it
    /// ([`MeterReport::rms_dbfs`], see [`crate::acx`]).
    RmsDbfs,
}

impl LevelMeasure {
    /// The measure a target's policy asks for.
    pub fn for_target(target: Option<&Target>) -> Self {
        match target.map(|t| t.policy) {
            Some(NormalizationPolicy::RmsWindow { .. }) => LevelMeasure::RmsDbfs,
            _ => LevelMeasure::IntegratedLufs,
        }
    }

    /// This level in a meter report.
    pub fn of(self, report: &MeterReport) -> f64 {
        match self {
            LevelMeasure::IntegratedLufs => report.integrated_lufs,
            LevelMeasure::RmsDbfs => report.rms_dbfs,
        }
    }

    /// `LUFS` or `dBFS RMS`.
    pub fn unit(self) -> &'static str {
        match self {
            LevelMeasure::IntegratedLufs => "LUFS",
            LevelMeasure::RmsDbfs => "dBFS RMS",
        }
    }

    /// `integrated_lufs` or `rms_dbfs` (sidecar keys).
    pub fn key(self) -> &'static str {
        match self {
            LevelMeasure::IntegratedLufs => "integrated_lufs",
            LevelMeasure::RmsDbfs => "rms_dbfs",
        }
    }

    /// `−14.0 LUFS`, `−20.0 dBFS RMS`, `−∞ …` for silence.
    fn show(self, v: f64) -> String {
        if v.is_finite() {
            format!("{v:.1} {}", self.unit())
        } else {
            format!("−∞ {}", self.unit())
        }
    }
}

/// Mastering settings, resolved from a [`MasteringSpec`] and the preset.
#[derive(Debug, Clone)]
pub struct MasterSettings {
    /// The delivery preset, if any.
    pub target: Option<&'static Target>,
    /// Level to reach in the unit of [`Self::level`]: integrated loudness
    /// (LUFS), or for an RMS-window target (`acx`) the RMS in dBFS (as
    /// [`Target::integrated_lufs`] holds it); `None` = no loudness change.
    pub integrated_lufs: Option<f64>,
    /// What the loudness loop measures (the preset's policy decides).
    pub level: LevelMeasure,
    /// True-peak ceiling in dBTP.
    pub ceiling_dbtp: f64,
    /// Largest limiter gain reduction the target may need (dB).
    pub max_limiter_reduction_db: f64,
    /// Loudness tolerance (LU).
    pub tolerance_lu: f64,
    /// Delivery rate (`None` = the input's).
    pub sample_rate_hz: Option<u32>,
    /// Output encoding.
    pub encoding: Encoding,
    /// Output channels (`None` = the input's).
    pub channels: Option<usize>,
    /// The chain before the limiter.
    pub inserts: Vec<Insert>,
    /// The default chain is used (its glue threshold follows the input).
    pub default_chain: bool,
    /// Limiter settings (the ceiling is set per render).
    pub limiter: LimiterOptions,
    /// Dither noise shaping (integer outputs).
    pub noise_shaping: NoiseShaping,
    /// Mono files measured as dual mono (the preset's convention).
    pub dual_mono: bool,
    /// Folder relative file names in the chain start from.
    pub base_dir: PathBuf,
    /// The settings as given, for the sidecar log.
    pub spec: MasteringSpec,
    /// Reference track to match (tone, width, loudness) and the amount
    /// 0 ..= 1.
    pub reference: Option<(PathBuf, f64)>,
    /// Tags of the deliverable (RIFF INFO, Vorbis comments or ID3v2.4).
    pub tags: Tags,
    /// Decode the written file and prove it under the ceiling (default
    /// true). Off only for intermediate float files that are proved later
    /// as part of something else (an album's songs: every delivered track
    /// file is proved); the render's own meter then gives the figures.
    pub prove: bool,
}

impl MasterSettings {
    /// Resolves `spec` (a chain file or a session's `[mastering]`) for an
    /// output in `format`. `base_dir` resolves relative names in it.
    pub fn from_spec(
        spec: &MasteringSpec,
        format: FileFormat,
        base_dir: &Path,
    ) -> Result<Self, EngineError> {
        let bad =
            |field: &str, msg: String| EngineError::Render(format!("mastering `{field}`: {msg}"));
        let target = match spec.target.as_deref() {
            None | Some("none") => None,
            Some(id) => Some(Target::by_id(id).map_err(|e| bad("target", e.to_string()))?),
        };
        let level = LevelMeasure::for_target(target);
        if level == LevelMeasure::RmsDbfs
            && let Some(l) = spec.integrated_lufs
        {
            return Err(bad(
                "integrated_lufs",
                format!(
                    "{l}: target '{}' aims at an unweighted RMS, not at integrated loudness; \
                     remove it",
                    spec.target.as_deref().unwrap_or_default()
                ),
            ));
        }
        let integrated_lufs = spec
            .integrated_lufs
            .or(target.and_then(|t| t.integrated_lufs));
        if let Some(l) = integrated_lufs
            && !(-60.0..=0.0).contains(&l)
        {
            return Err(bad(
                "integrated_lufs",
                format!("{l} is outside −60 ..= 0 LUFS"),
            ));
        }
        let base_ceiling = spec
            .ceiling_dbtp
            .or(target.map(|t| t.ceiling_dbtp))
            .unwrap_or(-1.0);
        // A stricter ceiling for loud masters where the preset advises one.
        let ceiling_dbtp = match (spec.ceiling_dbtp, target, integrated_lufs) {
            (None, Some(t), Some(l)) => t.ceiling_for(l),
            _ => base_ceiling,
        };
        if !(-30.0..=0.0).contains(&ceiling_dbtp) {
            return Err(bad(
                "ceiling_dbtp",
                format!("{ceiling_dbtp} is outside −30 ..= 0 dBTP"),
            ));
        }
        let max_limiter_reduction_db = spec
            .max_limiter_reduction_db
            .unwrap_or(DEFAULT_MAX_LIMITER_REDUCTION_DB);
        if !(0.0..=40.0).contains(&max_limiter_reduction_db) {
            return Err(bad(
                "max_limiter_reduction_db",
                format!("{max_limiter_reduction_db} is outside 0 ..= 40 dB"),
            ));
        }
        let tolerance_lu = spec.tolerance_lu.unwrap_or(DEFAULT_TOLERANCE_LU);
        if !(0.01..=3.0).contains(&tolerance_lu) {
            return Err(bad(
                "tolerance_lu",
                format!("{tolerance_lu} is outside 0.01 ..= 3 LU"),
            ));
        }
        // An RMS window (ACX) also caps the sample peak; the limiter works
        // in true peak, which is never below the sample peak, so a ceiling
        // at or under the cap guarantees it.
        if let Some(NormalizationPolicy::RmsWindow { min_dbfs, max_dbfs }) =
            target.map(|t| t.policy)
        {
            if ceiling_dbtp > acx::MAX_SAMPLE_PEAK_DBFS {
                return Err(bad(
                    "ceiling_dbtp",
                    format!(
                        "{ceiling_dbtp} dBTP cannot keep the sample peak at or under {} dBFS as \
                         ACX asks; use {} or lower (the preset's −3.5 leaves room for MP3 overs)",
                        acx::MAX_SAMPLE_PEAK_DBFS,
                        acx::MAX_SAMPLE_PEAK_DBFS
                    ),
                ));
            }
            if let Some(aim) = integrated_lufs
                && (aim - tolerance_lu < min_dbfs || aim + tolerance_lu > max_dbfs)
            {
                return Err(bad(
                    "tolerance_lu",
                    format!(
                        "{tolerance_lu} dB around the {aim} dBFS RMS aim leaves the \
                         {min_dbfs} ..= {max_dbfs} dBFS window"
                    ),
                ));
            }
        }
        let sample_rate_hz = spec
            .sample_rate_hz
            .or(target.and_then(|t| t.sample_rate_hz));
        if let Some(r) = sample_rate_hz
            && !(8000..=384_000).contains(&r)
        {
            return Err(bad(
                "sample_rate_hz",
                format!("{r} is outside 8000 ..= 384000 Hz"),
            ));
        }
        let encoding = match spec.bits.as_deref() {
            Some("16") => Encoding::Pcm16,
            Some("24") => Encoding::Pcm24,
            Some("32f") => Encoding::Float32,
            Some(other) => {
                return Err(bad(
                    "bits",
                    format!("'{other}': expected \"16\", \"24\" or \"32f\""),
                ));
            }
            None => match target.and_then(|t| t.bits_per_sample) {
                Some(16) => Encoding::Pcm16,
                _ if format == FileFormat::Mp3 => Encoding::Pcm16,
                _ => Encoding::Pcm24,
            },
        };
        let channels = match spec.channels {
            None => None,
            Some(c @ (1 | 2)) => Some(usize::from(c)),
            Some(c) => return Err(bad("channels", format!("{c}: expected 1 or 2"))),
        };
        let mut limiter = LimiterOptions::default();
        if let Some(l) = &spec.limiter {
            if let Some(v) = l.lookahead_ms {
                limiter.lookahead_ms = v;
            }
            if let Some(v) = l.release_ms {
                limiter.release_ms = v;
            }
            if let Some(v) = l.stereo_link {
                limiter.stereo_link = v;
            }
            if let Some(c) = &l.character {
                limiter.character = Character::from_name(c).ok_or_else(|| {
                    bad(
                        "limiter.character",
                        format!("'{c}': expected \"transparent\", \"punchy\" or \"aggressive\""),
                    )
                })?;
            }
            if let Some(a) = &l.attack_shape {
                limiter.attack_shape = AttackShape::from_name(a).ok_or_else(|| {
                    bad(
                        "limiter.attack_shape",
                        format!("'{a}': expected \"s_curve\" or \"linear\""),
                    )
                })?;
            }
        }
        limiter.ceiling_dbtp = ceiling_dbtp;
        limiter
            .validate()
            .map_err(|e| bad("limiter", e.to_string()))?;
        let noise_shaping = match spec.noise_shaping.as_deref() {
            None | Some("none") => NoiseShaping::None,
            Some("first_order") => NoiseShaping::FirstOrder,
            Some("lipshitz") => NoiseShaping::Lipshitz,
            Some(other) => {
                return Err(bad(
                    "noise_shaping",
                    format!("'{other}': expected \"none\", \"first_order\" or \"lipshitz\""),
                ));
            }
        };
        let inserts = spec.inserts.clone().unwrap_or_default();
        let default_chain = inserts.is_empty() && spec.default_chain.unwrap_or(true);
        Ok(Self {
            target,
            integrated_lufs,
            level,
            ceiling_dbtp,
            max_limiter_reduction_db,
            tolerance_lu,
            sample_rate_hz,
            encoding,
            channels,
            inserts,
            default_chain,
            limiter,
            noise_shaping,
            dual_mono: target.is_some_and(|t| t.mono_as_dual_mono),
            base_dir: base_dir.to_path_buf(),
            spec: spec.clone(),
            reference: None,
            tags: Tags::default(),
            prove: true,
        })
    }

    /// The chain for an input of integrated loudness `input_lufs`: the
    /// inserts given, or the default chain — a 24 dB/oct high-pass at
    /// 20 Hz (subsonic rumble and DC; −0.11 dB at 31.5 Hz, −0.02 dB at
    /// 40 Hz, where a 12 dB/oct one took 0.65 and 0.26 dB of the bass a
    /// reference match had just set) and glue compression (RMS, 1.5:1,
    /// 6 dB knee, 30 ms / 200 ms) whose threshold sits 4 dB above the
    /// input's integrated loudness, so only the loudest passages are
    /// touched, by about a dB.
    pub fn chain(&self, input_lufs: f64) -> Vec<Insert> {
        if !self.default_chain {
            return self.inserts.clone();
        }
        let threshold = if input_lufs.is_finite() {
            (input_lufs + 4.0).clamp(-60.0, -3.0)
        } else {
            -20.0
        };
        vec![
            Insert {
                id: "subsonic".into(),
                bypass: false,
                processor: ProcessorSpec::Hpf(FilterSpec {
                    freq_hz: 20.0,
                    slope_db_oct: Some(24.0),
                }),
            },
            Insert {
                id: "glue".into(),
                bypass: false,
                processor: ProcessorSpec::Compressor(CompressorSpec {
                    threshold_db: Some(threshold),
                    ratio: Some(1.5),
                    knee_db: Some(6.0),
                    attack_ms: Some(30.0),
                    release_ms: Some(200.0),
                    detector: Some("rms".into()),
                    ..CompressorSpec::default()
                }),
            },
        ]
    }
}

/// What mastering did, for the summary and the sidecar log.
#[derive(Debug, Clone)]
pub struct MasterSummary {
    /// The file written.
    pub output: PathBuf,
    /// The sidecar JSON log.
    pub sidecar: PathBuf,
    /// The input as measured.
    pub input: MeterReport,
    /// The output as written (decoded again and measured).
    pub output_report: MeterReport,
    /// The output's true peak as ffmpeg's `ebur128=peak=true` reads it
    /// (modelled, [`FfmpegTruePeak`]), in dBTP.
    pub output_ffmpeg_true_peak_dbtp: f64,
    /// Gain into the limiter in dB.
    pub gain_db: f64,
    /// Renders the loudness loop needed.
    pub renders: usize,
    /// Largest limiter gain reduction (dB).
    pub max_limiter_reduction_db: f64,
    /// Time-average limiter gain reduction (dB).
    pub average_limiter_reduction_db: f64,
    /// The ceiling the file was limited to (after any lowering for a lossy
    /// codec).
    pub ceiling_dbtp: f64,
    /// Level aimed at, if any, in the unit of [`Self::level`] (LUFS, or
    /// dBFS RMS for `acx`).
    pub target_lufs: Option<f64>,
    /// What the loudness loop measured.
    pub level: LevelMeasure,
    /// Preset id, if any.
    pub target_id: Option<&'static str>,
    /// Delivery rate.
    pub sample_rate_hz: u32,
    /// Output channels.
    pub channels: usize,
    /// Processing speed in multiples of real time (whole command).
    pub speed_x_realtime: f64,
    /// Latency of chain and limiter, compensated (frames).
    pub latency_frames: usize,
    /// Warnings (e.g. a mono input measured as dual mono).
    pub notes: Vec<String>,
    /// ACX checks of the written file (RMS-window targets only).
    pub acx: Option<AcxReport>,
}

/// Figures of one render.
#[derive(Debug, Clone)]
struct Pass {
    report: MeterReport,
    max_gr: f64,
    avg_gr: f64,
    latency: usize,
}

/// Masters `input` into `output`. `progress` gets (frames done, total) of
/// each render and the render number.
pub fn master_file(
    input: &Path,
    output: &Path,
    settings: &MasterSettings,
    format: FileFormat,
    mut progress: impl FnMut(usize, u64, u64),
) -> Result<MasterSummary, EngineError> {
    let started = Instant::now();
    let info = AudioReader::open(input)?.info().clone();
    if info.channels == 0 || info.channels > 2 {
        return Err(EngineError::Render(format!(
            "{}: {} channels; mastering takes mono or stereo files",
            input.display(),
            info.channels
        )));
    }
    let out_channels = settings.channels.unwrap_or(info.channels);
    let out_rate = settings.sample_rate_hz.unwrap_or(info.sample_rate_hz);
    let mut notes = Vec::new();

    // The input as it is (for the summary and the first gain).
    let input_report = measure_file(input, settings.dual_mono)?;
    let input_lufs = input_report.integrated_lufs;
    let input_frames = input_report.frames;
    if input_report.nonfinite_samples > 0 {
        return Err(EngineError::Render(format!(
            "{}: {} samples are NaN or infinite (first at frame {}); refusing to master",
            input.display(),
            input_report.nonfinite_samples,
            input_report.first_nonfinite.as_ref().map_or(0, |f| f.frame)
        )));
    }
    let silent = !input_lufs.is_finite() || input_lufs < SILENCE_LUFS;
    if silent && (settings.integrated_lufs.is_some() || settings.reference.is_some()) {
        return Err(EngineError::Render(format!(
            "{}: the input is silent or nearly so (integrated {}); reaching {:.1} LUFS would need \
             a runaway gain — nothing written",
            input.display(),
            fmt_lufs(input_lufs),
            settings.integrated_lufs.unwrap_or(0.0)
        )));
    }
    let chain_spec = settings.chain(input_lufs);
    // Reference matching: a linear-phase match EQ (mid, side, width) first
    // in the chain; the reference's loudness is the target unless a preset
    // or a number sets one.
    let mut target_lufs = settings.integrated_lufs;
    // A loudness taken from the reference (not asked for by the user) that
    // is out of reach: the master is delivered as loud as
    // `max_limiter_reduction_db` allows instead, with a note.
    let mut target_from_reference = false;
    let mut capped_reference: Option<f64> = None;
    let matching = match &settings.reference {
        Some((path, amount)) => {
            let ours = Analysis::of_file(input)?;
            let theirs = Analysis::of_file(path)?;
            let options = MatchOptions {
                amount: *amount,
                ..MatchOptions::default()
            };
            let plan = reference::plan(&ours, &theirs, &options)
                .map_err(|e| EngineError::Render(format!("reference matching: {e}")))?;
            if target_lufs.is_none() && settings.spec.target.is_none() {
                target_lufs = plan.loudness_target_lufs;
                target_from_reference = target_lufs.is_some();
            }
            for line in plan.summary() {
                notes.push(format!("reference: {line}"));
            }
            Some(plan)
        }
        None => None,
    };

    let lossy = format == FileFormat::Mp3;
    let mut ceiling = settings.ceiling_dbtp;
    let level = settings.level;
    let mut gain_db = match target_lufs {
        Some(t) => t - level.of(&input_report),
        None => 0.0,
    };
    let mut history: Vec<(f64, f64)> = Vec::new();
    // Slope of the first correction: 1, or the last one measured before a
    // lowered ceiling started the history again.
    let mut first_slope = 1.0;
    let mut lossy_offset = 0.0;
    let mut renders = 0;
    loop {
        renders += 1;
        if renders > MAX_RENDERS {
            return Err(EngineError::Render(format!(
                "{}: loudness did not converge within {MAX_RENDERS} renders (last gain {gain_db:+.2} dB)",
                input.display()
            )));
        }
        let spec = WriteSpec {
            sample_rate_hz: out_rate,
            channels: out_channels,
            format,
            encoding: settings.encoding,
        };
        let mut writer = AudioWriter::create_with(
            output,
            spec,
            &[input],
            WriteOptions {
                metadata: metadata_for(format, &settings.tags),
                ..WriteOptions::default()
            },
        )?;
        let pass = render_pass(
            input,
            settings,
            matching.as_ref(),
            &chain_spec,
            gain_db,
            ceiling,
            out_rate,
            out_channels,
            input_report.frames,
            &mut writer,
            |done, total| progress(renders, done, total),
        )?;
        // A lossy encode changes the level a little: judged on the decoded
        // file, with the offset the last decode showed.
        let got = level.of(&pass.report) + lossy_offset;
        let converged = match target_lufs {
            None => true,
            Some(t) => (got - t).abs() <= settings.tolerance_lu,
        };
        let over_reduction = pass.max_gr - settings.max_limiter_reduction_db;
        if let Some(t) = target_lufs
            && target_from_reference
            && !converged
            && got < t
            && over_reduction > 0.0
        {
            // The reference is louder than this mix can be made: as loud as
            // the allowed limiting goes (the reduction grows about dB for
            // dB with the gain).
            drop(writer);
            capped_reference = Some(t);
            target_lufs = None;
            gain_db -= over_reduction + 0.05;
            history.clear();
            continue;
        }
        if capped_reference.is_some() && over_reduction > 0.05 {
            drop(writer);
            gain_db -= over_reduction + 0.05;
            continue;
        }
        if let Some(t) = target_lufs
            && !converged
            && got < t
            && pass.max_gr > settings.max_limiter_reduction_db
        {
            drop(writer);
            return Err(EngineError::Render(format!(
                "{}: target {} is out of reach: with {gain_db:+.1} dB into the limiter \
                 the output reaches {} with up to {:.1} dB of limiting (at most {:.1} dB allowed by \
                 max_limiter_reduction_db); raise that limit, choose a lower target, or compress \
                 the mix first — nothing written",
                input.display(),
                level.show(t),
                level.show(got),
                pass.max_gr,
                settings.max_limiter_reduction_db
            )));
        }
        if !converged {
            drop(writer);
            history.push((gain_db, got));
            gain_db = next_gain(&history, target_lufs.unwrap_or(got), first_slope);
            continue;
        }
        let loud = loudness_of(&pass.report);
        if format == FileFormat::Wav {
            writer.set_loudness(loud)?;
        }
        let summary = writer.finish()?;
        // Proof: decode what was written and meter it — with our meter and
        // with a model of ffmpeg's `ebur128=peak=true` (libswresample to
        // 192 kHz), which reads full-band material up to a few tenths of a
        // dB above band-limited meters. The higher of the two must be under
        // the ceiling.
        let (written, ffmpeg_peak_dbtp) = if settings.prove || lossy {
            measure_file_with_peer(&summary.path, settings.dual_mono)?
        } else {
            (pass.report.clone(), f64::NAN)
        };
        let proof_peak_dbtp = written.true_peak_dbtp.max(ffmpeg_peak_dbtp);
        if proof_peak_dbtp > settings.ceiling_dbtp {
            if ceiling > settings.ceiling_dbtp - 3.0 {
                // The encoder added overs (lossy), or the decoded file reads a
                // little higher than the limiter's detector saw (material that
                // starts or stops dead, or full-band material as ffmpeg's
                // resampler reads it): lower the limiter's ceiling by the
                // overshoot and a margin, and render again.
                let over = proof_peak_dbtp - settings.ceiling_dbtp;
                ceiling -= over + 0.05;
                let by = if written.true_peak_dbtp >= ffmpeg_peak_dbtp {
                    "our meter"
                } else {
                    "ffmpeg's ebur128 (modelled)"
                };
                notes.push(format!(
                    "{} {over:.2} dB over the ceiling by {by}: limiter ceiling lowered to \
                     {ceiling:.2} dBTP",
                    if lossy {
                        "the MP3 encode added"
                    } else {
                        "the written file measured"
                    }
                ));
                std::fs::remove_file(&summary.path).ok();
                first_slope = secant_slope(&history).unwrap_or(first_slope);
                history.clear();
                continue;
            }
            std::fs::remove_file(&summary.path).ok();
            return Err(EngineError::Render(format!(
                "{}: the written file measures {:.2} dBTP (ffmpeg's reading {:.2} dBTP), over the \
                 {:.2} dBTP ceiling — deleted",
                summary.path.display(),
                written.true_peak_dbtp,
                ffmpeg_peak_dbtp,
                settings.ceiling_dbtp
            )));
        }
        if let Some(t) = target_lufs
            && lossy
        {
            let decoded = level.of(&written);
            if (decoded - t).abs() > settings.tolerance_lu {
                std::fs::remove_file(&summary.path).ok();
                lossy_offset += decoded - got;
                history.push((gain_db, decoded));
                gain_db = next_gain(&history, t, first_slope);
                continue;
            }
        }
        if let Some(t) = capped_reference {
            notes.push(format!(
                "the reference's loudness ({t:.1} LUFS) is out of reach within {:.1} dB of \
                 limiting (max_limiter_reduction_db): delivered at {}, as loud as that allows; \
                 set a target or raise the limit to go further",
                settings.max_limiter_reduction_db,
                fmt_lufs(written.integrated_lufs)
            ));
        }
        if info.channels == 1 && !settings.dual_mono && level == LevelMeasure::IntegratedLufs {
            notes.push(
                "mono input measured per BS.1770 (G = 1): it plays 3 dB louder on two speakers"
                    .into(),
            );
        }
        let acx = match settings.target.map(|t| t.policy) {
            Some(NormalizationPolicy::RmsWindow { min_dbfs, max_dbfs }) => {
                let report = AcxReport::check(
                    AcxFigures::of_file(input)?,
                    AcxFigures::of_file(&summary.path)?,
                    (min_dbfs, max_dbfs),
                    Delivery {
                        format,
                        mp3: WriteOptions::default().mp3,
                    },
                );
                if let Some(f) = report.controlled_failures().next() {
                    std::fs::remove_file(&summary.path).ok();
                    return Err(EngineError::Render(format!(
                        "{}: ACX {} check failed: {} — deleted",
                        summary.path.display(),
                        f.check,
                        f.message
                    )));
                }
                Some(report)
            }
            _ => None,
        };
        let seconds = started.elapsed().as_secs_f64();
        let result = MasterSummary {
            output: summary.path.clone(),
            sidecar: sidecar_path(&summary.path),
            input: input_report.clone(),
            output_report: written,
            output_ffmpeg_true_peak_dbtp: ffmpeg_peak_dbtp,
            gain_db,
            renders,
            max_limiter_reduction_db: pass.max_gr,
            average_limiter_reduction_db: pass.avg_gr,
            ceiling_dbtp: ceiling,
            target_lufs,
            level,
            target_id: settings.target.map(|t| t.id),
            sample_rate_hz: out_rate,
            channels: out_channels,
            speed_x_realtime: input_frames as f64
                / f64::from(info.sample_rate_hz)
                / seconds.max(1e-9),
            latency_frames: pass.latency,
            notes,
            acx,
        };
        write_sidecar(&result, settings, input)?;
        return Ok(result);
    }
}

/// The gain for the next render: a secant step through the last two
/// (gain, level) points; a step at `first_slope` for the first correction.
fn next_gain(history: &[(f64, f64)], target: f64, first_slope: f64) -> f64 {
    let (g1, l1) = history[history.len() - 1];
    g1 + (target - l1) / secant_slope(history).unwrap_or(first_slope)
}

/// Slope of the gain → level curve through the last two points, kept
/// between 0.2 and 1 (the limiter only ever flattens the curve).
fn secant_slope(history: &[(f64, f64)]) -> Option<f64> {
    let [.., (g0, l0), (g1, l1)] = history else {
        return None;
    };
    ((g1 - g0).abs() > 1e-6).then(|| ((l1 - l0) / (g1 - g0)).clamp(0.2, 1.0))
}

fn fmt_lufs(v: f64) -> String {
    if v.is_finite() {
        format!("{v:.1} LUFS")
    } else {
        "−∞ LUFS".into()
    }
}

pub(crate) fn loudness_of(r: &MeterReport) -> Loudness {
    let finite = |v: f64| v.is_finite().then_some(v);
    Loudness {
        integrated_lufs: finite(r.integrated_lufs),
        lra_lu: r.lra_lu,
        true_peak_dbtp: finite(r.true_peak_dbtp),
        momentary_max_lufs: finite(r.momentary_max_lufs),
        short_term_max_lufs: finite(r.short_term_max_lufs),
    }
}

fn metadata_for(format: FileFormat, tags: &Tags) -> Metadata {
    let mut m = Metadata {
        tags: tags.clone(),
        ..Metadata::default()
    };
    if format == FileFormat::Wav {
        m.bext = Some(BextInfo {
            description: "mastered by mixmaster".into(),
            ..BextInfo::default()
        });
    }
    m
}

/// Meters a whole file (decoded in blocks).
pub fn measure_file(path: &Path, dual_mono: bool) -> Result<MeterReport, EngineError> {
    Ok(measure(path, dual_mono, false)?.0)
}

/// Meters a whole file, and reads its true peak as ffmpeg's
/// `ebur128=peak=true` would ([`FfmpegTruePeak`], in dBTP).
pub fn measure_file_with_peer(
    path: &Path,
    dual_mono: bool,
) -> Result<(MeterReport, f64), EngineError> {
    measure(path, dual_mono, true)
}

fn measure(
    path: &Path,
    dual_mono: bool,
    with_peer: bool,
) -> Result<(MeterReport, f64), EngineError> {
    let mut reader = AudioReader::open(path)?;
    let info = reader.info().clone();
    let mut options = MeterOptions::new(info.sample_rate_hz, info.channels);
    if dual_mono && info.channels == 1 {
        options.mono_mode = MonoMode::DualMono;
    }
    let failed =
        |e: mixmaster_meter::MeterError| EngineError::Render(format!("{}: {e}", path.display()));
    let mut meter = Meter::new(options).map_err(failed)?;
    let mut peer = if with_peer {
        Some(FfmpegTruePeak::new(info.sample_rate_hz, info.channels).map_err(failed)?)
    } else {
        None
    };
    let mut buf = AudioBuffer::new(info.channels, 0);
    loop {
        let n = reader.read(&mut buf, 1 << 15)?;
        if n == 0 {
            break;
        }
        meter.process(buf.planar()).map_err(failed)?;
        if let Some(p) = peer.as_mut() {
            p.process(buf.planar()).map_err(failed)?;
        }
    }
    let peer_dbtp = peer.map_or(f64::NEG_INFINITY, |p| p.peak_dbtp());
    Ok((meter.report(), peer_dbtp))
}

/// One render: input → chain → gain → limiter → dither → `writer`, metered.
#[allow(clippy::too_many_arguments)]
fn render_pass(
    input: &Path,
    settings: &MasterSettings,
    matching: Option<&MatchPlan>,
    chain_spec: &[Insert],
    gain_db: f64,
    ceiling_dbtp: f64,
    out_rate: u32,
    out_channels: usize,
    input_frames: u64,
    writer: &mut AudioWriter,
    mut progress: impl FnMut(u64, u64),
) -> Result<Pass, EngineError> {
    let mut reader = AudioReader::open(input)?;
    let info = reader.info().clone();
    let ctx = Context {
        sample_rate_hz: out_rate,
        tempo_bpm: 120.0,
        base_dir: &settings.base_dir,
        max_block_frames: BLOCK,
        channels: out_channels,
    };
    let mut chain: Vec<Box<dyn Processor>> = Vec::new();
    if let Some(plan) = matching {
        let mut eq = plan
            .processor(out_rate)
            .map_err(|e| EngineError::Render(format!("reference matching: {e}")))?;
        eq.prepare(out_rate, BLOCK, out_channels)
            .map_err(|e| EngineError::Render(format!("reference matching: {e}")))?;
        chain.push(Box::new(eq));
    }
    for (k, insert) in chain_spec.iter().enumerate() {
        if insert.bypass {
            continue;
        }
        let p = factory::build(&insert.processor, &ctx).map_err(|e| {
            EngineError::Render(format!(
                "mastering inserts[{k}] '{}'{}: {}",
                insert.id,
                e.field.map(|f| format!(" field `{f}`")).unwrap_or_default(),
                e.message
            ))
        })?;
        chain.push(p);
    }
    let mut limiter = Limiter::new(LimiterOptions {
        ceiling_dbtp,
        ..settings.limiter
    })
    .map_err(|e| EngineError::Render(format!("limiter: {e}")))?;
    limiter
        .prepare(out_rate, BLOCK, out_channels)
        .map_err(|e| EngineError::Render(format!("limiter: {e}")))?;
    let latency: usize =
        chain.iter().map(|p| p.latency_frames()).sum::<usize>() + limiter.latency_frames();
    let mut dither = match settings.encoding {
        Encoding::Pcm16 => Some(dither(16, settings.noise_shaping, out_rate, out_channels)?),
        Encoding::Pcm24 => Some(dither(24, settings.noise_shaping, out_rate, out_channels)?),
        _ => None,
    };
    let mut meter_options = MeterOptions::new(out_rate, out_channels);
    if settings.dual_mono && out_channels == 1 {
        meter_options.mono_mode = MonoMode::DualMono;
    }
    let mut meter = Meter::new(meter_options).map_err(|e| EngineError::Render(e.to_string()))?;
    let mut resampler = if info.sample_rate_hz == out_rate {
        None
    } else {
        Some(mixmaster_io::Resampler::new(
            info.sample_rate_hz,
            out_rate,
            out_channels,
        )?)
    };
    let total_in = input_frames;
    let total_out = match &resampler {
        Some(r) => r.output_len(total_in),
        None => total_in,
    };
    let gain = mixmaster_core::units::db_to_amplitude(gain_db);
    // Blocks through the limiter: the signal, then silence to flush the
    // latency.
    let blocks = (total_out + latency as u64).div_ceil(BLOCK as u64);

    // Three stages on their own threads, each block in order through each:
    // decode → chain → gain | limiter → dither | write and meter (here, so
    // the writer and the progress callback stay on the caller's thread).
    // The result does not depend on the threads: every processor sees the
    // same blocks in the same order.
    let (to_limiter, from_source) = mpsc::sync_channel::<Vec<Vec<f64>>>(PIPELINE_DEPTH);
    let (to_sink, from_limiter) = mpsc::sync_channel::<Vec<Vec<f64>>>(PIPELINE_DEPTH);
    std::thread::scope(|scope| -> Result<Pass, EngineError> {
        let source = scope.spawn(move || -> Result<(), EngineError> {
            let mut raw = AudioBuffer::new(info.channels, 0);
            let mut mapped: Vec<Vec<f64>> = vec![Vec::with_capacity(BLOCK); out_channels];
            let mut resampled = AudioBuffer::new(out_channels, 0);
            let mut fifo: Vec<Vec<f64>> = vec![Vec::new(); out_channels];
            let mut input_done = false;
            let mut frame_in: u64 = 0;
            for _ in 0..blocks {
                // Fill the FIFO with at least one block of delivery-rate
                // signal.
                while fifo[0].len() < BLOCK && !input_done {
                    let n = reader.read(&mut raw, BLOCK)?;
                    if n == 0 {
                        input_done = true;
                        if let Some(r) = resampler.as_mut() {
                            r.flush(&mut resampled)?;
                            for (f, c) in fifo.iter_mut().zip(resampled.planar()) {
                                f.extend_from_slice(c);
                            }
                        }
                        break;
                    }
                    for c in raw.planar() {
                        if let Some(i) = c.iter().position(|x| !x.is_finite()) {
                            return Err(EngineError::Render(format!(
                                "{}: sample at frame {} is NaN or infinite; refusing to master",
                                input.display(),
                                frame_in + i as u64
                            )));
                        }
                    }
                    frame_in += n as u64;
                    map_channels(&raw, &mut mapped, out_channels);
                    match resampler.as_mut() {
                        Some(r) => {
                            r.process(&mapped, &mut resampled)?;
                            for (f, c) in fifo.iter_mut().zip(resampled.planar()) {
                                f.extend_from_slice(c);
                            }
                        }
                        None => {
                            for (f, c) in fifo.iter_mut().zip(&mapped) {
                                f.extend_from_slice(c);
                            }
                        }
                    }
                }
                let avail = fifo[0].len().min(BLOCK);
                let mut block: Vec<Vec<f64>> = fifo
                    .iter_mut()
                    .map(|f| {
                        let mut b = Vec::with_capacity(BLOCK);
                        b.extend(f.drain(..avail));
                        b.resize(BLOCK, 0.0);
                        b
                    })
                    .collect();
                let mut slices: Vec<&mut [f64]> = block.iter_mut().map(Vec::as_mut_slice).collect();
                for p in &mut chain {
                    p.process(&mut slices);
                }
                if gain != 1.0 {
                    for c in slices.iter_mut() {
                        for x in c.iter_mut() {
                            *x *= gain;
                        }
                    }
                }
                if to_limiter.send(block).is_err() {
                    // The writer stopped (its error is reported there).
                    break;
                }
            }
            Ok(())
        });
        let limit = scope.spawn(move || {
            for mut block in from_source {
                let mut slices: Vec<&mut [f64]> = block.iter_mut().map(Vec::as_mut_slice).collect();
                limiter.process(&mut slices);
                if let Some(d) = dither.as_mut() {
                    d.process(&mut slices);
                }
                if to_sink.send(block).is_err() {
                    break;
                }
            }
            (
                limiter.max_gain_reduction_db(),
                limiter.average_gain_reduction_db(),
            )
        });

        let mut to_skip = latency;
        let mut written: u64 = 0;
        let mut sink = || -> Result<(), EngineError> {
            for block in &from_limiter {
                let skip = to_skip.min(BLOCK);
                to_skip -= skip;
                let take = ((BLOCK - skip) as u64).min(total_out - written) as usize;
                if take == 0 {
                    continue;
                }
                let out: Vec<&[f64]> = block.iter().map(|b| &b[skip..skip + take]).collect();
                writer.write(&out)?;
                meter
                    .process(&out)
                    .map_err(|e| EngineError::Render(e.to_string()))?;
                written += take as u64;
                progress(written, total_out);
            }
            Ok(())
        };
        let sunk = sink();
        // Stop the other stages (if the writer failed) and collect them.
        drop(from_limiter);
        let sourced = source
            .join()
            .map_err(|_| EngineError::Render("the decoding thread panicked".into()))?;
        let (max_gr, avg_gr) = limit
            .join()
            .map_err(|_| EngineError::Render("the limiter thread panicked".into()))?;
        sourced?;
        sunk?;
        if written < total_out {
            return Err(EngineError::Render(format!(
                "{}: the render stopped after {written} of {total_out} frames",
                input.display()
            )));
        }
        Ok(Pass {
            report: meter.report(),
            max_gr,
            avg_gr,
            latency,
        })
    })
}

/// Input channels onto the output layout: mono → both sides, stereo →
/// mono as (L + R) / 2, otherwise as is.
fn map_channels(raw: &AudioBuffer, mapped: &mut [Vec<f64>], out_channels: usize) {
    let n = raw.frames();
    for (c, m) in mapped.iter_mut().enumerate() {
        m.clear();
        match (raw.channels(), out_channels) {
            (1, _) => m.extend_from_slice(raw.channel(0)),
            (2, 1) => m.extend(
                raw.channel(0)
                    .iter()
                    .zip(raw.channel(1))
                    .map(|(l, r)| 0.5 * (l + r)),
            ),
            _ => m.extend_from_slice(raw.channel(c)),
        }
        debug_assert_eq!(m.len(), n);
    }
}

/// `song.wav` → `song.wav.json`.
pub fn sidecar_path(output: &Path) -> PathBuf {
    let mut name = output.as_os_str().to_os_string();
    name.push(".json");
    PathBuf::from(name)
}

/// FNV-1a, 64 bits: a stable fingerprint of the settings.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

pub(crate) fn figures(r: &MeterReport) -> serde_json::Value {
    let f = |v: f64| {
        if v.is_finite() {
            serde_json::json!((v * 100.0).round() / 100.0)
        } else {
            serde_json::Value::Null
        }
    };
    serde_json::json!({
        "integrated_lufs": f(r.integrated_lufs),
        "lra_lu": r.lra_lu.map(|v| (v * 100.0).round() / 100.0),
        "true_peak_dbtp": f(r.true_peak_dbtp),
        "sample_peak_dbfs": f(r.sample_peak_dbfs),
        "rms_dbfs": f(r.rms_dbfs),
        "plr_db": f(r.plr_db),
        "momentary_max_lufs": f(r.momentary_max_lufs),
        "short_term_max_lufs": f(r.short_term_max_lufs),
        "duration_s": r.duration_s,
        "sample_rate_hz": r.sample_rate_hz,
        "channels": r.channels,
    })
}

/// Writes the sidecar JSON log next to the output (atomically).
fn write_sidecar(
    s: &MasterSummary,
    settings: &MasterSettings,
    input: &Path,
) -> Result<(), EngineError> {
    let settings_json = serde_json::to_value(&settings.spec).unwrap_or_default();
    let canonical = serde_json::to_string(&settings_json).unwrap_or_default();
    let out = &s.output_report;
    let lufs = (s.level == LevelMeasure::IntegratedLufs)
        .then_some(s.target_lufs)
        .flatten();
    let target_json = serde_json::json!({
        "id": s.target_id,
        "level_measure": s.level.key(),
        "integrated_lufs": lufs,
        "rms_dbfs": (s.level == LevelMeasure::RmsDbfs).then_some(s.target_lufs).flatten(),
        "ceiling_dbtp": settings.ceiling_dbtp,
        "tolerance_lu": settings.tolerance_lu,
        "level_met": s.target_lufs.map(|t| (s.level.of(out) - t).abs() <= settings.tolerance_lu),
        "integrated_met": lufs.map(|t| (out.integrated_lufs - t).abs() <= settings.tolerance_lu),
        "integrated_lufs_used": lufs,
        "true_peak_met": out.true_peak_dbtp <= settings.ceiling_dbtp,
        "ffmpeg_true_peak_dbtp": mixmaster_core::units::finite(
            (s.output_ffmpeg_true_peak_dbtp * 1000.0).round() / 1000.0
        ),
        "ffmpeg_true_peak_met": s.output_ffmpeg_true_peak_dbtp <= settings.ceiling_dbtp,
    });
    let doc = serde_json::json!({
        "mixmaster_version": env!("CARGO_PKG_VERSION"),
        "input": input.file_name().map(|n| n.to_string_lossy().into_owned()),
        "output": s.output.file_name().map(|n| n.to_string_lossy().into_owned()),
        "settings": settings_json,
        "settings_hash": format!("{:016x}", fnv1a(canonical.as_bytes())),
        "target": target_json,
        "reference": settings.reference.as_ref().map(|(p, a)| serde_json::json!({
            "file": p.file_name().map(|n| n.to_string_lossy().into_owned()),
            "amount": a,
        })),
        "input_figures": figures(&s.input),
        "output_figures": figures(out),
        "gain_db": (s.gain_db * 100.0).round() / 100.0,
        "limiter": {
            "ceiling_dbtp": s.ceiling_dbtp,
            "max_gain_reduction_db": (s.max_limiter_reduction_db * 100.0).round() / 100.0,
            "average_gain_reduction_db": (s.average_limiter_reduction_db * 100.0).round() / 100.0,
        },
        "renders": s.renders,
        "latency_frames_compensated": s.latency_frames,
        "notes": s.notes,
        "acx": s.acx.as_ref().map(AcxReport::to_json),
    });
    let path = sidecar_path(&s.output);
    let tmp = {
        let mut n = path.as_os_str().to_os_string();
        n.push(".tmp");
        PathBuf::from(n)
    };
    let text = serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n";
    std::fs::write(&tmp, text)
        .and_then(|()| std::fs::rename(&tmp, &path))
        .map_err(|e| {
            std::fs::remove_file(&tmp).ok();
            EngineError::Render(format!("{}: cannot write the log: {e}", path.display()))
        })
}
