#!/usr/bin/env bash
# Builds the benchmarks optimised (-O2, into build-bench/, apart from the tests' -O1 build) and
# runs every one, printing one table.
#   bench/run_all.sh [BUILD_DIR]        (default: build-bench/)
# Figures are for this machine at this moment: compare the "vs raw SQLite insert" ratios, which
# each benchmark measures in the same run, rather than absolute rates across machines.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build-bench}"
"$root/scripts/build.sh" "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG" \
  -DBEATBOOK_BENCH=ON -DBEATBOOK_BROWSER_TESTS=OFF -DBEATBOOK_PG_TESTS=OFF >/dev/null
# Device stores' key files (devices without PINs) go here, not into the account's home.
BEATBOOK_KEY_DIR="$(mktemp -d)"
export BEATBOOK_KEY_DIR
# A throw-away PostgreSQL for the two-server load (bench_sync), when PostgreSQL is installed.
pg_dir="$(mktemp -d)"
chmod 755 "$pg_dir"
trap '"$root/scripts/pg-cluster.sh" stop "$pg_dir/cluster" 2>/dev/null; rm -rf "$BEATBOOK_KEY_DIR" "$pg_dir"' EXIT
if pg_env="$("$root/scripts/pg-cluster.sh" start "$pg_dir/cluster" 2>/dev/null)"; then
  eval "$pg_env"
  export BEATBOOK_BENCH_PG_URL="$BEATBOOK_TEST_PG_URL"
fi
# The CouchDB-style peer bench_sync compares push with (bench/pouchdb): its pinned packages, when
# Node is installed (Debian's nodejs; npm reaches the registry).
if command -v npm >/dev/null; then
  (cd "$root/bench/pouchdb" && npm ci --silent --no-audit --no-fund >/dev/null 2>&1) ||
    echo "bench/pouchdb: npm ci failed; the PouchDB row is left out" >&2
fi
echo "Beatbook benchmarks ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, -O2), $(date -u +%Y-%m-%dT%H:%MZ)"
echo
echo "| figure | measured | target | vs raw SQLite insert |"
echo "|---|---|---|---|"
for bench in bench_log bench_sync bench_report; do
  # Each prints its own table; keep the rows, drop the repeated headers and the server's chatter.
  "$build/bench/$bench" 2>/dev/null | grep '^| ' | grep -v '^| figure '
done
