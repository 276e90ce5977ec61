//! Mastering end to end: a varied set of generated inputs × delivery
//! presets. Every written file is under its ceiling (our meter, decoded
//! again); the integrated loudness lands within the tolerance in at least
//! 90 % of the pairs, and every miss is a clear "out of reach" refusal with
//! nothing written. Also: silence, NaN, mono→stereo, lowering a loud input.
//! The inputs are `mixmaster_engine::programmes::mastering_inputs`;
//! `scripts/bench_master_matrix.sh` checks the same inputs × every preset
//! with ffmpeg and loudgain as independent meters (BENCHMARKS.md).

use std::path::{Path, PathBuf};

use mixmaster_engine::master::{
    MasterSettings, master_file, measure_file, measure_file_with_peer, sidecar_path,
};
use mixmaster_engine::programmes::{Programme, Xorshift64, mastering_inputs};
use mixmaster_io::{AudioWriter, Encoding, FileFormat, WriteSpec};
use mixmaster_session::MasteringSpec;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mixmaster-master-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write_wav(path: &Path, rate: u32, channels: &[Vec<f64>]) {
    let spec = WriteSpec {
        sample_rate_hz: rate,
        channels: channels.len(),
        format: FileFormat::Wav,
        encoding: Encoding::Float32,
    };
    let mut w = AudioWriter::create(path, spec, &[]).unwrap();
    w.write(channels).unwrap();
    w.finish().unwrap();
}

#[test]
fn every_preset_meets_its_ceiling_and_nearly_always_its_loudness() {
    let dir = temp_dir("matrix");
    let presets = [
        "spotify",
        "apple-music",
        "youtube",
        "ebu-r128",
        "podcast",
        "cd",
        "none",
    ];
    let mut pairs = 0;
    let mut hits = 0;
    let mut misses = Vec::new();
    // Ten inputs of 4 s (see `mixmaster_engine::programmes`).
    for Programme {
        name,
        sample_rate_hz: rate,
        channels,
        ..
    } in mastering_inputs(4.0)
    {
        let input = dir.join(format!("{name}.wav"));
        write_wav(&input, rate, &channels);
        for preset in presets {
            let spec = MasteringSpec {
                target: Some(preset.into()),
                ..MasteringSpec::default()
            };
            let settings = MasterSettings::from_spec(&spec, FileFormat::Wav, &dir).unwrap();
            let out = dir.join(format!("{name}-{preset}.wav"));
            pairs += 1;
            match master_file(&input, &out, &settings, FileFormat::Wav, |_, _, _| {}) {
                Ok(s) => {
                    let (measured, ffmpeg_dbtp) =
                        measure_file_with_peer(&out, settings.dual_mono).unwrap();
                    assert!(
                        measured.true_peak_dbtp <= settings.ceiling_dbtp,
                        "{name} × {preset}: {:.3} dBTP over the {:.2} ceiling",
                        measured.true_peak_dbtp,
                        settings.ceiling_dbtp
                    );
                    // ffmpeg's ebur128=peak=true, modelled exactly (the
                    // meter crate's test compares the model with ffmpeg).
                    assert!(
                        ffmpeg_dbtp <= settings.ceiling_dbtp,
                        "{name} × {preset}: ffmpeg reads {ffmpeg_dbtp:.3} dBTP, over the {:.2} \
                         ceiling",
                        settings.ceiling_dbtp
                    );
                    assert!(sidecar_path(&out).exists());
                    match settings.integrated_lufs {
                        Some(t)
                            if (measured.integrated_lufs - t).abs() <= settings.tolerance_lu =>
                        {
                            hits += 1
                        }
                        Some(t) => misses.push(format!(
                            "{name} × {preset}: {:.2} LUFS for {t}",
                            measured.integrated_lufs
                        )),
                        None => hits += 1,
                    }
                    assert_eq!(
                        measured.frames,
                        s.input.frames * u64::from(s.sample_rate_hz) / u64::from(rate)
                    );
                }
                Err(e) => {
                    let msg = e.to_string();
                    assert!(msg.contains("out of reach"), "{name} × {preset}: {msg}");
                    assert!(!out.exists(), "{name} × {preset}: partial output left");
                    misses.push(format!("{name} × {preset}: {msg}"));
                }
            }
        }
    }
    for m in &misses {
        eprintln!("miss: {m}");
    }
    eprintln!("{hits} of {pairs} pairs within tolerance");
    assert!(hits * 10 >= pairs * 9, "{hits} of {pairs}: {misses:#?}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn silence_and_non_finite_input_are_refused_without_output() {
    let dir = temp_dir("bad");
    let silent = dir.join("silent.wav");
    write_wav(&silent, 48_000, &[vec![0.0; 48_000], vec![0.0; 48_000]]);
    let spec = MasteringSpec {
        target: Some("spotify".into()),
        ..MasteringSpec::default()
    };
    let settings = MasterSettings::from_spec(&spec, FileFormat::Wav, &dir).unwrap();
    let out = dir.join("out.wav");
    let e = master_file(&silent, &out, &settings, FileFormat::Wav, |_, _, _| {}).unwrap_err();
    assert!(e.to_string().contains("silent"), "{e}");
    assert!(!out.exists());
    // A float WAV with a NaN, written by hand (our writer refuses NaN).
    let nan = dir.join("nan.wav");
    let frames = 48_000u32;
    let mut bytes = Vec::new();
    let data_len = frames * 8;
    bytes.extend_from_slice(b"RIFF");
    bytes.extend_from_slice(&(36 + data_len).to_le_bytes());
    bytes.extend_from_slice(b"WAVEfmt ");
    bytes.extend_from_slice(&16u32.to_le_bytes());
    bytes.extend_from_slice(&3u16.to_le_bytes()); // IEEE float
    bytes.extend_from_slice(&2u16.to_le_bytes());
    bytes.extend_from_slice(&48_000u32.to_le_bytes());
    bytes.extend_from_slice(&(48_000u32 * 8).to_le_bytes());
    bytes.extend_from_slice(&8u16.to_le_bytes());
    bytes.extend_from_slice(&32u16.to_le_bytes());
    bytes.extend_from_slice(b"data");
    bytes.extend_from_slice(&data_len.to_le_bytes());
    for i in 0..frames * 2 {
        let v: f32 = if i == 2001 { f32::NAN } else { 0.1 };
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    std::fs::write(&nan, bytes).unwrap();
    let e = master_file(&nan, &out, &settings, FileFormat::Wav, |_, _, _| {}).unwrap_err();
    assert!(e.to_string().contains("NaN"), "{e}");
    assert!(!out.exists());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn loud_input_is_turned_down_and_mono_can_become_stereo() {
    let dir = temp_dir("down");
    let mut rng = Xorshift64::new(99);
    let loud: Vec<f64> = (0..96_000)
        .map(|_| (2.0 * rng.bipolar()).clamp(-0.99, 0.99))
        .collect();
    let input = dir.join("loud.wav");
    write_wav(&input, 48_000, std::slice::from_ref(&loud));
    let spec = MasteringSpec {
        target: Some("spotify".into()),
        channels: Some(2),
        ..MasteringSpec::default()
    };
    let settings = MasterSettings::from_spec(&spec, FileFormat::Wav, &dir).unwrap();
    let out = dir.join("down.wav");
    let s = master_file(&input, &out, &settings, FileFormat::Wav, |_, _, _| {}).unwrap();
    assert!(s.gain_db < 0.0, "gain {}", s.gain_db);
    assert_eq!(s.output_report.channels, 2);
    assert!((s.output_report.integrated_lufs + 14.0).abs() <= 0.1);
    assert!(s.output_report.true_peak_dbtp <= -1.0);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn latency_of_chain_and_limiter_is_compensated_sample_exactly() {
    // A flat linear-phase EQ and an exciter at amount 0 are pure delays;
    // the limiter is transparent 30 dB under its ceiling: the master must
    // equal the input, sample for sample (float output), same length.
    let dir = temp_dir("latency");
    let mut rng = Xorshift64::new(7);
    let l: Vec<f64> = (0..30_000)
        .map(|_| f64::from((0.03 * rng.bipolar()) as f32))
        .collect();
    let r: Vec<f64> = (0..30_000)
        .map(|_| f64::from((0.03 * rng.bipolar()) as f32))
        .collect();
    let input = dir.join("in.wav");
    write_wav(&input, 48_000, &[l.clone(), r.clone()]);
    let spec: MasteringSpec = toml::from_str(
        r#"
        target = "none"
        ceiling_dbtp = 0
        bits = "32f"
        inserts = [
          { id = "eq", mastering_eq = { phase = "linear", bands = [ { bell = { freq_hz = 1000, gain_db = 0, q = 1 } } ] } },
          { id = "x", exciter = { amount_pct = 0 } },
        ]
        "#,
    )
    .unwrap();
    let settings = MasterSettings::from_spec(&spec, FileFormat::Wav, &dir).unwrap();
    let out = dir.join("out.wav");
    let s = master_file(&input, &out, &settings, FileFormat::Wav, |_, _, _| {}).unwrap();
    assert!(s.latency_frames > 4000, "latency {}", s.latency_frames);
    let (_, got) = mixmaster_io::read_all(&out).unwrap();
    assert_eq!(got.frames(), l.len());
    for (c, want) in [&l, &r].iter().enumerate() {
        let worst = got
            .channel(c)
            .iter()
            .zip(want.iter())
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f64, f64::max);
        assert!(worst < 1e-7, "channel {c}: worst difference {worst}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn the_whole_mastering_chain_is_block_size_invariant() {
    use mixmaster_core::{CoreError, Processor};
    use mixmaster_dsp::testing::assert_block_size_invariant;
    use mixmaster_engine::factory::{Context, build};

    /// The chain as one processor.
    struct Chain(Vec<Box<dyn Processor>>);
    impl Processor for Chain {
        fn prepare(&mut self, rate: u32, block: usize, ch: usize) -> Result<(), CoreError> {
            self.0
                .iter_mut()
                .try_for_each(|p| p.prepare(rate, block, ch))
        }
        fn process(&mut self, block: &mut [&mut [f64]]) {
            self.0.iter_mut().for_each(|p| p.process(block));
        }
        fn reset(&mut self) {
            self.0.iter_mut().for_each(|p| p.reset());
        }
    }
    let spec: MasteringSpec = toml::from_str(
        r#"
        inserts = [
          { id = "eq", mastering_eq = { bands = [ { low_shelf = { freq_hz = 100, gain_db = 2 } } ], side_bands = [ { bell = { freq_hz = 3000, gain_db = -2, q = 1 } } ] } },
          { id = "mb", multiband = { crossover_hz = [250, 4000], bands = [ { threshold_db = -30 }, { threshold_db = -30 }, { threshold_db = -30 } ] } },
          { id = "w", imager = { mono_below_hz = 100, widths = [1.0, 1.2, 1.4] } },
          { id = "x", exciter = { amount_pct = 20 } },
          { id = "c", compressor = { threshold_db = -20, ratio = 2 } },
        ]
        "#,
    )
    .unwrap();
    let dir = temp_dir("invariance");
    let make = || {
        let ctx = Context {
            sample_rate_hz: 48_000,
            tempo_bpm: 120.0,
            base_dir: &dir,
            max_block_frames: 4096,
            channels: 2,
        };
        let mut v: Vec<Box<dyn Processor>> = spec
            .inserts
            .as_ref()
            .unwrap()
            .iter()
            .map(|i| build(&i.processor, &ctx).unwrap())
            .collect();
        v.push(Box::new(
            mixmaster_dsp::Limiter::new(mixmaster_dsp::LimiterOptions {
                ceiling_dbtp: -1.0,
                gain_db: 12.0,
                ..Default::default()
            })
            .unwrap(),
        ));
        Chain(v)
    };
    let mut rng = Xorshift64::new(3);
    let input: Vec<Vec<f64>> = (0..2)
        .map(|_| {
            (0..20_000)
                .map(|i| 0.3 * rng.bipolar() * (1.0 + (i as f64 / 3000.0).sin()))
                .collect()
        })
        .collect();
    assert_block_size_invariant(make, 48_000, &input);
    std::fs::remove_dir_all(&dir).ok();
}

/// A speech-like programme: `head_s` of room tone, then phrases of three
/// to five "syllables" (a raised-cosine envelope of 120–280 ms over a
/// voiced part — harmonics 1..8 of a 110–180 Hz pitch at 1/k — and a
/// fricative part of white noise), 40–120 ms between syllables, 0.5–0.8 s
/// between phrases, up to `seconds − tail_s`, then room tone to the end.
/// The speech is scaled to `speech_rms_dbfs` over the whole file; the room
/// tone (white noise at `floor_dbfs` RMS) runs under everything, as a
/// microphone hears it. Each channel gets its own noise; the speech is the
/// same on both (a voice recorded in stereo).
fn speech_like(
    rate: u32,
    channels: usize,
    seconds: f64,
    speech_rms_dbfs: f64,
    floor_dbfs: f64,
    seed: u64,
) -> Vec<Vec<f64>> {
    let (head_s, tail_s) = (0.75, 2.0);
    let fs = f64::from(rate);
    let n = (seconds * fs) as usize;
    let mut rng = Xorshift64::new(seed);
    let mut speech = vec![0.0; n];
    let mut t = head_s;
    let end = seconds - tail_s;
    'phrases: loop {
        let syllables = 3 + (rng.bipolar().abs() * 3.0) as usize;
        for _ in 0..syllables {
            let len = 0.12 + 0.16 * rng.bipolar().abs();
            if t + len > end {
                break 'phrases;
            }
            let f0 = 145.0 + 35.0 * rng.bipolar();
            let voiced = 0.4 + 0.5 * rng.bipolar().abs();
            let start = (t * fs) as usize;
            let frames = (len * fs) as usize;
            for i in 0..frames {
                let env = 0.5 - 0.5 * (std::f64::consts::TAU * i as f64 / frames as f64).cos();
                let tt = i as f64 / fs;
                let tone: f64 = (1..=8)
                    .map(|k| (std::f64::consts::TAU * f0 * k as f64 * tt).sin() / k as f64)
                    .sum();
                speech[start + i] = env * (voiced * tone + (1.0 - voiced) * rng.bipolar());
            }
            t += len + 0.04 + 0.08 * rng.bipolar().abs();
        }
        t += 0.5 + 0.3 * rng.bipolar().abs();
    }
    let rms = (speech.iter().map(|x| x * x).sum::<f64>() / n as f64).sqrt();
    let scale = 10f64.powf(speech_rms_dbfs / 20.0) / rms;
    // Uniform noise in [−a, a) has RMS a/√3.
    let noise_amp = 10f64.powf(floor_dbfs / 20.0) * 3f64.sqrt();
    (0..channels)
        .map(|_| {
            speech
                .iter()
                .map(|s| s * scale + noise_amp * rng.bipolar())
                .collect()
        })
        .collect()
}

fn acx_settings(dir: &Path, format: FileFormat) -> MasterSettings {
    let spec = MasteringSpec {
        target: Some("acx".into()),
        ..MasteringSpec::default()
    };
    MasterSettings::from_spec(&spec, format, dir).unwrap()
}

#[test]
fn acx_aims_at_rms_keeps_the_sample_peak_and_reports_the_noise_floor() {
    use mixmaster_engine::acx::AcxStatus;
    use mixmaster_engine::master::LevelMeasure;

    let dir = temp_dir("acx");
    // A clean voice: mono 44.1 kHz, floor −80 dBFS, speech at −26 dBFS RMS
    // (mastering raises it about 6 dB), delivered as MP3. A noisy one:
    // stereo 48 kHz, floor −56 dBFS, delivered as WAV (24-bit) at 44.1 kHz.
    let cases = [
        ("clean", 44_100, 1, -80.0, FileFormat::Mp3, "mp3"),
        ("noisy", 48_000, 2, -56.0, FileFormat::Wav, "wav"),
    ];
    for (name, rate, channels, floor, format, ext) in cases {
        let input = dir.join(format!("{name}.wav"));
        write_wav(
            &input,
            rate,
            &speech_like(rate, channels, 12.0, -26.0, floor, 17),
        );
        let settings = acx_settings(&dir, format);
        assert_eq!(settings.level, LevelMeasure::RmsDbfs);
        let out = dir.join(format!("{name}-acx.{ext}"));
        let s = master_file(&input, &out, &settings, format, |_, _, _| {})
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        // Our meter on the decoded file.
        let m = measure_file(&out, false).unwrap();
        let acx = s.acx.as_ref().expect("acx checks");
        let find = |c: &str| acx.findings.iter().find(|f| f.check == c).unwrap();
        eprintln!(
            "{name}: input RMS {:.2} dBFS, floor {:.2}; output RMS {:.2} dBFS (meter {:.2}), \
             sample peak {:.2} dBFS, true peak {:.2} dBTP, floor {:.2} dBFS, head {:.2} s, tail \
             {:.2} s, gain {:+.2} dB, {} renders, I {:.2} LUFS",
            acx.input.rms_dbfs,
            acx.input.noise_floor_dbfs.unwrap(),
            acx.output.rms_dbfs,
            m.rms_dbfs,
            m.sample_peak_dbfs,
            m.true_peak_dbtp,
            acx.output.noise_floor_dbfs.unwrap(),
            acx.output.head_room_tone_s.unwrap(),
            acx.output.tail_room_tone_s.unwrap(),
            s.gain_db,
            s.renders,
            m.integrated_lufs
        );
        for f in &acx.findings {
            eprintln!(
                "  {:<15} {:<10} {:<22} {}",
                f.check,
                f.status.as_str(),
                f.figure,
                f.message
            );
        }
        assert_eq!(m.sample_rate_hz, 44_100, "{name}");
        assert!(
            (m.rms_dbfs + 20.0).abs() <= settings.tolerance_lu,
            "{name}: RMS {:.3}",
            m.rms_dbfs
        );
        assert!((-23.0..=-18.0).contains(&m.rms_dbfs));
        assert!((acx.output.rms_dbfs - m.rms_dbfs).abs() < 1e-6, "{name}");
        assert!(m.sample_peak_dbfs <= -3.0, "{name}: {}", m.sample_peak_dbfs);
        assert!(m.true_peak_dbtp <= -3.5, "{name}: {}", m.true_peak_dbtp);
        assert!(s.gain_db > 4.0, "{name}: gain {}", s.gain_db);
        for check in [
            "rms",
            "peak",
            "head_room_tone",
            "tail_room_tone",
            "sample_rate",
        ] {
            assert_eq!(find(check).status, AcxStatus::Pass, "{name}: {check}");
        }
        let nf = find("noise_floor");
        let sidecar: serde_json::Value =
            serde_json::from_slice(&std::fs::read(sidecar_path(&out)).unwrap()).unwrap();
        assert_eq!(sidecar["target"]["level_measure"], "rms_dbfs");
        assert_eq!(sidecar["target"]["level_met"], true);
        let json_nf = sidecar["acx"]["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["check"] == "noise_floor")
            .unwrap()
            .clone();
        if name == "clean" {
            assert_eq!(nf.status, AcxStatus::Pass, "{}", nf.message);
            assert_eq!(find("format").status, AcxStatus::Pass);
            assert!(acx.findings.iter().all(|f| f.status == AcxStatus::Pass));
            assert_eq!(json_nf["status"], "pass");
        } else {
            assert_eq!(nf.status, AcxStatus::Fail);
            assert!(!nf.mastering_controls);
            assert!(
                nf.message.contains("mastering cannot fix it"),
                "{}",
                nf.message
            );
            // The floor rose with the gain, less the white noise above
            // 20 kHz that the 48 → 44.1 kHz conversion removes and what the
            // default chain's subsonic high-pass takes out of the floor.
            let raised = acx.output.noise_floor_dbfs.unwrap() - acx.input.noise_floor_dbfs.unwrap();
            assert!(
                raised > s.gain_db - 3.0 && raised < s.gain_db + 0.1,
                "raised {raised}, gain {}",
                s.gain_db
            );
            assert!(
                nf.message.contains(&format!("raised it by {raised:.1} dB")),
                "{}",
                nf.message
            );
            assert_eq!(json_nf["status"], "fail");
            assert_eq!(find("format").status, AcxStatus::Advisory);
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn acx_refuses_settings_that_cannot_meet_it() {
    let dir = temp_dir("acx-settings");
    let bad = |toml: &str| {
        let spec: MasteringSpec = toml::from_str(toml).unwrap();
        MasterSettings::from_spec(&spec, FileFormat::Wav, &dir)
            .unwrap_err()
            .to_string()
    };
    let e = bad("target = \"acx\"\nintegrated_lufs = -19");
    assert!(e.contains("RMS"), "{e}");
    let e = bad("target = \"acx\"\nceiling_dbtp = -1");
    assert!(e.contains("−3") || e.contains("-3"), "{e}");
    let e = bad("target = \"acx\"\ntolerance_lu = 2.5");
    assert!(e.contains("window"), "{e}");
    // A stricter ceiling is fine.
    let spec: MasteringSpec = toml::from_str("target = \"acx\"\nceiling_dbtp = -4").unwrap();
    assert!(MasterSettings::from_spec(&spec, FileFormat::Wav, &dir).is_ok());
    std::fs::remove_dir_all(&dir).ok();
}
