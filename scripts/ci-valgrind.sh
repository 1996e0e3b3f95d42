#!/bin/sh
# CI stage (called by .ci/run after scripts/test.sh): the vidmotion command under Valgrind
# (memcheck) over every file of the test fixtures, good and bad: the clips the tests
# synthesized and every bad input of tests/test_badinput.c (bad_*), plus the scratch files
# the tests derived from them (cuts, damaged copies, exports, indexes, manifests), through
# requests with the JSON output and per-frame scores.
#
# Fails on any memcheck error (invalid access, uninitialised value used, bad free) and on
# any block definitely lost. "Possibly lost" and "still reachable" blocks are allowed: they
# are the thread pools of OpenMP and FFmpeg's process-wide tables, alive until exit.
# The command's own exit status (1 = no motion, 3 = an input failed) is expected to be
# non-zero with bad inputs, so Valgrind reports through its own exit code, 99.
#
# usage: scripts/ci-valgrind.sh [BUILD_DIR]   (default build, after its ctest run)
set -eu
cd "$(dirname "$0")/.."
build=${1:-build}
cli=$build/examples/vidmotion
fixtures=$build/tests/fixtures
if [ ! -x "$cli" ] || [ ! -d "$fixtures" ]; then
    echo "ci-valgrind: build and test first (scripts/test.sh): no $cli or $fixtures" >&2
    exit 2
fi
log=$build/valgrind
mkdir -p "$log"
t0=$(date +%s)

# Regular files only, stable order; temporary files of a fixture being written are skipped.
list=$log/files.txt
find "$fixtures" -type f ! -name '.tmp*' ! -name '*.tmp[0-9]*' | LC_ALL=C sort >"$list"
count=$(wc -l <"$list")
echo "ci-valgrind: $count fixture files ($(du -sh "$fixtures" | cut -f1))"

memcheck() { # NAME ARGS...
    name=$1
    shift
    set +e
    valgrind --tool=memcheck --leak-check=full --errors-for-leak-kinds=definite \
        --show-leak-kinds=definite --error-exitcode=99 --track-origins=no \
        --suppressions=tests/valgrind.supp --log-file="$log/$name.log" "$@" \
        >"$log/$name.out" 2>"$log/$name.err"
    rc=$?
    set -e
    summary=$(grep -E 'ERROR SUMMARY|definitely lost:' "$log/$name.log" | sed 's/^==[0-9]*== //')
    echo "ci-valgrind: $name: exit $rc; $(echo "$summary" | tr '\n' ';')"
    if [ "$rc" = 99 ] || ! grep -q 'ERROR SUMMARY: 0 errors' "$log/$name.log"; then
        cat "$log/$name.log" >&2
        echo "ci-valgrind: $name: memcheck errors (log: $log/$name.log)" >&2
        exit 1
    fi
}

# A request refuses clips that overlap in wall-clock time, and several fixtures do (copies
# of one recording, clips stamped with the same creation_time): split the files into
# requests without overlaps, found natively (planning fails before anything is decoded;
# the short window keeps the final check cheap).
part=$log/part
rm -rf "$part"
mkdir -p "$part"
pending=$(cat "$list")
batches=0
while [ -n "$pending" ]; do
    batch=$pending
    pending=""
    while :; do
        set +e
        # shellcheck disable=SC2086
        msg=$("$cli" scan -q --from 0 --to 0.001 $batch 2>&1 >/dev/null)
        rc=$?
        set -e
        [ "$rc" = 2 ] || break
        other=$(printf '%s\n' "$msg" |
            sed -n "s/^vidmotion: '.*' and '\(.*\)' \(overlap\|are the same\).*/\1/p" | head -1)
        if [ -z "$other" ]; then
            echo "ci-valgrind: $msg" >&2
            exit 2
        fi
        # shellcheck disable=SC2086
        batch=$(printf '%s\n' $batch | grep -vxF "$other" | tr '\n' ' ')
        pending="$pending $other"
    done
    batches=$((batches + 1))
    echo "$batch" >"$part/$batches"
    pending=$(echo $pending)
done
echo "ci-valgrind: $batches requests without overlapping clips"

# Each request with JSON and per-frame scores, clips in parallel as in production (Valgrind
# runs one thread at a time, so this costs no more than one by one). The first 4 s of each
# clip: all of every test clip but the few long ones (an hour-long export source, the 60 s
# 1080p clip of the memory test), whose opening still runs every path.
for k in $(seq "$batches"); do
    # shellcheck disable=SC2046
    memcheck "scan$k" "$cli" scan -q --json --frames --to 4 --jobs 2 --threads 2 $(cat "$part/$k")
done

echo "ci-valgrind: no memcheck error, nothing definitely lost ($(($(date +%s) - t0))s)"
