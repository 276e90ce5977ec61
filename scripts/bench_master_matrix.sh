#!/usr/bin/env bash
# Mastering acceptance, checked by three meters (issue 4): the ten generated
# inputs of the mastering test (`mixmaster_engine::programmes`, written as
# 32-bit float WAV by the `mastering_inputs` example) × every delivery
# preset, each mastered with `mixmaster master IN -o OUT --target PRESET`
# (default maximum limiter gain reduction). Every written file is measured by
# `mixmaster meter --json`, by ffmpeg's `ebur128=peak=true` and by loudgain
# (libebur128). A refusal ("out of reach", nothing written) is allowed and
# listed with its numbers. Prints the Markdown summary and table for
# BENCHMARKS.md; exits non-zero if any meter reads a written file over its
# ceiling, or if `master` fails other than by an "out of reach" refusal.
#
#   scripts/bench_master_matrix.sh                   # 4 s inputs (the test's)
#   SECONDS_LEN=30 scripts/bench_master_matrix.sh    # longer inputs
#   PRESETS="spotify cd" scripts/bench_master_matrix.sh
#
# Checks per written file and meter: true peak ≤ the ceiling `master`
# enforced (its log, OUT.json); |integrated − target| ≤ 0.1 LU where the
# preset has a loudness target (n/a otherwise); for an RMS preset (acx) the
# RMS (our meter and `sox stats`) against its aim and ACX's window, and the
# sample peak against −3 dBFS. Where a preset measures mono
# as dual-mono (podcast), ffmpeg runs with `dualmono=true` and 3.01 dB is
# added to loudgain's figure (libebur128 as loudgain drives it measures mono
# as one channel). Everything goes to bench-data/master-matrix/ (not
# committed), cleared at the start of each run.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_LEN=${SECONDS_LEN:-4}
# Every preset of `mixmaster master --help` (crates/core/src/targets.rs):
# each has a ceiling, most a loudness target; `none` is the test's too.
PRESETS=${PRESETS:-"spotify apple-music youtube amazon-music tidal deezer soundcloud ebu-r128 atsc-a85 aes-streaming podcast acx cd none"}
DATA=bench-data/master-matrix

need=()
for pair in ffmpeg:ffmpeg loudgain:loudgain python3:python3 sox:sox; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || need+=("${pair#*:}")
done
if [ ${#need[@]} -gt 0 ]; then
    sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq && $sudo_cmd apt-get install -y -qq "${need[@]}"
fi

cargo build --release --locked -q
cargo build --release --locked -q -p mixmaster-engine --example mastering_inputs
MM=target/release/mixmaster
PY="python3 scripts/bench_master_matrix.py"
run=$DATA/${SECONDS_LEN}s
rm -rf "$run"
mkdir -p "$run/in" "$run/out"

target/release/examples/mastering_inputs "$run/in" --seconds "$SECONDS_LEN" >"$run/inputs.tsv"
mono=$(awk -F'\t' '$3 == 1 { print $5; exit }' "$run/inputs.tsv")
# shellcheck disable=SC2086
$PY presets --mixmaster "$MM" --mono "$mono" $PRESETS >"$run/presets.tsv"
declare -A dual=() measure=()
while IFS=$'\t' read -r id _ _ d m; do dual[$id]=$d; measure[$id]=$m; done <"$run/presets.tsv"

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "tools: $($MM --version); $(ffmpeg -version | head -1 | cut -d' ' -f1-3); $(loudgain --version 2>&1 | sed 's/\x1b\[[0-9;]*m//g' | tr -s ' \n' ' ' | sed 's/ - using: */ (/; s/ *$/)/')"
echo "inputs: $(wc -l <"$run/inputs.tsv") × ${SECONDS_LEN} s; presets: $PRESETS"
echo

: >"$run/results.tsv"
# The list is read on fd 3: nothing run inside the loop can eat it.
while IFS=$'\t' read -r -u 3 name _rate channels _frames in; do
    for preset in $PRESETS; do
        echo "$name × $preset" >&2
        stem=$run/out/$name.$preset
        out=$stem.wav
        code=0
        "$MM" master "$in" -o "$out" --target "$preset" </dev/null >"$stem.master.txt" 2>&1 || code=$?
        printf '%s\t%s\t%s\n' "$name" "$preset" "$code" >>"$run/results.tsv"
        [ "$code" -eq 0 ] || continue
        "$MM" meter --json --target "$preset" "$out" >"$stem.mixmaster.json"
        af="ebur128=peak=true:metadata=1"
        if [ "$channels" -eq 1 ] && [ "${dual[$preset]}" -eq 1 ]; then af+=":dualmono=true"; fi
        ffmpeg -nostdin -hide_banner -nostats -i "$out" -af "$af,ametadata=mode=print" -f null - 2>"$stem.ffmpeg.txt"
        loudgain -q -O "$out" </dev/null >"$stem.loudgain.tsv" 2>/dev/null
        if [ "${measure[$preset]}" = rms_dbfs ]; then sox "$out" -n stats 2>"$stem.sox.txt"; fi
    done
done 3<"$run/inputs.tsv"

echo "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
$PY report --dir "$run"
