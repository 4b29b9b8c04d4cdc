#!/usr/bin/env bash
# Checks that ctest runs every doctest case exactly once: the number of ctest entries made by
# doctest's discovery equals the number of test cases the test programs hold. (A case whose name
# discovery splits, at ';' for one, becomes entries that select nothing; tests/main.cc fails
# those, and this catches any other mismatch.) Entries that run a whole suite (the browser tests,
# the PostgreSQL rerun of a file) carry the label "suite", and the fuzz targets' corpus replays
# the label "replay": neither is counted.
#   scripts/check-test-count.sh BUILD_DIR
set -euo pipefail
build="${1:?usage: check-test-count.sh BUILD_DIR}"
cases=0
for program in core_tests sync_tests e2e_tests store_tests; do
  n="$("$build/tests/$program" --count | sed -n 's/.*passing the current filters: *\([0-9]*\).*/\1/p')"
  [ -n "$n" ] || { echo "check-test-count: could not count the cases of $program" >&2; exit 1; }
  cases=$((cases + n))
done
entries="$(cd "$build" && ctest -N -LE '^(suite|replay)$' | sed -n 's/^Total Tests: *\([0-9]*\)$/\1/p')"
if [ "$entries" != "$cases" ]; then
  echo "check-test-count: ctest has $entries doctest entries for $cases test cases" >&2
  exit 1
fi
echo "check-test-count: $cases test cases, one ctest entry each"
