#include <doctest/doctest.h>

#include "beatbook/datetime.h"

using namespace beatbook;

TEST_CASE("ISO 8601 date-times parse to the right instant") {
  std::int64_t ms = 0;
  REQUIRE(ParseIsoDateTime("1970-01-01T00:00:00Z", &ms).ok());
  CHECK(ms == 0);
  REQUIRE(ParseIsoDateTime("2023-06-01T22:15:00+01:00", &ms).ok());
  CHECK(FormatIsoUtc(ms) == "2023-06-01T21:15:00Z");
  REQUIRE(ParseIsoDateTime("2024-02-29T12:00:00.250-05:30", &ms).ok());
  CHECK(FormatIsoUtc(ms) == "2024-02-29T17:30:00Z");
  CHECK(ms % 1000 == 250);
  REQUIRE(ParseIsoDateTime("2023-06-01T10:00Z", &ms).ok());  // seconds optional
  CHECK(FormatIsoUtc(ms) == "2023-06-01T10:00:00Z");
}

TEST_CASE("malformed date-times are refused with the reason") {
  std::int64_t ms = 0;
  for (const char* bad : {"", "2023-06-01", "2023-06-01T10:00:00", "2023-13-01T00:00:00Z",
                          "2023-02-29T00:00:00Z", "2023-06-01T24:00:00Z", "yesterday",
                          "2023-06-01T10:00:00+01:00 extra", "2023-06-01T10:00:00+25:00"}) {
    CAPTURE(bad);
    Status s = ParseIsoDateTime(bad, &ms);
    CHECK(s.IsInvalidArgument());
    CHECK(s.message().find(std::string("'") + bad + "'") != std::string::npos);
  }
}

TEST_CASE("London calendar dates follow BST") {
  int y, m, d;
  std::int64_t ms = 0;
  // 31 March 2023 23:30 UTC is 1 April 2023 00:30 BST (BST began 26 March 2023).
  REQUIRE(ParseIsoDateTime("2023-03-31T23:30:00Z", &ms).ok());
  LondonDate(ms, &y, &m, &d);
  CHECK((y == 2023 && m == 4 && d == 1));
  // 31 December 23:30 UTC is still 31 December in London (GMT).
  REQUIRE(ParseIsoDateTime("2023-12-31T23:30:00Z", &ms).ok());
  LondonDate(ms, &y, &m, &d);
  CHECK((y == 2023 && m == 12 && d == 31));
  // BST ends 29 October 2023 at 01:00 UTC: 00:59 UTC is 01:59 BST, 01:00 UTC is 01:00 GMT.
  REQUIRE(ParseIsoDateTime("2023-10-28T23:30:00Z", &ms).ok());
  LondonDate(ms, &y, &m, &d);
  CHECK((m == 10 && d == 29));
  // Before BST starts (26 March 2023 01:00 UTC) a 23:30 UTC time stays on its UTC date.
  REQUIRE(ParseIsoDateTime("2023-03-25T23:30:00Z", &ms).ok());
  LondonDate(ms, &y, &m, &d);
  CHECK((m == 3 && d == 25));
  REQUIRE(ParseIsoDateTime("2023-03-26T23:30:00Z", &ms).ok());
  LondonDate(ms, &y, &m, &d);
  CHECK((m == 3 && d == 27));
}
