//! Helpers shared by the integration tests: signal generators, a seeded
//! random source, spectral measurement, temporary folders.
#![allow(dead_code)]

use std::f64::consts::PI;
use std::path::{Path, PathBuf};

/// A small deterministic PRNG (SplitMix64), so tests need no extra crate.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform integer in [lo, hi].
    pub fn int(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next_u64() % ((hi - lo + 1) as u64)) as i64
    }
    /// Uniform in [-1, 1).
    pub fn signed(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }
}

/// Planar random integer-valued samples of a `bits`-bit format, covering
/// the full range including both extremes.
pub fn random_int_signal(channels: usize, frames: usize, bits: u32, seed: u64) -> Vec<Vec<f64>> {
    let mut rng = Rng::new(seed);
    let scale = f64::from(1u32 << (bits - 1));
    let (lo, hi) = (-(1i64 << (bits - 1)), (1i64 << (bits - 1)) - 1);
    (0..channels)
        .map(|_| {
            let mut ch: Vec<f64> = (0..frames)
                .map(|_| rng.int(lo, hi) as f64 / scale)
                .collect();
            if frames >= 2 {
                ch[0] = lo as f64 / scale;
                ch[1] = hi as f64 / scale;
            }
            ch
        })
        .collect()
}

/// A sine of `amplitude` at `freq_hz`, phase 0 at frame 0.
pub fn sine(freq_hz: f64, amplitude: f64, rate_hz: u32, frames: usize) -> Vec<f64> {
    (0..frames)
        .map(|n| amplitude * (2.0 * PI * freq_hz * n as f64 / f64::from(rate_hz)).sin())
        .collect()
}

/// 7-term Blackman-Harris window (minimum sidelobes about -180 dB).
pub fn blackman_harris7(n: usize) -> Vec<f64> {
    const A: [f64; 7] = [
        0.271_051_400_693_424,
        -0.433_297_939_234_485,
        0.218_122_999_543_110,
        -0.065_925_446_388_031,
        0.010_811_742_098_371,
        -0.000_776_584_825_226,
        0.000_013_887_217_352,
    ];
    (0..n)
        .map(|i| {
            let x = 2.0 * PI * i as f64 / n as f64;
            A.iter()
                .enumerate()
                .map(|(k, a)| a * (k as f64 * x).cos())
                .sum()
        })
        .collect()
}

/// Amplitude of the component at exactly `freq_hz` in `x` (windowed DFT at
/// that frequency, calibrated by the window's coherent gain).
pub fn tone_amplitude(x: &[f64], freq_hz: f64, rate_hz: u32) -> f64 {
    let w = blackman_harris7(x.len());
    let (mut re, mut im) = (0.0, 0.0);
    let step = 2.0 * PI * freq_hz / f64::from(rate_hz);
    for (n, (&s, &wn)) in x.iter().zip(&w).enumerate() {
        let ph = step * n as f64;
        re += s * wn * ph.cos();
        im -= s * wn * ph.sin();
    }
    2.0 * (re * re + im * im).sqrt() / w.iter().sum::<f64>()
}

/// Windowed amplitude spectrum of `x` (length a power of two), calibrated
/// so a sine of amplitude A peaks near A. Returns (frequency_hz, amplitude)
/// per bin.
pub fn spectrum(x: &[f64], rate_hz: u32) -> Vec<(f64, f64)> {
    use realfft::RealFftPlanner;
    let n = x.len();
    let w = blackman_harris7(n);
    let gain: f64 = w.iter().sum();
    let mut input: Vec<f64> = x.iter().zip(&w).map(|(a, b)| a * b).collect();
    let fft = RealFftPlanner::<f64>::new().plan_fft_forward(n);
    let mut out = fft.make_output_vec();
    fft.process(&mut input, &mut out).expect("fft");
    out.iter()
        .enumerate()
        .map(|(k, c)| {
            (
                k as f64 * f64::from(rate_hz) / n as f64,
                2.0 * c.norm() / gain,
            )
        })
        .collect()
}

pub fn db(x: f64) -> f64 {
    20.0 * x.log10()
}

/// A fresh, empty folder under the target directory, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let base = std::env::temp_dir().join(format!(
            "mixmaster-io-test-{}-{}-{name}-{n}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        ));
        std::fs::create_dir_all(&base).expect("create temp dir");
        TempDir(base)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
    /// Names of the entries in the folder, sorted.
    pub fn entries(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(&self.0)
            .expect("read dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Whether the command-line tool `cmd` (Debian package `package`) can run.
/// `scripts/test.sh` installs every tool the tests call; outside CI a
/// machine without one skips the check with a note, and with `CI=true` a
/// missing tool fails the test instead of skipping it.
pub fn tool_available(cmd: &str, package: &str) -> bool {
    let ok = std::process::Command::new(cmd)
        .arg(if cmd == "ffprobe" || cmd == "ffmpeg" {
            "-version"
        } else {
            "--version"
        })
        .output()
        .is_ok();
    if !ok {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{cmd} is not installed (apt-get install {package}); CI must not skip this check"
        );
        eprintln!("{cmd} not installed; skipping this check");
    }
    ok
}
