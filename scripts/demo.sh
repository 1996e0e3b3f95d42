#!/bin/sh
# The main job on the bundled sample: installs dependencies, builds, prints the motion per
# zone and the motion segments of samples/sample.mp4, then draws its heatmap and timeline.
set -eu
cd "$(dirname "$0")/.."
./scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" --target vidmotion_cli >/dev/null
zones="--zone path=0,0.3,1,0.62 --zone lawn=0,0.62,1,1 --mask building=0,0,1,0.2"
rc=0
# shellcheck disable=SC2086
./build/examples/vidmotion scan samples/sample.mp4 $zones "$@" || rc=$?
mkdir -p build/demo
# shellcheck disable=SC2086
./build/examples/vidmotion heatmap samples/sample.mp4 $zones -o build/demo/heatmap.png \
    --overwrite --quiet || true
# shellcheck disable=SC2086
./build/examples/vidmotion timeline samples/sample.mp4 $zones -o build/demo/timeline.svg \
    --overwrite --quiet || true
echo
echo "pictures: build/demo/heatmap.png (where it moved) and build/demo/timeline.svg (when)"
exit "$rc"
