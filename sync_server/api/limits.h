// Limits against abuse that the API applies before doing any work for a request: how deeply a
// JSON body may nest, and how many requests a device may make (a token bucket per device).
// Size limits live where the bytes arrive (http_server.cc) and in the push decoder.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace beatbook::server {

// The deepest nesting of arrays and objects in `text` (0 for a scalar), counted without parsing:
// brackets inside strings are skipped. Malformed text gets a number too; the parser rejects it.
int JsonDepth(std::string_view text);

// Each device may make `burst` requests at once and `per_second` on average after that.
// Thread-safe.
class DeviceRateLimiter {
 public:
  DeviceRateLimiter(double per_second, double burst);

  // Takes one request from `device_id`'s bucket. False if it is empty; then `*retry_after_ms`
  // is how long until it holds one again.
  bool Allow(const std::string& device_id, std::int64_t now_ms, std::int64_t* retry_after_ms);

 private:
  struct Bucket {
    double tokens = 0;
    std::int64_t at_ms = 0;
  };
  double per_second_;
  double burst_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace beatbook::server
