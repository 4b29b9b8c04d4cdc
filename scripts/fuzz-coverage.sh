#!/usr/bin/env bash
# How much of the API the HTTP fuzzer reaches: builds fuzz_http with clang's source-based
# coverage into build-fuzz-cov/, runs it for a bounded time (default 30 s) over its seed corpus
# and dictionary, and prints llvm-cov's line and function coverage of sync_server/api/*.cc.
#   scripts/fuzz-coverage.sh [SECONDS]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
secs="${1:-30}"
"$root/scripts/install-deps.sh"
if ! dpkg-query -W -f='${Status}' clang libclang-rt-14-dev llvm-14 2>/dev/null | grep -q "install ok"; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang libclang-rt-14-dev llvm-14 >/dev/null
fi
build="$root/build-fuzz-cov"
cov="-fprofile-instr-generate -fcoverage-mapping"
CC=clang CXX=clang++ cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE= \
  -DCMAKE_CXX_FLAGS="-O0 $cov" -DCMAKE_EXE_LINKER_FLAGS="$cov" -DBEATBOOK_FUZZ=ON \
  -DBEATBOOK_WERROR=OFF -DCMAKE_UNITY_BUILD=ON >/dev/null
cmake --build "$build" --target fuzz_http
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir "$work/corpus"
LLVM_PROFILE_FILE="$work/http-%p.profraw" "$build/fuzz/fuzz_http" -max_total_time="$secs" \
  -dict="$root/fuzz/http.dict" -print_final_stats=1 "$work/corpus" "$root/fuzz/corpus/http" \
  >"$build/fuzz-http.log" 2>&1
grep -E "^stat::number_of_executed_units" "$build/fuzz-http.log"
llvm-profdata-14 merge -sparse "$work"/*.profraw -o "$work/http.profdata"
llvm-cov-14 report "$build/fuzz/fuzz_http" -instr-profile="$work/http.profdata" \
  "$root"/sync_server/api/*.cc
