// Hybrid logical clock (docs/protocol.md, section 2).
//
// A stamp is `physical_ms << 16 | counter`, a plain int64 that orders writes: larger is later.
// Stamps issued by one HybridClock strictly increase, even when the physical clock jumps backwards,
// and every stamp issued after Observe(s) is larger than s, for every s within `max_ahead_ms` of
// the physical clock. A stamp further ahead than that is not trusted: Observe ignores it, and a
// clock whose last stamp is already past it (a store that observed one before this rule) starts
// again from the physical time. So no stamp from elsewhere can push a clock to overflow.
//
// Not thread-safe: each store owns one and calls it under its own lock.
#pragma once

#include <cstdint>

#include "beatbook/clock.h"
#include "beatbook/tunables.h"

namespace beatbook {

using HlcStamp = std::int64_t;

class HybridClock {
 public:
  // `clock` must outlive this object. `last` is the last stamp issued, as persisted by the owner.
  HybridClock(const Clock* clock, HlcStamp last,
              std::int64_t max_ahead_ms = tunables::kMaxClockAheadMs)
      : clock_(clock), last_(last), max_ahead_ms_(max_ahead_ms) {}

  // Issues a new stamp, strictly larger than every stamp issued or observed before (within the
  // trusted window).
  HlcStamp Now();
  // Takes note of a stamp seen from elsewhere, so later stamps order after it. Stamps further
  // ahead of the physical clock than `max_ahead_ms` are ignored.
  void Observe(HlcStamp remote);
  HlcStamp last() const { return last_; }
  // The largest stamp trusted now: the physical clock plus `max_ahead_ms`.
  HlcStamp Horizon() const;

  static HlcStamp FromPhysical(std::int64_t ms) { return ms << 16; }
  static std::int64_t PhysicalMs(HlcStamp s) { return s >> 16; }
  // The largest stamp trusted when the physical clock reads `now_ms`.
  static HlcStamp HorizonAt(std::int64_t now_ms,
                            std::int64_t max_ahead_ms = tunables::kMaxClockAheadMs);

 private:
  const Clock* clock_;
  HlcStamp last_;
  std::int64_t max_ahead_ms_;
};

}  // namespace beatbook
