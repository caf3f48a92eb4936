#!/usr/bin/env bash
# The experiments of the memory-recurrent-unit issue: BMRU, CMRU, aCMRU, LRU, minGRU and the
# CMRU/LRU hybrid, 2 blocks of 32 units, 3 seeds each, on
#   copy       copy-first-input at T = 1000 and T = 5000
#   single     its single-value variant at T = 1000 and T = 5000 (one value to keep, then zeros:
#              the persistence test)
#   denoising  denoising T = 400 with no relevant value in the last 200 steps (paper setting)
# Usage: [SEEDS="1 2 3"] scripts/mru.sh OUT_DIR [copy|single|denoising|all] [extra train flags]
# (SEEDS splits the runs over parallel processes; the tables cover every finished run.)
# Finished runs (with a report.json) are kept; prints the per-run and per-configuration tables.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-runs/mru}
part=${2:-all}
shift 2 || shift $#
cells=(bmru cmru acmru lru mingru hybrid-cmru-lru)
common=(--layers 2 --hidden 32 --batch 32 --lr 3e-3 --eval-every 100 --val-size 256 --test-size 1000)
train() {  # DIR, flags...
  local dir=$1
  shift
  if [ ! -f "$dir/report.json" ]; then ./build/neurocell train --quiet --overwrite --out "$dir" "$@"; fi
}
for seed in ${SEEDS:-1 2 3}; do
  for cell in "${cells[@]}"; do
    for T in 1000 5000; do
      if [ "$part" = copy ] || [ "$part" = all ]; then
        train "$out/copy-$T/$cell-s$seed" --task copy-first-input --length $T --cell $cell "${common[@]}" \
          --steps 300 --seed $seed "$@"
      fi
      if [ "$part" = single ] || [ "$part" = all ]; then
        train "$out/single-$T/$cell-s$seed" --task copy-single-value --length $T --cell $cell "${common[@]}" \
          --steps 300 --seed $seed "$@"
      fi
    done
    if [ "$part" = denoising ] || [ "$part" = all ]; then
      train "$out/denoising/$cell-s$seed" --task denoising --length 400 --no-end 200 --cell $cell "${common[@]}" \
        --steps 1000 --seed $seed "$@"
    fi
  done
done
for d in "$out"/*/; do
  echo "## $(basename "$d")"
  ./build/neurocell report "$d"*
  echo
  ./build/neurocell report --summary "$d"*
  echo
done
