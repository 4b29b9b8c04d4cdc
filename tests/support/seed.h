// The seed of a randomized test: BEATBOOK_SEED when set (to replay a failure), else a fresh one.
// Tests print it on failure:
//
//   std::uint64_t seed = test::Seed();
//   INFO("seed " << seed << " (replay with BEATBOOK_SEED=" << seed << ")");
//   std::mt19937_64 rng(seed);
#pragma once

#include <cstdint>
#include <cstdlib>
#include <random>

namespace beatbook::test {

inline std::uint64_t Seed() {
  if (const char* s = std::getenv("BEATBOOK_SEED"); s && *s) return std::strtoull(s, nullptr, 10);
  return std::random_device{}();
}

}  // namespace beatbook::test
