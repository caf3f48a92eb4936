#!/usr/bin/env bash
# Trains every cell of CELLS at every length of LENGTHS with one budget, then prints the
# markdown table of the results. Usage:
#   scripts/table.sh OUT_DIR "nbrc brc gru lstm" "5 100" [extra `neurocell train` flags...]
# Runs already finished in OUT_DIR are kept (delete the folder to redo them).
set -euo pipefail
cd "$(dirname "$0")/.."
out=$1 cells=$2 lengths=$3
shift 3
runs=()
for T in $lengths; do
  for cell in $cells; do
    dir="$out/$cell-T$T"
    if [ ! -f "$dir/report.json" ]; then
      ./build/neurocell train --cell "$cell" --length "$T" --quiet --overwrite --out "$dir" "$@"
    fi
    runs+=("$dir")
  done
done
./build/neurocell report "${runs[@]}"
