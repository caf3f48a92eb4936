#!/usr/bin/env bash
# Configures and builds neurocell (Release) into build/ with two parallel jobs, then installs the
# Python package (scripts/install_python.sh) so that /usr/bin/python3 -c "import neurocell" works.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DNEUROCELL_UNITY_BUILD=ON "$@" >/dev/null
cmake --build build -j2
bash scripts/install_python.sh
