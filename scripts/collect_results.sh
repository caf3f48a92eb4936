#!/usr/bin/env bash
# Copies the tables and pictures of finished `neurocell reproduce` suites from runs/reproduce/
# (ignored by git: run folders and weights) to docs/results/ (committed), after remaking each
# table from the run folders as they are now.
# Usage: scripts/collect_results.sh SUITE_DIR_NAME...   e.g. bistable-quick warmup horizon-paper
set -euo pipefail
cd "$(dirname "$0")/.."
for name in "$@"; do
  suite=${name%-quick}
  budget=()
  if [ "$suite" != "$name" ]; then budget=(--quick); fi
  if [ "${suite%-paper}" != "$suite" ]; then suite=${suite%-paper}; budget=(--paper); fi
  ./build/neurocell reproduce "$suite" "${budget[@]}" --out "runs/reproduce/$name" --table-only > /dev/null
  mkdir -p "docs/results/$name"
  cp "runs/reproduce/$name/results.md" "runs/reproduce/$name/results.json" "docs/results/$name/"
  cp runs/reproduce/"$name"/*.png "docs/results/$name/" 2>/dev/null || true
  echo "docs/results/$name: $(ls "docs/results/$name" | wc -l) files"
done
