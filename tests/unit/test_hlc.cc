#include <doctest/doctest.h>

#include <limits>

#include "beatbook/hlc.h"

using namespace beatbook;

TEST_CASE("stamps strictly increase even when the wall clock jumps backwards") {
  ManualClock clock(1'700'000'000'000);
  HybridClock hlc(&clock, 0);
  HlcStamp a = hlc.Now();
  HlcStamp b = hlc.Now();  // same millisecond
  CHECK(b > a);
  clock.Advance(-86'400'000);  // the clock goes back a day
  HlcStamp c = hlc.Now();
  CHECK(c > b);
  CHECK(HybridClock::PhysicalMs(c) == 1'700'000'000'000);
  clock.Advance(2 * 86'400'000);  // and forward again
  HlcStamp d = hlc.Now();
  CHECK(d > c);
  CHECK(HybridClock::PhysicalMs(d) == 1'700'086'400'000);
}

TEST_CASE("a stamp issued after observing another orders after it") {
  ManualClock slow(1'000'000);
  HybridClock hlc(&slow, 0);
  HlcStamp remote = HybridClock::FromPhysical(5'000'000) + 7;
  hlc.Observe(remote);
  CHECK(hlc.Now() > remote);
  hlc.Observe(1);  // observing an older stamp changes nothing
  CHECK(hlc.last() == remote + 1);
}

TEST_CASE("a restarted clock continues from the persisted stamp") {
  ManualClock clock(2'000);
  HybridClock first(&clock, 0);
  HlcStamp last = first.Now();
  clock.Set(1'000);  // after a reboot the clock is behind
  HybridClock second(&clock, last);
  CHECK(second.Now() > last);
}

TEST_CASE("a stamp far ahead of the clock is not observed, and a clock already past it recovers") {
  ManualClock clock(1'700'000'000'000);
  HybridClock hlc(&clock, 0);
  HlcStamp near_limit = std::numeric_limits<HlcStamp>::max() - 5;
  hlc.Observe(near_limit);  // a hostile device's stamp: ignored
  HlcStamp a = hlc.Now();
  CHECK(a < near_limit);
  CHECK(HybridClock::PhysicalMs(a) == 1'700'000'000'000);
  // Within the tolerance a stamp from a fast clock is observed as usual.
  HlcStamp fast = HybridClock::FromPhysical(1'700'000'000'000 + 3'600'000);
  hlc.Observe(fast);
  CHECK(hlc.Now() == fast + 1);
  // A store that observed a far-future stamp before this rule: its clock starts again from the
  // physical time, and never overflows.
  HybridClock stuck(&clock, near_limit);
  HlcStamp b = stuck.Now();
  CHECK(b > 0);
  CHECK(HybridClock::PhysicalMs(b) == 1'700'000'000'000);
  HybridClock saturated(&clock, std::numeric_limits<HlcStamp>::max());
  CHECK(saturated.Now() > 0);
  // The horizon itself never overflows, whatever the clock reads.
  CHECK(HybridClock::HorizonAt(1'700'000'000'000) ==
        (HybridClock::FromPhysical(1'700'000'000'000 + tunables::kMaxClockAheadMs) | 0xFFFF));
  CHECK(HybridClock::HorizonAt(std::numeric_limits<std::int64_t>::max()) > 0);
}
