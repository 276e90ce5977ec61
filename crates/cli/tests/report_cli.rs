//! `mixmaster report` as users run it.

mod common;

use common::{mixmaster, temp_dir, text};

#[test]
fn report_writes_html_and_prints_the_checks() {
    let dir = temp_dir("report");
    // The demo's master (12 s: over 100 points of loudness series).
    let demo = dir.join("demo");
    let t = common::demo(&demo, 12);
    // The demo writes its report and says where.
    assert!(demo.join("report.html").is_file());
    assert!(
        t.contains(&format!("report: {}", demo.join("report.html").display())),
        "{t}"
    );
    let master = demo.join("master-spotify.wav");
    let html = dir.join("report.html");
    let o = mixmaster(&[
        "report",
        master.to_str().unwrap(),
        "-o",
        html.to_str().unwrap(),
        "--json",
    ]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(json["checks"].as_array().unwrap().len() >= 5, "{t}");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("<svg id=\"loudness\""));
    // A missing file is named, and nothing is written.
    let missing = dir.join("nope.wav");
    let out = dir.join("nope.html");
    let o = mixmaster(&[
        "report",
        missing.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    assert!(text(&o).contains("nope.wav"), "{}", text(&o));
    assert!(!out.exists());
    std::fs::remove_dir_all(&dir).ok();
}

/// PNG size from its IHDR chunk.
fn png_size(path: &std::path::Path) -> (u32, u32) {
    let png = std::fs::read(path).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "{}", path.display());
    let be = |i: usize| u32::from_be_bytes(png[i..i + 4].try_into().unwrap());
    (be(16), be(20))
}

#[test]
fn png_plots_and_report_flags_of_mix_master_and_render() {
    let dir = temp_dir("report-flags");
    let demo = dir.join("demo");
    common::demo(&demo, 12);
    let mix = demo.join("mix.wav");

    // --png: every plot of the HTML as a PNG at twice the SVG's size.
    let png = dir.join("png");
    let html = dir.join("r.html");
    let o = mixmaster(&[
        "report",
        demo.join("master-spotify.wav").to_str().unwrap(),
        "--compare",
        mix.to_str().unwrap(),
        "-o",
        html.to_str().unwrap(),
        "--png",
        png.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let page = std::fs::read_to_string(&html).unwrap();
    let ids = [
        "waveform",
        "loudness",
        "spectrum",
        "third-octave",
        "correlation",
        "mid-side",
    ];
    for id in ids {
        assert!(page.contains(&format!(r#"<svg id="{id}""#)), "{id}");
        let (w, h) = png_size(&png.join(format!("{id}.png")));
        assert_eq!((w, h), (1920, 712), "{id}");
    }
    assert_eq!(std::fs::read_dir(&png).unwrap().count(), ids.len());

    // mix --report: a premaster, no target line.
    let out = dir.join("mix-again.wav");
    let report = dir.join("mix.html");
    let session = demo.join("session.toml");
    let o = mixmaster(&[
        "mix",
        session.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
    ]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    let page = std::fs::read_to_string(&report).unwrap();
    assert!(
        page.contains("mix-again.wav") && !page.contains("target -"),
        "{t}"
    );
    assert!(t.contains("mono") && t.contains("report: "), "{t}");

    // render --report: the mix (deleted afterwards) is the BEFORE.
    let out = dir.join("render.flac");
    let report = dir.join("render.html");
    let o = mixmaster(&[
        "render",
        session.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--target",
        "youtube",
        "--report",
        report.to_str().unwrap(),
    ]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    let page = std::fs::read_to_string(&report).unwrap();
    assert!(page.contains("target -14.0 LUFS"), "{t}");
    assert!(page.contains(r#"data-name="before""#), "{t}");
    assert!(!dir.join(".render.flac.premaster.wav").exists());

    // A report path that is not HTML — here the input itself — is refused
    // before anything is written, and the input is untouched.
    let out = dir.join("m.wav");
    let before = std::fs::read(&mix).unwrap();
    for bad in [dir.join("r.wav"), mix.clone()] {
        let o = mixmaster(&[
            "master",
            mix.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--target",
            "spotify",
            "--report",
            bad.to_str().unwrap(),
        ]);
        assert!(!o.status.success());
        assert!(
            text(&o).contains("a report is an HTML file"),
            "{}",
            text(&o)
        );
        assert!(!out.exists());
    }
    assert!(std::fs::read(&mix).unwrap() == before);
    // `report -o` onto its own input (an HTML file is not audio, but the
    // check comes first and names the clash).
    let o = mixmaster(&[
        "report",
        html.to_str().unwrap(),
        "-o",
        html.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    assert!(text(&o).contains("would overwrite"), "{}", text(&o));
    assert!(std::fs::read_to_string(&html).unwrap().contains("<svg"));
    std::fs::remove_dir_all(&dir).ok();
}
