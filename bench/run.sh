#!/bin/sh
# Every benchmark of bench/, one command: builds a Release tree of its own (build-bench),
# makes the 1080p clips once (bench/make_clips.sh, cached), runs the benches, prints the
# summary table and writes bench/results/<UTC date>.json.
#
#   bench/run.sh [--quick] [--quality] [--no-anchors] [--dask]
#
#   --quick       fewer repetitions (a smoke test: the figures are noisier)
#   --quality     also bench/quality.py against ../shared/testdata (and with the fast mode
#                 when the library has one)
#   --no-anchors  skip the ffmpeg/OpenCV anchors
#   --dask        also bench/bench_dask.py: vidmotion.distributed on 1 and 2 Dask workers
#
# A full run takes about 8 minutes on the 2-core reference machine (the first one also
# encodes the clips: a few minutes more). Every bench interleaves its runs, so a busy
# neighbour widens the spreads more than it moves the ratios; the load average before and
# after is recorded.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
build=$root/build-bench
quick=0 quality=0 anchors=1 dask=0
for arg in "$@"; do
    case $arg in
    --quick) quick=1 ;;
    --quality) quality=1 ;;
    --no-anchors) anchors=0 ;;
    --dask) dask=1 ;;
    *)
        sed -n '2,16p' "$0" >&2
        exit 2
        ;;
    esac
done
if [ $quick = 1 ]; then
    reps=2 reps_small=1 kernel_rounds=9
else
    reps=5 reps_small=3 kernel_rounds=31
fi

step() { printf '\n== %s ==\n' "$*"; }
# A bench that fails leaves its part missing from the report; the others still run.
failed=""
part() { # name, command...
    name=$1
    shift
    "$@" || failed="$failed $name"
}
# Debian's python3 (it has numpy, and python3-opencv when installed), before any pyenv shim.
py=/usr/bin/python3
[ -x "$py" ] || py=python3

step "build ($build, Release)"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DVMO_WERROR=OFF \
    -DVMO_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j "$(nproc)" >/dev/null
bin=$build/bench

fast_probe=0
"$bin/bench_fast" --probe && fast_probe=1
step "clips"
if [ $fast_probe = 1 ]; then
    cache=$("$here/make_clips.sh" --idle)
else
    cache=$("$here/make_clips.sh")
fi
echo "$cache"

date=$(date -u +%Y-%m-%dT%H%M%SZ)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
load_before=$(cut -d' ' -f1 /proc/loadavg)
started=$(date +%s)

step "kernels"
kernels_exit=0
"$bin/bench_kernels" --rounds $kernel_rounds --json "$tmp/kernels.json" || kernels_exit=$?

step "pipeline: scan vs decode-only (B-frames)"
part pipeline "$bin/bench_pipeline" --reps $reps --modes decode,scan,scan-serial,split \
    --json "$tmp/pipeline.json" "$cache/main_b.mp4"
step "pipeline: scan vs decode-only (no B-frames)"
part pipeline_nob "$bin/bench_pipeline" --reps $reps_small --modes decode,scan,scan-serial \
    --json "$tmp/pipeline_nob.json" "$cache/main_nob.mp4"

step "memory"
part memory "$bin/bench_memory" --scanner "$bin/bench_pipeline" --json "$tmp/memory.json" \
    "$cache/main_b.mp4" "$cache/long_b.mp4"

step "archive and index query"
part archive "$bin/bench_archive" --reps $reps_small --index-clip "$cache/index60.mp4" \
    --json "$tmp/archive.json" "$cache/archive"

step "fast modes"
part fast "$bin/bench_fast" --reps $reps_small --json "$tmp/fast.json" "$cache/idle_b.mp4"

parts="kernels=$tmp/kernels.json pipeline=$tmp/pipeline.json"
parts="$parts pipeline_nob=$tmp/pipeline_nob.json memory=$tmp/memory.json"
parts="$parts archive=$tmp/archive.json fast=$tmp/fast.json"

if [ $anchors = 1 ]; then
    step "anchors: ffmpeg and OpenCV"
    part anchors "$py" "$here/anchors.py" --cli "$build/examples/vidmotion" --reps $reps_small \
        --json "$tmp/anchors.json" "$cache/main_b.mp4"
    parts="$parts anchors=$tmp/anchors.json"
fi

if [ $quality = 1 ]; then
    step "quality"
    "$py" "$here/quality.py" --cli "$build/examples/vidmotion" --json "$tmp/quality.json" ||
        true
    parts="$parts quality=$tmp/quality.json"
    if [ $fast_probe = 1 ]; then
        opt=$("$bin/bench_fast" --probe --print-option)
        "$py" "$here/quality.py" --cli "$build/examples/vidmotion" \
            --json "$tmp/quality_fast.json" -- --set "$opt" || true
        parts="$parts quality_fast=$tmp/quality_fast.json"
    fi
fi

if [ $dask = 1 ]; then
    step "vidmotion.distributed: 1 and 2 Dask worker processes"
    "$py" "$here/bench_dask.py" --library "$build/lib/libvidmotion.so.0" --reps $reps_small \
        --json "$tmp/dask.json" || true
    parts="$parts dask=$tmp/dask.json"
fi

step "report"
commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git -C "$root" status --porcelain -- lib include 2>/dev/null | wc -l)
# shellcheck disable=SC2086 # $parts is a list of words
"$py" "$here/report.py" --out "$here/results/$date.json" \
    --meta "date=$date" --meta "commit=$commit" --meta "lib_files_uncommitted=$dirty" \
    --meta "command=bench/run.sh $*" --meta "load_before=$load_before" \
    --meta "load_after=$(cut -d' ' -f1 /proc/loadavg)" \
    --meta "seconds=$(($(date +%s) - started))" --meta "kernels_exit=$kernels_exit" \
    --meta "failed=${failed# }" \
    --clip "$cache/main_b.mp4" --clip "$cache/main_nob.mp4" --clip "$cache/long_b.mp4" \
    $parts
