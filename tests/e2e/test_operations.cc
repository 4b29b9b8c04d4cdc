// Running the server for real (docs/operations.md): backups and a restore older than its devices,
// the /metrics scrape, the request log, the configuration file, and stopping on SIGTERM.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include <sodium.h>
#include <sqlite3.h>
#include <sys/wait.h>

#include "cli.h"
#include "raw_http.h"
#include "support/temp_dir.h"
#include "sync_server/backup/backup_file.h"
#include "sync_server/store/open_store.h"

using namespace beatbook;
using namespace beatbook::test;
using nlohmann::json;

namespace ops_test {

// A server on the embedded store in DIR/central, and devices enrolled on it.
struct OpsSite {
  explicit OpsSite(std::vector<std::string> args = {}) {
    server = std::make_unique<ServerProcess>(central(), std::map<std::string, std::string>{}, args);
  }
  std::string central() const { return dir / "central"; }
  std::string key() const { return dir / "backup.key"; }

  CommandResult Admin(std::vector<std::string> args) {
    args.insert(args.begin() + 1, {"--data", central()});
    return SyncServer(args);
  }
  std::string Enrol(const std::string& name, const std::string& org, const std::string& role) {
    CommandResult t = Admin({"token", "--user", name, "--org", org, "--role", role});
    REQUIRE(t.exit_code == 0);
    std::string data = dir / name;
    Ok({"init", "--data", data, "--server", server->url(), "--token",
        t.out.substr(0, t.out.find('\n'))});
    return data;
  }
  std::string LogContact(const std::string& device, const std::string& place) {
    return Ok({"log", "--data", device, "outreach_contact", "--occurred-at",
               "2023-06-01T22:15:00+01:00", "--set", "place=" + place, "--set", "age_band=18_24",
               "--set", "safeguarding_concern=no"});
  }
  // Every record on the server, by id, read from its store.
  std::map<std::string, RecordState> ServerRecords() {
    std::unique_ptr<server::CentralStore> store;
    REQUIRE(server::OpenCentralStore(central(), "", &store).ok());
    std::vector<RecordState> states;
    REQUIRE(store->AllRecords(&states).ok());
    std::map<std::string, RecordState> out;
    for (auto& s : states) {
      CHECK(out.count(s.id) == 0);
      out[s.id] = std::move(s);
    }
    return out;
  }
  std::string Get(const std::string& path, const std::string& bearer = "") {
    RawReply r = SendRaw(server->url() + path, "", bearer, {});
    INFO(path << " -> " << r.status << ": " << r.body);
    REQUIRE(r.status == 200);
    return r.body;
  }

  TempDir dir;
  std::unique_ptr<ServerProcess> server;
};

std::set<std::string> ListedIds(const std::string& device) {
  std::set<std::string> ids;
  const json listed = OkJson({"list", "--data", device, "--json"});
  for (const auto& r : listed["records"]) ids.insert(r["id"].get<std::string>());
  return ids;
}

// The value of the sample `name` (with its labels, as written) in a Prometheus text page.
double Sample(const std::string& page, const std::string& name) {
  std::istringstream lines(page);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(name + " ", 0) == 0) return std::stod(line.substr(name.size() + 1));
  }
  FAIL("no sample " << name << " in:\n" << page);
  return -1;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A TCP connection to 127.0.0.1:port, for requests sent a piece at a time.
int Connect(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  return fd;
}

// What arrives on `fd` until it closes or `seconds` pass.
std::string ReadAll(int fd, int seconds) {
  std::string got;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    char buf[4096];
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n <= 0) break;
    got.append(buf, static_cast<std::size_t>(n));
  }
  return got;
}

}  // namespace ops_test

using namespace ops_test;

TEST_CASE("a server restored from a backup older than its devices ends with every record once") {
  OpsSite site;
  REQUIRE(site.server->Start());
  std::string amy = site.Enrol("amy", "street_pastors", "field_worker");
  std::string ben = site.Enrol("ben", "street_pastors", "field_worker");
  std::string cat = site.Enrol("cat", "csp", "coordinator");
  REQUIRE(SyncServer({"backup-key", "--out", site.key()}).exit_code == 0);

  // Before the backup: three records, synced everywhere.
  std::set<std::string> before = {site.LogContact(amy, "Jewry Street"),
                                  site.LogContact(amy, "High Street"),
                                  site.LogContact(ben, "Broadway")};
  for (const auto& d : {amy, ben, cat}) OkJson({"sync", "--data", d, "--json"});
  std::string backup = site.dir / "backup.bbk";
  CommandResult b = site.Admin({"backup", "--key", site.key(), "--out", backup});
  INFO("backup: " << b.err);
  REQUIRE(b.exit_code == 0);

  // After it: new records, an edit and a delete, all synced and then lost with the disk.
  std::string amy_new = site.LogContact(amy, "Parchment Street");
  std::string ben_new = site.LogContact(ben, "Station Hill");
  std::string edited = *before.begin();
  Ok({"edit", "--data", amy, edited, "--set", "place=St Thomas Street"});
  std::string deleted = site.LogContact(ben, "Romsey Road");
  for (const auto& d : {amy, ben, cat}) OkJson({"sync", "--data", d, "--json"});
  Ok({"delete", "--data", ben, deleted});
  OkJson({"sync", "--data", ben, "--json"});
  std::map<std::string, RecordState> full = site.ServerRecords();
  REQUIRE(full.size() == 6);

  // A restore needs the server stopped, and leaves the store as it was if refused.
  CommandResult refused = site.Admin({"restore", "--key", site.key(), "--from", backup});
  CHECK(refused.exit_code != 0);
  CHECK(refused.err.find("stop it first") != std::string::npos);
  int port = site.server->port();  // the devices know the server by it
  REQUIRE(site.server->Stop() == 0);
  CommandResult r = site.Admin({"restore", "--key", site.key(), "--from", backup});
  INFO("restore: " << r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("3 records") != std::string::npos);
  CHECK(site.ServerRecords().size() == 3);
  REQUIRE(site.server->Start(port));

  // Every device syncs, in any order: each sends again what it wrote and pulls from the start.
  json s = OkJson({"sync", "--data", cat, "--json"});
  CHECK(s["server_restored"] == true);
  // Killed while queuing its writes again: nothing of it stays, and the next sync does it all.
  CommandResult killed = Run({FieldClientBin(), "sync", "--data", amy}, "",
                             {{"BEATBOOK_FAULT", "store.epoch.before_commit"}});
  CHECK(killed.exit_code == 128 + SIGKILL);
  s = OkJson({"sync", "--data", amy, "--json"});
  CHECK(s["server_restored"] == true);
  CHECK(s["resent"] == 3);  // amy's three records (one edited)
  CHECK(s["rejected"] == 0);
  s = OkJson({"sync", "--data", ben, "--json"});
  CHECK(s["server_restored"] == true);
  CHECK(s["rejected"] == 0);
  for (const auto& d : {amy, ben, cat}) {
    json again = OkJson({"sync", "--data", d, "--json"});
    CHECK(again["server_restored"] == false);
    CHECK(again["pushed"] == 0);
  }

  // The server has every record once, in the state it had before the disk was lost.
  std::map<std::string, RecordState> after = site.ServerRecords();
  REQUIRE(after.size() == full.size());
  for (const auto& [id, state] : full) {
    CAPTURE(id);
    REQUIRE(after.count(id) == 1);
    CHECK(after[id].ToRecordJson() == state.ToRecordJson());
  }
  CHECK(after[edited].FieldValues()["place"] == "St Thomas Street");
  CHECK(after[deleted].IsDeleted());
  CHECK(after.count(amy_new) == 1);
  CHECK(after.count(ben_new) == 1);
  // ... and every device holds what it should.
  CHECK(ListedIds(amy) == ListedIds(ben));
  CHECK(ListedIds(amy).size() == 5);
  CHECK(ListedIds(cat).size() == 5);
  // Counted once in the return: five live contacts in Q1 2023/24.
  json report = json::parse(site.Admin({"report", "--fy", "2023", "--format", "json"}).out);
  if (report.contains("report")) report = report["report"];
  bool found = false;
  for (const auto& row : report["indicators"]) {
    if (row["id"] == "pc_street_pastor_interventions") {
      found = true;
      CHECK(row["values"]["Q1"] == 5);
    }
  }
  CHECK(found);
  CHECK(site.server->Stop() == 0);
}

TEST_CASE(
    "backups are sealed and checksummed: a damaged, altered or wrong-key one restores "
    "nothing") {
  OpsSite site;
  REQUIRE(site.server->Start());
  std::string amy = site.Enrol("amy", "street_pastors", "field_worker");
  site.LogContact(amy, "Jewry Street");
  OkJson({"sync", "--data", amy, "--json"});
  REQUIRE(SyncServer({"backup-key", "--out", site.key()}).exit_code == 0);
  // A key is never overwritten.
  CommandResult again = SyncServer({"backup-key", "--out", site.key()});
  CHECK(again.exit_code != 0);
  CHECK(again.err.find("never overwritten") != std::string::npos);

  // Taken while serving, into a folder that keeps the newest two.
  std::string folder = site.dir / "backups";
  std::vector<std::string> taken;
  for (int i = 0; i < 3; ++i) {
    CommandResult b =
        site.Admin({"backup", "--key", site.key(), "--out-dir", folder, "--keep", "2"});
    REQUIRE(b.exit_code == 0);
    taken.push_back(b.out.substr(0, b.out.find('\n')));
  }
  CHECK(!std::filesystem::exists(taken[0]));
  CHECK(std::filesystem::exists(taken[1]));
  CHECK(std::filesystem::exists(taken[2]));
  std::string good = taken[2];
  CommandResult v = SyncServer({"verify-backup", "--key", site.key(), good});
  INFO(v.err);
  CHECK(v.exit_code == 0);
  CHECK(v.out.find("sound") != std::string::npos);
  CHECK(v.out.find("1 records") != std::string::npos);
  // Nothing of a record is readable in the file.
  CHECK(ReadFile(good).find("Jewry Street") == std::string::npos);

  // The store after the last backup: a restore attempt that fails must leave it so.
  REQUIRE(site.server->Stop() == 0);
  std::string live = ReadFile(site.central() + "/central.db");
  auto refused = [&](const std::string& file, const std::string& key, const std::string& why) {
    CAPTURE(why);
    CommandResult check = SyncServer({"verify-backup", "--key", key, file});
    CHECK(check.exit_code != 0);
    CHECK(check.err.find(why) != std::string::npos);
    CommandResult r = site.Admin({"restore", "--key", key, "--from", file});
    CHECK(r.exit_code != 0);
    CHECK(r.err.find("nothing restored") != std::string::npos);
    CHECK(r.err.find(why) != std::string::npos);
    CHECK(ReadFile(site.central() + "/central.db") == live);
  };
  std::string bytes = ReadFile(good);
  // Cut short.
  std::ofstream(site.dir / "cut.bbk", std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  refused(site.dir / "cut.bbk", site.key(), "checksum does not match");
  // One byte changed.
  std::string flipped = bytes;
  flipped[flipped.size() / 2] ^= 0x01;
  std::ofstream(site.dir / "flipped.bbk", std::ios::binary) << flipped;
  refused(site.dir / "flipped.bbk", site.key(), "checksum does not match");
  // Changed and given a matching checksum: the seal still finds it.
  {
    std::string altered = flipped.substr(0, flipped.size() - 32);
    unsigned char sum[32];
    crypto_generichash(sum, sizeof(sum), reinterpret_cast<const unsigned char*>(altered.data()),
                       altered.size(), nullptr, 0);
    altered.append(reinterpret_cast<const char*>(sum), sizeof(sum));
    std::ofstream(site.dir / "altered.bbk", std::ios::binary) << altered;
    refused(site.dir / "altered.bbk", site.key(), "altered");
  }
  // Another key.
  std::string other_key = site.dir / "other.key";
  REQUIRE(SyncServer({"backup-key", "--out", other_key}).exit_code == 0);
  refused(good, other_key, "does not open");
  // A sound backup of a store newer than this program (made from the good one, its schema
  // version raised): opened fine, but it would not open once in place.
  {
    std::string plain = site.dir / "newer.db";
    nlohmann::json header;
    server::BackupKey key;
    REQUIRE(server::ReadBackupKey(site.key(), &key).ok());
    REQUIRE(server::OpenBackup(good, key, plain, &header).ok());
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(plain.c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db, "PRAGMA user_version = 999", nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
    REQUIRE(server::SealBackup(plain, header, key, site.dir / "newer.bbk").ok());
    refused(site.dir / "newer.bbk", site.key(), "newer than this program");
  }
  // Not a backup at all.
  std::ofstream(site.dir / "notes.bbk") << std::string(200, 'x');
  refused(site.dir / "notes.bbk", site.key(), "checksum");
  // A PostgreSQL store is backed up with its own tools.
  CommandResult pg = SyncServer({"--store", "postgresql://nobody@127.0.0.1/none", "backup", "--key",
                                 site.key(), "--out", site.dir / "pg.bbk"});
  CHECK(pg.exit_code != 0);
  CHECK(pg.err.find("pg_dump") != std::string::npos);

  // The good one restores into an empty folder (a new disk) as well.
  CommandResult fresh =
      SyncServer({"restore", "--data", site.dir / "new-disk", "--key", site.key(), "--from", good});
  INFO(fresh.err);
  CHECK(fresh.exit_code == 0);
  CHECK(fresh.out.find("new epoch") != std::string::npos);
}

TEST_CASE(
    "metrics: a scrape shows requests, pushed and refused records, quiet devices and the "
    "backup's age") {
  OpsSite site;
  REQUIRE(site.server->Start());
  std::string amy = site.Enrol("amy", "street_pastors", "field_worker");
  std::string page = site.Get("/metrics");
  CHECK(Sample(page, "beatbook_backup_age_seconds") == -1);
  CHECK(Sample(page, "beatbook_devices") == 1);
  CHECK(Sample(page, "beatbook_devices_not_synced{days=\"1\"}") == 0);
  CHECK(Sample(page, "beatbook_push_records_total") == 0);

  site.LogContact(amy, "Jewry Street");
  site.LogContact(amy, "High Street");
  OkJson({"sync", "--data", amy, "--json"});
  // A change the server refuses: a record claiming another org (sent raw; field_client would not).
  std::string bearer = DeviceBearer(amy);
  RawReply refused =
      SendRaw(site.server->url() + "/v1/push",
              R"({"batch_id":"raw-1","pending_after":0,"changes":[{"change_id":"c1",)"
              R"("id":"x1","form":"outreach_contact","form_version":1,)"
              R"("org":"police","author":"amy","device":"nobody","fields":{}}]})",
              bearer, {"Content-Type: application/json"});
  REQUIRE(refused.status == 200);
  CHECK(json::parse(refused.body)["rejected"] == 1);
  REQUIRE(SyncServer({"backup-key", "--out", site.key()}).exit_code == 0);
  REQUIRE(site.Admin({"backup", "--key", site.key(), "--out", site.dir / "b.bbk"}).exit_code == 0);

  page = site.Get("/metrics");
  CHECK(Sample(page, "beatbook_push_records_total") == 2);
  CHECK(Sample(page, "beatbook_pull_records_total") >= 2);
  CHECK(Sample(page, "beatbook_rejected_records_total{reason=\"permission\"}") == 1);
  CHECK(Sample(page, "beatbook_rejected_records_total{reason=\"invalid\"}") == 0);
  CHECK(Sample(page, "beatbook_http_requests_total{endpoint=\"/v1/push\",status=\"200\"}") == 2);
  CHECK(Sample(page, "beatbook_http_requests_total{endpoint=\"/v1/enrol\",status=\"200\"}") == 1);
  CHECK(Sample(page, "beatbook_merge_seconds_count") == 2);
  CHECK(Sample(page, "beatbook_merge_seconds_bucket{le=\"+Inf\"}") == 2);
  CHECK(Sample(page, "beatbook_store_bytes") > 4096);
  double age = Sample(page, "beatbook_backup_age_seconds");
  CHECK(age >= 0);
  CHECK(age < 600);
  // A path nobody knows is counted as "other", not as itself.
  SendRaw(site.server->url() + "/no/such/path-12345", "", "", {});
  page = site.Get("/metrics");
  CHECK(page.find("path-12345") == std::string::npos);
  CHECK(Sample(page, "beatbook_http_requests_total{endpoint=\"other\",status=\"404\"}") == 1);
  CHECK(site.server->Stop() == 0);
}

TEST_CASE("the request log: one JSON line per request with its id and device, never content") {
  OpsSite site({"--log-level", "info"});
  std::string log = site.dir / "server.log";
  site.server->CaptureStderr(log);
  REQUIRE(site.server->Start());
  std::string amy = site.Enrol("amy", "street_pastors", "field_worker");
  site.LogContact(amy, "Secret Alley 42");
  OkJson({"sync", "--data", amy, "--json"});
  RawReply health = SendRaw(site.server->url() + "/v1/health", "", "", {"X-Request-Id: trace-77"});
  CHECK(health.status == 200);
  CHECK(site.server->Stop() == 0);

  std::string text = ReadFile(log);
  CHECK(text.find("Secret Alley") == std::string::npos);
  std::string device_id = DeviceBearer(amy).substr(0, DeviceBearer(amy).find('.'));
  std::set<std::string> events;
  bool push_logged = false, health_logged = false;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    CAPTURE(line);
    json j = json::parse(line, nullptr, false);
    REQUIRE(j.is_object());
    CHECK(j.contains("ts"));
    CHECK(j.contains("level"));
    events.insert(j.value("event", ""));
    if (j["event"] == "request") {
      CHECK(!j.value("request_id", "").empty());
      if (j["endpoint"] == "/v1/push") {
        push_logged = true;
        CHECK(j["device"] == device_id);
        CHECK(j["user"] == "amy");
        CHECK(j["applied"] == 1);
        CHECK(j["status"] == 200);
      }
      if (j["endpoint"] == "/v1/health") {
        health_logged = true;
        CHECK(j["request_id"] == "trace-77");
      }
    }
  }
  CHECK(push_logged);
  CHECK(health_logged);
  CHECK(events.count("start") == 1);
  CHECK(events.count("shutdown") == 1);
  CHECK(events.count("stopped") == 1);

  // Off means off; a level that does not exist is refused.
  CommandResult bad = SyncServer(
      {"serve", "--data", site.central(), "--listen", "127.0.0.1:0", "--log-level", "chatty"});
  CHECK(bad.exit_code != 0);
  CHECK(bad.err.find("log level 'chatty'") != std::string::npos);
}

TEST_CASE("sync_server reads its options from a configuration file, and the command line wins") {
  TempDir dir;
  std::string conf = dir / "sync_server.conf";
  std::ofstream(conf) << "[serve]\ndata = \"" << (dir / "from-config") << "\"\n"
                      << "listen = \"127.0.0.1:1\"\nlog-level = \"warn\"\n"
                      << "[token]\ndata = \"" << (dir / "from-config") << "\"\n";
  int out = -1;
  pid_t pid = Spawn({SyncServerBin(), "--config", conf, "serve", "--listen", "127.0.0.1:0"}, &out);
  REQUIRE(pid > 0);
  std::string first = ReadAll(out, 0);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (first.find('\n') == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    first += ReadAll(out, 1);
    if (!first.empty() && first.find('\n') != std::string::npos) break;
  }
  CHECK(first.rfind("listening on 127.0.0.1:", 0) == 0);
  CHECK(first.find("127.0.0.1:1\n") == std::string::npos);
  CHECK(std::filesystem::exists(dir / "from-config/central.db"));
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ::close(out);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CommandResult token = SyncServer(
      {"--config", conf, "token", "--user", "amy", "--org", "police", "--role", "field_worker"});
  CHECK(token.exit_code == 0);
  // A file that is not there is an error, not a silent default.
  CommandResult missing = SyncServer({"--config", dir / "nope.conf", "devices"});
  CHECK(missing.exit_code != 0);
}

TEST_CASE(
    "on SIGTERM the server closes idle connections, finishes a request in flight, and "
    "exits") {
  OpsSite site;
  REQUIRE(site.server->Start());
  std::string amy = site.Enrol("amy", "street_pastors", "field_worker");
  std::string bearer = DeviceBearer(amy);
  // An idle keep-alive connection, and a push whose body is still arriving.
  int idle = Connect(site.server->port());
  std::string hello = "GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n";
  REQUIRE(::write(idle, hello.data(), hello.size()) == static_cast<ssize_t>(hello.size()));
  std::string greeting = ReadAll(idle, 1);
  CHECK(greeting.find("200 OK") != std::string::npos);

  std::string body = R"({"batch_id":"slow-1","pending_after":0,"changes":[]})";
  std::string head =
      "POST /v1/push HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + bearer +
      "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\n\r\n";
  int busy = Connect(site.server->port());
  std::string first_half = head + body.substr(0, 10);
  REQUIRE(::write(busy, first_half.data(), first_half.size()) ==
          static_cast<ssize_t>(first_half.size()));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the header is read by then

  auto stopping = std::chrono::steady_clock::now();
  REQUIRE(::kill(site.server->pid(), SIGTERM) == 0);
  // The idle connection is closed at once.
  std::string after = ReadAll(idle, 5);
  CHECK(after.empty());
  CHECK(std::chrono::steady_clock::now() - stopping < std::chrono::seconds(4));
  // The push in flight is read, answered and not kept alive.
  std::string rest = body.substr(10);
  REQUIRE(::write(busy, rest.data(), rest.size()) == static_cast<ssize_t>(rest.size()));
  std::string reply = ReadAll(busy, 10);
  CHECK(reply.find("200 OK") != std::string::npos);
  CHECK(reply.find("Connection: close") != std::string::npos);
  ::close(idle);
  ::close(busy);
  CHECK(site.server->Stop() == 0);  // already stopping: exits 0
  // A new connection is refused once it has stopped.
  CHECK(SendRaw(site.server->url() + "/v1/health", "", "", {}).status == 0);
}
