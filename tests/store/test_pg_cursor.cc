// The pull cursor under concurrent writers, on PostgreSQL: several store instances (as several
// sync_server processes would be) commit at once, some slowly, while a reader follows the change
// feed. A sequence number taken before commit could become visible after a larger one that the
// reader has already passed; the store numbers records at commit time under a lock
// (pg_session.h), so the reader must see every record exactly once. Every record also
// counts towards the same running totals, which must come out exact, without deadlocks. Seeded:
// BEATBOOK_SEED replays a run.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "store_fixture.h"
#include "support/record_states.h"
#include "support/seed.h"

using namespace beatbook;
using namespace beatbook::server;
using nlohmann::json;

namespace {

RecordState CursorRecord(const std::string& id, HlcStamp t) {
  return test::NewRecord(test::Envelope(id, "street_brief", "police", "amy", "dev-a"), t,
                         "2023-06-01T21:00:00Z", {{"attendees", 1}});
}

}  // namespace

TEST_CASE("postgresql: a reader following the feed misses nothing while instances commit at once") {
  if (!test::PgAvailable()) SKIP_TEST(test::kPgSkipReason);
  std::uint64_t seed = test::Seed();
  INFO("seed " << seed << " (BEATBOOK_SEED=" << seed << " replays it)");
  test::PgSchema schema;
  const int kWriters = 3, kTxnsEach = 40;
  std::vector<std::unique_ptr<SqlCentralStore>> writers(kWriters);
  for (auto& w : writers) REQUIRE(SqlCentralStore::OpenPostgres(schema.url(), &w).ok());
  std::unique_ptr<SqlCentralStore> reader;
  REQUIRE(SqlCentralStore::OpenPostgres(schema.url(), &reader).ok());

  std::atomic<int> running{kWriters};
  std::atomic<bool> failed{false};
  std::mutex error_mu;
  std::string error;
  std::vector<std::vector<std::string>> written(kWriters);
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      std::mt19937_64 rng(seed + static_cast<std::uint64_t>(w));
      for (int t = 0; t < kTxnsEach; ++t) {
        int n = 1 + static_cast<int>(rng() % 4);
        auto hold = std::chrono::microseconds(rng() % 4000);
        std::vector<std::string> ids;
        Status s = writers[w]->Write([&](WriteTxn& txn) {
          for (int i = 0; i < n; ++i) {
            ids.push_back("w" + std::to_string(w) + "-" + std::to_string(t) + "-" +
                          std::to_string(i));
            BB_RETURN_IF_ERROR(txn.SaveRecord(CursorRecord(ids.back(), 10 + t)));
            // Every record counts towards the same running totals, in an order of its own: the
            // shared rows must neither deadlock the instances nor lose a count.
            std::vector<Contribution> counts = {{"ind_a", 2023, 1, 1, 0, "", ""},
                                                {"ind_b", 2023, 1, 1, 0, "", ""},
                                                {"ind_c", 2023, 2, 1, 0, "", ""}};
            std::shuffle(counts.begin(), counts.end(), rng);
            BB_RETURN_IF_ERROR(txn.SetContributions(ids.back(), counts, 10 + t, 0));
          }
          // A slow transaction: others commit meanwhile.
          std::this_thread::sleep_for(hold);
          return Status::OK();
        });
        if (!s.ok()) {
          std::lock_guard<std::mutex> lock(error_mu);
          error = s.ToString();
          failed = true;
          break;
        }
        written[w].insert(written[w].end(), ids.begin(), ids.end());
      }
      --running;
    });
  }

  std::map<std::string, int> seen;
  std::string cursor = "0";
  bool last_round = false;
  for (int guard = 0; guard < 100000; ++guard) {
    bool done = running == 0;  // read before pulling: a pull after this sees every commit
    ChangePage page;
    Status s = reader->ReadChanges(cursor, "", 7, &page);
    REQUIRE_MESSAGE(s.ok(), s.ToString());
    for (const auto& text : page.states) ++seen[json::parse(text)["id"].get<std::string>()];
    cursor = page.cursor;
    if (page.more) continue;
    if (last_round) break;
    last_round = done;
  }
  for (auto& t : threads) t.join();
  INFO("a writer failed: " << error);
  REQUIRE_FALSE(failed);

  std::size_t total = 0;
  for (const auto& ids : written) {
    total += ids.size();
    for (const auto& id : ids) {
      CAPTURE(id);
      CHECK(seen[id] == 1);  // seen, and only once (no record was written twice)
    }
  }
  CHECK(seen.size() == total);
  std::vector<RawFigure> figures;
  REQUIRE(reader->ReadFigures(2023, &figures).ok());
  std::map<std::string, double> totals;
  for (const auto& f : figures) totals[f.indicator + "/Q" + std::to_string(f.quarter)] = f.value;
  CHECK(totals["ind_a/Q1"] == static_cast<double>(total));
  CHECK(totals["ind_b/Q1"] == static_cast<double>(total));
  CHECK(totals["ind_c/Q2"] == static_cast<double>(total));
  MESSAGE(total << " records from " << kWriters << " instances, all seen once");
}
