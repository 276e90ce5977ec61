#!/usr/bin/env bash
# Album delivery at album length (issue 5), checked by independent tools.
#
# SONGS songs of MINUTES minutes each — the three demo-song variations in
# turn, written as 24-bit WAV mixes by the `mastering_inputs` example, plus
# a quiet interlude (quiet-acoustic, 1 minute) in the middle — are
# assembled by `mixmaster album` in album mode for Spotify (−14 LUFS,
# −1 dBTP) with pregaps, a crossfade and a segue, delivered for CD and for
# streaming (48 kHz / 24-bit FLAC + WAV). Measured: wall time (median of
# RUNS) and peak memory. Checked:
#   - `shntool split` of the image with our CUE sheet gives our CD track
#     files byte for byte, and `cueprint` reads the sheet;
#   - loudgain (libebur128) computes the same ReplayGain track and album
#     gains as our tags (largest difference printed);
#   - ffmpeg's `ebur128=peak=true` reads every track file at or under the
#     ceiling;
#   - the streaming FLACs, decoded and concatenated by sox, are as long as
#     the album (gapless).
# Prints Markdown for BENCHMARKS.md; exits non-zero when a check fails.
# Everything goes to bench-data/album/ (not committed).
#
#   scripts/bench_album.sh                      # 10 songs × 4 min
#   SONGS=4 MINUTES=1 RUNS=1 scripts/bench_album.sh
set -euo pipefail
cd "$(dirname "$0")/.."
SONGS=${SONGS:-10}
MINUTES=${MINUTES:-4}
RUNS=${RUNS:-3}
DATA=bench-data/album

need=()
for pair in ffmpeg:ffmpeg loudgain:loudgain python3:python3 sox:sox shntool:shntool \
    cueprint:cuetools metaflac:flac; do
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
mkdir -p "$DATA/songs"
seconds=$((MINUTES * 60))
for name in demo-song demo-song-slow demo-song-fast; do
    "$GEN" "$DATA/songs" --seconds "$seconds" --name "$name" >/dev/null
done
"$GEN" "$DATA/songs" --seconds 60 --name quiet-acoustic >/dev/null

album="$DATA/album.toml"
{
    echo '[album]'
    echo 'title = "Bench Album"'
    echo 'artist = "mixmaster"'
    echo 'catalog = "4006381333931"'
    echo '[loudness]'
    echo 'mode = "album"'
    echo 'target = "spotify"'
    echo '[streaming]'
    echo 'sample_rate_hz = 48000'
    echo 'bits = "24"'
    variants=(demo-song demo-song-slow demo-song-fast)
    half=$((SONGS / 2))
    for i in $(seq 1 "$SONGS"); do
        v=${variants[$(((i - 1) % 3))]}
        printf '[[song]]\ntitle = "Song %d"\nmix = "songs/%s.wav"\nisrc = "ZZ-MXM-26-%05d"\n' "$i" "$v" "$i"
        [ "$i" -eq 1 ] && echo 'crossfade_s = 4'
        [ "$i" -eq 3 ] && echo 'segue = true'
        if [ "$i" -eq "$half" ]; then
            printf '[[song]]\ntitle = "Interlude"\nmix = "songs/quiet-acoustic.wav"\ngap_before_s = 3\n'
        fi
    done
} >"$album"

times=()
rss=0
for r in $(seq 1 "$RUNS"); do
    rm -rf "$DATA/out"
    start=$(date +%s.%N)
    /usr/bin/time -f '%M' -o "$DATA/rss.txt" "$MM" album "$album" -o "$DATA/out" >"$DATA/summary.txt"
    end=$(date +%s.%N)
    times+=("$(python3 -c "print(f'{$end - $start:.2f}')")")
    m=$(cat "$DATA/rss.txt")
    [ "$m" -gt "$rss" ] && rss=$m
done
median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}')

fail=0
cd_dir="$DATA/out/cd"
mkdir -p "$DATA/split"
(cd "$cd_dir" && shntool split -q -f album.cue -o wav -d ../../split album.wav)
split_same=0
n_tracks=$(ls "$cd_dir/tracks" | wc -l)
i=0
for f in "$cd_dir"/tracks/*.wav; do
    i=$((i + 1))
    if cmp -s "$f" "$(printf '%s/split/split-track%02d.wav' "$DATA" "$i")"; then
        split_same=$((split_same + 1))
    fi
done
[ "$split_same" -eq "$n_tracks" ] || fail=1
cue_tracks=$(cueprint -d '%N\n' -t '' "$cd_dir/album.cue" | head -1)
[ "$cue_tracks" -eq "$n_tracks" ] || fail=1

loudgain -q -a -O "$DATA"/out/streaming/*.flac </dev/null >"$DATA/loudgain.tsv" 2>/dev/null
python3 - "$DATA" "$median" "$rss" "$split_same" "$n_tracks" "$SONGS" "$MINUTES" "${times[*]}" <<'EOF' || fail=1
import json, subprocess, sys, glob, os
data, median, rss, same, n, songs, minutes, runs = sys.argv[1:]
log = json.load(open(f"{data}/out/album.json"))
fail = False
# loudgain vs our ReplayGain tags.
rows = [l.rstrip("\n").split("\t") for l in open(f"{data}/loudgain.tsv")][1:]
lg = {os.path.basename(r[0]): float(r[8].split()[0]) for r in rows}
worst_track = 0.0
album_gain_ours = None
for f in sorted(glob.glob(f"{data}/out/streaming/*.flac")):
    tags = subprocess.run(["metaflac", "--export-tags-to=-", f], capture_output=True, text=True).stdout
    t = dict(l.split("=", 1) for l in tags.splitlines() if "=" in l)
    ours = float(t["REPLAYGAIN_TRACK_GAIN"].split()[0])
    album_gain_ours = float(t["REPLAYGAIN_ALBUM_GAIN"].split()[0])
    worst_track = max(worst_track, abs(ours - lg[os.path.basename(f)]))
album_diff = abs(album_gain_ours - lg["Album"])
if worst_track > 0.02 or album_diff > 0.02:
    fail = True
# ffmpeg's true peak of every track file.
ceiling = log["loudness"]["ceiling_dbtp"]
worst_ff = -99.0
for f in sorted(glob.glob(f"{data}/out/cd/tracks/*.wav") + glob.glob(f"{data}/out/streaming/*.flac")):
    out = subprocess.run(["ffmpeg", "-hide_banner", "-nostats", "-i", f, "-af", "ebur128=peak=true",
                          "-f", "null", "-"], capture_output=True, text=True).stderr
    peak = float(out.split("Peak:")[-1].split()[0])
    worst_ff = max(worst_ff, peak)
if worst_ff > ceiling:
    fail = True
# Gapless: the FLACs concatenated are as long as the album.
flacs = sorted(glob.glob(f"{data}/out/streaming/*.flac"))
frames = int(subprocess.run(["sox", *flacs, "-n", "stat"], capture_output=True, text=True)
             .stderr.split("Samples read:")[1].split()[0]) // 2
st = [d for d in log["deliveries"] if d["kind"] == "streaming"][0]
cd = [d for d in log["deliveries"] if d["kind"] == "cd"][0]
if frames != st["length_frames"]:
    fail = True
length_min = cd["length_frames"] / 44100 / 60
print(f"### Album delivery: {int(songs) + 1} songs, {length_min:.1f} min (`SONGS={songs} MINUTES={minutes} scripts/bench_album.sh`)\n")
print(f"- `mixmaster album` (CD + streaming 48 kHz/24-bit FLAC+WAV, album mode for Spotify): "
      f"**{median} s** median of runs {runs} s; peak RSS **{int(rss) / 1024:.0f} MB**.")
print(f"- `shntool split` of our image with our CUE sheet: {same}/{n} tracks byte-identical to our CD track files; "
      f"`cueprint` reads {n} tracks.")
print(f"- ReplayGain vs loudgain (libebur128): largest track-gain difference {worst_track:.2f} dB, "
      f"album gain {album_gain_ours:+.2f} (ours) vs {lg['Album']:+.2f} dB (loudgain).")
print(f"- ffmpeg `ebur128=peak=true` on every track file (CD and FLAC): highest {worst_ff:.1f} dBTP "
      f"(ceiling {ceiling}).")
print(f"- Gapless: the streaming FLACs decoded back to back by sox: {frames} frames; the album: "
      f"{st['length_frames']} frames.")
print(f"- Album as one programme: CD {cd['album_lufs']} LUFS (LRA {cd['album_lra_lu']} LU), "
      f"streaming {st['album_lufs']} LUFS; track spread {cd['spread_lu']} LU (the interlude).")
sys.exit(1 if fail else 0)
EOF
echo
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); $($MM --version)"
exit $fail
