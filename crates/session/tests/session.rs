//! Session files: the documented example parses; every kind of mistake is
//! reported with line, column, field and a hint; TOML and JSON round-trip.

use std::path::Path;

use mixmaster_session::{Curve, LoadedSession, Position, ProcessorSpec, SessionError, json_schema};

const EXAMPLE: &str = r#"
[project]
name = "Midnight Drive"
sample_rate_hz = 48000
tempo_bpm = 104
time_signature = [4, 4]

[[track]]
name = "Kick"
source = "stems/kick.wav"
gain_db = -3.0
bus = "Drums"
inserts = [
  { id = "hp", hpf = { freq_hz = 30, slope_db_oct = 24 } },
  { id = "eq", eq = { bands = [ { bell = { freq_hz = 60, gain_db = 3.0, q = 1.2 } } ] } },
  { id = "comp", compressor = { threshold_db = -18, ratio = 4, attack_ms = 10, release_ms = 120, knee_db = 6 } },
]
sends = [ { bus = "Room", level_db = -12 } ]

[[track]]
name = "Bass"
source = "stems/bass.flac"
pan = -0.1
inserts = [ { id = "duck", compressor = { ratio = 3, sidechain = "Kick" } } ]

[[track]]
name = "Lead Vocal"
[[track.clip]]
source = "stems/vox_take3.wav"
at = "0:12.000"
source_offset = 1.5
length = 30
fade_in = { length = 0.01, curve = "s" }
fade_out = { length = 2.0, curve = "exp" }
[[track.automation]]
param = "gain_db"
points = [ ["0:00", -60], ["2|1", 0, "s-curve"] ]

[[track]]
name = "Pad"
source = "stems/pad.wav"
inserts = [ { id = "comp", compressor = { ratio = 2 } } ]
automation = [ { param = "inserts.comp.threshold_db", points = [[0, -20], [10, -30]] } ]

[[bus]]
name = "Drums"

[[bus]]
name = "Room"
inserts = [ { id = "verb", reverb = { size = 0.7, decay_s = 1.8, predelay_ms = 20, mix = 1.0 } } ]

[master]
gain_db = -1
"#;

fn load(text: &str) -> Result<LoadedSession, SessionError> {
    LoadedSession::from_toml_str(text, Path::new("song.toml"))
}

fn err(text: &str) -> SessionError {
    load(text).expect_err("should be rejected")
}

#[test]
fn the_documented_example_parses() {
    let l = load(EXAMPLE).unwrap();
    let s = &l.session;
    assert_eq!(s.project.sample_rate_hz, 48_000);
    assert_eq!(s.tracks.len(), 4);
    assert_eq!(s.buses.len(), 2);
    let kick = &s.tracks[0];
    assert_eq!(kick.inserts.len(), 3);
    assert!(
        matches!(kick.inserts[2].processor, ProcessorSpec::Compressor(ref c) if c.ratio == Some(4.0))
    );
    let vox = &s.tracks[2].clips[0];
    assert_eq!(vox.at.seconds(&s.tempo()), 12.0);
    assert_eq!(vox.fade_in.as_ref().unwrap().curve, Curve::SCurve);
    assert_eq!(vox.fade_out.as_ref().unwrap().curve, Curve::Exponential);
    let lane = &s.tracks[2].automation[0];
    // Bar 2 at 104 bpm in 4/4: 4 beats of 60/104 s.
    assert!((lane.points[1].at().seconds(&s.tempo()) - 4.0 * 60.0 / 104.0).abs() < 1e-12);
    assert_eq!(lane.points[1].curve(), Curve::SCurve);
    assert_eq!(l.resolve("stems/kick.wav"), Path::new("stems/kick.wav"));
    assert_eq!(s.master.gain_db, -1.0);
}

#[test]
fn toml_and_json_round_trip() {
    let s = load(EXAMPLE).unwrap().session;
    let toml_text = s.to_toml_string().unwrap();
    let again = load(&toml_text)
        .unwrap_or_else(|e| panic!("{e}\n{toml_text}"))
        .session;
    assert_eq!(again, s);
    let json = serde_json::to_string_pretty(&s).unwrap();
    let from_json = LoadedSession::from_json_str(&json, Path::new("song.json"))
        .unwrap()
        .session;
    assert_eq!(from_json, s);
}

#[test]
fn unknown_field_names_line_column_and_nearest_name() {
    let text = "[project]\nsample_rate_hz = 48000\n\n[[track]]\nname = \"Kick\"\nsource = \"k.wav\"\ngian_db = -3\n";
    let e = err(text);
    let loc = e.location.clone().unwrap();
    assert_eq!(loc.line, 7, "{e}");
    assert!(e.message.contains("gian_db"), "{e}");
    assert_eq!(e.hint.as_deref(), Some("did you mean `gain_db`?"), "{e}");
    assert_eq!(e.field.as_deref(), Some("track[0].gian_db"), "{e}");
    assert!(
        e.to_string()
            .starts_with("song.toml:7:1: track[0].gian_db: "),
        "{e}"
    );
}

#[test]
fn unknown_processor_and_processor_field() {
    let e = err(
        "[project]\n[[track]]\nname = \"a\"\nsource = \"a.wav\"\ninserts = [ { id = \"x\", compresor = { ratio = 2 } } ]\n",
    );
    assert_eq!(e.location.as_ref().unwrap().line, 5, "{e}");
    assert_eq!(e.hint.as_deref(), Some("did you mean `compressor`?"), "{e}");
    let e = err(
        "[project]\n[[track]]\nname = \"a\"\nsource = \"a.wav\"\ninserts = [ { id = \"x\", compressor = { ratoi = 2 } } ]\n",
    );
    assert!(e.message.contains("ratoi"), "{e}");
    assert_eq!(e.hint.as_deref(), Some("did you mean `ratio`?"), "{e}");
}

#[test]
fn out_of_range_points_at_the_value_with_the_range() {
    let text = "[project]\n[[track]]\nname = \"a\"\nsource = \"a.wav\"\npan = 1.5\n";
    let e = err(text);
    assert_eq!(e.field.as_deref(), Some("track[0].pan"));
    assert_eq!(e.location.as_ref().unwrap().line, 5);
    assert_eq!(e.location.as_ref().unwrap().column, 7);
    assert!(e.message.contains("-1 ..= 1"), "{e}");
    let e = err("[project]\nsample_rate_hz = 1000\n[[track]]\nname = \"a\"\nsource = \"a.wav\"\n");
    assert_eq!(e.location.as_ref().unwrap().line, 2, "{e}");
    assert!(e.message.contains("8000"), "{e}");
    let e = err("[project]\npan_law_db = -2\n[[track]]\nname = \"a\"\nsource = \"a.wav\"\n");
    assert!(e.message.contains("-4.5"), "{e}");
}

#[test]
fn routing_loops_are_named() {
    let text = "[project]\n[[track]]\nname = \"a\"\nsource = \"a.wav\"\nbus = \"A\"\n[[bus]]\nname = \"A\"\nbus = \"B\"\n[[bus]]\nname = \"B\"\nsends = [ { bus = \"A\" } ]\n";
    let e = err(text);
    assert!(
        e.message.contains("routing loop") && e.message.contains("A → B → A"),
        "{e}"
    );
    let e = err(
        "[project]\n[[track]]\nname = \"a\"\nsource = \"a.wav\"\nbus = \"A\"\n[[bus]]\nname = \"A\"\nbus = \"A\"\n",
    );
    assert!(e.message.contains("itself"), "{e}");
}

#[test]
fn references_are_checked_with_hints() {
    let e = err(
        "[project]\n[[track]]\nname = \"a\"\nsource = \"a.wav\"\nbus = \"Drum\"\n[[bus]]\nname = \"Drums\"\n",
    );
    assert_eq!(e.field.as_deref(), Some("track[0].bus"));
    assert_eq!(e.hint.as_deref(), Some("did you mean 'Drums'?"));
    let e = err(
        "[project]\n[[track]]\nname = \"a\"\nsource = \"a.wav\"\ninserts = [ { id = \"c\", compressor = { sidechain = \"Kik\" } } ]\n[[track]]\nname = \"Kick\"\nsource = \"k.wav\"\n",
    );
    assert!(e.message.contains("Kik"), "{e}");
    assert_eq!(e.hint.as_deref(), Some("did you mean 'Kick'?"));
    let e = err(
        "[project]\n[[track]]\nname = \"a\"\nsource = \"a.wav\"\n[[track]]\nname = \"a\"\nsource = \"b.wav\"\n",
    );
    assert!(e.message.contains("already used"), "{e}");
    assert_eq!(e.location.as_ref().unwrap().line, 6);
}

#[test]
fn automation_targets_are_checked() {
    let base = "[project]\n[[track]]\nname = \"a\"\nsource = \"a.wav\"\ninserts = [ { id = \"comp\", compressor = { ratio = 2 } } ]\n";
    let e = err(&format!(
        "{base}automation = [ {{ param = \"inserts.comp.treshold_db\", points = [[0, 1]] }} ]\n"
    ));
    assert_eq!(
        e.hint.as_deref(),
        Some("did you mean 'inserts.comp.threshold_db'?"),
        "{e}"
    );
    let e = err(&format!(
        "{base}automation = [ {{ param = \"inserts.cmp.ratio\", points = [[0, 1]] }} ]\n"
    ));
    assert_eq!(e.hint.as_deref(), Some("did you mean 'comp'?"), "{e}");
    let e = err(&format!(
        "{base}automation = [ {{ param = \"volume\", points = [[0, 1]] }} ]\n"
    ));
    assert!(e.message.contains("not an automatable"), "{e}");
    assert!(load(&format!("{base}automation = [ {{ param = \"inserts.comp.ratio\", points = [[\"1|1\", 2], [\"3|2\", 4]] }} ]\n")).is_ok());
}

#[test]
fn structural_mistakes() {
    let e = err("[project]\nname = \"empty\"\n");
    assert!(e.message.contains("no tracks"), "{e}");
    let e = err("[project]\n[[track]]\nname = \"a\"\n");
    assert!(e.message.contains("no audio"), "{e}");
    let e = err(
        "[project]\n[[track]]\nname = \"a\"\n[[track.clip]]\nsource = \"a.wav\"\nat = \"1:75\"\n",
    );
    assert!(e.message.contains("1:75"), "{e}");
    assert_eq!(e.location.as_ref().unwrap().line, 6, "{e}");
    let e = err(
        "[project]\n[[track]]\nname = \"a\"\n[[track.clip]]\nsource = \"a.wav\"\nlength = 1\nfade_in = { length = 0.8 }\nfade_out = { length = 0.8 }\n",
    );
    assert!(e.message.contains("do not fit"), "{e}");
    let e = err("[project\n");
    assert!(e.location.is_some(), "{e}");
}

#[test]
fn json_errors_have_line_and_column() {
    let e = LoadedSession::from_json_str(
        "{\n  \"project\": {},\n  \"track\": [ { \"name\": \"a\", \"sourc\": \"a.wav\" } ]\n}",
        Path::new("s.json"),
    )
    .unwrap_err();
    assert_eq!(e.location.as_ref().unwrap().line, 3, "{e}");
    assert_eq!(e.hint.as_deref(), Some("did you mean `source`?"), "{e}");
}

#[test]
fn the_json_schema_describes_the_model() {
    let schema = json_schema();
    let text = schema.to_string();
    for needle in [
        "sample_rate_hz",
        "tempo_bpm",
        "inserts",
        "threshold_db",
        "Position",
        "fade_in",
    ] {
        assert!(text.contains(needle), "schema lacks {needle}");
    }
}

#[test]
fn positions_serialise_as_written() {
    assert_eq!(
        serde_json::to_string(&Position::Seconds(1.5)).unwrap(),
        "1.5"
    );
    assert_eq!(
        serde_json::to_string(&Position::Bars { bar: 2, beat: 1.0 }).unwrap(),
        "\"2|1\""
    );
}
