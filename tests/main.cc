// The test programs' main: doctest's runner, plus two outcomes doctest does not give ctest
// (tests/support/test_run.h): "skipped" when every selected case skipped itself, and a failure
// when the filters selected no case at all.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>

#include "support/test_run.h"

namespace {

// Counts the cases a run executes (queries such as --list-test-cases execute none and are not
// runs).
struct RunCounter : doctest::IReporter {
  static inline bool ran = false;
  static inline unsigned cases = 0;

  explicit RunCounter(const doctest::ContextOptions&) {}
  void report_query(const doctest::QueryData&) override {}
  void test_run_start() override { ran = true; }
  void test_run_end(const doctest::TestRunStats& stats) override {
    cases = stats.numTestCasesPassingFilters;
  }
  void test_case_start(const doctest::TestCaseData&) override {}
  void test_case_reenter(const doctest::TestCaseData&) override {}
  void test_case_end(const doctest::CurrentTestCaseStats&) override {}
  void test_case_exception(const doctest::TestCaseException&) override {}
  void subcase_start(const doctest::SubcaseSignature&) override {}
  void subcase_end() override {}
  void log_assert(const doctest::AssertData&) override {}
  void log_message(const doctest::MessageData&) override {}
  void test_case_skipped(const doctest::TestCaseData&) override {}
};
REGISTER_LISTENER("beatbook_run_counter", 1, RunCounter);

}  // namespace

int main(int argc, char** argv) {
  // Devices without PINs keep their store keys outside the data directory, by default in the
  // account's home: tests (and the programs they start) keep theirs in the build tree.
  ::setenv("BEATBOOK_KEY_DIR", BEATBOOK_TEST_KEY_DIR, /*overwrite=*/0);
  doctest::Context context(argc, argv);
  int result = context.run();
  if (context.shouldExit() || !RunCounter::ran) return result;
  if (RunCounter::cases == 0) {
    std::fprintf(stderr,
                 "no test case matches the filters given: nothing ran (a test name with ';' "
                 "is split in two by ctest's discovery)\n");
    return result != 0 ? result : 1;
  }
  if (result == 0 && beatbook::test::SkippedCases() == static_cast<int>(RunCounter::cases)) {
    return beatbook::test::kSkipExitCode;
  }
  return result;
}
