// Two real sync_server processes on one PostgreSQL store, as behind a load balancer: devices
// enrolled through either push at the same time, and pull, through their own server while the
// other commits. Every record ends up exactly once on the server and on every device.
#include <map>
#include <thread>

#include "cli.h"
#include "store/store_fixture.h"
#include "sync_server/store/open_store.h"

using namespace beatbook;
using namespace beatbook::test;
using nlohmann::json;

TEST_CASE("postgresql: two servers, concurrent pushes and pulls: nothing lost or doubled") {
  if (!PgAvailable()) SKIP_TEST(kPgSkipReason);
  PgSchema schema;
  TempDir dir;
  std::vector<std::string> store = {"--store", schema.url()};
  ServerProcess a(dir / "a", {}, store), b(dir / "b", {}, store);
  REQUIRE(a.Start());
  REQUIRE(b.Start());

  const int kDevices = 4, kRecords = 150, kRounds = 3;
  std::vector<std::string> devices;
  for (int i = 0; i < kDevices; ++i) {
    std::vector<std::string> token = {"token",  "--user", "w" + std::to_string(i), "--org",
                                      "police", "--role", "field_worker"};
    token.insert(token.end(), store.begin(), store.end());
    CommandResult t = SyncServer(token);
    REQUIRE(t.exit_code == 0);
    devices.push_back(dir / ("device" + std::to_string(i)));
    Ok({"init", "--data", devices.back(), "--server", (i % 2 ? b : a).url(), "--token",
        t.out.substr(0, t.out.find('\n'))});
  }

  // Each device logs in rounds and syncs after each, all devices at once.
  std::vector<std::thread> threads;
  std::vector<std::string> failures(kDevices);
  for (int i = 0; i < kDevices; ++i) {
    threads.emplace_back([&, i] {
      for (int round = 0; round < kRounds; ++round) {
        std::string body = "[";
        for (int r = 0; r < kRecords / kRounds; ++r) {
          body += std::string(r ? "," : "") +
                  R"({"form": "street_brief", "fields": {"place": "p", "attendees": )" +
                  std::to_string(r % 30) + "}}";
        }
        body += "]";
        CommandResult log = FieldClient({"log", "--data", devices[i], "--json", "-"}, body);
        CommandResult sync = FieldClient({"sync", "--data", devices[i]});
        if (log.exit_code != 0 || sync.exit_code != 0) failures[i] += log.err + sync.err;
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kDevices; ++i) CHECK(failures[i] == "");

  // A last sync each, then every device holds every record once, as does the store.
  for (const auto& d : devices) Ok({"sync", "--data", d});
  std::unique_ptr<server::CentralStore> central;
  REQUIRE(server::OpenCentralStore("", schema.url(), &central).ok());
  REQUIRE(central->CheckIntegrity().ok());
  std::vector<RecordState> states;
  REQUIRE(central->AllRecords(&states).ok());
  std::set<std::string> on_server;
  for (const auto& s : states) on_server.insert(s.id);
  // Should this fail again (CI saw 450 of 600 once, under ASan, not reproduced since): what each
  // device holds and still owes, and whose records the server has.
  std::map<std::string, int> by_author;
  for (const auto& s : states) ++by_author[s.author];
  std::string held;
  for (const auto& [author, n] : by_author) held += author + ": " + std::to_string(n) + "; ";
  for (const auto& d : devices) held += "\n" + Ok({"status", "--data", d, "--json"});
  INFO("the server holds, by author: " << held);
  CHECK(states.size() == static_cast<std::size_t>(kDevices * kRecords));
  CHECK(on_server.size() == states.size());
  for (const auto& d : devices) {
    CAPTURE(d);
    json listed = OkJson({"list", "--data", d, "--json"});
    std::set<std::string> ids;
    for (const auto& r : listed["records"]) ids.insert(r["id"].get<std::string>());
    CHECK(listed["records"].size() == ids.size());
    CHECK(ids == on_server);
  }
}
