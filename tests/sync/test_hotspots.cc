// Where things happen (GET /v1/hotspots, the dashboard's Places tab) on the real Api and store:
// records synced from a tablet counted per place and quarter, named places together however they
// were typed; the coordinator sees it all, the board the named places with small counts withheld
// and no points; nobody else may ask; every view audited.
#include <filesystem>
#include <fstream>

#include "support/schema_dir.h"
#include "sync_fixture.h"

using namespace beatbook;
using namespace beatbook::test;

namespace {

// schema/ with a street brief version that also asks where exactly (a geopoint).
std::string SchemaWithPoints(const TempDir& dir) {
  std::filesystem::path to = dir / "schema";
  std::filesystem::copy(SchemaDir(), to, std::filesystem::copy_options::recursive);
  json v1 = json::parse(std::ifstream(to / "forms/street_brief.v1.json"));
  v1["version"] = 2;
  v1["fields"].push_back({{"name", "location"}, {"type", "geopoint"}, {"label", "Where exactly"}});
  std::ofstream(to / "forms/street_brief.v2.json") << v1.dump();
  return to.string();
}

json Brief(const std::string& place, const std::string& location = "") {
  json fields = {{"place", place}, {"attendees", 5}};
  if (!location.empty()) fields["location"] = location;
  return fields;
}

}  // namespace

TEST_CASE("records are counted per place and quarter, and points go to the coordinator only") {
  SyncFixture f;
  TempDir dir;
  REQUIRE(FormSet::LoadDir(SchemaWithPoints(dir), &f.forms).ok());
  Device pat = f.Enrol("pat", "police", "field_worker");
  pat.Log("street_brief", Brief("Jewry Street", "51.0632 -1.3133 12"), "2023-06-01T21:00:00Z");
  pat.Log("street_brief", Brief("  jewry STREET "), "2023-08-01T21:00:00Z");  // Q2, same place
  pat.Log("street_brief", Brief("Jewry Street"), "2023-09-01T21:00:00Z");
  pat.Log("street_brief", Brief("Behind the library", "51.0612 -1.3105"), "2023-06-02T21:00:00Z");
  pat.Log("street_brief", Brief("behind the LIBRARY"), "2023-06-04T21:00:00Z");  // the same
  pat.Log("street_brief", Brief("Jewry Street"), "2024-06-01T21:00:00Z");        // another year
  std::string gone = pat.Log("street_brief", Brief("The Broadway"), "2023-06-03T21:00:00Z");
  REQUIRE(pat.store->Delete(gone).ok());  // deleted records do not count
  REQUIRE(pat.Sync().ok());

  const std::string cleo = f.DashboardSignIn("cleo", "csp", "coordinator");
  server::ApiResponse r =
      f.api->Handle({"GET", "/v1/hotspots?fy=2023&form=street_brief", "", cleo});
  REQUIRE(r.status == 200);
  json h = r.body;
  CHECK(h["records"] == 5);
  CHECK(h["without_place"] == 0);
  REQUIRE(h["places"].size() == 2);
  CHECK(h["places"][0] == json::parse(R"({"place": "Jewry Street", "code": "jewry_street",
      "kind": "street", "quarters": {"Q1": 1, "Q2": 2, "Q3": 0, "Q4": 0}, "year": 3})"));
  CHECK(h["places"][1]["place"] == "Behind the library");  // as first typed
  CHECK(h["places"][1]["year"] == 2);
  CHECK(!h["places"][1].contains("code"));
  CHECK(h["points_recorded"] == 2);
  REQUIRE(h["points"].size() == 2);
  CHECK(h["points"][0]["accuracy_m"] == 12);
  CHECK(!h["points"][1].contains("accuracy_m"));  // typed in
  bool street_brief_offered = false;
  for (const auto& form : h["forms"]) street_brief_offered |= form["form"] == "street_brief";
  CHECK(street_brief_offered);

  // The board sees the named places' counts, small ones withheld; what workers typed is one
  // row; and not where exactly.
  const std::string board = f.DashboardSignIn("bea", "csp", "board");
  json b = f.api->Handle({"GET", "/v1/hotspots?fy=2023&form=street_brief", "", board}).body;
  REQUIRE(b["places"].size() == 2);
  CHECK(b["places"][0] == json::parse(R"({"place": "Jewry Street", "code": "jewry_street",
      "kind": "street", "quarters": {"Q1": null, "Q2": null, "Q3": 0, "Q4": 0}, "year": null})"));
  CHECK(b["places"][1]["place"] == "Places not on the list");
  CHECK(b["places"][1]["year"].is_null());  // 2, fewer than 5
  CHECK(b["fewer_than"] == 5);
  CHECK(b.dump().find("library") == std::string::npos);
  CHECK(b["points_recorded"] == 2);
  CHECK(!b.contains("points"));

  // Every view is in the audit log, saying whether points were shown.
  server::AuditQuery q;
  q.action = "hotspots";
  std::vector<server::AuditEvent> events;
  REQUIRE(f.central->ReadAudit(q, &events).ok());
  REQUIRE(events.size() == 2);
  int shown = 0;
  for (const auto& e : events) shown += e.detail["points_shown"].get<bool>() ? 1 : 0;
  CHECK(shown == 1);

  // Bad requests are answered in words; a worker may not ask at all.
  server::ApiResponse bad =
      f.api->Handle({"GET", "/v1/hotspots?fy=2023&form=indicator_return", "", cleo});
  CHECK(bad.status == 400);
  CHECK(bad.body.dump().find("records no place (forms that do: ") != std::string::npos);
  CHECK(f.api->Handle({"GET", "/v1/hotspots?fy=twenty", "", cleo}).status == 400);
  CHECK(f.api->Handle({"GET", "/v1/hotspots?fy=2023", "", pat.Bearer()}).status == 403);
}
