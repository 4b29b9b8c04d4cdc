#include "beatbook/clock.h"

#include <chrono>

namespace beatbook {

std::int64_t SystemClock::NowMs() const {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

SystemClock* SystemClock::Default() {
  static SystemClock clock;
  return &clock;
}

std::int64_t SteadyClock::NowMs() const {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

SteadyClock* SteadyClock::Default() {
  static SteadyClock clock;
  return &clock;
}

}  // namespace beatbook
