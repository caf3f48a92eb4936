#!/usr/bin/env bash
# The long-memory table of the kernels issue: copy-first-input T=300 and T=600, denoising
# T=400 with N=0 and N=200, for BRC, nBRC, GRU and LSTM (2 layers of 100), one budget for all.
# Usage: scripts/table_long.sh OUT_DIR   (prints the markdown table; finished runs are kept)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-runs/table-long}
budget=(--layers 2 --hidden 100 --batch 64 --steps 2000 --lr 1e-3 --eval-every 100 --val-size 500 --test-size 2000 --seed 1)
cells="nbrc brc gru lstm"
bash scripts/table.sh "$out/copy" "$cells" "300 600" --task copy-first-input "${budget[@]}" > /dev/null
bash scripts/table.sh "$out/denoising-N0" "$cells" "400" --task denoising --no-end 0 "${budget[@]}" > /dev/null
bash scripts/table.sh "$out/denoising-N200" "$cells" "400" --task denoising --no-end 200 "${budget[@]}" > /dev/null
./build/neurocell report "$out"/copy/*-T300 "$out"/copy/*-T600 "$out"/denoising-N0/* "$out"/denoising-N200/*
