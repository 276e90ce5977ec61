#!/usr/bin/env python3
"""Helper of scripts/bench_master_matrix.sh: what each preset asks for, and
the Markdown report of the mastering matrix (inputs x presets) measured by
three meters: `mixmaster meter --json`, ffmpeg's `ebur128=peak=true` and
loudgain (libebur128).

Standard library only.

Subcommands (see `bench_master_matrix.py SUBCOMMAND -h`):
  presets   per preset: loudness target, ceiling, whether a mono file is
            measured as dual-mono, and the level it aims at (integrated
            loudness, or RMS for `acx`), asked of `mixmaster meter --target`
  report    Markdown summary and tables from a run directory; exits 1 when
            any meter reads a written file over its ceiling, or when `master`
            failed other than by an "out of reach" refusal

Files of a run directory (written by the shell script):
  inputs.tsv                 name, rate, channels, frames, path (the example's output)
  presets.tsv                this helper's `presets` output
  results.tsv                input, preset, exit code of `mixmaster master`
  out/IN.PRESET.wav          the master (when written) and its log IN.PRESET.wav.json
  out/IN.PRESET.master.txt   what `mixmaster master` printed (the refusal message)
  out/IN.PRESET.mixmaster.json, .ffmpeg.txt, .loudgain.tsv   the three meters
  out/IN.PRESET.sox.txt      `sox stats` (RMS and sample peak; RMS presets only)
"""

import argparse
import json
import math
import re
import subprocess
import sys
from pathlib import Path

# Issue 4: integrated loudness within +-0.1 LU of the target (and an RMS
# target within +-0.1 dB: `master`'s default tolerance).
TOLERANCE_LU = 0.1
# BS.1770 dual-mono: a mono channel played on two speakers counts twice in
# the sum of channel powers, +10*log10(2) dB (ffmpeg's ebur128 `panlaw`
# default); libebur128 as loudgain drives it measures mono as one channel.
DUAL_MONO_DB = 10.0 * math.log10(2.0)
METERS = ("mixmaster", "ffmpeg", "loudgain")


def meter_json(mixmaster, path, target=None):
    argv = [mixmaster, "meter", "--json"]
    if target:
        argv += ["--target", target]
    out = subprocess.run(argv + [str(path)], check=True, capture_output=True, text=True).stdout
    return json.loads(out)[0]


def cmd_presets(a):
    """Ask the tool itself what every preset means: its loudness target and
    ceiling (`meter --target`), and whether mono is measured as dual-mono
    (the integrated loudness of a mono file with the target differs from
    the plain BS.1770 one by 3.01 dB)."""
    plain = meter_json(a.mixmaster, a.mono)["integrated_lufs"]
    for p in a.presets:
        m = meter_json(a.mixmaster, a.mono, p)
        t = m["target"]
        dual = abs(m["integrated_lufs"] - plain - DUAL_MONO_DB) < 0.01
        # "-" for no target: an empty field would vanish in bash's `read`.
        lufs = "-" if t["integrated_lufs"] is None else f"{t['integrated_lufs']:g}"
        measure = t.get("level_measure", "integrated_lufs")
        print(f"{p}\t{lufs}\t{t['ceiling_dbtp']:g}\t{int(dual)}\t{measure}")


def read_tsv(path):
    return [line.rstrip("\n").split("\t") for line in open(path) if line.strip()]


def db(x):
    return 20.0 * math.log10(x) if x > 0 else -math.inf


def parse_ffmpeg(text):
    """Integrated loudness and true peak from ffmpeg's ebur128 log: the
    Summary (0.1 steps) and the metadata injected into the last frame
    (`metadata=1`, printed by `ametadata`: I in 0.001 LU steps, true peak
    linear in 0.001 steps). I is taken from the metadata; the true peak from
    whichever is finer at its level (the linear steps are finer than 0.1 dB
    above about −21 dBFS), with its half-step uncertainty in dB."""
    summary = text[text.rindex("Summary:"):]
    s_i = float(re.search(r"I:\s+(-?[\d.]+|-?inf) LUFS", summary).group(1))
    s_tp = float(re.search(r"Peak:\s+(-?[\d.]+|-?inf) dBFS", summary).group(1))
    meta_i = re.findall(r"lavfi\.r128\.I=(-?[\d.]+|-?inf)", text)
    meta_tp = re.findall(r"lavfi\.r128\.true_peak=([\d.]+)", text)
    i = float(meta_i[-1]) if meta_i else s_i
    tp, tp_step = s_tp, 0.05
    if meta_tp and float(meta_tp[-1]) > 0.0005:
        lin = float(meta_tp[-1])
        step = db(lin + 0.0005) - db(lin)
        if step < tp_step:
            tp, tp_step = db(lin), step
        # Both figures come from the same peak: they must agree to within
        # their rounding.
        consistent = abs(db(lin) - s_tp) <= 0.05 + (db(lin) - db(lin - 0.0005)) + 1e-9
    else:
        consistent = True
    consistent = consistent and abs(i - s_i) <= 0.05 + 0.0005 + 1e-9
    return {"i": i, "tp": tp, "tp_step": tp_step, "summary_i": s_i, "summary_tp": s_tp,
            "consistent": consistent}


def parse_loudgain(text):
    """`loudgain -O`: tab-separated, loudness to 0.01 LU, true peak linear
    to 1e-6 (converted here) and in dBTP to 0.01."""
    rows = [line.split("\t") for line in text.splitlines() if "\t" in line]
    head, row = rows[0], rows[-1]
    col = dict(zip(head, row))
    return {"i": float(col["Loudness"].split()[0]), "tp": db(float(col["True_Peak"]))}


def parse_sox(text):
    """`sox FILE -n stats`: the Overall column's RMS level and sample peak
    (dBFS, all channels)."""
    def overall(label):
        line = next(line for line in text.splitlines() if line.startswith(label))
        return float(line[len(label):].split()[0])
    return {"rms": overall("RMS lev dB"), "peak": overall("Pk lev dB")}


def fmt(v, nd=2):
    if v is None:
        return "–"
    if math.isinf(v):
        return "−∞" if v < 0 else "∞"
    return f"{v:.{nd}f}".replace("-", "−")


def collect(run):
    presets = {
        p[0]: {"lufs": None if p[1] == "-" else float(p[1]), "ceiling": float(p[2]), "dual": p[3] == "1",
               "rms": len(p) > 4 and p[4] == "rms_dbfs"}
        for p in read_tsv(run / "presets.tsv")
    }
    inputs = {r[0]: {"rate": int(r[1]), "channels": int(r[2])} for r in read_tsv(run / "inputs.tsv")}
    rows = []
    for name, preset, code in read_tsv(run / "results.tsv"):
        stem = run / "out" / f"{name}.{preset}"
        wav = stem.with_name(stem.name + ".wav")
        log = (stem.with_name(stem.name + ".master.txt")).read_text(errors="replace")
        r = {
            "input": name,
            "preset": preset,
            "code": int(code),
            # An RMS preset (acx) has no loudness target: its level is checked
            # as RMS (`rms_target`) by our meter and by sox.
            "target": None if presets[preset]["rms"] else presets[preset]["lufs"],
            "rms_target": presets[preset]["lufs"] if presets[preset]["rms"] else None,
            "ceiling": presets[preset]["ceiling"],
            "table_ceiling": presets[preset]["ceiling"],
            "written": int(code) == 0 and wav.exists(),
            "message": log.strip().splitlines()[-1] if log.strip() else "",
            "m": {},
        }
        if r["written"]:
            side = json.loads(wav.with_name(wav.name + ".json").read_text())
            # The ceiling and target the master enforced (its own log).
            r["ceiling"] = side["target"]["ceiling_dbtp"]
            r["target"] = side["target"]["integrated_lufs_used"]
            r["acx"] = side.get("acx")
            if r["rms_target"] is not None:
                r["sox"] = parse_sox(stem.with_name(stem.name + ".sox.txt").read_text())
            ours = json.loads(stem.with_name(stem.name + ".mixmaster.json").read_text())[0]
            r["channels"] = ours["channels"]
            r["rate_out"] = ours["sample_rate"]
            r["rms"] = ours["rms_dbfs"]
            r["sample_peak"] = ours["sample_peak_dbfs"]
            r["m"]["mixmaster"] = {"i": ours["integrated_lufs"], "tp": ours["true_peak_dbtp"]}
            r["m"]["ffmpeg"] = parse_ffmpeg(stem.with_name(stem.name + ".ffmpeg.txt").read_text())
            lg = parse_loudgain(stem.with_name(stem.name + ".loudgain.tsv").read_text())
            r["dual"] = presets[preset]["dual"] and r["channels"] == 1
            if r["dual"]:
                lg["i"] += DUAL_MONO_DB
            r["m"]["loudgain"] = lg
            for m in r["m"].values():
                m["tp_ok"] = m["tp"] <= r["ceiling"]
                m["i_ok"] = None if r["target"] is None else abs(m["i"] - r["target"]) <= TOLERANCE_LU
        else:
            r["numbers"] = refusal_numbers(r["message"])
        rows.append(r)
    return inputs, rows


def refusal_numbers(msg):
    """The figures of an "out of reach" refusal: gain, reached loudness,
    limiting needed and allowed."""
    m = re.search(
        r"target (-?[\d.]+) (?:LUFS|dBFS RMS) is out of reach: with ([+-][\d.]+) dB into the "
        r"limiter the output reaches (-?[\d.]+) (?:LUFS|dBFS RMS) with up to ([\d.]+) dB of "
        r"limiting \(at most ([\d.]+)",
        msg,
    )
    if not m:
        return None
    t, g, got, gr, allowed = (float(x) for x in m.groups())
    return {"target": t, "gain": g, "reached": got, "gr": gr, "allowed": allowed}


def cmd_report(a):
    run = Path(a.dir)
    inputs, rows = collect(run)
    written = [r for r in rows if r["written"]]
    refused = [r for r in rows if not r["written"]]
    with_target = [r for r in rows if r["target"] is not None]
    out = []
    p = out.append

    p(f"Pairs: {len(rows)} ({len(inputs)} inputs × {len(rows) // max(1, len(inputs))} presets); "
      f"written: {len(written)}; refused: {len(refused)}; "
      f"pairs with a loudness target: {len(with_target)}.")
    p("")
    p("| meter | within ±0.1 LU (of written with a target) | within ±0.1 LU (of all pairs with a target) "
      "| test's rule: hits / pairs | over the ceiling | worst true peak − ceiling dB (pair) |")
    p("|---|---|---|---|---|---|")
    over_any = []
    for meter in METERS:
        lw = [r for r in written if r["target"] is not None]
        ok = [r for r in lw if r["m"][meter]["i_ok"]]
        # The acceptance test's rule: a pair without a target counts as a hit
        # when written; a refusal is a miss.
        hits = len(ok) + len([r for r in written if r["target"] is None])
        over = [r for r in written if not r["m"][meter]["tp_ok"]]
        over_any += [(meter, r) for r in over]
        worst = max(written, key=lambda r: r["m"][meter]["tp"] - r["ceiling"])
        wd = worst["m"][meter]["tp"] - worst["ceiling"]
        p(f"| {meter} | {len(ok)} / {len(lw)} | {len(ok)} / {len(with_target)} "
          f"| {hits} / {len(rows)} ({100 * hits / len(rows):.1f} %) | {len(over)} "
          f"| {fmt(wd, 3)} ({worst['input']} × {worst['preset']}) |")
    p("")

    p("Per input, over the presets (written files; integrated − target over the presets with a "
      "target, as min … max; worst true peak − ceiling):")
    p("")
    p("| input | rate Hz | ch | written / presets | I − target mixmaster | ffmpeg | loudgain "
      "| TP − ceiling mixmaster | ffmpeg | loudgain |")
    p("|---|---|---|---|---|---|---|---|---|---|")
    for name, info in inputs.items():
        mine = [r for r in rows if r["input"] == name]
        w = [r for r in mine if r["written"]]
        cells = []
        for meter in METERS:
            d = [r["m"][meter]["i"] - r["target"] for r in w if r["target"] is not None]
            cells.append(f"{fmt(min(d), 3)} … {fmt(max(d), 3)}" if d else "–")
        for meter in METERS:
            d = [r["m"][meter]["tp"] - r["ceiling"] for r in w]
            worst = max(d) if d else None
            cells.append(("**" + fmt(worst, 3) + "**") if worst is not None and worst > 0
                         else fmt(worst, 3))
        p(f"| {name} | {info['rate']} | {info['channels']} | {len(w)} / {len(mine)} | "
          + " | ".join(cells) + " |")
    p("")

    p("Largest differences between meters on written files (meter − mixmaster):")
    p("")
    p("| meter | integrated: max abs LU (pair) | true peak: min dB | max dB (pair) |")
    p("|---|---|---|---|")
    for meter in METERS[1:]:
        di = [(abs(r["m"][meter]["i"] - r["m"]["mixmaster"]["i"]), r) for r in written]
        dt = [(r["m"][meter]["tp"] - r["m"]["mixmaster"]["tp"], r) for r in written]
        mi, ri = max(di, key=lambda x: x[0])
        lo, _ = min(dt, key=lambda x: x[0])
        hi, rh = max(dt, key=lambda x: x[0])
        p(f"| {meter} | {fmt(mi, 3)} ({ri['input']} × {ri['preset']}) | {fmt(lo, 3)} "
          f"| {fmt(hi, 3)} ({rh['input']} × {rh['preset']}) |")
    p("")

    if refused:
        p("Refused (nothing written), with the numbers `mixmaster master` gave:")
        p("")
        p("| input | preset | target LUFS (acx: dBFS RMS) | gain into the limiter dB | reached "
          "| limiting needed dB | allowed dB |")
        p("|---|---|---|---|---|---|---|")
        for r in refused:
            n = r["numbers"]
            if n:
                p(f"| {r['input']} | {r['preset']} | {fmt(n['target'], 1)} | {n['gain']:+.1f} "
                  f"| {fmt(n['reached'], 1)} | {fmt(n['gr'], 1)} | {fmt(n['allowed'], 1)} |")
            else:
                p(f"| {r['input']} | {r['preset']} | exit {r['code']}: {r['message']} | | | | |")
        p("")

    if over_any:
        p("**Over the ceiling** (true peak above the ceiling by at least one meter):")
        p("")
        for meter, r in over_any:
            m = r["m"][meter]
            step = f" ± {m['tp_step']:.3f}" if "tp_step" in m else ""
            p(f"- {meter}: {r['input']} × {r['preset']}: {fmt(m['tp'], 3)}{step} dBTP "
              f"for a {fmt(r['ceiling'], 2)} dBTP ceiling "
              f"(mixmaster {fmt(r['m']['mixmaster']['tp'], 3)}, "
              f"loudgain {fmt(r['m']['loudgain']['tp'], 3)})")
        p("")

    misses = [r for r in written if r["target"] is not None
              and not all(r["m"][m]["i_ok"] for m in METERS)]
    if misses:
        p("Written but outside ±0.1 LU by at least one meter:")
        p("")
        for r in misses:
            figs = ", ".join(f"{m} {fmt(r['m'][m]['i'], 3)}" for m in METERS)
            p(f"- {r['input']} × {r['preset']} (target {fmt(r['target'], 1)}): {figs}")
        p("")

    ceil_diff = sorted({(r["preset"], r["table_ceiling"], r["ceiling"]) for r in written
                        if r["ceiling"] != r["table_ceiling"]})
    for preset, table, used in ceil_diff:
        p(f"Note: `{preset}`: `meter --target` shows a {fmt(table, 1)} dBTP ceiling; "
          f"`master` enforced {fmt(used, 1)} dBTP (its log) — checked against the latter.")
    duals = sorted({(r["input"], r["preset"]) for r in written if r.get("dual")})
    for name, preset in duals:
        p(f"Note: {name} × {preset}: the preset measures mono as dual-mono; ffmpeg ran with "
          f"`dualmono=true`, and {fmt(DUAL_MONO_DB, 2)} dB is added to loudgain's figure.")
    acx = [r for r in written if r["rms_target"] is not None]
    if acx:
        p("RMS presets (`acx`): `master` aims at the unweighted RMS (target "
          f"{fmt(acx[0]['rms_target'], 1)} dBFS ± {TOLERANCE_LU}), true peak ≤ −3.5 dBTP; ACX asks "
          "RMS −23…−18 dBFS and sample peak ≤ −3 dBFS. RMS and sample peak by our meter and by "
          "`sox stats`; the ACX checks `master` logged that did not pass (these inputs are "
          "music: no room tone, so the noise floor fails and room tone is not found):")
        p("")
        p("| input | RMS mm | RMS sox | RMS ±0.1 / window | sample peak mm | sox | ≤ −3 | not passed |")
        p("|---|---|---|---|---|---|---|---|")
        for r in acx:
            t = r["rms_target"]
            near = all(abs(v - t) <= TOLERANCE_LU + 1e-9 for v in (r["rms"], r["sox"]["rms"]))
            inside = all(-23.0 <= v <= -18.0 for v in (r["rms"], r["sox"]["rms"]))
            peak_ok = max(r["sample_peak"], r["sox"]["peak"]) <= -3.0
            bad = [f"{c['check']} ({c['status']})" for c in (r["acx"] or {}).get("checks", [])
                   if c["status"] != "pass"]
            p(f"| {r['input']} | {fmt(r['rms'])} | {fmt(r['sox']['rms'])} "
              f"| {'✓' if near else '**✗**'} / {'✓' if inside else '**✗**'} "
              f"| {fmt(r['sample_peak'])} | {fmt(r['sox']['peak'])} | {'✓' if peak_ok else '**✗**'} "
              f"| {', '.join(bad) or '–'} |")
    if ceil_diff or duals or acx:
        p("")

    p("All pairs (I: integrated LUFS, TP: true peak dBTP; mm = mixmaster, ff = ffmpeg, "
      "lg = loudgain; pass marks per meter mm/ff/lg: ✓ pass, ✗ fail, – n/a):")
    p("")
    p("| input | preset | target LUFS | ceiling dBTP | result | I mm | I ff | I lg "
      "| TP mm | TP ff | TP lg | loudness ±0.1 | TP ≤ ceiling |")
    p("|---|---|---|---|---|---|---|---|---|---|---|---|---|")

    def mark(v):
        return "–" if v is None else ("✓" if v else "**✗**")

    for r in rows:
        head = f"| {r['input']} | {r['preset']} | {fmt(r['target'], 1)} | {fmt(r['ceiling'], 1)} "
        if not r["written"]:
            p(head + f"| refused (exit {r['code']}) | | | | | | | – | – |")
            continue
        m = r["m"]
        p(head + "| written "
          + "".join(f"| {fmt(m[k]['i'])} " for k in METERS)
          + "".join(f"| {fmt(m[k]['tp'])} " for k in METERS)
          + "| " + "".join(mark(m[k]["i_ok"]) for k in METERS)
          + " | " + "".join(mark(m[k]["tp_ok"]) for k in METERS) + " |")

    # ffmpeg's Summary (one decimal) must agree with its metadata.
    bad = [r for r in written if not r["m"]["ffmpeg"]["consistent"]]
    for r in bad:
        p(f"\nWarning: {r['input']} × {r['preset']}: ffmpeg's Summary and metadata disagree "
          f"({r['m']['ffmpeg']})")
    # Only an "out of reach" refusal is an allowed outcome (as in the test).
    unexpected = [r for r in refused if "out of reach" not in r["message"]]
    for r in unexpected:
        p(f"\n**Unexpected failure:** {r['input']} × {r['preset']}: exit {r['code']}: {r['message']}")
    print("\n".join(out))
    status = 0
    if over_any:
        print(f"\nFAIL: {len(over_any)} reading(s) over the ceiling", file=sys.stderr)
        status = 1
    if unexpected:
        print(f"\nFAIL: {len(unexpected)} failure(s) other than an out-of-reach refusal",
              file=sys.stderr)
        status = 1
    return status


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("presets", help="target, ceiling and dual-mono flag of each preset")
    s.add_argument("--mixmaster", required=True)
    s.add_argument("--mono", required=True, help="a mono file (any level) to probe dual-mono")
    s.add_argument("presets", nargs="+")
    s = sub.add_parser("report", help="Markdown report of a run directory")
    s.add_argument("--dir", required=True)
    a = ap.parse_args()
    if a.cmd == "presets":
        cmd_presets(a)
        return 0
    return cmd_report(a)


if __name__ == "__main__":
    sys.exit(main())
