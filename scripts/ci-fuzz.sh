#!/bin/sh
# CI stage (called by .ci/run after scripts/test.sh): every libFuzzer target of tests/fuzz
# for a bounded time, ${VMO_FUZZ_SECONDS:-60} s each, as many at once as there are cores.
#
# Built with clang, -fsanitize=fuzzer,address,undefined (build-fuzz). Each target starts
# from its seed corpus and its regressions (tests/fuzz/corpus/NAME, regressions/NAME) and
# keeps what it learns in build-fuzz/fuzz/NAME/corpus, so a CI machine that keeps the build
# folder fuzzes on from there. Hostile input must stay within bounds: a single input may
# take at most 10 s (-timeout) and the process 2 GB of memory (-rss_limit_mb); a slow input
# or a single allocation over 2 GB (-malloc_limit_mb, FFmpeg's own cap per allocation) is a
# failure like a crash. (FFmpeg's MP4 reader allocates what a box claims, up to that cap,
# before reading it: docs/fuzzing.md, open findings.)
#
# A crash leaves its input in build-fuzz/fuzz/NAME/ (crash-*, timeout-*, oom-*, slow-*):
# fix the bug, then move the input to tests/fuzz/regressions/NAME/ with a name that says
# what it is, so ctest replays it in every build (docs/fuzzing.md).
#
# usage: VMO_FUZZ_SECONDS=60 scripts/ci-fuzz.sh [TARGET...]   (default: all)
set -eu
cd "$(dirname "$0")/.."
seconds=${VMO_FUZZ_SECONDS:-60}
jobs=$(nproc)
build=build-fuzz
out=$build/fuzz
t0=$(date +%s)

CC=clang cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVMO_WERROR=ON \
    -DVMO_BUILD_FUZZERS=ON -DVMO_BUILD_BENCH=OFF -DVMO_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$build" -j "$jobs" --target fuzzers
t1=$(date +%s)

targets=${*:-$(sed -n 's/^vmo_fuzz_target(\([a-z_]*\)).*/\1/p' tests/fuzz/CMakeLists.txt)}
mkdir -p "$out"

run_one() { # NAME
    name=$1
    dir=$out/$name
    mkdir -p "$dir/corpus"
    rm -f "$dir"/crash-* "$dir"/timeout-* "$dir"/oom-* "$dir"/slow-unit-*
    regressions=tests/fuzz/regressions/$name
    [ -d "$regressions" ] || regressions=
    set +e
    # shellcheck disable=SC2086
    "$build/tests/fuzz/fuzz_$name" -max_total_time="$seconds" -timeout=10 \
        -rss_limit_mb=2048 -malloc_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
        -artifact_prefix="$dir/" "$dir/corpus" "tests/fuzz/corpus/$name" $regressions \
        >"$dir/log.txt" 2>&1
    rc=$?
    set -e
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log.txt" | tail -1)
    echo "$name $rc ${execs:-0}" >"$dir/result.txt"
}

# As many targets at once as there are cores.
running=0
for name in $targets; do
    run_one "$name" &
    running=$((running + 1))
    if [ "$running" -ge "$jobs" ]; then
        wait
        running=0
    fi
done
wait
t2=$(date +%s)

status=0
printf '\n%-10s %12s %8s  %s\n' target executions corpus result
for name in $targets; do
    dir=$out/$name
    read -r _ rc execs <"$dir/result.txt"
    corpus=$(find "$dir/corpus" -type f | wc -l)
    found=$(find "$dir" -maxdepth 1 \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' \) |
        head -1)
    if [ "$rc" = 0 ] && [ -z "$found" ]; then
        verdict=ok
    else
        verdict="FAILED (exit $rc) ${found:-}"
        status=1
        grep -E 'ERROR|SUMMARY|runtime error|contract broken' "$dir/log.txt" | head -5 >&2 || true
    fi
    printf '%-10s %12s %8s  %s\n' "$name" "$execs" "$corpus" "$verdict"
done
printf '\nci-fuzz: build %ss, fuzzing %ss (%s s per target, %s at once)\n' \
    $((t1 - t0)) $((t2 - t1)) "$seconds" "$jobs"
exit "$status"
