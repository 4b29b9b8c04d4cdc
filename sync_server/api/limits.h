// Limits against abuse that the API applies before doing any work for a request: how deeply a
// JSON body may nest, how many requests a device may make, and how many failed sign-ins (wrong
// credentials or tokens) may come from one address.
// Size limits live where the bytes arrive (http/src/server.cc) and in the push decoder.
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

// A token bucket per key (a device id, or a client's address): each key may take `burst` at once
// and `per_second` on average after that. Thread-safe. At most tunables::kMaxRateLimitKeys keys
// are tracked; past that, keys whose buckets have refilled are forgotten (they are as if new).
class RateLimiter {
 public:
  RateLimiter(double per_second, double burst);

  // Takes one token from `key`'s bucket. False if it is empty; then `*retry_after_ms` is how long
  // until it holds one again.
  bool Allow(const std::string& key, std::int64_t now_ms, std::int64_t* retry_after_ms);
  // Like Allow, without taking the token: for limits that count only failures.
  bool Check(const std::string& key, std::int64_t now_ms, std::int64_t* retry_after_ms);

 private:
  struct Bucket {
    double tokens = 0;
    std::int64_t at_ms = 0;
  };
  // `key`'s bucket, refilled up to now (mu_ held).
  Bucket& Refilled(const std::string& key, std::int64_t now_ms);
  bool HasToken(const Bucket& b, std::int64_t* retry_after_ms) const;

  double per_second_;
  double burst_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace beatbook::server
