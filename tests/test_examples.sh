#!/bin/sh
# The example programs as a user builds them: the project installed to a temporary prefix,
# each example compiled with nothing but `cc ex.c $(pkg-config --cflags --libs vidmotion)`
# (and once statically), a find_package(vidmotion) consumer, then the examples run on clips
# made here with ffmpeg.
#
# usage: test_examples.sh BUILD_DIR SOURCE_DIR
set -eu
build=$1
src=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vmo_examples.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
fail() {
    echo "FAIL: $*" >&2
    exit 1
}

echo "== install to $prefix"
cmake --install "$build" --prefix "$prefix" >/dev/null
pcdir=$(dirname "$(find "$prefix" -name vidmotion.pc | head -n 1)")
libdir=$(dirname "$pcdir")
[ -f "$prefix/include/vidmotion/vidmotion.h" ] || fail "header not installed"
[ -x "$prefix/bin/vidmotion" ] || fail "command not installed"
[ -f "$prefix/share/man/man1/vidmotion.1" ] || fail "man page not installed"
export LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
"$prefix/bin/vidmotion" --version >/dev/null || fail "installed command does not run"

echo "== pkg-config builds"
flags=$(PKG_CONFIG_PATH=$pcdir pkg-config --cflags --libs vidmotion)
# Statically: libvidmotion.a, its Libs.private, and the packages of its Requires.private
# (linked as shared libraries: Debian ships FFmpeg's dependencies without static archives).
own=$(PKG_CONFIG_PATH=$pcdir pkg-config --static --cflags --libs --maximum-traverse-depth=2 \
    vidmotion | sed 's/-lvidmotion\b/-l:libvidmotion.a/')
requires=$(PKG_CONFIG_PATH=$pcdir pkg-config --print-requires-private vidmotion)
# shellcheck disable=SC2086
static="$own $(pkg-config --libs $requires)"
case "$flags" in *"$prefix"*) ;; *) fail "vidmotion.pc does not point into the prefix: $flags" ;; esac
for ex in doorbell archive_request index_query; do
    # shellcheck disable=SC2086
    cc -std=c11 -Wall -Wextra -Werror -D_DEFAULT_SOURCE "$src/examples/$ex.c" $flags \
        -o "$tmp/$ex" || fail "$ex does not build with pkg-config"
    # Checks that Libs.private and Requires.private name everything the library needs.
    # shellcheck disable=SC2086
    cc -std=c11 -D_DEFAULT_SOURCE "$src/examples/$ex.c" $static -o "$tmp/${ex}_static" ||
        fail "$ex does not build against libvidmotion.a with pkg-config --static"
    if ldd "$tmp/${ex}_static" | grep -q libvidmotion; then
        fail "${ex}_static still loads libvidmotion.so"
    fi
done

echo "== find_package(vidmotion) consumer"
mkdir -p "$tmp/consumer"
cat >"$tmp/consumer/CMakeLists.txt" <<'EOF'
cmake_minimum_required(VERSION 3.25)
project(consumer C)
find_package(vidmotion 0 REQUIRED)
add_executable(consumer_shared main.c)
target_link_libraries(consumer_shared PRIVATE vidmotion::vidmotion)
add_executable(consumer_static main.c)
target_link_libraries(consumer_static PRIVATE vidmotion::vidmotion_static)
EOF
cat >"$tmp/consumer/main.c" <<'EOF'
#include <stdio.h>
#include <vidmotion/vidmotion.h>
int main(void)
{
    vmo_config *cfg = NULL;
    vmo_analyzer *an = NULL;
    int ok = vmo_config_create(&cfg) == VMO_OK && vmo_analyzer_create(cfg, &an) == VMO_OK;
    printf("vidmotion %s\n", vmo_version_string());
    vmo_analyzer_destroy(&an);
    vmo_config_destroy(&cfg);
    return ok ? 0 : 1;
}
EOF
cmake -S "$tmp/consumer" -B "$tmp/consumer/build" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null ||
    fail "find_package(vidmotion) failed"
cmake --build "$tmp/consumer/build" >/dev/null || fail "the CMake consumer does not build"
"$tmp/consumer/build/consumer_shared" | grep -q '^vidmotion ' || fail "consumer_shared"
"$tmp/consumer/build/consumer_static" | grep -q '^vidmotion ' || fail "consumer_static"

echo "== clips"
box() { # box NAME DURATION MOVE_FROM MOVE_TO [ffmpeg args...]
    name=$1 d=$2 a=$3 b=$4
    shift 4
    ffmpeg -nostdin -v error -y \
        -f lavfi -i "color=c=0x707070:s=320x240:r=25:d=$d,noise=alls=30:allf=u" \
        -f lavfi -i "color=c=white:s=32x32:r=25:d=$d" \
        -filter_complex "[0][1]overlay=x='if(lt(t,$a),20,if(lt(t,$b),20+(t-$a)*100,220))':y=40" \
        -c:v libx264 -crf 18 -g 50 -pix_fmt yuv420p "$@" "$tmp/clips/$name"
}
mkdir -p "$tmp/clips"
box cam_20250101T000000Z.mp4 5 3.5 5 -metadata creation_time=2025-01-01T00:00:00Z
box cam_20250101T000005Z.mp4 5 0 1.5 -metadata creation_time=2025-01-01T00:00:05Z
box other_cam.mp4 3 1 2
box door.mp4 8 3 5

echo "== doorbell"
mkdir -p "$tmp/rec"
ffmpeg -nostdin -v error -i "$tmp/clips/door.mp4" -f yuv4mpegpipe -pix_fmt yuv420p - |
    "$tmp/doorbell" -p 2 -P 1 -z door=0,0,1,0.5 -o "$tmp/rec" >"$tmp/doorbell.out" ||
    fail "doorbell failed"
cat "$tmp/doorbell.out"
grep -q 'START door' "$tmp/doorbell.out" || fail "doorbell: no START"
grep -q 'END   door' "$tmp/doorbell.out" || fail "doorbell: no END"
[ -f "$tmp/rec/event-001.y4m" ] || fail "doorbell: no recording"
frames=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames \
    -of csv=p=0 "$tmp/rec/event-001.y4m")
# 2 s of pre-roll + the 2 s event + 1 s of post-roll at 25 fps, and the end runs on until the
# event is known to be over (the merge gap and the long baseline: about 2 s more).
[ "$frames" -ge 100 ] && [ "$frames" -le 200 ] || fail "doorbell: $frames frames recorded"
ffmpeg -nostdin -v error -i "$tmp/clips/door.mp4" -f yuv4mpegpipe -pix_fmt yuv420p - |
    "$tmp/doorbell_static" -o "$tmp/rec" >/dev/null || fail "doorbell (static) failed"

echo "== archive_request"
"$tmp/archive_request" -c cam_ "$tmp/clips" - 2025-01-01T00:00:03Z 2025-01-01T00:00:08Z \
    "$tmp/case" >"$tmp/archive.out" || fail "archive_request: exit $?"
cat "$tmp/archive.out"
grep -q 'spans two files' "$tmp/archive.out" || fail "archive_request: the event is not joined"
grep -q 'manifest .*: verified' "$tmp/archive.out" || fail "archive_request: manifest"
[ "$(find "$tmp/case" -name '*.mp4' | wc -l)" -eq 1 ] || fail "archive_request: one clip expected"
"$prefix/bin/vidmotion" verify "$tmp/case/manifest.json" >/dev/null || fail "vidmotion verify"
set +e
"$tmp/archive_request" -c cam_ "$tmp/clips" - 2025-01-01T00:00:07Z 2025-01-01T00:00:09Z \
    "$tmp/case2" >/dev/null
rc=$?
set -e
[ $rc -eq 1 ] || fail "archive_request: a window without motion exits $rc, not 1"

echo "== index_query"
"$tmp/index_query" "$tmp/clips"/cam_*.mp4 >"$tmp/iq1.out" || fail "index_query failed"
"$tmp/index_query" "$tmp/clips"/cam_*.mp4 -- band=0,0.1,1,0.35 2025-01-01T00:00:00Z - \
    - 0 2 >"$tmp/iq2.out" || fail "index_query (second run) failed"
cat "$tmp/iq1.out" "$tmp/iq2.out"
grep -q '^index written' "$tmp/iq1.out" || fail "index_query: no index written"
grep -q '^index valid' "$tmp/iq2.out" || fail "index_query: the indexes were not reused"
grep -q '2 clip(s) answered from their index' "$tmp/iq2.out" || fail "index_query: decoded"
grep -q 'motion *band' "$tmp/iq2.out" || fail "index_query: no motion in the band"
echo "examples: all good"
