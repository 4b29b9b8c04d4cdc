#include "api/limits.h"

#include <algorithm>
#include <cmath>

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

DeviceRateLimiter::DeviceRateLimiter(double per_second, double burst)
    : per_second_(per_second), burst_(burst) {}

bool DeviceRateLimiter::Allow(const std::string& device_id, std::int64_t now_ms,
                              std::int64_t* retry_after_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  auto [it, fresh] = buckets_.try_emplace(device_id, Bucket{burst_, now_ms});
  Bucket& b = it->second;
  if (!fresh && now_ms > b.at_ms) {
    b.tokens =
        std::min(burst_, b.tokens + per_second_ * static_cast<double>(now_ms - b.at_ms) / 1000);
    b.at_ms = now_ms;
  }
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return true;
  }
  *retry_after_ms = static_cast<std::int64_t>(std::ceil((1 - b.tokens) * 1000 / per_second_));
  return false;
}

}  // namespace beatbook::server
