// Network faults between field_client and sync_server: connections cut mid-request and
// mid-response, stalled until the client's timeout, and slow. Every device keeps rerunning `sync`
// (as a worker would when the tablet says "try again") until it succeeds; then every record is on
// the server exactly once and on every device. Seeded: replay with BEATBOOK_SEED.
#include <future>

#include "fault_site.h"
#include "support/fault_proxy.h"

using namespace beatbook;
using namespace beatbook::test;

namespace {

constexpr int kDevices = 3;
constexpr int kRecordsPerDevice = 1000;  // two push batches each
constexpr int kMaxSyncRuns = 40;         // bounded: a sync that never completes fails the test

// Reruns `sync` through the proxy until it succeeds; returns how many runs that took (0: never).
int SyncUntilDone(const std::string& device) {
  for (int run = 1; run <= kMaxSyncRuns; ++run) {
    CommandResult r =
        FieldClient({"sync", "--data", device, "--timeout", "2", "--retries", "1", "--json"});
    if (r.exit_code == 0) return run;
    // Only "cannot reach the server" is acceptable while the network misbehaves.
    if (r.exit_code != 3) {
      MESSAGE("sync exited " << r.exit_code << ": " << r.err);
      return 0;
    }
  }
  return 0;
}

}  // namespace

TEST_CASE("syncs through cut, stalled and slow connections complete with nothing lost or doubled") {
  std::uint64_t seed = Seed();
  INFO("seed " << seed << " (replay with BEATBOOK_SEED=" << seed << ")");
  Site site;
  FaultProxy proxy(site.port, seed);
  REQUIRE(proxy.Start());
  std::vector<std::string> devices;
  std::set<std::string> logged;
  for (int d = 0; d < kDevices; ++d) {
    devices.push_back(site.Enrol("worker" + std::to_string(d), "police", proxy.url()));
    auto ids = site.LogMany(devices.back(), kRecordsPerDevice);
    logged.insert(ids.begin(), ids.end());
  }

  // Every kind of fault at least once (the first connections), then a fault on about half. A
  // fault counts only once it acted on bytes; one whose connection ended first (a busy sanitizer
  // run, an answer shorter than the cut) passes to the next connection, so every scripted fault
  // happens.
  proxy.SetPlan({0.2,
                 0.2,
                 0.05,
                 0.15,
                 {NetFault::kCutRequest, NetFault::kCutResponse, NetFault::kStall, NetFault::kSlow,
                  NetFault::kCutResponse, NetFault::kCutRequest, NetFault::kSlow, NetFault::kStall,
                  NetFault::kSlow}});
  for (int round = 0; round < 2; ++round) {  // the second round pulls the others' records
    std::vector<std::future<int>> runs;
    for (const auto& dev : devices) {
      runs.push_back(std::async(std::launch::async, [dev] { return SyncUntilDone(dev); }));
    }
    for (auto& r : runs) CHECK(r.get() > 0);
  }

  FaultCounts c = proxy.counts();
  MESSAGE("connections " << c.connections << ": cut mid-request " << c.cut_requests
                         << ", cut mid-response " << c.cut_responses << ", stalled " << c.stalls
                         << ", slow " << c.slow);
  CHECK(c.cut_requests >= 2);
  CHECK(c.cut_responses >= 2);
  CHECK(c.stalls >= 1);
  CHECK(c.slow >= 1);

  std::multiset<std::string> on_server = site.ServerIds();
  CHECK(on_server.size() == logged.size());                                    // none doubled
  CHECK(std::set<std::string>(on_server.begin(), on_server.end()) == logged);  // none lost
  for (const auto& dev : devices) {
    CHECK(Pending(dev) == 0);
    auto listed = OkJson({"list", "--data", dev, "--json"})["records"];
    std::set<std::string> ids;
    for (const auto& rec : listed) ids.insert(rec["id"].get<std::string>());
    CHECK(ids == logged);  // each device holds everyone's records, once
  }
}
