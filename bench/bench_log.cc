// Bulk logging on a device (validate + store + outbox) against the raw SQLite insert rate of the
// same rows (one transaction, one prepared statement) measured in the same run.
//   bench_log [RECORDS]      (default 100000)
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "beatbook/sqlite_db.h"
#include "record_generator.h"

using namespace beatbook;
using Steady = std::chrono::steady_clock;

namespace {

double Seconds(Steady::time_point start) {
  return std::chrono::duration<double>(Steady::now() - start).count();
}

std::string TempDir() {
  char pattern[] = "/tmp/beatbook-bench-XXXXXX";
  return ::mkdtemp(pattern);
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t n = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 100'000;
  auto records = bench::GenerateRecords(n, 42);
  FormSet forms;
  if (Status s = FormSet::LoadDir(BEATBOOK_SCHEMA_DIR, &forms); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 1;
  }

  // Reference: raw SQLite, the same number of rows of about the stored size, one transaction.
  std::string raw_dir = TempDir();
  SqliteDb db;
  if (!db.Open(raw_dir + "/raw.db", true).ok()) return 1;
  db.Exec("CREATE TABLE t(id TEXT PRIMARY KEY, body TEXT)");
  SqliteStmt st;
  db.Prepare("INSERT INTO t VALUES(?, ?)", &st);
  auto start = Steady::now();
  db.Begin();
  for (std::size_t i = 0; i < n; ++i) {
    st.Bind(1, "id-" + std::to_string(i * 2654435761u % 1000000007u));
    st.Bind(2, records[i].fields.dump());
    st.Run();
  }
  db.Commit();
  double raw = static_cast<double>(n) / Seconds(start);

  std::string dir = TempDir();
  std::unique_ptr<LocalStore> store;
  Identity id{"amy", "street_pastors", "field_worker", "dev-bench", "", "", ""};
  if (!LocalStore::Create(dir + "/tablet", id, forms, {}, &store).ok()) return 1;
  std::vector<std::string> ids;
  start = Steady::now();
  Status s = store->LogAll(records, &ids);
  double logged = static_cast<double>(n) / Seconds(start);
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 1;
  }
  std::printf("%-52s %12s %12s %10s\n", "figure", "records/s", "target", "vs raw");
  std::printf("%-52s %12.0f %12s %10s\n", "raw SQLite insert (reference)", raw, "-", "1.00");
  std::printf("%-52s %12.0f %12s %10.2f\n", "bulk logging on a device (validate+store+outbox)",
              logged, ">=100000", logged / raw);
  std::string cleanup = "rm -rf " + raw_dir + " " + dir;
  return std::system(cleanup.c_str()) == 0 ? 0 : 1;
}
