#!/usr/bin/env bash
# The main job: installs what is missing, builds, and trains a 2x100 nBRC on
# copy-first-input (T=100), printing its test MSE next to the chance level.
# Extra arguments are passed to `neurocell train` (e.g. --steps 200 for a shorter run).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
bash scripts/build.sh
source scripts/blas_env.sh  # OpenBLAS's AVX-512 kernels where the CPU has them
out="runs/main-$(date +%Y%m%d-%H%M%S)"
# The main job's flags, each left out when the caller gives it (the command refuses a flag twice).
defaults=(--task copy-first-input --cell nbrc --layers 2 --hidden 100 --length 100 --batch 64 --steps 1500
          --lr 1e-3 --eval-every 100 --seed 1)
args=()
for ((i = 0; i < ${#defaults[@]}; i += 2)); do
  case " $* " in
    *" ${defaults[i]} "*) ;;
    *) args+=("${defaults[i]}" "${defaults[i + 1]}") ;;
  esac
done
./build/neurocell train "${args[@]}" --out "$out" "$@"
