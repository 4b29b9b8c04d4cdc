// The built server and tablet tool against what a flood, a curious colleague or a careless
// operator could do (docs/security.md): idle connections by the hundred, huge unauthenticated
// bodies, a world-readable store, broken device names, sensitive values on the operator's screen,
// reads nobody logged, plain HTTP across a network, and colleagues editing each other's records.
// Only loopback addresses are used (127.0.0.0/8: several source addresses on this machine).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "beatbook/sqlite_db.h"
#include "fault_site.h"

using namespace beatbook;
using namespace beatbook::test;
using nlohmann::json;

namespace {

// A TCP connection to 127.0.0.1:`port` from the loopback address `from` (e.g. "127.0.0.2"); -1
// if it could not connect.
int ConnectFrom(const std::string& from, int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in local{};
  local.sin_family = AF_INET;
  ::inet_pton(AF_INET, from.c_str(), &local.sin_addr);
  sockaddr_in remote{};
  remote.sin_family = AF_INET;
  remote.sin_port = htons(static_cast<std::uint16_t>(port));
  ::inet_pton(AF_INET, "127.0.0.1", &remote.sin_addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&remote), sizeof remote) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// True if the server closed `fd` within `ms` (a read returns end of file or an error).
bool ClosedByServer(int fd, int ms) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, ms) <= 0) return false;
  char c;
  return ::recv(fd, &c, 1, MSG_DONTWAIT) <= 0;
}

// One HTTP/1.1 request over a new connection from `from`; the status code, or 0 if no answer
// came within 5 seconds.
int HttpStatusFrom(const std::string& from, int port, const std::string& request) {
  int fd = ConnectFrom(from, port);
  if (fd < 0) return 0;
  ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string reply;
  char buf[4096];
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (reply.find("\r\n") == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) continue;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    reply.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  if (reply.rfind("HTTP/1.1 ", 0) != 0) return 0;
  return std::atoi(reply.c_str() + 9);
}

const std::string kHealth = "GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n";

long PeakRssKiB(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmHWM:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return -1;
}

}  // namespace

TEST_CASE("idle connections by the hundred neither exhaust the server nor stop it answering") {
  TempDir dir;
  ServerProcess server(dir / "central", {},
                       {"--max-connections", "60", "--max-connections-per-address", "20"});
  REQUIRE(server.Start());
  // One address opens 100 connections and sends nothing: it keeps 20, the rest are closed.
  std::vector<int> held;
  for (int i = 0; i < 100; ++i) {
    int fd = ConnectFrom("127.0.0.2", server.port());
    REQUIRE(fd >= 0);
    held.push_back(fd);
  }
  int closed = 0;
  for (int fd : held) closed += ClosedByServer(fd, 200) ? 1 : 0;
  CHECK(closed >= 75);
  CHECK(closed <= 80);
  // Others are answered meanwhile.
  CHECK(HttpStatusFrom("127.0.0.3", server.port(), kHealth) == 200);
  // Many addresses, 20 idle connections each, past the total of 60: the longest idle make room,
  // and the server still answers a newcomer.
  for (int a = 4; a < 10; ++a) {
    for (int i = 0; i < 20; ++i) {
      int fd = ConnectFrom("127.0.0." + std::to_string(a), server.port());
      if (fd >= 0) held.push_back(fd);
    }
  }
  CHECK(HttpStatusFrom("127.0.0.10", server.port(), kHealth) == 200);
  CHECK(HttpStatusFrom("127.0.0.1", server.port(), kHealth) == 200);
  for (int fd : held) ::close(fd);
  CHECK(server.Stop() == 0);
}

TEST_CASE("an unauthenticated request cannot make the server read a large body") {
  TempDir dir;
  ServerProcess server(dir / "central");
  REQUIRE(server.Start());
  std::string body(15u << 20, ' ');
  std::string head =
      "POST /v1/enrol HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\n\r\n";
  long before = PeakRssKiB(server.pid());
  for (int i = 0; i < 5; ++i) {
    // Refused as soon as the header says how long the body is (the body is never sent here:
    // the answer comes without it).
    CHECK(HttpStatusFrom("127.0.0.2", server.port(), head) == 413);
  }

  // A push with a wrong credential is no different.
  std::string push =
      "POST /v1/push HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer dev-x.y\r\n"
      "Content-Length: " +
      std::to_string(body.size()) + "\r\n\r\n";
  CHECK(HttpStatusFrom("127.0.0.2", server.port(), push) == 413);
  long after = PeakRssKiB(server.pid());
  INFO("peak RSS before " << before << " KiB, after " << after << " KiB");
  CHECK(after - before < 8 * 1024);  // far below one body (15 MiB), let alone five
  // Those failures count against the address like wrong credentials: it is slowed down soon.
  int status = 0;
  for (int i = 0; i < 40 && status != 429; ++i) {
    status = HttpStatusFrom("127.0.0.4", server.port(),
                            "POST /v1/enrol HTTP/1.1\r\nHost: x\r\nContent-Length: 70000\r\n\r\n");
  }
  CHECK(status == 429);
  CHECK(HttpStatusFrom("127.0.0.5", server.port(), kHealth) == 200);
  CHECK(server.Stop() == 0);
}

TEST_CASE("the central store is readable by its own account only") {
  TempDir dir;
  ::umask(022);  // as a default login would have it
  ServerProcess server(dir / "central");
  REQUIRE(server.Start());
  std::string token = SyncServer({"token", "--data", dir / "central", "--user", "amy", "--org",
                                  "police", "--role", "field_worker"})
                          .out;
  Ok({"init", "--data", dir / "amy", "--server", server.url(), "--token",
      token.substr(0, token.find('\n'))});
  auto mode = [](const std::string& path) {
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    return st.st_mode & 0777;
  };
  CHECK(mode(dir / "central") == 0700);
  for (const char* file : {"central.db", "central.db-wal", "central.db-shm"}) {
    CAPTURE(file);
    std::string path = dir / "central" + "/" + file;
    if (std::filesystem::exists(path)) CHECK(mode(path) == 0600);
  }
  CHECK(server.Stop() == 0);
  // A store made before the rule is narrowed when opened.
  ::chmod((dir / "central").c_str(), 0755);
  ::chmod((dir / "central" + "/central.db").c_str(), 0644);
  REQUIRE(SyncServer({"devices", "--data", dir / "central"}).exit_code == 0);
  CHECK(mode(dir / "central") == 0700);
  CHECK(mode(dir / "central" + "/central.db") == 0600);
}

TEST_CASE("device names are cut on a character boundary, and listings survive bad stored text") {
  Site site;
  // 99 ASCII letters then a two-byte character: a cut at 100 bytes would split it.
  std::string name = std::string(99, 'a') + "\xC3\xA9" + "tail";
  CommandResult t = SyncServer({"token", "--data", site.dir / "central", "--user", "amy", "--org",
                                "police", "--role", "field_worker"});
  Ok({"init", "--data", site.dir / "amy", "--server", site.url, "--token",
      t.out.substr(0, t.out.find('\n')), "--device-name", name});
  CommandResult listed = SyncServer({"devices", "--data", site.dir / "central", "--json"});
  REQUIRE(listed.exit_code == 0);
  json devices = json::parse(listed.out)["devices"];
  REQUIRE(devices.size() == 1);
  CHECK(devices[0]["name"] == std::string(99, 'a'));
  // Text stored before input was checked (not UTF-8 at all) is shown, not fatal.
  site.server->Kill();
  {
    SqliteDb db;
    REQUIRE(db.Open(std::string(site.dir / "central") + "/central.db", false).ok());
    REQUIRE(db.Exec("UPDATE devices SET name = CAST(X'61FF62' AS TEXT)").ok());
  }
  listed = SyncServer({"devices", "--data", site.dir / "central", "--json"});
  REQUIRE(listed.exit_code == 0);
  CHECK(json::parse(listed.out)["devices"][0]["name"] ==
        "a\xEF\xBF\xBD"
        "b");
  CHECK(SyncServer({"devices", "--data", site.dir / "central"}).exit_code == 0);
  // A name with a control character is refused at enrolment.
  t = SyncServer({"token", "--data", site.dir / "central", "--user", "bob", "--org", "police",
                  "--role", "field_worker"});
  site.Restart();
  CommandResult bad =
      FieldClient({"init", "--data", site.dir / "bob", "--server", site.url, "--token",
                   t.out.substr(0, t.out.find('\n')), "--device-name", "tab\x1b[31mred"});
  CHECK(bad.exit_code != 0);
  CHECK(bad.err.find("control or text-direction character") != std::string::npos);
}

TEST_CASE("operator commands hide sensitive values and are audited, as the dashboard is") {
  Site site;
  std::string pat = site.Enrol("pat", "police");
  std::string lead = site.Enrol("lee", "police", "", "partner_lead");
  std::string id = Ok({"log", "--data", pat, "enforcement_action", "--set", "action=cpw", "--set",
                       "notes=first private note"});
  Ok({"sync", "--data", pat});
  Ok({"sync", "--data", lead});
  Ok({"edit", id, "--data", pat, "--set", "notes=second private note", "--set", "place=North"});
  Ok({"edit", id, "--data", lead, "--set", "notes=third private note", "--set", "place=South"});
  Ok({"sync", "--data", pat});
  Ok({"sync", "--data", lead});
  for (bool as_json : {false, true}) {
    std::vector<std::string> args = {"conflicts", "--data", site.dir / "central"};
    if (as_json) args.push_back("--json");
    CommandResult r = SyncServer(args);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("private note") == std::string::npos);
    CHECK(r.out.find("withheld") != std::string::npos);
    CHECK(r.out.find("North") != std::string::npos);  // not sensitive: shown
  }
  REQUIRE(SyncServer({"devices", "--data", site.dir / "central"}).exit_code == 0);
  REQUIRE(SyncServer({"purge", "--data", site.dir / "central", "--dry-run"}).exit_code == 0);
  CommandResult audit = SyncServer({"audit", "--data", site.dir / "central", "--json"});
  REQUIRE(audit.exit_code == 0);
  std::map<std::string, int> reads;
  json events = json::parse(audit.out)["events"];  // kept: a temporary's member would dangle
  for (const auto& e : events) {
    if (e["role"] == "operator") ++reads[e["action"].get<std::string>()];
  }
  CHECK(reads["conflicts"] == 2);
  CHECK(reads["devices"] == 1);
  CHECK(reads["purge_dry_run"] == 1);
  CommandResult again =
      SyncServer({"audit", "--data", site.dir / "central", "--json", "--action", "audit"});
  CHECK(json::parse(again.out)["events"].size() == 1);  // the first read of the log
}

TEST_CASE("a field worker changes only their own records, and is told why") {
  Site site;
  std::string amy = site.Enrol("amy", "police");
  std::string bob = site.Enrol("bob", "police");
  std::string id =
      Ok({"log", "--data", amy, "street_brief", "--set", "place=A", "--set", "attendees=1"});
  Ok({"sync", "--data", amy});
  Ok({"sync", "--data", bob});
  CommandResult edit = FieldClient({"edit", id, "--data", bob, "--set", "attendees=9"});
  CHECK(edit.exit_code == 1);
  CHECK(edit.err.find("was entered by amy") != std::string::npos);
  CommandResult del = FieldClient({"delete", id, "--data", bob});
  CHECK(del.exit_code == 1);
  CHECK(Pending(bob) == 0);                                 // nothing stored to send
  Ok({"edit", id, "--data", amy, "--set", "attendees=2"});  // the author may
  Ok({"sync", "--data", amy});
  CHECK(site.ServerIds().count(id) == 1);
}

TEST_CASE("field_client talks plain http only on this machine unless told otherwise") {
  TempDir dir;
  for (const char* url : {"http://192.0.2.10:8080", "http://sync.example.org", "ftp://x"}) {
    CAPTURE(url);
    CommandResult r = FieldClient({"init", "--data", dir / "t", "--server", url, "--token", "tok"});
    CHECK(r.exit_code == 1);
    CHECK((r.err.find("refusing plain http://") != std::string::npos ||
           r.err.find("must start with https://") != std::string::npos));
    CHECK(!std::filesystem::exists(dir / "t" + "/beatbook.db"));
  }
}

TEST_CASE("an expired device credential is renewed by the operator, audited") {
  Site site;
  std::string amy = site.Enrol("amy", "police");
  std::string device = OkJson({"status", "--data", amy, "--json"})["device"];
  // Unused for a year: the server (which expires credentials after 180 days) refuses it.
  site.server->Kill();
  {
    SqliteDb db;
    REQUIRE(db.Open(std::string(site.dir / "central") + "/central.db", false).ok());
    REQUIRE(db.Exec("UPDATE devices SET enrolled_ms = enrolled_ms - 31536000000, "
                    "last_sync_ms = 0")
                .ok());
  }
  site.Restart();
  CommandResult sync = FieldClient({"sync", "--data", amy});
  CHECK(sync.exit_code == 4);
  CHECK(sync.err.find("sync_server renew") != std::string::npos);
  CHECK(DecryptedDeviceContent(amy).find(device) != std::string::npos);  // nothing wiped
  CommandResult renew = SyncServer({"renew", "--data", site.dir / "central", "--device", device});
  CHECK(renew.exit_code == 0);
  Ok({"sync", "--data", amy});
  CommandResult audit =
      SyncServer({"audit", "--data", site.dir / "central", "--json", "--action", "renew"});
  CHECK(json::parse(audit.out)["events"].size() == 1);
}
