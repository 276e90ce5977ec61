#!/usr/bin/env bash
# Limiter quality benchmark (issue 4): SMPTE two-tone intermodulation
# distortion (60 Hz + 7 kHz, 4:1) of mixmaster's limiter against ffmpeg
# `alimiter` and pedalboard's `Limiter` (and its `BrickwallLimiter`), each
# driven so that it takes R dB off the peaks (R = 6, and 3 and 10), into a
# -1 dBTP / -1 dBFS ceiling. Every output is normalised to one RMS and its
# sidebands 7 kHz +- n x 60 Hz (n = 1..10) measured on the steady-state
# middle (Blackman-Harris FFT); also each output's true peak (ffmpeg
# `ebur128=peak=true`) and actual peak reduction. Prints a Markdown table
# for BENCHMARKS.md; the method is in scripts/limiter_imd.py.
#
#   scripts/bench_limiter_imd.sh
#   REDUCTIONS="6" scripts/bench_limiter_imd.sh      # the main case only
#
# Our limiter runs alone through `cargo run --example limit` (latency
# compensated, 32-bit float). Everything generated goes to
# bench-data/limiter-imd/ (not committed), with results.json (all
# sideband levels).
set -euo pipefail
cd "$(dirname "$0")/.."
REDUCTIONS=${REDUCTIONS:-"6 3 10"}
CEILING=${CEILING:--1}
DATA=bench-data/limiter-imd

need=()
command -v ffmpeg >/dev/null 2>&1 || need+=(ffmpeg)
command -v python3 >/dev/null 2>&1 || need+=(python3 python3-pip)
if [ ${#need[@]} -gt 0 ]; then
    sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq && $sudo_cmd apt-get install -y -qq "${need[@]}"
fi
python3 -c "import numpy, pedalboard" 2>/dev/null || python3 -m pip install -q numpy pedalboard

cargo build --release --locked -q -p mixmaster-engine --example limit
LIMIT=target/release/examples/limit

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "peers: $(ffmpeg -version | head -1 | cut -d' ' -f1-3); pedalboard $(python3 -c 'import pedalboard; print(pedalboard.__version__)'); numpy $(python3 -c 'import numpy; print(numpy.__version__)')"
echo

# shellcheck disable=SC2086
python3 scripts/limiter_imd.py run --limit "$LIMIT" --dir "$DATA" --ceiling "$CEILING" \
    --reductions $REDUCTIONS --main "${REDUCTIONS%% *}"
