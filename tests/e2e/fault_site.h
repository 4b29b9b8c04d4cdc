// A site for end-to-end tests: a real sync_server on 127.0.0.1 with a data dir, enrolled devices
// that bulk-log street briefs, and a way to read back (after an integrity check) every record the
// central store holds. Seeded tests take their seed from BEATBOOK_SEED, or draw one and print it.
#pragma once

#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>

#include "beatbook/local_store.h"
#include "cli.h"
#include "support/seed.h"
#include "support/temp_dir.h"
#include "sync_server/store/sql_central_store.h"

namespace beatbook::test {

struct Site {
  // `args` are added to the server's `serve` (e.g. {"--schema", DIR}), at every start.
  explicit Site(std::map<std::string, std::string> env = {}, std::vector<std::string> args = {})
      : server_args(std::move(args)),
        server(std::make_unique<ServerProcess>(dir / "central", std::move(env), server_args)) {
    REQUIRE(server->Start());
    url = server->url();
    port = server->port();
  }

  // Restarts the server on the same port, with `env` (e.g. a fault setting) or none.
  void Restart(std::map<std::string, std::string> env = {}) {
    server = std::make_unique<ServerProcess>(dir / "central", std::move(env), server_args);
    REQUIRE(server->Start(port));
  }

  // Enrols a device for `name` with the server at `via` (default: the server itself).
  std::string Enrol(const std::string& name, const std::string& org, std::string via = "",
                    const std::string& role = "field_worker") {
    CommandResult t = SyncServer(
        {"token", "--data", dir / "central", "--user", name, "--org", org, "--role", role});
    REQUIRE(t.exit_code == 0);
    std::string data = dir / name;
    Ok({"init", "--data", data, "--server", via.empty() ? url : via, "--token",
        t.out.substr(0, t.out.find('\n'))});
    return data;
  }

  // Logs `n` street briefs in one bulk import; returns their ids.
  std::set<std::string> LogMany(const std::string& device, int n) {
    std::string body = "[";
    for (int i = 0; i < n; ++i) {
      body += std::string(i ? "," : "") +
              R"({"form": "street_brief", "fields": {"place": "p", "attendees": )" +
              std::to_string(i % 40) + "}}";
    }
    body += "]";
    std::string out = Ok({"log", "--data", device, "--json", "-"}, body);
    std::set<std::string> ids;
    std::istringstream lines(out);
    for (std::string id; std::getline(lines, id);) ids.insert(id);
    return ids;
  }

  // Every record on the server, after checking the store's integrity.
  std::multiset<std::string> ServerIds() {
    std::unique_ptr<server::SqlCentralStore> store;
    REQUIRE(server::SqlCentralStore::OpenSqlite(dir / "central", &store).ok());
    REQUIRE(store->CheckIntegrity().ok());
    std::vector<RecordState> states;
    REQUIRE(store->AllRecords(&states).ok());
    std::multiset<std::string> ids;
    for (const auto& s : states) ids.insert(s.id);
    return ids;
  }

  TempDir dir;
  std::vector<std::string> server_args;
  std::unique_ptr<ServerProcess> server;
  std::string url;
  int port = 0;
};

// Every byte of every file under `dir` (a store, its WAL and shared-memory files): for checking
// that some text is, or is no longer, anywhere on disk.
inline std::string AllFileBytes(const std::string& dir) {
  std::string all;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path(), std::ios::binary);
    all.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return all;
}

// Everything a device's store holds, decrypted: every record state, outbox change, rejection
// and the identity, as text. The files are encrypted at rest, so searching their bytes for a name
// cannot fail; searching this can. The store is opened with its key file (BEATBOOK_KEY_DIR).
inline std::string DecryptedDeviceContent(const std::string& dir) {
  std::unique_ptr<LocalStore> store;
  Status opened = LocalStore::Open(dir, {}, &store);
  REQUIRE_MESSAGE(opened.ok(), opened.ToString());
  std::string all;
  std::vector<RecordState> states;
  REQUIRE(store->ListAllStates(&states).ok());
  for (const auto& s : states) all += s.ToJson().dump() + "\n";
  std::vector<OutboxEntry> outbox;
  REQUIRE(store->ReadOutbox(1'000'000, &outbox, false).ok());
  for (const auto& e : outbox) all += e.change_json + "\n";
  std::vector<Rejection> rejections;
  REQUIRE(store->Rejections(&rejections).ok());
  for (const auto& r : rejections) all += r.record_id + " " + r.reason + "\n";
  const Identity& me = store->identity();
  all += me.user + " " + me.org + " " + RoleName(me.role) + " " + me.device_id + "\n";
  return all;
}

inline std::int64_t Pending(const std::string& device) {
  return OkJson({"status", "--data", device, "--json"})["pending_changes"].get<std::int64_t>();
}

}  // namespace beatbook::test
