#!/bin/sh
# Makes the benches' 1080p H.264 clips, once, into a cache folder (they take a few minutes
# to encode and are reused by every later run).
#
#   bench/make_clips.sh [--idle] [CACHE]       CACHE defaults to $VMO_BENCH_CACHE, else
#                                              ${XDG_CACHE_HOME:-~/.cache}/vidmotion-bench
#
# Content: the three consecutive cam2 clips of ../shared/testdata (a fixed camera over a
# walkway from OpenCV's vtest.avi: idle spells, then people walking through the frame),
# 30 s at 25 fps, scaled to 1920x1440 and cropped to 1920x1080, with fresh temporal luma
# noise at full resolution (a real 1080p sensor's noise is per pixel, not the upscaled
# noise of the source). x264 at its default preset (medium) and CRF, GOP 50 (2 s, as
# camera streams use), yuv420p:
#   main_b.mp4      30 s, with B-frames (x264's default 3)
#   main_nob.mp4    the same without B-frames (-bf 0), like many camera encoders
#   long_b.mp4      main_b three times over (stream copy): 90 s, for the memory bench
#   archive/        40 clips of 2 s (stream copy of long_b cut at its keyframes), named
#                   cam1_YYYYMMDDTHHMMSSZ.mp4 two seconds apart, for the archive bench
#   index60.mp4     60 s at 320x180 (main_b twice), for the index query bench
#   idle_b.mp4      (--idle) 120 s of mostly idle footage: 45 s frozen, main_b's content,
#                   45 s frozen, for the fast modes
# Without ../shared/testdata (VMO_TESTDATA overrides the path) a synthetic scene is used: a
# textured still background and a box crossing it twice.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
idle=0
if [ "${1:-}" = "--idle" ]; then
    idle=1
    shift
fi
cache=${1:-${VMO_BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vidmotion-bench}}
testdata=${VMO_TESTDATA:-$here/../../shared/testdata}
mkdir -p "$cache"
cd "$cache"

ff() { ffmpeg -nostdin -v error -y "$@"; }

# encode OUT TAIL [x264 args...]: the 1080p source chain ends in [base]; TAIL takes [base]
# to [v]. Writes to a temporary name and renames: an interrupted encode leaves nothing.
encode() {
    out=$1
    tail=$2
    shift 2
    if [ -s "$out" ]; then
        return
    fi
    echo "make_clips: encoding $cache/$out (once; a minute or more)" >&2
    if [ -f "$testdata/cam2_20251102T235950Z.mp4" ]; then
        ff -i "$testdata/cam2_20251102T235950Z.mp4" -i "$testdata/cam2_20251103T000000Z.mp4" \
            -i "$testdata/cam2_20251103T000010Z.mp4" -filter_complex \
            "[0:v][1:v][2:v]concat=n=3:v=1:a=0,scale=1920:1440:flags=lanczos,
             crop=1920:1080:0:200[base];$tail" \
            -map '[v]' -c:v libx264 -g 50 "$@" -movflags +faststart -f mp4 "$out.tmp"
    else
        echo "make_clips: $testdata not found: synthetic scene" >&2
        ff -f lavfi -i "testsrc2=s=1920x1080:r=25" -f lavfi -i "color=c=0xd0c0a0:s=120x240:r=25" \
            -filter_complex \
            "[0:v]trim=end_frame=1,loop=749:1:0,setpts=N/25/TB,boxblur=4[bg];
             [bg][1:v]overlay=shortest=1:y=600:
             x='if(between(t,4,10),(t-4)*300,if(between(t,17,25),1800-(t-17)*220,-200))'[base];
             $tail" \
            -map '[v]' -c:v libx264 -g 50 "$@" -movflags +faststart -f mp4 "$out.tmp"
    fi
    mv "$out.tmp" "$out"
}

noise="noise=c0s=4:c0f=t,format=yuv420p"
encode main_b.mp4 "[base]$noise[v]"
encode main_nob.mp4 "[base]$noise[v]" -bf 0

if [ ! -s long_b.mp4 ]; then
    ff -stream_loop 2 -i main_b.mp4 -c copy -movflags +faststart -f mp4 long_b.mp4.tmp
    mv long_b.mp4.tmp long_b.mp4
fi

# 40 consecutive 2 s clips with wall-clock names (2025-03-01 00:00:00 UTC onwards).
if [ ! -f archive/.complete ]; then
    rm -rf archive archive.tmp
    mkdir archive.tmp
    ff -i long_b.mp4 -c copy -f segment -segment_time 2 -reset_timestamps 1 \
        -segment_format mp4 archive.tmp/seg%03d.mp4
    base=$(date -u -d 2025-03-01T00:00:00Z +%s)
    i=0
    while [ $i -lt 40 ]; do
        name=$(date -u -d "@$((base + 2 * i))" +cam1_%Y%m%dT%H%M%SZ.mp4)
        mv "archive.tmp/$(printf seg%03d.mp4 $i)" "archive.tmp/$name"
        i=$((i + 1))
    done
    rm -f archive.tmp/seg*.mp4
    touch archive.tmp/.complete
    mv archive.tmp archive
fi

# 60 s at 320x180 (the content twice): the default analysis width is 320, so its motion
# index is that of 1080p footage; the index bench copies it to make a day of clips.
if [ ! -s index60.mp4 ]; then
    ff -stream_loop 1 -i main_b.mp4 -vf scale=320:180:flags=area -c:v libx264 -g 50 \
        -movflags +faststart -f mp4 index60.mp4.tmp
    mv index60.mp4.tmp index60.mp4
fi

# Idle: the first frame frozen for 45 s, the 30 s of content, the last frame for 45 s.
if [ $idle = 1 ]; then
    encode idle_b.mp4 "[base]split=3[a][b][c];
        [a]trim=end_frame=1,loop=1124:1:0,setpts=N/25/TB[head];
        [c]trim=start_frame=749,setpts=PTS-STARTPTS,loop=1124:1:0,setpts=N/25/TB[tail];
        [head][b][tail]concat=n=3:v=1:a=0,$noise[v]"
fi
echo "$cache"
