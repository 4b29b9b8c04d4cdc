// Two servers on one PostgreSQL store merging pushes that touch the same records in opposite
// orders: without a common order, each transaction would hold a record the other waits for, and
// PostgreSQL would cancel one ("deadlock detected"). ApplyPush locks a batch's records first, by
// id (WriteTxn::LockRecords), so they take turns. Seeded: BEATBOOK_SEED replays a run.
#include <algorithm>
#include <random>
#include <thread>

#include "beatbook/catalogue.h"
#include "beatbook/hlc.h"
#include "store_fixture.h"
#include "support/schema_dir.h"
#include "support/seed.h"
#include "sync_server/api/push.h"

using namespace beatbook;
using namespace beatbook::server;
using nlohmann::json;

namespace {

constexpr int kRecords = 6;
constexpr int kRounds = 25;

// A push from `device` setting every shared record's attendees to `value`, in `order`. The
// records were made by cleo on dev-a (their envelope says so, whoever edits them).
json EditAll(const DeviceInfo& device, const std::vector<int>& order, int round, int value,
             std::int64_t now_ms) {
  json changes = json::array();
  HlcStamp t = HybridClock::FromPhysical(now_ms) + round;
  for (int i : order) {
    RecordState r;
    r.id = "shared-" + std::to_string(i);
    r.form = "street_brief";
    r.form_version = 1;
    r.org = "csp";
    r.author = "cleo";
    r.device = "dev-a";
    r.occurred_at = Register{"2023-06-01T20:00:00Z", t, device.id, 0};
    r.deleted = Register{false, t, device.id, 0};
    r.fields["place"] = Register{"Jewry Street", t, device.id, 0};
    r.fields["attendees"] = Register{value, t, device.id, 0};
    json change = r.ToJson(true);
    change["change_id"] = device.id + "-" + std::to_string(round) + "-" + std::to_string(i);
    changes.push_back(std::move(change));
  }
  return {{"batch_id", device.id + "-" + std::to_string(round)},
          {"pending_after", 0},
          {"changes", std::move(changes)}};
}

}  // namespace

TEST_CASE("postgresql: two servers merging the same records in opposite orders take turns") {
  if (!test::PgAvailable()) SKIP_TEST(test::kPgSkipReason);
  std::uint64_t seed = test::Seed();
  INFO("seed " << seed << " (BEATBOOK_SEED=" << seed << " replays it)");
  FormSet forms;
  REQUIRE(FormSet::LoadDir(test::SchemaDir(), &forms).ok());
  Catalogue catalogue;
  REQUIRE(Catalogue::LoadFile(test::SchemaDir() + "/indicators.json", &catalogue).ok());
  test::PgSchema schema;
  std::unique_ptr<SqlCentralStore> servers[2];
  for (auto& s : servers) REQUIRE(SqlCentralStore::OpenPostgres(schema.url(), &s).ok());

  std::vector<int> ascending(kRecords);
  for (int i = 0; i < kRecords; ++i) ascending[static_cast<std::size_t>(i)] = i;
  std::vector<int> descending(ascending.rbegin(), ascending.rend());
  auto coordinator = [](const std::string& id, const std::string& user) {
    DeviceInfo d;
    d.id = id;
    d.user = user;
    d.org = "csp";
    d.role = Role::kCoordinator;
    return d;
  };
  {
    // The records, made first by cleo on dev-a.
    std::int64_t now = SystemClock::Default()->NowMs();
    json reply;
    DeviceInfo cleo = coordinator("dev-a", "cleo");
    REQUIRE(ApplyPush(servers[0].get(), forms, catalogue, cleo,
                      EditAll(cleo, ascending, -1, 0, now - 1000), now, &reply)
                .ok());
    REQUIRE(reply["applied"] == kRecords);
  }
  std::string errors[2];
  std::thread threads[2];
  for (int w = 0; w < 2; ++w) {
    threads[w] = std::thread([&, w] {
      DeviceInfo device = w == 0 ? coordinator("dev-a", "cleo") : coordinator("dev-b", "carl");
      std::mt19937_64 rng(seed + static_cast<std::uint64_t>(w));
      for (int round = 0; round < kRounds; ++round) {
        std::int64_t now = SystemClock::Default()->NowMs();
        json reply;
        Status s = ApplyPush(servers[w].get(), forms, catalogue, device,
                             EditAll(device, w == 0 ? ascending : descending, round,
                                     static_cast<int>(rng() % 50), now),
                             now, &reply);
        if (!s.ok()) {
          errors[w] = "round " + std::to_string(round) + ": " + s.ToString();
          return;
        }
        if (reply["rejected"] != 0) {
          errors[w] = "round " + std::to_string(round) + ": " + reply.dump();
          return;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK_MESSAGE(errors[0].empty(), errors[0]);
  CHECK_MESSAGE(errors[1].empty(), errors[1]);
  // Every record is there once, and the two servers agree on it.
  std::vector<RecordState> a, b;
  REQUIRE(servers[0]->AllRecords(&a).ok());
  REQUIRE(servers[1]->AllRecords(&b).ok());
  CHECK(a.size() == static_cast<std::size_t>(kRecords));
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(a[i].ToJson() == b[i].ToJson());
}
