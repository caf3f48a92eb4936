#!/usr/bin/env bash
# The test command: installs what is missing, builds (and installs the Python package), and runs
# the whole test suite: the C++ tests and the Python tests (pytest, one CTest entry).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
bash scripts/build.sh
source scripts/blas_env.sh  # OpenBLAS's AVX-512 kernels where the CPU has them
cd build && NEUROCELL_CHECK_INSTALL=1 ctest --output-on-failure -j2
