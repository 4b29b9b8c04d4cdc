// Ids and secrets: UUID formats and the time order of version-7 ids.
#include <doctest/doctest.h>

#include <set>

#include "beatbook/crypto.h"

using namespace beatbook;

TEST_CASE("time-ordered ids are version-7 UUIDs that sort by the time they were made") {
  std::set<std::string> seen;
  std::string previous;
  for (std::int64_t ms = 1'700'000'000'000; ms < 1'700'000'000'000 + 2'000; ms += 7) {
    std::string id = NewTimeOrderedUuid(ms);
    REQUIRE(id.size() == 36);
    CHECK(id[14] == '7');                                          // version
    CHECK(std::string("89ab").find(id[19]) != std::string::npos);  // RFC variant
    CHECK(id > previous);                                          // later ms sorts later
    CHECK(seen.insert(id).second);
    previous = id;
  }
  // The same millisecond still gives distinct ids (74 random bits).
  CHECK(NewTimeOrderedUuid(5) != NewTimeOrderedUuid(5));
  CHECK(NewTimeOrderedUuid(0).substr(0, 13) == "00000000-0000");
}

TEST_CASE("random ids are version-4 UUIDs") {
  std::string id = NewUuid();
  REQUIRE(id.size() == 36);
  CHECK(id[14] == '4');
  CHECK(id != NewUuid());
}
