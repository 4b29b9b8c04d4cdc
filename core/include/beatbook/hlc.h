// Hybrid logical clock (docs/protocol.md, section 2).
//
// A stamp is `physical_ms << 16 | counter`, a plain int64 that orders writes: larger is later.
// Stamps issued by one HybridClock strictly increase, even when the physical clock jumps backwards,
// and every stamp issued after Observe(s) is larger than s.
//
// Not thread-safe: each store owns one and calls it under its own lock.
#pragma once

#include <cstdint>

#include "beatbook/clock.h"

namespace beatbook {

using HlcStamp = std::int64_t;

class HybridClock {
 public:
  // `clock` must outlive this object. `last` is the last stamp issued, as persisted by the owner.
  HybridClock(const Clock* clock, HlcStamp last) : clock_(clock), last_(last) {}

  // Issues a new stamp, strictly larger than every stamp issued or observed before.
  HlcStamp Now();
  // Takes note of a stamp seen from elsewhere, so later stamps order after it.
  void Observe(HlcStamp remote);
  HlcStamp last() const { return last_; }

  static HlcStamp FromPhysical(std::int64_t ms) { return ms << 16; }
  static std::int64_t PhysicalMs(HlcStamp s) { return s >> 16; }

 private:
  const Clock* clock_;
  HlcStamp last_;
};

}  // namespace beatbook
