#!/usr/bin/env python3
"""Helper of scripts/bench_mix.sh: generates the stems, plans the mix (one
set of per-track settings) and writes the three equivalent renders of that
plan — a mixmaster session, a sox command and an ffmpeg filter graph — plus
the checks (compressor gain reduction per stem and tool, peak memory of a
process tree, the Markdown tables).

Standard library only (no numpy): audio is made and measured by sox and
`mixmaster meter --json`.

Subcommands (see `bench_mix.py SUBCOMMAND -h`):
  stems     generate missing stems (cached by index and length)
  plan      measure the stems and choose every track's settings (JSON); the
            compressor thresholds are calibrated on mixmaster renders
  render    write session.toml, the sox argv and the ffmpeg argv/graph of a plan
  retarget  the same plan on other stems (the same music, another length)
  gr        per-stem loudness with and without the compressor in each tool
  check     run the three renders once, fail on clipping, meter the outputs
  rss       run a command, report GNU-time-style max RSS and the peak of
            the summed RSS of its whole process tree
  report    Markdown tables from the collected JSON
"""

import argparse
import json
import math
import os
import random
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

RATE = 48000
STEP_S = 0.125  # a sixteenth note at 120 bpm
LOOP_STEPS = 64  # four bars of 4/4

SCALE = [0, 2, 3, 5, 7, 8, 10]  # natural minor


def hz(midi):
    return 440.0 * 2 ** ((midi - 69) / 12)


def run(argv, **kw):
    r = subprocess.run(argv, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        sys.exit(f"failed ({r.returncode}): {shlex.join(argv)}\n{r.stderr}")
    return r


# --------------------------------------------------------------------------
# Stems
# --------------------------------------------------------------------------

KINDS = ["kick", "bass", "hat", "keys", "snare", "lead", "pad", "texture",
         "perc", "arp"]


def note_effects(kind, rng, midi, length_s):
    """sox `-n` synth arguments for one note of `kind` (mono)."""
    f = hz(midi)
    if kind == "kick":
        return ["synth", f"{length_s}", "sine", f"{rng.uniform(110, 150):.1f}:{rng.uniform(38, 50):.1f}",
                "fade", "0", f"{length_s}", f"{length_s * 0.9:.4f}"]
    if kind == "snare":
        return ["synth", f"{length_s}", "pinknoise", "synth", f"{length_s}", "sine", "mix", f"{rng.uniform(180, 240):.1f}",
                "bandpass", f"{rng.uniform(1500, 2500):.0f}", "1.2q",
                "fade", "0", f"{length_s}", f"{length_s * 0.85:.4f}"]
    if kind == "hat":
        return ["synth", f"{length_s}", "whitenoise", "highpass", f"{rng.uniform(6000, 9000):.0f}",
                "fade", "0", f"{length_s}", f"{length_s * 0.9:.4f}", "vol", "0.5"]
    if kind == "perc":
        return ["synth", f"{length_s}", "pluck", f"{f:.2f}", "fade", "0", f"{length_s}", f"{length_s * 0.7:.4f}"]
    if kind in ("bass", "lead", "arp"):
        voice = "pluck" if kind != "lead" else rng.choice(["pluck", "square", "sawtooth"])
        args = ["synth", f"{length_s}", voice, f"{f:.2f}"]
        if voice != "pluck":
            args += ["lowpass", f"{rng.uniform(1500, 4000):.0f}", "tremolo", "5.5", "15"]
        return args + ["fade", "0.003", f"{length_s}", f"{min(0.05, length_s / 3):.4f}"]
    if kind == "keys":
        freqs = [hz(midi), hz(midi + 3), hz(midi + 7)]
        return ["synth", f"{length_s}"] + sum((["pluck", f"{x:.2f}"] for x in freqs), []) + \
               ["remix", "-", "fade", "0.002", f"{length_s}", f"{min(0.08, length_s / 3):.4f}"]
    if kind == "pad":
        freqs = [hz(midi), hz(midi + 7), hz(midi + 12), hz(midi + 15)]
        return ["synth", f"{length_s}"] + sum((["triangle", f"{x:.2f}"] for x in freqs), []) + \
               ["remix", "-", "lowpass", "1800", "tremolo", f"{rng.uniform(3, 6):.1f}", "25",
                "fade", "0.3", f"{length_s}", "0.4"]
    raise ValueError(kind)


def pattern(kind, rng):
    """Events (start step, length in steps, midi note) of a 64-step loop."""
    root = 45 + rng.randrange(0, 7)  # A2 .. D#3
    deg = lambda d, octv=0: root + 12 * octv + SCALE[d % 7] + 12 * (d // 7)
    ev = []
    if kind == "kick":
        for s in range(0, LOOP_STEPS, 4):
            if s % 16 == 0 or rng.random() < 0.8:
                ev.append((s, 2, 36))
        for s in range(0, LOOP_STEPS, 16):
            if rng.random() < 0.5:
                ev.append((s + 10, 2, 36))
    elif kind == "snare":
        for s in range(4, LOOP_STEPS, 8):
            ev.append((s, 2, 60))
        if rng.random() < 0.7:
            ev.append((LOOP_STEPS - 2, 1, 60))
    elif kind == "hat":
        step = rng.choice([1, 2])
        for s in range(0, LOOP_STEPS, step):
            if rng.random() < 0.85:
                ev.append((s, 1, 80))
    elif kind == "perc":
        for s in range(0, LOOP_STEPS):
            if rng.random() < 0.3:
                ev.append((s, 1, deg(rng.randrange(7), 2)))
    elif kind == "bass":
        s = 0
        while s < LOOP_STEPS:
            n = rng.choice([2, 2, 3, 4])
            if rng.random() < 0.85:
                ev.append((s, n, deg(rng.choice([0, 0, 3, 4, 5]), -1)))
            s += n
    elif kind == "lead":
        s = 0
        while s < LOOP_STEPS:
            n = rng.choice([2, 4, 4, 6, 8])
            if rng.random() < 0.7:
                ev.append((s, n, deg(rng.randrange(10), 1)))
            s += n
    elif kind == "arp":
        chord = [0, 2, 4, 7]
        for s in range(0, LOOP_STEPS):
            ev.append((s, 1, deg(chord[s % 4] + (s // 16) * 1, 1)))
    elif kind == "keys":
        for bar in range(4):
            d = rng.choice([0, 3, 4, 5])
            for s in (0, 6, 10):
                ev.append((bar * 16 + s, rng.choice([3, 4, 6]), deg(d)))
    elif kind == "pad":
        for bar in range(4):
            ev.append((bar * 16, 16, deg(rng.choice([0, 3, 5]), 0)))
    # No overlap: clip each event to the next start.
    ev.sort()
    out = []
    for i, (s, n, m) in enumerate(ev):
        nxt = ev[i + 1][0] if i + 1 < len(ev) else LOOP_STEPS
        n = min(n, nxt - s)
        if n > 0 and (not out or s >= out[-1][0] + out[-1][1]):
            out.append((s, n, m))
    return out


def make_stem(index, seconds, path):
    rng = random.Random(1000 + index)
    kind = KINDS[index % len(KINDS)]
    tmp = tempfile.mkdtemp(prefix="stem", dir=os.path.dirname(path))
    fmt = ["-r", str(RATE), "-c", "1", "-e", "floating-point", "-b", "32"]
    try:
        if kind == "texture":
            loop = None
        else:
            parts, cache = [], {}
            pos = 0
            for (s, n, m) in pattern(kind, rng) + [(LOOP_STEPS, 0, 0)]:
                if s > pos:  # silence
                    f = os.path.join(tmp, f"sil{s - pos}.wav")
                    if f not in cache:
                        run(["sox", "-n"] + fmt + [f, "trim", "0", f"{(s - pos) * STEP_S}"])
                        cache[f] = 1
                    parts.append(f)
                if n == 0:
                    break
                length = n * STEP_S
                f = os.path.join(tmp, f"n{s}.wav")
                run(["sox", "-n"] + fmt + [f] + note_effects(kind, rng, m, length) + ["trim", "0", f"{length}"])
                parts.append(f)
                pos = s + n
            loop = os.path.join(tmp, "loop.wav")
            run(["sox"] + parts + [loop])
        # Whole stem: the loop repeated (or a noise bed), slow level changes
        # (sections), stereo from a short inter-channel delay, fades, peak at
        # -6 dBFS (headroom, as recorded stems have); 24-bit 48 kHz stereo.
        reps = int(math.ceil(seconds / (LOOP_STEPS * STEP_S)))
        swell = ["tremolo", f"{rng.uniform(0.015, 0.06):.4f}", f"{rng.uniform(30, 70):.0f}"]
        if loop is None:
            src = ["-n"] + fmt
            body = ["synth", f"{seconds}", rng.choice(["pinknoise", "brownnoise"]),
                    "band", f"{rng.uniform(400, 2500):.0f}", f"{rng.uniform(300, 1200):.0f}",
                    "tremolo", f"{rng.uniform(0.2, 2):.2f}", "60"]
        else:
            src = [loop]
            body = ["repeat", str(max(reps - 1, 0)), "trim", "0", f"{seconds}"]
        mid = os.path.join(tmp, "mid.wav")
        run(["sox"] + src + ["-e", "floating-point", "-b", "32", "-c", "2", mid] + body + swell +
            ["channels", "2", "delay", "0", f"{rng.uniform(0.0003, 0.0015):.5f}", "trim", "0", f"{seconds}",
             "fade", "0.5", f"{seconds}", "2"])
        part = path + ".part.wav"
        run(["sox", mid, "-r", str(RATE), "-b", "24", "-e", "signed-integer", part, "norm", "-6"])
        os.replace(part, path)
    finally:
        for f in os.listdir(tmp):
            os.remove(os.path.join(tmp, f))
        os.rmdir(tmp)
    return kind


def stem_path(directory, index, seconds):
    return os.path.join(directory, f"stem{index:02d}-{KINDS[index % len(KINDS)]}-{seconds:g}s.wav")


def cmd_stems(a):
    os.makedirs(a.dir, exist_ok=True)
    for i in range(a.count):
        p = stem_path(a.dir, i, a.seconds)
        if not os.path.exists(p):
            t = time.time()
            make_stem(i, a.seconds, p)
            print(f"  generated {p} ({time.time() - t:.1f} s)", file=sys.stderr)
        print(p)


# --------------------------------------------------------------------------
# Plan: one set of settings per track, from the measured stems
# --------------------------------------------------------------------------

# Fader target (loudness of the compressed stem in the mix, LUFS) per kind,
# before --mix-offset-db (default -9 dB: the 32-stem sum then peaks near
# -3 dBFS; sox mixes in 32-bit integers and clips above full scale).
MIX_LEVEL = {"kick": -27, "bass": -28, "hat": -33, "keys": -31, "snare": -29,
             "lead": -29, "pad": -32, "texture": -35, "perc": -33, "arp": -32}
HPF_HZ = {"kick": (25, 35), "bass": (30, 40), "hat": (300, 500), "snare": (80, 120),
          "texture": (100, 200)}


def meter(mm, paths):
    out = run([mm, "meter", "--json"] + list(paths)).stdout
    return {j["file"]: j for j in json.loads(out)}


def one_track_lufs(mm, t, tmp, comp):
    """Integrated loudness of `t` rendered alone by mixmaster."""
    base = os.path.join(tmp, "cal")
    session = base + ".toml"
    open(session, "w").write(session_toml([t], session, comp))
    check_run("mixmaster", [mm, "mix", session, "-o", base + ".wav"])
    lufs = meter(mm, [base + ".wav"])[base + ".wav"]["integrated_lufs"]
    os.remove(base + ".wav")
    return lufs


def calibrate(mm, t, tmp, target, lo, hi, log):
    """Moves the threshold until mixmaster's compressor takes `target` dB
    (accepting lo..hi) off the loudness of this stem; returns that reduction."""
    c = t["comp"]
    off = one_track_lufs(mm, t, tmp, comp=False)
    slope = 1 - 1 / c["ratio"]  # d(reduction)/d(-threshold) when always above
    prev = None
    for _ in range(6):
        gr = off - one_track_lufs(mm, t, tmp, comp=True)
        log(f'  {t["name"]:16s} threshold {c["threshold_db"]:6.1f} dBFS: {gr:5.2f} dB')
        if lo <= gr <= hi:
            break
        if prev is not None and abs(c["threshold_db"] - prev[0]) > 0.05:
            slope = min(1.0, max(0.15, (gr - prev[1]) / (prev[0] - c["threshold_db"])))
        prev = (c["threshold_db"], gr)
        step = max(-8.0, min(8.0, (target - gr) / slope))
        c["threshold_db"] = round(max(-60.0, min(0.0, c["threshold_db"] - step)), 1)
    return off, gr


def cmd_plan(a):
    levels = meter(a.mixmaster, a.stems)
    tracks = []
    tmp = tempfile.mkdtemp(prefix="plan", dir=os.path.dirname(os.path.abspath(a.out)))
    log = lambda m: print(m, file=sys.stderr)
    try:
        for path in a.stems:
            name = os.path.basename(path).rsplit("-", 1)[0]  # stem07-texture
            idx, kind = int(name[4:6]), name.split("-", 1)[1]
            rng = random.Random(5000 + idx)
            m = levels[path]
            lo, hi = HPF_HZ.get(kind, (60, 150))
            t = {
                "name": name, "kind": kind, "source": os.path.abspath(path),
                "stem_lufs": m["integrated_lufs"], "stem_peak_dbfs": m["sample_peak_dbfs"],
                "stem_rms_dbfs": m["rms_dbfs"],
                "hpf_hz": round(rng.uniform(lo, hi)),
                "low_shelf": {"freq_hz": round(rng.uniform(80, 250)), "gain_db": round(rng.uniform(-3, 3), 1),
                              "q": 0.7071},
                "bell": {"freq_hz": round(rng.choice([350, 500, 800, 1200, 2000, 3000, 4500]) * rng.uniform(0.9, 1.1)),
                         "gain_db": round(rng.choice([-1, 1]) * rng.uniform(1.5, 4), 1),
                         "q": round(rng.uniform(0.8, 2.0), 2)},
                "high_shelf": {"freq_hz": int(round(rng.uniform(5000, 10000), -2)),
                               "gain_db": round(rng.uniform(-3, 3), 1), "q": 0.7071},
                # Fast attack (0.5-5 ms): see BENCHMARKS.md on why (the three
                # detectors agree there); hard knee (every tool has one).
                "comp": {"threshold_db": round(m["rms_dbfs"] + 2, 1), "ratio": round(rng.uniform(3, 5), 1),
                         "attack_ms": round(rng.uniform(0.5, 5), 1), "release_ms": round(rng.uniform(60, 250)),
                         "knee_db": 0.0},
                "pan": round(rng.uniform(-0.6, 0.6), 2) if kind not in ("kick", "bass", "snare") else 0.0,
                "gain_db": 0.0,
            }
            # Threshold: calibrated on mixmaster to take about 5 dB off this
            # stem's loudness (the `gr` step checks all three tools).
            off, gr = calibrate(a.mixmaster, t, tmp, a.target_gr_db, a.target_gr_db - 1, a.target_gr_db + 2, log)
            t["calibrated_gr_db"] = round(gr, 2)
            # Fader: the compressed stem at its place in the mix.
            t["gain_db"] = round(MIX_LEVEL[kind] + a.mix_offset_db - (off - gr), 1)
            tracks.append(t)
    finally:
        for f in os.listdir(tmp):
            os.remove(os.path.join(tmp, f))
        os.rmdir(tmp)
    json.dump({"tracks": tracks}, open(a.out, "w"), indent=1)


def balance(pan):
    """mixmaster's balance of a stereo source: one side turned down."""
    return min(1.0, 1.0 - pan), min(1.0, 1.0 + pan)


def select(plan, n, only=None):
    tracks = plan["tracks"][:n]
    if only is not None:
        tracks = [t for t in tracks if t["name"] == only]
    return tracks


def session_toml(tracks, session_path, comp=True):
    d = os.path.dirname(os.path.abspath(session_path))
    out = ['# Generated by scripts/bench_mix.py: the mixmaster side of the mixing benchmark.',
           '[project]', 'name = "bench_mix"', 'sample_rate_hz = 48000', '']
    for t in tracks:
        c, ls, b, hs = t["comp"], t["low_shelf"], t["bell"], t["high_shelf"]
        out += ['[[track]]', f'name = "{t["name"]}"',
                f'source = "{os.path.relpath(t["source"], d)}"',
                f'gain_db = {t["gain_db"]}', f'pan = {t["pan"]}', 'inserts = [',
                f'  {{ id = "hpf", hpf = {{ freq_hz = {t["hpf_hz"]}, slope_db_oct = 12 }} }},',
                f'  {{ id = "eq", eq = {{ bands = [',
                f'    {{ low_shelf = {{ freq_hz = {ls["freq_hz"]}, gain_db = {ls["gain_db"]}, q = {ls["q"]} }} }},',
                f'    {{ bell = {{ freq_hz = {b["freq_hz"]}, gain_db = {b["gain_db"]}, q = {b["q"]} }} }},',
                f'    {{ high_shelf = {{ freq_hz = {hs["freq_hz"]}, gain_db = {hs["gain_db"]}, q = {hs["q"]} }} }},',
                '  ] } },',
                f'  {{ id = "comp",{"" if comp else " bypass = true,"} compressor = {{ threshold_db = {c["threshold_db"]}, '
                f'ratio = {c["ratio"]}, knee_db = {c["knee_db"]}, attack_ms = {c["attack_ms"]}, '
                f'release_ms = {c["release_ms"]}, detector = "peak" }} }},',
                ']', '']
    return "\n".join(out)


def sox_chain(t, comp=True):
    """sox effects of one track (after the input), as an argv list."""
    c, ls, b, hs = t["comp"], t["low_shelf"], t["bell"], t["high_shelf"]
    e = ["highpass", "-2", f'{t["hpf_hz"]}', "0.7071q",
         "bass", f'{ls["gain_db"]}', f'{ls["freq_hz"]}', f'{ls["q"]}q',
         "equalizer", f'{b["freq_hz"]}', f'{b["q"]}q', f'{b["gain_db"]}',
         "treble", f'{hs["gain_db"]}', f'{hs["freq_hz"]}', f'{hs["q"]}q']
    if comp:
        thr, r = c["threshold_db"], c["ratio"]
        # Hard knee: unity below the threshold, slope 1/R above it; one
        # attack/decay pair for both channels = stereo-linked on max |x|.
        e += ["compand", f'{c["attack_ms"] / 1000:g},{c["release_ms"] / 1000:g}',
              f'-120,-120,{thr:g},{thr:g},0,{thr - thr / r:.3f}', "0", "-120", "0"]
    gl, gr = balance(t["pan"])
    g = 10 ** (t["gain_db"] / 20)
    e += ["remix", f"1v{g * gl:.6f}", f"2v{g * gr:.6f}"]
    return e


def sox_argv(tracks, out, comp=True, threads=False):
    """sox mixes (-m, each input at unity: -v 1) one pipe per track; each
    pipe is a sox process running that track's chain, so the tracks run in
    parallel processes. `threads` adds --multi-threaded to those processes
    (parallel channels inside each effect)."""
    mt = ["--multi-threaded"] if threads else []
    argv = ["sox", "-D", "-m"] if len(tracks) > 1 else ["sox", "-D"]
    for t in tracks:
        inner = ["sox"] + mt + ["-D", t["source"], "-p"] + sox_chain(t, comp)
        argv += ["-v", "1", "|" + shlex.join(inner)]
    return argv + ["-e", "floating-point", "-b", "32", out]


def ffmpeg_graph(tracks, comp=True, fmt="dblp"):
    lines = []
    for i, t in enumerate(tracks):
        c, ls, b, hs = t["comp"], t["low_shelf"], t["bell"], t["high_shelf"]
        f = [f"aformat=sample_fmts={fmt}",
             f'highpass=f={t["hpf_hz"]}:p=2:t=q:w=0.7071',
             f'lowshelf=f={ls["freq_hz"]}:t=q:w={ls["q"]}:g={ls["gain_db"]}',
             f'equalizer=f={b["freq_hz"]}:t=q:w={b["q"]}:g={b["gain_db"]}',
             f'highshelf=f={hs["freq_hz"]}:t=q:w={hs["q"]}:g={hs["gain_db"]}']
        if comp:
            # acompressor's attack/release coefficient is 4000/(ms*fs): a
            # time constant of ms/4, so 4x the session's time constants.
            f.append(f'acompressor=threshold={10 ** (c["threshold_db"] / 20):.6f}:ratio={c["ratio"]}'
                     f':attack={4 * c["attack_ms"]:g}:release={4 * c["release_ms"]:g}'
                     f':knee=1:detection=peak:link=maximum:makeup=1')
        gl, gr = balance(t["pan"])
        g = 10 ** (t["gain_db"] / 20)
        f.append(f"pan=stereo|c0={g * gl:.6f}*c0|c1={g * gr:.6f}*c1")
        lines.append(f"[{i}:a]" + ",".join(f) + f"[a{i}]")
    if len(tracks) > 1:
        lines.append("".join(f"[a{i}]" for i in range(len(tracks))) +
                     f"amix=inputs={len(tracks)}:normalize=0:duration=longest[out]")
    else:
        lines[-1] = lines[-1].replace("[a0]", "[out]")
    return ";\n".join(lines) + "\n"


def ffmpeg_argv(tracks, graph_path, out, threads=1):
    argv = ["ffmpeg", "-hide_banner", "-nostats", "-loglevel", "error", "-y",
            "-filter_complex_threads", str(threads)]
    for t in tracks:
        argv += ["-i", t["source"]]
    return argv + ["-filter_complex_script", graph_path, "-map", "[out]", "-c:a", "pcm_f32le", out]


def cmd_render(a):
    plan = json.load(open(a.plan))
    tracks = select(plan, a.stems, a.only)
    os.makedirs(a.dir, exist_ok=True)
    base = os.path.join(a.dir, a.tag)
    cmds = tool_argvs(tracks, base, not a.no_comp, a.mixmaster, a.threads, a.ffmpeg_threads,
                      a.ffmpeg_format, a.sox_multi_threaded)
    json.dump(cmds, open(base + ".cmds.json", "w"), indent=1)
    # One line per tool: the command as hyperfine -N parses it (shell words).
    for k in ("mixmaster", "sox", "ffmpeg"):
        print(f"{k}\t{shlex.join(cmds[k])}")


def tool_argvs(tracks, base, comp, mm, threads=None, ffmpeg_threads=1, ffmpeg_format="dblp", sox_threads=False):
    """The three commands for `tracks`; writes base.toml and base.ffgraph."""
    session = base + ".toml"
    open(session, "w").write(session_toml(tracks, session, comp))
    graph = base + ".ffgraph"
    open(graph, "w").write(ffmpeg_graph(tracks, comp, ffmpeg_format))
    return {
        "mixmaster": [mm, "mix", session, "-o", base + ".mixmaster.wav"] +
                     (["--threads", str(threads)] if threads else []),
        "sox": sox_argv(tracks, base + ".sox.wav", comp, sox_threads),
        "ffmpeg": ffmpeg_argv(tracks, graph, base + ".ffmpeg.wav", ffmpeg_threads),
    }


def check_run(tool, argv):
    """Runs one render; fails on an error, and on clipping reported by sox."""
    r = run(argv)
    if tool == "sox" and "clipped" in r.stderr:
        sys.exit(f"sox clipped: {r.stderr.strip()}\n{shlex.join(argv)}")
    if tool == "mixmaster" and "clipped" in r.stderr:
        sys.exit(f"mixmaster clipped: {r.stderr.strip()}")
    return r


def cmd_gr(a):
    """Gain reduction of each track's compressor in each tool: integrated
    loudness of the one-track render with the compressor bypassed minus with
    it active (LU)."""
    plan = json.load(open(a.plan))
    tracks = select(plan, a.stems)
    tmp = tempfile.mkdtemp(prefix="gr", dir=a.dir)
    results = []
    try:
        for t in tracks:
            row = {"name": t["name"]}
            outs = {}
            for comp in (True, False):
                base = os.path.join(tmp, "c" if comp else "n")
                cmds = tool_argvs([t], base, comp, a.mixmaster, ffmpeg_format=a.ffmpeg_format)
                for tool, argv in cmds.items():
                    check_run(tool, argv)
                    outs[(tool, comp)] = base + f".{tool}.wav"
            m = meter(a.mixmaster, outs.values())
            for tool in ("mixmaster", "sox", "ffmpeg"):
                on, off = m[outs[(tool, True)]], m[outs[(tool, False)]]
                row[tool] = round(off["integrated_lufs"] - on["integrated_lufs"], 3)
                row[tool + "_lufs"] = round(on["integrated_lufs"], 3)
            for f in outs.values():
                os.remove(f)
            print(f'  {t["name"]:16s} gain reduction (LU): mixmaster {row["mixmaster"]:.2f}  '
                  f'sox {row["sox"]:.2f}  ffmpeg {row["ffmpeg"]:.2f}', file=sys.stderr)
            results.append(row)
    finally:
        for f in os.listdir(tmp):
            os.remove(os.path.join(tmp, f))
        os.rmdir(tmp)
    json.dump(results, open(a.out, "w"), indent=1)


def cmd_retarget(a):
    """The same settings on other stems (the same music at another length)."""
    plan = json.load(open(a.plan))
    for t, path in zip(plan["tracks"], a.stems):
        assert os.path.basename(path).startswith(t["name"] + "-"), (path, t["name"])
        t["source"] = os.path.abspath(path)
    json.dump(plan, open(a.out, "w"), indent=1)


def cmd_check(a):
    """Runs each render once (sox clipping is an error), meters the three
    outputs and writes their readings (JSON by tool)."""
    cmds = json.load(open(a.cmds))
    outs = {}
    for tool, argv in cmds.items():
        check_run(tool, argv)
        outs[tool] = argv[argv.index("-o") + 1] if tool == "mixmaster" else argv[-1]
    m = meter(a.mixmaster, outs.values())
    res = {tool: m[path] for tool, path in outs.items()}
    json.dump(res, open(a.out, "w"), indent=1)
    for tool, r in res.items():
        print(f'  {tool:10s} integrated {r["integrated_lufs"]:7.2f} LUFS, true peak {r["true_peak_dbtp"]:6.2f} dBTP, '
              f'{r["duration_s"]:.3f} s', file=sys.stderr)


# --------------------------------------------------------------------------
# Peak memory
# --------------------------------------------------------------------------

PAGE = os.sysconf("SC_PAGE_SIZE")


def tree_rss(root):
    """Summed resident memory (bytes) of `root`'s descendants (not root)."""
    children = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                st = f.read()
            ppid = int(st[st.rindex(")") + 2:].split()[1])
            children.setdefault(ppid, []).append(int(d))
        except (OSError, ValueError):
            pass
    total, todo = 0, list(children.get(root, []))
    while todo:
        pid = todo.pop()
        todo += children.get(pid, [])
        try:
            with open(f"/proc/{pid}/statm") as f:
                total += int(f.read().split()[1]) * PAGE
        except OSError:
            pass
    return total


def cmd_rss(a):
    """Runs the command under GNU time (max RSS of the largest single
    process, as `%M`) while sampling the summed RSS of the whole process
    tree every 20 ms (sox runs one child process per stem)."""
    tfile = a.out + ".time"
    proc = subprocess.Popen(["/usr/bin/time", "-f", "%M %e", "-o", tfile] + a.command,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, tree_rss(proc.pid))
        time.sleep(0.02)
    err = proc.stderr.read()
    if proc.returncode != 0:
        sys.exit(f"failed: {shlex.join(a.command)}\n{err}")
    max_kb, wall = open(tfile).read().split()[-2:]
    os.remove(tfile)
    res = {"command": a.command, "max_rss_mb": int(max_kb) / 1024, "tree_peak_mb": peak / 2 ** 20,
           "wall_s": float(wall)}
    json.dump(res, open(a.out, "w"), indent=1)
    print(f'  peak RSS {res["max_rss_mb"]:.1f} MB (largest process), {res["tree_peak_mb"]:.1f} MB '
          f'(process tree, sampled): {os.path.basename(a.out)}', file=sys.stderr)


# --------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------

def load(path):
    return json.load(open(path)) if os.path.exists(path) else None


def hf(d, n):
    """hyperfine rounds time-n.*.json -> {name: (median, min, max, runs,
    median CPU s (user + system))}."""
    runs = {}
    r = 1
    while os.path.exists(f"{d}/time-{n}.{r}.json"):
        for res in json.load(open(f"{d}/time-{n}.{r}.json"))["results"]:
            runs.setdefault(res["command"], []).append((res["times"][0], res["user"] + res["system"]))
        r += 1
    out = {}
    for k, v in runs.items():
        t = [x[0] for x in v]
        out[k] = (statistics.median(t), min(t), max(t), len(t), statistics.median(x[1] for x in v))
    return out


def cmd_report(a):
    d = a.dir
    main = hf(d, a.stems)
    ours = main["mixmaster"][0]
    rss = {k: load(f"{d}/rss-{a.stems}-{k}.json") for k in ("mixmaster", "sox", "ffmpeg")}
    loud = load(f"{d}/loudness-{a.stems}.json")
    print(f"Main case: {a.stems} stems x {a.minutes:g} min, medians of {main['mixmaster'][3]} runs.\n")
    print("| tool | median s | min s | max s | tool / mixmaster | x real time | CPU s (user+sys) "
          "| peak RSS MB (largest process) | peak RSS MB (process tree) | integrated LUFS | true peak dBTP |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    secs = a.minutes * 60
    for k in ("mixmaster", "mixmaster --threads 1", "sox", "ffmpeg"):
        if k not in main:
            continue
        med, lo, hi, _, cpu = main[k]
        r = rss.get(k)
        l = loud.get(k) if loud else None
        ratio = "1.00" if k == "mixmaster" else f"{med / ours:.2f}x"
        head = f"| {k} | {med:.2f} | {lo:.2f} | {hi:.2f} | {ratio} | {secs / med:.1f} | {cpu:.2f} | "
        print(head + (f"{r['max_rss_mb']:.1f} | {r['tree_peak_mb']:.1f} | " if r else "- | - | "), end="")
        print(f"{l['integrated_lufs']:.2f} | {l['true_peak_dbtp']:.2f} |" if l else "- | - |")
    if loud:
        vals = [loud[k]["integrated_lufs"] for k in ("mixmaster", "sox", "ffmpeg")]
        print(f"\nLoudness spread of the three mixes: {max(vals) - min(vals):.3f} LU.")
    gr = load(f"{d}/gr-{a.stems}.json")
    if gr:
        print("\nCompressor gain reduction per stem (loudness with the compressor bypassed minus active, LU):\n")
        print("| stem | mixmaster | sox | ffmpeg |")
        print("|---|---|---|---|")
        for r in gr:
            print(f"| {r['name']} | {r['mixmaster']:.2f} | {r['sox']:.2f} | {r['ffmpeg']:.2f} |")
        for k in ("mixmaster", "sox", "ffmpeg"):
            v = [r[k] for r in gr]
            print(f"\n{k}: min {min(v):.2f}, median {statistics.median(v):.2f}, max {max(v):.2f} LU", end="")
        dev = max(abs(r[k] - r["mixmaster"]) for r in gr for k in ("sox", "ffmpeg"))
        print(f"\n\nLargest per-stem difference from mixmaster: {dev:.2f} LU.")
    # Scaling.
    rows = []
    for n in a.scale + [a.stems]:
        if not os.path.exists(f"{d}/time-{n}.1.json"):
            continue
        h = hf(d, n)
        row = [str(n)]
        for k in ("mixmaster", "sox", "ffmpeg"):
            r = load(f"{d}/rss-{n}-{k}.json")
            row += [f"{h[k][0]:.2f}", f"{r['max_rss_mb']:.1f} / {r['tree_peak_mb']:.1f}" if r else "-"]
        row += [f"{h['sox'][0] / h['mixmaster'][0]:.2f}x", f"{h['ffmpeg'][0] / h['mixmaster'][0]:.2f}x"]
        lo = load(f"{d}/loudness-{n}.json")
        v = [lo[k]["integrated_lufs"] for k in ("mixmaster", "sox", "ffmpeg")] if lo else None
        row += [f"{statistics.median(v):.2f} / {max(v) - min(v):.2f}" if v else "-"]
        rows.append(row)
    if rows:
        print(f"\nScaling with the number of stems ({a.minutes:g} min each; RSS MB largest process / process tree):\n")
        print("| stems | mixmaster s | mixmaster RSS | sox s | sox RSS | ffmpeg s | ffmpeg RSS | sox / mixmaster "
              "| ffmpeg / mixmaster | LUFS (median / spread) |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for r in rows:
            print("| " + " | ".join(r) + " |")
    dur = [(m, load(f"{d}/rss-dur-{m:g}-mixmaster.json")) for m in (a.short_minutes, a.minutes)]
    if all(r for _, r in dur):
        print(f"\nMemory against duration (mixmaster, {a.stems} stems):\n")
        print("| minutes | wall s (one run) | peak RSS MB |")
        print("|---|---|---|")
        for m, r in dur:
            print(f"| {m:g} | {r['wall_s']:.2f} | {r['max_rss_mb']:.1f} |")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("stems")
    p.add_argument("--dir", required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--seconds", type=float, required=True)
    p = sub.add_parser("plan")
    p.add_argument("--mixmaster", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--target-gr-db", type=float, default=5.0)
    p.add_argument("--mix-offset-db", type=float, default=-9.0)
    p.add_argument("stems", nargs="+")
    p = sub.add_parser("render")
    p.add_argument("--plan", required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--tag", required=True)
    p.add_argument("--stems", type=int, default=None)
    p.add_argument("--only", default=None)
    p.add_argument("--no-comp", action="store_true")
    p.add_argument("--mixmaster", required=True)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--ffmpeg-threads", type=int, default=1)
    p.add_argument("--ffmpeg-format", default="dblp")
    p.add_argument("--sox-multi-threaded", action="store_true")
    p = sub.add_parser("gr")
    p.add_argument("--plan", required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--stems", type=int, default=None)
    p.add_argument("--mixmaster", required=True)
    p.add_argument("--ffmpeg-format", default="dblp")
    p = sub.add_parser("retarget")
    p.add_argument("--plan", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("stems", nargs="+")
    p = sub.add_parser("check")
    p.add_argument("--cmds", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--mixmaster", required=True)
    p = sub.add_parser("rss")
    p.add_argument("--out", required=True)
    p.add_argument("command", nargs=argparse.REMAINDER)
    p = sub.add_parser("report")
    p.add_argument("--dir", required=True)
    p.add_argument("--stems", type=int, required=True)
    p.add_argument("--minutes", type=float, required=True)
    p.add_argument("--short-minutes", type=float, required=True)
    p.add_argument("--scale", type=int, nargs="*", default=[])
    a = ap.parse_args()
    if a.cmd == "rss" and a.command[:1] == ["--"]:
        a.command = a.command[1:]
    {"stems": cmd_stems, "plan": cmd_plan, "render": cmd_render, "gr": cmd_gr, "check": cmd_check, "retarget": cmd_retarget, "rss": cmd_rss,
     "report": cmd_report}[a.cmd](a)
