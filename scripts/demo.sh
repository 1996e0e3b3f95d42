#!/bin/sh
# The main job on the bundled sample: installs dependencies, builds, and prints the motion
# per zone and the motion segments of samples/sample.mp4.
set -eu
cd "$(dirname "$0")/.."
./scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" --target vidmotion_cli >/dev/null
exec ./build/examples/vidmotion scan samples/sample.mp4 \
    --zone path=0,0.3,1,0.62 --zone lawn=0,0.62,1,1 --mask building=0,0,1,0.2 "$@"
