//! Turns an insert of the session into a prepared processor: the session's
//! fields (all optional) over the processor's defaults; every range is
//! checked by the processor itself, and its error names the field.

use std::path::{Path, PathBuf};

use mixmaster_core::{AudioBuffer, CoreError, Processor};
use mixmaster_dsp::compressor::Detector;
use mixmaster_dsp::eq::DEFAULT_SHELF_Q;
use mixmaster_dsp::saturation::Character;
use mixmaster_dsp::{
    Band, BandChannels, BandOptions, Compressor, CompressorOptions, Convolution,
    ConvolutionOptions, CrossoverKind, DeEsser, DeEsserOptions, Delay, DelayOptions, Eq, EqOptions,
    Exciter, ExciterOptions, Filter, FilterKind, FilterOptions, Gate, GateOptions, Imager,
    ImagerOptions, MasteringBand, MasteringEq, MasteringEqOptions, Multiband, MultibandOptions,
    NoteValue, Phase, Reverb, ReverbOptions, Saturation, SaturationOptions, Utility,
    UtilityOptions,
};
use mixmaster_io::{Resampler, read_all};
use mixmaster_session::EqBand;
use mixmaster_session::ProcessorSpec;

/// `relative` against `base` (an absolute name stays as it is).
fn resolve(base: &Path, relative: &str) -> PathBuf {
    let p = Path::new(relative);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}

/// What the factory needs to know about the render.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// Sample rate of the render.
    pub sample_rate_hz: u32,
    /// Tempo for note-valued delays.
    pub tempo_bpm: f64,
    /// Folder that relative file names (impulse responses) start from.
    pub base_dir: &'a Path,
    /// Largest block.
    pub max_block_frames: usize,
    /// Channels of the strip.
    pub channels: usize,
}

/// Why a processor could not be built: a parameter (by its session field
/// name, relative to the processor) and the message.
#[derive(Debug)]
pub struct BuildError {
    /// The field, e.g. `ratio`; `None` for the processor as a whole.
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl From<CoreError> for BuildError {
    fn from(e: CoreError) -> Self {
        let field = match &e {
            CoreError::OutOfRange { name, .. } => Some((*name).to_string()),
            _ => None,
        };
        Self {
            field,
            message: e.to_string(),
        }
    }
}

fn on_field(field: &str) -> impl FnOnce(CoreError) -> BuildError + '_ {
    move |e| BuildError {
        field: Some(field.to_string()),
        message: e.to_string(),
    }
}

/// `target = value` where the session gives a value.
fn set<T: Copy>(target: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *target = v;
    }
}

fn crossover_kind(field: &str, name: &str) -> Result<CrossoverKind, BuildError> {
    CrossoverKind::from_name(name).ok_or_else(|| BuildError {
        field: Some(field.into()),
        message: format!(
            "'{name}' is not a crossover: expected \"lr2\", \"lr4\", \"lr8\" or \"linear_phase\""
        ),
    })
}

fn band_options(b: &mixmaster_session::MultibandBandSpec) -> BandOptions {
    let mut o = BandOptions::default();
    set(&mut o.threshold_db, b.threshold_db);
    set(&mut o.ratio, b.ratio);
    set(&mut o.knee_db, b.knee_db);
    set(&mut o.attack_ms, b.attack_ms);
    set(&mut o.release_ms, b.release_ms);
    set(&mut o.makeup_db, b.makeup_db);
    set(&mut o.bypass, b.bypass);
    o
}

fn eq_band(b: &EqBand) -> Band {
    match *b {
        EqBand::Bell {
            freq_hz,
            gain_db,
            q,
        } => Band::Bell {
            freq_hz,
            gain_db,
            q,
        },
        EqBand::LowShelf {
            freq_hz,
            gain_db,
            q,
        } => Band::LowShelf {
            freq_hz,
            gain_db,
            q: q.unwrap_or(DEFAULT_SHELF_Q),
        },
        EqBand::HighShelf {
            freq_hz,
            gain_db,
            q,
        } => Band::HighShelf {
            freq_hz,
            gain_db,
            q: q.unwrap_or(DEFAULT_SHELF_Q),
        },
        EqBand::Notch { freq_hz, q } => Band::Notch { freq_hz, q },
        EqBand::Tilt { pivot_hz, gain_db } => Band::Tilt { pivot_hz, gain_db },
    }
}

/// Builds and prepares the processor of one insert.
pub fn build(spec: &ProcessorSpec, ctx: &Context<'_>) -> Result<Box<dyn Processor>, BuildError> {
    let rate = ctx.sample_rate_hz;
    let mut processor: Box<dyn Processor> = match spec {
        ProcessorSpec::Hpf(f) | ProcessorSpec::Lpf(f) => {
            let kind = if matches!(spec, ProcessorSpec::Hpf(_)) {
                FilterKind::HighPass
            } else {
                FilterKind::LowPass
            };
            let mut o = FilterOptions {
                kind,
                freq_hz: f.freq_hz,
                ..FilterOptions::default()
            };
            set(&mut o.slope_db_oct, f.slope_db_oct);
            Box::new(Filter::new(o)?)
        }
        ProcessorSpec::BandPass(b) => {
            let mut o = FilterOptions {
                kind: FilterKind::BandPass,
                freq_hz: b.freq_hz,
                ..FilterOptions::default()
            };
            set(&mut o.q, b.q);
            Box::new(Filter::new(o)?)
        }
        ProcessorSpec::Eq(e) => {
            let bands = e.bands.iter().map(eq_band).collect();
            Box::new(Eq::new(EqOptions {
                bands,
                ..EqOptions::default()
            })?)
        }
        ProcessorSpec::Gain(g) => Box::new(Utility::new(UtilityOptions {
            gain_db: g.gain_db,
            ..UtilityOptions::default()
        })?),
        ProcessorSpec::Utility(u) => {
            let mut o = UtilityOptions::default();
            set(&mut o.mono, u.mono);
            set(&mut o.width, u.width);
            set(&mut o.invert_polarity, u.invert_polarity);
            if u.phase_freq_hz.is_some() {
                o.phase_freq_hz = u.phase_freq_hz;
            }
            set(&mut o.phase_q, u.phase_q);
            Box::new(Utility::new(o)?)
        }
        ProcessorSpec::MasteringEq(m) => {
            let mut bands = Vec::new();
            for (list, ch) in [
                (&m.bands, BandChannels::Stereo),
                (&m.mid_bands, BandChannels::Mid),
                (&m.side_bands, BandChannels::Side),
                (&m.left_bands, BandChannels::Left),
                (&m.right_bands, BandChannels::Right),
            ] {
                bands.extend(list.iter().flatten().map(|b| MasteringBand {
                    band: eq_band(b),
                    channels: ch,
                }));
            }
            let mut o = MasteringEqOptions {
                bands,
                ..MasteringEqOptions::default()
            };
            if let Some(p) = &m.phase {
                o.phase = Phase::from_name(p).ok_or_else(|| BuildError {
                    field: Some("phase".into()),
                    message: format!("'{p}' is not a phase: expected \"minimum\" or \"linear\""),
                })?;
            }
            Box::new(MasteringEq::new(o)?)
        }
        ProcessorSpec::Exciter(x) => {
            let mut o = ExciterOptions::default();
            set(&mut o.freq_hz, x.freq_hz);
            set(&mut o.drive_db, x.drive_db);
            set(&mut o.amount_pct, x.amount_pct);
            if let Some(c) = &x.character {
                o.character = Character::from_name(c).ok_or_else(|| BuildError {
                    field: Some("character".into()),
                    message: format!(
                        "'{c}' is not a character: expected \"tape\", \"tube\" or \"soft_clip\""
                    ),
                })?;
            }
            Box::new(Exciter::new(o)?)
        }
        ProcessorSpec::Multiband(m) => {
            let mut o = MultibandOptions::default();
            if let Some(k) = &m.crossover {
                o.crossover = crossover_kind("crossover", k)?;
            }
            if let Some(hz) = &m.crossover_hz {
                o.crossover_hz.clone_from(hz);
                // Band settings follow the band count unless given.
                o.bands = vec![BandOptions::default(); hz.len() + 1];
            }
            if let Some(bands) = &m.bands {
                o.bands = bands.iter().map(band_options).collect();
            }
            set(&mut o.mid_side, m.mid_side);
            if let Some(bands) = &m.side_bands {
                o.side_bands = bands.iter().map(band_options).collect();
            }
            set(&mut o.mix, m.mix);
            Box::new(Multiband::new(o)?)
        }
        ProcessorSpec::Imager(m) => {
            let mut o = ImagerOptions::default();
            if let Some(k) = &m.crossover {
                o.crossover = crossover_kind("crossover", k)?;
            }
            if let Some(hz) = &m.crossover_hz {
                o.crossover_hz.clone_from(hz);
                o.widths = vec![1.0; hz.len() + 1];
            }
            if let Some(w) = &m.widths {
                o.widths.clone_from(w);
            }
            o.mono_below_hz = m.mono_below_hz;
            if let Some(k) = &m.mono_crossover {
                o.mono_crossover = crossover_kind("mono_crossover", k)?;
            }
            Box::new(Imager::new(o)?)
        }
        ProcessorSpec::Compressor(c) => {
            let mut o = CompressorOptions::default();
            set(&mut o.threshold_db, c.threshold_db);
            set(&mut o.ratio, c.ratio);
            set(&mut o.knee_db, c.knee_db);
            set(&mut o.attack_ms, c.attack_ms);
            set(&mut o.release_ms, c.release_ms);
            if let Some(d) = &c.detector {
                o.detector = Detector::from_name(d).ok_or_else(|| BuildError {
                    field: Some("detector".into()),
                    message: format!("'{d}' is not a detector: expected \"peak\" or \"rms\""),
                })?;
            }
            set(&mut o.lookahead_ms, c.lookahead_ms);
            set(&mut o.makeup_db, c.makeup_db);
            set(&mut o.auto_makeup, c.auto_makeup);
            o.external_sidechain = c.sidechain.is_some();
            if c.sidechain_hpf_hz.is_some() {
                o.sidechain_hpf_hz = c.sidechain_hpf_hz;
            }
            set(&mut o.mix, c.mix);
            Box::new(Compressor::new(o)?)
        }
        ProcessorSpec::Gate(g) => {
            let mut o = GateOptions::default();
            set(&mut o.threshold_db, g.threshold_db);
            set(&mut o.ratio, g.ratio);
            set(&mut o.range_db, g.range_db);
            set(&mut o.hysteresis_db, g.hysteresis_db);
            set(&mut o.hold_ms, g.hold_ms);
            set(&mut o.attack_ms, g.attack_ms);
            set(&mut o.release_ms, g.release_ms);
            o.external_sidechain = g.sidechain.is_some();
            Box::new(Gate::new(o)?)
        }
        ProcessorSpec::DeEsser(d) => {
            let mut o = DeEsserOptions::default();
            set(&mut o.freq_hz, d.freq_hz);
            set(&mut o.threshold_db, d.threshold_db);
            set(&mut o.ratio, d.ratio);
            set(&mut o.range_db, d.range_db);
            Box::new(DeEsser::new(o)?)
        }
        ProcessorSpec::Saturation(sat) => {
            let mut o = SaturationOptions::default();
            if let Some(c) = &sat.character {
                o.character = Character::from_name(c).ok_or_else(|| BuildError {
                    field: Some("character".into()),
                    message: format!(
                        "'{c}' is not a character: expected \"tape\", \"tube\" or \"soft_clip\""
                    ),
                })?;
            }
            set(&mut o.drive_db, sat.drive_db);
            set(&mut o.output_db, sat.output_db);
            set(&mut o.mix, sat.mix);
            Box::new(Saturation::new(o)?)
        }
        ProcessorSpec::Delay(d) => {
            let mut o = DelayOptions {
                tempo_bpm: ctx.tempo_bpm,
                ..DelayOptions::default()
            };
            set(&mut o.time_ms, d.time_ms);
            if let Some(note) = &d.note {
                o.note = Some(NoteValue::parse(note).map_err(on_field("note"))?);
            }
            set(&mut o.feedback, d.feedback);
            set(&mut o.ping_pong, d.ping_pong);
            if d.lowpass_hz.is_some() {
                o.lowpass_hz = d.lowpass_hz;
            }
            if d.highpass_hz.is_some() {
                o.highpass_hz = d.highpass_hz;
            }
            set(&mut o.mix, d.mix);
            Box::new(Delay::new(o)?)
        }
        ProcessorSpec::Reverb(r) => {
            let mut o = ReverbOptions::default();
            set(&mut o.size, r.size);
            set(&mut o.decay_s, r.decay_s);
            set(&mut o.predelay_ms, r.predelay_ms);
            set(&mut o.damping, r.damping);
            set(&mut o.width, r.width);
            set(&mut o.mix, r.mix);
            Box::new(Reverb::new(o)?)
        }
        ProcessorSpec::Convolution(c) => {
            let path = resolve(ctx.base_dir, &c.ir);
            let (info, ir) = read_all(&path).map_err(|e| BuildError {
                field: Some("ir".into()),
                message: e.to_string(),
            })?;
            let ir = if info.sample_rate_hz == rate {
                ir
            } else {
                let mut r =
                    Resampler::new(info.sample_rate_hz, rate, info.channels).map_err(|e| {
                        BuildError {
                            field: Some("ir".into()),
                            message: e.to_string(),
                        }
                    })?;
                let (mut out, mut tail) = (AudioBuffer::default(), AudioBuffer::default());
                r.process(ir.planar(), &mut out)
                    .and_then(|()| r.flush(&mut tail))
                    .map_err(|e| BuildError {
                        field: Some("ir".into()),
                        message: e.to_string(),
                    })?;
                let joined: Vec<Vec<f64>> = out
                    .planar()
                    .iter()
                    .zip(tail.planar())
                    .map(|(a, b)| a.iter().chain(b).copied().collect())
                    .collect();
                AudioBuffer::from_planar(joined)?
            };
            let mut o = ConvolutionOptions::default();
            set(&mut o.mix, c.mix);
            set(&mut o.gain_db, c.gain_db);
            set(&mut o.predelay_ms, c.predelay_ms);
            Box::new(Convolution::new(ir.planar(), rate, o)?)
        }
    };
    processor.prepare(rate, ctx.max_block_frames, ctx.channels)?;
    Ok(processor)
}
