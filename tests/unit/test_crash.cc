// Crash safety: a process killed with SIGKILL in the middle of logging leaves a store that opens,
// passes PRAGMA integrity_check, and holds whole records only, each with its outbox change.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <set>

#include "beatbook/local_store.h"
#include "beatbook/sqlite_db.h"
#include "support/process.h"
#include "support/temp_dir.h"

using namespace beatbook;

namespace {

// Every record has exactly one outbox change of its own (nothing was acknowledged), and the store
// is intact. Returns the number of records.
std::size_t CheckWholeRecordsOnly(const std::string& dir) {
  {
    SqliteDb db;
    REQUIRE(db.Open(dir + "/beatbook.db", false).ok());
    SqliteStmt st;
    REQUIRE(db.Prepare("PRAGMA integrity_check", &st).ok());
    REQUIRE(st.Step() == SqliteStmt::kRow);
    CHECK(st.ColumnText(0) == "ok");
  }
  std::unique_ptr<LocalStore> store;
  REQUIRE(LocalStore::Open(dir, {}, &store).ok());
  std::vector<RecordState> records;
  REQUIRE(store->ListAllStates(&records).ok());
  std::vector<OutboxEntry> outbox;
  REQUIRE(store->ReadOutbox(1'000'000, &outbox).ok());
  CHECK(outbox.size() == records.size());
  std::set<std::string> record_ids, change_ids;
  for (const auto& r : records) {
    record_ids.insert(r.id);
    CHECK(r.fields.count("place") == 1);
    CHECK(r.fields.count("attendees") == 1);
  }
  for (const auto& e : outbox) change_ids.insert(e.change.id);
  CHECK(record_ids == change_ids);
  return records.size();
}

void CreateStore(const std::string& dir) {
  FormSet forms;
  REQUIRE(FormSet::LoadDir(test::SchemaDir(), &forms).ok());
  std::unique_ptr<LocalStore> store;
  REQUIRE(LocalStore::Create(dir,
                             Identity{"amy", "police", "field_worker", "dev-a", "", "", "", ""},
                             forms, {}, &store)
              .ok());
}

}  // namespace

TEST_CASE("SIGKILL at random moments during bulk logging leaves whole records only") {
  std::uint64_t seed = std::random_device{}();
  CAPTURE(seed);
  std::mt19937_64 rng(seed);
  test::TempDir dir;
  CreateStore(dir.path());
  std::size_t last_count = 0;
  for (int round = 0; round < 5; ++round) {
    pid_t pid = ::fork();
    if (pid == 0) {
      // The child logs batches of 200 until it is killed.
      std::unique_ptr<LocalStore> store;
      if (!LocalStore::Open(dir.path(), {}, &store).ok()) ::_exit(2);
      for (int batch = 0; batch < 100'000; ++batch) {
        std::vector<RecordInput> inputs;
        for (int i = 0; i < 200; ++i) {
          inputs.push_back(
              {"street_brief", {{"place", "p"}, {"attendees", i}}, {}, {}, {}, {}, {}});
        }
        std::vector<std::string> ids;
        if (!store->LogAll(inputs, &ids).ok()) ::_exit(3);
      }
      ::_exit(0);
    }
    std::uniform_int_distribution<int> wait_ms(30, 400);
    ::usleep(static_cast<useconds_t>(wait_ms(rng)) * 1000);
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    REQUIRE(WIFSIGNALED(status));
    std::size_t count = CheckWholeRecordsOnly(dir.path());
    CHECK(count % 200 == 0);  // a batch is all there or not at all
    CHECK(count >= last_count);
    last_count = count;
  }
}

TEST_CASE("a crash at the commit point of a bulk log stores none of it") {
  test::TempDir dir;
  CreateStore(dir.path());
  std::string body = "[";
  for (int i = 0; i < 1000; ++i) {
    body += std::string(i ? "," : "") +
            R"({"form": "street_brief", "fields": {"place": "x", "attendees": 1}})";
  }
  body += "]";
  auto r = test::Run({test::FieldClientBin(), "log", "--data", dir.path(), "--json", "-"}, body,
                     {{"BEATBOOK_FAULT", "store.log.before_commit"}});
  CHECK(r.exit_code == 128 + SIGKILL);
  CHECK(CheckWholeRecordsOnly(dir.path()) == 0);
  r = test::Run({test::FieldClientBin(), "log", "--data", dir.path(), "--json", "-"}, body);
  CHECK(r.exit_code == 0);
  CHECK(CheckWholeRecordsOnly(dir.path()) == 1000);
}
