#!/usr/bin/env bash
# Regenerates the committed decoder fixtures of mixmaster-io
# (crates/io/tests/fixtures/) for the formats the crate cannot encode itself.
#
# Needs: sox, lame, oggenc (vorbis-tools), ffmpeg.
#   apt-get install sox lame vorbis-tools ffmpeg
#
# Every fixture is made from one generated signal: a 1 kHz sine, left channel
# at amplitude 0.5 (-6.02 dBFS peak), right channel at 0.25 (-12.04 dBFS), so a
# swapped or summed channel shows up in the tests. The exact frame counts below
# are what crates/io/tests/fixtures.rs asserts; they are deliberately not
# multiples of any codec's frame size.
#
# | file                | container/codec        | rate  | ch | frames  | notes                                  |
# |---------------------|------------------------|-------|----|---------|----------------------------------------|
# | tone.mp3            | MP3, LAME VBR -V2      | 44100 | 2  | 44321   | ID3v2 tag; LAME tag: delay/padding     |
# | tone.ogg            | Ogg Vorbis q3          | 44100 | 2  | 44321   | end trim from the last granule         |
# | tone_aac.m4a        | MP4, AAC-LC 128k       | 44100 | 2  | 44321   | priming + length in the edit list      |
# | tone_aac_noedit.m4a | MP4, AAC-LC, no elst   | 44100 | 2  | (46080) | not exact: 1024 priming + 735 padding  |
# | tone_alac.m4a       | MP4, ALAC 16-bit       | 44100 | 2  | 11025   | lossless: equals tone.aiff             |
# | tone.aiff           | AIFF, PCM 16-bit BE    | 44100 | 2  | 11025   | lossless                               |
# | sox_s24.wav         | WAV EXTENSIBLE 24-bit  | 48000 | 2  | 4801    | how sox and DAWs write 24-bit          |
#
# Usage: scripts/make_fixtures.sh [output-dir]   (default: crates/io/tests/fixtures)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$here/crates/io/tests/fixtures}"
mkdir -p "$out"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

for tool in sox lame oggenc ffmpeg; do
    command -v "$tool" >/dev/null || { echo "make_fixtures: $tool is not installed" >&2; exit 1; }
done

# tone RATE FRAMES BITS OUT: the stereo 1 kHz test tone as a WAV file.
tone() {
    sox -D -r "$1" -n -r "$1" -c 1 -b "$3" "$work/mono.wav" synth "${2}s" sine 1000
    sox -D "$work/mono.wav" -b "$3" "$4" remix 1v0.5 1v0.25
}

ff=(ffmpeg -nostdin -hide_banner -loglevel error -y)

tone 44100 44321 16 "$work/long.wav"
tone 44100 11025 16 "$work/short.wav"
tone 48000 4801 24 "$work/s24.wav"

# MP3: lame writes the LAME/Xing "Info" frame with encoder delay and padding,
# behind an ID3v2 tag as most MP3s in the wild have.
lame --quiet -V 2 --noreplaygain --add-id3v2 --tt "mixmaster test tone" \
    "$work/long.wav" "$out/tone.mp3"

# Ogg Vorbis: the end trim is signalled by the last page's granule position.
oggenc --quiet -q 3 --serial 1 -o "$out/tone.ogg" "$work/long.wav"

# MP4/AAC: ffmpeg signals the 1024-frame priming and the length with an edit list.
"${ff[@]}" -i "$work/long.wav" -map_metadata -1 -fflags +bitexact -flags:a +bitexact \
    -c:a aac -b:a 128k "$out/tone_aac.m4a"

# The same AAC without an edit list: nothing in the file says how much to
# trim, so the decoded length is not exact (documents the limitation).
"${ff[@]}" -i "$work/long.wav" -map_metadata -1 -fflags +bitexact -flags:a +bitexact \
    -c:a aac -b:a 128k -use_editlist 0 "$out/tone_aac_noedit.m4a"

# MP4/ALAC: lossless.
"${ff[@]}" -i "$work/short.wav" -map_metadata -1 -fflags +bitexact -flags:a +bitexact \
    -c:a alac "$out/tone_alac.m4a"

# AIFF: 16-bit big-endian PCM.
sox -D "$work/short.wav" --comment "" "$out/tone.aiff"

# 24-bit WAV the way sox writes it (WAVE_FORMAT_EXTENSIBLE).
cp "$work/s24.wav" "$out/sox_s24.wav"

ls -l "$out"
