// Bulk logging on a device (validate + store + outbox) against the raw SQLite insert rate of the
// same rows (one transaction, one prepared statement) measured in the same run.
//   bench_log [RECORDS]      (default 100000)
#include <cstdio>
#include <cstdlib>

#include "bench_util.h"
#include "record_generator.h"

using namespace beatbook;
using namespace beatbook::bench;

int main(int argc, char** argv) {
  std::size_t n = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 100'000;
  auto records = GenerateRecords(n, 42);
  FormSet forms;
  if (Status s = FormSet::LoadDir(BEATBOOK_SCHEMA_DIR, &forms); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 1;
  }
  double raw = RawSqliteInsertRate(records);

  std::string dir = TempDir();
  std::unique_ptr<LocalStore> store;
  Identity id{"amy", "csp", Role::kFieldWorker, "dev-bench", "", "", "", ""};
  if (!LocalStore::Create(dir + "/tablet", id, forms, {}, &store).ok()) return 1;
  std::vector<std::string> ids;
  auto start = Steady::now();
  Status s = store->LogAll(records, &ids);
  double logged = static_cast<double>(n) / Seconds(start);
  store.reset();
  RemoveDir(dir);
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 1;
  }
  PrintHeader();
  PrintRate("raw SQLite insert of " + std::to_string(n) + " rows (reference)", raw, "-", raw);
  PrintRate(
      "bulk logging on a device (validate + store + outbox), " + std::to_string(n) + " records",
      logged, ">= 100,000/s", raw);
  return 0;
}
