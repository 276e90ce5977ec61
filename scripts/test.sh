#!/usr/bin/env bash
# The test command of README.md: installs what the tests need when it is
# missing, then runs the whole workspace's tests (built with optimisation,
# see [profile.test] in Cargo.toml).
#
# With CI=true a tool that cannot be installed fails the run; it never skips.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the tests call, as "command:package" pairs: the reference
# FLAC tools check our FLAC files and tags (flac, metaflac); sox and ffmpeg
# (with ffprobe) decode our WAV/RF64 and MP3 files and read their tags;
# MediaInfo reads the BWF bext loudness fields; cuetools (cueprint,
# cuebreakpoints) and shntool read and split the album's CUE sheet; Debian's
# Chromium, driven from Node.js by playwright-core (installed below with
# npm ci, never a browser download), opens the HTML reports. Fixtures for
# formats we cannot encode are committed, so their encoders are not needed
# here.
NEEDED=(flac:flac metaflac:flac sox:sox ffmpeg:ffmpeg ffprobe:ffmpeg mediainfo:mediainfo
    cueprint:cuetools cuebreakpoints:cuetools shntool:shntool
    chromium:chromium node:nodejs npm:npm)

missing=()
for pair in "${NEEDED[@]}"; do
    cmd=${pair%%:*}
    pkg=${pair#*:}
    command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
done
# A font for the plot labels of `report --png` (resvg draws with the
# system's fonts).
fc-list 2>/dev/null | grep -q . || missing+=(fontconfig fonts-dejavu-core)
if [ ${#missing[@]} -gt 0 ]; then
    echo "test.sh: installing ${missing[*]}"
    sudo_cmd=""
    [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    if ! { $sudo_cmd apt-get update -qq && $sudo_cmd apt-get install -y -qq "${missing[@]}"; }; then
        echo "test.sh: could not install ${missing[*]}" >&2
        exit 1
    fi
fi

# playwright-core for the browser test, from its lock file.
browser=crates/cli/tests/browser
if [ ! -d "$browser/node_modules/playwright-core" ]; then
    echo "test.sh: installing playwright-core (npm ci in $browser)"
    if ! (cd "$browser" && npm ci --no-audit --no-fund --ignore-scripts); then
        echo "test.sh: npm ci failed in $browser" >&2
        exit 1
    fi
fi

cargo test --workspace --locked "$@"
