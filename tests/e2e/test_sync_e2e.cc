// The real sync_server on 127.0.0.1 (port 0) and several real field_client stores.
#include <chrono>
#include <csignal>
#include <filesystem>
#include <set>

#include "cli.h"
#include "store/store_fixture.h"
#include "support/temp_dir.h"
#include "sync_server/store/open_store.h"

using namespace beatbook;
using namespace beatbook::test;
using nlohmann::json;

namespace {

// A server on the embedded store, or with BEATBOOK_E2E_PG set (tests/CMakeLists.txt registers
// these tests a second time so) on a PostgreSQL schema of its own: the same tests, both stores.
struct Deployment {
  Deployment() {
    if (std::getenv("BEATBOOK_E2E_PG")) {
      REQUIRE(PgAvailable());
      pg = std::make_unique<PgSchema>();
      store_args = {"--store", pg->url()};
    }
    server = std::make_unique<ServerProcess>(dir / "central", std::map<std::string, std::string>{},
                                             store_args);
    REQUIRE(server->Start());
  }

  // A sync_server command on this deployment's store: `args` then --data (and --store).
  CommandResult Admin(std::vector<std::string> args) {
    args.insert(args.begin() + 1, {"--data", dir / "central"});
    args.insert(args.end(), store_args.begin(), store_args.end());
    return SyncServer(args);
  }

  std::string Enrol(const std::string& name, const std::string& org, const std::string& role) {
    CommandResult t = Admin({"token", "--user", name, "--org", org, "--role", role});
    REQUIRE(t.exit_code == 0);
    std::string token = t.out.substr(0, t.out.find('\n'));
    std::string data = dir / name;
    Ok({"init", "--data", data, "--server", server->url(), "--token", token});
    return data;
  }

  // Every record state on the server, by id (read from its store while it runs).
  std::map<std::string, json> ServerRecords() {
    std::unique_ptr<server::CentralStore> store;
    REQUIRE(server::OpenCentralStore(dir / "central", pg ? pg->url() : "", &store).ok());
    std::vector<RecordState> states;
    REQUIRE(store->AllRecords(&states).ok());
    std::map<std::string, json> out;
    for (const auto& s : states) out[s.id] = s.ToRecordJson();
    return out;
  }

  TempDir dir;
  std::unique_ptr<PgSchema> pg;
  std::vector<std::string> store_args;
  std::unique_ptr<ServerProcess> server;
};

std::map<std::string, json> Listed(const std::string& data) {
  std::map<std::string, json> out;
  const json listed = OkJson({"list", "--data", data, "--json"});
  for (const auto& r : listed["records"]) out[r["id"].get<std::string>()] = r;
  return out;
}

}  // namespace

TEST_CASE("three devices log offline, sync, and every record is on the server exactly once") {
  Deployment d;
  std::string amy = d.Enrol("amy", "csp", "field_worker");
  std::string ben = d.Enrol("ben", "csp", "field_worker");
  std::string pat = d.Enrol("pat", "police", "field_worker");
  std::string cat = d.Enrol("cat", "csp", "coordinator");
  std::set<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    ids.insert(Ok({"log", "--data", amy, "outreach_contact", "--set", "place=Jewry St", "--set",
                   "age_band=18_24", "--set", "safeguarding_concern=no"}));
    ids.insert(Ok({"log", "--data", ben, "street_brief", "--set", "place=Market", "--set",
                   "attendees=" + std::to_string(i)}));
    ids.insert(Ok({"log", "--data", pat, "patrol", "--set", "place=Station", "--set",
                   "patrol_type=op_fortress"}));
  }
  json s = OkJson({"sync", "--data", amy, "--json"});
  CHECK(s["pushed"] == 5);
  CHECK(s["rejected"] == 0);
  OkJson({"sync", "--data", ben, "--json"});
  OkJson({"sync", "--data", pat, "--json"});
  s = OkJson({"sync", "--data", amy, "--json"});
  CHECK(s["pushed"] == 0);
  auto server = d.ServerRecords();
  CHECK(server.size() == 15);
  std::set<std::string> server_ids;
  for (const auto& [id, r] : server) server_ids.insert(id);
  CHECK(server_ids == ids);
  // Back on the other devices of the org, and only there.
  CHECK(Listed(amy).size() == 10);
  CHECK(Listed(amy) == Listed(ben));
  CHECK(Listed(pat).size() == 5);
  OkJson({"sync", "--data", cat, "--json"});
  CHECK(Listed(cat).size() == 15);
  // A rerun is a no-op.
  s = OkJson({"sync", "--data", ben, "--json"});
  CHECK(s["wire"]["sent"] == 0);  // nothing to push; the bytes received are the forms' check
  s.erase("wire");
  CHECK(s["photos"] == json({{"uploaded", 0},
                             {"waiting", 0},
                             {"damaged", 0},
                             {"resumed", 0},
                             {"bytes_sent", 0},
                             {"problems", json::array()}}));
  s.erase("photos");
  CHECK(s == json({{"pushed", 0},
                   {"pulled", 0},
                   {"rejected", 0},
                   {"conflicts", 0},
                   {"pending", 0},
                   {"server_restored", false},
                   {"resent", 0}}));
  CHECK(d.ServerRecords() == server);
  json status = OkJson({"status", "--data", ben, "--json"});
  CHECK(status["pending_changes"] == 0);
  CHECK(!status["last_sync"].is_null());
  json devices = json::parse(d.Admin({"devices", "--json"}).out);
  CHECK(devices["devices"].size() == 4);
}

TEST_CASE("edits and deletes on two devices converge through the server") {
  Deployment d;
  std::string amy = d.Enrol("amy", "police", "field_worker");
  std::string ben = d.Enrol("ben", "police", "partner_lead");  // a lead may correct amy's records
  std::string keep =
      Ok({"log", "--data", amy, "street_brief", "--set", "place=A", "--set", "attendees=1"});
  std::string drop =
      Ok({"log", "--data", amy, "street_brief", "--set", "place=B", "--set", "attendees=2"});
  Ok({"sync", "--data", amy});
  Ok({"sync", "--data", ben});
  Ok({"edit", keep, "--data", amy, "--set", "attendees=10"});
  Ok({"edit", keep, "--data", ben, "--set", "place=Moved"});
  Ok({"delete", drop, "--data", ben});
  Ok({"edit", drop, "--data", amy, "--set", "attendees=3"});
  Ok({"sync", "--data", amy});
  Ok({"sync", "--data", ben});
  Ok({"sync", "--data", amy});
  CHECK(Listed(amy) == Listed(ben));
  json rec = OkJson({"show", keep, "--data", amy, "--json"});
  CHECK(rec["fields"]["attendees"] == 10);
  CHECK(rec["fields"]["place"] == "Moved");
  CHECK(Listed(amy).count(drop) == 0);
  CHECK(d.ServerRecords().at(keep)["fields"] == rec["fields"]);

  // Both change the same field offline: the later edit wins everywhere, the other is kept for
  // the coordinator's review.
  Ok({"edit", keep, "--data", amy, "--set", "attendees=11"});
  Ok({"edit", keep, "--data", ben, "--set", "attendees=12"});
  Ok({"sync", "--data", amy});
  json s = OkJson({"sync", "--data", ben, "--json"});
  CHECK(s["conflicts"] == 1);
  Ok({"sync", "--data", amy});
  CHECK(Listed(amy) == Listed(ben));
  CHECK(OkJson({"show", keep, "--data", amy, "--json"})["fields"]["attendees"] == 12);
  json conflicts = json::parse(d.Admin({"conflicts", "--json"}).out);
  REQUIRE(conflicts["conflicts"].size() == 1);
  CHECK(conflicts["conflicts"][0]["field"] == "attendees");
  CHECK(conflicts["conflicts"][0]["kept"]["value"] == 12);
  CHECK(conflicts["conflicts"][0]["lost"]["value"] == 11);
}

TEST_CASE("with the server down, sync says so in one line within seconds and keeps everything") {
  Deployment d;
  std::string amy = d.Enrol("amy", "police", "field_worker");
  Ok({"log", "--data", amy, "street_brief", "--set", "place=A", "--set", "attendees=1"});
  REQUIRE(d.server->Stop() == 0);  // SIGTERM: a clean stop
  auto start = std::chrono::steady_clock::now();
  CommandResult r = FieldClient({"sync", "--data", amy});
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK(r.exit_code == 3);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  CHECK(r.err.find("cannot reach the server") != std::string::npos);
  CHECK(r.err.find("1 changes kept") != std::string::npos);
  CHECK(secs < 10);
  CHECK(OkJson({"status", "--data", amy, "--json"})["pending_changes"] == 1);
  // Logging never waits for the network.
  Ok({"log", "--data", amy, "street_brief", "--set", "place=B", "--set", "attendees=2"});
  // When the server is back, the next sync delivers both.
  REQUIRE(d.server->Start(d.server->port()));
  json s = OkJson({"sync", "--data", amy, "--json"});
  CHECK(s["pushed"] == 2);
  CHECK(d.ServerRecords().size() == 2);
}

TEST_CASE("enrolment tokens are one-time, and a wrong credential is refused") {
  Deployment d;
  CommandResult t =
      d.Admin({"token", "--user", "amy", "--org", "police", "--role", "field_worker"});
  std::string token = t.out.substr(0, t.out.find('\n'));
  Ok({"init", "--data", d.dir / "a", "--server", d.server->url(), "--token", token});
  CommandResult again =
      FieldClient({"init", "--data", d.dir / "b", "--server", d.server->url(), "--token", token});
  CHECK(again.exit_code != 0);
  CHECK(again.err.find("already been used") != std::string::npos);
  CommandResult bogus = FieldClient(
      {"init", "--data", d.dir / "c", "--server", d.server->url(), "--token", "not-a-token"});
  CHECK(bogus.err.find("not known") != std::string::npos);
  CHECK(d.Admin({"token", "--user", "x", "--org", "police", "--role", "king"})
            .err.find("role 'king'") != std::string::npos);
}

TEST_CASE("the quarterly return: from the server's store and on a coordinator's device") {
  Deployment d;
  std::string pat = d.Enrol("pat", "police", "field_worker");
  std::string cleo = d.Enrol("cleo", "csp", "coordinator");
  for (const char* when :
       {"2023-04-10T10:00:00+01:00", "2023-05-10T10:00:00+01:00", "2023-11-10T10:00:00Z"}) {
    Ok({"log", "--data", pat, "enforcement_action", "--set", "action=closure_order",
        "--occurred-at", when});
  }
  Ok({"sync", "--data", pat});
  CommandResult json_report = d.Admin({"report", "--fy", "2023", "--format", "json"});
  REQUIRE(json_report.exit_code == 0);
  json report = json::parse(json_report.out);
  CHECK(report["fy"] == 2023);
  REQUIRE(report["indicators"].size() == 48);
  json closure;
  for (const auto& r : report["indicators"]) {
    if (r["id"] == "pc_closure_orders") closure = r;
  }
  CHECK(closure["values"] ==
        json({{"Q1", 2.0}, {"Q2", 0.0}, {"Q3", 1.0}, {"Q4", 0.0}, {"year", 3.0}}));
  CHECK(closure["kind"] == "count");
  CommandResult csv = d.Admin({"report", "--fy", "2023", "--format", "csv"});
  CHECK(csv.out.find("pc_closure_orders,pc,pc_drug_offending,Number of closure orders,count,"
                     "increase,2,0,1,0,3") != std::string::npos);
  CommandResult xlsx =
      d.Admin({"report", "--fy", "2023", "--format", "xlsx", "--out", d.dir / "return.xlsx"});
  CHECK(xlsx.exit_code == 0);
  CHECK(std::filesystem::file_size(d.dir / "return.xlsx") > 1000);
  // The same figures on the coordinator's device, through the API.
  json remote = OkJson({"report", "--data", cleo, "--fy", "2023", "--format", "json"});
  CHECK(remote["indicators"] == report["indicators"]);
  CHECK(Ok({"report", "--data", cleo, "--fy", "2023", "--quarter", "Q1"})
            .find("Number of closure orders") != std::string::npos);
  // A field worker may not read it; bad arguments are named.
  CommandResult denied = FieldClient({"report", "--data", pat, "--fy", "2023"});
  CHECK(denied.exit_code == 4);
  CHECK(denied.err.find("only a coordinator") != std::string::npos);
  CHECK(d.Admin({"report", "--fy", "2023", "--quarter", "Q7"}).err.find("'Q7'") !=
        std::string::npos);
  CHECK(d.Admin({"report", "--fy", "1066"}).err.find("fy 1066") != std::string::npos);
  // Approval from the command line is recorded with who approved.
  CommandResult approved =
      d.Admin({"approve", "--fy", "2023", "--quarter", "Q1", "--user", "cleo"});
  CHECK(approved.exit_code == 0);
  CHECK(approved.out.find("approval of 2023/24 Q1 by cleo") != std::string::npos);
  json after = json::parse(d.Admin({"report", "--fy", "2023", "--format", "json"}).out);
  CHECK(after["approvals"][0]["user"] == "cleo");
}
