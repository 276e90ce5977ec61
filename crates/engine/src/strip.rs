//! The channel strip at render time: polarity, inserts (with automation and
//! sidechain keys), pre-fader sends, fader and mute, pan or balance, width,
//! post-fader sends.

use mixmaster_core::Processor;
use mixmaster_core::units::db_to_amplitude;
use mixmaster_dsp::{Eq, Filter, SectionChain};

use crate::automation::{GainSmoother, Lane};
use crate::delay_line::DelayLine;

/// Frames between parameter updates of automated inserts.
pub const PARAMETER_UPDATE_FRAMES: usize = 32;

/// A pan law: gains of the left and right channel for a mono source at
/// pan `p ∈ [−1, 1]`, with `centre_db` attenuation at the centre.
pub fn pan_gains(p: f64, centre_db: f64) -> (f64, f64) {
    let p = p.clamp(-1.0, 1.0);
    // Constant power (−3 dB): sin/cos of an angle from 0 to π/2.
    let theta = (p + 1.0) * std::f64::consts::FRAC_PI_4;
    let power = (theta.cos(), theta.sin());
    // Linear (−6 dB).
    let linear = ((1.0 - p) / 2.0, (1.0 + p) / 2.0);
    match centre_db {
        // 0 dB: both channels at unity in the centre, one side fading out.
        0.0 => ((1.0 - p).min(1.0), (1.0 + p).min(1.0)),
        -6.0 => linear,
        // −4.5 dB: the geometric mean of the −3 and −6 dB laws.
        -4.5 => ((power.0 * linear.0).sqrt(), (power.1 * linear.1).sqrt()),
        _ => power,
    }
}

/// Balance of a stereo source: turning one side down, unity at the centre.
pub fn balance_gains(p: f64) -> (f64, f64) {
    let p = p.clamp(-1.0, 1.0);
    ((1.0 - p).min(1.0), (1.0 + p).min(1.0))
}

/// An automatable value: a constant or a lane.
#[derive(Debug, Clone)]
pub enum Value {
    /// Fixed.
    Constant(f64),
    /// Automated.
    Lane(Lane),
}

impl Value {
    /// Fills `out` with the values for frames `start ..`.
    pub fn fill(&mut self, start: u64, out: &mut [f64]) {
        match self {
            Self::Constant(v) => out.fill(*v),
            Self::Lane(l) => l.fill(start, out),
        }
    }

    /// Fills `out` with `f(value)` for frames `start ..`; a constant is
    /// mapped once.
    pub fn fill_with(&mut self, start: u64, out: &mut [f64], f: impl Fn(f64) -> f64) {
        match self {
            Self::Constant(v) => out.fill(f(*v)),
            Self::Lane(l) => {
                for (i, o) in out.iter_mut().enumerate() {
                    *o = f(l.value_at(start + i as u64));
                }
            }
        }
    }

    /// Fills `left` and `right` with the gains `f(value)` gives, for frames
    /// `start ..`; a constant is mapped once.
    pub fn fill_pair(
        &mut self,
        start: u64,
        left: &mut [f64],
        right: &mut [f64],
        f: impl Fn(f64) -> (f64, f64),
    ) {
        match self {
            Self::Constant(v) => {
                let (l, r) = f(*v);
                left.fill(l);
                right.fill(r);
            }
            Self::Lane(lane) => {
                for (i, (l, r)) in left.iter_mut().zip(right.iter_mut()).enumerate() {
                    (*l, *r) = f(lane.value_at(start + i as u64));
                }
            }
        }
    }

    /// Value at one frame.
    pub fn at(&mut self, frame: u64) -> f64 {
        match self {
            Self::Constant(v) => *v,
            Self::Lane(l) => l.value_at(frame),
        }
    }
}

/// One insert at render time.
pub struct InsertRt {
    /// The insert's id.
    pub id: String,
    /// The processor.
    pub processor: Box<dyn Processor>,
    /// Bypassed inserts keep their latency as a plain delay.
    pub bypass: Option<DelayLine>,
    /// Node whose output keys this insert, if any.
    pub sidechain: Option<usize>,
    /// Automated parameters.
    pub lanes: Vec<(String, Lane)>,
}

/// Runs the leading inserts of `inserts` that are static filters or EQs
/// (no automation, no bypass, no key, nothing gliding) as one chain of
/// sections — the same arithmetic as one after the other, with the
/// sections' recursions overlapping in the pipeline. Returns how many
/// inserts it processed: 0 when fewer than two qualify.
fn fuse_filters(
    inserts: &mut [InsertRt],
    keys: &[Option<[&[f64]; 2]>],
    input: &mut [Vec<f64>],
) -> usize {
    fn fusable(insert: &InsertRt, key: Option<&Option<[&[f64]; 2]>>) -> bool {
        insert.bypass.is_none() && insert.lanes.is_empty() && key.is_none_or(|k| k.is_none())
    }
    let mut chains: Vec<&mut SectionChain> = Vec::new();
    let mut count = 0;
    for (i, insert) in inserts.iter_mut().enumerate() {
        if !fusable(insert, keys.get(i)) {
            break;
        }
        let Some(any) = insert.processor.as_any_mut() else {
            break;
        };
        if any.is::<Filter>() {
            let filter = any.downcast_mut::<Filter>().expect("checked type");
            match filter.static_chain() {
                Some(chain) => chains.push(chain),
                None => break,
            }
        } else if let Some(eq) = any.downcast_mut::<Eq>() {
            match eq.static_chains() {
                Some(c) => chains.extend(c.iter_mut()),
                None => break,
            }
        } else {
            break;
        }
        count += 1;
    }
    if count < 2 {
        return 0;
    }
    let frames = input.first().map_or(0, Vec::len);
    let mut block: Vec<&mut [f64]> = input.iter_mut().map(|c| c.as_mut_slice()).collect();
    SectionChain::process_series(&mut chains, &mut block, 0, frames);
    count
}

impl std::fmt::Debug for InsertRt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InsertRt")
            .field("id", &self.id)
            .field("sidechain", &self.sidechain)
            .finish()
    }
}

/// A send at render time.
#[derive(Debug)]
pub struct SendRt {
    /// Destination node.
    pub dest: usize,
    /// Level in dB (automatable).
    pub level_db: Value,
    /// Pan of the send; `None` follows the strip.
    pub pan: Option<Value>,
    /// Taken before the fader.
    pub pre_fader: bool,
    /// Smoother of the linear level.
    pub smoother: GainSmoother,
}

/// A channel strip at render time.
#[derive(Debug)]
pub struct StripRt {
    /// Channels entering the strip (1 for mono tracks, 2 otherwise).
    pub channels: usize,
    /// Inserts in order.
    pub inserts: Vec<InsertRt>,
    /// Fader in dB.
    pub gain_db: Value,
    /// Pan or balance.
    pub pan: Value,
    /// Width.
    pub width: Value,
    /// Muted (or not soloed while another track is).
    pub mute: bool,
    /// Polarity inverted.
    pub invert_polarity: bool,
    /// Centre attenuation of the pan law in dB.
    pub pan_law_db: f64,
    /// Sends.
    pub sends: Vec<SendRt>,
    /// Fader smoother.
    pub fader: GainSmoother,
    scratch: Vec<Vec<f64>>,
}

impl StripRt {
    /// A strip with its inserts already prepared.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        channels: usize,
        inserts: Vec<InsertRt>,
        gain_db: Value,
        pan: Value,
        width: Value,
        mute: bool,
        invert_polarity: bool,
        pan_law_db: f64,
        sends: Vec<SendRt>,
        sample_rate_hz: u32,
    ) -> Self {
        let mut gain_db = gain_db;
        let initial = if mute {
            0.0
        } else {
            db_to_amplitude(gain_db.at(0))
        };
        Self {
            channels,
            inserts,
            gain_db,
            pan,
            width,
            mute,
            invert_polarity,
            pan_law_db,
            sends,
            fader: GainSmoother::new(sample_rate_hz, initial),
            scratch: vec![Vec::new(); 7],
        }
    }

    /// Latency of the insert chain in frames.
    pub fn latency_frames(&self) -> usize {
        self.inserts
            .iter()
            .map(|i| i.processor.latency_frames())
            .sum()
    }

    /// Frames of tail the inserts may add.
    pub fn tail_frames(&self) -> usize {
        self.inserts
            .iter()
            .map(|i| i.processor.tail_frames())
            .fold(0usize, usize::saturating_add)
    }

    /// Processes one block: `input` (the strip's channels) is processed in
    /// place by the inserts; the stereo result goes to `main` (post-fader)
    /// and to `sends[k]` for each send. `key` holds the key signals of
    /// sidechained inserts (by insert index).
    pub fn process(
        &mut self,
        start: u64,
        input: &mut [Vec<f64>],
        key: &[Option<[&[f64]; 2]>],
        main: &mut [Vec<f64>; 2],
        sends: &mut [[Vec<f64>; 2]],
    ) {
        let n = input.first().map_or(0, Vec::len);
        if self.invert_polarity {
            for ch in input.iter_mut() {
                for x in ch.iter_mut() {
                    *x = -*x;
                }
            }
        }
        let mut k = 0;
        while k < self.inserts.len() {
            let fused = fuse_filters(&mut self.inserts[k..], key.get(k..).unwrap_or(&[]), input);
            if fused > 0 {
                k += fused;
                continue;
            }
            let insert = &mut self.inserts[k];
            k += 1;
            let k = k - 1;
            let mut block: Vec<&mut [f64]> = input.iter_mut().map(|c| c.as_mut_slice()).collect();
            if let Some(delay) = insert.bypass.as_mut() {
                delay.process(&mut block);
                continue;
            }
            let keys = key.get(k).copied().flatten();
            let step = if insert.lanes.is_empty() {
                n.max(1)
            } else {
                PARAMETER_UPDATE_FRAMES
            };
            let mut pos = 0;
            while pos < n {
                let end = (pos + step).min(n);
                for (name, lane) in &mut insert.lanes {
                    // Values were validated when the session was loaded; a
                    // value the processor refuses mid-render keeps the last.
                    let _ = insert
                        .processor
                        .set_parameter(name, lane.value_at(start + pos as u64));
                }
                let mut part: Vec<&mut [f64]> =
                    block.iter_mut().map(|c| &mut c[pos..end]).collect();
                match keys {
                    Some(kk) => {
                        let key_part: Vec<&[f64]> = kk.iter().map(|c| &c[pos..end]).collect();
                        insert
                            .processor
                            .process_with_sidechain(&mut part, &key_part);
                    }
                    None => insert.processor.process(&mut part),
                }
                pos = end;
            }
        }

        // Per-sample fader, pan, width; constants are converted once.
        let [gain, pan_l, pan_r, width, tmp, send_l, send_r] = &mut self.scratch[..] else {
            unreachable!("seven scratch buffers")
        };
        for v in [
            &mut *gain,
            &mut *pan_l,
            &mut *pan_r,
            &mut *width,
            &mut *tmp,
            &mut *send_l,
            &mut *send_r,
        ] {
            v.resize(n, 0.0);
        }
        let mute = self.mute;
        let (channels, law) = (self.channels, self.pan_law_db);
        let pan_law = move |p: f64| {
            if channels == 1 {
                pan_gains(p, law)
            } else {
                balance_gains(p)
            }
        };
        let right_in = if channels == 1 { 0 } else { 1 };
        // Fader settled, pan and width fixed: the same products with
        // constants, without the per-frame arrays (unless a send needs them).
        let constants = match (&self.gain_db, &self.pan, &self.width) {
            (Value::Constant(db), Value::Constant(p), Value::Constant(w)) => {
                let g = if mute { 0.0 } else { db_to_amplitude(*db) };
                self.fader.is_settled_at(g).then(|| {
                    let (pl, pr) = pan_law(*p);
                    (g, pl, pr, *w)
                })
            }
            _ => None,
        };
        if let Some((g, pl, pr, w)) = constants {
            let [main_l, main_r] = main;
            let (in_l, in_r) = (&input[0][..n], &input[right_in][..n]);
            let (out_l, out_r) = (&mut main_l[..n], &mut main_r[..n]);
            if w == 1.0 {
                for i in 0..n {
                    out_l[i] = in_l[i] * pl * g;
                    out_r[i] = in_r[i] * pr * g;
                }
            } else {
                for i in 0..n {
                    let (l, r) = (in_l[i] * pl, in_r[i] * pr);
                    let m = 0.5 * (l + r);
                    let s = 0.5 * (l - r) * w;
                    out_l[i] = (m + s) * g;
                    out_r[i] = (m - s) * g;
                }
            }
            if !self.sends.is_empty() {
                gain.fill(g);
                pan_l.fill(pl);
                pan_r.fill(pr);
            }
        } else {
            self.gain_db.fill_with(
                start,
                gain,
                |db| if mute { 0.0 } else { db_to_amplitude(db) },
            );
            self.fader.process(gain);
            self.pan.fill_pair(start, pan_l, pan_r, pan_law);
            self.width.fill_with(start, width, |w| w);

            // Mono sources feed both sides through the pan law; stereo sources
            // through the balance.
            for i in 0..n {
                let (mut l, mut r) = (input[0][i] * pan_l[i], input[right_in][i] * pan_r[i]);
                let w = width[i];
                if w != 1.0 {
                    let m = 0.5 * (l + r);
                    let s = 0.5 * (l - r) * w;
                    l = m + s;
                    r = m - s;
                }
                main[0][i] = l * gain[i];
                main[1][i] = r * gain[i];
            }
        }
        for (send, out) in self.sends.iter_mut().zip(sends.iter_mut()) {
            send.level_db.fill_with(
                start,
                tmp,
                |db| if mute { 0.0 } else { db_to_amplitude(db) },
            );
            send.smoother.process(tmp);
            match (send.pan.as_mut(), send.pre_fader) {
                // Post-fader, following the strip's pan: the main output.
                (None, false) => {
                    for i in 0..n {
                        out[0][i] = main[0][i] * tmp[i];
                        out[1][i] = main[1][i] * tmp[i];
                    }
                }
                (pan, pre_fader) => {
                    let (sl, sr): (&[f64], &[f64]) = match pan {
                        Some(p) => {
                            p.fill_pair(start, send_l, send_r, pan_law);
                            (send_l, send_r)
                        }
                        None => (pan_l, pan_r),
                    };
                    for i in 0..n {
                        let g = if pre_fader { tmp[i] } else { tmp[i] * gain[i] };
                        out[0][i] = input[0][i] * sl[i] * g;
                        out[1][i] = input[right_in][i] * sr[i] * g;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pan_laws_at_the_centre_and_the_sides() {
        for law in [0.0, -3.0, -4.5, -6.0] {
            let (l, r) = pan_gains(0.0, law);
            // Within 0.03 dB of the law (−6 is −6.02 dB; −4.5 is the geometric mean of the
            // −3 and −6 dB laws: −4.515 dB).
            let db = 20.0 * l.log10();
            assert!(
                (db - law).abs() < 0.03 && (l - r).abs() < 1e-15,
                "law {law}: {l} {r}"
            );
            let (l, r) = pan_gains(-1.0, law);
            assert!(
                (l - 1.0).abs() < 1e-12 && r.abs() < 1e-12,
                "law {law} hard left"
            );
        }
        // −3 dB law keeps constant power.
        for i in -10..=10 {
            let (l, r) = pan_gains(f64::from(i) / 10.0, -3.0);
            assert!((l * l + r * r - 1.0).abs() < 1e-12);
        }
    }
}
