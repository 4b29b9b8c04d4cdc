#include "beatbook/hlc.h"

#include <algorithm>
#include <limits>

namespace beatbook {

namespace {
// Milliseconds that fit a stamp: physical_ms << 16 must not overflow an int64.
constexpr std::int64_t kMaxPhysicalMs = std::numeric_limits<HlcStamp>::max() >> 16;
}  // namespace

HlcStamp HybridClock::HorizonAt(std::int64_t now_ms, std::int64_t max_ahead_ms) {
  std::int64_t ms = std::clamp<std::int64_t>(now_ms, 0, kMaxPhysicalMs - max_ahead_ms - 1);
  return FromPhysical(ms + max_ahead_ms) | 0xFFFF;
}

HlcStamp HybridClock::Horizon() const { return HorizonAt(clock_->NowMs(), max_ahead_ms_); }

HlcStamp HybridClock::Now() {
  std::int64_t now_ms = std::clamp<std::int64_t>(clock_->NowMs(), 0, kMaxPhysicalMs - 1);
  HlcStamp physical = FromPhysical(now_ms);
  // A last stamp past the horizon came from a stamp that should not have been trusted (or a
  // clock that was far fast): start again from the physical time rather than follow it.
  if (last_ > HorizonAt(now_ms, max_ahead_ms_)) last_ = physical - 1;
  last_ = physical > last_ ? physical : last_ + 1;
  return last_;
}

void HybridClock::Observe(HlcStamp remote) {
  if (remote > Horizon()) return;
  last_ = std::max(last_, remote);
}

}  // namespace beatbook
