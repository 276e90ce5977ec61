#!/usr/bin/env bash
# Benchmark of `mixmaster meter --json FILE` against libebur128 (Debian's
# loudgain) and ffmpeg's ebur128=peak=true, side by side in one run, on
# 10-minute stereo 48 kHz 24-bit WAV files generated here. Prints a Markdown
# table of medians, ratios and peak memory for BENCHMARKS.md.
#
#   scripts/bench_meter.sh            # 7 runs per command
#   RUNS=3 MINUTES=2 scripts/bench_meter.sh
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-7}
MINUTES=${MINUTES:-10}
DATA=bench-data

need=()
for pair in ffmpeg:ffmpeg loudgain:loudgain hyperfine:hyperfine sox:sox /usr/bin/time:time; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || need+=("${pair#*:}")
done
if [ ${#need[@]} -gt 0 ]; then
    sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq && $sudo_cmd apt-get install -y -qq "${need[@]}"
fi

cargo build --release --locked -q
MM=target/release/mixmaster
mkdir -p "$DATA"
secs=$((MINUTES * 60))
music="$DATA/music-${MINUTES}min-48k-24bit.wav"
noise="$DATA/noise-${MINUTES}min-48k-24bit.wav"
if [ ! -f "$music" ]; then
    # The demo song mixed for the whole length, stored as 24-bit WAV.
    $MM demo --seconds "$secs" --out-dir "$DATA/demo" >/dev/null
    sox "$DATA/demo/mix.wav" -b 24 "$music"
    rm -rf "$DATA/demo"
fi
if [ ! -f "$noise" ]; then
    sox -n -r 48000 -b 24 -c 2 "$noise" synth "$secs" pinknoise vol 0.25 tremolo 0.3 60
fi

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "peers: $(loudgain --version 2>&1 | head -1 | sed 's/\x1b\[[0-9;]*m//g'); $(ffmpeg -version | head -1 | cut -d' ' -f1-3)"
echo

for f in "$music" "$noise"; do
    name=$(basename "$f" .wav)
    hyperfine -N --warmup 1 --runs "$RUNS" --export-json "$DATA/$name.json" \
        -n mixmaster "$MM meter --json $f" \
        -n loudgain "loudgain -q -O $f" \
        -n ffmpeg "ffmpeg -hide_banner -nostats -i $f -af ebur128=peak=true -f null -" >/dev/null
    for cmd in mixmaster loudgain ffmpeg; do
        case $cmd in
            mixmaster) c="$MM meter --json $f" ;;
            loudgain) c="loudgain -q -O $f" ;;
            ffmpeg) c="ffmpeg -hide_banner -nostats -i $f -af ebur128=peak=true -f null -" ;;
        esac
        /usr/bin/time -f "%M" -o "$DATA/$name.$cmd.rss" $c >"$DATA/$name.$cmd.out" 2>"$DATA/$name.$cmd.err" || true
    done
done

python3 - "$DATA" "$music" "$noise" <<'PY'
import json, re, statistics, sys, os
data = sys.argv[1]
print("| input | tool | median s | min s | max s | ratio (peer / mixmaster) | peak RSS MB | integrated | true peak |")
print("|---|---|---|---|---|---|---|---|---|")
for f in sys.argv[2:]:
    name = os.path.basename(f)[:-4]
    res = {r["command"]: r for r in json.load(open(f"{data}/{name}.json"))["results"]}
    ours = statistics.median(res["mixmaster"]["times"])
    for cmd in ["mixmaster", "loudgain", "ffmpeg"]:
        t = res[cmd]["times"]
        med = statistics.median(t)
        rss = int(open(f"{data}/{name}.{cmd}.rss").read().split()[-1]) / 1024
        out = open(f"{data}/{name}.{cmd}.out").read() + open(f"{data}/{name}.{cmd}.err").read()
        i = tp = "?"
        if cmd == "mixmaster":
            j = json.loads(out[: out.rindex("]") + 1])[0]
            i, tp = f"{j['integrated_lufs']:.2f}", f"{j['true_peak_dbtp']:.2f}"
        elif cmd == "loudgain":
            cols = out.strip().splitlines()[-1].split("\t")
            i, tp = cols[1].split()[0], cols[4].split()[0] if len(cols) > 4 else "?"
        else:
            m = re.findall(r"I:\s+(-?[\d.]+) LUFS", out); i = m[-1] if m else "?"
            m = re.findall(r"Peak:\s+(-?[\d.inf]+) dBFS", out); tp = m[-1] if m else "?"
        ratio = "1.00" if cmd == "mixmaster" else f"{med / ours:.2f}x"
        print(f"| {name} | {cmd} | {med:.3f} | {min(t):.3f} | {max(t):.3f} | {ratio} | {rss:.1f} | {i} | {tp} |")
PY
