//! Session → graph of nodes → streamed render.
//!
//! Nodes are the tracks, then the buses, then the master. Each node sums its
//! inputs (in a fixed order), runs its strip and leaves a stereo main output
//! and one output per send. Nodes are grouped into waves: a wave holds nodes
//! whose inputs (and sidechain keys) all come from earlier waves, and its
//! nodes render in parallel.
//!
//! Latency compensation: a node's input latency is the largest output
//! latency among its sources (and keys, less the latency of the inserts
//! before the keyed one); every input is delayed by the difference, so all
//! paths arrive aligned. The master output is trimmed by its latency, so
//! the render starts at timeline frame 0.

use std::collections::BTreeMap;

use mixmaster_core::units::db_to_amplitude;
use mixmaster_io::AudioReader;
use mixmaster_session::{
    Automation, Curve, FieldPath, LoadedSession, Position, ProcessorSpec, Strip, Tempo,
};
use rayon::prelude::*;

use crate::automation::{Breakpoint, GainSmoother, Lane};
use crate::clip::{ClipPlan, ClipPlayer, FadeFrames};
use crate::delay_line::DelayLine;
use crate::error::EngineError;
use crate::factory::{self, Context};
use crate::strip::{InsertRt, SendRt, StripRt, Value};

/// Frames per render block.
pub const BLOCK_FRAMES: usize = 2048;
/// Level below which a tail counts as ended.
const TAIL_FLOOR_DB: f64 = -90.0;
/// Longest tail rendered after the last clip, in seconds.
const MAX_TAIL_S: f64 = 60.0;

#[derive(Debug)]
enum Kind {
    Track(Vec<ClipPlayer>),
    Bus,
}

#[derive(Debug)]
struct Edge {
    from: usize,
    /// `None` for the source's main output, else its send index.
    send: Option<usize>,
    delay: DelayLine,
    scratch: [Vec<f64>; 2],
}

#[derive(Debug)]
struct Key {
    from: usize,
    delay: DelayLine,
    buf: [Vec<f64>; 2],
}

#[derive(Debug)]
struct Node {
    name: String,
    kind: Kind,
    strip: StripRt,
    inputs: Vec<Edge>,
    /// Key per insert (same index as the inserts).
    keys: Vec<Option<Key>>,
    /// Delay of a track's own audio when a key arrives late.
    input_delay: DelayLine,
    input: Vec<Vec<f64>>,
    in_latency: usize,
    out_latency: usize,
}

/// A node's outputs for the current block.
#[derive(Debug, Default, Clone)]
struct NodeOut {
    main: [Vec<f64>; 2],
    sends: Vec<[Vec<f64>; 2]>,
}

/// Receives each track's and bus's output block: node index, stereo audio.
pub type StemSink<'a> = dyn FnMut(usize, &[Vec<f64>; 2]) -> Result<(), EngineError> + 'a;

/// What a render did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RenderStats {
    /// Frames written (timeline plus tail).
    pub frames: u64,
    /// Frames of the timeline (to the end of the last clip).
    pub timeline_frames: u64,
    /// Latency compensated at the master, in frames.
    pub latency_frames: usize,
}

/// A session ready to render.
#[derive(Debug)]
pub struct Mixer {
    nodes: Vec<Option<Node>>,
    outputs: Vec<NodeOut>,
    waves: Vec<Vec<usize>>,
    master: usize,
    sample_rate_hz: u32,
    timeline_frames: u64,
    tail_bound_frames: u64,
}

fn seconds_to_frames(s: f64, rate: u32) -> u64 {
    (s * f64::from(rate)).round().max(0.0) as u64
}

fn lane(a: &Automation, tempo: &Tempo, rate: u32, map: impl Fn(f64) -> f64) -> Lane {
    Lane::new(
        a.points
            .iter()
            .map(|p| Breakpoint {
                frame: seconds_to_frames(p.at().seconds(tempo), rate),
                value: map(p.value()),
                curve: p.curve(),
            })
            .collect(),
    )
}

fn value(lanes: &[Automation], param: &str, constant: f64, tempo: &Tempo, rate: u32) -> Value {
    match lanes.iter().find(|a| a.param == param) {
        Some(a) => Value::Lane(lane(a, tempo, rate, |v| v)),
        None => Value::Constant(constant),
    }
}

impl Mixer {
    /// Builds the graph of a loaded session: opens every source to check it,
    /// plans clips, builds and prepares processors, computes latencies.
    pub fn build(loaded: &LoadedSession) -> Result<Self, EngineError> {
        let s = &loaded.session;
        let rate = s.project.sample_rate_hz;
        let tempo = s.tempo();
        let root = FieldPath::root();
        let any_solo = s.tracks.iter().any(|t| t.solo);

        // Node indices: tracks, buses, master.
        let mut index: BTreeMap<&str, usize> = BTreeMap::new();
        for (i, t) in s.tracks.iter().enumerate() {
            index.insert(&t.name, i);
        }
        for (i, b) in s.buses.iter().enumerate() {
            index.insert(&b.name, s.tracks.len() + i);
        }
        let master = s.tracks.len() + s.buses.len();
        let dest = |bus: &Option<String>| {
            bus.as_deref()
                .map_or(master, |b| index.get(b).copied().unwrap_or(master))
        };

        let mut nodes: Vec<Node> = Vec::new();
        let mut timeline_frames = 0u64;
        // Tracks.
        for (ti, t) in s.tracks.iter().enumerate() {
            let tp = root.key("track").index(ti);
            let mut plans = Vec::new();
            let mut channels = 1;
            let clips: Vec<(FieldPath, mixmaster_session::Clip)> = match &t.source {
                Some(src) => vec![(
                    tp.key("source"),
                    mixmaster_session::Clip {
                        source: src.clone(),
                        at: Position::Seconds(0.0),
                        source_offset: None,
                        length: None,
                        gain_db: 0.0,
                        fade_in: None,
                        fade_out: None,
                    },
                )],
                None => t
                    .clips
                    .iter()
                    .enumerate()
                    .map(|(c, clip)| (tp.key("clip").index(c), clip.clone()))
                    .collect(),
            };
            for (cp, clip) in &clips {
                let path = loaded.resolve(&clip.source);
                let reader = AudioReader::open(&path).map_err(|e| EngineError::Source {
                    track: t.name.clone(),
                    path: path.display().to_string(),
                    message: e
                        .to_string()
                        .replacen(&format!("{}: ", path.display()), "", 1),
                })?;
                let info = reader.info().clone();
                drop(reader);
                if info.channels > 2 {
                    return Err(loaded
                        .error_at(
                            cp,
                            format!(
                                "{}: {} channels; tracks take mono or stereo sources",
                                path.display(),
                                info.channels
                            ),
                            None,
                        )
                        .into());
                }
                channels = channels.max(info.channels);
                let offset_s = clip.source_offset.map_or(0.0, |p| p.seconds(&tempo));
                let offset_src = seconds_to_frames(offset_s, info.sample_rate_hz);
                let available = info.frames.map(|f| {
                    let rest = f.saturating_sub(offset_src);
                    (rest as f64 * f64::from(rate) / f64::from(info.sample_rate_hz)).round() as u64
                });
                let length = match (clip.length, available) {
                    (Some(l), avail) => {
                        let l = seconds_to_frames(l.seconds(&tempo), rate);
                        if let Some(a) = avail
                            && l > a
                        {
                            return Err(loaded
                                .error_at(
                                    &cp.key("length"),
                                    format!(
                                        "the clip runs beyond the end of {}: it needs {:.3} s of the source after the offset, which has {:.3} s",
                                        path.display(),
                                        l as f64 / f64::from(rate),
                                        a as f64 / f64::from(rate)
                                    ),
                                    None,
                                )
                                .into());
                        }
                        l
                    }
                    (None, Some(a)) => a,
                    (None, None) => {
                        return Err(loaded
                            .error_at(cp, format!("{}: the length of this source is not known; give the clip a `length`", path.display()), None)
                            .into());
                    }
                };
                if length == 0 {
                    return Err(loaded
                        .error_at(
                            cp,
                            format!(
                                "{}: the offset is at or past the end of the source",
                                path.display()
                            ),
                            None,
                        )
                        .into());
                }
                let fade = |f: &Option<mixmaster_session::Fade>| FadeFrames {
                    frames: f
                        .as_ref()
                        .map_or(0, |f| seconds_to_frames(f.length.seconds(&tempo), rate))
                        .min(length),
                    curve: f.as_ref().map_or(Curve::Linear, |f| f.curve),
                };
                plans.push(ClipPlan {
                    track: t.name.clone(),
                    path,
                    start: seconds_to_frames(clip.at.seconds(&tempo), rate),
                    length,
                    source_offset: offset_src,
                    gain: db_to_amplitude(clip.gain_db),
                    fade_in: fade(&clip.fade_in),
                    fade_out: fade(&clip.fade_out),
                });
            }
            plans.sort_by_key(|p| p.start);
            // Automatic crossfades where clips overlap: equal power over the overlap.
            for k in 1..plans.len() {
                let overlap = plans[k - 1]
                    .end()
                    .saturating_sub(plans[k].start)
                    .min(plans[k].length);
                if overlap > 0 {
                    let prev = &mut plans[k - 1];
                    if prev.fade_out.frames < overlap {
                        prev.fade_out = FadeFrames {
                            frames: overlap,
                            curve: Curve::EqualPower,
                        };
                    }
                    let cur = &mut plans[k];
                    if cur.fade_in.frames < overlap {
                        cur.fade_in = FadeFrames {
                            frames: overlap,
                            curve: Curve::EqualPower,
                        };
                    }
                }
            }
            timeline_frames =
                timeline_frames.max(plans.iter().map(ClipPlan::end).max().unwrap_or(0));
            let players = plans
                .into_iter()
                .map(|p| ClipPlayer::new(p, rate, channels))
                .collect();
            let mute = t.mute || (any_solo && !t.solo);
            let strip = build_strip(loaded, &tp, &t.strip(), channels, mute, &index, &tempo)?;
            nodes.push(node(t.name.clone(), Kind::Track(players), strip, channels));
        }
        for (bi, b) in s.buses.iter().enumerate() {
            let bp = root.key("bus").index(bi);
            let strip = build_strip(loaded, &bp, &b.strip(), 2, b.mute, &index, &tempo)?;
            nodes.push(node(b.name.clone(), Kind::Bus, strip, 2));
        }
        let master_strip = Strip {
            gain_db: s.master.gain_db,
            pan: 0.0,
            width: 1.0,
            pan_law_db: Some(0.0),
            mute: false,
            invert_polarity: false,
            inserts: s.master.inserts.clone(),
            sends: Vec::new(),
            automation: s.master.automation.clone(),
            bus: None,
        };
        let strip = build_strip(
            loaded,
            &root.key("master"),
            &master_strip,
            2,
            false,
            &index,
            &tempo,
        )?;
        nodes.push(node("master".into(), Kind::Bus, strip, 2));

        // Edges: main outputs and sends.
        let mut edges: Vec<(usize, usize, Option<usize>)> = Vec::new();
        for (i, t) in s.tracks.iter().enumerate() {
            edges.push((i, dest(&t.bus), None));
            for (k, send) in t.sends.iter().enumerate() {
                edges.push((i, index[send.bus.as_str()], Some(k)));
            }
        }
        for (bi, b) in s.buses.iter().enumerate() {
            let i = s.tracks.len() + bi;
            edges.push((i, dest(&b.bus), None));
            for (k, send) in b.sends.iter().enumerate() {
                edges.push((i, index[send.bus.as_str()], Some(k)));
            }
        }
        edges.sort();
        for (from, to, send) in edges {
            nodes[to].inputs.push(Edge {
                from,
                send,
                delay: DelayLine::new(2, 0),
                scratch: [Vec::new(), Vec::new()],
            });
        }

        // Waves: longest path from the sources.
        let n_nodes = nodes.len();
        let deps = |n: &Node| -> Vec<usize> {
            n.inputs
                .iter()
                .map(|e| e.from)
                .chain(n.keys.iter().flatten().map(|k| k.from))
                .collect()
        };
        let mut level = vec![usize::MAX; n_nodes];
        let mut changed = true;
        let mut rounds = 0;
        while changed {
            changed = false;
            rounds += 1;
            if rounds > n_nodes + 1 {
                return Err(EngineError::Render("internal: routing has a loop".into()));
            }
            for i in 0..n_nodes {
                let d = deps(&nodes[i]);
                if d.iter().all(|&j| level[j] != usize::MAX) {
                    let l = d.iter().map(|&j| level[j] + 1).max().unwrap_or(0);
                    if level[i] != l {
                        level[i] = l;
                        changed = true;
                    }
                }
            }
        }
        let mut waves: Vec<Vec<usize>> = Vec::new();
        for (i, &l) in level.iter().enumerate() {
            if l == usize::MAX {
                return Err(EngineError::Render("internal: routing has a loop".into()));
            }
            if waves.len() <= l {
                waves.resize(l + 1, Vec::new());
            }
            waves[l].push(i);
        }

        // Latency, in wave order.
        for wave in &waves {
            for &i in wave {
                let out_lat = |j: usize| nodes[j].out_latency;
                let mut in_lat = nodes[i]
                    .inputs
                    .iter()
                    .map(|e| out_lat(e.from))
                    .max()
                    .unwrap_or(0);
                let mut before = 0;
                let mut key_needs = Vec::new();
                for (k, insert) in nodes[i].strip.inserts.iter().enumerate() {
                    if let Some(key) = &nodes[i].keys[k] {
                        key_needs.push((k, out_lat(key.from), before));
                        in_lat = in_lat.max(out_lat(key.from).saturating_sub(before));
                    }
                    before += insert.processor.latency_frames();
                }
                let strip_lat = nodes[i].strip.latency_frames();
                let input_delays: Vec<usize> = nodes[i]
                    .inputs
                    .iter()
                    .map(|e| in_lat - out_lat(e.from))
                    .collect();
                let node = &mut nodes[i];
                node.in_latency = in_lat;
                node.out_latency = in_lat + strip_lat;
                for (e, d) in node.inputs.iter_mut().zip(input_delays) {
                    e.delay = DelayLine::new(2, d);
                }
                if matches!(node.kind, Kind::Track(_)) {
                    node.input_delay = DelayLine::new(node.input.len(), in_lat);
                }
                for (k, src_lat, before) in key_needs {
                    if let Some(key) = node.keys[k].as_mut() {
                        key.delay = DelayLine::new(2, in_lat + before - src_lat);
                    }
                }
            }
        }

        let tail: usize = nodes
            .iter()
            .map(|n| n.strip.tail_frames())
            .fold(0, usize::saturating_add);
        let tail_bound_frames = (tail as u64).min(seconds_to_frames(MAX_TAIL_S, rate));
        let outputs = nodes
            .iter()
            .map(|n| NodeOut {
                main: [vec![0.0; BLOCK_FRAMES], vec![0.0; BLOCK_FRAMES]],
                sends: vec![
                    [vec![0.0; BLOCK_FRAMES], vec![0.0; BLOCK_FRAMES]];
                    n.strip.sends.len()
                ],
            })
            .collect();
        Ok(Self {
            nodes: nodes.into_iter().map(Some).collect(),
            outputs,
            waves,
            master,
            sample_rate_hz: rate,
            timeline_frames,
            tail_bound_frames,
        })
    }

    /// Session rate.
    pub fn sample_rate_hz(&self) -> u32 {
        self.sample_rate_hz
    }

    /// Frames from 0 to the end of the last clip.
    pub fn timeline_frames(&self) -> u64 {
        self.timeline_frames
    }

    /// Latency of the whole graph, compensated in the output.
    pub fn latency_frames(&self) -> usize {
        self.nodes[self.master]
            .as_ref()
            .map_or(0, |n| n.out_latency)
    }

    /// Names of the tracks and buses, in node order (tracks first).
    pub fn node_names(&self) -> Vec<String> {
        self.nodes
            .iter()
            .take(self.master)
            .flatten()
            .map(|n| n.name.clone())
            .collect()
    }

    /// Renders the whole session, calling `sink` with each block of the
    /// stereo master output (aligned: the first frame is timeline frame 0).
    /// The render goes on after the last clip until the tails fall below
    /// −90 dBFS (bounded by the processors' declared tails, at most 60 s).
    pub fn render(
        &mut self,
        threads: usize,
        sink: impl FnMut(&[Vec<f64>; 2]) -> Result<(), EngineError>,
    ) -> Result<RenderStats, EngineError> {
        self.render_with_stems(threads, sink, None)
    }

    /// As [`Mixer::render`], and also hands every track's and bus's output
    /// (post-fader, stereo, aligned with the master) to `stems` with the
    /// node's index in [`Mixer::node_names`] order.
    pub fn render_with_stems(
        &mut self,
        threads: usize,
        mut sink: impl FnMut(&[Vec<f64>; 2]) -> Result<(), EngineError>,
        mut stems: Option<&mut StemSink<'_>>,
    ) -> Result<RenderStats, EngineError> {
        // Each stem is delayed to the master's latency, so it lines up with the mix.
        let mut stem_delays: Vec<DelayLine> = self
            .nodes
            .iter()
            .flatten()
            .map(|n| DelayLine::new(2, self.latency_frames() - n.out_latency))
            .collect();
        let mut stem_bufs: Vec<[Vec<f64>; 2]> = vec![[Vec::new(), Vec::new()]; stem_delays.len()];
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads.max(1))
            .build()
            .map_err(|e| EngineError::Render(format!("cannot start {threads} threads: {e}")))?;
        let latency = self.latency_frames() as u64;
        let floor = db_to_amplitude(TAIL_FLOOR_DB);
        let mut start = 0u64;
        let mut written = 0u64;
        let mut out = [
            Vec::with_capacity(BLOCK_FRAMES),
            Vec::with_capacity(BLOCK_FRAMES),
        ];
        loop {
            let n = BLOCK_FRAMES;
            pool.install(|| self.render_block(start, n))?;
            if stems.is_some() {
                for (i, (delay, buf)) in stem_delays.iter_mut().zip(&mut stem_bufs).enumerate() {
                    for (b, m) in buf.iter_mut().zip(&self.outputs[i].main) {
                        b.clear();
                        b.extend_from_slice(&m[..n]);
                    }
                    let [l, r] = buf;
                    delay.process(&mut [l.as_mut_slice(), r.as_mut_slice()]);
                }
            }
            let master = &self.outputs[self.master].main;
            // Output frames: render frames minus the latency.
            let skip = latency.saturating_sub(start).min(n as u64) as usize;
            let timeline_left = self.timeline_frames.saturating_sub(written);
            let tail_left = (self.timeline_frames + self.tail_bound_frames).saturating_sub(written);
            let mut take = (n - skip) as u64;
            let loud = master[0][skip..]
                .iter()
                .chain(&master[1][skip..])
                .any(|x| x.abs() > floor);
            if timeline_left == 0 && !loud {
                break;
            }
            take = take.min(tail_left.max(timeline_left));
            if take == 0 && skip == n {
                start += n as u64;
                continue;
            }
            if take == 0 {
                break;
            }
            for (o, m) in out.iter_mut().zip(master) {
                o.clear();
                o.extend_from_slice(&m[skip..skip + take as usize]);
            }
            sink(&out)?;
            if let Some(stems) = stems.as_mut() {
                for (i, buf) in stem_bufs
                    .iter_mut()
                    .enumerate()
                    .filter(|(i, _)| *i != self.master)
                {
                    for b in buf.iter_mut() {
                        b.drain(..skip);
                        b.truncate(take as usize);
                    }
                    stems(i, buf)?;
                }
            }
            written += take;
            start += n as u64;
        }
        Ok(RenderStats {
            frames: written,
            timeline_frames: self.timeline_frames,
            latency_frames: latency as usize,
        })
    }

    fn render_block(&mut self, start: u64, n: usize) -> Result<(), EngineError> {
        for w in 0..self.waves.len() {
            let wave = &self.waves[w];
            let mut taken: Vec<(Node, NodeOut)> = wave
                .iter()
                .map(|&i| {
                    let node = self.nodes[i].take().expect("node present between waves");
                    (node, std::mem::take(&mut self.outputs[i]))
                })
                .collect();
            let outputs = &self.outputs;
            let result: Result<(), EngineError> = taken
                .par_iter_mut()
                .try_for_each(|(node, out)| node.render(start, n, outputs, out));
            for (&i, (node, out)) in wave.iter().zip(taken) {
                self.nodes[i] = Some(node);
                self.outputs[i] = out;
            }
            result?;
        }
        Ok(())
    }
}

fn node(name: String, kind: Kind, strip: StripRt, channels: usize) -> Node {
    let keys = (0..strip.inserts.len()).map(|_| None).collect();
    let mut node = Node {
        name,
        kind,
        strip,
        inputs: Vec::new(),
        keys,
        input_delay: DelayLine::new(channels, 0),
        input: vec![Vec::new(); channels],
        in_latency: 0,
        out_latency: 0,
    };
    for (k, insert) in node.strip.inserts.iter().enumerate() {
        if let Some(from) = insert.sidechain {
            node.keys[k] = Some(Key {
                from,
                delay: DelayLine::new(2, 0),
                buf: [Vec::new(), Vec::new()],
            });
        }
    }
    node
}

impl Node {
    fn render(
        &mut self,
        start: u64,
        n: usize,
        outputs: &[NodeOut],
        out: &mut NodeOut,
    ) -> Result<(), EngineError> {
        for ch in &mut self.input {
            ch.clear();
            ch.resize(n, 0.0);
        }
        match &mut self.kind {
            Kind::Track(clips) => {
                // Clips play at timeline frames; the track's input delay
                // (keys arriving late) shifts them as a whole.
                for clip in clips.iter_mut() {
                    clip.add_to(start, &mut self.input)?;
                }
                let mut block: Vec<&mut [f64]> =
                    self.input.iter_mut().map(Vec::as_mut_slice).collect();
                self.input_delay.process(&mut block);
            }
            Kind::Bus => {
                for e in &mut self.inputs {
                    let src = &outputs[e.from];
                    let signal = match e.send {
                        None => &src.main,
                        Some(k) => &src.sends[k],
                    };
                    for (s, x) in e.scratch.iter_mut().zip(signal) {
                        s.clear();
                        s.extend_from_slice(&x[..n]);
                    }
                    let [a, b] = &mut e.scratch;
                    e.delay.process(&mut [a.as_mut_slice(), b.as_mut_slice()]);
                    for (acc, s) in self.input.iter_mut().zip(&e.scratch) {
                        for (y, x) in acc.iter_mut().zip(s) {
                            *y += x;
                        }
                    }
                }
            }
        }
        let mut keys: Vec<Option<[&[f64]; 2]>> = Vec::with_capacity(self.keys.len());
        for key in &mut self.keys {
            if let Some(key) = key.as_mut() {
                for (b, x) in key.buf.iter_mut().zip(&outputs[key.from].main) {
                    b.clear();
                    b.extend_from_slice(&x[..n]);
                }
                let [a, b] = &mut key.buf;
                key.delay.process(&mut [a.as_mut_slice(), b.as_mut_slice()]);
            }
        }
        for key in &self.keys {
            keys.push(
                key.as_ref()
                    .map(|k| [k.buf[0].as_slice(), k.buf[1].as_slice()]),
            );
        }
        for ch in out.main.iter_mut() {
            ch.resize(n, 0.0);
        }
        out.sends
            .resize(self.strip.sends.len(), [Vec::new(), Vec::new()]);
        for s in &mut out.sends {
            for ch in s.iter_mut() {
                ch.resize(n, 0.0);
            }
        }
        self.strip
            .process(start, &mut self.input, &keys, &mut out.main, &mut out.sends);
        Ok(())
    }
}

fn build_strip(
    loaded: &LoadedSession,
    path: &FieldPath,
    strip: &Strip,
    channels: usize,
    mute: bool,
    index: &BTreeMap<&str, usize>,
    tempo: &Tempo,
) -> Result<StripRt, EngineError> {
    let rate = loaded.session.project.sample_rate_hz;
    let ctx = Context {
        sample_rate_hz: rate,
        tempo_bpm: loaded.session.project.tempo_bpm,
        base_dir: loaded.path.parent().unwrap_or(std::path::Path::new("")),
        max_block_frames: BLOCK_FRAMES,
        channels,
    };
    let mut inserts = Vec::new();
    for (k, insert) in strip.inserts.iter().enumerate() {
        let ip = path.key("inserts").index(k);
        let kind = serde_kind(&insert.processor);
        let processor = factory::build(&insert.processor, &ctx).map_err(|e| {
            let field = match &e.field {
                Some(f) => ip.key(kind).keys(f),
                None => ip.key(kind),
            };
            EngineError::from(loaded.error_at(&field, e.message, None))
        })?;
        let sidechain = match &insert.processor {
            ProcessorSpec::Compressor(c) => c.sidechain.as_deref(),
            ProcessorSpec::Gate(g) => g.sidechain.as_deref(),
            _ => None,
        }
        .and_then(|name| index.get(name).copied());
        let prefix = format!("inserts.{}.", insert.id);
        let lanes = strip
            .automation
            .iter()
            .filter_map(|a| {
                a.param
                    .strip_prefix(&prefix)
                    .map(|p| (p.to_string(), lane(a, tempo, rate, |v| v)))
            })
            .collect();
        let latency = processor.latency_frames();
        inserts.push(InsertRt {
            id: insert.id.clone(),
            processor,
            bypass: insert.bypass.then(|| DelayLine::new(channels, latency)),
            sidechain,
            lanes,
        });
    }
    let lanes = &strip.automation;
    let sends = strip
        .sends
        .iter()
        .map(|send| {
            let param = format!("sends.{}.", send.bus);
            let level = value(
                lanes,
                &format!("{param}level_db"),
                send.level_db,
                tempo,
                rate,
            );
            let pan = lanes
                .iter()
                .find(|a| a.param == format!("{param}pan"))
                .map(|a| Value::Lane(lane(a, tempo, rate, |v| v)))
                .or(send.pan.map(Value::Constant));
            SendRt {
                dest: index.get(send.bus.as_str()).copied().unwrap_or(0),
                smoother: GainSmoother::new(rate, db_to_amplitude(send.level_db)),
                level_db: level,
                pan,
                pre_fader: send.pre_fader,
            }
        })
        .collect();
    Ok(StripRt::new(
        channels,
        inserts,
        value(lanes, "gain_db", strip.gain_db, tempo, rate),
        value(lanes, "pan", strip.pan, tempo, rate),
        value(lanes, "width", strip.width, tempo, rate),
        mute,
        strip.invert_polarity,
        strip
            .pan_law_db
            .unwrap_or(loaded.session.project.pan_law_db),
        sends,
        rate,
    ))
}

/// The session name of a processor kind.
fn serde_kind(p: &ProcessorSpec) -> &'static str {
    match p {
        ProcessorSpec::Hpf(_) => "hpf",
        ProcessorSpec::Lpf(_) => "lpf",
        ProcessorSpec::BandPass(_) => "band_pass",
        ProcessorSpec::Eq(_) => "eq",
        ProcessorSpec::Compressor(_) => "compressor",
        ProcessorSpec::Gate(_) => "gate",
        ProcessorSpec::DeEsser(_) => "de_esser",
        ProcessorSpec::Saturation(_) => "saturation",
        ProcessorSpec::Delay(_) => "delay",
        ProcessorSpec::Reverb(_) => "reverb",
        ProcessorSpec::Convolution(_) => "convolution",
        ProcessorSpec::Gain(_) => "gain",
        ProcessorSpec::Utility(_) => "utility",
        ProcessorSpec::Multiband(_) => "multiband",
        ProcessorSpec::Imager(_) => "imager",
        ProcessorSpec::MasteringEq(_) => "mastering_eq",
        ProcessorSpec::Exciter(_) => "exciter",
    }
}
