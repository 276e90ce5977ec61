//! `init` end to end on stems generated here: names, groups, pans, gains,
//! and the acceptance property — the written session renders, without
//! edits, at −24 … −14 LUFS with its sample peak at or below −1 dBFS,
//! every track audible, no longer than the longest stem + 30 s. Then bad
//! input: missing folder, no audio, a broken file, overwriting.

use std::f64::consts::TAU;
use std::path::{Path, PathBuf};

use mixmaster_engine::import::{self, InitOptions, LoudnessMethod, Role, classify, track_name};
use mixmaster_engine::{EngineError, Mixer, RenderOptions, render_to_file};
use mixmaster_io::{AudioWriter, Encoding, FileFormat, WriteSpec, read_all};
use mixmaster_meter::{Meter, MeterOptions, MeterReport};
use mixmaster_session::{LoadedSession, ProcessorSpec};

const SECONDS: f64 = 6.0;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mixmaster-import-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn db(x: f64) -> f64 {
    10f64.powf(x / 20.0)
}

/// Deterministic white noise in −1 … 1.
struct Noise(u64);
impl Noise {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        2.0 * ((self.0 >> 11) as f64 / (1u64 << 53) as f64) - 1.0
    }
}

/// Scales every channel by one factor so the largest sample is `peak_dbfs`.
fn normalise(mut channels: Vec<Vec<f64>>, peak_dbfs: f64) -> Vec<Vec<f64>> {
    let peak = channels
        .iter()
        .flatten()
        .fold(0.0f64, |m, x| m.max(x.abs()));
    let g = db(peak_dbfs) / peak;
    channels.iter_mut().flatten().for_each(|x| *x *= g);
    channels
}

fn write(path: &Path, rate: u32, channels: Vec<Vec<f64>>, peak_dbfs: f64) {
    let channels = normalise(channels, peak_dbfs);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let format = FileFormat::from_path(path).unwrap();
    let spec = WriteSpec {
        sample_rate_hz: rate,
        channels: channels.len(),
        format,
        encoding: Encoding::Pcm24,
    };
    let mut w = AudioWriter::create(path, spec, &[]).unwrap();
    w.write(&channels).unwrap();
    w.finish().unwrap();
}

fn frames(rate: u32, seconds: f64) -> usize {
    (seconds * f64::from(rate)) as usize
}

/// Adds `hit(t)` (t in seconds from the hit) at every `period_s`, from `first_s`.
fn hits(
    n: usize,
    rate: u32,
    first_s: f64,
    period_s: f64,
    len_s: f64,
    mut hit: impl FnMut(f64) -> f64,
) -> Vec<f64> {
    let fs = f64::from(rate);
    let mut out = vec![0.0; n];
    let mut start = first_s;
    while start < n as f64 / fs {
        let s0 = (start * fs) as usize;
        for k in 0..frames(rate, len_s) {
            if let Some(y) = out.get_mut(s0 + k) {
                *y += hit(k as f64 / fs);
            }
        }
        start += period_s;
    }
    out
}

/// Kick: a sine swept from 120 to 50 Hz under a fast decay, on every beat at 120 bpm.
fn kick(rate: u32) -> Vec<f64> {
    let fs = f64::from(rate);
    let n = frames(rate, SECONDS);
    hits(n, rate, 0.0, 0.5, 0.4, |t| {
        // Phase of f(t) = 50 + 70·e^(−t/0.03): 50t + 70·0.03·(1 − e^(−t/0.03)).
        let phase = TAU * (50.0 * t + 70.0 * 0.03 * (1.0 - (-t / 0.03).exp()));
        let _ = fs;
        phase.sin() * (-t / 0.12).exp()
    })
}

/// Snare: a noise burst and a 190 Hz body on beats 2 and 4.
fn snare(rate: u32) -> Vec<f64> {
    let mut noise = Noise(7);
    hits(frames(rate, SECONDS), rate, 0.5, 1.0, 0.25, |t| {
        noise.next() * (-t / 0.06).exp() + 0.6 * (TAU * 190.0 * t).sin() * (-t / 0.04).exp()
    })
}

/// Hats: differenced noise (bright) in short bursts on eighth notes.
fn hat(rate: u32) -> Vec<f64> {
    let mut noise = Noise(11);
    let mut last = 0.0;
    hits(frames(rate, SECONDS), rate, 0.0, 0.25, 0.06, |t| {
        let x = noise.next();
        let y = x - last;
        last = x;
        y * (-t / 0.02).exp()
    })
}

/// Overheads: bright cymbal washes every 2 s, different noise per side.
fn overhead(rate: u32, seed: u64) -> Vec<f64> {
    let mut noise = Noise(seed);
    let mut last = 0.0;
    hits(frames(rate, SECONDS), rate, 0.0, 2.0, 1.9, |t| {
        let x = noise.next();
        let y = x - 0.7 * last;
        last = x;
        y * (-t / 0.6).exp()
    })
}

/// Harmonic tone with `harmonics` partials at 1/k.
fn partials(f0: f64, t: f64, harmonics: usize) -> f64 {
    (1..=harmonics)
        .map(|k| (TAU * f0 * k as f64 * t).sin() / k as f64)
        .sum()
}

/// Bass: eighth notes A1, A1, D2, E2 with six partials.
fn bass(rate: u32) -> Vec<f64> {
    let fs = f64::from(rate);
    let notes = [55.0, 55.0, 73.42, 82.41];
    (0..frames(rate, SECONDS))
        .map(|i| {
            let t = i as f64 / fs;
            let step = (t / 0.25) as usize;
            let local = t - step as f64 * 0.25;
            let env = (local / 0.005).min(1.0) * (-local / 0.4).exp();
            partials(notes[step % notes.len()], t, 6) * env
        })
        .collect()
}

/// Guitar: a G-major chord strummed every second; `detune` varies the take.
fn guitar(rate: u32, detune: f64) -> Vec<f64> {
    let fs = f64::from(rate);
    (0..frames(rate, SECONDS))
        .map(|i| {
            let t = i as f64 / fs;
            let local = t % 1.0;
            let env = (local / 0.01).min(1.0) * (-local / 0.5).exp();
            [196.0, 246.94, 293.66]
                .iter()
                .map(|f| partials(f * detune, t, 8))
                .sum::<f64>()
                * env
        })
        .collect()
}

/// A vowel-like tone: partials of a vibrato f0 weighted by formants at
/// 700, 1100 and 2600 Hz; sung in phrases from `start_s`, `phrase_s` on,
/// 0.5 s rest.
fn voice(rate: u32, f0: f64, start_s: f64, phrase_s: f64) -> Vec<f64> {
    let fs = f64::from(rate);
    let formant = |f: f64| {
        [(700.0, 1.0), (1100.0, 0.6), (2600.0, 0.3)]
            .iter()
            .map(|(c, a)| a * (-((f / c).ln() / 0.25).powi(2)).exp())
            .sum::<f64>()
    };
    let mut phase = 0.0;
    (0..frames(rate, SECONDS))
        .map(|i| {
            let t = i as f64 / fs;
            let f = f0 * (1.0 + 0.01 * (TAU * 5.0 * t).sin());
            phase += f / fs;
            let local = (t - start_s).rem_euclid(phrase_s + 0.5);
            if t < start_s || local > phrase_s {
                return 0.0;
            }
            let env = (local / 0.05).min(1.0) * ((phrase_s - local) / 0.1).min(1.0);
            let y: f64 = (1..=(4000.0 / f0) as usize)
                .map(|k| formant(f0 * k as f64) * (TAU * phase * k as f64).sin())
                .sum();
            y * env
        })
        .collect()
}

/// Keys: a sustained C-major pad with a slow attack; the right channel a
/// little detuned.
fn pad(rate: u32, detune: f64) -> Vec<f64> {
    let fs = f64::from(rate);
    (0..frames(rate, SECONDS))
        .map(|i| {
            let t = i as f64 / fs;
            let env = (t / 0.8).min(1.0);
            [261.63, 329.63, 392.0]
                .iter()
                .map(|f| partials(f * detune, t, 4))
                .sum::<f64>()
                * env
        })
        .collect()
}

/// A riser: noise swelling over 3 s.
fn riser(rate: u32, seed: u64) -> Vec<f64> {
    let fs = f64::from(rate);
    let mut noise = Noise(seed);
    (0..frames(rate, 3.0))
        .map(|i| noise.next() * (i as f64 / fs / 3.0).powi(2))
        .collect()
}

/// The band: mixed rates (48 kHz majority), mono and stereo, peaks −40 … −6 dBFS.
fn write_band(stems: &Path) {
    std::fs::create_dir_all(stems).unwrap();
    let (a, b) = (48_000, 44_100);
    write(&stems.join("01_kick_in.wav"), a, vec![kick(a)], -6.0);
    write(&stems.join("02_Snare.wav"), b, vec![snare(b)], -12.0);
    write(&stems.join("03 hh.wav"), a, vec![hat(a)], -40.0);
    write(&stems.join("04-OH_L.wav"), a, vec![overhead(a, 21)], -30.0);
    write(&stems.join("05-OH_R.wav"), a, vec![overhead(a, 22)], -30.0);
    write(&stems.join("06_bass.wav"), b, vec![bass(b)], -10.0);
    write(&stems.join("gtr_L.wav"), a, vec![guitar(a, 1.0)], -20.0);
    write(&stems.join("gtr_R.wav"), a, vec![guitar(a, 1.003)], -24.0);
    write(
        &stems.join("Lead Vox.wav"),
        b,
        vec![voice(b, 220.0, 0.25, 2.5)],
        -8.0,
    );
    let bgv = |f0, seed: f64| vec![voice(a, f0, 3.0, 2.4), voice(a, f0 * seed, 3.0, 2.4)];
    write(&stems.join("bgv_1.wav"), a, bgv(330.0, 1.002), -18.0);
    write(&stems.join("bgv_2.wav"), a, bgv(277.0, 0.998), -18.0);
    write(
        &stems.join("keys_pad.wav"),
        b,
        vec![pad(b, 1.0), pad(b, 1.002)],
        -16.0,
    );
    write(
        &stems.join("fx_riser.wav"),
        a,
        vec![riser(a, 31), riser(a, 32)],
        -40.0,
    );
    std::fs::write(stems.join("notes.txt"), "take 3 is the keeper\n").unwrap();
    std::fs::write(stems.join("._01_kick_in.wav"), b"\0\x05\x16\x07").unwrap();
}

fn meter_of(rate: u32, render: impl FnOnce(&mut Meter)) -> MeterReport {
    let mut o = MeterOptions::new(rate, 2);
    o.series = false;
    let mut meter = Meter::new(o).unwrap();
    render(&mut meter);
    meter.report()
}

/// Renders a loaded session into a meter.
fn render_report(loaded: &LoadedSession) -> MeterReport {
    let mut mixer = Mixer::build(loaded).unwrap_or_else(|e| panic!("{e}"));
    let rate = mixer.sample_rate_hz();
    meter_of(rate, |meter| {
        mixer
            .render(2, |b| {
                meter.process(b).unwrap();
                Ok(())
            })
            .unwrap();
    })
}

fn options() -> InitOptions {
    InitOptions {
        threads: 2,
        ..InitOptions::default()
    }
}

#[test]
fn names_from_file_names() {
    for (file, name) in [
        ("01_kick_in.wav", "Kick In"),
        ("gtr_L.wav", "Gtr L"),
        ("03 - Lead Vox.flac", "Lead Vox"),
        ("01-snare top.aiff", "Snare Top"),
        ("808_bass.wav", "808 Bass"),
        ("OH_R.wav", "OH R"),
        ("KICK_OUT.WAV", "Kick Out"),
        ("bgv_2.wav", "BGV 2"),
        ("Vox_DI_McCartney.wav", "Vox DI McCartney"),
        ("hi-hat.wav", "Hi Hat"),
        ("01.wav", "01"),
        ("kick", "Kick"),
    ] {
        assert_eq!(track_name(file), name, "{file}");
    }
}

#[test]
fn roles_from_names() {
    for (name, role) in [
        ("Kick In", Role::Kick),
        ("Kick Sub", Role::Kick),
        ("Bass Drum", Role::Kick),
        ("Snare Bottom", Role::Snare),
        ("Tom 2", Role::Toms),
        ("Floor Toms", Role::Toms),
        ("HH", Role::Cymbals),
        ("Hi Hat", Role::Cymbals),
        ("Crash", Role::Cymbals),
        ("OH L", Role::Overheads),
        ("Overheads", Role::Overheads),
        ("Room Mono", Role::Room),
        ("Shaker", Role::Percussion),
        ("Perc 2", Role::Percussion),
        ("Bass DI", Role::Bass),
        ("808", Role::Bass),
        ("Synth Bass", Role::Bass),
        ("Sub", Role::Bass),
        ("Gtr L", Role::Guitar),
        ("Acoustic Guitar", Role::Guitar),
        ("Gtr2", Role::Guitar),
        ("Keys Pad", Role::Keys),
        ("Rhodes", Role::Keys),
        ("Piano", Role::Keys),
        ("Organ", Role::Keys),
        ("Lead Vox", Role::LeadVocal),
        ("LeadVocal", Role::LeadVocal),
        ("Voice", Role::LeadVocal),
        ("Vox Double", Role::BackingVocal),
        ("BV", Role::BackingVocal),
        ("BGV 1", Role::BackingVocal),
        ("Choir", Role::BackingVocal),
        ("FX Riser", Role::Other),
        ("Strings", Role::Other),
    ] {
        assert_eq!(classify(name), role, "{name}");
    }
}

#[test]
fn pans_of_pairs_doubles_and_centre_roles() {
    let tracks: Vec<(String, Role)> = [
        "Kick",
        "Snare",
        "OH L",
        "OH R",
        "Gtr L",
        "Gtr R",
        "Gtr 1",
        "Gtr 2",
        "Gtr Double",
        "Lead Vox",
        "Vox 2",
        "BGV 1",
        "BGV 2",
        "Bass L",
        "Keys",
    ]
    .iter()
    .map(|n| (n.to_string(), classify(n)))
    .collect();
    let pans = import::pans(&tracks);
    let expected = [
        0.0, 0.0, -0.9, 0.9, -0.8, 0.8, -0.5, 0.0, 0.5, 0.0, 0.0, -0.5, 0.5, 0.0, 0.0,
    ];
    for ((name, _), (p, e)) in tracks.iter().zip(pans.iter().zip(expected)) {
        assert_eq!(*p, e, "{name}");
    }
}

#[test]
fn a_band_imports_to_a_session_that_renders_a_sensible_rough_mix() {
    let dir = temp_dir("band");
    let stems = dir.join("stems");
    write_band(&stems);
    let session_path = dir.join("session.toml");
    let plan = import::plan(&stems, &session_path, &options()).unwrap_or_else(|e| panic!("{e}"));
    import::write_session(&plan, false).unwrap();

    // Names, files, groups, pans and filters.
    let expected = [
        // name, file, bus, pan, high-pass Hz
        ("Kick In", "01_kick_in.wav", "Drums", 0.0, 30.0),
        ("Snare", "02_Snare.wav", "Drums", 0.0, 80.0),
        ("HH", "03 hh.wav", "Drums", 0.0, 200.0),
        ("OH L", "04-OH_L.wav", "Drums", -0.9, 200.0),
        ("OH R", "05-OH_R.wav", "Drums", 0.9, 200.0),
        ("Bass", "06_bass.wav", "Bass Bus", 0.0, 30.0),
        ("BGV 1", "bgv_1.wav", "Vocals", -0.5, 100.0),
        ("BGV 2", "bgv_2.wav", "Vocals", 0.5, 100.0),
        ("FX Riser", "fx_riser.wav", "Other", 0.0, 60.0),
        ("Gtr L", "gtr_L.wav", "Guitars", -0.8, 90.0),
        ("Gtr R", "gtr_R.wav", "Guitars", 0.8, 90.0),
        ("Keys Pad", "keys_pad.wav", "Keys", 0.0, 60.0),
        ("Lead Vox", "Lead Vox.wav", "Vocals", 0.0, 80.0),
    ];
    let loaded = LoadedSession::load(&session_path).unwrap_or_else(|e| panic!("{e}"));
    let s = &loaded.session;
    assert_eq!(
        *s, plan.session,
        "the file reads back as the planned session"
    );
    let text = std::fs::read_to_string(&session_path).unwrap();
    assert!(
        text.contains(
            "inserts = [{ id = \"hpf\", hpf = { freq_hz = 30.0, slope_db_oct = 12.0 } }]"
        ),
        "{text}"
    );
    assert_eq!(s.tracks.len(), expected.len());
    for (t, (name, file, bus, pan, hpf)) in s.tracks.iter().zip(expected) {
        assert_eq!(t.name, name);
        let source = t
            .source
            .clone()
            .unwrap_or_else(|| t.clips[0].source.clone());
        assert_eq!(source, format!("stems/{file}"), "{name}");
        assert_eq!(t.bus.as_deref(), Some(bus), "{name}");
        assert_eq!(t.pan, pan, "{name}");
        match &t.inserts[..] {
            [insert] => match &insert.processor {
                ProcessorSpec::Hpf(f) => assert_eq!(f.freq_hz, hpf, "{name}"),
                other => panic!("{name}: {other:?}"),
            },
            other => panic!("{name}: {other:?}"),
        }
    }
    let buses: Vec<&str> = s.buses.iter().map(|b| b.name.as_str()).collect();
    assert_eq!(
        buses,
        ["Drums", "Bass Bus", "Guitars", "Keys", "Vocals", "Other"]
    );
    assert!(
        s.buses.iter().all(|b| b.bus.is_none()),
        "buses feed the master"
    );
    assert_eq!(s.project.sample_rate_hz, 48_000, "most stems are 48 kHz");
    assert_eq!(s.project.tempo_bpm, 120.0);
    assert_eq!(s.project.name, "stems");
    assert!(
        plan.skipped.iter().any(|k| k.path.ends_with("notes.txt")),
        "{:?}",
        plan.skipped
    );
    assert!(
        plan.skipped
            .iter()
            .any(|k| k.path.ends_with("._01_kick_in.wav"))
    );

    // Gains: fader + trim = the role's target (shared by pairs) − the stem's
    // loudness, measured here independently of `init`.
    for (t, p) in s.tracks.iter().zip(&plan.tracks) {
        let (info, audio) = read_all(&stems.join(p.path.file_name().unwrap())).unwrap();
        let mut o = MeterOptions::new(info.sample_rate_hz, info.channels);
        o.series = false;
        let mut meter = Meter::new(o).unwrap();
        meter.process(audio.planar()).unwrap();
        let measured = meter.report().integrated_lufs;
        assert_eq!(p.level.method, LoudnessMethod::Integrated, "{}", t.name);
        assert!(
            (p.level.loudness_lufs - measured).abs() < 1e-9,
            "{}",
            t.name
        );
        let share = match t.name.as_str() {
            "OH L" | "OH R" | "Gtr L" | "Gtr R" | "BGV 1" | "BGV 2" => 3.0,
            _ => 0.0,
        };
        let target = p.role.rule().target_lufs - share;
        assert!((p.target_lufs - target).abs() < 0.06, "{}", t.name);
        let clip_gain = t.clips.first().map_or(0.0, |c| c.gain_db);
        assert_eq!(clip_gain, p.trim_db);
        let total = t.gain_db + clip_gain;
        // Stereo doubles at ±0.5 lose 2.04 dB to the balance control.
        let makeup = if p.channels == 2 && t.pan.abs() == 0.5 {
            -10.0 * ((1.0 + 0.25) / 2.0f64).log10()
        } else {
            0.0
        };
        assert!((p.balance_loss_db - makeup).abs() < 1e-9, "{}", t.name);
        assert!(
            (total - (target - measured + makeup)).abs() <= 0.11,
            "{}: gain {total} for target {target} from {measured}",
            t.name
        );
        assert!(t.gain_db <= 24.0);
    }
    // The −40 dBFS hat needs more than the fader's +24 dB: the rest is a trim.
    let hat = &plan.tracks[2];
    assert!(hat.trim_db > 0.0 && hat.gain_db == 24.0, "{hat:?}");

    // Acceptance: render the written file as it is.
    let out = dir.join("mix.wav");
    let summary = render_to_file(
        &loaded,
        &RenderOptions {
            output: out.clone(),
            format: FileFormat::Wav,
            encoding: Encoding::Float32,
            threads: 2,
            stems_dir: None,
        },
        |_, _| {},
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let r = &summary.report;
    assert!(
        (-24.0..=-14.0).contains(&r.integrated_lufs),
        "mix at {} LUFS",
        r.integrated_lufs
    );
    assert!(r.sample_peak_dbfs <= -1.0, "peak {}", r.sample_peak_dbfs);
    assert!(
        (r.integrated_lufs - plan.mix.loudness_lufs).abs() < 1e-6
            && (r.sample_peak_dbfs - plan.mix.sample_peak_dbfs).abs() < 1e-6,
        "init predicted {:?}, the render gave {} LUFS / {} dBFS",
        plan.mix,
        r.integrated_lufs,
        r.sample_peak_dbfs
    );
    assert!((r.integrated_lufs - -18.0).abs() < 0.1 || r.sample_peak_dbfs > -1.2);
    let (_, written) = read_all(&out).unwrap();
    let file_peak = written
        .planar()
        .iter()
        .flatten()
        .fold(0.0f64, |m, x| m.max(x.abs()));
    assert!(20.0 * file_peak.log10() <= -1.0, "file peak {file_peak}");
    let longest = plan.mix.longest_source_s;
    assert!((longest - SECONDS).abs() < 0.01, "{longest}");
    let length_s = summary.frames as f64 / f64::from(summary.sample_rate_hz);
    assert!(length_s <= longest + 30.0, "{length_s} s");
    assert!(length_s >= longest - 0.01, "{length_s} s");

    // Every track audible: each soloed (mutes the others; its strip, bus and
    // the master still apply) reaches the master above −60 dBFS peak and
    // above −60 LUFS.
    for i in 0..loaded.session.tracks.len() {
        let mut solo = loaded.clone();
        solo.session.tracks[i].solo = true;
        let r = render_report(&solo);
        let name = &solo.session.tracks[i].name;
        assert!(
            r.sample_peak_dbfs > -60.0,
            "{name}: peak {}",
            r.sample_peak_dbfs
        );
        let (lufs, _) = import::representative_loudness(&r);
        assert!(lufs > -60.0, "{name}: {lufs} LUFS");
        // And near where init put it (the high-pass and pan law move it a little).
        let estimate = plan.tracks[i].in_mix_lufs(plan.mix.master_gain_db);
        assert!(
            (lufs - estimate).abs() < 2.0,
            "{name}: {lufs} vs {estimate}"
        );
    }
}

#[test]
fn a_peaky_stem_lowers_the_master_to_the_peak_ceiling_and_says_so() {
    let dir = temp_dir("peaky");
    let rate = 48_000;
    // Single-sample clicks at full scale: loud peaks, almost no loudness.
    let mut clicks = vec![0.0; frames(rate, 4.0)];
    for k in (0..clicks.len()).step_by(rate as usize / 2) {
        clicks[k] = 1.0;
    }
    write(&dir.join("click.wav"), rate, vec![clicks], 0.0);
    write(&dir.join("pad.wav"), rate, vec![pad(rate, 1.0)], -12.0);
    let session_path = dir.join("song.toml");
    let plan = import::plan(&dir, &session_path, &options()).unwrap_or_else(|e| panic!("{e}"));
    assert!(plan.mix.sample_peak_dbfs <= -1.0, "{:?}", plan.mix);
    assert!(plan.mix.renders >= 2, "{:?}", plan.mix);
    assert!(plan.mix.loudness_lufs < -18.5, "{:?}", plan.mix);
    if plan.mix.loudness_lufs < -24.0 {
        assert!(
            plan.warnings.iter().any(|w| w.contains("outside -24")),
            "{:?}",
            plan.warnings
        );
    }
    import::write_session(&plan, false).unwrap();
    let loaded = LoadedSession::load(&session_path).unwrap_or_else(|e| panic!("{e}"));
    let r = render_report(&loaded);
    assert!(r.sample_peak_dbfs <= -1.0, "{}", r.sample_peak_dbfs);
}

#[test]
fn names_stay_unique_and_pairs_share_their_loudness() {
    let dir = temp_dir("unique");
    let rate = 44_100;
    write(&dir.join("kick.wav"), rate, vec![kick(rate)], -6.0);
    write(&dir.join("kick.flac"), rate, vec![kick(rate)], -6.0);
    write(
        &dir.join("Vocals.wav"),
        rate,
        vec![voice(rate, 200.0, 0.0, 2.0)],
        -6.0,
    );
    let plan =
        import::plan(&dir, &dir.join("s.toml"), &options()).unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<&str> = plan.tracks.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["Kick", "Kick 2", "Vocals"]);
    let buses: Vec<&str> = plan.session.buses.iter().map(|b| b.name.as_str()).collect();
    assert_eq!(buses, ["Drums", "Vocals Bus"]);
    // Two kick mics share the kick's −20 LUFS: −23 each, both centred.
    for t in &plan.tracks[..2] {
        assert!((t.target_lufs - -23.0).abs() < 0.06, "{t:?}");
        assert_eq!(t.pan, 0.0);
    }
    assert_eq!(plan.session.project.sample_rate_hz, 44_100);
    assert_eq!(plan.tracks[0].source, "kick.flac");
}

#[test]
fn subfolders_need_recursive() {
    let dir = temp_dir("recursive");
    let stems = dir.join("stems");
    let rate = 48_000;
    write(
        &stems.join("drums").join("snare.wav"),
        rate,
        vec![snare(rate)],
        -10.0,
    );
    write(&stems.join("bass.wav"), rate, vec![bass(rate)], -10.0);
    let session_path = dir.join("out").join("session.toml");
    std::fs::create_dir_all(session_path.parent().unwrap()).unwrap();
    let flat = import::plan(&stems, &session_path, &options()).unwrap();
    assert_eq!(flat.tracks.len(), 1);
    assert!(
        flat.skipped
            .iter()
            .any(|s| s.reason.contains("--recursive"))
    );
    let deep = import::plan(
        &stems,
        &session_path,
        &InitOptions {
            recursive: true,
            tempo_bpm: 96.0,
            ..options()
        },
    )
    .unwrap();
    let sources: Vec<&str> = deep.tracks.iter().map(|t| t.source.as_str()).collect();
    assert_eq!(sources, ["../stems/bass.wav", "../stems/drums/snare.wav"]);
    assert_eq!(deep.session.project.tempo_bpm, 96.0);
    import::write_session(&deep, false).unwrap();
    let loaded = LoadedSession::load(&session_path).unwrap_or_else(|e| panic!("{e}"));
    let r = render_report(&loaded);
    assert!(
        (-24.0..=-14.0).contains(&r.integrated_lufs),
        "{}",
        r.integrated_lufs
    );

    // Only a subfolder: the error says where to look.
    let only_sub = dir.join("only-sub");
    write(
        &only_sub.join("inner").join("bass.wav"),
        rate,
        vec![bass(rate)],
        -10.0,
    );
    let err = import::plan(&only_sub, &session_path, &options()).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("no audio files") && msg.contains("--recursive"),
        "{msg}"
    );
}

#[test]
fn bad_input_is_named() {
    let dir = temp_dir("bad");
    let session_path = dir.join("session.toml");

    let missing = dir.join("no-such-folder");
    let err = import::plan(&missing, &session_path, &options()).unwrap_err();
    assert!(matches!(err, EngineError::Import { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("no-such-folder") && msg.contains("not found"),
        "{msg}"
    );

    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    std::fs::write(empty.join("readme.txt"), "hello").unwrap();
    std::fs::write(empty.join("blank.dat"), "").unwrap();
    let msg = import::plan(&empty, &session_path, &options())
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("empty") && msg.contains("no audio files"),
        "{msg}"
    );

    let file = empty.join("readme.txt");
    let msg = import::plan(&file, &session_path, &options())
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("readme.txt") && msg.contains("not a folder"),
        "{msg}"
    );

    let broken = dir.join("broken");
    std::fs::create_dir_all(&broken).unwrap();
    write(&broken.join("kick.wav"), 48_000, vec![kick(48_000)], -6.0);
    std::fs::write(broken.join("snare.wav"), b"RIFF\x10\0\0\0WAVEjunkjunkjunk").unwrap();
    let msg = import::plan(&broken, &session_path, &options())
        .unwrap_err()
        .to_string();
    assert!(msg.contains("snare.wav"), "{msg}");

    let nowhere = dir.join("no-such-dir").join("session.toml");
    let ok = dir.join("ok");
    write(&ok.join("kick.wav"), 48_000, vec![kick(48_000)], -6.0);
    let msg = import::plan(&ok, &nowhere, &options())
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("no-such-dir") && msg.contains("not found"),
        "{msg}"
    );

    // Overwriting: refused without force; with force, the session but never a stem.
    let plan = import::plan(&ok, &session_path, &options()).unwrap();
    std::fs::write(&session_path, "old").unwrap();
    let msg = import::write_session(&plan, false).unwrap_err().to_string();
    assert!(
        msg.contains("already exists") && msg.contains("--force"),
        "{msg}"
    );
    assert_eq!(std::fs::read_to_string(&session_path).unwrap(), "old");
    import::write_session(&plan, true).unwrap();
    assert!(LoadedSession::load(&session_path).is_ok());
    let stem = ok.join("kick.wav");
    let before = std::fs::read(&stem).unwrap();
    let mut onto_stem = plan.clone();
    onto_stem.session_path = stem.clone();
    let msg = import::write_session(&onto_stem, true)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("kick.wav") && msg.contains("refusing to overwrite"),
        "{msg}"
    );
    assert_eq!(std::fs::read(&stem).unwrap(), before);
}
