#!/usr/bin/env bash
# The analog-hardware study of the deployment issue (hardware.md "Analog BMRU"): BMRU, CMRU,
# GRU and LRU (2 layers of 32) trained on two persistence tasks of length T = 200, one value
# at a random step to be output at the end:
#   bit    copy-single-bit, the value is -1 or +1 (recalled: the output has its sign)
#   value  copy-single-value, the value is N(0, 1) (recalled: the output within +-0.2)
# then evaluated in the dependency-free runtime under drive noise, state noise, device
# mismatch and weight quantisation (`neurocell analog-noise`).
# Usage: scripts/analog_noise.sh [OUT_DIR] [bit|value|all]   (trained runs are kept and reused)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-runs/analog}
part=${2:-all}
common=(--length 200 --layers 2 --hidden 32 --batch 32 --lr 3e-3 --lr-schedule cosine --eval-every 250
        --val-size 256 --test-size 1000 --steps 3000 --seed 1 --threads 1 --quiet --overwrite)
train() {  # TASK_DIR TASK CELL
  if [ ! -f "$out/$1/$3/report.json" ]; then
    ./build/neurocell train "${common[@]}" --task "$2" --cell "$3" --out "$out/$1/$3"
  fi
}
for kind in bit value; do
  if [ "$part" != all ] && [ "$part" != $kind ]; then continue; fi
  task=copy-single-$kind
  (train $kind $task bmru; train $kind $task gru) &
  (train $kind $task cmru; train $kind $task lru) &
  wait
  ./build/neurocell analog-noise --runs "$out/$kind/bmru,$out/$kind/cmru,$out/$kind/gru,$out/$kind/lru" \
    --out "$out/$kind/study" --overwrite
done
