#include <doctest/doctest.h>

#include "beatbook/local_store.h"
#include "beatbook/sqlite_db.h"
#include "support/schema_dir.h"
#include "support/temp_dir.h"

using namespace beatbook;

TEST_CASE("a store from schema version 1 is migrated and keeps its records") {
  test::TempDir dir;
  FormSet forms;
  REQUIRE(FormSet::LoadDir(test::SchemaDir(), &forms).ok());
  Identity id;
  id.user = "amy";
  id.org = "police";
  id.role = Role::kFieldWorker;
  id.device_id = "dev-old";
  {
    // What the version-1 program left on a tablet: its tables, one record and its outbox change.
    LocalStoreOptions v1;
    v1.max_schema_version = 1;
    std::unique_ptr<LocalStore> old;
    REQUIRE(LocalStore::Create(dir.path(), id, forms, v1, &old).ok());
  }
  RecordState r;
  r.id = "rec-1";
  r.form = "street_brief";
  r.form_version = 1;
  r.org = "police";
  r.author = "amy";
  r.device = "dev-old";
  r.occurred_at = Register{"2023-06-01T22:15:00+01:00", 5, "dev-old", 0};
  r.deleted = Register{false, 5, "dev-old", 0};
  r.fields["place"] = {"The Square", 5, "dev-old", 0};
  r.fields["attendees"] = {7, 5, "dev-old", 0};
  {
    SqliteDb db;
    REQUIRE(db.Open(dir / "beatbook.db", false).ok());
    SqliteStmt st;
    REQUIRE(db.Prepare("SELECT count(*) FROM pragma_table_info('records') WHERE name = "
                       "'occurred_ms'",
                       &st)
                .ok());
    REQUIRE(st.Step() == SqliteStmt::kRow);
    CHECK(st.ColumnInt(0) == 0);  // really the old layout
    SqliteStmt ins;
    REQUIRE(db.Prepare("INSERT INTO records(id, form, deleted, occurred_at, state) "
                       "VALUES(?, 'street_brief', 0, ?, ?)",
                       &ins)
                .ok());
    ins.Bind(1, r.id);
    ins.Bind(2, r.OccurredAt());
    ins.Bind(3, r.ToJson().dump());
    REQUIRE(ins.Run().ok());
    REQUIRE(db.Exec("INSERT INTO outbox(change_id, record_id, change) VALUES('c1', 'rec-1', '" +
                    r.ToJson(true).dump() + "')")
                .ok());
  }
  std::unique_ptr<LocalStore> store;
  Status s = LocalStore::Open(dir.path(), {}, &store);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  RecordState back;
  REQUIRE(store->Get("rec-1", &back).ok());
  CHECK(back.ToJson() == r.ToJson());
  std::vector<OutboxEntry> outbox;
  REQUIRE(store->ReadOutbox(10, &outbox).ok());
  CHECK(outbox.size() == 1);
  std::vector<Rejection> rejections;
  CHECK(store->Rejections(&rejections).ok());  // the table version 2 added
  {
    SqliteDb db;
    REQUIRE(db.Open(dir / "beatbook.db", false).ok());
    SqliteStmt st;
    REQUIRE(db.Prepare("SELECT occurred_ms FROM records WHERE id = 'rec-1'", &st).ok());
    REQUIRE(st.Step() == SqliteStmt::kRow);
    CHECK(st.ColumnInt(0) == 1685654100000);  // 2023-06-01T21:15:00Z, backfilled
    SqliteStmt v;
    REQUIRE(db.Prepare("PRAGMA user_version", &v).ok());
    v.Step();
    CHECK(v.ColumnInt(0) == LocalStore::kSchemaVersion);
  }
}

TEST_CASE("a store from a newer program is refused, not damaged") {
  test::TempDir dir;
  FormSet forms;
  REQUIRE(FormSet::LoadDir(test::SchemaDir(), &forms).ok());
  {
    std::unique_ptr<LocalStore> store;
    REQUIRE(LocalStore::Create(dir.path(),
                               Identity{"a", "police", Role::kFieldWorker, "d", "", "", "", ""},
                               forms, {}, &store)
                .ok());
  }
  {
    SqliteDb db;
    REQUIRE(db.Open(dir / "beatbook.db", false).ok());
    REQUIRE(db.Exec("PRAGMA user_version = 99").ok());
  }
  std::unique_ptr<LocalStore> store;
  Status s = LocalStore::Open(dir.path(), {}, &store);
  CHECK(s.code() == Status::Code::kFailedPrecondition);
  CHECK(s.message().find("newer") != std::string::npos);
}
