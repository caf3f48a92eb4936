#!/usr/bin/env bash
# Builds and runs a program against an installed runtime, found by pkg-config only:
#   cmake -S runtime -B /tmp/rt-build && cmake --build /tmp/rt-build -j2
#   cmake --install /tmp/rt-build --prefix /tmp/rt-prefix
#   bash tests/install/runtime_consumer/build.sh /tmp/rt-prefix /tmp/rt-out
# Exits non-zero if pkg-config does not find neurocell-runtime, the build fails or the program's
# check fails.
set -euo pipefail
if [ $# -ne 2 ]; then
  echo "usage: $0 PREFIX OUTDIR" >&2
  exit 2
fi
prefix=$(cd "$1" && pwd)
mkdir -p "$2"
outdir=$(cd "$2" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
# GNUInstallDirs puts the library in lib, or lib/<multiarch triplet> (Debian, prefix /usr), or lib64.
multiarch=$(gcc -print-multiarch 2>/dev/null || true)
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig:$prefix/lib64/pkgconfig${multiarch:+:$prefix/lib/$multiarch/pkgconfig}${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
flags=$(pkg-config --cflags --libs neurocell-runtime)
echo "pkg-config --cflags --libs neurocell-runtime: $flags"
# shellcheck disable=SC2086  # the flags are words
g++ -std=c++17 -Wall -Wextra "$here/main.cpp" $flags -o "$outdir/runtime_consumer"
"$outdir/runtime_consumer"
