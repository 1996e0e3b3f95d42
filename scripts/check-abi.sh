#!/bin/sh
# ABI checks of libvidmotion.so.0 against the committed baseline in abi/ (docs/ABI.md):
#
#  exports    every exported symbol is a vmo_* function of the version node VIDMOTION_0,
#             and the SONAME is libvidmotion.so.<VMO_VERSION_MAJOR>
#  abidiff    abi/libvidmotion.so.0.abi (abidw, public types only): a removed or changed
#             function, or a changed public type, fails; added functions pass, and so does a
#             public struct that only grew at its end (they are all versioned by
#             struct_size: abi/suppressions.abignore)
#  constants  abi/constants.txt, every numeric constant of the header (status codes, flags,
#             enum values, limits): a changed or removed value fails, a new one passes
#
# usage: scripts/check-abi.sh [--exports] [--update] [BUILD_DIR]
#   BUILD_DIR   a build with debug info (RelWithDebInfo or Debug); default: build
#   --exports   only the exports check (any build)
#   --update    rewrites the baseline from BUILD_DIR: before the first release, or with a
#               new ABI major (SONAME). Commit abi/ with the change and say why.
# Exit status: 0 compatible, 1 incompatible, 2 usage or tool error, 77 no debug info (skip).
set -eu
cd "$(dirname "$0")/.."

update=0
exports_only=0
while [ $# -gt 0 ]; do
    case "$1" in
    --update) update=1 ;;
    --exports) exports_only=1 ;;
    -h | --help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "check-abi: unknown option $1" >&2; exit 2 ;;
    *) break ;;
    esac
    shift
done
build=${1:-build}
header=include/vidmotion/vidmotion.h
major=$(sed -n 's/^#define VMO_VERSION_MAJOR \([0-9]*\)$/\1/p' "$header")
lib=$build/lib/libvidmotion.so.$major
baseline=abi/libvidmotion.so.$major.abi
constants=abi/constants.txt
suppressions=abi/suppressions.abignore
if [ ! -f "$lib" ]; then
    echo "check-abi: $lib is not built" >&2
    exit 2
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0

# ---- exports ----
soname=$(readelf -d "$lib" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
if [ "$soname" != "libvidmotion.so.$major" ]; then
    echo "check-abi: SONAME is '$soname', want libvidmotion.so.$major" >&2
    status=1
fi
# "A VIDMOTION_0" is the version node itself; everything else must be vmo_*@@VIDMOTION_0.
nm -D --defined-only "$lib" | awk '!($2 == "A" && $3 == "VIDMOTION_0") { print $3 }' |
    grep -v '^vmo_[a-z0-9_]*@@VIDMOTION_0$' >"$tmp/foreign" || true
if [ -s "$tmp/foreign" ]; then
    echo "check-abi: exported symbols outside vmo_* (or outside VIDMOTION_0):" >&2
    sed 's/^/  /' "$tmp/foreign" >&2
    status=1
fi
count=$(nm -D --defined-only "$lib" | grep -c ' T vmo_' || true)
echo "check-abi: exports: $count vmo_* functions, SONAME $soname"
[ "$exports_only" = 1 ] && exit "$status"

# ---- the ABI description of the build ----
if ! readelf -S "$lib" | grep -q '\.debug_info'; then
    echo "check-abi: $lib has no debug info (build with -DCMAKE_BUILD_TYPE=RelWithDebInfo)" >&2
    exit 77
fi
# Only types of the public header (--headers-dir, --drop-private-types); no source paths
# or type numbering, so the baseline is the same from any checkout.
abidw --headers-dir include/vidmotion --drop-private-types --drop-undefined-syms \
    --no-show-locs --no-corpus-path --no-comp-dir-path --type-id-style hash \
    --out-file "$tmp/current.abi" "$lib"
python3 scripts/abi-constants.py "$header" >"$tmp/constants.txt"

if [ "$update" = 1 ]; then
    cp "$tmp/current.abi" "$baseline"
    cp "$tmp/constants.txt" "$constants"
    echo "check-abi: baseline updated: $baseline, $constants ($count functions)"
    exit "$status"
fi

# ---- abidiff ----
# Exit status bits of abidiff: 1 error, 2 usage, 4 ABI change, 8 incompatible change.
# Added symbols are hidden (--no-added-syms), so any change left fails.
set +e
abidiff --no-added-syms --suppressions "$suppressions" "$baseline" "$tmp/current.abi" \
    >"$tmp/abidiff.txt" 2>&1
rc=$?
set -e
if [ $((rc & 3)) -ne 0 ]; then
    cat "$tmp/abidiff.txt" >&2
    echo "check-abi: abidiff failed ($rc)" >&2
    exit 2
fi
if [ "$rc" -ne 0 ]; then
    cat "$tmp/abidiff.txt" >&2
    echo "check-abi: INCOMPATIBLE with $baseline (abidiff $rc): see docs/ABI.md" >&2
    status=1
else
    added=$(abidiff "$baseline" "$tmp/current.abi" 2>/dev/null |
        sed -n 's/^Functions changes summary: .* \([0-9]*\) Added.*/\1/p')
    echo "check-abi: abidiff: compatible with $baseline (${added:-0} functions added)"
fi

# ---- constants ----
# Every baseline line must still be there, unchanged; new lines are additions.
sort "$constants" >"$tmp/want"
sort "$tmp/constants.txt" >"$tmp/have"
comm -23 "$tmp/want" "$tmp/have" >"$tmp/lost"
if [ -s "$tmp/lost" ]; then
    echo "check-abi: constants changed or removed (baseline value shown):" >&2
    while read -r name value; do
        now=$(awk -v n="$name" '$1 == n { print $2 }' "$tmp/have")
        echo "  $name: $value -> ${now:-removed}" >&2
    done <"$tmp/lost"
    status=1
fi
kept=$(comm -12 "$tmp/want" "$tmp/have" | wc -l)
new=$(($(wc -l <"$tmp/have") - kept))
echo "check-abi: constants: $kept kept, $(wc -l <"$tmp/lost") changed or removed, $new new"
exit "$status"
