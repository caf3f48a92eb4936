#!/usr/bin/env bash
# Installs a built tree into a temporary prefix and builds and runs two consumers against it,
# as a user would: one CMake project with find_package(neurocell) that trains a model, and one
# program compiled with pkg-config against the dependency-free runtime alone.
#   bash tests/install/run.sh BUILD_DIR WORK_DIR
set -euo pipefail
if [ $# -ne 2 ]; then
  echo "usage: $0 BUILD_DIR WORK_DIR" >&2
  exit 2
fi
build=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$2"
mkdir -p "$2"
work=$(cd "$2" && pwd)
prefix="$work/prefix"

cmake --install "$build" --prefix "$prefix" >/dev/null
test -f "$prefix/include/neurocell/neurocell.h"
test ! -e "$prefix/include/neurocell/cli"  # the command line's headers are not API

# 1. find_package(neurocell) and a training step.
cmake -S "$here/library_consumer" -B "$work/library_consumer" -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$work/library_consumer" -j2 >/dev/null
"$work/library_consumer/library_consumer"

# 2. pkg-config against the runtime alone.
bash "$here/runtime_consumer/build.sh" "$prefix" "$work/runtime_consumer"
