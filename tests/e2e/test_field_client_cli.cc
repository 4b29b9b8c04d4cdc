// field_client's offline commands, run as the built binary.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>

#include "cli.h"
#include "support/schema_dir.h"
#include "support/temp_dir.h"

using namespace beatbook::test;
using nlohmann::json;

namespace {

struct Tablet {
  Tablet() {
    Ok({"init", "--data", data(), "--user", "amy", "--org", "csp", "--role", "field_worker"});
  }
  std::string data() const { return dir / "tablet"; }
  TempDir dir;
};

// Every bad input: one line on stderr naming the problem, a non-zero exit, nothing changed.
void ExpectRefused(const Tablet& t, std::vector<std::string> args, const std::string& needle,
                   const std::string& input = "") {
  json before = OkJson({"list", "--data", t.data(), "--json"});
  json status_before = OkJson({"status", "--data", t.data(), "--json"});
  CommandResult r = FieldClient(args, input);
  INFO("args: " << args[0] << " stderr: " << r.err);
  CHECK(r.exit_code != 0);
  CHECK(r.out.empty());
  CHECK(r.err.find(needle) != std::string::npos);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  CHECK(OkJson({"list", "--data", t.data(), "--json"}) == before);
  CHECK(OkJson({"status", "--data", t.data(), "--json"})["pending_changes"] ==
        status_before["pending_changes"]);
}

}  // namespace

TEST_CASE("a field worker logs, lists, shows, edits and deletes records offline") {
  Tablet t;
  std::string id = Ok({"log", "--data", t.data(), "outreach_contact", "--set", "place=Jewry Street",
                       "--set", "age_band=25_34", "--set", "safeguarding_concern=yes", "--set",
                       "issues=domestic_abuse,rough_sleeping", "--set", "referrals=stop,trinity",
                       "--occurred-at", "2023-06-01T22:15:00+01:00"});
  CHECK(id.size() == 36);
  json rec = OkJson({"show", id, "--data", t.data(), "--json"});
  CHECK(rec["id"] == id);
  CHECK(rec["form"] == "outreach_contact");
  CHECK(rec["form_version"] == 2);  // the latest version of the form
  CHECK(rec["org"] == "csp");
  CHECK(rec["author"] == "amy");
  CHECK(rec["occurred_at"] == "2023-06-01T22:15:00+01:00");
  CHECK(rec["fields"]["safeguarding_concern"] == true);
  CHECK(rec["fields"]["referrals"] == json({"stop", "trinity"}));

  std::string brief = Ok({"log", "--data", t.data(), "street_brief", "--set", "place=Market",
                          "--set", "attendees=14", "--occurred-at", "2023-05-01T10:00:00Z"});
  json list = OkJson({"list", "--data", t.data(), "--json"});
  REQUIRE(list["records"].size() == 2);
  CHECK(list["records"][0]["id"] == brief);  // oldest first
  CHECK(
      OkJson({"list", "--data", t.data(), "--form", "street_brief", "--json"})["records"].size() ==
      1);
  CHECK(Ok({"list", "--data", t.data()}).find("2 records") != std::string::npos);

  Ok({"edit", brief, "--data", t.data(), "--set", "attendees=20", "--set", "topics=asb,nte"});
  rec = OkJson({"show", brief, "--data", t.data(), "--json"});
  CHECK(rec["fields"]["attendees"] == 20);
  CHECK(rec["fields"]["topics"] == json({"asb", "nte"}));

  Ok({"delete", id, "--data", t.data()});
  CHECK(OkJson({"list", "--data", t.data(), "--json"})["records"].size() == 1);
  CommandResult shown = FieldClient({"show", id, "--data", t.data()});
  CHECK(shown.exit_code != 0);
  CHECK(shown.err.find("deleted") != std::string::npos);

  json status = OkJson({"status", "--data", t.data(), "--json"});
  CHECK(status["user"] == "amy");
  CHECK(status["org"] == "csp");
  CHECK(status["pending_changes"] == 4);  // two logs, an edit and a delete wait to sync
  CHECK(status["server"].is_null());
  CHECK(status["last_sync"].is_null());
}

TEST_CASE("forms lists the forms this worker logs, with fields, types, constraints and choices") {
  Tablet t;
  json forms = OkJson({"forms", "--data", t.data(), "--json"});
  std::set<std::string> names;
  for (const auto& f : forms["forms"]) names.insert(f["form"].get<std::string>());
  // Every form a CSP field worker may log; partner returns are for leads and the coordinator.
  CHECK(names == std::set<std::string>{"enforcement_action", "outreach_contact", "patrol",
                                       "satisfaction_survey", "street_brief"});
  for (const auto& f : forms["forms"]) {
    if (f["form"] != "satisfaction_survey") continue;
    for (const auto& field : f["fields"]) {
      if (field["name"] == "satisfaction") {
        CHECK(field["type"] == "integer");
        CHECK(field["min"] == 1);
        CHECK(field["max"] == 5);
        CHECK(field["required"] == true);
      }
      if (field["name"] == "respondent_type") CHECK(field["choices"][0]["code"] == "resident");
    }
  }
  CHECK(Ok({"forms", "--data", t.data()}).find("patrol_type") != std::string::npos);
}

TEST_CASE("every bad input is refused with a clear one-line error and changes nothing") {
  Tablet t;
  std::string id =
      Ok({"log", "--data", t.data(), "street_brief", "--set", "place=A", "--set", "attendees=3"});
  ExpectRefused(t, {"log", "--data", t.data(), "street_bref", "--set", "place=A"},
                "unknown form 'street_bref'");
  ExpectRefused(
      t, {"log", "--data", t.data(), "street_brief", "--set", "place=A", "--set", "colour=red"},
      "field 'colour' is not a field of form 'street_brief'");
  ExpectRefused(
      t, {"log", "--data", t.data(), "street_brief", "--set", "place=A", "--set", "attendees=lots"},
      "field 'attendees': value 'lots' is not a whole number");
  ExpectRefused(
      t, {"log", "--data", t.data(), "patrol", "--set", "place=A", "--set", "patrol_type=stroll"},
      "field 'patrol_type': value \"stroll\" is not one of the choices");
  ExpectRefused(t, {"log", "--data", t.data(), "street_brief", "--set", "place=A"},
                "field 'attendees' is required");
  ExpectRefused(t,
                {"log", "--data", t.data(), "street_brief", "--set", "place=A", "--set",
                 "attendees=2", "--occurred-at", "last tuesday"},
                "'last tuesday' is not an ISO 8601 date-time");
  ExpectRefused(t, {"log", "--data", t.data(), "--json", "-"}, "malformed", "[{\"form\": ");
  ExpectRefused(t, {"log", "--data", t.data(), "--json", "-"}, "record 2: field 'attendees'",
                R"([{"form": "street_brief", "fields": {"place": "A", "attendees": 1}},
                    {"form": "street_brief", "fields": {"place": "A", "attendees": "3"}}])");
  ExpectRefused(t, {"log", "--data", t.data(), "--json", "-"}, "\"org\" is 'police'",
                R"({"form": "street_brief", "org": "police",
                    "fields": {"place": "A", "attendees": 1}})");
  ExpectRefused(t, {"log", "--data", t.data(), "--json", "-"}, "already on this device",
                R"({"id": ")" + id + R"(", "form": "street_brief",
                    "fields": {"place": "A", "attendees": 1}})");
  ExpectRefused(t, {"log", "--data", t.data(), "--json", t.dir / "missing.json"}, "cannot read");
  ExpectRefused(t, {"edit", id, "--data", t.data(), "--set", "attendees=-1"},
                "below the minimum 0");
  ExpectRefused(t, {"edit", "not-an-id", "--data", t.data(), "--set", "attendees=1"},
                "no record with id 'not-an-id'");
  ExpectRefused(t, {"delete", "not-an-id", "--data", t.data()}, "no record with id");

  CommandResult r = FieldClient({"list", "--data", t.dir / "nowhere"});
  CHECK(r.exit_code != 0);
  CHECK(r.err.find("no device store in") != std::string::npos);
  std::ofstream(t.dir / "broken") << "x";
  r = FieldClient({"init", "--data", t.dir / "broken/store", "--user", "a", "--org", "police",
                   "--role", "field_worker"});
  CHECK(r.exit_code != 0);
  CHECK(r.err.find("broken") != std::string::npos);
  r = FieldClient(
      {"init", "--data", t.data(), "--user", "a", "--org", "police", "--role", "field_worker"});
  CHECK(r.exit_code != 0);
  CHECK(r.err.find("already exists") != std::string::npos);
  r = FieldClient(
      {"init", "--data", t.dir / "x", "--user", "a", "--org", "mi5", "--role", "field_worker"});
  CHECK(r.err.find("org 'mi5'") != std::string::npos);
}

// The plain build logs 100,000 records; the sanitizer build, ten times slower per record and run
// in the same CI budget, logs 20,000 through the same path.
#if defined(__SANITIZE_ADDRESS__)
constexpr int kBulkRecords = 20'000;
#else
constexpr int kBulkRecords = 100'000;
#endif

TEST_CASE("a bulk log of 100,000 records is one transaction and takes seconds") {
  Tablet t;
  std::string body = "[";
  for (int i = 0; i < kBulkRecords; ++i) {
    body += std::string(i ? "," : "") +
            R"({"form": "satisfaction_survey", "occurred_at": "2023-07-01T10:00:00+01:00",)" +
            R"( "fields": {"respondent_type": "resident", "satisfaction": )" +
            std::to_string(1 + i % 5) + "}}";
  }
  body += "]";
  auto start = std::chrono::steady_clock::now();
  CommandResult r = FieldClient({"log", "--data", t.data(), "--json", "-"}, body);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  MESSAGE("bulk log of " << kBulkRecords << " records: " << secs
                         << " s (figure only; bench/ measures rates)");
  REQUIRE(r.exit_code == 0);
  CHECK(std::count(r.out.begin(), r.out.end(), '\n') == kBulkRecords);
  json status = OkJson({"status", "--data", t.data(), "--json"});
  CHECK(status["records"] == kBulkRecords);
  CHECK(status["pending_changes"] == kBulkRecords);
}

TEST_CASE(
    "a stand-alone tablet is for roles that log: board members and the safeguarding lead are "
    "refused") {
  TempDir dir;
  for (const char* role : {"board", "safeguarding_lead"}) {
    CAPTURE(role);
    CommandResult r = FieldClient({"init", "--data", dir / role, "--user", "dee", "--org", "csp",
                                   "--role", role, "--schema", SchemaDir()});
    CHECK(r.exit_code != 0);
    CHECK(r.err.find("is not one of field_worker, partner_lead, coordinator, admin") !=
          std::string::npos);
    CHECK_FALSE(std::filesystem::exists(dir / (std::string(role) + "/beatbook.db")));
  }
  Ok({"init", "--data", dir / "worker", "--user", "pat", "--org", "police", "--role",
      "field_worker", "--schema", SchemaDir()});
}
