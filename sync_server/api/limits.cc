#include "sync_server/api/limits.h"

#include <algorithm>
#include <cmath>

#include "beatbook/tunables.h"

namespace beatbook::server {

int JsonDepth(std::string_view text) {
  int depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        break;
      case '[':
      case '{':
        deepest = std::max(deepest, ++depth);
        break;
      case ']':
      case '}':
        depth = std::max(depth - 1, 0);
        break;
      default:
        break;
    }
  }
  return deepest;
}

RateLimiter::RateLimiter(double per_second, double burst)
    : per_second_(per_second), burst_(burst) {}

RateLimiter::Bucket& RateLimiter::Refilled(const std::string& key, std::int64_t now_ms) {
  auto refill = [&](Bucket& b) {
    if (now_ms > b.at_ms) {
      b.tokens =
          std::min(burst_, b.tokens + per_second_ * static_cast<double>(now_ms - b.at_ms) / 1000);
      b.at_ms = now_ms;
    }
  };
  if (buckets_.size() >= tunables::kMaxRateLimitKeys && !buckets_.count(key)) {
    // Many addresses (or a flood of made-up ones): forget the buckets that are full again.
    for (auto it = buckets_.begin(); it != buckets_.end();) {
      refill(it->second);
      it = it->second.tokens >= burst_ ? buckets_.erase(it) : std::next(it);
    }
  }
  auto [it, fresh] = buckets_.try_emplace(key, Bucket{burst_, now_ms});
  if (!fresh) refill(it->second);
  return it->second;
}

bool RateLimiter::HasToken(const Bucket& b, std::int64_t* retry_after_ms) const {
  if (b.tokens >= 1) return true;
  *retry_after_ms = static_cast<std::int64_t>(std::ceil((1 - b.tokens) * 1000 / per_second_));
  return false;
}

bool RateLimiter::Allow(const std::string& key, std::int64_t now_ms, std::int64_t* retry_after_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  Bucket& b = Refilled(key, now_ms);
  if (!HasToken(b, retry_after_ms)) return false;
  b.tokens -= 1;
  return true;
}

bool RateLimiter::Check(const std::string& key, std::int64_t now_ms, std::int64_t* retry_after_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  return HasToken(Refilled(key, now_ms), retry_after_ms);
}

}  // namespace beatbook::server
