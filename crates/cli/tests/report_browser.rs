//! The report as a reader sees it: opened in Debian's headless Chromium
//! (driven by playwright-core from npm, `tests/browser/check_report.mjs`),
//! with no console errors, nothing fetched from outside the file, every
//! plot drawn with both axes and a data path of at least 100 points, and a
//! screenshot taken.
//!
//! `scripts/test.sh` installs `chromium` and `nodejs` with apt and
//! playwright-core with `npm ci` when missing; with `CI=true` anything
//! missing fails the test instead of skipping it.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{mixmaster, temp_dir, text, tool_available};

fn browser_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

/// Whether node, Chromium and playwright-core are all there (skips with a
/// note outside CI; fails under CI=true).
fn browser_available() -> bool {
    if !(tool_available("node", "nodejs") && tool_available("chromium", "chromium")) {
        return false;
    }
    let ok = browser_dir().join("node_modules/playwright-core").is_dir();
    if !ok {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "playwright-core is not installed (npm ci in crates/cli/tests/browser); \
             CI must not skip this check"
        );
        eprintln!("playwright-core not installed; skipping the browser check");
    }
    ok
}

/// Opens `html` in headless Chromium; returns what the page showed.
fn open_in_chromium(html: &Path, screenshot: &Path) -> serde_json::Value {
    let o = Command::new("node")
        .arg(browser_dir().join("check_report.mjs"))
        .arg(html)
        .arg(screenshot)
        .output()
        .expect("run node");
    assert!(o.status.success(), "{}", text(&o));
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&o)))
}

/// Asserts what every report must show in the browser.
fn assert_renders(page: &serde_json::Value, screenshot: &Path, expect: &[&str]) {
    let list = |k: &str| page[k].as_array().unwrap().clone();
    assert!(list("consoleErrors").is_empty(), "console errors: {page}");
    assert!(list("pageErrors").is_empty(), "page errors: {page}");
    assert!(list("external").is_empty(), "fetched from outside: {page}");
    let plots = list("plots");
    let ids: Vec<&str> = plots.iter().map(|p| p["id"].as_str().unwrap()).collect();
    for want in expect {
        assert!(ids.contains(want), "plot {want} missing: {ids:?}");
    }
    for p in &plots {
        let id = p["id"].as_str().unwrap();
        assert!(
            p["width"].as_f64().unwrap() > 500.0,
            "{id} not laid out: {p}"
        );
        assert!(
            p["height"].as_f64().unwrap() > 150.0,
            "{id} not laid out: {p}"
        );
        for axis in ["x", "y"] {
            let a = &p[axis];
            assert!(a.is_object(), "{id}: no {axis} axis");
            assert!(
                a["ticks"].as_array().unwrap().len() >= 2,
                "{id}: {axis} axis has fewer than two tick labels: {a}"
            );
            let label = a["label"].as_str().unwrap();
            assert!(label.len() > 3, "{id}: {axis} axis has no label");
        }
        // Units in the labels: "Time (s)", "Frequency (Hz)", "Level (dBFS)"…
        assert!(
            p["x"]["label"].as_str().unwrap().contains('('),
            "{id}: x unit"
        );
        let paths = p["paths"].as_array().unwrap();
        let longest = paths
            .iter()
            .map(|q| q["vertices"].as_u64().unwrap())
            .max()
            .unwrap_or(0);
        assert!(
            longest >= 100,
            "{id}: longest data path has {longest} points"
        );
        for q in paths {
            assert_eq!(q["vertices"], q["declared"], "{id}: {q}");
            assert!(q["length"].as_f64().unwrap() > 0.0, "{id}: empty path {q}");
        }
    }
    // The screenshot: a PNG at least as wide as the viewport.
    let png = std::fs::read(screenshot).expect("screenshot written");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(png[20..24].try_into().unwrap());
    assert!(
        width >= 1000 && height > 2000,
        "screenshot {width}×{height}"
    );
}

#[test]
fn reports_render_in_headless_chromium() {
    if !browser_available() {
        return;
    }
    let dir = temp_dir("browser");
    let demo = dir.join("demo");
    common::demo(&demo, 12);

    // The demo's own report: the master against its mix.
    let html = demo.join("report.html");
    let shot = dir.join("demo.png");
    let page = open_in_chromium(&html, &shot);
    assert_renders(
        &page,
        &shot,
        &[
            "waveform",
            "loudness",
            "spectrum",
            "third-octave",
            "correlation",
            "mid-side",
        ],
    );
    // BEFORE is overlaid on the spectra.
    let spectrum = page["plots"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "spectrum")
        .unwrap();
    assert!(
        spectrum["paths"]
            .as_array()
            .unwrap()
            .iter()
            .any(|q| q["name"] == "before"),
        "{spectrum}"
    );

    // `master --report` with a reference: REF overlaid too.
    let master = dir.join("apple.flac");
    let report = dir.join("apple.html");
    let o = mixmaster(&[
        "master",
        demo.join("mix.wav").to_str().unwrap(),
        "-o",
        master.to_str().unwrap(),
        "--target",
        "apple-music",
        "--reference",
        demo.join("master-spotify.wav").to_str().unwrap(),
        "--amount",
        "0",
        "--report",
        report.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let shot = dir.join("apple.png");
    let page = open_in_chromium(&report, &shot);
    assert_renders(&page, &shot, &["waveform", "loudness", "spectrum"]);
    let names: Vec<String> = page["plots"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["paths"].as_array().unwrap().clone())
        .filter_map(|q| q["name"].as_str().map(str::to_string))
        .collect();
    assert!(names.iter().any(|n| n == "before"), "{names:?}");
    assert!(names.iter().any(|n| n == "reference"), "{names:?}");
    std::fs::remove_dir_all(&dir).ok();
}
