#!/usr/bin/env bash
# `mixmaster report` on a song-length master (issue 6), side by side with
# what a user of ffmpeg or sox runs to look at a file.
#
# A MINUTES-minute demo song (the `mastering_inputs` example, 32-bit float
# mix) is mastered for Spotify by `mixmaster master` (48 kHz/24-bit WAV);
# then, RUNS times each, in turn:
#   - mixmaster report MASTER --compare MIX -o report.html (the HTML: six
#     plots, every check including the MP3 encode → decode, BEFORE analysed);
#   - the same with --png DIR (the plots also as PNG);
#   - ffmpeg: ebur128=peak=true (figures), showwavespic and showspectrumpic
#     (two pictures; the spectrum 512 high: at 712, not a power of two,
#     ffmpeg 5.1 took 3 minutes for one minute of audio) — three commands,
#     timed together;
#   - sox: `stats` (figures) and `spectrogram` (one picture).
# The peers draw fewer pictures and run no translation checks; the ratio
# says what a full report costs against the quick look. Also printed: our
# report's integrated loudness and true peak against ffmpeg's ebur128.
# Prints Markdown for BENCHMARKS.md. Everything goes to bench-data/report/.
#
#   scripts/bench_report.sh                   # 4-minute song, 5 runs
#   MINUTES=1 RUNS=1 scripts/bench_report.sh
set -euo pipefail
cd "$(dirname "$0")/.."
MINUTES=${MINUTES:-4}
RUNS=${RUNS:-5}
DATA=bench-data/report

need=()
for pair in ffmpeg:ffmpeg sox:sox python3:python3; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || need+=("${pair#*:}")
done
if [ ${#need[@]} -gt 0 ]; then
    sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq && $sudo_cmd apt-get install -y -qq "${need[@]}"
fi

cargo build --release -q -p mixmaster --bin mixmaster
cargo build --release -q -p mixmaster-engine --example mastering_inputs
MM=target/release/mixmaster
GEN=target/release/examples/mastering_inputs

rm -rf "$DATA"
mkdir -p "$DATA"
"$GEN" "$DATA" --seconds $((MINUTES * 60)) --name demo-song >/dev/null
MIX="$DATA/demo-song.wav"
MASTER="$DATA/master.wav"
"$MM" master "$MIX" -o "$MASTER" --target spotify >/dev/null

# Wall seconds of a command (quiet), appended to the array named $1.
timed() {
    local -n into=$1
    shift
    local t0 t1
    t0=$(date +%s.%N)
    "$@" >/dev/null 2>&1
    t1=$(date +%s.%N)
    into+=("$(echo "$t1 - $t0" | bc -l)")
}
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {printf "%.2f", a[int((NR + 1) / 2)]}'; }

ffmpeg_look() {
    ffmpeg -hide_banner -nostats -i "$MASTER" -af ebur128=peak=true -f null - &&
        ffmpeg -hide_banner -y -i "$MASTER" -filter_complex showwavespic=s=1920x712 \
            -frames:v 1 "$DATA/ffmpeg-wave.png" &&
        ffmpeg -hide_banner -y -i "$MASTER" -lavfi showspectrumpic=s=1920x512 \
            "$DATA/ffmpeg-spectrum.png"
}
sox_look() {
    sox "$MASTER" -n stats && sox "$MASTER" -n spectrogram -x 1920 -y 513 -o "$DATA/sox-spectrum.png"
}

html=(); png=(); ff=(); sx=()
for _ in $(seq "$RUNS"); do
    timed html "$MM" report "$MASTER" --compare "$MIX" -o "$DATA/report.html"
    timed png "$MM" report "$MASTER" --compare "$MIX" -o "$DATA/report-png.html" --png "$DATA/png"
    timed ff ffmpeg_look
    timed sx sox_look
done
/usr/bin/time -f '%M' -o "$DATA/rss.txt" "$MM" report "$MASTER" --compare "$MIX" \
    -o "$DATA/report.html" --json >"$DATA/report.json"
rss_kb=$(cat "$DATA/rss.txt")
ffmpeg -hide_banner -nostats -i "$MASTER" -af ebur128=peak=true -f null - 2>"$DATA/ffmpeg.txt" || true

m_html=$(median "${html[@]}"); m_png=$(median "${png[@]}")
m_ff=$(median "${ff[@]}"); m_sx=$(median "${sx[@]}")
python3 - "$DATA" "$MINUTES" "$RUNS" "$m_html" "$m_png" "$m_ff" "$m_sx" "$rss_kb" <<'EOF'
import json, os, re, sys
data, minutes, runs, m_html, m_png, m_ff, m_sx, rss = sys.argv[1:]
r = json.load(open(f"{data}/report.json"))
ff = open(f"{data}/ffmpeg.txt").read().split("Summary:")[-1]
ff_i = float(re.search(r"I:\s+(-?[\d.]+) LUFS", ff).group(1))
ff_tp = float(re.search(r"Peak:\s+(-?[\d.]+) dBFS", ff).group(1))
size = os.path.getsize(f"{data}/report.html") / 1024
fails = [c["id"] for c in r["checks"] if c["status"] != "pass"]
print(f"### `mixmaster report` on a {minutes}-minute master (`MINUTES={minutes} RUNS={runs} scripts/bench_report.sh`)\n")
print("| command | what it gives | median wall time |")
print("|---|---|---|")
print(f"| `mixmaster report MASTER --compare MIX -o report.html` | figures of both files, 7 checks (MP3 encode → decode included), 6 plots, platform table; one {size:.0f} KB HTML | **{m_html} s** |")
print(f"| … `--png DIR` | the same + 6 PNGs (1920 × 712) | {m_png} s |")
print(f"| ffmpeg `ebur128=peak=true` + `showwavespic` + `showspectrumpic` | loudness figures, 2 pictures | {m_ff} s |")
print(f"| sox `stats` + `spectrogram` | level figures, 1 picture | {m_sx} s |")
print()
print(f"- Ratios (medians of {runs}): report / ffmpeg's quick look **{float(m_html) / float(m_ff):.2f}×**, "
      f"report / sox **{float(m_html) / float(m_sx):.2f}×**; the PNGs add {float(m_png) - float(m_html):.2f} s.")
print(f"- Peak RSS of `mixmaster report --json`: {int(rss) / 1024:.0f} MB.")
print(f"- Our report vs ffmpeg's ebur128 on the master: integrated {r['integrated_lufs']:.2f} vs {ff_i:.1f} LUFS, "
      f"true peak {r['true_peak_dbtp']:.2f} vs {ff_tp:.1f} dBTP (ffmpeg rounds to 0.1).")
print(f"- Checks not passing on this master: {', '.join(fails) if fails else 'none'}.")
EOF
echo
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); $($MM --version)"
