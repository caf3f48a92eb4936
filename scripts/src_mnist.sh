#!/usr/bin/env bash
# The SRC experiments of the spiking issue (batch 64, Adam 1e-3 with cosine decay):
# 784-100-10 SRC on spiking MNIST (30 epochs), a 3-layer deep SRC network (with and without
# --detach) and the 784-100-10 network on Fashion-MNIST (10 epochs each), and training
# throughput with the dense vs the sparse input projection (300 updates each).
# Usage: scripts/src_mnist.sh [OUT_DIR [extra train flags, e.g. --threads 1]]
# Finished runs (with a report.json) are kept.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-runs/src}
shift || true
budget=(--cell src --batch 64 --lr 1e-3 --lr-schedule cosine --eval-every 500 --val-size 5000 --seed 1 --quiet --overwrite)
train() {  # DIR, flags...
  local dir=$1
  shift
  if [ ! -f "$dir/report.json" ]; then ./build/neurocell train "$@" --out "$dir"; fi
}
train "$out/mnist-1x100" --task spiking-mnist --layers 1 --hidden 100 --steps 27000 "${budget[@]}" "$@"
train "$out/mnist-3layers" --task spiking-mnist --layers 3 --hidden 100 --steps 9000 "${budget[@]}" "$@"
train "$out/mnist-3layers-detach" --task spiking-mnist --layers 3 --hidden 100 --steps 9000 --detach "${budget[@]}" "$@"
train "$out/fashion-1x100" --task spiking-fashion-mnist --layers 1 --hidden 100 --steps 9000 "${budget[@]}" "$@"
# Throughput only (300 updates each, same model): dense GEMM vs sparse input projection.
short=(--cell src --task spiking-mnist --layers 1 --hidden 100 --batch 64 --steps 300 --eval-every 300 --val-size 500
       --test-size 500 --seed 1 --quiet --overwrite)
train "$out/throughput-sparse" "${short[@]}"
train "$out/throughput-dense" "${short[@]}" --dense-input
./build/neurocell report "$out"/mnist-1x100 "$out"/mnist-3layers "$out"/mnist-3layers-detach "$out"/fashion-1x100 "$out"/throughput-sparse \
  "$out"/throughput-dense
