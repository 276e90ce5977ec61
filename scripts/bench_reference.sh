#!/usr/bin/env bash
# Reference matching against Matchering 2 (pip), issue 4, in two parts:
#
# quality  On generated mix/reference pairs (the `mixmaster demo` song through
#          sox tone and width transforms, two stem remixes of it, a second
#          song made from scripts/bench_mix.py's stems, loud references made
#          with ffmpeg acompressor + alimiter; see PAIRS in
#          scripts/bench_reference.py), master each mix with
#            mixmaster master MIX -o OUT --target spotify --reference REF
#            mixmaster master MIX -o OUT --reference REF   (the reference's loudness)
#            Matchering: mg.process(target=MIX, reference=REF, results=[mg.pcm24(OUT)])
#          and measure each result's third-octave deviation from the
#          reference (L+R, mid, side; each file normalised by its mean band
#          level), integrated loudness and true peak (ffmpeg ebur128).
# speed    A long stereo 48 kHz 24-bit mix (the demo song looped, darker and
#          narrower) and a reference (the demo looped, brighter, loud), timed
#          side by side in rounds of one run each (hyperfine):
#            mixmaster master MIX -o X --target spotify --reference REF
#            Matchering on the same pair
#            mixmaster master MIX -o Y --target spotify      (default chain)
#            ffmpeg two-pass loudnorm to I=-14:TP=-1 (pass 1 print_format=json,
#            pass 2 with the measured values and linear=true), 48 kHz 24-bit
#          with the peak RSS of every run (GNU time), and each output's
#          loudness and true peak.
#
#   scripts/bench_reference.sh                       # both parts, 10-minute speed case
#   PARTS=quality scripts/bench_reference.sh         # the quality part only
#   PARTS=speed MINUTES=1 RUNS=1 scripts/bench_reference.sh   # a quick try
#
# PARTS: "quality speed" (default) or one of them; PAIR_SECONDS: length of
# the quality pairs (default 60); PAIRS: only these pair names; MINUTES:
# length of the speed mix (default 10); REF_MINUTES: length of its reference
# (default 4, at most MINUTES); RUNS: rounds of mixmaster and ffmpeg
# (default 3); MG_RUNS: rounds that include Matchering (default 1; about a
# minute per 10-minute run).
# Everything generated goes to bench-data/reference/ (not committed).
set -euo pipefail
cd "$(dirname "$0")/.."
PARTS=${PARTS:-"quality speed"}
PAIR_SECONDS=${PAIR_SECONDS:-60}
PAIRS=${PAIRS:-}
MINUTES=${MINUTES:-10}
REF_MINUTES=${REF_MINUTES:-4}
RUNS=${RUNS:-3}
MG_RUNS=${MG_RUNS:-1}
DATA=bench-data/reference

need=()
for pair in ffmpeg:ffmpeg sox:sox hyperfine:hyperfine /usr/bin/time:time python3:python3; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || need+=("${pair#*:}")
done
if [ ${#need[@]} -gt 0 ]; then
    sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq && $sudo_cmd apt-get install -y -qq "${need[@]}"
fi
python3 -c "import matchering, numpy, scipy" 2>/dev/null ||
    python3 -m pip install -q matchering numpy scipy

cargo build --release --locked -q --bin mixmaster
MM=target/release/mixmaster
PY="python3 scripts/bench_reference.py"
REF_MINUTES=$(python3 -c "print(f'{min($REF_MINUTES, $MINUTES):g}')")

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "peers: Matchering $(python3 -c 'from importlib.metadata import version as v; print(v("matchering"))'); $(ffmpeg -version | head -1 | cut -d' ' -f1-3); $(sox --version | sed 's/.*SoX/SoX/'); $(hyperfine --version)"
echo

if [[ " $PARTS " == *" quality "* ]]; then
    q=$DATA/quality-${PAIR_SECONDS}s
    mkdir -p "$q"
    echo "quality: pairs of $PAIR_SECONDS s" >&2
    # shellcheck disable=SC2086
    $PY pairs --dir "$q" --seconds "$PAIR_SECONDS" --mixmaster "$MM" --out "$q/pairs.json" \
        ${PAIRS:+--only $PAIRS}
    echo "## Quality: third-octave deviation from the reference, loudness, true peak"
    echo
    $PY quality --dir "$q" --pairs "$q/pairs.json" --mixmaster "$MM" --out "$q/quality.json"
    echo
fi

if [[ " $PARTS " == *" speed "* ]]; then
    s=$DATA/speed
    echo "speed: a $MINUTES-minute mix, a $REF_MINUTES-minute reference" >&2
    mapfile -t io < <($PY speed-inputs --dir "$s" --minutes "$MINUTES" --ref-minutes "$REF_MINUTES" \
        --mixmaster "$MM")
    mix=${io[0]} ref=${io[1]}
    run=$s/run-${MINUTES}min
    mkdir -p "$run/out"
    names=()
    declare -A cmd=()
    while IFS=$'\t' read -r name c; do names+=("$name"); cmd[$name]=$c; done \
        < <($PY speed-commands --mixmaster "$MM" --mix "$mix" --ref "$ref" --out-dir "$run/out")
    cat "$mix" "$ref" >/dev/null  # into the page cache
    rm -f "$run"/time.*.json "$run"/rss-*.txt
    # Rounds of one run of each command, so a change of load on the shared
    # machine hits every tool alike; Matchering only in the first MG_RUNS.
    # GNU time (a few hundred kB, negligible time) records each run's peak RSS.
    for ((r = 1; r <= RUNS || r <= MG_RUNS; r++)); do
        args=()
        for name in "${names[@]}"; do
            if [ "$name" = Matchering ]; then
                [ "$r" -le "$MG_RUNS" ] || continue
            elif [ "$r" -gt "$RUNS" ]; then
                continue
            fi
            slug=$(echo "$name" | tr 'A-Z' 'a-z' | sed 's/[^a-z0-9]\{1,\}/-/g; s/^-//; s/-$//')
            args+=(-n "$name" "/usr/bin/time -a -o $run/rss-$slug.txt -f %M ${cmd[$name]}")
        done
        echo "speed: hyperfine round $r" >&2
        hyperfine -N --runs 1 --export-json "$run/time.$r.json" "${args[@]}" >&2
    done
    $PY check --out-dir "$run/out" --out "$run/check.json"
    echo "## Speed: a $MINUTES-minute 48 kHz stereo 24-bit mix, a $REF_MINUTES-minute reference"
    echo
    echo "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo
    $PY report --dir "$run" --minutes "$MINUTES"
    echo
    echo "Commands:"
    for name in "${names[@]}"; do echo "- $name: \`${cmd[$name]}\`"; done
fi
