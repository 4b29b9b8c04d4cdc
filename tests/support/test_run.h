// What a test run reports beyond doctest's own pass and fail (tests/main.cc reads it):
//
// - Skip(why): the running test case cannot run here (no PostgreSQL, say). It returns from the
//   case at once; when every case a run selected was skipped, the run exits with kSkipExitCode,
//   which ctest reports as "Skipped" (SKIP_RETURN_CODE in tests/CMakeLists.txt), not "Passed".
// - A run whose filters select no test case at all fails: ctest runs one case per entry, and an
//   entry that selects nothing (a name its discovery split) must not pass unseen.
//
//   TEST_CASE("postgresql: ...") {
//     if (!PgAvailable()) SKIP_TEST("BEATBOOK_TEST_PG_URL is not set");
//     ...
//   }
#pragma once

#include <doctest/doctest.h>

#include <atomic>
#include <string>

namespace beatbook::test {

// Exit code of a run whose selected cases were all skipped (the Automake convention).
constexpr int kSkipExitCode = 77;

inline std::atomic<int>& SkippedCases() {
  static std::atomic<int> count{0};
  return count;
}

}  // namespace beatbook::test

// Skips the rest of the running test case, saying why (a warning in the output).
#define SKIP_TEST(why)                        \
  do {                                        \
    MESSAGE("skipped: " << std::string(why)); \
    ++::beatbook::test::SkippedCases();       \
    return;                                   \
  } while (false)
