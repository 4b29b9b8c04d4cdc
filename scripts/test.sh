#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine (apt packages), builds Beatbook twice (plain, and with
# AddressSanitizer + UBSan), and runs every test in both builds with ctest.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/install-deps.sh"

echo "== plain build =="
"$root/scripts/build.sh" "$root/build"
(cd "$root/build" && ctest -j 2 --output-on-failure --timeout 600)

echo "== AddressSanitizer + UBSan build =="
"$root/scripts/build.sh" "$root/build-asan" -DBEATBOOK_SANITIZE=ON
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
(cd "$root/build-asan" && ctest -j 2 --output-on-failure --timeout 900)
