#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each for a bounded time (default 20 s) over its
# seed corpus in fuzz/corpus/. Crashes are written to build-fuzz/crashes/; each one found should
# become a regression test.
#   scripts/fuzz.sh [SECONDS_PER_TARGET]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
secs="${1:-20}"
"$root/scripts/install-deps.sh"
if ! dpkg-query -W -f='${Status}' clang libclang-rt-14-dev 2>/dev/null | grep -q "install ok"; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang libclang-rt-14-dev >/dev/null
fi
build="$root/build-fuzz"
# -O1 with line tables: the usual fuzzing trade-off, and a quicker build than -O2 -g. CI's few
# seconds per target are a smoke run: it builds at -O0 (BEATBOOK_FUZZ_OPT), faster still.
opt="${BEATBOOK_FUZZ_OPT:--O1}"
CC=clang CXX=clang++ cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE= \
  -DCMAKE_CXX_FLAGS="$opt -gline-tables-only" -DBEATBOOK_FUZZ=ON -DBEATBOOK_WERROR=OFF \
  -DCMAKE_UNITY_BUILD=ON >/dev/null
cmake --build "$build" --target fuzz_push fuzz_push_decoder fuzz_validation fuzz_http fuzz_gunzip fuzz_xlsform fuzz_image
mkdir -p "$build/crashes"
for target in push push_decoder validation http gunzip xlsform image; do
  fuzzer="$build/fuzz/fuzz_$target"
  # Inputs that once crashed a target are replayed first: each must now pass.
  for input in "$root"/fuzz/regressions/"$target"-*; do
    [ -e "$input" ] || continue
    "$fuzzer" "$input" >"$build/replay.log" 2>&1 || { cat "$build/replay.log"; exit 1; }
    echo "replayed $(basename "$input"): passes"
  done
  work="$build/corpus-$target"
  mkdir -p "$work"
  echo "== fuzz_$target for ${secs}s =="
  # A target's dictionary (fuzz/TARGET.dict: fuzz_http's credential placeholders and paths).
  dict=()
  [ -f "$root/fuzz/$target.dict" ] && dict=(-dict="$root/fuzz/$target.dict")
  if ! "$fuzzer" -max_total_time="$secs" -artifact_prefix="$build/crashes/$target-" \
    "${dict[@]}" -print_final_stats=1 "$work" "$root/fuzz/corpus/$target" \
    >"$build/fuzz-$target.log" 2>&1; then
    tail -60 "$build/fuzz-$target.log"
    echo "fuzz_$target found a crash: $build/crashes/" >&2
    exit 1
  fi
  grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb" "$build/fuzz-$target.log"
done
