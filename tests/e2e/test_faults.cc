// Faults: the server killed mid-push (at random moments and at named points), the client killed
// mid-sync, and a full disk. After recovery every record is on the server exactly once and the
// store passes its integrity check. Seeded: replay with BEATBOOK_SEED.
#include <signal.h>

#include <future>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "fault_site.h"

using namespace beatbook;
using namespace beatbook::test;
using nlohmann::json;

// Records per device: enough that a sync spans the kill window; fewer in the sanitizer build,
// where each sync is several times slower anyway.
#if defined(__SANITIZE_ADDRESS__)
constexpr int kKilledServerRecords = 900;
#else
constexpr int kKilledServerRecords = 1500;
#endif

TEST_CASE("the server killed with SIGKILL at random moments during pushes loses and doubles none") {
  std::uint64_t seed = Seed();
  INFO("seed " << seed << " (replay with BEATBOOK_SEED=" << seed << ")");
  std::mt19937_64 rng(seed);
  Site site;
  std::vector<std::string> devices;
  std::set<std::string> logged;
  for (int d = 0; d < 4; ++d) {
    devices.push_back(site.Enrol("worker" + std::to_string(d), "police"));
    auto ids = site.LogMany(devices.back(), kKilledServerRecords);
    logged.insert(ids.begin(), ids.end());
  }
  auto total_pending = [&] {
    std::int64_t n = 0;
    for (const auto& dev : devices) n += Pending(dev);
    return n;
  };
  int rounds_cut = 0, rounds_committed = 0;
  for (int round = 0; round < 3; ++round) {
    CAPTURE(round);
    std::int64_t pending_before = total_pending();
    std::vector<std::future<CommandResult>> syncs;
    for (const auto& dev : devices) {
      syncs.push_back(std::async(std::launch::async, [dev] {
        return FieldClient({"sync", "--data", dev});
      }));
    }
    // The kill comes at a random moment after the server has committed something this round
    // (a device's pending count dropped), so that it lands among batches in flight.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (pending_before > 0 && total_pending() == pending_before &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 100));
    site.server->Kill();
    bool cut = false;
    for (auto& s : syncs) {
      CommandResult r = s.get();
      INFO("sync exited " << r.exit_code << ": " << r.err);
      CHECK((r.exit_code == 0 || r.exit_code == 3));  // done, or "cannot reach": nothing else
      cut = cut || r.exit_code == 3;
    }
    rounds_cut += cut ? 1 : 0;
    rounds_committed += total_pending() < pending_before ? 1 : 0;
    site.Restart();
  }
  // The kills did cut syncs short, and batches were committed before them: the checks below
  // test recovery from something.
  CHECK(rounds_cut > 0);
  CHECK(rounds_committed > 0);
  for (const auto& dev : devices) {
    Ok({"sync", "--data", dev});
    CHECK(Pending(dev) == 0);
  }
  std::multiset<std::string> on_server = site.ServerIds();
  CHECK(on_server.size() == logged.size());                                    // none doubled
  CHECK(std::set<std::string>(on_server.begin(), on_server.end()) == logged);  // none lost
}

TEST_CASE("the server dying after committing a batch but before answering doubles nothing") {
  Site site(std::map<std::string, std::string>{{"BEATBOOK_FAULT", "server.push.after_commit:2"}});
  std::string dev = site.Enrol("amy", "police");
  std::set<std::string> logged = site.LogMany(dev, 1200);  // three batches of 500
  CommandResult r = FieldClient({"sync", "--data", dev});
  CHECK(r.exit_code == 3);
  CHECK(r.err.find("cannot reach the server") != std::string::npos);
  CHECK(site.ServerIds().size() == 1000);  // two batches committed
  CHECK(Pending(dev) == 700);              // the second was never acknowledged: kept
  site.server->Kill();
  site.Restart();
  json s = OkJson({"sync", "--data", dev, "--json"});
  CHECK(Pending(dev) == 0);
  auto ids = site.ServerIds();
  CHECK(ids.size() == 1200);
  CHECK(std::set<std::string>(ids.begin(), ids.end()) == logged);
}

TEST_CASE("a client killed mid-sync, then rerun, loses and doubles nothing") {
  Site site;
  std::string dev = site.Enrol("amy", "police");
  std::set<std::string> logged = site.LogMany(dev, 1200);
  for (const char* point : {"store.ack.before_commit:2", "store.pull.before_commit"}) {
    CAPTURE(point);
    auto r = Run({FieldClientBin(), "sync", "--data", dev}, "", {{"BEATBOOK_FAULT", point}});
    CHECK(r.exit_code == 128 + SIGKILL);
  }
  Ok({"sync", "--data", dev});
  CHECK(Pending(dev) == 0);
  auto ids = site.ServerIds();
  CHECK(ids.size() == 1200);
  CHECK(std::set<std::string>(ids.begin(), ids.end()) == logged);
  CHECK(OkJson({"list", "--data", dev, "--json"})["records"].size() == 1200);
}

TEST_CASE("a full disk on the server: a clear retryable error, nothing half-merged, then success") {
  Site site;
  std::string dev = site.Enrol("amy", "police");
  std::set<std::string> first = site.LogMany(dev, 10);
  Ok({"sync", "--data", dev});
  // The store may not grow any more: the disk is full.
  site.server->Kill();
  site.Restart({{"BEATBOOK_FAULT_STORE_MAX_PAGES", "1"}});
  std::set<std::string> second = site.LogMany(dev, 400);
  CommandResult r = FieldClient({"sync", "--data", dev});
  CHECK(r.exit_code == 3);
  CHECK(r.err.find("could not commit") != std::string::npos);
  CHECK(r.err.find("retry later") != std::string::npos);
  CHECK(Pending(dev) == 400);
  CHECK(site.ServerIds().size() == 10);  // nothing of the failed batch
  // Space returns.
  site.server->Kill();
  site.Restart();
  Ok({"sync", "--data", dev});
  CHECK(Pending(dev) == 0);
  auto ids = site.ServerIds();
  CHECK(ids.size() == 410);
}
