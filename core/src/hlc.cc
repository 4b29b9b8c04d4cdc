#include "beatbook/hlc.h"

#include <algorithm>

namespace beatbook {

HlcStamp HybridClock::Now() {
  HlcStamp physical = FromPhysical(clock_->NowMs());
  last_ = physical > last_ ? physical : last_ + 1;
  return last_;
}

void HybridClock::Observe(HlcStamp remote) { last_ = std::max(last_, remote); }

}  // namespace beatbook
