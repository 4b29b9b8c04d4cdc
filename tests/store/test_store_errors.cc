// The central store (SQLite) when what it reads back is damaged: an error part-way through a scan
// is returned as a Status, never taken for the last row or thrown, and a rebuild that meets one
// commits nothing (issue: "an I/O error mid-scan changes nothing").
#include <doctest/doctest.h>

#include "beatbook/indicators.h"
#include "beatbook/sqlite_db.h"
#include "support/process.h"
#include "support/record_states.h"
#include "support/temp_dir.h"
#include "sync_server/store/sql_central_store.h"

using namespace beatbook;
using namespace beatbook::test;

namespace {

// Overwrites a column of one row in the store's file, as a damaged disk might.
void Damage(const std::string& dir, const std::string& sql) {
  SqliteDb db;
  REQUIRE(db.Open(dir + "/central.db", /*create=*/false).ok());
  REQUIRE(db.Exec(sql).ok());
}

}  // namespace

TEST_CASE("a damaged row part-way through a scan fails the read, and a rebuild commits nothing") {
  TempDir dir;
  const std::string path = dir / "server";
  Catalogue cat;
  REQUIRE(Catalogue::LoadFile(SchemaDir() + "/indicators.json", &cat).ok());
  auto count = [&](const RecordState& s) { return ContributionsOf(cat, s); };
  std::vector<RawFigure> before;
  {
    std::unique_ptr<server::SqlCentralStore> store;
    REQUIRE(server::SqlCentralStore::OpenSqlite(path, &store).ok());
    HlcStamp t = HybridClock::FromPhysical(1'700'000'000'000);
    REQUIRE(store
                ->Write([&](server::WriteTxn& txn) {
                  for (int i = 0; i < 3; ++i) {
                    RecordState r =
                        NewRecord(Envelope("r" + std::to_string(i), "enforcement_action", "police",
                                           "pat", "dev-p"),
                                  t + i, "2023-06-0" + std::to_string(i + 1) + "T12:00:00Z",
                                  {{"action", "closure_order"}});
                    BB_RETURN_IF_ERROR(txn.SaveRecord(r));
                    BB_RETURN_IF_ERROR(txn.SetContributions(r.id, count(r), r.MaxStamp(), 0));
                    BB_RETURN_IF_ERROR(txn.AddConflict(
                        {r.id, "action", Register{"closure_order", t + i, "dev-p", 0},
                         Register{"cpw", t, "dev-q", 0}},
                        0));
                  }
                  return Status::OK();
                })
                .ok());
    REQUIRE(store->RebuildContributions(cat.version(), count).ok());
    REQUIRE(store->ReadFigures(2023, &before).ok());
  }
  // The second record's state and a conflict's register become unreadable.
  Damage(path, "UPDATE records SET state = '{\"id\": 1' WHERE id = 'r1'");
  Damage(path, "UPDATE conflicts SET loser = 'not json' WHERE record_id = 'r2'");

  std::unique_ptr<server::SqlCentralStore> store;
  REQUIRE(server::SqlCentralStore::OpenSqlite(path, &store).ok());
  Status rebuilt = store->RebuildContributions(cat.version() + 1, count);
  CHECK(rebuilt.code() == Status::Code::kCorruption);
  // Nothing of the rebuild was kept: the same figures, the same catalogue version.
  std::vector<RawFigure> after;
  REQUIRE(store->ReadFigures(2023, &after).ok());
  REQUIRE(after.size() == before.size());
  for (std::size_t i = 0; i < before.size(); ++i) {
    CHECK(after[i].indicator == before[i].indicator);
    CHECK(after[i].value == before[i].value);
  }
  int version = 0;
  REQUIRE(store->ContributionsVersion(&version).ok());
  CHECK(version == cat.version());
  // Reading the damaged conflict is an error, not an exception or a short list.
  std::vector<server::StoredConflict> conflicts;
  CHECK(store->Conflicts(&conflicts).code() == Status::Code::kCorruption);
  std::vector<RecordState> all;
  CHECK(!store->AllRecords(&all).ok());
}
