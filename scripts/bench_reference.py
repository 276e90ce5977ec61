#!/usr/bin/env python3
"""Helper of scripts/bench_reference.sh: reference matching against
Matchering (pip) — the quality comparison on generated mix/reference pairs
and the inputs, peer commands and tables of the speed comparison.

Audio is generated with `mixmaster demo`, `mixmaster mix`, sox and ffmpeg
(and the sox stems of scripts/bench_mix.py for a second song); it is
analysed with numpy/scipy and measured with ffmpeg's `ebur128=peak=true`.

Subcommands (see `bench_reference.py SUBCOMMAND -h`):
  pairs       generate the sources and the mix/reference pairs (cached)
  quality     master every pair with mixmaster and Matchering, measure the
              third-octave deviation from the reference, loudness and true
              peak of everything; JSON + Markdown tables
  speed-inputs  the long mix and its reference for the speed part (cached)
  matchering  run Matchering 2 on one pair (what a user runs)
  loudnorm    ffmpeg two-pass loudnorm (measure, then linear normalisation)
  check       loudness and true peak of the speed run's outputs
  report      Markdown table of the speed run

Deviation measure (the `quality` subcommand): per file, the long-term
average spectrum (Welch, Hann, 2^16 points, 50 % overlap) of L+R (the mean
power of L and R), of mid M = (L+R)/2 and of side S = (L-R)/2, summed into
the 28 one-third-octave bands of IEC 61260-1 with base-10 centres
10^(n/10) kHz, n = -15 .. 12 (nominal 31.5 Hz .. 16 kHz; band edges at
the centre x 10^(+-1/20)). Each file's band levels (dB) are normalised by
their mean over the bands, so loudness differences do not count; the
deviation is the RMS (and the maximum) over bands of result - reference.
Bands where the reference is more than 60 dB below its loudest band are
left out (only the side of a mono bass reaches that). Width is the
unweighted side/mid power ratio over the same bands.
"""

import argparse
import json
import os
import re
import shlex
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # bench_mix (the second song)
sys.dont_write_bytecode = True  # no __pycache__ in scripts/

CEILING_DBTP = -1.0  # the Spotify preset's ceiling, and the issue's
SPOTIFY_LUFS = -14.0
FFT_POINTS = 1 << 16
BAND_FLOOR_DB = 60.0
# IEC 61260-1:2014 base-10 one-third-octave centres, 31.5 Hz .. 16 kHz.
BAND_CENTRES_HZ = [1000.0 * 10 ** (n / 10) for n in range(-15, 13)]
BAND_NAMES = ["31.5", "40", "50", "63", "80", "100", "125", "160", "200", "250", "315", "400",
              "500", "630", "800", "1k", "1.25k", "1.6k", "2k", "2.5k", "3.15k", "4k", "5k", "6.3k",
              "8k", "10k", "12.5k", "16k"]


def run(argv, **kw):
    r = subprocess.run(argv, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        sys.exit(f"failed ({r.returncode}): {shlex.join(argv)}\n{r.stderr[-3000:]}")
    return r


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# Sources and pairs
# --------------------------------------------------------------------------

# The demo song's track gains (dB) for the two remixes of pair "remix".
# Vocal-forward: lead and pad up, drums and bass down; drum-forward: the
# other way round.
REMIX_GAINS = {
    "lead-forward": {"Kick": -7, "Snare": -8, "Hats": -12, "Bass": -7, "Pad": -4, "Lead": -2},
    "drum-forward": {"Kick": 0, "Snare": -1, "Hats": -4, "Bass": -1, "Pad": -12, "Lead": -10},
}

# The second song: the first eight stems of scripts/bench_mix.py (kick,
# bass, hat, keys, snare, lead, pad, texture; sox-generated, 120 bpm in a
# minor key, another arrangement and other sounds) summed with these gains.
OTHER_SONG_VOLUMES = [0.55, 0.5, 0.2, 0.3, 0.4, 0.3, 0.25, 0.12]

LOUD_FFMPEG = ("acompressor=threshold=-24dB:ratio=3:attack=10:release=120:makeup=3,"
               "alimiter=level_in=2.2:limit=0.93:attack=2:release=60:level=false")

# Each pair: a mix and a reference, each a source and a transform.
# sox effects end with a peak normalisation (the deviation ignores level);
# "ffmpeg" transforms are an -af graph. Sources: demo (the `mixmaster demo`
# mix), lead-forward / drum-forward (the demo stems remixed), other (the
# second song).
PAIRS = [
    {"name": "dark-bright",
     "about": "same song; mix: high shelf -6 dB at 3 kHz and a 12 dB/oct low-pass at 9 kHz; "
              "reference: high shelf +4 dB at 6 kHz and +2 dB bell at 2.5 kHz",
     "mix": ("demo", "sox", ["treble", "-6", "3000", "lowpass", "9000", "gain", "-n", "-3"]),
     "ref": ("demo", "sox", ["treble", "4", "6000", "equalizer", "2500", "2o", "2", "gain", "-n", "-3"])},
    {"name": "thin-bassy",
     "about": "same song; mix: low shelf -8 dB at 150 Hz; reference: low shelf +5 dB at 90 Hz and "
              "-2 dB bell at 300 Hz",
     "mix": ("demo", "sox", ["bass", "-8", "150", "gain", "-n", "-3"]),
     "ref": ("demo", "sox", ["bass", "5", "90", "equalizer", "300", "1o", "-2", "gain", "-n", "-3"])},
    {"name": "narrow-wide",
     "about": "same song; mix: side x0.3 (-10.5 dB, L' = 0.65 L + 0.35 R); reference: side x1.58 "
              "(+4 dB, L' = 1.29 L - 0.29 R)",
     "mix": ("demo", "sox", ["remix", "1v0.65,2v0.35", "1v0.35,2v0.65", "gain", "-n", "-3"]),
     "ref": ("demo", "sox", ["remix", "1v1.29,2v-0.29", "1v-0.29,2v1.29", "gain", "-n", "-3"])},
    {"name": "quiet-loud",
     "about": "same song; mix: the demo 12 dB down (dynamic, about -30 LUFS); reference: "
              "compressed and limited with ffmpeg (acompressor 3:1, alimiter) to about -8 LUFS",
     "mix": ("demo", "sox", ["gain", "-12"]),
     "ref": ("demo", "ffmpeg", LOUD_FFMPEG)},
    {"name": "remix",
     "about": "same song, two mixes of its stems (`mixmaster mix`); mix: lead and pad forward, "
              "drums and bass back; reference: drums and bass forward, pad and lead back, "
              "+3 dB high shelf at 8 kHz",
     "mix": ("lead-forward", "sox", ["gain", "-n", "-3"]),
     "ref": ("drum-forward", "sox", ["treble", "3", "8000", "gain", "-n", "-3"])},
    {"name": "other-song",
     "about": "another song as the reference: mix: the demo as rendered; reference: the sox "
              "song of bench_mix.py (8 stems), compressed and limited to about -8 LUFS",
     "mix": ("demo", "sox", ["gain", "-n", "-3"]),
     "ref": ("other", "ffmpeg", LOUD_FFMPEG)},
    {"name": "other-song-dark",
     "about": "the other way round, darker and narrower: mix: the sox song with a -5 dB high "
              "shelf at 4 kHz and side x0.5; reference: the demo, +3 dB high shelf at 5 kHz",
     "mix": ("other", "sox", ["treble", "-5", "4000", "remix", "1v0.75,2v0.25", "1v0.25,2v0.75",
                              "gain", "-n", "-3"]),
     "ref": ("demo", "sox", ["treble", "3", "5000", "gain", "-n", "-3"])},
]


def render_demo(mm, directory, seconds):
    """`mixmaster demo` rendered once per length; returns its folder."""
    d = os.path.join(directory, f"demo-{seconds:g}s")
    if not os.path.exists(os.path.join(d, "mix.wav")):
        log(f"  mixmaster demo --seconds {seconds:g}")
        run([mm, "demo", "--seconds", f"{seconds:g}", "-o", d])
    return d


def remix(mm, demo_dir, name):
    """The demo session with other track gains, rendered by `mixmaster mix`."""
    out = os.path.join(demo_dir, f"{name}.wav")
    if os.path.exists(out):
        return out
    text = open(os.path.join(demo_dir, "session.toml")).read()
    blocks = text.split("[[track]]")
    for i, b in enumerate(blocks[1:], 1):
        track = re.search(r'name = "([^"]+)"', b).group(1)
        blocks[i] = re.sub(r"(?m)^gain_db = .*$", f"gain_db = {REMIX_GAINS[name][track]}", b, count=1)
    session = os.path.join(demo_dir, f"session-{name}.toml")
    with open(session, "w") as f:
        f.write("[[track]]".join(blocks))
    log(f"  mixmaster mix {os.path.basename(session)}")
    run([mm, "mix", session, "-o", out + ".part.wav"])
    os.replace(out + ".part.wav", out)
    return out


def other_song(directory, seconds):
    import bench_mix
    out = os.path.join(directory, f"other-{seconds:g}s.wav")
    if os.path.exists(out):
        return out
    stems_dir = os.path.join(directory, "other-stems")
    os.makedirs(stems_dir, exist_ok=True)
    stems = []
    for i in range(len(OTHER_SONG_VOLUMES)):
        p = bench_mix.stem_path(stems_dir, i, seconds)
        if not os.path.exists(p):
            log(f"  stem {os.path.basename(p)}")
            bench_mix.make_stem(i, seconds, p)
        stems.append(p)
    argv = ["sox", "-V1", "-m"]
    for v, p in zip(OTHER_SONG_VOLUMES, stems):
        argv += ["-v", str(v), p]
    run(argv + ["-e", "floating-point", "-b", "32", out + ".part.wav", "gain", "-n", "-3"])
    os.replace(out + ".part.wav", out)
    return out


def sources(mm, directory, seconds):
    demo = render_demo(mm, directory, seconds)
    return {"demo": os.path.join(demo, "mix.wav"),
            "lead-forward": remix(mm, demo, "lead-forward"),
            "drum-forward": remix(mm, demo, "drum-forward"),
            "other": other_song(directory, seconds)}


def transform(src, kind, effects, out):
    """24-bit 48 kHz WAV of `src` through sox effects or an ffmpeg graph."""
    if os.path.exists(out):
        return
    part = out + ".part.wav"
    if kind == "sox":
        run(["sox", "-V1", src, "-b", "24", "-e", "signed-integer", part] + effects)
    else:
        run(["ffmpeg", "-v", "error", "-y", "-i", src, "-af", effects, "-c:a", "pcm_s24le", part])
    os.replace(part, out)


def cmd_pairs(a):
    os.makedirs(a.dir, exist_ok=True)
    src = sources(a.mixmaster, a.dir, a.seconds)
    out = []
    for p in PAIRS:
        if a.only and p["name"] not in a.only:
            continue
        files = {}
        for role in ("mix", "ref"):
            s, kind, effects = p[role]
            f = os.path.join(a.dir, f"{p['name']}-{role}-{a.seconds:g}s.wav")
            transform(src[s], kind, effects, f)
            files[role] = f
        out.append({"name": p["name"], "about": p["about"], **files,
                    "mix_transform": describe(p["mix"]), "ref_transform": describe(p["ref"])})
    json.dump(out, open(a.out, "w"), indent=1)
    log(f"  {len(out)} pairs: {a.out}")


def describe(t):
    s, kind, effects = t
    return f"{s}: " + (f"sox {' '.join(effects)}" if kind == "sox" else f"ffmpeg -af {effects}")


# --------------------------------------------------------------------------
# Measures
# --------------------------------------------------------------------------

def decode(path):
    """(frames x 2 float64 array, rate) through ffmpeg (any WAV flavour)."""
    import numpy as np
    rate = int(run(["ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries",
                    "stream=sample_rate", "-of", "csv=p=0", path]).stdout.strip())
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", path, "-ac", "2", "-f", "f32le",
                          "-c:a", "pcm_f32le", "-"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, dtype="<f4").reshape(-1, 2).astype(np.float64), rate


def band_powers(path):
    """Third-octave band powers of L+R (mean of L and R), mid and side."""
    import numpy as np
    from scipy.signal import welch
    x, rate = decode(path)
    m = 0.5 * (x[:, 0] + x[:, 1])
    s = 0.5 * (x[:, 0] - x[:, 1])
    sig = np.stack([x[:, 0], x[:, 1], m, s], axis=1)
    n = min(FFT_POINTS, len(sig))
    f, pxx = welch(sig, fs=rate, window="hann", nperseg=n, noverlap=n // 2, detrend=False,
                   axis=0)
    df = f[1] - f[0]
    out = {"stereo": [], "mid": [], "side": []}
    for c in BAND_CENTRES_HZ:
        sel = (f >= c * 10 ** -0.05) & (f < c * 10 ** 0.05)
        p = pxx[sel].sum(axis=0) * df
        out["stereo"].append(0.5 * (p[0] + p[1]))
        out["mid"].append(p[2])
        out["side"].append(p[3])
    return out, rate


def levels_db(powers):
    import numpy as np
    return 10 * np.log10(np.maximum(np.asarray(powers), 1e-30))


def deviation(result, reference):
    """RMS and max |result - reference| over the bands, each file's band
    levels minus their mean; bands where the reference is more than
    BAND_FLOOR_DB below its loudest band are left out."""
    import numpy as np
    r, q = levels_db(result), levels_db(reference)
    use = q >= q.max() - BAND_FLOOR_DB
    d = (r[use] - r[use].mean()) - (q[use] - q[use].mean())
    return {"rms_db": float(np.sqrt(np.mean(d ** 2))), "max_db": float(np.abs(d).max()),
            "bands": int(use.sum()),
            "per_band_db": [round(float(v), 2) if u else None
                            for v, u in zip(_expand(d, use), use)]}


def _expand(d, use):
    it = iter(d)
    return [next(it) if u else 0.0 for u in use]


def width_db(bands):
    import numpy as np
    return float(10 * np.log10(sum(bands["side"]) / sum(bands["mid"])))


def ebur128(path):
    """Integrated loudness (LUFS) and true peak (dBTP) by ffmpeg."""
    err = run(["ffmpeg", "-hide_banner", "-nostats", "-i", path, "-af", "ebur128=peak=true",
               "-f", "null", "-"]).stderr
    summary = err[err.rindex("Summary:"):]
    lufs = float(re.search(r"I:\s+(-?[\d.]+|-inf) LUFS", summary).group(1))
    tp = float(re.search(r"True peak:\s+Peak:\s+(-?[\d.]+|-inf) dBFS", summary).group(1))
    return lufs, tp


def measure(path, ref_bands):
    bands, rate = band_powers(path)
    lufs, tp = ebur128(path)
    out = {"file": path, "rate_hz": rate, "lufs": lufs, "true_peak_dbtp": tp,
           "width_db": width_db(bands)}
    if ref_bands is not None:
        for k in ("stereo", "mid", "side"):
            out[f"dev_{k}"] = deviation(bands[k], ref_bands[k])
    return out, bands


# --------------------------------------------------------------------------
# Quality
# --------------------------------------------------------------------------

def matchering_argv(target, reference, out):
    return [sys.executable, os.path.abspath(__file__), "matchering", target, reference, out]


def cmd_matchering(a):
    import matchering as mg
    mg.process(target=a.target, reference=a.reference, results=[mg.pcm24(a.out)])


def tool_runs(pair, out_dir, mm):
    """(label, argv, output) of every tool on one pair."""
    base = os.path.join(out_dir, pair["name"])
    mix, ref = pair["mix"], pair["ref"]
    return [
        ("mixmaster --target spotify",
         [mm, "master", mix, "-o", f"{base}-ours-spotify.wav", "--target", "spotify", "--reference", ref],
         f"{base}-ours-spotify.wav"),
        ("mixmaster (reference loudness)",
         [mm, "master", mix, "-o", f"{base}-ours-refl.wav", "--reference", ref],
         f"{base}-ours-refl.wav"),
        ("Matchering", matchering_argv(mix, ref, f"{base}-matchering.wav"), f"{base}-matchering.wav"),
    ]


def cmd_quality(a):
    pairs = json.load(open(a.pairs))
    out_dir = os.path.join(a.dir, "out")
    os.makedirs(out_dir, exist_ok=True)
    results = []
    for pair in pairs:
        log(f"pair {pair['name']}")
        ref, ref_bands = measure(pair["ref"], None)
        mix, _ = measure(pair["mix"], ref_bands)
        rows = [("mix (before)", mix, None), ("reference", ref, None)]
        for label, argv, out in tool_runs(pair, out_dir, a.mixmaster):
            t = time.time()
            r = subprocess.run(argv, capture_output=True, text=True)
            wall = time.time() - t
            if r.returncode != 0 and label.startswith("mixmaster") and "out of reach" in r.stderr:
                # A loud reference's loudness may be more than the limiter
                # can reach (within --max-reduction, default 12 dB):
                # mixmaster refuses and writes nothing. Recorded as such.
                refused = r.stderr.strip().splitlines()[-1]
                log(f"  {label}: refused: {refused}")
                rows.append((label, {"refused": refused}, argv))
                continue
            if r.returncode != 0:
                sys.exit(f"failed ({r.returncode}): {shlex.join(argv)}\n{r.stderr[-3000:]}")
            m, _ = measure(out, ref_bands)
            m["wall_s"] = wall
            if label.startswith("mixmaster"):
                # What the match changed (the plan's summary), from the log.
                m["notes"] = json.load(open(out + ".json")).get("notes", [])
            rows.append((label, m, argv))
            log(f"  {label}: {wall:.1f} s, deviation {m['dev_stereo']['rms_db']:.2f} dB rms, "
                f"{m['lufs']:.1f} LUFS, {m['true_peak_dbtp']:.1f} dBTP")
        results.append({"pair": pair, "rows": [{"label": lb, **m, "argv": argv}
                                               for lb, m, argv in rows]})
    meta = {"matchering": _version("matchering"), "numpy": _version("numpy"),
            "scipy": _version("scipy"), "ffmpeg": run(["ffmpeg", "-version"]).stdout.split()[2],
            "sox": run(["sox", "--version"]).stdout.strip().split()[-1],
            "mixmaster": run([a.mixmaster, "--version"]).stdout.strip()}
    json.dump({"meta": meta, "results": results}, open(a.out, "w"), indent=1)
    print(quality_markdown(meta, results))


def _version(module):
    try:
        from importlib.metadata import version
        return version(module)
    except Exception:
        return "?"


def fmt_dev(d):
    return f"{d['rms_db']:.2f} / {d['max_db']:.1f}"


def quality_markdown(meta, results):
    lines = [f"Versions: {meta['mixmaster']}, Matchering {meta['matchering']}, ffmpeg "
             f"{meta['ffmpeg']}, SoX {meta['sox']}, numpy {meta['numpy']}, scipy {meta['scipy']}.",
             ""]
    summary = []
    for res in results:
        p = res["pair"]
        lines += [f"**{p['name']}** — {p['about']}", "",
                  "| file | LUFS | true peak dBTP | L+R dev. rms / max dB | mid dev. rms / max | "
                  "side dev. rms / max | S/M dB |",
                  "|---|---|---|---|---|---|---|"]
        by = {r["label"]: r for r in res["rows"]}
        for r in res["rows"]:
            label = f"**{r['label']}**" if r["label"].startswith("mixmaster") else r["label"]
            if "refused" in r:
                lines.append(f"| {label} | refused: {r['refused'].split(': ', 2)[-1]} ||||||")
                continue
            over = r["true_peak_dbtp"] > CEILING_DBTP and r["label"] not in ("mix (before)", "reference")
            tp = f"{r['true_peak_dbtp']:+.1f}" + (" **over**" if over else "")
            devs = ([fmt_dev(r[f"dev_{k}"]) for k in ("stereo", "mid", "side")]
                    if "dev_stereo" in r else ["—"] * 3)
            lines.append(f"| {label} | {r['lufs']:.1f} | {tp} | " + " | ".join(devs) +
                         f" | {r['width_db']:.1f} |")
        plan = [n.removeprefix("reference: ") for n in by["mixmaster --target spotify"].get("notes", [])
                if n.startswith("reference: t") or n.startswith("reference: w")]
        if plan:
            lines += ["", "mixmaster's match: " + "; ".join(plan) + "."]
        lines.append("")
        summary.append({"name": p["name"], "before": by["mix (before)"],
                        "ours": by["mixmaster --target spotify"],
                        "ours_l": by["mixmaster (reference loudness)"], "mg": by["Matchering"]})
    lines += ["Summary (L+R deviation from the reference, dB rms; true peak dBTP by ffmpeg; "
              f"ceiling {CEILING_DBTP:.1f} dBTP):", "",
              "| pair | before | mixmaster spotify | mixmaster ref. loudness | Matchering | "
              "ours ≤ Matchering | true peak: ours spotify / ref. loudness / Matchering |",
              "|---|---|---|---|---|---|---|"]

    def dev(s, k):
        r = s[k]
        return r["dev_stereo"]["rms_db"] if "dev_stereo" in r else None

    def num(x, f):
        return "refused" if x is None else format(x, f)

    def tp(s, k):
        return s[k].get("true_peak_dbtp")

    wins, over_ours, over_mg, n_ours = 0, 0, 0, 0
    for s in summary:
        # Rounded as printed: a tie at 0.01 dB counts as ≤.
        ok = dev(s, "ours") is not None and round(dev(s, "ours"), 2) <= round(dev(s, "mg"), 2)
        wins += ok
        for k in ("ours", "ours_l"):
            if tp(s, k) is not None:
                n_ours += 1
                over_ours += tp(s, k) > CEILING_DBTP
        over_mg += tp(s, "mg") > CEILING_DBTP
        lines.append(f"| {s['name']} | {dev(s, 'before'):.2f} | {num(dev(s, 'ours'), '.2f')} | "
                     f"{num(dev(s, 'ours_l'), '.2f')} | {dev(s, 'mg'):.2f} | "
                     f"{'yes' if ok else '**no**'} | {num(tp(s, 'ours'), '+.1f')} / "
                     f"{num(tp(s, 'ours_l'), '+.1f')} / {tp(s, 'mg'):+.1f}"
                     f"{' **over**' if tp(s, 'mg') > CEILING_DBTP else ''} |")
    n = len(summary)

    def mean(k):
        v = [dev(s, k) for s in summary if dev(s, k) is not None]
        return f"{statistics.mean(v):.2f} dB" + ("" if len(v) == n else f" ({len(v)} pairs)")

    lines += ["", f"Mean deviation over {n} pairs: before {mean('before')}, mixmaster "
              f"(spotify) {mean('ours')}, mixmaster (reference loudness) {mean('ours_l')}, "
              f"Matchering {mean('mg')}. mixmaster (spotify) ≤ Matchering on {wins} of {n} pairs. "
              f"Over {CEILING_DBTP:.1f} dBTP: mixmaster {over_ours} of {n_ours} results, Matchering "
              f"{over_mg} of {n}."]
    return "\n".join(lines)


def cmd_quality_report(a):
    data = json.load(open(a.results))
    print(quality_markdown(data["meta"], data["results"]))


# --------------------------------------------------------------------------
# Speed
# --------------------------------------------------------------------------

def cmd_speed_inputs(a):
    """MIX: the demo looped to `minutes`, darker and narrower (sox); REF:
    the demo looped to `ref_minutes`, brighter and with more bass,
    compressed and limited to about -8 LUFS (ffmpeg)."""
    os.makedirs(a.dir, exist_ok=True)
    demo = os.path.join(render_demo(a.mixmaster, a.dir, a.seconds), "mix.wav")
    dur = float(run(["soxi", "-D", demo]).stdout)
    mix = os.path.join(a.dir, f"speed-mix-{a.minutes:g}min.wav")
    ref = os.path.join(a.dir, f"speed-ref-{a.ref_minutes:g}min.wav")
    for out, minutes, fx in [
        (mix, a.minutes, ["treble", "-4", "4000", "remix", "1v0.75,2v0.25", "1v0.25,2v0.75"]),
        (ref, a.ref_minutes, ["treble", "3", "6000", "bass", "2", "100"]),
    ]:
        if os.path.exists(out):
            continue
        secs = minutes * 60
        reps = max(int(-(-secs // dur)) - 1, 0)
        part = out + ".part.wav"
        log(f"  {os.path.basename(out)}")
        if out == mix:
            run(["sox", "-V1", demo, "-b", "24", "-e", "signed-integer", part] + fx +
                ["repeat", str(reps), "trim", "0", f"{secs:g}", "gain", "-n", "-3"])
        else:
            tmp = out + ".tmp.wav"
            run(["sox", "-V1", demo, "-e", "floating-point", "-b", "32", tmp] + fx +
                ["repeat", str(reps), "trim", "0", f"{secs:g}", "gain", "-n", "-3"])
            run(["ffmpeg", "-v", "error", "-y", "-i", tmp, "-af", LOUD_FFMPEG, "-c:a", "pcm_s24le",
                 part])
            os.remove(tmp)
        os.replace(part, out)
    print(mix)
    print(ref)


def cmd_loudnorm(a):
    """EBU R128 two-pass loudnorm as documented by ffmpeg: pass 1 measures
    (print_format=json), pass 2 normalises linearly with the measured
    values (falls back to dynamic mode when linear would pass the TP)."""
    target = f"I={a.lufs}:TP={a.tp}:LRA={a.lra}"
    err = run(["ffmpeg", "-hide_banner", "-nostats", "-i", a.input, "-af",
               f"loudnorm={target}:print_format=json", "-f", "null", "-"]).stderr
    m = json.loads(err[err.rindex("{"):err.rindex("}") + 1])
    graph = (f"loudnorm={target}:measured_I={m['input_i']}:measured_TP={m['input_tp']}:"
             f"measured_LRA={m['input_lra']}:measured_thresh={m['input_thresh']}:"
             f"offset={m['target_offset']}:linear=true:print_format=summary")
    err = run(["ffmpeg", "-hide_banner", "-nostats", "-y", "-i", a.input, "-af", graph, "-ar",
               str(a.rate), "-c:a", "pcm_s24le", a.output]).stderr
    kind = re.search(r"Normalization Type:\s+(\w+)", err)
    json.dump({"pass1": m, "normalization_type": kind.group(1) if kind else None},
              open(a.output + ".json", "w"), indent=1)


def speed_commands(a):
    # Relative to the repository root (where bench_reference.sh runs them).
    py = f"python3 {shlex.quote(os.path.relpath(os.path.abspath(__file__)))}"
    o = a.out_dir
    q = shlex.quote
    return {
        "mixmaster --reference": f"{q(a.mixmaster)} master {q(a.mix)} -o {q(o + '/ours-ref.wav')} "
                                 f"--target spotify --reference {q(a.ref)}",
        "Matchering": f"{py} matchering {q(a.mix)} {q(a.ref)} {q(o + '/matchering.wav')}",
        "mixmaster default chain": f"{q(a.mixmaster)} master {q(a.mix)} -o "
                                   f"{q(o + '/ours-default.wav')} --target spotify",
        "ffmpeg loudnorm 2-pass": f"{py} loudnorm {q(a.mix)} {q(o + '/loudnorm.wav')} "
                                  f"--lufs {SPOTIFY_LUFS:g} --tp {CEILING_DBTP:g}",
    }


def cmd_speed_commands(a):
    for name, c in speed_commands(a).items():
        print(f"{name}\t{c}")


def cmd_check(a):
    out = {}
    for name, path in [("mixmaster --reference", "ours-ref.wav"), ("Matchering", "matchering.wav"),
                       ("mixmaster default chain", "ours-default.wav"),
                       ("ffmpeg loudnorm 2-pass", "loudnorm.wav")]:
        p = os.path.join(a.out_dir, path)
        if os.path.exists(p):
            out[name] = ebur128(p)
    side = os.path.join(a.out_dir, "loudnorm.wav.json")
    if os.path.exists(side):
        out["loudnorm_type"] = json.load(open(side))["normalization_type"]
    json.dump(out, open(a.out, "w"), indent=1)


def cmd_report(a):
    """Median/min/max over the hyperfine rounds time.*.json; peak RSS from
    the GNU time files rss-*.txt (one line per run, KB)."""
    runs = {}
    r = 1
    while os.path.exists(f"{a.dir}/time.{r}.json"):
        for res in json.load(open(f"{a.dir}/time.{r}.json"))["results"]:
            runs.setdefault(res["command"], []).append(res["times"][0])
        r += 1
    checks = json.load(open(f"{a.dir}/check.json"))
    med = {k: statistics.median(v) for k, v in runs.items()}
    lines = ["| command | median s | min s | max s | runs | x real time | vs peer | peak RSS MB | "
             "LUFS | true peak dBTP |", "|---|---|---|---|---|---|---|---|---|---|"]
    peer = {"Matchering": "mixmaster --reference", "ffmpeg loudnorm 2-pass": "mixmaster default chain"}
    for name, t in runs.items():
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        rss_file = f"{a.dir}/rss-{slug}.txt"
        rss = max(int(x) for x in open(rss_file).read().split()) / 1024 if os.path.exists(rss_file) else float("nan")
        ratio = (f"{med[name] / med[peer[name]]:.1f}× slower than {peer[name]}" if name in peer and peer[name] in med
                 else "")
        lufs, tp = checks.get(name, (float("nan"), float("nan")))
        lines.append(f"| {name} | {med[name]:.2f} | {min(t):.2f} | {max(t):.2f} | {len(t)} | "
                     f"{a.minutes * 60 / med[name]:.0f}× | {ratio} | {rss:.1f} | {lufs:.1f} | "
                     f"{tp:+.1f}{' **over**' if tp > CEILING_DBTP else ''} |")
    if "loudnorm_type" in checks:
        lines += ["", f"ffmpeg loudnorm pass 2 ran in {checks['loudnorm_type'].lower()} mode "
                  "(it falls back to dynamic mode when linear gain would break the TP or LRA target)."]
    print("\n".join(lines))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("pairs")
    p.add_argument("--dir", required=True)
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--mixmaster", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--only", nargs="*", default=None)
    p = sub.add_parser("quality")
    p.add_argument("--dir", required=True)
    p.add_argument("--pairs", required=True)
    p.add_argument("--mixmaster", required=True)
    p.add_argument("--out", required=True)
    p = sub.add_parser("quality-report")
    p.add_argument("--results", required=True)
    p = sub.add_parser("speed-inputs")
    p.add_argument("--dir", required=True)
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--minutes", type=float, required=True)
    p.add_argument("--ref-minutes", type=float, required=True)
    p.add_argument("--mixmaster", required=True)
    p = sub.add_parser("speed-commands")
    for k in ("mixmaster", "mix", "ref", "out-dir"):
        p.add_argument(f"--{k}", required=True)
    p = sub.add_parser("matchering")
    p.add_argument("target")
    p.add_argument("reference")
    p.add_argument("out")
    p = sub.add_parser("loudnorm")
    p.add_argument("input")
    p.add_argument("output")
    p.add_argument("--lufs", type=float, default=SPOTIFY_LUFS)
    p.add_argument("--tp", type=float, default=CEILING_DBTP)
    p.add_argument("--lra", type=float, default=20.0)
    p.add_argument("--rate", type=int, default=48000)
    p = sub.add_parser("check")
    p.add_argument("--out-dir", required=True)
    p.add_argument("--out", required=True)
    p = sub.add_parser("report")
    p.add_argument("--dir", required=True)
    p.add_argument("--minutes", type=float, required=True)
    a = ap.parse_args()
    {"pairs": cmd_pairs, "quality": cmd_quality, "quality-report": cmd_quality_report,
     "speed-inputs": cmd_speed_inputs, "speed-commands": cmd_speed_commands,
     "matchering": cmd_matchering, "loudnorm": cmd_loudnorm, "check": cmd_check,
     "report": cmd_report}[a.cmd](a)


if __name__ == "__main__":
    main()
