// Limits against abuse: JSON nesting depth counted without parsing, and the per-device token
// bucket.
#include <doctest/doctest.h>

#include "beatbook/tunables.h"
#include "sync_server/api/limits.h"

using beatbook::server::JsonDepth;
using beatbook::server::RateLimiter;

TEST_CASE("JSON depth counts arrays and objects, not brackets inside strings") {
  CHECK(JsonDepth("42") == 0);
  CHECK(JsonDepth(R"("[[[")") == 0);
  CHECK(JsonDepth("[]") == 1);
  CHECK(JsonDepth(R"({"a": [1, {"b": [2]}], "c": {}})") == 4);
  CHECK(JsonDepth(R"({"a": "}}}]]] \" [[[[ {{{{"})") == 1);  // an escaped quote stays in the string
  CHECK(JsonDepth(R"(["\\", [[]]])") == 3);                  // an escaped backslash ends
  CHECK(JsonDepth(std::string(1000, '[')) == 1000);          // unclosed: still counted
  CHECK(JsonDepth("]]]]][") == 1);                           // never negative
}

TEST_CASE("each device gets its burst, then its rate, independently of other devices") {
  RateLimiter limiter(/*per_second=*/2, /*burst=*/5);
  std::int64_t retry = 0;
  for (int i = 0; i < 5; ++i) CHECK(limiter.Allow("a", 1'000, &retry));
  CHECK_FALSE(limiter.Allow("a", 1'000, &retry));
  CHECK(retry == 500);                       // one token at 2 per second
  CHECK(limiter.Allow("b", 1'000, &retry));  // another device is not affected
  CHECK_FALSE(limiter.Allow("a", 1'400, &retry));
  CHECK(retry >= 100);  // 0.8 of a token held: 0.1 s more (rounded up)
  CHECK(retry <= 101);
  CHECK(limiter.Allow("a", 1'500, &retry));
  CHECK_FALSE(limiter.Allow("a", 1'500, &retry));
  // A long pause refills to the burst, not beyond it.
  for (int i = 0; i < 5; ++i) CHECK(limiter.Allow("a", 100'000, &retry));
  CHECK_FALSE(limiter.Allow("a", 100'000, &retry));
  // A clock that steps backwards neither refills nor breaks the bucket.
  CHECK_FALSE(limiter.Allow("a", 50'000, &retry));
}

TEST_CASE("a check does not take a token, and idle keys are forgotten past the tracking limit") {
  RateLimiter limiter(/*per_second=*/1, /*burst=*/2);
  std::int64_t retry = 0;
  CHECK(limiter.Check("203.0.113.9", 0, &retry));
  CHECK(limiter.Check("203.0.113.9", 0, &retry));
  CHECK(limiter.Check("203.0.113.9", 0, &retry));  // checks alone never run out
  CHECK(limiter.Allow("203.0.113.9", 0, &retry));
  CHECK(limiter.Allow("203.0.113.9", 0, &retry));
  CHECK_FALSE(limiter.Check("203.0.113.9", 0, &retry));
  CHECK(retry == 1000);

  // A flood of new keys (made-up addresses): an emptied bucket is kept, refilled ones go.
  for (std::size_t i = 0; i < beatbook::tunables::kMaxRateLimitKeys + 10; ++i) {
    limiter.Check("key-" + std::to_string(i), 500, &retry);
  }
  CHECK_FALSE(limiter.Check("203.0.113.9", 500, &retry));  // still limited: not forgotten
  CHECK(limiter.Check("203.0.113.9", 1000, &retry));
}
