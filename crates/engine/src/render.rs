//! Rendering a session to a file: the mix streamed block by block through
//! dither (only when the word length drops) into an atomic writer, metered
//! on the way.

use std::path::{Path, PathBuf};
use std::time::Instant;

use mixmaster_core::Processor;
use mixmaster_dsp::{Dither, DitherOptions, NoiseShaping};
use mixmaster_io::{AudioWriter, Encoding, FileFormat, WriteSpec};
use mixmaster_meter::{Meter, MeterOptions, MeterReport};
use mixmaster_session::LoadedSession;

use crate::error::EngineError;
use crate::graph::{Mixer, StemSink};

/// How to render.
#[derive(Debug, Clone)]
pub struct RenderOptions {
    /// Output file.
    pub output: PathBuf,
    /// Container (by default from the extension).
    pub format: FileFormat,
    /// Sample encoding: 32-bit float by default (a mix goes on to mastering).
    pub encoding: Encoding,
    /// Worker threads.
    pub threads: usize,
    /// Also write every track and bus as rendered (post-fader, aligned with
    /// the mix) into this folder, in the mix's format.
    pub stems_dir: Option<PathBuf>,
}

/// What a render produced.
#[derive(Debug, Clone)]
pub struct RenderSummary {
    /// The file written.
    pub output: PathBuf,
    /// Frames written.
    pub frames: u64,
    /// Session rate.
    pub sample_rate_hz: u32,
    /// Samples the writer clipped (integer formats only).
    pub clipped_samples: u64,
    /// Meter readings of the written signal.
    pub report: MeterReport,
    /// Render speed in multiples of real time.
    pub speed_x_realtime: f64,
    /// Compensated latency in frames.
    pub latency_frames: usize,
}

/// Renders `loaded` to `options.output`; `progress` receives the timeline
/// frames done and the total.
pub fn render_to_file(
    loaded: &LoadedSession,
    options: &RenderOptions,
    mut progress: impl FnMut(u64, u64),
) -> Result<RenderSummary, EngineError> {
    let started = Instant::now();
    let mut mixer = Mixer::build(loaded)?;
    let rate = mixer.sample_rate_hz();
    let inputs = source_paths(loaded);
    let input_refs: Vec<&Path> = inputs.iter().map(PathBuf::as_path).collect();
    let spec = WriteSpec {
        sample_rate_hz: rate,
        channels: 2,
        format: options.format,
        encoding: options.encoding,
    };
    let mut writer = AudioWriter::create(&options.output, spec, &input_refs)?;
    let bits = match options.encoding {
        Encoding::Pcm16 => Some(16),
        Encoding::Pcm24 => Some(24),
        _ => None,
    };
    // The mix is float: an integer output always lowers the word length.
    let mut dither = match bits {
        Some(bits) => Some(dither(bits, NoiseShaping::None, rate, 2)?),
        None => None,
    };
    let mut meter =
        Meter::new(MeterOptions::new(rate, 2)).map_err(|e| EngineError::Render(e.to_string()))?;
    let total = mixer.timeline_frames();
    let mut done = 0u64;
    let mut block = [Vec::new(), Vec::new()];
    let mut stem_writers = match &options.stems_dir {
        Some(dir) => stem_writers(dir, &mixer, spec, &input_refs, bits, rate)?,
        None => Vec::new(),
    };
    let mut stem_sink = |i: usize, audio: &[Vec<f64>; 2]| -> Result<(), EngineError> {
        if let Some((w, d, buf)) = stem_writers.get_mut(i) {
            buf.clone_from(audio);
            if let Some(d) = d.as_mut() {
                let [l, r] = buf;
                d.process(&mut [l.as_mut_slice(), r.as_mut_slice()]);
            }
            w.write(&buf[..])?;
        }
        Ok(())
    };
    let stems: Option<&mut StemSink<'_>> = if options.stems_dir.is_some() {
        Some(&mut stem_sink)
    } else {
        None
    };
    let stats = mixer.render_with_stems(
        options.threads,
        |out| {
            block.clone_from(out);
            if let Some(d) = dither.as_mut() {
                let [l, r] = &mut block;
                d.process(&mut [l.as_mut_slice(), r.as_mut_slice()]);
            }
            writer.write(&block)?;
            meter
                .process(&block)
                .map_err(|e| EngineError::Render(e.to_string()))?;
            done += block[0].len() as u64;
            progress(done.min(total), total);
            Ok(())
        },
        stems,
    )?;
    for (w, _, _) in stem_writers {
        w.finish()?;
    }
    let summary = writer.finish()?;
    let seconds = started.elapsed().as_secs_f64();
    Ok(RenderSummary {
        output: summary.path,
        frames: stats.frames,
        sample_rate_hz: rate,
        clipped_samples: summary.clipped_samples,
        report: meter.report(),
        speed_x_realtime: stats.frames as f64 / f64::from(rate) / seconds.max(1e-9),
        latency_frames: stats.latency_frames,
    })
}

/// A prepared dither to `bits` (blocks up to the mixer's block size or
/// mastering's, whichever is larger).
pub(crate) fn dither(
    bits: u32,
    shaping: NoiseShaping,
    rate: u32,
    channels: usize,
) -> Result<Dither, EngineError> {
    let mut d = Dither::new(DitherOptions {
        bits,
        shaping,
        ..DitherOptions::default()
    })
    .map_err(|e| EngineError::Render(e.to_string()))?;
    d.prepare(rate, crate::graph::BLOCK_FRAMES.max(4096), channels)
        .map_err(|e| EngineError::Render(e.to_string()))?;
    Ok(d)
}

type StemWriter = (AudioWriter, Option<Dither>, [Vec<f64>; 2]);

/// One writer per track and bus, named after it, with its own dither.
fn stem_writers(
    dir: &Path,
    mixer: &Mixer,
    spec: WriteSpec,
    inputs: &[&Path],
    bits: Option<u32>,
    rate: u32,
) -> Result<Vec<StemWriter>, EngineError> {
    std::fs::create_dir_all(dir).map_err(|e| {
        EngineError::Render(format!(
            "{}: cannot create the stems folder: {e}",
            dir.display()
        ))
    })?;
    let ext = match spec.format {
        FileFormat::Flac => "flac",
        _ => "wav",
    };
    mixer
        .node_names()
        .iter()
        .map(|name| {
            let safe: String = name
                .chars()
                .map(|c| {
                    if c.is_alphanumeric() || " -_.".contains(c) {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            let writer = AudioWriter::create(&dir.join(format!("{safe}.{ext}")), spec, inputs)?;
            let dither = match bits {
                Some(bits) => Some(dither(bits, NoiseShaping::None, rate, 2)?),
                None => None,
            };
            Ok((writer, dither, [Vec::new(), Vec::new()]))
        })
        .collect()
}

/// Every file the session reads (sources and impulse responses), so the
/// output can never overwrite one of them.
pub fn source_paths(loaded: &LoadedSession) -> Vec<PathBuf> {
    let s = &loaded.session;
    let mut paths = Vec::new();
    for t in &s.tracks {
        paths.extend(t.source.iter().map(|p| loaded.resolve(p)));
        paths.extend(t.clips.iter().map(|c| loaded.resolve(&c.source)));
    }
    let inserts = s
        .tracks
        .iter()
        .flat_map(|t| &t.inserts)
        .chain(s.buses.iter().flat_map(|b| &b.inserts))
        .chain(&s.master.inserts);
    for insert in inserts {
        if let mixmaster_session::ProcessorSpec::Convolution(c) = &insert.processor {
            paths.push(loaded.resolve(&c.ir));
        }
    }
    paths.push(loaded.path.clone());
    paths
}
