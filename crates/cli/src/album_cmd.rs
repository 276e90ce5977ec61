//! `mixmaster album album.toml -o OUTDIR [--cd] [--streaming]`: songs in
//! order at consistent loudness, delivered as a CD image with CUE sheet and
//! PQ listing, and as tagged streaming files.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use indicatif::{ProgressBar, ProgressStyle};
use mixmaster_core::AudioBuffer;
use mixmaster_engine::album::{AlbumOptions, AlbumSummary, make_album};
use mixmaster_io::{AudioReader, AudioWriter, Encoding, FileFormat, WriteSpec};
use mixmaster_session::{LoadedAlbum, LoudnessMode};

use crate::format;
use crate::pipeline::BLOCK_FRAMES;
use crate::report_cmd;
use mixmaster_report::Inputs;

/// Arguments of `mixmaster album`.
#[derive(Debug, clap::Args)]
#[command(after_help = album_help())]
pub struct AlbumArgs {
    /// The album file (TOML; see docs/album.md).
    pub album: PathBuf,
    /// Output folder: created if missing; must be empty unless --force.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Make the CD delivery: 44.1 kHz/16-bit image, CUE sheet, PQ listing, per-track files.
    #[arg(long)]
    pub cd: bool,
    /// Make the streaming delivery: per-track FLAC/WAV with tags and ReplayGain.
    #[arg(long)]
    pub streaming: bool,
    /// Write into a folder that is not empty (replaces what an earlier album run wrote there).
    #[arg(long)]
    pub force: bool,
    /// Worker threads for mixing sessions (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Also write an HTML report of the whole album (the CD image, else the streaming tracks
    /// back to back) with every track start marked.
    #[arg(long, value_name = "PATH")]
    pub report: Option<PathBuf>,
}

fn album_help() -> String {
    format!(
        "With neither --cd nor --streaming, the album file's `deliver` list decides (default \
         both).\nGenerated programmes for `generate = \"…\"`: {}.",
        mixmaster_engine::programmes::names()
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// Runs `mixmaster album`.
pub fn run(args: &AlbumArgs) -> Result<ExitCode> {
    let loaded = LoadedAlbum::load(&args.album)?;
    if let Some(html) = &args.report {
        report_cmd::check_output(html, &[args.album.as_path(), args.output.as_path()])?;
    }
    let (file_cd, file_streaming) = loaded.album.deliveries();
    let (cd, streaming) = if args.cd || args.streaming {
        (args.cd, args.streaming)
    } else {
        (file_cd, file_streaming)
    };
    let options = AlbumOptions {
        out_dir: args.output.clone(),
        cd,
        streaming,
        force: args.force,
        threads: args
            .threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
    };
    let pb = std::io::stderr().is_terminal().then(|| {
        let pb = ProgressBar::new(0);
        if let Ok(style) = ProgressStyle::with_template("{msg:50} [{bar:30}] {percent:>3}%") {
            pb.set_style(style.progress_chars("=> "));
        }
        pb
    });
    let result = make_album(&loaded, &options, |p| {
        if let Some(pb) = &pb {
            pb.set_message(p.stage.clone());
            pb.set_length(p.total.max(1));
            pb.set_position(p.done);
        }
    });
    if let Some(pb) = pb {
        pb.finish_and_clear();
    }
    let summary = result?;
    print_summary(&summary)?;
    if let Some(html) = &args.report {
        say!("");
        report_album(&summary, &loaded.album.album.title, html)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The album report: the CD image when there is one, else the streaming
/// tracks decoded back to back into a temporary float WAV (they are
/// gapless, so that is the album); every track start marked.
fn report_album(s: &AlbumSummary, title: &str, html: &Path) -> Result<()> {
    let Some(d) = s
        .deliveries
        .iter()
        .find(|d| d.kind == "cd")
        .or_else(|| s.deliveries.first())
    else {
        return Ok(());
    };
    let fs = f64::from(d.sample_rate_hz);
    let markers = d
        .tracks
        .iter()
        .map(|t| (t.start as f64 / fs, format!("{} {}", t.number, t.title)))
        .collect();
    let image = d
        .files
        .iter()
        .find(|f| f.extension().is_some_and(|e| e == "wav"))
        .cloned();
    let (file, temp) = match image {
        Some(f) => (f, None),
        None => {
            let tmp = std::env::temp_dir()
                .join(format!("mixmaster-album-report-{}.wav", std::process::id()));
            let tracks: Vec<&Path> = d
                .tracks
                .iter()
                .filter_map(|t| t.files.iter().find(|f| FileFormat::from_path(f).is_some()))
                .map(PathBuf::as_path)
                .collect();
            if let Err(e) = concatenate(&tracks, &tmp) {
                let _ = std::fs::remove_file(&tmp);
                return Err(e);
            }
            (tmp.clone(), Some(tmp))
        }
    };
    let result = report_cmd::write(
        &Inputs {
            file,
            name: Some(format!(
                "{title} ({} delivery, {} tracks)",
                if d.kind == "cd" { "CD" } else { "streaming" },
                d.tracks.len()
            )),
            ceiling_dbtp: s.ceiling_dbtp,
            target_lufs: s.target_lufs.is_finite().then_some(s.target_lufs),
            markers,
            ..Inputs::default()
        },
        html,
        None,
    );
    if let Some(t) = temp {
        let _ = std::fs::remove_file(t);
    }
    report_cmd::print_checks(&result?, html)
}

/// Decodes `files` one after another into a 32-bit float WAV at `out`.
fn concatenate(files: &[&Path], out: &Path) -> Result<()> {
    let mut writer: Option<AudioWriter> = None;
    let mut buf = AudioBuffer::new(2, BLOCK_FRAMES);
    for f in files {
        let mut reader = AudioReader::open(f)?;
        let info = reader.info().clone();
        let w = match &mut writer {
            Some(w) => w,
            None => writer.insert(AudioWriter::create(
                out,
                WriteSpec {
                    sample_rate_hz: info.sample_rate_hz,
                    channels: info.channels,
                    format: FileFormat::Wav,
                    encoding: Encoding::Float32,
                },
                files,
            )?),
        };
        if buf.channels() != info.channels {
            buf = AudioBuffer::new(info.channels, BLOCK_FRAMES);
        }
        while reader.read(&mut buf, BLOCK_FRAMES)? > 0 {
            w.write(buf.planar())?;
        }
    }
    if let Some(w) = writer {
        w.finish()?;
    }
    Ok(())
}

fn print_summary(s: &AlbumSummary) -> Result<()> {
    let mode = match s.mode {
        LoudnessMode::Album => "album (one gain, the loudest song at the target)",
        LoudnessMode::Track => "track (every song at the target)",
        LoudnessMode::None => "none (levels as given)",
    };
    let target = if s.target_lufs.is_finite() {
        format!("{:.1} LUFS", s.target_lufs)
    } else {
        "none".into()
    };
    say!(
        "Album in {} — loudness {mode}; target {target}, ceiling {:.1} dBTP",
        s.out_dir.display(),
        s.ceiling_dbtp
    );
    say!("  #  song                          source     input  level    aim   gain  limiter");
    for (i, song) in s.songs.iter().enumerate() {
        let (gain, gr) = (
            song.mastering.gain_db,
            song.mastering.max_limiter_reduction_db,
        );
        say!(
            " {:>2}  {:<28}  {:<8} {:>6} {:>6} {:>6} {:>6} {:>6.1} dB",
            i + 1,
            clip(&song.title, 28),
            song.source_kind,
            format::level(song.input_lufs),
            format::gain(song.level_db),
            format::level(song.aim_lufs),
            format::gain(gain),
            gr
        );
    }
    for d in &s.deliveries {
        say!(
            "{} delivery: {} Hz / {}-bit, {} ({} tracks)",
            if d.kind == "cd" { "CD" } else { "Streaming" },
            d.sample_rate_hz,
            d.bits,
            format::duration(d.total_frames as f64 / f64::from(d.sample_rate_hz)),
            d.tracks.len()
        );
        say!("  #  track                         start       length     LUFS    dBTP   LRA");
        for t in &d.tracks {
            let fs = f64::from(d.sample_rate_hz);
            say!(
                " {:>2}  {:<28}  {:>10} {:>10} {:>7} {:>7} {:>5}",
                t.number,
                clip(&t.title, 28),
                format::duration(t.start as f64 / fs),
                format::duration(t.frames as f64 / fs),
                format::level(t.report.integrated_lufs),
                format::level(t.report.true_peak_dbtp.max(t.ffmpeg_true_peak_dbtp)),
                format::opt(t.report.lra_lu, 1)
            );
        }
        say!(
            "  album as one programme: {} LUFS, LRA {} LU, true peak {} dBTP (ffmpeg reading {}); \
             spread {:.1} LU",
            format::level(d.album_lufs),
            format::opt(d.album_lra_lu, 1),
            format::level(d.album_true_peak_dbtp),
            format::level(d.album_ffmpeg_true_peak_dbtp),
            d.spread_lu
        );
        if d.album_limiter_reduction_db > 0.05 {
            say!(
                "  album limiter (crossfade sums): up to {:.1} dB at {:.2} dBTP",
                d.album_limiter_reduction_db,
                d.album_limiter_ceiling_dbtp
            );
        }
        for f in &d.files {
            say!("  wrote {}", f.display());
        }
        let n_files: usize = d.tracks.iter().map(|t| t.files.len()).sum();
        if let Some(dir) = d
            .tracks
            .first()
            .and_then(|t| t.files.first())
            .and_then(|f| f.parent())
        {
            say!("  wrote {n_files} track files in {}", dir.display());
        }
    }
    for n in &s.notes {
        say!("note: {n}");
    }
    say!("log: {}", s.log.display());
    Ok(())
}

/// `title` cut to `n` characters with an ellipsis.
fn clip(title: &str, n: usize) -> String {
    if title.chars().count() <= n {
        title.to_string()
    } else {
        let mut s: String = title.chars().take(n - 1).collect();
        s.push('…');
        s
    }
}
