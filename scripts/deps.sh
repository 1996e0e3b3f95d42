#!/bin/sh
# Installs what vidmotion needs to build, test and benchmark, from Debian 12's packages.
# Does nothing when everything is already installed; needs root otherwise.
set -eu
PACKAGES="build-essential cmake pkg-config
  libavcodec-dev libavformat-dev libavutil-dev libswscale-dev libyuv-dev
  libjansson-dev zlib1g-dev check ffmpeg
  python3 python3-numpy python3-pytest python3-venv python3-distributed python3-dask
  clang libclang-rt-14-dev libomp-dev valgrind abigail-tools"
missing=""
for p in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "vidmotion: missing packages:$missing (run as root to install them)" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update
# shellcheck disable=SC2086
apt-get install -y --no-install-recommends $missing
