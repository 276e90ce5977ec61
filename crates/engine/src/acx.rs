//! ACX audiobook checks: what ACX asks of a submitted chapter file, measured
//! on the mastered file and reported with what mastering can and cannot fix.
//!
//! Requirements (ACX audio submission requirements, TARGETS.md `acx`): RMS
//! between −23 and −18 dBFS, peaks at most −3 dBFS, noise floor at most
//! −60 dBFS RMS, 0.5–1 s of room tone at the head and 1–5 s at the tail,
//! 44.1 kHz MP3 at 192 kbit/s CBR or more, at most 120 minutes per file.
//!
//! # Definitions
//!
//! The figures are measured the way Audacity's "ACX Check" analyser
//! (Steve Daulton, release 2.4.2) measures them, on the decoded file, all
//! unweighted, 1.0 = 0 dBFS:
//!
//! * **RMS** — `sqrt(Σx² / (frames · channels))` over the whole file. Stereo
//!   is the power mean of the two channels (ACX Check's `track-rms`: "the
//!   root mean of all samples², both channels"), which is also
//!   [`mixmaster_meter::MeterReport::rms_dbfs`]; the per-channel RMS is kept
//!   for information. A dual-mono file reads the same as its mono original.
//! * **Peak** — the largest `|sample|` of any channel (sample peak).
//! * **Noise floor** — the lowest RMS of 400 ms windows on a 100 ms grid
//!   (ACX Check's `getfloor`: `rms` at 10 Hz with a 0.4 s window; windows
//!   start on the 10 ms grid `floor(k·fs/100)`), channels combined as for
//!   the RMS. Windows that hold any 10 ms block of digital silence (every
//!   sample exactly 0) are skipped: silence measures an edit, not the room,
//!   and would pull the window below the room tone. `None` when no window
//!   qualifies (under 0.4 s, or digital silence every 0.4 s).
//! * **Room tone** — the head is the time from the start to the first 10 ms
//!   block (same grid) whose RMS is above the room-tone threshold, the tail
//!   the time from the end of the last such block to the end of the file.
//!   The threshold is −50 dBFS, raised to 10 dB above the noise floor when
//!   the floor is above −60 dBFS, so that a noisy room still counts as room
//!   tone. Room tone is not timed (`None`) when the noise floor is less than
//!   15 dB under the RMS — nothing in the file is quiet enough to be told
//!   from the programme — or when no block rises above the threshold. (ACX
//!   Check does not time room tone; this definition is ours.)
//!
//! Mastering controls the RMS (the loudness loop aims at it) and the peak
//! (the true-peak limiter: a sample peak never exceeds the true peak, since
//! the true-peak interpolator's phase 0 is the sample itself). Those two
//! are errors when they fail; everything else is measured and reported.

use std::path::Path;

use mixmaster_core::AudioBuffer;
use mixmaster_core::units::{amplitude_to_db, power_to_db};
use mixmaster_io::{AudioReader, FileFormat, Mp3Mode, Mp3Options};

use crate::error::EngineError;

/// Highest accepted sample peak, dBFS (ACX: "peak values no higher than
/// −3 dB"; ACX Check fails above −2.99).
pub const MAX_SAMPLE_PEAK_DBFS: f64 = -3.0;
/// Highest accepted noise floor, dBFS RMS (ACX: "noise floor no higher than
/// −60 dB RMS").
pub const MAX_NOISE_FLOOR_DBFS: f64 = -60.0;
/// Below this the room tone sounds like dead silence (ACX Check warns:
/// "too low — dead silence sounds unnatural").
pub const DEAD_SILENCE_FLOOR_DBFS: f64 = -90.0;
/// Room tone at the head of a file, seconds (ACX: 0.5 to 1 s).
pub const HEAD_ROOM_TONE_S: (f64, f64) = (0.5, 1.0);
/// Room tone at the tail of a file, seconds (ACX: 1 to 5 s).
pub const TAIL_ROOM_TONE_S: (f64, f64) = (1.0, 5.0);
/// Delivery sample rate (ACX: 44.1 kHz).
pub const SAMPLE_RATE_HZ: u32 = 44_100;
/// Lowest MP3 bit rate, constant bit rate (ACX: 192 kbit/s or higher CBR).
pub const MIN_MP3_CBR_KBPS: u16 = 192;
/// Longest file, seconds (ACX: at most 120 minutes per file).
pub const MAX_DURATION_S: f64 = 120.0 * 60.0;
/// Room-tone threshold, dBFS, and its distance above a noisy floor, dB.
pub const ROOM_TONE_THRESHOLD_DBFS: f64 = -50.0;
/// See [`ROOM_TONE_THRESHOLD_DBFS`].
pub const ROOM_TONE_ABOVE_FLOOR_DB: f64 = 10.0;
/// Least distance of the noise floor under the RMS for room tone to be
/// told from the programme, dB.
pub const ROOM_TONE_BELOW_RMS_DB: f64 = 15.0;

/// Sub-blocks (10 ms) per noise-floor window (400 ms).
const WINDOW_BLOCKS: usize = 40;
/// Sub-blocks between two noise-floor windows (100 ms).
const WINDOW_STEP_BLOCKS: usize = 10;

/// The ACX figures of one file (module docs for the definitions).
#[derive(Debug, Clone, PartialEq)]
pub struct AcxFigures {
    /// Sample rate of the file.
    pub sample_rate_hz: u32,
    /// Channels of the file.
    pub channels: usize,
    /// Length in seconds.
    pub duration_s: f64,
    /// RMS of all channels, dBFS.
    pub rms_dbfs: f64,
    /// RMS per channel, dBFS.
    pub channel_rms_dbfs: Vec<f64>,
    /// Sample peak of all channels, dBFS.
    pub sample_peak_dbfs: f64,
    /// Lowest 400 ms RMS of the windows free of digital silence, dBFS.
    pub noise_floor_dbfs: Option<f64>,
    /// The level that separates room tone from speech, dBFS.
    pub room_tone_threshold_dbfs: f64,
    /// Room tone before the first sound above the threshold, seconds;
    /// `None` when room tone cannot be told from the programme.
    pub head_room_tone_s: Option<f64>,
    /// Room tone after the last sound above the threshold, seconds (`None`
    /// as for the head).
    pub tail_room_tone_s: Option<f64>,
}

/// Streams a signal in and measures [`AcxFigures`]. Keeps one energy per
/// 10 ms (about 30 MB for 10 hours).
#[derive(Debug, Clone)]
pub struct AcxAnalyzer {
    sample_rate_hz: u32,
    channels: usize,
    frames: u64,
    channel_sum_sq: Vec<f64>,
    peak: f64,
    /// Σx² over all channels of each completed 10 ms block.
    block_energy: Vec<f64>,
    /// Frames of each completed block.
    block_frames: Vec<u64>,
    /// Whether each completed block has a non-zero sample.
    block_nonzero: Vec<bool>,
    current_energy: f64,
    current_nonzero: bool,
    current_start: u64,
    next_boundary: u64,
}

impl AcxAnalyzer {
    /// An analyser for `channels` channels at `sample_rate_hz`.
    pub fn new(sample_rate_hz: u32, channels: usize) -> Self {
        Self {
            sample_rate_hz,
            channels,
            frames: 0,
            channel_sum_sq: vec![0.0; channels],
            peak: 0.0,
            block_energy: Vec::new(),
            block_frames: Vec::new(),
            block_nonzero: Vec::new(),
            current_energy: 0.0,
            current_nonzero: false,
            current_start: 0,
            next_boundary: boundary(1, sample_rate_hz),
        }
    }

    /// Adds planar samples (every channel the same length).
    pub fn process<S: AsRef<[f64]>>(&mut self, planar: &[S]) {
        let n = planar.first().map_or(0, |c| c.as_ref().len());
        for (c, ch) in planar.iter().enumerate().take(self.channels) {
            let ch = &ch.as_ref()[..n];
            self.channel_sum_sq[c] += ch.iter().map(|x| x * x).sum::<f64>();
            self.peak = ch.iter().fold(self.peak, |m, x| m.max(x.abs()));
        }
        let mut i = 0;
        while i < n {
            let take = ((self.next_boundary - self.frames) as usize).min(n - i);
            for ch in planar.iter().take(self.channels) {
                let part = &ch.as_ref()[i..i + take];
                self.current_energy += part.iter().map(|x| x * x).sum::<f64>();
                self.current_nonzero |= part.iter().any(|&x| x != 0.0);
            }
            self.frames += take as u64;
            i += take;
            if self.frames == self.next_boundary {
                self.close_block();
            }
        }
    }

    fn close_block(&mut self) {
        self.block_energy.push(self.current_energy);
        self.block_frames.push(self.frames - self.current_start);
        self.block_nonzero.push(self.current_nonzero);
        self.current_energy = 0.0;
        self.current_nonzero = false;
        self.current_start = self.frames;
        self.next_boundary = boundary(self.block_energy.len() as u64 + 1, self.sample_rate_hz);
    }

    /// The figures of everything processed.
    pub fn finish(mut self) -> AcxFigures {
        let complete = self.block_energy.len();
        if self.frames > self.current_start {
            self.close_block();
        }
        let ch = self.channels.max(1) as f64;
        let frames = self.frames as f64;
        let rms_of = |energy: f64, frames: f64| {
            if frames > 0.0 {
                power_to_db(energy / frames)
            } else {
                f64::NEG_INFINITY
            }
        };
        let total: f64 = self.channel_sum_sq.iter().sum();
        // Noise floor: 400 ms windows on the 100 ms grid, complete blocks
        // only (ACX Check stops at the last full window).
        let mut floor: Option<f64> = None;
        let mut start = 0;
        while start + WINDOW_BLOCKS <= complete {
            let w = start..start + WINDOW_BLOCKS;
            if self.block_nonzero[w.clone()].iter().all(|&b| b) {
                let e: f64 = self.block_energy[w.clone()].iter().sum();
                let f: u64 = self.block_frames[w].iter().sum();
                let level = rms_of(e, f as f64 * ch);
                floor = Some(floor.map_or(level, |m| m.min(level)));
            }
            start += WINDOW_STEP_BLOCKS;
        }
        let threshold = match floor {
            Some(f) if f > MAX_NOISE_FLOOR_DBFS => {
                ROOM_TONE_THRESHOLD_DBFS.max(f + ROOM_TONE_ABOVE_FLOOR_DB)
            }
            _ => ROOM_TONE_THRESHOLD_DBFS,
        };
        let loud = |k: &usize| {
            rms_of(self.block_energy[*k], self.block_frames[*k] as f64 * ch) > threshold
        };
        let blocks = self.block_energy.len();
        let rate = f64::from(self.sample_rate_hz);
        let rms_dbfs = rms_of(total, frames * ch);
        let distinct = floor.is_none_or(|f| f <= rms_dbfs - ROOM_TONE_BELOW_RMS_DB);
        let (head, tail) = match ((0..blocks).find(&loud), (0..blocks).rev().find(&loud)) {
            (Some(first), Some(last)) if distinct => {
                let before: u64 = self.block_frames[..first].iter().sum();
                let after: u64 = self.block_frames[last + 1..].iter().sum();
                (Some(before as f64 / rate), Some(after as f64 / rate))
            }
            _ => (None, None),
        };
        AcxFigures {
            sample_rate_hz: self.sample_rate_hz,
            channels: self.channels,
            duration_s: frames / rate,
            rms_dbfs,
            channel_rms_dbfs: self
                .channel_sum_sq
                .iter()
                .map(|&e| rms_of(e, frames))
                .collect(),
            sample_peak_dbfs: amplitude_to_db(self.peak),
            noise_floor_dbfs: floor,
            room_tone_threshold_dbfs: threshold,
            head_room_tone_s: head,
            tail_room_tone_s: tail,
        }
    }
}

/// First frame of 10 ms block `k`: `floor(k·fs/100)` (any rate works).
fn boundary(k: u64, sample_rate_hz: u32) -> u64 {
    k * u64::from(sample_rate_hz) / 100
}

impl AcxFigures {
    /// Measures a file (decoded in blocks).
    pub fn of_file(path: &Path) -> Result<Self, EngineError> {
        let mut reader = AudioReader::open(path)?;
        let info = reader.info().clone();
        let mut analyzer = AcxAnalyzer::new(info.sample_rate_hz, info.channels);
        let mut buf = AudioBuffer::new(info.channels, 0);
        while reader.read(&mut buf, 1 << 15)? > 0 {
            analyzer.process(buf.planar());
        }
        Ok(analyzer.finish())
    }
}

/// Outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AcxStatus {
    /// Meets the requirement.
    Pass,
    /// ACX would reject the file for this.
    Fail,
    /// Accepted, but worth a look (ACX Check's warnings, delivery hints).
    Advisory,
}

impl AcxStatus {
    /// `pass`, `fail` or `advisory`.
    pub fn as_str(self) -> &'static str {
        match self {
            AcxStatus::Pass => "pass",
            AcxStatus::Fail => "fail",
            AcxStatus::Advisory => "advisory",
        }
    }
}

/// One ACX check of a master.
#[derive(Debug, Clone, PartialEq)]
pub struct AcxFinding {
    /// `rms`, `peak`, `noise_floor`, `head_room_tone`, `tail_room_tone`,
    /// `sample_rate`, `format`, `duration`.
    pub check: &'static str,
    /// The measured figure as shown (`−20.00 dBFS`).
    pub figure: String,
    /// The requirement (`−23 … −18 dBFS`).
    pub requirement: String,
    /// The outcome.
    pub status: AcxStatus,
    /// True for what mastering controls (RMS, peak): a failure there fails
    /// mastering. Everything else is reported, never fatal.
    pub mastering_controls: bool,
    /// What to do about it (empty on a pass).
    pub message: String,
}

/// How the master is delivered, for the format checks.
#[derive(Debug, Clone, Copy)]
pub struct Delivery {
    /// Output container.
    pub format: FileFormat,
    /// MP3 encoder settings used (MP3 output only).
    pub mp3: Mp3Options,
}

/// The ACX checks of a master: its figures, the input's (to tell what
/// mastering changed) and one finding per requirement.
#[derive(Debug, Clone, PartialEq)]
pub struct AcxReport {
    /// The input as given.
    pub input: AcxFigures,
    /// The written file, decoded.
    pub output: AcxFigures,
    /// One finding per check, in the order of the module docs.
    pub findings: Vec<AcxFinding>,
}

impl AcxReport {
    /// Checks `output` against ACX with the RMS window `rms_window_dbfs`
    /// (from the target's policy).
    pub fn check(
        input: AcxFigures,
        output: AcxFigures,
        rms_window_dbfs: (f64, f64),
        delivery: Delivery,
    ) -> Self {
        let mut findings = Vec::new();
        let o = &output;
        let (lo, hi) = rms_window_dbfs;
        let rms_ok = (lo..=hi).contains(&o.rms_dbfs);
        findings.push(AcxFinding {
            check: "rms",
            figure: format!("{} dBFS", db(o.rms_dbfs)),
            requirement: format!("{} … {} dBFS", db0(lo), db0(hi)),
            status: pass_if(rms_ok),
            mastering_controls: true,
            message: if rms_ok {
                String::new()
            } else {
                format!(
                    "RMS {} dBFS is outside {} … {} dBFS: the loudness loop aims inside it; \
                     check the tolerance",
                    db(o.rms_dbfs),
                    db0(lo),
                    db0(hi)
                )
            },
        });
        let peak_ok = o.sample_peak_dbfs <= MAX_SAMPLE_PEAK_DBFS;
        findings.push(AcxFinding {
            check: "peak",
            figure: format!("{} dBFS", db(o.sample_peak_dbfs)),
            requirement: format!("≤ {} dBFS (sample peak)", db0(MAX_SAMPLE_PEAK_DBFS)),
            status: pass_if(peak_ok),
            mastering_controls: true,
            message: if peak_ok {
                String::new()
            } else {
                format!(
                    "sample peak {} dBFS is above {} dBFS: lower the ceiling to −3.5 dBTP",
                    db(o.sample_peak_dbfs),
                    db0(MAX_SAMPLE_PEAK_DBFS)
                )
            },
        });
        findings.push(noise_floor_finding(&input, o));
        findings.push(room_tone_finding(
            "head_room_tone",
            o.head_room_tone_s,
            HEAD_ROOM_TONE_S,
            "before the first word",
            o,
        ));
        findings.push(room_tone_finding(
            "tail_room_tone",
            o.tail_room_tone_s,
            TAIL_ROOM_TONE_S,
            "after the last word",
            o,
        ));
        let rate_ok = o.sample_rate_hz == SAMPLE_RATE_HZ;
        findings.push(AcxFinding {
            check: "sample_rate",
            figure: format!("{} Hz", o.sample_rate_hz),
            requirement: format!("{SAMPLE_RATE_HZ} Hz"),
            status: pass_if(rate_ok),
            mastering_controls: false,
            message: if rate_ok {
                String::new()
            } else {
                format!("ACX takes {SAMPLE_RATE_HZ} Hz: leave the rate to the preset (no --rate)")
            },
        });
        findings.push(format_finding(delivery));
        let long = o.duration_s > MAX_DURATION_S;
        findings.push(AcxFinding {
            check: "duration",
            figure: format!("{:.1} min", o.duration_s / 60.0),
            requirement: "≤ 120 min".into(),
            status: pass_if(!long),
            mastering_controls: false,
            message: if long {
                "ACX takes at most 120 minutes per file: split the chapter".into()
            } else {
                String::new()
            },
        });
        Self {
            input,
            output,
            findings,
        }
    }

    /// Failed checks that mastering controls (RMS, peak).
    pub fn controlled_failures(&self) -> impl Iterator<Item = &AcxFinding> {
        self.findings
            .iter()
            .filter(|f| f.mastering_controls && f.status == AcxStatus::Fail)
    }

    /// The report as the sidecar log carries it.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "definitions": "unweighted; RMS over the whole file, channels power-averaged; peak = sample peak; \
                            noise floor = lowest RMS of 400 ms windows on a 100 ms grid, digital silence skipped \
                            (as Audacity's ACX Check); room tone = time before the first / after the last 10 ms \
                            block above the room-tone threshold",
            "input": figures_json(&self.input),
            "output": figures_json(&self.output),
            "checks": self.findings.iter().map(|f| serde_json::json!({
                "check": f.check,
                "status": f.status.as_str(),
                "figure": f.figure,
                "requirement": f.requirement,
                "mastering_controls": f.mastering_controls,
                "message": f.message,
            })).collect::<Vec<_>>(),
        })
    }
}

fn figures_json(f: &AcxFigures) -> serde_json::Value {
    let r = |v: f64| {
        if v.is_finite() {
            serde_json::json!((v * 100.0).round() / 100.0)
        } else {
            serde_json::Value::Null
        }
    };
    serde_json::json!({
        "rms_dbfs": r(f.rms_dbfs),
        "channel_rms_dbfs": f.channel_rms_dbfs.iter().map(|&v| r(v)).collect::<Vec<_>>(),
        "sample_peak_dbfs": r(f.sample_peak_dbfs),
        "noise_floor_dbfs": f.noise_floor_dbfs.map(r),
        "room_tone_threshold_dbfs": r(f.room_tone_threshold_dbfs),
        "head_room_tone_s": f.head_room_tone_s.map(r),
        "tail_room_tone_s": f.tail_room_tone_s.map(r),
        "duration_s": r(f.duration_s),
        "sample_rate_hz": f.sample_rate_hz,
        "channels": f.channels,
    })
}

fn pass_if(ok: bool) -> AcxStatus {
    if ok { AcxStatus::Pass } else { AcxStatus::Fail }
}

/// `−20.00` (two decimals, a real minus sign, −∞ for silence).
fn db(v: f64) -> String {
    if v.is_finite() {
        format!("{v:.2}").replace('-', "−")
    } else {
        "−∞".into()
    }
}

/// `−23` (as few decimals as the number needs).
fn db0(v: f64) -> String {
    format!("{v}").replace('-', "−")
}

fn noise_floor_finding(input: &AcxFigures, o: &AcxFigures) -> AcxFinding {
    let requirement = format!("≤ {} dBFS RMS", db0(MAX_NOISE_FLOOR_DBFS));
    let Some(floor) = o.noise_floor_dbfs else {
        return AcxFinding {
            check: "noise_floor",
            figure: "none".into(),
            requirement,
            status: AcxStatus::Advisory,
            mastering_controls: false,
            message: "no room tone to measure (nothing but digital silence, or under 0.4 s): \
                      ACX expects recorded room tone at the head and the tail"
                .into(),
        };
    };
    let change = match input.noise_floor_dbfs {
        Some(i) => {
            let d = floor - i;
            let verb = if d >= 0.0 { "raised" } else { "lowered" };
            format!(
                "; mastering {verb} it by {:.1} dB (input {} dBFS)",
                d.abs(),
                db(i)
            )
        }
        None => String::new(),
    };
    let (status, message) = if floor > MAX_NOISE_FLOOR_DBFS {
        let input_passed = input
            .noise_floor_dbfs
            .is_some_and(|i| i <= MAX_NOISE_FLOOR_DBFS);
        let why = if input_passed {
            " — the input's floor passed, but the gain that brings the speech to the RMS window \
             lifts the noise with it: the recording is too quiet for its noise"
        } else {
            ""
        };
        (
            AcxStatus::Fail,
            format!(
                "noise floor {} dBFS is above {} dBFS: needs at least {:.1} dB of noise reduction \
                 at the source (a quieter room, or denoising before mastering) — mastering cannot \
                 fix it{change}{why}",
                db(floor),
                db0(MAX_NOISE_FLOOR_DBFS),
                floor - MAX_NOISE_FLOOR_DBFS
            ),
        )
    } else if floor < DEAD_SILENCE_FLOOR_DBFS {
        (
            AcxStatus::Advisory,
            format!(
                "noise floor {} dBFS is below {} dBFS: room tone this quiet sounds like dead \
                 silence (gated or generated); keep the recorded room tone{change}",
                db(floor),
                db0(DEAD_SILENCE_FLOOR_DBFS)
            ),
        )
    } else {
        (AcxStatus::Pass, String::new())
    };
    AcxFinding {
        check: "noise_floor",
        figure: format!("{} dBFS", db(floor)),
        requirement,
        status,
        mastering_controls: false,
        message,
    }
}

fn room_tone_finding(
    check: &'static str,
    seconds: Option<f64>,
    (lo, hi): (f64, f64),
    place: &str,
    o: &AcxFigures,
) -> AcxFinding {
    let requirement = format!("{lo} … {hi} s");
    let Some(seconds) = seconds else {
        let floor = o.noise_floor_dbfs.map_or("none".into(), db);
        return AcxFinding {
            check,
            figure: "not found".into(),
            requirement,
            status: AcxStatus::Advisory,
            mastering_controls: false,
            message: format!(
                "no room tone {place} to time: the quietest 400 ms ({floor} dBFS) is not \
                 {ROOM_TONE_BELOW_RMS_DB} dB under the RMS ({} dBFS), so room tone cannot be told \
                 from the programme; ACX asks {lo}–{hi} s of recorded room tone",
                db(o.rms_dbfs)
            ),
        };
    };
    let threshold_dbfs = o.room_tone_threshold_dbfs;
    let ok = (lo..=hi).contains(&seconds);
    let message = if ok {
        String::new()
    } else {
        let edit = if seconds < lo {
            "add room tone"
        } else {
            "trim it"
        };
        format!(
            "{seconds:.2} s of room tone {place} (below {} dBFS); ACX asks {lo}–{hi} s: {edit} in \
             the edit — mastering keeps the timing",
            db(threshold_dbfs)
        )
    };
    AcxFinding {
        check,
        figure: format!("{seconds:.2} s"),
        requirement,
        status: pass_if(ok),
        mastering_controls: false,
        message,
    }
}

fn format_finding(d: Delivery) -> AcxFinding {
    let requirement = format!("MP3, CBR ≥ {MIN_MP3_CBR_KBPS} kbit/s");
    let (figure, status, message) = match (d.format, d.mp3.mode) {
        (FileFormat::Mp3, Mp3Mode::Cbr { kbps }) if kbps >= MIN_MP3_CBR_KBPS => (
            format!("MP3 CBR {kbps} kbit/s"),
            AcxStatus::Pass,
            String::new(),
        ),
        (FileFormat::Mp3, Mp3Mode::Cbr { kbps }) => (
            format!("MP3 CBR {kbps} kbit/s"),
            AcxStatus::Fail,
            format!("ACX takes {MIN_MP3_CBR_KBPS} kbit/s CBR or more"),
        ),
        (FileFormat::Mp3, Mp3Mode::Vbr { quality }) => (
            format!("MP3 VBR -V{quality}"),
            AcxStatus::Fail,
            format!("ACX takes constant bit rate: CBR {MIN_MP3_CBR_KBPS} kbit/s or more"),
        ),
        (other, _) => (
            format!("{other:?}").to_uppercase(),
            AcxStatus::Advisory,
            format!(
                "ACX takes MP3 at {MIN_MP3_CBR_KBPS} kbit/s CBR or more: master straight to \
                 `-o NAME.mp3` (CBR 320 kbit/s, checked after decoding), or encode this file at \
                 44.1 kHz CBR ≥ {MIN_MP3_CBR_KBPS} kbit/s (the −3.5 dBTP ceiling leaves room for \
                 the encoder's overs; measure again after encoding)"
            ),
        ),
    };
    AcxFinding {
        check: "format",
        figure,
        requirement,
        status,
        mastering_controls: false,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figures(rate: u32, channels: &[Vec<f64>]) -> AcxFigures {
        let mut a = AcxAnalyzer::new(rate, channels.len());
        // Irregular blocks: the figures do not depend on them.
        let n = channels[0].len();
        let mut i = 0;
        let mut step = 1;
        while i < n {
            let end = (i + step).min(n);
            let part: Vec<&[f64]> = channels.iter().map(|c| &c[i..end]).collect();
            a.process(&part);
            i = end;
            step = step * 3 % 5003 + 7;
        }
        a.finish()
    }

    #[test]
    fn rms_and_peak_of_a_sine_and_the_stereo_power_mean() {
        let fs = 44_100;
        let sine: Vec<f64> = (0..fs)
            .map(|n| 0.5 * (2.0 * std::f64::consts::PI * 1000.0 * n as f64 / fs as f64).sin())
            .collect();
        let f = figures(fs as u32, std::slice::from_ref(&sine));
        // 0.5 amplitude: −6.02 dBFS peak, −9.03 dBFS RMS.
        assert!((f.rms_dbfs - (-9.031)).abs() < 0.01, "{}", f.rms_dbfs);
        assert!((f.sample_peak_dbfs - (-6.021)).abs() < 0.01);
        // Left at −9.03, right silent: power mean 3.01 dB lower.
        let silent = vec![0.0; fs];
        let f2 = figures(fs as u32, &[sine.clone(), silent]);
        assert!((f2.rms_dbfs - (-12.041)).abs() < 0.01, "{}", f2.rms_dbfs);
        assert_eq!(f2.channel_rms_dbfs[1], f64::NEG_INFINITY);
        // Dual mono reads as its mono original.
        let f3 = figures(fs as u32, &[sine.clone(), sine]);
        assert!((f3.rms_dbfs - f.rms_dbfs).abs() < 1e-9);
    }

    #[test]
    fn floor_is_the_quietest_window_and_room_tone_is_timed() {
        // 0.7 s at −70 dBFS RMS (a square wave of ±10^(−70/20)), 2 s at
        // −20, 1.5 s at −70, with 0.3 s of digital silence at the very end.
        let fs = 48_000u32;
        let quiet = 10f64.powf(-70.0 / 20.0);
        let loud = 10f64.powf(-20.0 / 20.0);
        let mut x = Vec::new();
        let sq = |a: f64, n: usize| (0..n).map(move |i| if i % 2 == 0 { a } else { -a });
        x.extend(sq(quiet, 33_600));
        x.extend(sq(loud, 96_000));
        x.extend(sq(quiet, 72_000));
        x.extend(std::iter::repeat_n(0.0, 14_400));
        let f = figures(fs, &[x]);
        let floor = f.noise_floor_dbfs.unwrap();
        assert!((floor - (-70.0)).abs() < 0.01, "floor {floor}");
        assert_eq!(f.room_tone_threshold_dbfs, ROOM_TONE_THRESHOLD_DBFS);
        assert!(
            (f.head_room_tone_s.unwrap() - 0.7).abs() < 1e-9,
            "{:?}",
            f.head_room_tone_s
        );
        assert!(
            (f.tail_room_tone_s.unwrap() - 1.8).abs() < 1e-9,
            "{:?}",
            f.tail_room_tone_s
        );
        assert!((f.sample_peak_dbfs - (-20.0)).abs() < 1e-9);
    }

    #[test]
    fn a_noisy_floor_raises_the_room_tone_threshold_and_fails_with_advice() {
        let fs = 44_100u32;
        let n = 3 * fs as usize;
        let noisy: Vec<f64> = (0..n)
            .map(|i| {
                let a = if (fs as usize..2 * fs as usize).contains(&i) {
                    0.2
                } else {
                    0.003
                };
                if i % 2 == 0 { a } else { -a }
            })
            .collect();
        let f = figures(fs, &[noisy]);
        let floor = f.noise_floor_dbfs.unwrap();
        assert!((floor - 20.0 * 0.003f64.log10()).abs() < 0.01);
        assert!((f.room_tone_threshold_dbfs - (floor + 10.0)).abs() < 1e-9);
        assert!((f.head_room_tone_s.unwrap() - 1.0).abs() < 1e-9);
        let mut input = f.clone();
        input.noise_floor_dbfs = Some(floor - 4.0);
        let r = AcxReport::check(
            input,
            f,
            (-23.0, -18.0),
            Delivery {
                format: FileFormat::Wav,
                mp3: Mp3Options::default(),
            },
        );
        let nf = r
            .findings
            .iter()
            .find(|x| x.check == "noise_floor")
            .unwrap();
        assert_eq!(nf.status, AcxStatus::Fail);
        assert!(!nf.mastering_controls);
        assert!(nf.message.contains("raised it by 4.0 dB"), "{}", nf.message);
        assert!(nf.message.contains("cannot"), "{}", nf.message);
        let fmt = r.findings.iter().find(|x| x.check == "format").unwrap();
        assert_eq!(fmt.status, AcxStatus::Advisory);
    }

    #[test]
    fn digital_silence_is_no_floor() {
        let f = figures(44_100, &[vec![0.0; 44_100]]);
        assert_eq!(f.noise_floor_dbfs, None);
        assert_eq!(f.rms_dbfs, f64::NEG_INFINITY);
        assert_eq!(f.head_room_tone_s, None);
    }

    #[test]
    fn room_tone_is_not_timed_without_a_floor_under_the_programme() {
        // Steady noise: the quietest window is the programme itself.
        let fs = 44_100u32;
        let x: Vec<f64> = (0..2 * fs as usize)
            .map(|i| if i % 2 == 0 { 0.1 } else { -0.1 })
            .collect();
        let f = figures(fs, &[x]);
        assert_eq!((f.head_room_tone_s, f.tail_room_tone_s), (None, None));
        let r = AcxReport::check(
            f.clone(),
            f,
            (-23.0, -18.0),
            Delivery {
                format: FileFormat::Mp3,
                mp3: Mp3Options::default(),
            },
        );
        let head = r
            .findings
            .iter()
            .find(|x| x.check == "head_room_tone")
            .unwrap();
        assert_eq!(head.status, AcxStatus::Advisory);
        assert!(head.message.contains("cannot be told"), "{}", head.message);
    }
}
