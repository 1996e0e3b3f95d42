#!/bin/sh
# Remakes the seed corpus of the decode fuzz target: tiny valid clips (32x24, 6 frames at
# 10 fps) in the containers and codecs vidmotion meets, a few KB each. The files are
# committed; run this only to change them. The zone and time seeds are plain text files
# written by hand.
set -eu
cd "$(dirname "$0")/corpus/decode"
src="-f lavfi -i testsrc2=s=32x24:r=10:d=0.6"
ff() { ffmpeg -nostdin -v error -y "$@"; }
ff $src -c:v libx264 -preset ultrafast -g 3 -pix_fmt yuv420p -movflags +faststart h264.mp4
ff $src -c:v libx264 -preset ultrafast -g 3 -bf 2 -pix_fmt yuv420p h264_bframes_moov_end.mp4
ff $src -c:v libx264 -preset ultrafast -g 3 -pix_fmt yuv420p h264.mkv
ff $src -c:v libx264 -preset ultrafast -g 3 -pix_fmt yuv420p h264.ts
ff $src -c:v libx264 -preset ultrafast -pix_fmt yuv422p10le h264_422_10bit.mkv
ff $src -c:v libx265 -preset ultrafast -x265-params log-level=error -tag:v hvc1 hevc.mp4
ff $src -c:v mpeg4 -q:v 8 -g 3 mpeg4.avi
ff $src -c:v mjpeg -q:v 10 -pix_fmt yuvj420p mjpeg.avi
ff $src -c:v libvpx -deadline realtime -b:v 50k vp8.webm
ff $src -c:v libvpx-vp9 -deadline realtime -cpu-used 8 -b:v 50k vp9.webm
ff $src -c:v mpeg2video -q:v 8 mpeg2.mpg
ff $src -c:v flv1 -q:v 8 flv1.flv
ff $src -pix_fmt yuv420p raw.y4m
ff $src -f lavfi -i sine=d=0.6 -c:v libx264 -preset ultrafast -c:a aac -b:a 16k \
    -metadata creation_time=2026-07-04T14:05:00Z -metadata:s:v:0 rotate=90 audio_rotated.mp4
# A resolution change mid-stream: two MPEG-TS segments of different sizes, byte-appended.
ff -f lavfi -i testsrc2=s=32x24:r=10:d=0.3 -c:v libx264 -preset ultrafast /tmp/vmo_seg_a.ts
ff -f lavfi -i testsrc2=s=24x16:r=10:d=0.3 -c:v libx264 -preset ultrafast /tmp/vmo_seg_b.ts
cat /tmp/vmo_seg_a.ts /tmp/vmo_seg_b.ts >size_change.ts
rm -f /tmp/vmo_seg_a.ts /tmp/vmo_seg_b.ts
# Broken on purpose: the first 70 % of an MP4, and text.
head -c "$(($(stat -c %s h264.mp4) * 70 / 100))" h264.mp4 >truncated.mp4
printf 'not a video, just text\n' >text.mkv
ls -l
