//! Helpers the command-line tests share.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs the `mixmaster` binary with `args`.
pub fn mixmaster(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mixmaster"))
        .args(args)
        .output()
        .expect("run mixmaster")
}

/// A fresh, empty folder for one test.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mixmaster-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Standard output and standard error, one after the other.
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Whether the command-line tool `cmd` (Debian package `package`) runs.
/// `scripts/test.sh` installs every tool the tests call; outside CI a
/// machine without one skips the check with a note, and with `CI=true` a
/// missing tool fails the test instead of skipping it.
pub fn tool_available(cmd: &str, package: &str) -> bool {
    let ok = Command::new("sh")
        .args(["-c", &format!("command -v {cmd}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{cmd} is not installed (apt-get install {package}); CI must not skip this check"
        );
        eprintln!("{cmd} not installed; skipping this check");
    }
    ok
}

/// The workspace root (examples live there).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// Runs `mixmaster demo --seconds SECONDS --out-dir OUT_DIR` (stems, session,
/// mix.wav, master-spotify.wav, report.html); returns what it printed.
pub fn demo(out_dir: &Path, seconds: u32) -> String {
    let o = mixmaster(&[
        "demo",
        "--seconds",
        &seconds.to_string(),
        "--out-dir",
        out_dir.to_str().unwrap(),
    ]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    t
}
