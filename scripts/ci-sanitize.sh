#!/bin/sh
# CI stage (called by .ci/run after scripts/test.sh): sanitizer builds.
#
#  1. AddressSanitizer + UndefinedBehaviorSanitizer (GCC): the library, the command and the
#     whole test suite, every ctest test but the packaging one (below), leaks included
#     (LeakSanitizer), the fuzz targets' corpora and regressions replayed. The Python
#     binding's tests load the library into Debian's uninstrumented python3, so the ASan
#     runtime is preloaded for them and leak checking is left to the C tests (CPython keeps
#     memory on purpose at exit).
#  2. ThreadSanitizer (clang, libomp with its Archer tool): tests/test_threads.c, 8
#     analyzers scanning at once in threads, parallel (OpenMP) and concurrent requests,
#     cancel and log callbacks from other threads.
#
# Build folders: build-asan, build-tsan.
set -eu
cd "$(dirname "$0")/.."
jobs=$(nproc)
stage() { printf '\n==== %s\n' "$*"; }
t0=$(date +%s)

stage "ASan + UBSan build (gcc)"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVMO_WERROR=ON \
    -DVMO_SANITIZE=address,undefined -DVMO_BUILD_BENCH=OFF >/dev/null
cmake --build build-asan -j "$jobs"
t1=$(date +%s)

stage "ASan + UBSan: the whole test suite"
export ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# Left out: `examples` builds the installed library into programs with plain
# `cc $(pkg-config ...)`, which cannot link a sanitized static library (it runs in the
# normal build). `cli` runs alone afterwards: its Ctrl-C test times a signal against a
# scan and misses it on a loaded machine.
ctest --test-dir build-asan --output-on-failure -j "$jobs" -LE python -E '^(examples|cli)$'
ctest --test-dir build-asan --output-on-failure -R '^cli$'
if ctest --test-dir build-asan -N -L python | grep -q 'Total Tests: [1-9]'; then
    asan_rt=$(gcc -print-file-name=libasan.so)
    LD_PRELOAD=$asan_rt ASAN_OPTIONS=detect_leaks=0 \
        ctest --test-dir build-asan --output-on-failure -L python
fi
t2=$(date +%s)

stage "TSan build (clang, libomp + Archer): test_threads"
CC=clang cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVMO_WERROR=ON \
    -DVMO_SANITIZE=thread -DVMO_BUILD_BENCH=OFF >/dev/null
cmake --build build-tsan -j "$jobs" --target test_threads
ctest --test-dir build-tsan --output-on-failure -R '^threads$'
t3=$(date +%s)

printf '\nci-sanitize: ASan/UBSan build %ss, tests %ss; TSan build and test %ss; total %ss\n' \
    $((t1 - t0)) $((t2 - t1)) $((t3 - t2)) $((t3 - t0))
