// The central stores under test, made fresh for each test: the SQLite store in a temporary
// directory, and the PostgreSQL store in a schema of its own in the database that
// BEATBOOK_TEST_PG_URL names (scripts/pg-cluster.sh starts a throw-away cluster for it). Without
// that variable the PostgreSQL tests fail when BEATBOOK_REQUIRE_PG is set (CI), and are reported
// as skipped otherwise (tests/support/test_run.h).
//
//   STORE_TEST("a token enrols one device") { ... store ... }   // runs once per store
#pragma once

#include <doctest/doctest.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "beatbook/crypto.h"
#include "support/temp_dir.h"
#include "support/test_run.h"
#include "sync_server/store/pg_db.h"
#include "sync_server/store/sql_central_store.h"

namespace beatbook::test {

inline std::string TestPgUrl() {
  const char* url = std::getenv("BEATBOOK_TEST_PG_URL");
  return url && *url ? url : "";
}

// `url` with its search_path set to `schema`: each test's tables live apart.
inline std::string WithSchema(const std::string& url, const std::string& schema) {
  return url + (url.find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" +
         schema;
}

// A fresh PostgreSQL schema, dropped (with everything in it) at the end of the test.
class PgSchema {
 public:
  PgSchema() : name_("t_" + NewUuid().substr(0, 8) + NewUuid().substr(0, 8)) {
    for (char& c : name_) {
      if (c == '-') c = '_';
    }
    REQUIRE(server::PgDb::Connect(TestPgUrl(), &admin_).ok());
    REQUIRE(admin_.ExecScript("CREATE SCHEMA " + name_).ok());
  }
  ~PgSchema() { admin_.ExecScript("DROP SCHEMA " + name_ + " CASCADE").ok(); }
  std::string url() const { return WithSchema(TestPgUrl(), name_); }

 private:
  std::string name_;
  server::PgDb admin_;
};

// True if the PostgreSQL tests can run. Otherwise fails the test where a PostgreSQL is required
// (a build configured with BEATBOOK_PG_TESTS, or BEATBOOK_REQUIRE_PG set), or returns false: the
// caller skips, with kPgSkipReason.
inline bool PgAvailable() {
  if (!TestPgUrl().empty()) return true;
  const char* require = std::getenv("BEATBOOK_REQUIRE_PG");
#ifdef BEATBOOK_REQUIRE_PG_TESTS
  require = "1";
#endif
  if (require && *require) {
    FAIL("BEATBOOK_TEST_PG_URL is not set: start a cluster with scripts/pg-cluster.sh");
  }
  return false;
}
constexpr const char* kPgSkipReason = "BEATBOOK_TEST_PG_URL is not set (scripts/pg-cluster.sh)";

}  // namespace beatbook::test

// Defines a test body taking `server::CentralStore& store`, run against each store.
#define STORE_TEST_IMPL(name, fn)                                                    \
  static void fn(beatbook::server::CentralStore& store);                             \
  TEST_CASE("sqlite: " name) {                                                       \
    beatbook::test::TempDir dir;                                                     \
    std::unique_ptr<beatbook::server::SqlCentralStore> store;                        \
    REQUIRE(beatbook::server::SqlCentralStore::OpenSqlite(dir.path(), &store).ok()); \
    fn(*store);                                                                      \
  }                                                                                  \
  TEST_CASE("postgresql: " name) {                                                   \
    if (!beatbook::test::PgAvailable()) SKIP_TEST(beatbook::test::kPgSkipReason);    \
    beatbook::test::PgSchema schema;                                                 \
    std::unique_ptr<beatbook::server::SqlCentralStore> store;                        \
    beatbook::Status opened =                                                        \
        beatbook::server::SqlCentralStore::OpenPostgres(schema.url(), &store);       \
    REQUIRE_MESSAGE(opened.ok(), opened.ToString());                                 \
    fn(*store);                                                                      \
  }                                                                                  \
  static void fn(beatbook::server::CentralStore& store)
#define STORE_TEST_CAT2(a, b) a##b
#define STORE_TEST_CAT(a, b) STORE_TEST_CAT2(a, b)
#define STORE_TEST(name) STORE_TEST_IMPL(name, STORE_TEST_CAT(StoreTestBody_, __LINE__))
