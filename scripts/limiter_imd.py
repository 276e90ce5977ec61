#!/usr/bin/env python3
"""Helper of scripts/bench_limiter_imd.sh: SMPTE two-tone intermodulation
distortion of limiters (mixmaster's, ffmpeg alimiter, pedalboard's Limiter
and BrickwallLimiter) at a set peak reduction.

The test signal (SMPTE RP 120 / IEC 60268-3 two-tone IMD): 60 Hz and 7 kHz
sines, amplitudes 4:1, identical in both channels, 48 kHz, 32-bit float,
faded in and out over 50 ms; its true peak (the continuous waveform's) is
set to the ceiling, -1 dBTP. Each limiter then gets R dB of gain in front
of it (R = 3, 6, 10), so its peaks must come down by R dB: our `--drive-db`,
alimiter's `level_in`, a gain in numpy for pedalboard.

IMD is measured on the steady-state middle of each output: 2.4 s from
2.0 s (48 whole periods of the signal, which repeats every 50 ms), after
normalising the output to the input's RMS there (IMD is a ratio; the
normalisation only puts every spectrum on one scale). A 4-term
Blackman-Harris window (Harris, Proc. IEEE 66(1), 1978: -92 dB side lobes)
over the 2.4 s puts every tone (all multiples of 20 Hz) exactly on a bin;
a tone's amplitude is the energy of its main lobe (+-4 bins):
A = 2 sqrt(E / (N sum w^2)). Then

    IMD = sqrt(sum_{n=1..N} (A(7k - n 60)^2 + A(7k + n 60)^2)) / A(7k)

with N = 10 (7 kHz +- 600 Hz), in % and dB.

Peak reduction = input true peak + R + the tool's small-signal gain -
output true peak, both over the analysis window (8x band-limited
interpolation; the small-signal gain is 0 dB except for pedalboard's
Limiter, whose make-up gain is 3.75 dB - threshold_db). The output true
peak in the table is ffmpeg's `ebur128=peak=true` over the whole file, so
an overshoot at the onset shows there. The RMS change is the steady-state
RMS against the input's plus R: what the limiting took off on average.

Subcommands (see `limiter_imd.py SUBCOMMAND -h`):
  signal  write the test signal
  imd     measure one file (IMD, sidebands, peaks, RMS)
  run     generate, process with every tool, measure, print a Markdown table
"""

import argparse
import json
import math
import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np

RATE = 48000
F_LOW = 60.0
F_HIGH = 7000.0
RATIO = 4.0  # amplitude of F_LOW over that of F_HIGH
FADE_S = 0.05
# The signal repeats every 1 / gcd(60, 7000) = 50 ms.
PERIOD_S = 0.05
ANALYSIS_START_S = 2.0
ANALYSIS_PERIODS = 48  # 2.4 s
SIDEBANDS = 10
LOBE_BINS = 4  # half width of the Blackman-Harris main lobe


def run(argv, **kw):
    r = subprocess.run(argv, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        sys.exit(f"failed ({r.returncode}): {shlex.join(map(str, argv))}\n{r.stderr}{r.stdout}")
    return r


def db(x):
    return 20.0 * math.log10(x) if x > 0 else float("-inf")


# --------------------------------------------------------------------------
# Audio files (32-bit float WAV through ffmpeg, so any WAV layout reads)
# --------------------------------------------------------------------------

def write_wav(path, x):
    """x: (channels, frames) float array -> 32-bit float WAV."""
    data = np.ascontiguousarray(x.T, dtype="<f4").tobytes()
    r = subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "f32le",
                        "-ar", str(RATE), "-ac", str(x.shape[0]), "-i", "-", "-c:a", "pcm_f32le",
                        str(path)], input=data, capture_output=True)
    if r.returncode != 0:
        sys.exit(f"ffmpeg could not write {path}: {r.stderr.decode()}")


def read_wav(path, channels=2):
    r = subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-i", str(path),
                        "-f", "f32le", "-ac", str(channels), "-"], capture_output=True)
    if r.returncode != 0:
        sys.exit(f"ffmpeg could not read {path}: {r.stderr.decode()}")
    return np.frombuffer(r.stdout, dtype="<f4").reshape(-1, channels).T.astype(np.float64)


def true_peak_db(path):
    """True peak (dBTP) by ffmpeg's ebur128 meter (resamples to 192 kHz)."""
    r = run(["ffmpeg", "-hide_banner", "-nostats", "-i", str(path),
             "-af", "ebur128=peak=true", "-f", "null", "-"])
    m = re.search(r"True peak:\s*\n\s*Peak:\s*(-?[\d.]+|-inf)", r.stderr)
    if not m:
        sys.exit(f"no true peak in ffmpeg's output for {path}")
    return float(m.group(1))


# --------------------------------------------------------------------------
# Signal and analysis
# --------------------------------------------------------------------------

def smpte(seconds, peak_dbtp):
    """Stereo SMPTE signal whose continuous waveform peaks at peak_dbtp."""
    n = int(round(seconds * RATE))
    t = np.arange(n) / RATE
    x = RATIO * np.sin(2 * np.pi * F_LOW * t) + np.sin(2 * np.pi * F_HIGH * t)
    # The continuous peak, over one whole period on a 1 MHz grid (the
    # remaining error is below 1e-6 dB).
    tt = np.arange(int(PERIOD_S * 1e6)) / 1e6
    peak = np.max(np.abs(RATIO * np.sin(2 * np.pi * F_LOW * tt) + np.sin(2 * np.pi * F_HIGH * tt)))
    x *= 10 ** (peak_dbtp / 20) / peak
    fade = int(FADE_S * RATE)
    ramp = 0.5 - 0.5 * np.cos(np.pi * np.arange(fade) / fade)
    x[:fade] *= ramp
    x[-fade:] *= ramp[::-1]
    return np.stack([x, x])


def steady_true_peak_db(x):
    """True peak of the analysis window: 8x band-limited interpolation by
    zero-padding its spectrum, exact for a signal periodic in the window
    (the input, and every output once its gain pattern has settled)."""
    start = int(ANALYSIS_START_S * RATE)
    n = int(round(ANALYSIS_PERIODS * PERIOD_S * RATE))
    up = 8
    peak = 0.0
    for ch in x[:, start:start + n]:
        spec = np.fft.rfft(ch)
        peak = max(peak, float(np.max(np.abs(np.fft.irfft(spec, up * n)))) * up)
    return db(peak)


def blackman_harris(n):
    k = 2 * np.pi * np.arange(n) / n  # periodic form: exact on-bin tones
    return 0.35875 - 0.48829 * np.cos(k) + 0.14128 * np.cos(2 * k) - 0.01168 * np.cos(3 * k)


def analyse(x, sidebands=SIDEBANDS, reference_rms=None):
    """IMD and more of the steady-state window of x (channels, frames)."""
    start = int(ANALYSIS_START_S * RATE)
    n = int(round(ANALYSIS_PERIODS * PERIOD_S * RATE))
    if x.shape[1] < start + n:
        sys.exit("signal too short for the analysis window")
    seg = x[:, start:start + n]
    rms = float(np.sqrt(np.mean(seg ** 2)))
    scale = reference_rms / rms if reference_rms else 1.0
    w = blackman_harris(n)
    norm = n * np.sum(w ** 2)
    hz_per_bin = RATE / n
    amps = []
    for ch in seg:
        spec = np.abs(np.fft.rfft(ch * scale * w)) ** 2

        def amp(f):
            k = int(round(f / hz_per_bin))
            return 2.0 * math.sqrt(spec[k - LOBE_BINS:k + LOBE_BINS + 1].sum() / norm)

        carrier = amp(F_HIGH)
        lower = [amp(F_HIGH - i * F_LOW) for i in range(1, sidebands + 1)]
        upper = [amp(F_HIGH + i * F_LOW) for i in range(1, sidebands + 1)]
        # Floor: the median bin between the sidebands (7 kHz +- 30 + 60 m).
        gaps = [amp(F_HIGH + s * (30 + 60 * m)) for m in range(sidebands) for s in (-1, 1)]
        amps.append((carrier, lower, upper, float(np.median(gaps))))
    # The channels are identical in every tool's output; report the first
    # and check the second agrees.
    carrier, lower, upper, floor = amps[0]
    imd = math.sqrt(sum(a * a for a in lower + upper)) / carrier
    imd_other = math.sqrt(sum(a * a for a in amps[-1][1] + amps[-1][2])) / amps[-1][0]
    return {
        "imd_pct": 100 * imd,
        "imd_db": db(imd),
        "imd_other_channel_pct": 100 * imd_other,
        "carrier_db": db(carrier),
        "sidebands_db": {f"{-i}": db(a / carrier) for i, a in enumerate(lower, 1)}
        | {f"+{i}": db(a / carrier) for i, a in enumerate(upper, 1)},
        "floor_db": db(floor / carrier),
        "rms_dbfs": db(rms),
        "sample_peak_dbfs": db(float(np.max(np.abs(seg)))),
        "steady_true_peak_dbtp": steady_true_peak_db(x),
    }


# --------------------------------------------------------------------------
# The tools
# --------------------------------------------------------------------------

def ours(limit_bin, src, dst, drive_db, ceiling, character, release_ms):
    argv = [limit_bin, src, dst, "--drive-db", f"{drive_db:g}", "--ceiling", f"{ceiling:g}",
            "--character", character]
    if release_ms is not None:
        argv += ["--release-ms", f"{release_ms:g}"]
    out = run(argv).stdout
    m = re.search(r"max ([\d.]+) dB, average ([\d.]+) dB", out)
    return {"max_gr_db": float(m.group(1)), "avg_gr_db": float(m.group(2))} if m else {}


def alimiter(src, dst, drive_db, ceiling, attack_ms, release_ms):
    # level=0: no auto level (it would scale the output by 1 / limit);
    # latency=1: delay compensated; asc (auto release) left off (it gave a
    # bit-identical output on this signal).
    graph = (f"alimiter=level_in={10 ** (drive_db / 20):.6f}:limit={10 ** (ceiling / 20):.6f}"
             f":attack={attack_ms:g}:release={release_ms:g}:level=0:latency=1")
    run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-i", src, "-af", graph,
         "-c:a", "pcm_f32le", dst])
    return {"graph": graph}


def transparent_release_ms(release_ms):
    """The release time constant of our transparent character on this
    signal: release_ms (1 + 3 beta), beta = the share of the energy below
    150 Hz after two one-pole low-passes (crates/dsp/src/limiter.rs,
    "Program-dependent release"): about 3.1 x release_ms."""
    lowpass = (1 / (1 + (F_LOW / 150.0) ** 2)) ** 2
    beta = RATIO ** 2 * lowpass / (RATIO ** 2 + 1)
    return release_ms * (1 + 3.0 * beta)


def pb_limiter(x, dst, gain_db, threshold_db, release_ms):
    import pedalboard
    y = pedalboard.Limiter(threshold_db=threshold_db, release_ms=release_ms)(
        (x * 10 ** (gain_db / 20)).astype(np.float32), RATE)
    write_wav(dst, y)
    return {}


def pb_brickwall(x, dst, drive_db, ceiling, release_ms, lookahead_ms, true_peak):
    import pedalboard
    lim = pedalboard.BrickwallLimiter(ceiling_db=ceiling, release_ms=release_ms,
                                      lookahead_ms=lookahead_ms, true_peak=true_peak)
    y = lim((x * 10 ** (drive_db / 20)).astype(np.float32), RATE)
    write_wav(dst, y)
    return {}


# pedalboard's Limiter (JUCE dsp::Limiter): stage 1 compresses 4:1 above
# -10 dBFS (2 ms attack, 200 ms release), stage 2 limits at threshold_db
# (1000:1, 1 us attack, release_ms), then make-up gain 3.75 dB - threshold_db
# and a hard clip at 0 dBFS. Whenever stage 2 acts, its output (threshold_db)
# plus the make-up lands at +3.75 dBFS and the clip takes the rest.
PB_MAKEUP_DB = 3.75


def pb_calibrate(x, reduction_db, ceiling, release_ms):
    """Input gain and threshold for pedalboard's Limiter so that its peaks
    come down by reduction_db (against its make-up gain) and its output
    peaks at the ceiling without touching the clip: stage 1 does the work,
    the threshold only sets the make-up. Bisection on the input gain with
    a high threshold (stage 2 idle), then threshold = stage-1 peak +
    3.75 dB - ceiling."""
    import pedalboard
    in_peak_db = steady_true_peak_db(x)

    def stage1_reduction(gain_db, threshold_db=0.0):
        y = pedalboard.Limiter(threshold_db=threshold_db, release_ms=release_ms)(
            (x * 10 ** (gain_db / 20)).astype(np.float32), RATE)
        out_db = steady_true_peak_db(y.astype(np.float64))
        return in_peak_db + gain_db + PB_MAKEUP_DB - threshold_db - out_db, out_db

    lo, hi = -20.0, 30.0
    for _ in range(24):
        mid = (lo + hi) / 2
        if stage1_reduction(mid)[0] < reduction_db:
            lo = mid
        else:
            hi = mid
    gain_db = (lo + hi) / 2
    _, out_db = stage1_reduction(gain_db)
    stage1_peak = out_db - PB_MAKEUP_DB  # threshold 0 dB: make-up 3.75 dB
    threshold_db = stage1_peak + PB_MAKEUP_DB - ceiling
    if threshold_db <= stage1_peak:
        sys.exit("pedalboard calibration: stage 2 would act")
    return gain_db, threshold_db


def pb_calibrate_stage2(x, reduction_db, gain_db, release_ms):
    """Threshold for pedalboard's Limiter, at a fixed input gain, so that
    its peaks come down by reduction_db: bisection."""
    import pedalboard
    in_peak_db = steady_true_peak_db(x) + gain_db

    def reduction(threshold_db):
        y = pedalboard.Limiter(threshold_db=threshold_db, release_ms=release_ms)(
            (x * 10 ** (gain_db / 20)).astype(np.float32), RATE)
        return in_peak_db + PB_MAKEUP_DB - threshold_db - steady_true_peak_db(y.astype(np.float64))

    lo, hi = in_peak_db - 30.0, in_peak_db  # reduction falls as the threshold rises
    for _ in range(24):
        mid = (lo + hi) / 2
        if reduction(mid) > reduction_db:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


# --------------------------------------------------------------------------
# Commands
# --------------------------------------------------------------------------

def cmd_signal(a):
    write_wav(a.out, smpte(a.seconds, a.peak_dbtp))


def cmd_imd(a):
    x = read_wav(a.file)
    r = analyse(x, a.sidebands)
    r["true_peak_dbtp"] = true_peak_db(a.file)
    print(json.dumps(r, indent=1))


def cmd_run(a):
    d = Path(a.dir)
    d.mkdir(parents=True, exist_ok=True)
    src = d / "smpte.wav"
    write_wav(src, smpte(a.seconds, a.ceiling))
    x = read_wav(src)
    in_tp = true_peak_db(src)
    ref = analyse(x)
    rows = [{"tool": "input (no limiter)", "settings": f"true peak {in_tp:.2f} dBTP", "reduction": 0,
             "small_gain_db": 0.0, "file": src}]
    for r_db in a.reductions:
        tag = f"{r_db:g}dB"
        for character in a.characters:
            out = d / f"mixmaster-{character}-{tag}.wav"
            extra = ours(a.limit, src, out, r_db, a.ceiling, character, None)
            rows.append({"tool": "mixmaster", "settings": f"{character}, lookahead 2 ms, release 100 ms, "
                         f"ceiling {a.ceiling:g} dBTP, drive {r_db:g} dB",
                         "reduction": r_db, "small_gain_db": r_db, "file": out, **extra})
        # Our lookahead and release_ms; alimiter's defaults; our effective
        # release on this signal.
        alimiter_sets = [(2.0, 100.0)]
        if r_db == a.main:
            alimiter_sets += [(5.0, 50.0), (2.0, round(transparent_release_ms(100.0)))]
        for attack, release in alimiter_sets:
            out = d / f"alimiter-a{attack:g}-r{release:g}-{tag}.wav"
            extra = alimiter(str(src), str(out), r_db, a.ceiling, attack, release)
            rows.append({"tool": "ffmpeg alimiter", "settings": f"attack {attack:g} ms, release {release:g} ms, "
                         f"limit {a.ceiling:g} dBFS, level_in +{r_db:g} dB, level=0",
                         "reduction": r_db, "small_gain_db": r_db, "file": out, **extra})
        gain_db, thr = pb_calibrate(x, r_db, a.ceiling, 100.0)
        out = d / f"pedalboard-limiter-{tag}.wav"
        pb_limiter(x, out, gain_db, thr, 100.0)
        rows.append({"tool": "pedalboard Limiter", "settings": f"threshold {thr:.2f} dB, release 100 ms, "
                     f"input gain {gain_db:+.2f} dB (stage 2 idle)", "reduction": r_db,
                     "small_gain_db": gain_db + PB_MAKEUP_DB - thr, "file": out})
        if r_db == a.main:
            # Stage 2 acting: input true peak -12 dBTP (stage 1 idle), the
            # threshold set so that stage 2 and the clip take r_db off.
            gain_db = -12.0 - a.ceiling
            thr = pb_calibrate_stage2(x, r_db, gain_db, 100.0)
            out = d / f"pedalboard-limiter-stage2-{tag}.wav"
            pb_limiter(x, out, gain_db, thr, 100.0)
            rows.append({"tool": "pedalboard Limiter", "settings": f"threshold {thr:.2f} dB, release 100 ms, "
                         f"input gain {gain_db:+.2f} dB (stage 2 acts, output clipped)", "reduction": r_db,
                         "small_gain_db": gain_db + PB_MAKEUP_DB - thr, "file": out})
        out = d / f"pedalboard-brickwall-{tag}.wav"
        pb_brickwall(x, out, r_db, a.ceiling, 100.0, 2.0, True)
        rows.append({"tool": "pedalboard BrickwallLimiter", "settings": f"ceiling {a.ceiling:g} dB, release 100 ms, "
                     f"lookahead 2 ms, true_peak, drive {r_db:g} dB", "reduction": r_db,
                     "small_gain_db": r_db, "file": out})

    for row in rows:
        y = read_wav(row["file"])
        row |= analyse(y, reference_rms=10 ** (ref["rms_dbfs"] / 20))
        row["true_peak_dbtp"] = true_peak_db(row["file"])
        row["peak_reduction_db"] = (ref["steady_true_peak_dbtp"] + row["small_gain_db"]
                                    - row["steady_true_peak_dbtp"])
        # RMS of the steady state against the input's with the small-signal
        # gain: how much level the limiting took off on average.
        row["rms_change_db"] = row["rms_dbfs"] - ref["rms_dbfs"] - row["small_gain_db"]
        row["file"] = str(row["file"])
    (d / "results.json").write_text(json.dumps(rows, indent=1))

    print(f"input: {src}, {a.seconds:g} s, true peak {in_tp:.2f} dBTP (ffmpeg ebur128), "
          f"analysis {ANALYSIS_START_S:g} s + {ANALYSIS_PERIODS * PERIOD_S:g} s, N = {SIDEBANDS}")
    print()
    print("| target | tool | settings | peak reduction (dB) | output true peak (dBTP, whole file) "
          "| RMS change (dB) | IMD (%) | IMD (dB) |")
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['reduction']:g} dB | {row['tool']} | {row['settings']} | {row['peak_reduction_db']:.2f} "
              f"| {row['true_peak_dbtp']:+.2f} | {row['rms_change_db']:+.2f} | {row['imd_pct']:.4f} "
              f"| {row['imd_db']:.1f} |")
    if a.verbose:
        for row in rows:
            sb = " ".join(f"{k}:{v:.0f}" for k, v in row["sidebands_db"].items())
            print(f"{row['reduction']:g} {row['tool']} [{row['settings'][:30]}] floor {row['floor_db']:.0f} dB; {sb}",
                  file=sys.stderr)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("signal")
    p.add_argument("--out", required=True)
    p.add_argument("--seconds", type=float, default=6.0)
    p.add_argument("--peak-dbtp", type=float, default=-1.0)
    p.set_defaults(fn=cmd_signal)
    p = sub.add_parser("imd")
    p.add_argument("file")
    p.add_argument("--sidebands", type=int, default=SIDEBANDS)
    p.set_defaults(fn=cmd_imd)
    p = sub.add_parser("run")
    p.add_argument("--limit", required=True, help="the `limit` example binary")
    p.add_argument("--dir", required=True)
    p.add_argument("--seconds", type=float, default=6.0)
    p.add_argument("--ceiling", type=float, default=-1.0)
    p.add_argument("--reductions", type=float, nargs="+", default=[6.0, 3.0, 10.0])
    p.add_argument("--main", type=float, default=6.0, help="the reduction with the extra rows")
    p.add_argument("--characters", nargs="+", default=["transparent", "punchy", "aggressive"])
    p.add_argument("--verbose", action="store_true", help="sideband levels on stderr")
    p.set_defaults(fn=cmd_run)
    a = ap.parse_args()
    a.fn(a)
