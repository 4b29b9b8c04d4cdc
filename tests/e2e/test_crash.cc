// Crash safety: a process killed with SIGKILL in the middle of logging leaves a store that opens,
// passes PRAGMA integrity_check, and holds whole records only, each with its outbox change. And the
// fault points themselves: listed completely, and loud when set.
#include <doctest/doctest.h>

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>

#include "beatbook/fault.h"
#include "beatbook/local_store.h"
#include "beatbook/sqlite_db.h"
#include "support/process.h"
#include "support/seed.h"
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
                             Identity{"amy", "police", Role::kFieldWorker, "dev-a", "", "", "", ""},
                             forms, {}, &store)
              .ok());
}

}  // namespace

TEST_CASE("SIGKILL at random moments during bulk logging leaves whole records only") {
  std::uint64_t seed = test::Seed();
  INFO("seed " << seed << " (replay with BEATBOOK_SEED=" << seed << ")");
  std::mt19937_64 rng(seed);
  test::TempDir dir;
  CreateStore(dir.path());
  const std::size_t kBatch = 200;
  std::size_t last_count = 0;
  int kills_mid_batch = 0;
  for (int round = 0; round < 5; ++round) {
    // The child tells the parent, through a pipe, when it starts a batch ('b') and when the
    // batch has committed ('c'): the parent then knows what the kill interrupted.
    int progress[2];
    REQUIRE(::pipe(progress) == 0);
    pid_t pid = ::fork();
    if (pid == 0) {
      ::close(progress[0]);
      std::unique_ptr<LocalStore> store;
      if (!LocalStore::Open(dir.path(), {}, &store).ok()) ::_exit(2);
      for (int batch = 0; batch < 100'000; ++batch) {
        std::vector<RecordInput> inputs;
        for (std::size_t i = 0; i < kBatch; ++i) {
          inputs.push_back({"street_brief",
                            {{"place", "p"}, {"attendees", static_cast<int>(i)}},
                            {},
                            {},
                            {},
                            {},
                            {}});
        }
        std::vector<std::string> ids;
        if (::write(progress[1], "b", 1) != 1) ::_exit(4);
        if (!store->LogAll(inputs, &ids).ok()) ::_exit(3);
        if (::write(progress[1], "c", 1) != 1) ::_exit(4);
      }
      ::_exit(0);
    }
    ::close(progress[1]);
    // The kill comes a random moment after the child's first commit of this round (waited for
    // at most 60 s: an instrumented build opens the store and logs slowly), so that every round
    // has committed work to check, and most kills land mid-batch.
    std::string told;
    char buf[4096];
    for (int waited = 0; told.find('c') == std::string::npos && waited < 60'000; waited += 10) {
      pollfd p{progress[0], POLLIN, 0};
      if (::poll(&p, 1, 10) > 0) {
        ssize_t n = ::read(progress[0], buf, sizeof buf);
        if (n <= 0) break;
        told.append(buf, static_cast<std::size_t>(n));
      }
    }
    std::uniform_int_distribution<int> wait_ms(0, 300);
    ::usleep(static_cast<useconds_t>(wait_ms(rng)) * 1000);
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    REQUIRE(WIFSIGNALED(status));  // killed while still logging, not finished or failed
    for (ssize_t n; (n = ::read(progress[0], buf, sizeof buf)) > 0;) told.append(buf, n);
    ::close(progress[0]);
    auto committed = static_cast<std::size_t>(std::count(told.begin(), told.end(), 'c'));
    bool mid_batch = !told.empty() && told.back() == 'b';
    kills_mid_batch += mid_batch ? 1 : 0;
    CAPTURE(round);
    CAPTURE(committed);
    CAPTURE(mid_batch);

    std::size_t count = CheckWholeRecordsOnly(dir.path());
    CHECK(count % kBatch == 0);  // a batch is all there or not at all
    // Every batch that reported its commit is there; the one cut short may have committed just
    // before the kill, but nothing beyond it.
    std::size_t at_least = last_count + committed * kBatch;
    CHECK(count >= at_least);
    CHECK(count <= at_least + (mid_batch ? kBatch : 0));
    last_count = count;
  }
  // The kills did cut work short, and work was committed before them: the checks above tested
  // something.
  CHECK(kills_mid_batch > 0);
  CHECK(last_count > 0);
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

TEST_CASE("the list of fault points is the set of points in the sources") {
  std::set<std::string> in_sources;
  const std::string marker = "BB_FAULT_POINT(\"";
  std::filesystem::path root = std::filesystem::path(test::SchemaDir()).parent_path();
  for (const char* part : {"core", "field_client", "sync_server"}) {
    for (const auto& e : std::filesystem::recursive_directory_iterator(root / part)) {
      if (e.path().extension() != ".cc") continue;
      std::ifstream in(e.path());
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      for (auto at = text.find(marker); at != std::string::npos; at = text.find(marker, at)) {
        at += marker.size();
        in_sources.insert(text.substr(at, text.find('"', at) - at));
      }
    }
  }
  std::set<std::string> listed(std::begin(kFaultPoints), std::end(kFaultPoints));
  CHECK(in_sources.size() >= 8);
  CHECK(listed == in_sources);
}

TEST_CASE("a program started with a test hook set says so loudly on stderr") {
  test::TempDir dir;
  CreateStore(dir.path());
  auto r = test::Run({test::FieldClientBin(), "status", "--data", dir.path()}, "",
                     {{"BEATBOOK_FAULT", "store.log.before_commit"}});
  CHECK(r.exit_code == 0);
  CHECK(r.err.find("field_client: WARNING: BEATBOOK_FAULT=store.log.before_commit is set: this "
                   "process will kill itself at fault point 'store.log.before_commit'") !=
        std::string::npos);
  r = test::Run({test::FieldClientBin(), "status", "--data", dir.path()}, "",
                {{"BEATBOOK_FAULT", "no.such.point"}});
  CHECK(r.err.find("names no known fault point ('no.such.point')") != std::string::npos);
  r = test::Run({test::FieldClientBin(), "status", "--data", dir.path()});
  CHECK(r.err.find("WARNING") == std::string::npos);
  test::TempDir central;
  r = test::Run({test::SyncServerBin(), "devices", "--data", central.path()}, "",
                {{"BEATBOOK_FAULT_STORE_MAX_PAGES", "1"}});
  CHECK(r.err.find("sync_server: WARNING: BEATBOOK_FAULT_STORE_MAX_PAGES=1 is set: the central "
                   "store will refuse to grow past 1 pages") != std::string::npos);
}
