// Clock: where Beatbook reads the time. Swappable so tests can skew time or make it jump.
//
// SystemClock reads the real wall clock, SteadyClock a monotonic one; ManualClock returns whatever
// the test sets. A Clock must
// outlive every object it is passed to. Implementations are thread-safe.
#pragma once

#include <atomic>
#include <cstdint>

namespace beatbook {

class Clock {
 public:
  virtual ~Clock() = default;
  // Milliseconds since the Unix epoch (UTC).
  virtual std::int64_t NowMs() const = 0;
};

class SystemClock final : public Clock {
 public:
  std::int64_t NowMs() const override;
  // A process-wide instance.
  static SystemClock* Default();
};

// Milliseconds since an arbitrary start that never step back, whatever the wall clock does: for
// measuring intervals (rate-limit refills), not for stamps.
class SteadyClock final : public Clock {
 public:
  std::int64_t NowMs() const override;
  // A process-wide instance.
  static SteadyClock* Default();
};

class ManualClock final : public Clock {
 public:
  explicit ManualClock(std::int64_t now_ms) : now_ms_(now_ms) {}
  std::int64_t NowMs() const override { return now_ms_.load(); }
  void Set(std::int64_t now_ms) { now_ms_ = now_ms; }
  void Advance(std::int64_t delta_ms) { now_ms_ += delta_ms; }

 private:
  std::atomic<std::int64_t> now_ms_;
};

// A clock that reads another one and adds a fixed offset: used by a device to correct its own clock
// with the offset it learned from the server (docs/protocol.md, section 2).
class OffsetClock final : public Clock {
 public:
  OffsetClock(const Clock* base, std::int64_t offset_ms) : base_(base), offset_ms_(offset_ms) {}
  std::int64_t NowMs() const override { return base_->NowMs() + offset_ms_; }

 private:
  const Clock* base_;
  std::int64_t offset_ms_;
};

}  // namespace beatbook
