//! Plots as SVG text: labelled axes with units and ticks, data paths,
//! shaded time regions, reference lines and a legend. No scripts, no fonts
//! beyond the browser's sans-serif: a report stays one self-contained file.
//!
//! Every data path carries `class="data"` and `data-points="N"` (its point
//! count), so a test in a browser can check that each plot drew its data.

use std::fmt::Write as _;

/// One axis.
#[derive(Debug, Clone)]
pub struct Axis {
    /// What is plotted (`Time`, `Frequency`, `Loudness`).
    pub label: String,
    /// Its unit (`s`, `Hz`, `LUFS`).
    pub unit: String,
    /// Lowest value shown.
    pub min: f64,
    /// Highest value shown.
    pub max: f64,
    /// Logarithmic (frequency axes).
    pub log: bool,
}

impl Axis {
    /// A linear axis.
    pub fn linear(label: &str, unit: &str, min: f64, max: f64) -> Self {
        Self {
            label: label.into(),
            unit: unit.into(),
            min,
            max: if max > min { max } else { min + 1.0 },
            log: false,
        }
    }

    /// A logarithmic axis (both ends > 0).
    pub fn log(label: &str, unit: &str, min: f64, max: f64) -> Self {
        Self {
            log: true,
            ..Self::linear(label, unit, min.max(1e-9), max.max(min.max(1e-9) * 10.0))
        }
    }

    /// Position of `v` from 0 (min) to 1 (max).
    fn frac(&self, v: f64) -> f64 {
        if self.log {
            (v.max(1e-12).ln() - self.min.ln()) / (self.max.ln() - self.min.ln())
        } else {
            (v - self.min) / (self.max - self.min)
        }
    }

    /// Tick values and their labels.
    fn ticks(&self) -> Vec<(f64, String)> {
        if self.log {
            let mut out = Vec::new();
            let mut decade = 10f64.powf(self.min.log10().floor());
            while decade <= self.max {
                for m in [1.0, 2.0, 5.0] {
                    let v = decade * m;
                    if v >= self.min * 0.999 && v <= self.max * 1.001 {
                        let label = if v >= 1000.0 {
                            format!("{}k", v / 1000.0)
                        } else {
                            format!("{v}")
                        };
                        out.push((v, label));
                    }
                }
                decade *= 10.0;
            }
            return out;
        }
        let span = self.max - self.min;
        let raw = span / 6.0;
        let mag = 10f64.powf(raw.log10().floor());
        let step = [1.0, 2.0, 5.0, 10.0]
            .iter()
            .map(|m| m * mag)
            .find(|s| *s >= raw)
            .unwrap_or(10.0 * mag);
        let mut v = (self.min / step).ceil() * step;
        let mut out = Vec::new();
        while v <= self.max + step * 1e-9 {
            if v.abs() < step * 1e-9 {
                v = 0.0;
            }
            let label = if step >= 1.0 {
                format!("{v:.0}")
            } else {
                let decimals = (-step.log10().floor()) as usize;
                format!("{v:.decimals$}")
            };
            out.push((v, label.replace('-', "−")));
            v += step;
        }
        out
    }

    fn title(&self) -> String {
        if self.unit.is_empty() {
            self.label.clone()
        } else {
            format!("{} ({})", self.label, self.unit)
        }
    }
}

/// A data series.
#[derive(Debug, Clone)]
pub struct Line {
    /// Legend name.
    pub name: String,
    /// CSS colour.
    pub color: String,
    /// (x, y) points; a non-finite y breaks the line.
    pub points: Vec<(f64, f64)>,
    /// Drawn dashed.
    pub dashed: bool,
    /// Drawn as vertical min–max strokes between pairs of points (a
    /// waveform envelope: points come as (x, max), (x, min)).
    pub envelope: bool,
}

impl Line {
    /// A solid line.
    pub fn new(name: &str, color: &str, points: Vec<(f64, f64)>) -> Self {
        Self {
            name: name.into(),
            color: color.into(),
            points,
            dashed: false,
            envelope: false,
        }
    }
}

/// A shaded stretch of the x axis (clipped or over-ceiling regions).
#[derive(Debug, Clone)]
pub struct Region {
    /// Start.
    pub x0: f64,
    /// End.
    pub x1: f64,
    /// CSS colour.
    pub color: String,
    /// Legend name.
    pub name: String,
}

/// A horizontal reference line (a target, a ceiling).
#[derive(Debug, Clone)]
pub struct Rule {
    /// Its y.
    pub y: f64,
    /// Label drawn at its right end.
    pub label: String,
    /// CSS colour.
    pub color: String,
}

/// A vertical marker (a track start on an album's timeline).
#[derive(Debug, Clone)]
pub struct Mark {
    /// Its x.
    pub x: f64,
    /// Label drawn beside its top.
    pub label: String,
}

/// A plot.
#[derive(Debug, Clone)]
pub struct Plot {
    /// Element id (`loudness`, `spectrum`, …).
    pub id: String,
    /// Heading.
    pub title: String,
    /// Horizontal axis.
    pub x: Axis,
    /// Vertical axis.
    pub y: Axis,
    /// Data.
    pub lines: Vec<Line>,
    /// Shaded regions.
    pub regions: Vec<Region>,
    /// Reference lines.
    pub rules: Vec<Rule>,
    /// Vertical markers.
    pub marks: Vec<Mark>,
}

const WIDTH: f64 = 960.0;
const HEIGHT: f64 = 320.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 30.0;
const BOTTOM: f64 = 50.0;

/// Text safe inside SVG/HTML.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

impl Plot {
    /// The plot as an `<svg>` element, to sit in an HTML page under its
    /// heading.
    pub fn to_svg(&self) -> String {
        let mut s = String::new();
        let _ = write!(
            s,
            r#"<svg id="{id}" class="plot" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{title}">"#,
            id = escape(&self.id),
            title = escape(&self.title)
        );
        self.draw(&mut s);
        s.push_str("</svg>");
        s
    }

    /// The plot as a standalone SVG document — white background, the
    /// heading and `caption` (the file's name) above the plot — for
    /// rasterising to PNG.
    pub fn to_standalone_svg(&self, caption: &str) -> String {
        let head = 36.0;
        let height = HEIGHT + head;
        let mut s = String::new();
        let _ = write!(
            s,
            r##"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="sans-serif"><rect width="{WIDTH}" height="{height}" fill="#fff"/><text x="{LEFT}" y="24" font-size="16" font-weight="bold" fill="#222">{title}</text><text x="{right:.2}" y="24" font-size="12" text-anchor="end" fill="#555">{caption}</text><svg y="{head}" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}">"##,
            title = escape(&self.title),
            right = WIDTH - RIGHT,
            caption = escape(caption),
        );
        self.draw(&mut s);
        s.push_str("</svg></svg>");
        s
    }

    /// Appends the plot's elements (frame, grid, axes, rules, data, legend).
    fn draw(&self, s: &mut String) {
        let pw = WIDTH - LEFT - RIGHT;
        let ph = HEIGHT - TOP - BOTTOM;
        let px = |x: f64| LEFT + self.x.frac(x).clamp(0.0, 1.0) * pw;
        let py = |y: f64| TOP + (1.0 - self.y.frac(y).clamp(0.0, 1.0)) * ph;
        let _ = write!(
            s,
            r##"<rect x="{LEFT}" y="{TOP}" width="{pw}" height="{ph}" fill="#fbfbfd" stroke="#999"/>"##
        );
        for r in &self.regions {
            let (a, b) = (px(r.x0), px(r.x1));
            let _ = write!(
                s,
                r#"<rect class="region" x="{a:.2}" y="{TOP}" width="{:.2}" height="{ph}" fill="{}" fill-opacity="0.35"><title>{}</title></rect>"#,
                (b - a).max(1.0),
                escape(&r.color),
                escape(&r.name)
            );
        }
        // Grid and ticks.
        let _ = write!(s, r##"<g class="axis x-axis" font-size="11" fill="#333">"##);
        for (v, label) in self.x.ticks() {
            let x = px(v);
            let _ = write!(
                s,
                r##"<line x1="{x:.2}" y1="{TOP}" x2="{x:.2}" y2="{:.2}" stroke="#e3e3e8"/><text x="{x:.2}" y="{:.2}" text-anchor="middle">{}</text>"##,
                TOP + ph,
                TOP + ph + 16.0,
                escape(&label)
            );
        }
        let _ = write!(
            s,
            r#"<text class="axis-label" x="{:.2}" y="{:.2}" text-anchor="middle" font-size="12">{}</text></g>"#,
            LEFT + pw / 2.0,
            HEIGHT - 10.0,
            escape(&self.x.title())
        );
        let _ = write!(s, r##"<g class="axis y-axis" font-size="11" fill="#333">"##);
        for (v, label) in self.y.ticks() {
            let y = py(v);
            let _ = write!(
                s,
                r##"<line x1="{LEFT}" y1="{y:.2}" x2="{:.2}" y2="{y:.2}" stroke="#e3e3e8"/><text x="{:.2}" y="{:.2}" text-anchor="end">{}</text>"##,
                LEFT + pw,
                LEFT - 6.0,
                y + 4.0,
                escape(&label)
            );
        }
        let _ = write!(
            s,
            r#"<text class="axis-label" x="16" y="{:.2}" text-anchor="middle" font-size="12" transform="rotate(-90 16 {:.2})">{}</text></g>"#,
            TOP + ph / 2.0,
            TOP + ph / 2.0,
            escape(&self.y.title())
        );
        for m in &self.marks {
            let x = px(m.x);
            let _ = write!(
                s,
                r##"<line class="mark" x1="{x:.2}" y1="{TOP}" x2="{x:.2}" y2="{:.2}" stroke="#7a5195" stroke-width="1"/><text x="{:.2}" y="{:.2}" font-size="10" fill="#7a5195">{}</text>"##,
                TOP + ph,
                x + 3.0,
                TOP + 11.0,
                escape(&m.label)
            );
        }
        // Labels alternate right and left, so two close rules stay legible.
        for (k, r) in self.rules.iter().enumerate() {
            let y = py(r.y);
            let (lx, anchor) = if k % 2 == 0 {
                (LEFT + pw - 4.0, "end")
            } else {
                (LEFT + 4.0, "start")
            };
            let _ = write!(
                s,
                r#"<line class="rule" x1="{LEFT}" y1="{y:.2}" x2="{:.2}" y2="{y:.2}" stroke="{c}" stroke-dasharray="6 4"/><text x="{lx:.2}" y="{:.2}" text-anchor="{anchor}" font-size="11" fill="{c}">{}</text>"#,
                LEFT + pw,
                y - 4.0,
                escape(&r.label),
                c = escape(&r.color)
            );
        }
        for line in &self.lines {
            let mut d = String::new();
            let mut drawn = 0usize;
            if line.envelope {
                for pair in line.points.chunks(2) {
                    if let [(x, hi), (_, lo)] = pair {
                        let _ = write!(d, "M{:.2} {:.2}V{:.2}", px(*x), py(*hi), py(*lo));
                        drawn += 2;
                    }
                }
            } else {
                let mut pen_down = false;
                for &(x, y) in &line.points {
                    if !(x.is_finite() && y.is_finite()) {
                        pen_down = false;
                        continue;
                    }
                    let _ = write!(
                        d,
                        "{}{:.2} {:.2}",
                        if pen_down { "L" } else { "M" },
                        px(x),
                        py(y)
                    );
                    pen_down = true;
                    drawn += 1;
                }
            }
            let _ = write!(
                s,
                r#"<path class="data" data-points="{drawn}" data-name="{}" d="{d}" fill="none" stroke="{}" stroke-width="{}"{}/>"#,
                escape(&line.name),
                escape(&line.color),
                if line.envelope { "1" } else { "1.5" },
                if line.dashed {
                    r#" stroke-dasharray="5 3""#
                } else {
                    ""
                }
            );
        }
        // Legend.
        let mut lx = LEFT + 8.0;
        let names = self
            .lines
            .iter()
            .map(|l| (&l.name, &l.color))
            .chain(self.regions.iter().map(|r| (&r.name, &r.color)));
        let mut seen: Vec<&String> = Vec::new();
        for (name, color) in names {
            if seen.contains(&name) {
                continue;
            }
            seen.push(name);
            let _ = write!(
                s,
                r#"<g class="legend"><rect x="{lx:.2}" y="{:.2}" width="12" height="4" fill="{}"/><text x="{:.2}" y="{:.2}" font-size="11">{}</text></g>"#,
                TOP - 14.0,
                escape(color),
                lx + 16.0,
                TOP - 9.0,
                escape(name)
            );
            lx += 24.0 + 6.5 * name.chars().count() as f64;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_ticks() {
        let a = Axis::linear("Loudness", "LUFS", -40.0, 0.0);
        let t: Vec<String> = a.ticks().into_iter().map(|t| t.1).collect();
        assert_eq!(t, ["−40", "−30", "−20", "−10", "0"]);
        let c = Axis::linear("Correlation", "", -1.0, 1.0);
        let t: Vec<String> = c.ticks().into_iter().map(|t| t.1).collect();
        assert_eq!(t, ["−1.0", "−0.5", "0.0", "0.5", "1.0"]);
        let f = Axis::log("Frequency", "Hz", 20.0, 20_000.0);
        let t: Vec<String> = f.ticks().into_iter().map(|t| t.1).collect();
        assert_eq!(t.first().map(String::as_str), Some("20"));
        assert!(t.contains(&"1k".to_string()) && t.contains(&"20k".to_string()));
    }

    #[test]
    fn paths_count_their_points_and_break_at_gaps() {
        let p = Plot {
            id: "t".into(),
            title: "T".into(),
            x: Axis::linear("Time", "s", 0.0, 10.0),
            y: Axis::linear("Level", "dB", -10.0, 0.0),
            lines: vec![Line::new(
                "a",
                "#000",
                vec![
                    (0.0, -1.0),
                    (1.0, f64::NEG_INFINITY),
                    (2.0, -2.0),
                    (3.0, -3.0),
                ],
            )],
            regions: vec![],
            rules: vec![],
            marks: vec![],
        };
        let svg = p.to_svg();
        assert!(svg.contains(r#"data-points="3""#), "{svg}");
        let path = &svg[svg.find(r#"class="data""#).unwrap()..];
        let d = &path[path.find(" d=\"").unwrap() + 4..];
        let d = &d[..d.find('"').unwrap()];
        assert_eq!(d.matches('M').count(), 2, "{d}");
        assert!(svg.contains("Time (s)") && svg.contains("Level (dB)"));
    }
}
