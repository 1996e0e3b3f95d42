#!/bin/sh
# Builds everything with warnings as errors and runs the whole test suite (ctest).
# Installs dependencies first. Extra arguments go to ctest (e.g. -R decode).
set -eu
cd "$(dirname "$0")/.."
./scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVMO_WERROR=ON
cmake --build build -j "$(nproc)"
ctest --test-dir build --output-on-failure -j "$(nproc)" "$@"
