#!/bin/sh
# Remakes the seed corpus of the index fuzz target from real indexes of the decode seeds,
# written by the vidmotion command of a build (default: build). Each index gives three
# seeds, one per mode of tests/fuzz/fuzz_index.c: 'R' + the file, 'C' + the file, and
# 'X' + its records uncompressed. The files are committed; run this only to change them.
set -eu
cd "$(dirname "$0")"
cli=$(realpath "${1:-../../build}")/examples/vidmotion
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
seed() { # NAME CLIP [vidmotion index options]
    name=$1 src=$2
    shift 2
    cp "corpus/decode/$src" "$tmp/$src"
    "$cli" index -q --width 32 --threads 1 "$@" "$tmp/$src" >/dev/null
    idx="$tmp/$src.vmoidx"
    { printf R; cat "$idx"; } >"corpus/index/$name.R"
    { printf C; cat "$idx"; } >"corpus/index/$name.C"
    python3 - "$idx" "corpus/index/$name.X" <<'PY'
import sys, zlib
data = open(sys.argv[1], "rb").read()
open(sys.argv[2], "wb").write(b"X" + zlib.decompress(data[256:]))
PY
    rm -f "$tmp/$src" "$idx"
}
seed h264 h264.mp4
seed mask_mpeg4 mpeg4.avi --mask 0.4,0.4,0.6,0.6 --mask 'poly:0,0;0.2,0;0,0.2'
seed resized size_change.ts
seed motion mjpeg.avi --threshold 1 --width 48
ls -l corpus/index
