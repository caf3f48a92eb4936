#!/usr/bin/env bash
# The experiments of the multistability issue (warmup paper), 3 seeds each, VAA measured
# with the protocol of multistability.md (n = 100, S = 10 000 settling steps, 10 batches):
#   copy       copy-first-input T=100, 2x100 GRU and LSTM, 1500 updates: plain vs warmup (100)
#   denoising  denoising T=200 (N=0), 2x100 GRU, 3000 updates: plain, full warmup, double
#              layers without warmup, double layers with partial warmup
#   curve      one GRU run on copy-first-input with VAA every 100 steps (a lighter protocol:
#              S = 2000, 3 batches) for the VAA-over-training picture
# Usage: [SEEDS="1 2 3"] scripts/multistability.sh OUT_DIR [copy|denoising|curve|all] [extra train flags]
# (SEEDS picks seeds; JOBS=N runs N trainings at once, each add --threads 1 then.)
# Finished runs (with a report.json) are kept; prints the per-run and per-configuration tables.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-runs/multistability}
part=${2:-all}
shift 2 || shift $#
jobs=${JOBS:-1}
train() {  # DIR, flags...
  local dir=$1
  shift
  [ -f "$dir/report.json" ] && return 0
  if [ "$jobs" -le 1 ]; then
    ./build/neurocell train --quiet --overwrite --out "$dir" "$@"
  else
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
    ./build/neurocell train --quiet --overwrite --out "$dir" "$@" &
  fi
}
copy=(--task copy-first-input --length 100 --layers 2 --hidden 100 --batch 64 --steps 1500 --lr 1e-3 --eval-every 100)
denoise=(--task denoising --length 200 --no-end 0 --layers 2 --hidden 100 --batch 64 --steps 3000 --lr 1e-3
         --eval-every 100 --test-size 2000)
if [ "$part" = copy ] || [ "$part" = all ]; then
  for seed in ${SEEDS:-1 2 3}; do
    for cell in gru lstm; do
      train "$out/copy/$cell-plain-s$seed" --cell $cell "${copy[@]}" --seed $seed --vaa "$@"
      train "$out/copy/$cell-warmup-s$seed" --cell $cell "${copy[@]}" --seed $seed --warmup 100 "$@"
    done
  done
fi
if [ "$part" = denoising ] || [ "$part" = all ]; then
  for seed in ${SEEDS:-1 2 3}; do
    train "$out/denoising/gru-plain-s$seed" --cell gru "${denoise[@]}" --seed $seed --vaa "$@"
    train "$out/denoising/gru-warmup-s$seed" --cell gru "${denoise[@]}" --seed $seed --warmup 100 "$@"
    train "$out/denoising/gru-double-s$seed" --cell gru --double "${denoise[@]}" --seed $seed --vaa "$@"
    train "$out/denoising/gru-double-warmup-s$seed" --cell gru --double "${denoise[@]}" --seed $seed --warmup 100 "$@"
  done
fi
wait
if [ "$part" = curve ] || [ "$part" = all ]; then
  train "$out/curve/gru-warmup" --cell gru "${copy[@]}" --seed 1 --warmup 100 --vaa-every 100 --vaa-settle 2000 \
    --vaa-batches 3 "$@"
  ./build/neurocell plot vaa --checkpoint "$out/curve/gru-warmup" --out docs/vaa-over-training.png
fi
for p in copy denoising; do
  if [ -d "$out/$p" ]; then
    echo "## $p"
    ./build/neurocell report "$out/$p"/*
    echo
    ./build/neurocell report --summary "$out/$p"/*
    echo
  fi
done
