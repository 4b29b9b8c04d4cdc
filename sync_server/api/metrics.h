// Metrics: what the server counts for its operators, served as GET /metrics in Prometheus's text
// format (docs/operations.md lists each one and the alerts on them).
//
//   Metrics metrics;
//   metrics.CountRequest("/v1/push", 200);
//   metrics.CountPush(counts, 0.012);       // records applied and refused, merge seconds
//   std::string text = metrics.Render(gauges);
//
// Counters live in the process (they start at zero when it starts, as Prometheus expects);
// gauges about the store (its size, devices gone quiet, the last backup) are read at each scrape.
// Labels come from fixed sets (endpoints, refusal kinds), never from what a request sent, so a
// client cannot grow the output. Thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "sync_server/api/push.h"

namespace beatbook::server {

// What a scrape reads from the store.
struct StoreGauges {
  std::int64_t store_bytes = 0;
  std::int64_t devices = 0;               // enrolled, not revoked
  std::map<int, std::int64_t> quiet_for;  // days -> devices not synced for at least that long
  std::int64_t last_backup_ms = 0;        // 0: never backed up
  std::int64_t now_ms = 0;
};

class Metrics {
 public:
  // The endpoint label for a request path: a known endpoint's path, "/dashboard" for its files,
  // or "other".
  static std::string EndpointLabel(const std::string& path);

  void CountRequest(const std::string& path, int status);
  // A committed push (replays count as requests only): records applied and refused by kind, and
  // how long checking and merging the batch took.
  void CountPush(const PushCounts& counts, double seconds);
  void CountPulled(std::int64_t records);

  std::string Render(const StoreGauges& gauges) const;

  // Upper bounds of the merge-time histogram's buckets, in seconds.
  static constexpr std::array<double, 10> kMergeBuckets = {0.005, 0.01, 0.025, 0.05, 0.1,
                                                           0.25,  0.5,  1.0,   2.5,  5.0};

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, std::int64_t> requests_;  // (endpoint, status) -> count
  std::int64_t pushed_ = 0, pulled_ = 0;
  std::map<std::string, std::int64_t> rejected_;  // kind -> records
  std::array<std::int64_t, kMergeBuckets.size()> merge_buckets_{};
  std::int64_t merge_count_ = 0;
  double merge_sum_ = 0;
};

}  // namespace beatbook::server
