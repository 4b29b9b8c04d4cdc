#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine (apt packages), builds Beatbook twice (plain, and with
# AddressSanitizer + UBSan), runs every test in both builds with ctest (the plain build's also
# drives the dashboard in headless Chromium: tests/browser), then runs each libFuzzer
# target briefly (scripts/fuzz.sh; longer runs: scripts/fuzz.sh SECONDS).
# Unity builds (several sources per compiler run) keep the whole run within CI's 15 minutes on
# 2 cores: Beast, Asio and nlohmann/json headers dominate compile time.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/install-deps.sh" --browser
# The browser test's one npm package, at the version package-lock.json pins (no browser download).
(cd "$root/tests/browser" && npm ci --no-audit --no-fund --loglevel=error)

echo "== plain build =="
# -O2 as released, without debug info: it is most of the compile time, and CI reads no core dumps.
# The dashboard is tested in headless Chromium against this build's server.
"$root/scripts/build.sh" "$root/build" -DCMAKE_UNITY_BUILD=ON \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -DNDEBUG" -DBEATBOOK_BROWSER_TESTS=ON
(cd "$root/build" && ctest -j 2 --output-on-failure --timeout 600)

echo "== AddressSanitizer + UBSan build =="
# Benchmarks are built (and so kept compiling) in the plain build only.
"$root/scripts/build.sh" "$root/build-asan" -DBEATBOOK_SANITIZE=ON -DCMAKE_UNITY_BUILD=ON \
  -DBEATBOOK_BENCH=OFF
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
(cd "$root/build-asan" && ctest -j 2 --output-on-failure --timeout 900)

echo "== fuzzers, 8 s each =="
"$root/scripts/fuzz.sh" 8
