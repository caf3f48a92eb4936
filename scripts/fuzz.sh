#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz (clang, -fsanitize=fuzzer,address,undefined) into
# build-fuzz/ and runs each for SECONDS seconds (default 60), starting from its committed seed
# corpus (tests/fuzz/corpus/TARGET; new inputs go to build-fuzz/corpus/TARGET, never into the
# tree). Prints one line per target (seconds, executions, corpus size, findings) and exits
# non-zero when any target found something: a crash, an uncaught exception, a sanitizer report,
# a leak or a hang (> 10 s on one input); the input is saved under build-fuzz/findings/.
#   scripts/fuzz.sh 600                    the issue's acceptance run (10 minutes per target)
#   FUZZ_TARGETS="npy suite" scripts/fuzz.sh 30    some targets only
#   FUZZ_JOBS=4 ...                        build jobs (default 2)
#   FUZZ_TORCH=OFF ...                     without the two targets that compile LibTorch (authors_src,
#                                          idx): what CTest's short run does, to keep CI short
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
torch=${FUZZ_TORCH:-ON}
if [ "$torch" = ON ]; then
  targets=${FUZZ_TARGETS:-"npy safetensors zip authors_src idx ncm run_config suite"}
else
  targets=${FUZZ_TARGETS:-"npy safetensors zip ncm run_config suite"}
fi
build=${FUZZ_BUILD:-build-fuzz}
cxx=${FUZZ_CXX:-/usr/bin/clang++}
command -v "$cxx" >/dev/null || { echo "fuzz.sh: $cxx not found (apt-get install clang libclang-rt-14-dev, or scripts/install.sh)" >&2; exit 1; }

start=$(date +%s)
cmake -S tests/fuzz -B "$build" -DCMAKE_CXX_COMPILER="$cxx" -DNEUROCELL_FUZZ_TORCH="$torch" >/dev/null
names=()
for t in $targets; do names+=("fuzz_$t"); done
cmake --build "$build" -j"${FUZZ_JOBS:-2}" --target "${names[@]}" >"$build/build.log" 2>&1 ||
  { tail -30 "$build/build.log" >&2; echo "fuzz.sh: build failed (log: $build/build.log)" >&2; exit 1; }
echo "fuzz.sh: built ${#names[@]} targets in $(( $(date +%s) - start )) s; running each for $seconds s" >&2

mkdir -p "$build/findings"
failed=0
for t in $targets; do
  work="$build/corpus/$t"
  mkdir -p "$work"
  log="$build/fuzz_$t.log"
  before=$(ls "$build/findings" | grep -c "^$t-" || true)
  # -timeout: one input over 10 s is a hang; -rss_limit_mb: a parser that allocates what a
  # header announces instead of what the file holds is a finding, not an OOM of the machine.
  set +e
  "$build/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1 -artifact_prefix="$build/findings/$t-" "$work" "tests/fuzz/corpus/$t" >"$log" 2>&1
  rc=$?
  set -e
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  after=$(ls "$build/findings" | grep -c "^$t-" || true)
  found=$(( after - before ))
  status="no finding"
  if [ "$rc" -ne 0 ] || [ "$found" -gt 0 ]; then
    status="FOUND: $(grep -m1 -E 'ERROR: |runtime error|deadly signal|Timeout|out-of-memory|terminate called' "$log" || echo "exit $rc") (log: $log)"
    failed=1
  fi
  printf 'fuzz %-12s %5s s  %10s executions  %5s corpus files  %s\n' "$t" "$seconds" "$runs" \
    "$(ls "$work" | wc -l)" "$status"
done
echo "fuzz.sh: done in $(( $(date +%s) - start )) s" >&2
exit $failed
