// The central store's schema on both engines (store/sql_schema.h): an SQLite store made by an
// older program is migrated with everything in it kept; a PostgreSQL store from before the two
// engines shared one list of steps opens as it is; a store newer than the program is refused.
#include <doctest/doctest.h>

#include "beatbook/sqlite_db.h"
#include "store_fixture.h"
#include "support/temp_dir.h"
#include "sync_server/store/sql_central_store.h"
#include "sync_server/store/sql_schema.h"

using namespace beatbook;
using namespace beatbook::test;

namespace {

// An SQLite central store as version 5 of the program left it: steps 1 to 5, with a sign-in
// code, a device and an approval in the columns of that version ("user", not "user_name").
void MakeVersion5Store(const std::string& dir) {
  SqliteDb db;
  REQUIRE(db.Open(dir + "/central.db", /*create=*/true).ok());
  for (const auto& step : server::CentralSchemaSteps()) {
    if (step.version > 5) break;
    REQUIRE(db.Exec(server::SchemaText(step, server::SqlDialect::kSqlite)).ok());
  }
  REQUIRE(db.Exec("PRAGMA user_version = 5").ok());
  REQUIRE(db.Exec("INSERT INTO tokens(hash, user, org, role, created_ms, expires_ms) VALUES("
                  "'hash-of-a-code', 'amy', 'police', 'field_worker', 0, 9000000000000)")
              .ok());
  REQUIRE(db.Exec("INSERT INTO devices(id, secret_hash, name, user, org, role, enrolled_ms) "
                  "VALUES('dev-old', 'x', 'old tablet', 'bob', 'csp', 'partner_lead', 1)")
              .ok());
  REQUIRE(db.Exec("INSERT INTO approvals(fy, quarter, kind, user, at_ms, catalogue_version, "
                  "report) VALUES(2023, 3, 'board', 'cara', 5, 1, '{\"lines\": []}')")
              .ok());
}

}  // namespace

TEST_CASE("an SQLite central store from version 5 is migrated, keeping its devices and approvals") {
  TempDir dir;
  const std::string path = dir / "server";
  std::filesystem::create_directories(path);
  MakeVersion5Store(path);

  std::unique_ptr<server::SqlCentralStore> store;
  Status opened = server::SqlCentralStore::OpenSqlite(path, &store);
  REQUIRE_MESSAGE(opened.ok(), opened.ToString());
  std::vector<server::DeviceInfo> devices;
  REQUIRE(store->ListDevices(&devices).ok());
  REQUIRE(devices.size() == 1);
  CHECK(devices[0].user == "bob");
  CHECK(devices[0].org == "csp");
  std::vector<Approval> approvals;
  REQUIRE(store->Approvals(2023, &approvals).ok());
  REQUIRE(approvals.size() == 1);
  CHECK(approvals[0].user == "cara");
  CHECK(approvals[0].quarter == 3);
  // Step 7 made the safeguarding queue, empty.
  std::vector<server::SafeguardingConcern> concerns;
  REQUIRE(store->Concerns(&concerns).ok());
  CHECK(concerns.empty());
  store.reset();

  SqliteDb db;
  REQUIRE(db.Open(path + "/central.db", /*create=*/false).ok());
  SqliteStmt v;
  REQUIRE(db.Prepare("PRAGMA user_version", &v).ok());
  REQUIRE(v.Step() == SqliteStmt::kRow);
  CHECK(v.ColumnInt(0) == server::SqlCentralStore::SchemaVersion());
  // The code's holder is still "amy", now in user_name.
  SqliteStmt t;
  REQUIRE(db.Prepare("SELECT user_name FROM tokens", &t).ok());
  REQUIRE(t.Step() == SqliteStmt::kRow);
  CHECK(t.ColumnText(0) == "amy");
}

TEST_CASE("a central store newer than the program is refused, and left as it was") {
  TempDir dir;
  const std::string path = dir / "server";
  {
    std::unique_ptr<server::SqlCentralStore> store;
    REQUIRE(server::SqlCentralStore::OpenSqlite(path, &store).ok());
  }
  {
    SqliteDb db;
    REQUIRE(db.Open(path + "/central.db", /*create=*/false).ok());
    REQUIRE(db.Exec("PRAGMA user_version = 99").ok());
  }
  std::unique_ptr<server::SqlCentralStore> store;
  Status opened = server::SqlCentralStore::OpenSqlite(path, &store);
  CHECK(opened.code() == Status::Code::kFailedPrecondition);
  CHECK(opened.message().find("schema version 99") != std::string::npos);
  CHECK(opened.message().find("update the program") != std::string::npos);
  SqliteDb db;
  REQUIRE(db.Open(path + "/central.db", /*create=*/false).ok());
  SqliteStmt v;
  REQUIRE(db.Prepare("PRAGMA user_version", &v).ok());
  REQUIRE(v.Step() == SqliteStmt::kRow);
  CHECK(v.ColumnInt(0) == 99);
}

TEST_CASE("postgresql: a store from before the shared schema list (its version 1) opens as it is") {
  if (!PgAvailable()) SKIP_TEST(kPgSkipReason);
  PgSchema schema;
  {
    std::unique_ptr<server::SqlCentralStore> store;
    REQUIRE(server::SqlCentralStore::OpenPostgres(schema.url(), &store).ok());
    REQUIRE(store
                ->CreateToken("tok", {"amy", "police", Role::kFieldWorker, 9'000'000'000'000}, 1,
                              nullptr)
                .ok());
  }
  // What the PostgreSQL store wrote before its versions joined the SQLite store's: the shared
  // list's version 6, so without what later steps made (7: the safeguarding queue; 8: photos).
  server::PgDb db;
  REQUIRE(server::PgDb::Connect(schema.url(), &db).ok());
  REQUIRE(db.ExecScript("DROP TABLE safeguarding; DROP TABLE safeguarding_actions; "
                        "DROP TABLE attachments; DROP TABLE attachment_refs; "
                        "DROP TABLE attachment_parts; UPDATE beatbook_schema SET version = 1")
              .ok());

  std::unique_ptr<server::SqlCentralStore> store;
  Status opened = server::SqlCentralStore::OpenPostgres(schema.url(), &store);
  REQUIRE_MESSAGE(opened.ok(), opened.ToString());
  server::EnrolRequest request;
  request.token = "tok";
  request.device_id = "dev-1";
  request.device_name = "tablet";
  request.secret = "s";
  server::DeviceInfo device;
  Status enrolled = store->Enrol(request, 2, &device);
  REQUIRE_MESSAGE(enrolled.ok(), enrolled.ToString());
  CHECK(device.user == "amy");
  std::vector<server::SafeguardingConcern> concerns;
  CHECK(store->Concerns(&concerns).ok());  // migrated on from 6
}
