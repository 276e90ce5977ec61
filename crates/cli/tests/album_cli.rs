//! `mixmaster album` as users run it, on the example album of the
//! repository, checked by independent tools: Debian's `cuetools`
//! (`cueprint`) and `shntool` read the CUE sheet, the tracks `shntool
//! split` cuts from our image are byte for byte our per-track CD files, and
//! `metaflac` reads the streaming tags.

mod common;

use std::path::Path;
use std::process::Command;

use common::{mixmaster, temp_dir, text, tool_available, workspace_root};

fn example() -> String {
    workspace_root()
        .join("examples/demo-album/album.toml")
        .to_string_lossy()
        .into_owned()
}

fn run_tool(cmd: &str, args: &[&str], dir: &Path) -> String {
    let o = Command::new(cmd)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("{cmd}: {e}"));
    assert!(o.status.success(), "{cmd} {args:?}: {}", text(&o));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn the_example_album_is_read_by_cuetools_and_split_identically_by_shntool() {
    let dir = temp_dir("album-example");
    let out = dir.join("out");
    let report = dir.join("album-report.html");
    let o = mixmaster(&[
        "album",
        &example(),
        "-o",
        out.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
    ]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    // `--report`: the CD image, every track start marked on the time plots
    // (waveform, loudness, correlation).
    let page = std::fs::read_to_string(&report).unwrap();
    assert!(page.contains("Generated Nights (CD delivery, 4 tracks)"));
    assert_eq!(page.matches(r#"<line class="mark""#).count(), 3 * 4);
    assert!(page.contains(">2 Night Drive</text>"));
    assert!(t.contains(&format!("report: {}", report.display())), "{t}");
    // The summary: the songs, both deliveries, the album as one programme.
    for want in [
        "Opening Pulse",
        "Interlude (quiet)",
        "CD delivery: 44100 Hz / 16-bit",
        "Streaming delivery: 48000 Hz / 24-bit",
        "album as one programme",
    ] {
        assert!(t.contains(want), "missing '{want}' in:\n{t}");
    }
    let cd = out.join("cd");
    for f in ["album.wav", "album.cue", "pq.txt", "pq.csv"] {
        assert!(cd.join(f).is_file(), "{f}");
    }

    if tool_available("cueprint", "cuetools") {
        let disc = run_tool(
            "cueprint",
            &["-d", "%T|%P|%N\\n", "-t", "%n|%t|%p|%s|%i\\n", "album.cue"],
            &cd,
        );
        let lines: Vec<&str> = disc.lines().collect();
        assert_eq!(
            lines[0], "Generated Nights|The Mixmaster Examples|4",
            "{disc}"
        );
        assert_eq!(
            lines[1],
            "1|Opening Pulse|The Mixmaster Examples|A. Example|ZZMXM2600001"
        );
        assert_eq!(
            lines[3],
            "3|Interlude (quiet)|The Mixmaster Examples||ZZMXM2600003"
        );
        // Track starts in CD frames, the pregap of track 3 appended to
        // track 2 (the default of cuebreakpoints).
        let points = run_tool("cuebreakpoints", &["album.cue"], &cd);
        assert_eq!(points.lines().count(), 3, "{points}");
        let cue = std::fs::read_to_string(cd.join("album.cue")).unwrap();
        assert!(cue.contains("CATALOG 0036000291452"));
        assert!(cue.contains("INDEX 00"));
    }
    if tool_available("shntool", "shntool") {
        let split = dir.join("split");
        std::fs::create_dir_all(&split).unwrap();
        run_tool(
            "shntool",
            &[
                "split",
                "-q",
                "-f",
                "album.cue",
                "-o",
                "wav",
                "-d",
                split.to_str().unwrap(),
                "album.wav",
            ],
            &cd,
        );
        let mut ours: Vec<_> = std::fs::read_dir(cd.join("tracks"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        ours.sort();
        assert_eq!(ours.len(), 4);
        for (i, path) in ours.iter().enumerate() {
            let theirs = split.join(format!("split-track{:02}.wav", i + 1));
            let a = std::fs::read(path).unwrap();
            let b = std::fs::read(&theirs).unwrap();
            assert!(
                a == b,
                "{} differs from shntool's {}",
                path.display(),
                theirs.display()
            );
        }
        // shntool's "cdr" column: CD quality, cut on a frame (sector)
        // boundary, long enough to burn ("---"), for every track.
        let mut args = vec!["len".to_string(), "-t".to_string()];
        args.extend(ours.iter().map(|p| p.to_string_lossy().into_owned()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let info = run_tool("shntool", &args, &cd);
        let rows: Vec<&str> = info.lines().skip(1).collect();
        assert_eq!(rows.len(), 4, "{info}");
        for row in rows {
            let cdr = row.split_whitespace().nth(3).unwrap_or_default();
            assert_eq!(cdr, "---", "{row}");
        }
    }
    if tool_available("metaflac", "flac") {
        let flac = out.join("streaming/01 - Opening Pulse.flac");
        let tags = run_tool(
            "metaflac",
            &["--export-tags-to=-", flac.to_str().unwrap()],
            &dir,
        );
        for want in [
            "TITLE=Opening Pulse",
            "ARTIST=The Mixmaster Examples",
            "ALBUM=Generated Nights",
            "TRACKNUMBER=1",
            "ISRC=ZZMXM2600001",
            "REPLAYGAIN_TRACK_GAIN=",
            "REPLAYGAIN_ALBUM_GAIN=",
            "REPLAYGAIN_TRACK_PEAK=",
        ] {
            assert!(tags.contains(want), "missing {want} in:\n{tags}");
        }
    }
    // The log lists every delivered file.
    let log: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("album.json")).unwrap()).unwrap();
    let files = log["files"].as_array().unwrap();
    assert!(files.len() >= 4 + 4 + 12);
    for f in files {
        assert!(out.join(f.as_str().unwrap()).is_file(), "{f}");
    }

    // Again into the same folder: refused, nothing touched.
    let before = std::fs::read(cd.join("album.cue")).unwrap();
    let o = mixmaster(&["album", &example(), "-o", out.to_str().unwrap(), "--cd"]);
    assert!(!o.status.success());
    assert!(text(&o).contains("not empty"), "{}", text(&o));
    assert_eq!(std::fs::read(cd.join("album.cue")).unwrap(), before);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_bad_album_file_names_file_line_and_field() {
    let dir = temp_dir("album-bad");
    let path = dir.join("album.toml");
    std::fs::write(
        &path,
        "[album]\ntitle = \"T\"\nartist = \"A\"\n\n[[song]]\ntitle = \"One\"\ngenerate = \"dense-rock\"\nseconds = 5\nisrc = \"GB-XYZ-2-00001\"\n",
    )
    .unwrap();
    let out = dir.join("out");
    let o = mixmaster(&["album", path.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert!(!o.status.success());
    let t = text(&o);
    assert!(
        t.contains("album.toml:9:") && t.contains("song[0].isrc"),
        "{t}"
    );
    assert!(!out.exists());
    std::fs::remove_dir_all(&dir).ok();
}
