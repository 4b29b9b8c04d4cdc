// Seeded, replayable randomized convergence: devices with wrong and jumping clocks log, edit and
// delete at random and sync partially through a transport that drops requests, loses responses,
// duplicates requests and replays old pushes. After a clean full sync every replica must equal
// the server's view of what it may see, with no record lost or doubled.
//
// Replay a failure with BEATBOOK_SEED=<the printed seed>.
#include <cstdlib>
#include <random>
#include <set>

#include "beatbook/permissions.h"
#include "support/seed.h"
#include "sync_fixture.h"

using namespace beatbook;
using namespace beatbook::test;

namespace {

struct SimDevice {
  Device device;
  std::unique_ptr<ManualClock> clock;
  std::string org;  // "" for the coordinator
};

void RunSimulation(std::uint64_t seed, int steps) {
  INFO("seed " << seed << " (rerun with BEATBOOK_SEED=" << seed << ")");
  std::mt19937_64 rng(seed);
  SyncFixture f;
  const std::int64_t now = SystemClock::Default()->NowMs();
  std::vector<SimDevice> sims;
  auto add = [&](const std::string& user, const std::string& org, const std::string& role,
                 std::int64_t skew_ms) {
    SimDevice s;
    s.clock = std::make_unique<ManualClock>(now + skew_ms);
    s.org = role == "coordinator" ? "" : org;
    auto faulty = std::make_unique<FaultyTransport>(
        std::make_unique<InProcessTransport>(f.api.get()), &rng, FaultRates{0.1, 0.15, 0.1, 0.1});
    s.device = f.Enrol(user, org, role, std::move(faulty), s.clock.get());
    sims.push_back(std::move(s));
  };
  add("amy", "police", "field_worker", 0);
  add("bob", "police", "field_worker", 3LL * 86'400'000);    // three days fast
  add("cal", "police", "field_worker", -5LL * 3'600'000);    // five hours slow
  add("dee", "wcc_asb", "field_worker", -2LL * 86'400'000);  // two days slow
  add("eve", "csp", "coordinator", 0);

  std::set<std::string> logged;
  std::uniform_int_distribution<int> pct(0, 99);
  for (int step = 0; step < steps; ++step) {
    SimDevice& s = sims[rng() % sims.size()];
    // Clocks drift, and sometimes jump backwards.
    s.clock->Advance(pct(rng) < 5 ? -static_cast<std::int64_t>(rng() % 7'200'000)
                                  : static_cast<std::int64_t>(rng() % 60'000));
    int op = pct(rng);
    if (op < 35 && !s.org.empty()) {
      logged.insert(s.device.Log(
          "street_brief", {{"place", "p" + std::to_string(rng() % 5)}, {"attendees", rng() % 50}}));
    } else if (op < 70) {
      // Records this worker may change: their own, or any for the coordinator.
      std::vector<RecordState> visible, mine;
      REQUIRE(s.device.store->List("", &visible).ok());
      const Identity& me = s.device.store->identity();
      for (auto& r : visible) {
        if (WhyMayNotChange(me.role, me.user, me.org, r).empty()) mine.push_back(std::move(r));
      }
      visible = std::move(mine);
      if (visible.empty()) continue;
      const RecordState& r = visible[rng() % visible.size()];
      if (op < 62) {
        json set = {{"attendees", rng() % 50}};
        if (pct(rng) < 30) set["topics"] = json::array({"asb"});
        Status st = s.device.store->Edit(r.id, set, std::nullopt);
        REQUIRE_MESSAGE(st.ok(), st.ToString());
      } else {
        REQUIRE(s.device.store->Delete(r.id).ok());
      }
    } else {
      Status st = s.device.Sync(nullptr, 1 + rng() % 8);  // may fail part-way: that is the point
      CHECK_MESSAGE((st.ok() || st.IsUnavailable()), st.ToString());
    }
  }
  // Heal the network: every device syncs cleanly until it succeeds (bounded), twice round so that
  // everyone pulls everyone's last pushes.
  for (int round = 0; round < 2; ++round) {
    for (auto& s : sims) {
      auto clean = std::make_unique<InProcessTransport>(f.api.get());
      s.device.transport = std::move(clean);
      Status st = s.device.Sync();
      REQUIRE_MESSAGE(st.ok(), st.ToString());
    }
  }
  std::vector<server::StoredRejection> rejections;
  REQUIRE(f.central->Rejections(&rejections).ok());
  std::string reasons;
  for (const auto& r : rejections) reasons += r.record_id + ": " + r.reason + "\n";
  CHECK_MESSAGE(rejections.empty(), reasons);
  auto server_all = f.ServerRecords();
  std::set<std::string> on_server;
  for (const auto& [id, state] : server_all) on_server.insert(id);
  CHECK(on_server == logged);  // none lost, none invented (ids are unique, so none doubled)
  for (auto& s : sims) {
    StoreSummary sum;
    REQUIRE(s.device.store->Summary(&sum).ok());
    CHECK(sum.pending_changes == 0);
    CHECK(s.device.Visible() == f.ServerRecords(s.org));
  }
}

}  // namespace

// Seeded runs of the simulation: fewer under the sanitizers, where each is five times slower and
// what they look for is memory errors, not more interleavings.
#if defined(__SANITIZE_ADDRESS__)
constexpr int kConvergenceRuns = 2;
#else
constexpr int kConvergenceRuns = 4;
#endif

TEST_CASE("replicas converge under random edits, faults, duplicates and skewed clocks") {
  std::uint64_t seed = Seed();
  MESSAGE("convergence seed " << seed);
  for (int run = 0; run < kConvergenceRuns; ++run) {
    RunSimulation(seed + static_cast<std::uint64_t>(run), 400);
  }
}
