#!/usr/bin/env bash
# Mixing benchmark: `mixmaster mix session.toml` against an equivalent sox
# chain and an equivalent ffmpeg filter graph, side by side in one hyperfine
# run, on generated stems (24-bit 48 kHz stereo, music-like, made with sox).
# Every track has a 12 dB/oct high-pass, a 3-band EQ (low shelf, bell, high
# shelf), a peak compressor whose threshold takes about 5 dB off that stem,
# a fader and a pan; all tracks are summed to the master and written as
# 32-bit float WAV. The sox command and the ffmpeg graph are written by
# scripts/bench_mix.py from the same plan as the session (see BENCHMARKS.md
# for the mapping). Prints Markdown tables for BENCHMARKS.md.
#
#   scripts/bench_mix.sh                              # 32 stems x 4 min, 3 runs
#   STEMS=4 MINUTES=0.5 RUNS=1 SCALE=2 scripts/bench_mix.sh   # a quick try
#
# STEMS, MINUTES: the main case; SCALE: smaller stem counts for the scaling
# table (those below STEMS); SHORT_MINUTES: the shorter render of the memory
# against duration check; RUNS: hyperfine runs (after 1 warm-up);
# FFMPEG_THREADS, SOX_MT: peer settings (below).
# Everything generated goes to bench-data/mix/ (not committed); stems, plans
# and the per-stem compressor check are cached there.
set -euo pipefail
cd "$(dirname "$0")/.."
STEMS=${STEMS:-32}
MINUTES=${MINUTES:-4}
RUNS=${RUNS:-3}
SCALE=${SCALE:-"8 16"}
SHORT_MINUTES=${SHORT_MINUTES:-1}
# Peer settings (the defaults were the fastest here; see BENCHMARKS.md):
# ffmpeg -filter_complex_threads, and --multi-threaded in each sox process.
FFMPEG_THREADS=${FFMPEG_THREADS:-1}
SOX_MT=${SOX_MT:-0}
DATA=bench-data/mix

need=()
for pair in ffmpeg:ffmpeg sox:sox hyperfine:hyperfine /usr/bin/time:time python3:python3; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || need+=("${pair#*:}")
done
if [ ${#need[@]} -gt 0 ]; then
    sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq && $sudo_cmd apt-get install -y -qq "${need[@]}"
fi

cargo build --release --locked -q
MM=target/release/mixmaster
PY="python3 scripts/bench_mix.py"
secs=$(python3 -c "print(f'{$MINUTES * 60:g}')")
short_secs=$(python3 -c "print(f'{$SHORT_MINUTES * 60:g}')")
run=$DATA/run-${STEMS}x${secs}s
mkdir -p "$run"

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "peers: $(sox --version | sed 's/.*SoX/SoX/'); $(ffmpeg -version | head -1 | cut -d' ' -f1-3); $(hyperfine --version)"
echo

echo "stems: $STEMS x $secs s" >&2
mapfile -t stems < <($PY stems --dir "$DATA/stems" --count "$STEMS" --seconds "$secs")
plan=$run/plan.json
if [ ! -f "$plan" ]; then
    echo "plan: calibrating each compressor threshold on mixmaster" >&2
    $PY plan --mixmaster "$MM" --out "$plan.tmp" "${stems[@]}" && mv "$plan.tmp" "$plan"
fi
if [ ! -f "$run/gr-$STEMS.json" ]; then
    echo "compressor check: each stem alone, compressor on and bypassed, in each tool" >&2
    $PY gr --plan "$plan" --dir "$run" --mixmaster "$MM" --out "$run/gr-$STEMS.json.tmp"
    mv "$run/gr-$STEMS.json.tmp" "$run/gr-$STEMS.json"
fi

# Times (hyperfine, side by side), one checked render each (loudness, sox
# clipping), and peak memory, for STEMS and each smaller count of SCALE.
# The main case first (its check fails early if something is wrong).
counts=("$STEMS")
for n in $(printf '%s\n' $SCALE | sort -rn); do [ "$n" -lt "$STEMS" ] && counts+=("$n"); done
for n in "${counts[@]}"; do
    declare -A cmd=()
    while IFS=$'\t' read -r tool c; do cmd[$tool]=$c; done \
        < <($PY render --plan "$plan" --dir "$run" --tag "mix-$n" --stems "$n" --mixmaster "$MM" \
            --ffmpeg-threads "$FFMPEG_THREADS" $([ "$SOX_MT" = 1 ] && echo --sox-multi-threaded))
    echo "$n stems: check render" >&2
    $PY check --cmds "$run/mix-$n.cmds.json" --mixmaster "$MM" --out "$run/loudness-$n.json"
    extra=()
    if [ "$n" -eq "$STEMS" ]; then
        extra=(-n "mixmaster --threads 1" "${cmd[mixmaster]} --threads 1")
    fi
    # Rounds of one run of each command (the first after one warm-up of
    # each), so a change of load on the shared machine hits every tool alike.
    rm -f "$run/time-$n".*.json
    for ((r = 1; r <= RUNS; r++)); do
        echo "$n stems: hyperfine round $r of $RUNS" >&2
        hyperfine -N --warmup $((r == 1 ? 1 : 0)) --runs 1 --export-json "$run/time-$n.$r.json" \
            -n mixmaster "${cmd[mixmaster]}" "${extra[@]}" \
            -n sox "${cmd[sox]}" \
            -n ffmpeg "${cmd[ffmpeg]}" >&2
    done
    for tool in mixmaster sox ffmpeg; do
        eval "argv=(${cmd[$tool]})"
        $PY rss --out "$run/rss-$n-$tool.json" -- "${argv[@]}"
    done
    unset cmd
done

# Memory against duration: the same session on the same music, shorter.
if [ "$short_secs" != "$secs" ]; then
    mapfile -t short < <($PY stems --dir "$DATA/stems" --count "$STEMS" --seconds "$short_secs")
    $PY retarget --plan "$plan" --out "$run/plan-short.json" "${short[@]}"
    while IFS=$'\t' read -r tool c; do
        [ "$tool" = mixmaster ] && eval "argv=($c)"
    done < <($PY render --plan "$run/plan-short.json" --dir "$run" --tag "short" --mixmaster "$MM")
    $PY rss --out "$run/rss-dur-$SHORT_MINUTES-mixmaster.json" -- "${argv[@]}"
    cp "$run/rss-$STEMS-mixmaster.json" "$run/rss-dur-$MINUTES-mixmaster.json"
fi

echo
echo "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "Session, sox command and ffmpeg graph of the main case: $run/mix-$STEMS.{toml,cmds.json,ffgraph}"
echo
$PY report --dir "$run" --stems "$STEMS" --minutes "$MINUTES" --short-minutes "$SHORT_MINUTES" --scale $SCALE
