//! `mixmaster init STEMS_DIR [-o session.toml]`: a folder of stems becomes a
//! session with a rough mix (names, groups and buses, faders, pans,
//! high-pass filters, a master fader checked by rendering). The rules are
//! in `mixmaster_engine::import` and `docs/init.md`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, bail};
use mixmaster_engine::import::{self, InitOptions, LoudnessMethod, PlannedTrack};

use crate::format;

/// Arguments of `mixmaster init`.
#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// Folder holding the stems: one audio file per track (WAV, AIFF, FLAC, MP3, Ogg, M4A…).
    pub stems_dir: PathBuf,
    /// Session file to write; source paths in it are relative to its folder.
    #[arg(short, long, default_value = "session.toml")]
    pub output: PathBuf,
    /// Also import stems from subfolders.
    #[arg(long)]
    pub recursive: bool,
    /// Project tempo in beats per minute.
    #[arg(long, default_value_t = 120.0)]
    pub tempo: f64,
    /// Project name (default: the stems folder's name).
    #[arg(long)]
    pub name: Option<String>,
    /// Replace an existing session file (stems are never overwritten).
    #[arg(long)]
    pub force: bool,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
}

pub fn run(args: &InitArgs) -> Result<ExitCode> {
    // Refuse before measuring anything, not after.
    if !args.force && std::fs::symlink_metadata(&args.output).is_ok() {
        bail!(
            "{}: already exists; use --force to overwrite it",
            args.output.display()
        );
    }
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let options = InitOptions {
        recursive: args.recursive,
        tempo_bpm: args.tempo,
        project_name: args.name.clone(),
        threads,
        ..InitOptions::default()
    };
    let plan = import::plan(&args.stems_dir, &args.output, &options)?;
    for s in &plan.skipped {
        eprintln!("note: skipped {}: {}", s.path.display(), s.reason);
    }

    let header = [
        "track",
        "file",
        "group",
        "role",
        "measured",
        "gain",
        "pan",
        "high-pass",
    ];
    let rows: Vec<[String; 8]> = plan.tracks.iter().map(row).collect();
    let mut widths = header.map(str::len);
    for r in &rows {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        cells
            .iter()
            .zip(widths)
            .enumerate()
            .map(|(i, (c, w))| {
                // Numbers right-aligned, text left-aligned.
                if (4..=6).contains(&i) {
                    format!("{c:>w$}")
                } else {
                    format!("{c:<w$}")
                }
            })
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    say!("{}", line(&header.map(String::from)));
    for r in &rows {
        say!("{}", line(r));
    }
    if plan
        .tracks
        .iter()
        .any(|t| t.level.method != LoudnessMethod::Integrated)
    {
        say!(
            "  measured: integrated loudness (LUFS); * short-term max, ** momentary max, *** from RMS"
        );
    }
    if plan.tracks.iter().any(|t| t.trim_db != 0.0) {
        say!("  gain: fader, plus clip gain (trim) where the fader's +24 dB is not enough");
    }
    let s = &plan.session;
    let m = &plan.mix;
    say!(
        "Buses: {} → master",
        s.buses
            .iter()
            .map(|b| b.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    say!(
        "Project: {} Hz, {} bpm{}",
        s.project.sample_rate_hz,
        s.project.tempo_bpm,
        if s.project.name.is_empty() {
            String::new()
        } else {
            format!(", \"{}\"", s.project.name)
        }
    );
    say!(
        "Rough mix: {} LUFS, sample peak {} dBFS, true peak {} dBTP, {} (master {} dB; {} render{})",
        format::level(m.loudness_lufs),
        format::level(m.sample_peak_dbfs),
        format::level(m.true_peak_dbtp),
        format::duration(m.duration_s),
        format::gain(m.master_gain_db),
        m.renders,
        if m.renders == 1 { "" } else { "s" }
    );
    for w in &plan.warnings {
        eprintln!("warning: {w}");
    }
    import::write_session(&plan, args.force)?;
    say!(
        "Wrote {} ({} tracks, {} buses)",
        args.output.display(),
        plan.tracks.len(),
        s.buses.len()
    );
    Ok(ExitCode::SUCCESS)
}

fn row(t: &PlannedTrack) -> [String; 8] {
    let marker = match t.level.method {
        LoudnessMethod::Integrated | LoudnessMethod::Silent => "",
        LoudnessMethod::ShortTermMax => "*",
        LoudnessMethod::MomentaryMax => "**",
        LoudnessMethod::Rms => "***",
    };
    let gain = if t.trim_db == 0.0 {
        format::gain(t.gain_db)
    } else {
        format!("{} {}", format::gain(t.gain_db), format::gain(t.trim_db))
    };
    let pan = if t.pan == 0.0 {
        "C".to_string()
    } else {
        format!(
            "{}{:.0}",
            if t.pan < 0.0 { "L" } else { "R" },
            t.pan.abs() * 100.0
        )
    };
    [
        t.name.clone(),
        t.source.clone(),
        t.bus.clone(),
        t.role.name().to_string(),
        format!("{}{marker}", format::level(t.level.loudness_lufs)),
        gain,
        pan,
        format!(
            "{:.0} Hz {:.0} dB/oct",
            t.high_pass.freq_hz, t.high_pass.slope_db_oct
        ),
    ]
}
