// The endpoints behind the dashboard, on the real Api and store: its files and their policy,
// sign-in from a browser (coordinators and board members only, a refused code left unspent),
// every role against every dashboard endpoint, sync health, conflicts with sensitive values
// withheld, the return counted for one org, and signing out.
#include "sync_fixture.h"

using namespace beatbook;
using namespace beatbook::test;

namespace {

std::string DashboardToken(SyncFixture& f, const std::string& user, const std::string& org,
                           const std::string& role) {
  std::string token = RandomSecret(16);
  REQUIRE(f.central
              ->CreateToken(token,
                            {user, org, *ParseRole(role), SystemClock::Default()->NowMs() + 60000},
                            SystemClock::Default()->NowMs(), nullptr)
              .ok());
  return token;
}

server::ApiResponse BrowserSignIn(SyncFixture& f, const std::string& token) {
  json body = {{"token", token}, {"device_name", "dashboard (test)"}, {"client", "dashboard"}};
  return f.api->Handle({"POST", "/v1/enrol", body.dump(), ""});
}

std::string HeaderOf(const server::ApiResponse& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

}  // namespace

TEST_CASE("the dashboard's files are served from the program, under a strict policy") {
  SyncFixture f;
  server::ApiResponse root = f.api->Handle({"GET", "/", "", ""});
  CHECK(root.status == 302);
  CHECK(HeaderOf(root, "Location") == "/dashboard/");
  CHECK(f.api->Handle({"GET", "/dashboard", "", ""}).status == 302);

  server::ApiResponse page = f.api->Handle({"GET", "/dashboard/", "", ""});
  REQUIRE(page.status == 200);
  CHECK(page.content_type.find("text/html") == 0);
  CHECK(page.raw.find("<html") != std::string::npos);
  std::string csp = HeaderOf(page, "Content-Security-Policy");
  CHECK(csp.find("default-src 'self'") != std::string::npos);
  CHECK(csp.find("unsafe") == std::string::npos);
  CHECK(page.Text().find("server_time_ms") == std::string::npos);  // served as it is

  server::ApiResponse script = f.api->Handle({"GET", "/dashboard/app.js", "", ""});
  REQUIRE(script.status == 200);
  CHECK(script.content_type.find("text/javascript") == 0);  // module scripts need it
  CHECK(f.api->Handle({"GET", "/dashboard/style.css", "", ""}).content_type.find("text/css") == 0);

  CHECK(f.api->Handle({"GET", "/dashboard/nothing.js", "", ""}).status == 404);
  CHECK(f.api->Handle({"GET", "/dashboard/../api/api.cc", "", ""}).status == 404);
  CHECK(f.api->Handle({"POST", "/dashboard/", "", ""}).status == 405);
}

TEST_CASE("a browser signs in with a coordinator's or board member's code only") {
  SyncFixture f;
  std::string worker_code = DashboardToken(f, "amy", "police", "field_worker");
  server::ApiResponse refused = BrowserSignIn(f, worker_code);
  CHECK(refused.status == 403);
  CHECK(refused.body["error"]["message"].get<std::string>().find("still unused") !=
        std::string::npos);
  // The refused code was not spent: it still enrols the worker's tablet.
  CHECK(f.api->Handle({"POST", "/v1/enrol", json({{"token", worker_code}}).dump(), ""}).status ==
        200);

  for (const char* role : {"coordinator", "board"}) {
    CAPTURE(role);
    server::ApiResponse ok = BrowserSignIn(f, DashboardToken(f, "cleo", "csp", role));
    REQUIRE(ok.status == 200);
    CHECK(ok.body["role"] == role);
    server::DeviceInfo device;
    REQUIRE(
        f.central->Authenticate(ok.body["device_id"], ok.body["secret"].get<std::string>(), &device)
            .ok());
    CHECK(device.client == "dashboard");
  }
  server::ApiResponse spent = BrowserSignIn(f, worker_code);
  CHECK(spent.status == 401);
  json odd = {{"token", DashboardToken(f, "cleo", "csp", "coordinator")}, {"client", "fridge"}};
  CHECK(f.api->Handle({"POST", "/v1/enrol", odd.dump(), ""}).status == 400);
}

TEST_CASE("every role against every dashboard endpoint") {
  SyncFixture f;
  struct Expect {
    const char* role;
    int orgs, devices, conflicts, approvals, workbook, signout_tablet;
  };
  const std::vector<Expect> matrix = {
      {"field_worker", 403, 403, 403, 403, 403, 403},
      {"partner_lead", 403, 403, 403, 403, 403, 403},
      {"coordinator", 200, 200, 200, 200, 200, 403},
      {"admin", 403, 200, 403, 403, 403, 403},
      {"board", 200, 403, 403, 200, 200, 403},
  };
  for (const auto& e : matrix) {
    std::string role = e.role;
    CAPTURE(role);
    Device d = f.Enrol("user-" + role, "police", role);
    std::string bearer = d.Bearer();
    auto get = [&](const std::string& target) {
      return f.api->Handle({"GET", target, "", bearer}).status;
    };
    CHECK(get("/v1/orgs") == e.orgs);
    CHECK(get("/v1/devices") == e.devices);
    CHECK(get("/v1/conflicts") == e.conflicts);
    CHECK(get("/v1/approvals?fy=2023") == e.approvals);
    CHECK(get("/v1/report.xlsx?fy=2023") == e.workbook);
    // A tablet does not sign itself out: it is revoked by the partnership.
    CHECK(f.api->Handle({"POST", "/v1/signout", "{}", bearer}).status == e.signout_tablet);
  }
  // Board members read the return, and nothing of the records.
  Device board = f.Enrol("bea", "csp", "board");
  for (const char* denied : {"/v1/pull?cursor=0", "/v1/explain?indicator=pc_closure_orders&fy=2023",
                             "/v1/records?form=street_brief"}) {
    CAPTURE(denied);
    CHECK(f.api->Handle({"GET", denied, "", board.Bearer()}).status == 403);
  }
  CHECK(f.api->Handle({"GET", "/v1/report?fy=2023", "", board.Bearer()}).status == 200);
  CHECK(f.api->Handle({"POST", "/v1/approve", R"({"fy": 2023, "quarter": "Q1"})", board.Bearer()})
            .status == 403);
}

TEST_CASE("sync health, conflicts with sensitive values withheld, one org's return, sign-out") {
  SyncFixture f;
  Device pat = f.Enrol("pat", "police", "field_worker");
  Device sue = f.Enrol("sue", "police", "partner_lead");  // a lead may correct pat's records
  Device ash = f.Enrol("ash", "wcc_asb", "field_worker");
  std::string closure =
      pat.Log("enforcement_action", {{"action", "closure_order"}, {"notes", "confidential detail"}},
              "2023-05-10T21:00:00Z");
  pat.Log("enforcement_action", {{"action", "closure_order"}}, "2023-05-11T21:00:00Z");
  ash.Log("enforcement_action", {{"action", "closure_order"}}, "2023-05-12T21:00:00Z");
  REQUIRE(pat.Sync().ok());
  REQUIRE(ash.Sync().ok());
  REQUIRE(sue.Sync().ok());
  // Concurrent edits of the sensitive notes, and of the place.
  REQUIRE(
      pat.store->Edit(closure, {{"notes", "secret one"}, {"place", "North"}}, std::nullopt).ok());
  REQUIRE(
      sue.store->Edit(closure, {{"notes", "secret two"}, {"place", "South"}}, std::nullopt).ok());
  REQUIRE(pat.Sync().ok());
  REQUIRE(sue.Sync().ok());
  // A change the server rejects: a record claiming another org.
  RecordState forged;
  REQUIRE(pat.store->Get(closure, &forged).ok());
  json change = forged.ToJson(true);
  change["id"] = NewUuid();
  change["org"] = "wcc_asb";
  change["change_id"] = NewUuid();
  json push = {{"batch_id", NewUuid()}, {"changes", {change}}};
  REQUIRE(f.api->Handle({"POST", "/v1/push", push.dump(), pat.Bearer()}).status == 200);

  json signed_in = BrowserSignIn(f, DashboardToken(f, "cleo", "csp", "coordinator")).body;
  std::string cleo = "Bearer " + signed_in["device_id"].get<std::string>() + "." +
                     signed_in["secret"].get<std::string>();

  json devices = f.api->Handle({"GET", "/v1/devices", "", cleo}).Json()["devices"];
  json pats;
  for (const auto& d : devices) {
    if (d["user"] == "pat") pats = d;
  }
  REQUIRE(pats.is_object());
  CHECK(pats["last_sync"].is_string());
  CHECK(pats["client"] == "tablet");
  CHECK(pats["rejected"] == 1);
  REQUIRE(pats["rejections"].size() == 1);
  CHECK(pats["rejections"][0]["reason"].get<std::string>().find("org") != std::string::npos);
  Device root = f.Enrol("root", "csp", "admin");
  json admin_view = f.api->Handle({"GET", "/v1/devices", "", root.Bearer()}).Json()["devices"];
  for (const auto& d : admin_view) CHECK_FALSE(d.contains("rejections"));  // counts only

  server::ApiResponse conflicts = f.api->Handle({"GET", "/v1/conflicts", "", cleo});
  REQUIRE(conflicts.status == 200);
  INFO("conflicts: " << conflicts.Text());
  std::map<std::string, json> by_field;
  json listed = conflicts.Json();
  for (const auto& c : listed["conflicts"]) by_field[c["field"].get<std::string>()] = c;
  REQUIRE(by_field.count("notes") == 1);
  REQUIRE(by_field.count("place") == 1);
  CHECK(by_field["notes"]["withheld"] == true);
  CHECK(conflicts.Text().find("secret one") == std::string::npos);
  CHECK(conflicts.Text().find("secret two") == std::string::npos);
  json places = {by_field["place"]["kept"], by_field["place"]["lost"]};
  CHECK((places == json({"North", "South"}) || places == json({"South", "North"})));

  // The return for one org counts that org's records only; an unknown org is refused.
  auto closures = [&](const std::string& query) {
    json report = f.api->Handle({"GET", "/v1/report?fy=2023" + query, "", cleo}).Json()["report"];
    for (const auto& ind : report["indicators"]) {
      if (ind["id"] == "pc_closure_orders") return ind["values"]["Q1"];
    }
    return json();
  };
  CHECK(closures("") == 3);
  CHECK(closures("&org=police") == 2);
  CHECK(closures("&org=wcc_asb") == 1);
  CHECK(f.api->Handle({"GET", "/v1/report?fy=2023&org=nowhere", "", cleo}).status == 400);
  server::ApiResponse workbook =
      f.api->Handle({"GET", "/v1/report.xlsx?fy=2023&org=police", "", cleo});
  REQUIRE(workbook.status == 200);
  CHECK(workbook.raw.substr(0, 2) == "PK");  // a zip, as .xlsx files are
  CHECK(HeaderOf(workbook, "Content-Disposition").find("beatbook-return-2023-police.xlsx") !=
        std::string::npos);

  // Signing out revokes the browser's credential.
  CHECK(f.api->Handle({"POST", "/v1/signout", "{}", cleo}).status == 200);
  server::ApiResponse after = f.api->Handle({"GET", "/v1/orgs", "", cleo});
  CHECK(after.status == 403);
  CHECK(after.body["error"]["code"] == "device_revoked");
}
