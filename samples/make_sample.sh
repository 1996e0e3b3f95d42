#!/bin/sh
# Rebuilds samples/sample.mp4 from OpenCV's vtest.avi (Debian package opencv-doc 4.6.0,
# Apache-2.0 / BSD-3-Clause; see samples/README.md). The result is a 10 s, 768x576, 10 fps
# H.264 clip: the walkway frozen, then people walking (3 s), frozen, walking again (3 s),
# frozen — so a scan finds two motion segments. Needs ffmpeg; set VTEST=path/to/vtest.avi
# to skip the download.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
if [ -z "${VTEST:-}" ]; then
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    (cd "$tmp" && apt-get download opencv-doc >/dev/null && dpkg-deb -x opencv-doc_*.deb x)
    VTEST="$tmp/x/usr/share/doc/opencv-doc/examples/data/vtest.avi"
fi
# freeze(f, n): source frame f shown for n frames; play(a, b): source frames a..b-1.
ffmpeg -nostdin -v error -y -i "$VTEST" -filter_complex "
  [0:v]split=5[s0][s1][s2][s3][s4];
  [s0]trim=start_frame=500:end_frame=501,setpts=N/10/TB,loop=19:1:0[a];
  [s1]trim=start_frame=501:end_frame=531,setpts=N/10/TB[b];
  [s2]trim=start_frame=530:end_frame=531,setpts=N/10/TB,loop=19:1:0[c];
  [s3]trim=start_frame=531:end_frame=561,setpts=N/10/TB[d];
  [s4]trim=start_frame=560:end_frame=561,setpts=N/10/TB,loop=9:1:0[e];
  [a][b][c][d][e]concat=n=5:v=1:a=0,fps=10,noise=c0s=3:c0f=t,format=yuv420p[v]" \
  -map '[v]' -c:v libx264 -preset slow -crf 24 -g 20 -threads 1 -movflags +faststart \
  -metadata creation_time=2026-07-04T14:05:00Z "$here/sample.mp4"
echo "wrote $here/sample.mp4"
