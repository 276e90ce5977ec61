//! The report as one self-contained HTML file (inline CSS and SVG, no
//! scripts, no network), and the same figures and checks as JSON.

use std::fmt::Write as _;

use mixmaster_core::targets::{NormalizationPolicy, TARGETS, Target};
use serde::Serialize;

use crate::analysis::FileAnalysis;
use crate::lossy::LossyCheck;
use crate::svg::{Axis, Line, Mark, Plot, Region, Rule, escape};

/// Outcome of a translation check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Fine.
    Pass,
    /// Worth a listen.
    Warn,
    /// A problem.
    Fail,
}

/// One translation check.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// Short id (`mono`, `phone`, `clipping`, …).
    pub id: &'static str,
    /// Outcome.
    pub status: Status,
    /// The figure behind it.
    pub figure: String,
    /// What it means.
    pub message: String,
}

/// What a report shows: the file, and optionally the file before
/// processing and a reference.
#[derive(Debug, Clone)]
pub struct Report {
    /// The file.
    pub file: FileAnalysis,
    /// The same programme before processing (`--compare`).
    pub before: Option<FileAnalysis>,
    /// A reference track (`--reference`).
    pub reference: Option<FileAnalysis>,
    /// The loudness target to draw, LUFS.
    pub target_lufs: Option<f64>,
    /// The file through a lossy codec ([`crate::lossy::lossy_check`]).
    pub lossy: Option<LossyCheck>,
    /// What to call the file in the report (default: its file name).
    pub name: Option<String>,
    /// Times to mark on the time plots (an album's track starts), seconds.
    pub markers: Vec<(f64, String)>,
}

impl Report {
    /// The translation checks of the file.
    pub fn checks(&self) -> Vec<Check> {
        let a = &self.file;
        let m = &a.meter;
        let mut out = Vec::new();
        if let Some(mono) = &a.mono {
            let bands: Vec<String> = mono
                .cancelling_bands
                .iter()
                .map(|(hz, loss)| format!("{} Hz ({loss:.1} dB)", fmt_hz(*hz)))
                .collect();
            let (status, message) =
                if mono.drop_lu > 6.0 || mono.correlation.is_some_and(|c| c < -0.3) {
                    (
                    Status::Fail,
                    "the channels cancel when summed to mono (a phone, a smart speaker, a club \
                     system in mono): check polarity and wide stereo effects"
                        .to_string(),
                )
                } else if mono.drop_lu > 3.0 || !bands.is_empty() {
                    (
                        Status::Warn,
                        format!(
                            "parts of the mix lose level in mono{}",
                            if bands.is_empty() {
                                String::new()
                            } else {
                                format!(": {}", bands.join(", "))
                            }
                        ),
                    )
                } else {
                    (Status::Pass, "the mix holds up in mono".to_string())
                };
            out.push(Check {
                id: "mono",
                status,
                figure: format!(
                    "mono −{:.1} LU, correlation {}",
                    mono.drop_lu.max(0.0),
                    mono.correlation.map_or("n/a".into(), |c| format!("{c:.2}"))
                ),
                message,
            });
        }
        let phone = &a.phone;
        out.push(Check {
            id: "phone",
            status: if phone.drop_lu > 10.0 {
                Status::Fail
            } else if phone.drop_lu > 6.0 {
                Status::Warn
            } else {
                Status::Pass
            },
            figure: format!(
                "−{:.1} LU through a phone speaker; {:.0} % of the energy below 400 Hz",
                phone.drop_lu.max(0.0),
                100.0 * phone.energy_below_band
            ),
            message: if phone.drop_lu > 6.0 {
                "much of the mix lives below what small speakers play: bass lines may vanish; \
                 harmonics (saturation) help them translate"
                    .into()
            } else {
                "the balance survives a small speaker".into()
            },
        });
        out.push(Check {
            id: "clipping",
            status: if m.clipped_samples > 0 {
                Status::Fail
            } else {
                Status::Pass
            },
            figure: format!("{} clipped samples", m.clipped_samples),
            message: if m.clipped_samples > 0 {
                format!(
                    "samples at full scale in {} place(s), first at {:.2} s",
                    a.clipped_regions.len(),
                    a.clipped_regions.first().map_or(0.0, |r| r.start_s)
                )
            } else {
                "no sample at full scale".into()
            },
        });
        out.push(Check {
            id: "true_peak",
            status: if m.true_peak_dbtp > a.ceiling_dbtp {
                Status::Fail
            } else {
                Status::Pass
            },
            figure: format!(
                "{:.1} dBTP (ceiling {:.1})",
                m.true_peak_dbtp, a.ceiling_dbtp
            ),
            message: if a.over_regions.is_empty() {
                "no true-peak overs".into()
            } else {
                format!(
                    "over the ceiling in {} stretch(es), first at {:.1} s: lossy encoders and \
                     DACs may clip there",
                    a.over_regions.len(),
                    a.over_regions[0].start_s
                )
            },
        });
        if let Some(l) = &self.lossy {
            out.push(Check {
                id: "lossy",
                status: if l.decoded_overs > 0 {
                    Status::Fail
                } else if l.decoded_true_peak_dbtp > a.ceiling_dbtp {
                    Status::Warn
                } else {
                    Status::Pass
                },
                figure: format!(
                    "{:.1} → {:.1} dBTP, {} overs",
                    l.source_true_peak_dbtp, l.decoded_true_peak_dbtp, l.decoded_overs
                ),
                message: if l.decoded_overs > 0 {
                    format!(
                        "after {} the decoded file reaches full scale: it clips on playback; \
                         lower the ceiling",
                        l.codec
                    )
                } else if l.decoded_true_peak_dbtp > a.ceiling_dbtp {
                    format!("{} raises the peaks over the ceiling", l.codec)
                } else {
                    format!("{} keeps the peaks under the ceiling", l.codec)
                },
            });
        }
        let dc = m.dc_offset.iter().fold(0.0f64, |x, d| x.max(d.abs()));
        out.push(Check {
            id: "dc_offset",
            status: if dc > 0.001 {
                Status::Warn
            } else {
                Status::Pass
            },
            figure: format!("{:.1} dBFS", 20.0 * dc.max(1e-12).log10()),
            message: if dc > 0.001 {
                "DC offset: a high-pass at 10–20 Hz removes it and frees headroom".into()
            } else {
                "no DC offset".into()
            },
        });
        let long = |s: f64| s > 2.0;
        out.push(Check {
            id: "silence",
            status: if long(a.head_silence_s) || long(a.tail_silence_s) {
                Status::Warn
            } else {
                Status::Pass
            },
            figure: format!(
                "head {:.2} s, tail {:.2} s",
                a.head_silence_s, a.tail_silence_s
            ),
            message: "silence under −60 dBFS at the start and end".into(),
        });
        out
    }

    /// The figures and checks as JSON.
    pub fn to_json(&self) -> serde_json::Value {
        let m = &self.file.meter;
        serde_json::json!({
            "file": self.name(),
            "markers": self.markers.iter().map(|(t, l)| serde_json::json!({"time_s": t, "label": l})).collect::<Vec<_>>(),
            "integrated_lufs": finite(m.integrated_lufs),
            "lra_lu": m.lra_lu,
            "true_peak_dbtp": finite(m.true_peak_dbtp),
            "sample_peak_dbfs": finite(m.sample_peak_dbfs),
            "plr_db": finite(m.plr_db),
            "correlation": m.correlation,
            "clipped_samples": m.clipped_samples,
            "dc_offset": m.dc_offset,
            "head_silence_s": self.file.head_silence_s,
            "tail_silence_s": self.file.tail_silence_s,
            "mono": self.file.mono,
            "phone": self.file.phone,
            "lossy": self.lossy,
            "clipped_regions": self.file.clipped_regions,
            "over_regions": self.file.over_regions,
            "checks": self.checks(),
            "platforms": platforms(m.integrated_lufs, m.true_peak_dbtp, m.rms_dbfs)
                .iter()
                .map(|(t, g, heard, limited)| serde_json::json!({
                    "id": t.id, "gain_db": g, "heard_lufs": heard, "limited_by_peak": limited,
                }))
                .collect::<Vec<_>>(),
        })
    }

    /// The name shown for the file.
    pub fn name(&self) -> String {
        self.name.clone().unwrap_or_else(|| {
            let p = &self.file.path;
            p.file_name().map_or_else(
                || p.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            )
        })
    }

    fn marks(&self) -> Vec<Mark> {
        self.markers
            .iter()
            .map(|(x, label)| Mark {
                x: *x,
                label: label.clone(),
            })
            .collect()
    }

    /// The plots, in order.
    pub fn plots(&self) -> Vec<Plot> {
        let a = &self.file;
        let m = &a.meter;
        let duration = m.duration_s.max(0.1);
        let mut plots = Vec::new();
        // Waveform overview.
        let colors = ["#2a5d9f", "#3f8f5a"];
        let names = if a.overview.columns.len() == 2 {
            vec!["left", "right"]
        } else {
            vec!["signal"; a.overview.columns.len()]
        };
        let mut lines = Vec::new();
        for (c, cols) in a.overview.columns.iter().enumerate().take(2) {
            let spc = a.overview.seconds_per_column;
            let points = cols
                .iter()
                .enumerate()
                .flat_map(|(i, (lo, hi))| {
                    let x = (i as f64 + 0.5) * spc;
                    [(x, f64::from(*hi)), (x, f64::from(*lo))]
                })
                .collect();
            let mut l = Line::new(names[c], colors[c % 2], points);
            l.envelope = true;
            lines.push(l);
        }
        let mut regions: Vec<Region> = a
            .over_regions
            .iter()
            .map(|r| Region {
                x0: r.start_s,
                x1: r.end_s,
                color: "#f0a030".into(),
                name: format!("over {:.1} dBTP", a.ceiling_dbtp),
            })
            .collect();
        regions.extend(a.clipped_regions.iter().map(|r| Region {
            x0: r.start_s,
            x1: r.end_s,
            color: "#d03030".into(),
            name: "clipped".into(),
        }));
        plots.push(Plot {
            id: "waveform".into(),
            title: "Waveform".into(),
            x: Axis::linear("Time", "s", 0.0, duration),
            y: Axis::linear("Amplitude", "full scale", -1.0, 1.0),
            lines,
            regions,
            rules: Vec::new(),
            marks: self.marks(),
        });
        // Loudness over time.
        let dt = m.series.interval_s.max(0.1);
        let series = |v: &[f64]| -> Vec<(f64, f64)> {
            v.iter()
                .enumerate()
                .map(|(i, l)| ((i + 1) as f64 * dt, if *l < -70.0 { f64::NAN } else { *l }))
                .collect()
        };
        let mut rules = vec![Rule {
            y: m.integrated_lufs,
            label: format!("integrated {:.1} LUFS", m.integrated_lufs),
            color: "#555".into(),
        }];
        if let Some(t) = self.target_lufs {
            rules.push(Rule {
                y: t,
                label: format!("target {t:.1} LUFS"),
                color: "#c03060".into(),
            });
        }
        let top = m.momentary_max_lufs.max(self.target_lufs.unwrap_or(-70.0));
        let top = if top.is_finite() {
            (top / 5.0).ceil() * 5.0 + 2.0
        } else {
            0.0
        };
        plots.push(Plot {
            id: "loudness".into(),
            title: "Loudness over time".into(),
            x: Axis::linear("Time", "s", 0.0, duration),
            y: Axis::linear(
                "Loudness",
                "LUFS",
                (top - 40.0).min(m.integrated_lufs - 20.0),
                top,
            ),
            lines: vec![
                Line::new(
                    "momentary (400 ms)",
                    "#9ab6dc",
                    series(&m.series.momentary_lufs),
                ),
                Line::new(
                    "short-term (3 s)",
                    "#1f4e8c",
                    series(&m.series.short_term_lufs),
                ),
            ]
            .into_iter()
            // BEFORE's short-term loudness: what processing did to the
            // level and the dynamics, moment by moment.
            .chain(self.before.as_ref().map(|b| {
                let mut l = Line::new(
                    "before, short-term",
                    "#999999",
                    series(&b.meter.series.short_term_lufs),
                );
                l.dashed = true;
                l
            }))
            .collect(),
            regions: Vec::new(),
            rules,
            marks: self.marks(),
        });
        // Spectrum, smoothed, with BEFORE and REF.
        let mut lines = Vec::new();
        for (analysis, name, color, dashed) in [
            (Some(&self.file), "this file", "#1f4e8c", false),
            (self.before.as_ref(), "before", "#999999", true),
            (self.reference.as_ref(), "reference", "#c03060", false),
        ] {
            if let Some(s) = analysis.and_then(|x| x.meter.spectrum.as_ref()) {
                let mut l = Line::new(name, color, smooth_spectrum(&s.mid_db, s.bin_hz));
                l.dashed = dashed;
                lines.push(l);
            }
        }
        plots.push(Plot {
            id: "spectrum".into(),
            title: "Spectrum (mid, 1/6-octave smoothed)".into(),
            x: Axis::log("Frequency", "Hz", 20.0, 20_000.0),
            y: Axis::linear("Level", "dBFS", -100.0, -10.0),
            lines,
            regions: Vec::new(),
            rules: Vec::new(),
            marks: Vec::new(),
        });
        // Third-octave bands.
        let mut lines = Vec::new();
        for (analysis, name, color) in [
            (Some(&self.file), "this file", "#1f4e8c"),
            (self.before.as_ref(), "before", "#999999"),
            (self.reference.as_ref(), "reference", "#c03060"),
        ] {
            if let Some(s) = analysis.and_then(|x| x.meter.spectrum.as_ref()) {
                lines.push(Line::new(
                    name,
                    color,
                    band_steps(&s.third_octave, |b| b.mid_db),
                ));
            }
        }
        plots.push(Plot {
            id: "third-octave".into(),
            title: "One-third-octave bands (mid)".into(),
            x: Axis::log("Frequency", "Hz", 20.0, 20_000.0),
            y: Axis::linear("Band level", "dB", -90.0, 0.0),
            lines,
            regions: Vec::new(),
            rules: Vec::new(),
            marks: Vec::new(),
        });
        if a.meter.channels >= 2 {
            let corr: Vec<(f64, f64)> = m
                .series
                .correlation
                .iter()
                .enumerate()
                .map(|(i, c)| ((i as f64 + 0.5) * dt, c.unwrap_or(f64::NAN)))
                .collect();
            plots.push(Plot {
                id: "correlation".into(),
                title: "Stereo correlation over time".into(),
                x: Axis::linear("Time", "s", 0.0, duration),
                y: Axis::linear("Correlation", "", -1.0, 1.0),
                lines: vec![Line::new("correlation (100 ms)", "#3f8f5a", corr)],
                regions: Vec::new(),
                rules: vec![Rule {
                    y: 0.0,
                    label: "uncorrelated".into(),
                    color: "#999".into(),
                }],
                marks: self.marks(),
            });
            if let Some(s) = &m.spectrum {
                plots.push(Plot {
                    id: "mid-side".into(),
                    title: "Side relative to mid, per band".into(),
                    x: Axis::log("Frequency", "Hz", 20.0, 20_000.0),
                    y: Axis::linear("Side − mid", "dB", -40.0, 10.0),
                    lines: vec![Line::new(
                        "side − mid",
                        "#7a4fa0",
                        band_steps(&s.third_octave, |b| (b.side_db - b.mid_db).max(-40.0)),
                    )],
                    regions: Vec::new(),
                    rules: vec![Rule {
                        y: 0.0,
                        label: "side as loud as mid: cancels in mono".into(),
                        color: "#c03060".into(),
                    }],
                    marks: Vec::new(),
                });
            }
        }
        plots
    }

    /// The whole report as HTML.
    pub fn to_html(&self) -> String {
        let a = &self.file;
        let m = &a.meter;
        let name = self.name();
        let mut h = String::new();
        let _ = write!(
            h,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>mixmaster report — {n}</title>\
             <style>body{{font-family:sans-serif;margin:24px;color:#222;max-width:1000px}}\
             table{{border-collapse:collapse;margin:8px 0 16px}}td,th{{padding:3px 10px;border-bottom:1px solid #ddd;text-align:left}}\
             td.num{{text-align:right;font-variant-numeric:tabular-nums}}.pass{{color:#2e7d32}}.warn{{color:#b26a00}}.fail{{color:#c62828;font-weight:bold}}\
             svg.plot{{width:100%;height:auto;display:block;margin:4px 0 20px}}h2{{margin-top:28px}}</style></head><body>\n",
            n = escape(&name)
        );
        let _ = writeln!(
            h,
            "<h1>{}</h1><p>{} Hz, {} channel(s), {:.2} s — mixmaster {}</p>",
            escape(&name),
            m.sample_rate_hz,
            m.channels,
            m.duration_s,
            env!("CARGO_PKG_VERSION")
        );
        h.push_str("<h2>Checks</h2><table id=\"checks\"><tr><th>check</th><th>result</th><th>figure</th><th>meaning</th></tr>");
        for c in self.checks() {
            let (class, word) = match c.status {
                Status::Pass => ("pass", "pass"),
                Status::Warn => ("warn", "warning"),
                Status::Fail => ("fail", "problem"),
            };
            let _ = write!(
                h,
                "<tr><td>{}</td><td class=\"{class}\">{word}</td><td>{}</td><td>{}</td></tr>",
                c.id.replace('_', " "),
                escape(&c.figure),
                escape(&c.message)
            );
        }
        h.push_str("</table>\n<h2>Figures</h2><table id=\"figures\">");
        // One column per file: this one, BEFORE, REF.
        let files: Vec<(&str, &FileAnalysis)> = [
            Some(("this file", &self.file)),
            self.before.as_ref().map(|b| ("before", b)),
            self.reference.as_ref().map(|r| ("reference", r)),
        ]
        .into_iter()
        .flatten()
        .collect();
        h.push_str("<tr><th>figure</th>");
        for (label, _) in &files {
            let _ = write!(h, "<th class=\"num\">{label}</th>");
        }
        h.push_str("<th>unit</th></tr>");
        let row = |h: &mut String, label: &str, unit: &str, v: &dyn Fn(&FileAnalysis) -> String| {
            let _ = write!(h, "<tr><td>{label}</td>");
            for (_, f) in &files {
                let _ = write!(h, "<td class=\"num\">{}</td>", escape(&v(f)));
            }
            let _ = write!(h, "<td>{unit}</td></tr>");
        };
        let opt =
            |v: Option<f64>, digits: usize| v.map_or("n/a".into(), |v| format!("{v:.digits$}"));
        row(&mut h, "Integrated loudness", "LUFS", &|f| {
            fmt(f.meter.integrated_lufs)
        });
        row(&mut h, "Loudness range", "LU", &|f| opt(f.meter.lra_lu, 1));
        row(&mut h, "Momentary max", "LUFS", &|f| {
            fmt(f.meter.momentary_max_lufs)
        });
        row(&mut h, "Short-term max", "LUFS", &|f| {
            fmt(f.meter.short_term_max_lufs)
        });
        row(&mut h, "True peak", "dBTP", &|f| {
            fmt(f.meter.true_peak_dbtp)
        });
        row(&mut h, "Sample peak", "dBFS", &|f| {
            fmt(f.meter.sample_peak_dbfs)
        });
        row(&mut h, "PLR", "dB", &|f| fmt(f.meter.plr_db));
        row(&mut h, "RMS", "dBFS", &|f| fmt(f.meter.rms_dbfs));
        row(&mut h, "Crest factor", "dB", &|f| {
            fmt(f.meter.crest_factor_db)
        });
        row(&mut h, "Correlation", "", &|f| opt(f.meter.correlation, 2));
        row(&mut h, "Mono fold-down", "LUFS", &|f| {
            f.mono
                .as_ref()
                .map_or("n/a".into(), |m| fmt(m.integrated_lufs))
        });
        row(&mut h, "Through a phone speaker", "LUFS", &|f| {
            fmt(f.phone.integrated_lufs)
        });
        row(&mut h, "Clipped samples", "", &|f| {
            f.meter.clipped_samples.to_string()
        });
        row(&mut h, "DC offset (largest channel)", "dBFS", &|f| {
            let dc = f.meter.dc_offset.iter().fold(0.0f64, |x, d| x.max(d.abs()));
            fmt(20.0 * dc.max(1e-12).log10())
        });
        row(&mut h, "Silence at head / tail", "s", &|f| {
            format!("{:.2} / {:.2}", f.head_silence_s, f.tail_silence_s)
        });
        row(&mut h, "Length", "s", &|f| {
            format!("{:.2}", f.meter.duration_s)
        });
        if let Some(l) = &self.lossy {
            let _ = write!(
                h,
                "<tr><td>After {} (this file)</td><td class=\"num\" colspan=\"{}\">{} dBTP, {:+.2} LU, {} overs</td><td></td></tr>",
                escape(&l.codec),
                files.len(),
                fmt(l.decoded_true_peak_dbtp),
                l.loudness_change_lu,
                l.decoded_overs
            );
        }
        h.push_str("</table>\n");
        for p in self.plots() {
            let _ = writeln!(h, "<h2>{}</h2>\n{}", escape(&p.title), p.to_svg());
        }
        h.push_str("<h2>What each platform does to the level</h2><table id=\"platforms\"><tr><th>platform</th><th>gain</th><th>heard at</th><th></th></tr>");
        for (t, gain, heard, limited) in platforms(m.integrated_lufs, m.true_peak_dbtp, m.rms_dbfs)
        {
            let _ = write!(
                h,
                "<tr><td>{}</td><td class=\"num\">{:+.1} dB</td><td class=\"num\">{:.1} {}</td><td>{}</td></tr>",
                escape(t.name),
                gain,
                heard,
                if matches!(t.policy, NormalizationPolicy::RmsWindow { .. }) {
                    "dBFS RMS"
                } else {
                    "LUFS"
                },
                if limited {
                    "raised less: the true peak limits it"
                } else {
                    ""
                }
            );
        }
        h.push_str("</table>\n</body></html>\n");
        h
    }
}

/// (target, gain, level heard, limited by peak) for every platform that
/// normalises.
fn platforms(lufs: f64, tp: f64, rms: f64) -> Vec<(&'static Target, f64, f64, bool)> {
    TARGETS
        .iter()
        .filter(|t| t.integrated_lufs.is_some())
        .filter_map(|t| {
            t.playback_gain(lufs, tp, rms)
                .map(|g| (t, g.gain_db, g.resulting_level, g.limited_by_peak))
        })
        .collect()
}

fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

fn fmt(v: f64) -> String {
    if v.is_finite() {
        format!("{v:.1}")
    } else if v < 0.0 {
        "−∞".into()
    } else {
        "n/a".into()
    }
}

fn fmt_hz(hz: f64) -> String {
    if hz >= 1000.0 {
        format!("{}k", hz / 1000.0)
    } else {
        format!("{hz}")
    }
}

/// One-third-octave band values as steps, sampled 48 times an octave
/// from 20 Hz (each point takes the value of the band it falls in).
fn band_steps(
    bands: &[mixmaster_meter::Band],
    value: impl Fn(&mixmaster_meter::Band) -> f64,
) -> Vec<(f64, f64)> {
    let mut out = Vec::new();
    let mut f = 20.0 * 2f64.powf(-1.0 / 6.0);
    let top = bands.last().map_or(0.0, |b| b.upper_hz);
    while f < top {
        if let Some(b) = bands.iter().find(|b| f >= b.lower_hz && f < b.upper_hz) {
            out.push((f, value(b)));
        }
        f *= 2f64.powf(1.0 / 48.0);
    }
    out
}

/// A spectrum in dB per bin, smoothed over 1/6 octave (power average) and
/// sampled at 48 points per octave from 20 Hz to 20 kHz.
fn smooth_spectrum(db: &[f64], bin_hz: f64) -> Vec<(f64, f64)> {
    let power: Vec<f64> = db.iter().map(|d| 10f64.powf(d / 10.0)).collect();
    let mut prefix = vec![0.0; power.len() + 1];
    for (i, p) in power.iter().enumerate() {
        prefix[i + 1] = prefix[i] + if p.is_finite() { *p } else { 0.0 };
    }
    let nyquist = bin_hz * (db.len().saturating_sub(1)) as f64;
    let mut out = Vec::new();
    let mut f = 20.0;
    while f <= 20_000.0_f64.min(nyquist) {
        let lo = ((f * 2f64.powf(-1.0 / 12.0)) / bin_hz).floor().max(1.0) as usize;
        let hi = (((f * 2f64.powf(1.0 / 12.0)) / bin_hz).ceil() as usize)
            .min(db.len() - 1)
            .max(lo);
        let mean = (prefix[hi + 1] - prefix[lo]) / (hi + 1 - lo) as f64;
        out.push((
            f,
            if mean > 0.0 {
                10.0 * mean.log10()
            } else {
                f64::NAN
            },
        ));
        f *= 2f64.powf(1.0 / 48.0);
    }
    out
}
