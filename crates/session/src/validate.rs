//! Checks a parsed session for what the types alone cannot say: ranges of
//! strip settings, references between tracks and buses, loops in the
//! routing, unique names and ids, and automation targets.

use std::collections::{BTreeMap, BTreeSet};

use crate::error::nearest;
use crate::field_path::FieldPath;
use crate::model::{Automation, Insert, ProcessorSpec, Session, Strip};

/// A problem found by validation.
#[derive(Debug)]
pub struct Invalid {
    pub field: FieldPath,
    pub message: String,
    pub hint: Option<String>,
}

fn invalid(field: FieldPath, message: impl Into<String>) -> Invalid {
    Invalid {
        field,
        message: message.into(),
        hint: None,
    }
}

fn range(field: FieldPath, value: f64, lo: f64, hi: f64, unit: &str) -> Result<(), Invalid> {
    if value.is_nan() || value < lo || value > hi {
        return Err(invalid(
            field,
            format!("{value} is out of range: expected {lo} ..= {hi}{unit}"),
        ));
    }
    Ok(())
}

const PAN_LAWS_DB: [f64; 4] = [0.0, -3.0, -4.5, -6.0];

fn pan_law(field: FieldPath, value: f64) -> Result<(), Invalid> {
    if PAN_LAWS_DB.contains(&value) {
        Ok(())
    } else {
        Err(invalid(
            field,
            format!("{value} is not a pan law: expected 0, -3, -4.5 or -6 (dB)"),
        ))
    }
}

pub fn check(s: &Session) -> Result<(), Invalid> {
    let root = FieldPath::root();
    let p = root.key("project");
    range(
        p.key("sample_rate_hz"),
        f64::from(s.project.sample_rate_hz),
        8000.0,
        384_000.0,
        " Hz",
    )?;
    range(p.key("tempo_bpm"), s.project.tempo_bpm, 20.0, 400.0, " bpm")?;
    let [num, den] = s.project.time_signature;
    if !(1..=32).contains(&num) || ![1, 2, 4, 8, 16, 32].contains(&den) {
        return Err(invalid(
            p.key("time_signature"),
            format!("[{num}, {den}] is not a time signature: expected [1..=32, 1|2|4|8|16|32]"),
        ));
    }
    pan_law(p.key("pan_law_db"), s.project.pan_law_db)?;
    if s.tracks.is_empty() {
        return Err(Invalid {
            field: root.key("track"),
            message: "the session has no tracks".into(),
            hint: Some("add a [[track]] with a name and a source".into()),
        });
    }

    // Names: unique across tracks and buses; "master" is reserved.
    let mut names: BTreeMap<&str, FieldPath> = BTreeMap::new();
    let strips = s
        .tracks
        .iter()
        .enumerate()
        .map(|(i, t)| (t.name.as_str(), root.key("track").index(i), t.strip()))
        .chain(
            s.buses
                .iter()
                .enumerate()
                .map(|(i, b)| (b.name.as_str(), root.key("bus").index(i), b.strip())),
        )
        .collect::<Vec<_>>();
    for (name, path, _) in &strips {
        let field = path.key("name");
        if name.trim().is_empty() {
            return Err(invalid(field, "the name is empty"));
        }
        if name.eq_ignore_ascii_case("master") {
            return Err(invalid(field, "\"master\" is reserved for the master bus"));
        }
        if let Some(first) = names.insert(name, path.clone()) {
            return Err(invalid(
                field,
                format!("the name '{name}' is already used by {first}"),
            ));
        }
    }
    let bus_names: Vec<&str> = s.buses.iter().map(|b| b.name.as_str()).collect();
    let is_bus = |n: &str| n == "master" || bus_names.contains(&n);
    let unknown_bus = |field: FieldPath, n: &str| Invalid {
        field,
        message: format!("no bus named '{n}'"),
        hint: nearest(n, bus_names.iter().copied().chain(["master"]))
            .map(|b| format!("did you mean '{b}'?"))
            .or_else(|| Some("add a [[bus]] with that name".into())),
    };

    for (i, t) in s.tracks.iter().enumerate() {
        let tp = root.key("track").index(i);
        match (&t.source, t.clips.is_empty()) {
            (None, true) => {
                return Err(Invalid {
                    field: tp.clone(),
                    message: format!("track '{}' has no audio", t.name),
                    hint: Some(
                        "give it a `source = \"file.wav\"` or [[track.clip]] entries".into(),
                    ),
                });
            }
            (Some(_), false) => {
                return Err(invalid(
                    tp.key("source"),
                    "use either `source` (one clip at 0:00) or [[track.clip]] entries, not both",
                ));
            }
            _ => {}
        }
        let tempo = s.tempo();
        for (c, clip) in t.clips.iter().enumerate() {
            let cp = tp.key("clip").index(c);
            let length = clip.length.map(|l| l.seconds(&tempo));
            if length.is_some_and(|l| l <= 0.0) {
                return Err(invalid(cp.key("length"), "a clip must be longer than 0 s"));
            }
            range(
                cp.key("gain_db"),
                clip.gain_db,
                f64::NEG_INFINITY,
                24.0,
                " dB",
            )?;
            let fade_in = clip
                .fade_in
                .as_ref()
                .map_or(0.0, |f| f.length.seconds(&tempo));
            let fade_out = clip
                .fade_out
                .as_ref()
                .map_or(0.0, |f| f.length.seconds(&tempo));
            if let Some(l) = length
                && fade_in + fade_out > l + 1e-9
            {
                return Err(invalid(
                    cp,
                    format!("fades of {fade_in} s and {fade_out} s do not fit in a clip of {l} s"),
                ));
            }
        }
    }

    // Strips: ranges, destinations, sends, insert ids, automation targets.
    for (name, path, strip) in &strips {
        check_strip(path, strip)?;
        if let Some(b) = &strip.bus {
            if !is_bus(b) {
                return Err(unknown_bus(path.key("bus"), b));
            }
            if b == name {
                return Err(invalid(
                    path.key("bus"),
                    format!("'{name}' cannot feed itself"),
                ));
            }
        }
        for (k, send) in strip.sends.iter().enumerate() {
            let sp = path.key("sends").index(k);
            if send.bus == "master" || !bus_names.contains(&send.bus.as_str()) {
                return Err(unknown_bus(sp.key("bus"), &send.bus));
            }
            range(
                sp.key("level_db"),
                send.level_db,
                f64::NEG_INFINITY,
                24.0,
                " dB",
            )?;
            if let Some(pan) = send.pan {
                range(sp.key("pan"), pan, -1.0, 1.0, "")?;
            }
        }
        for (k, insert) in strip.inserts.iter().enumerate() {
            if let Some(key) = sidechain_of(insert)
                && !names.contains_key(key)
            {
                let kind = kind_of(&insert.processor);
                return Err(Invalid {
                    field: path.key("inserts").index(k).key(kind).key("sidechain"),
                    message: format!("no track or bus named '{key}' to key from"),
                    hint: nearest(key, names.keys().copied())
                        .map(|n| format!("did you mean '{n}'?")),
                });
            }
        }
    }
    check_inserts(&root.key("master"), &s.master.inserts)?;
    check_automation(
        &root.key("master"),
        &s.master.inserts,
        &[],
        &s.master.automation,
        true,
    )?;
    range(
        root.key("master").key("gain_db"),
        s.master.gain_db,
        f64::NEG_INFINITY,
        24.0,
        " dB",
    )?;
    check_routing_loops(&strips)
}

fn check_strip(path: &FieldPath, strip: &Strip) -> Result<(), Invalid> {
    range(
        path.key("gain_db"),
        strip.gain_db,
        f64::NEG_INFINITY,
        24.0,
        " dB",
    )?;
    range(path.key("pan"), strip.pan, -1.0, 1.0, "")?;
    range(path.key("width"), strip.width, 0.0, 2.0, "")?;
    if let Some(law) = strip.pan_law_db {
        pan_law(path.key("pan_law_db"), law)?;
    }
    check_inserts(path, &strip.inserts)?;
    let send_buses: Vec<&str> = strip.sends.iter().map(|s| s.bus.as_str()).collect();
    check_automation(path, &strip.inserts, &send_buses, &strip.automation, false)
}

fn check_inserts(path: &FieldPath, inserts: &[Insert]) -> Result<(), Invalid> {
    let mut ids = BTreeSet::new();
    for (k, insert) in inserts.iter().enumerate() {
        if insert.id.trim().is_empty() || insert.id.contains('.') {
            return Err(invalid(
                path.key("inserts").index(k).key("id"),
                format!(
                    "'{}' is not a valid insert id: use a non-empty name without dots",
                    insert.id
                ),
            ));
        }
        if !ids.insert(insert.id.as_str()) {
            return Err(invalid(
                path.key("inserts").index(k).key("id"),
                format!("the insert id '{}' is used twice on this strip", insert.id),
            ));
        }
    }
    Ok(())
}

/// The name a processor has in session files (`compressor`, `de_esser`, …).
pub fn kind_of(p: &ProcessorSpec) -> &'static str {
    let v = serde_json::to_value(p).unwrap_or_default();
    let key = v
        .as_object()
        .and_then(|o| o.keys().next().cloned())
        .unwrap_or_default();
    ProcessorSpec::KINDS
        .iter()
        .copied()
        .find(|k| *k == key)
        .unwrap_or("")
}

fn sidechain_of(insert: &Insert) -> Option<&str> {
    match &insert.processor {
        ProcessorSpec::Compressor(c) => c.sidechain.as_deref(),
        ProcessorSpec::Gate(g) => g.sidechain.as_deref(),
        _ => None,
    }
}

/// Numeric parameters of a processor kind, by the JSON Schema of its settings.
fn numeric_parameters(p: &ProcessorSpec) -> Vec<String> {
    let schema = serde_json::to_value(schemars::schema_for!(ProcessorSpec)).unwrap_or_default();
    let kind = kind_of(p);
    let defs = &schema["$defs"];
    let variant = schema["oneOf"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|v| v["properties"].get(kind).is_some());
    let Some(variant) = variant else {
        return Vec::new();
    };
    let reference = variant["properties"][kind]["$ref"].as_str().unwrap_or("");
    let def = &defs[reference.rsplit('/').next().unwrap_or("")];
    def["properties"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(_, s)| {
            let t = &s["type"];
            t == "number"
                || t.as_array()
                    .is_some_and(|a| a.iter().any(|x| x == "number"))
        })
        .map(|(k, _)| k.clone())
        .collect()
}

fn check_automation(
    path: &FieldPath,
    inserts: &[Insert],
    send_buses: &[&str],
    lanes: &[Automation],
    is_master: bool,
) -> Result<(), Invalid> {
    for (k, lane) in lanes.iter().enumerate() {
        let lp = path.key("automation").index(k);
        let param = lane.param.as_str();
        let parts: Vec<&str> = param.split('.').collect();
        let strip_params: &[&str] = if is_master {
            &["gain_db"]
        } else {
            &["gain_db", "pan", "width"]
        };
        let ok = match parts.as_slice() {
            [p] => strip_params.contains(p),
            ["sends", bus, field] if !is_master => {
                if !send_buses.contains(bus) {
                    return Err(Invalid {
                        field: lp.key("param"),
                        message: format!("'{param}': this strip has no send to '{bus}'"),
                        hint: nearest(bus, send_buses.iter().copied())
                            .map(|b| format!("did you mean 'sends.{b}.{field}'?")),
                    });
                }
                ["level_db", "pan"].contains(field)
            }
            ["inserts", id, rest @ ..] if !rest.is_empty() => {
                let Some(insert) = inserts.iter().find(|i| i.id == *id) else {
                    return Err(Invalid {
                        field: lp.key("param"),
                        message: format!("'{param}': no insert with id '{id}' on this strip"),
                        hint: nearest(id, inserts.iter().map(|i| i.id.as_str()))
                            .map(|i| format!("did you mean '{i}'?")),
                    });
                };
                let field = rest.join(".");
                let valid = if let ProcessorSpec::Eq(eq) = &insert.processor {
                    (0..eq.bands.len())
                        .flat_map(|b| {
                            ["freq_hz", "gain_db", "q", "pivot_hz"]
                                .map(|f| format!("bands.{b}.{f}"))
                        })
                        .collect()
                } else {
                    numeric_parameters(&insert.processor)
                };
                if !valid.contains(&field) {
                    return Err(Invalid {
                        field: lp.key("param"),
                        message: format!(
                            "'{param}': {} has no automatable parameter '{field}'",
                            kind_of(&insert.processor)
                        ),
                        hint: nearest(&field, valid.iter().map(String::as_str))
                            .map(|n| format!("did you mean 'inserts.{id}.{n}'?"))
                            .or_else(|| Some(format!("valid: {}", valid.join(", ")))),
                    });
                }
                true
            }
            _ => false,
        };
        if !ok {
            return Err(Invalid {
                field: lp.key("param"),
                message: format!("'{param}' is not an automatable parameter"),
                hint: Some(if is_master {
                    "on the master: gain_db or inserts.<id>.<parameter>".into()
                } else {
                    "gain_db, pan, width, sends.<bus>.level_db, sends.<bus>.pan or inserts.<id>.<parameter>".into()
                }),
            });
        }
        if lane.points.is_empty() {
            return Err(invalid(
                lp.key("points"),
                "an automation lane needs at least one point",
            ));
        }
    }
    Ok(())
}

/// Rejects routing loops: bus outputs, sends and sidechain keys together
/// must form a graph without cycles. The error names the loop.
fn check_routing_loops(strips: &[(&str, FieldPath, Strip)]) -> Result<(), Invalid> {
    // Edges from a strip to the strips that consume its signal.
    let mut edges: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (name, _, strip) in strips {
        let e = edges.entry(name).or_default();
        if let Some(b) = strip.bus.as_deref().filter(|b| *b != "master") {
            e.push(b);
        }
        e.extend(strip.sends.iter().map(|x| x.bus.as_str()));
    }
    for (name, _, strip) in strips {
        for insert in &strip.inserts {
            if let Some(key) = sidechain_of(insert) {
                edges.entry(key).or_default().push(name);
            }
        }
    }
    // Depth-first search with colours; the stack gives the loop.
    #[derive(Clone, Copy, PartialEq)]
    enum Colour {
        White,
        Grey,
        Black,
    }
    let mut colour: BTreeMap<&str, Colour> = edges.keys().map(|k| (*k, Colour::White)).collect();
    fn visit<'a>(
        n: &'a str,
        edges: &BTreeMap<&'a str, Vec<&'a str>>,
        colour: &mut BTreeMap<&'a str, Colour>,
        stack: &mut Vec<&'a str>,
    ) -> Option<Vec<&'a str>> {
        colour.insert(n, Colour::Grey);
        stack.push(n);
        for &m in edges.get(n).into_iter().flatten() {
            match colour.get(m).copied().unwrap_or(Colour::White) {
                Colour::Grey => {
                    let start = stack.iter().position(|x| *x == m).unwrap_or(0);
                    let mut cycle = stack[start..].to_vec();
                    cycle.push(m);
                    return Some(cycle);
                }
                Colour::White => {
                    if let Some(c) = visit(m, edges, colour, stack) {
                        return Some(c);
                    }
                }
                Colour::Black => {}
            }
        }
        stack.pop();
        colour.insert(n, Colour::Black);
        None
    }
    let nodes: Vec<&str> = edges.keys().copied().collect();
    for n in nodes {
        if colour[n] == Colour::White
            && let Some(cycle) = visit(n, &edges, &mut colour, &mut Vec::new())
        {
            let at = strips
                .iter()
                .find(|(name, _, _)| *name == cycle[0])
                .map(|(_, p, _)| p.clone())
                .unwrap_or_default();
            return Err(invalid(at, format!("routing loop: {}", cycle.join(" → "))));
        }
    }
    Ok(())
}
