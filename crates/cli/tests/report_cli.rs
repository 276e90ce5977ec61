//! `mixmaster report` as users run it.

mod common;

use common::{mixmaster, temp_dir, text};

#[test]
fn report_writes_html_and_prints_the_checks() {
    let dir = temp_dir("report");
    // The demo's master (12 s: over 100 points of loudness series).
    let demo = dir.join("demo");
    let o = mixmaster(&[
        "demo",
        "--out-dir",
        demo.to_str().unwrap(),
        "--seconds",
        "12",
    ]);
    assert!(o.status.success(), "{}", text(&o));
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
