#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine (apt packages), builds Beatbook twice (plain, and with
# AddressSanitizer + UBSan), runs every test in both builds with ctest (the plain build's also
# drive the dashboard in headless Chromium, tests/browser, and run the store and sync tests on a
# throw-away PostgreSQL cluster, scripts/pg-cluster.sh). Both builds replay each fuzz target's
# seed corpus and past crashes (fuzz/CMakeLists.txt); fuzzing itself needs clang and time, and
# runs by hand: scripts/fuzz.sh SECONDS.
# Unity builds (several sources per compiler run) keep the whole run within CI's 25 minutes on
# 2 cores: Beast, Asio and nlohmann/json headers dominate compile time.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/install-deps.sh" --tests
# The browser test's one npm package, at the version package-lock.json pins (no browser download).
(cd "$root/tests/browser" && npm ci --no-audit --no-fund --loglevel=error)

# A throw-away PostgreSQL cluster on 127.0.0.1 for the PostgreSQL store's tests, removed on exit.
pg_dir="$(mktemp -d)"
chmod 755 "$pg_dir"  # the postgres account runs the cluster inside it
trap '"$root/scripts/pg-cluster.sh" stop "$pg_dir/cluster"; rm -rf "$pg_dir"' EXIT
eval "$("$root/scripts/pg-cluster.sh" start "$pg_dir/cluster")"
echo "PostgreSQL for the tests: $BEATBOOK_TEST_PG_URL"

echo "== plain build ($(date -u +%T)) =="
# -O1 without debug info: half the compile time of -O2 -g, and CI reads no core dumps; the
# benchmarks (bench/run_all.sh) measure the -O2 build.
# Benchmarks are not built here: they print figures, run by hand (bench/run_all.sh).
# The dashboard is tested in headless Chromium against this build's server.
"$root/scripts/build.sh" "$root/build" -DCMAKE_UNITY_BUILD=ON \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -DNDEBUG" -DBEATBOOK_BROWSER_TESTS=ON \
  -DBEATBOOK_PG_TESTS=ON -DBEATBOOK_BENCH=OFF
# Every doctest case has exactly one ctest entry (scripts/check-test-count.sh), and no entry may be
# skipped here: --no-tests=error and the check below fail a run that ran less than it claims.
"$root/scripts/check-test-count.sh" "$root/build"
(cd "$root/build" && ctest -j 2 --output-on-failure --timeout 600 --no-tests=error | tee "$root/build/ctest.log")
! grep -q "(Skipped)" "$root/build/ctest.log" || { echo "tests were skipped in the plain build" >&2; exit 1; }

echo "== packages ($(date -u +%T)) =="
# The plain build's Debian packages install, run as a service would, back up, and purge cleanly.
"$root/scripts/package-test.sh" "$root/build"

echo "== the core alone ($(date -u +%T)) =="
# The core and its tests build with SQLite, nlohmann/json and libsodium only (no Boost, curl,
# libpq, CLI11 or libxlsxwriter): a build that only configures those proves it.
"$root/scripts/build.sh" "$root/build-core" -DBEATBOOK_CORE_ONLY=ON -DCMAKE_UNITY_BUILD=ON \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -DNDEBUG"
(cd "$root/build-core" && ctest -j 2 --output-on-failure --no-tests=error)

echo "== AddressSanitizer + UBSan build ($(date -u +%T)) =="
# Every test again, the PostgreSQL ones included. No benchmarks in the sanitizer build.
"$root/scripts/build.sh" "$root/build-asan" -DBEATBOOK_SANITIZE=ON -DCMAKE_UNITY_BUILD=ON \
  -DBEATBOOK_BENCH=OFF -DBEATBOOK_PG_TESTS=ON
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
"$root/scripts/check-test-count.sh" "$root/build-asan"
(cd "$root/build-asan" && ctest -j 2 --output-on-failure --timeout 900 --no-tests=error | tee "$root/build-asan/ctest.log")
! grep -q "(Skipped)" "$root/build-asan/ctest.log" || { echo "tests were skipped under the sanitizers" >&2; exit 1; }

echo "== done ($(date -u +%T)) =="
