// Accountability and privacy end to end: the audit log (every enrolment, push, correction, pull,
// report, export, approval and revocation, with who, which device, when and what; filters; no way
// to change it through the store), record exports without sensitive fields unless asked for, and
// person keys that let partners count people without any name leaving a tablet.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>

#include "beatbook/sqlite_db.h"
#include "fault_site.h"

using namespace beatbook;
using namespace beatbook::test;
using nlohmann::json;

namespace {

json Audit(Site& site, std::vector<std::string> filters = {}) {
  std::vector<std::string> args = {"audit", "--data", site.dir / "central", "--json"};
  args.insert(args.end(), filters.begin(), filters.end());
  CommandResult r = SyncServer(args);
  INFO("audit stderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  return json::parse(r.out)["events"];
}

std::vector<std::string> Actions(const json& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e["action"]);
  return out;
}

const json* Find(const json& events, const std::string& action, const std::string& actor) {
  for (const auto& e : events) {
    if (e["action"] == action && e["actor"] == actor) return &e;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("the audit log says who did what, from which device, and when") {
  Site site;
  std::string amy = site.Enrol("amy", "police");
  std::string cleo = site.Enrol("cleo", "csp", "", "coordinator");
  std::string amy_device = OkJson({"status", "--data", amy, "--json"})["device"];
  std::string cleo_device = OkJson({"status", "--data", cleo, "--json"})["device"];
  std::string id = Ok({"log", "--data", amy, "street_brief", "--set", "place=Jewry Street", "--set",
                       "attendees=4"});
  Ok({"log", "--data", amy, "street_brief", "--set", "place=The Broadway", "--set", "attendees=2"});
  Ok({"sync", "--data", amy});
  Ok({"sync", "--data", cleo});                              // pulls amy's two records
  Ok({"edit", id, "--data", cleo, "--set", "attendees=5"});  // a correction
  Ok({"sync", "--data", cleo});
  Ok({"report", "--data", cleo, "--fy", "2023"});
  REQUIRE(SyncServer({"report", "--data", site.dir / "central", "--fy", "2023", "--format", "csv"})
              .exit_code == 0);
  REQUIRE(SyncServer({"approve", "--data", site.dir / "central", "--fy", "2023", "--quarter", "Q1",
                      "--user", "cleo"})
              .exit_code == 0);
  REQUIRE(
      SyncServer({"revoke", "--data", site.dir / "central", "--device", amy_device}).exit_code ==
      0);

  json events = Audit(site);
  std::vector<std::string> expected = {"token",  "enrol",   "token",   "enrol", "push",
                                       "pull",   "push",    "correct", "pull",  "report",
                                       "export", "approve", "revoke"};
  std::vector<std::string> actions = Actions(events);
  // amy's own pull returns her records too; compare the sequence without her pulls, and without
  // the deliveries of the person-key secret (checked below).
  std::vector<std::string> without_amy_pulls;
  for (const auto& e : events) {
    if (e["action"] == "subject_secret") continue;
    if (!(e["action"] == "pull" && e["actor"] == "amy")) without_amy_pulls.push_back(e["action"]);
  }
  CHECK(without_amy_pulls == expected);
  // Each delivery of the person-key secret: at enrolment, and with the forms at every sync.
  for (const char* who : {"amy", "cleo"}) {
    CAPTURE(who);
    std::map<std::string, int> via;
    for (const auto& e : events) {
      if (e["action"] == "subject_secret" && e["actor"] == who) ++via[e["detail"]["via"]];
    }
    CHECK(via["enrol"] == 1);
    CHECK(via["forms"] == (std::string(who) == "amy" ? 1 : 2));
  }

  const json* push = Find(events, "push", "amy");
  REQUIRE(push != nullptr);
  CHECK((*push)["device"] == amy_device);
  CHECK((*push)["org"] == "police");
  CHECK((*push)["role"] == "field_worker");
  CHECK((*push)["detail"]["applied"] == 2);
  CHECK((*push)["detail"]["records"].size() == 2);
  const json* correct = Find(events, "correct", "cleo");
  REQUIRE(correct != nullptr);
  CHECK((*correct)["device"] == cleo_device);
  CHECK((*correct)["detail"]["records"] == json::array({id}));
  const json* pull = Find(events, "pull", "cleo");
  REQUIRE(pull != nullptr);
  CHECK((*pull)["detail"]["records"] == 2);
  for (const char* op : {"token", "export", "approve", "revoke"}) {
    CAPTURE(op);
    bool found = false;
    for (const auto& e : events) {
      if (e["action"] != op) continue;
      found = true;
      CHECK(e["role"] == "operator");
      CHECK(!e["actor"].get<std::string>().empty());
      CHECK(e["device"] == "");
    }
    CHECK(found);
  }
  for (const auto& e : events) CHECK(e["at"].get<std::string>().size() == 20);  // ISO, UTC

  // Filters.
  // Each filter keeps some events, and only those that match it.
  json amys = Audit(site, {"--user", "amy"});
  CHECK(!amys.empty());
  CHECK(amys.size() < events.size());
  for (const auto& e : amys) CHECK(e["actor"] == "amy");
  json pushes = Audit(site, {"--action", "push"});
  CHECK(!pushes.empty());
  CHECK(pushes.size() < events.size());
  for (const auto& e : pushes) CHECK(e["action"] == "push");
  CHECK(Audit(site, {"--device", cleo_device}).size() >= 3);
  CHECK(Audit(site, {"--since", "2999-01-01"}).empty());
  // Reading the log is logged: the last entry a read shows is followed by that read's own.
  json now = Audit(site);
  json last_two = Audit(site, {"--limit", "2"});
  REQUIRE(last_two.size() == 2);
  CHECK(last_two[0] == now.back());
  CHECK(last_two[1]["action"] == "audit");
  CHECK(last_two[1]["role"] == "operator");
  CommandResult bad = SyncServer({"audit", "--data", site.dir / "central", "--since", "yesterday"});
  CHECK(bad.exit_code == 1);
  CHECK(bad.err.find("--since 'yesterday'") != std::string::npos);
}

TEST_CASE("the audit log cannot be changed or shortened through the store") {
  Site site;
  site.Enrol("amy", "police");
  std::size_t before = Audit(site).size();
  REQUIRE(before == 3);  // token, enrol, the person-key secret delivered
  SqliteDb db;
  REQUIRE(db.Open(std::string(site.dir / "central") + "/central.db", false).ok());
  Status update = db.Exec("UPDATE audit SET actor = 'someone else'");
  CHECK(!update.ok());
  CHECK(update.message().find("append-only") != std::string::npos);
  Status remove = db.Exec("DELETE FROM audit");
  CHECK(!remove.ok());
  CHECK(remove.message().find("append-only") != std::string::npos);
  json after = Audit(site);
  CHECK(after.size() == before + 1);  // nothing gone; the first read's own entry added
  CHECK(after[1]["actor"] == "amy");
}

TEST_CASE("record exports leave sensitive fields out unless asked for with a reason, audited") {
  Site site;
  std::string amy = site.Enrol("amy", "street_pastors");
  for (const char* when : {"2023-05-01T23:00:00Z", "2023-11-01T23:00:00Z"}) {
    Ok({"log", "--data", amy, "outreach_contact", "--occurred-at", when, "--set",
        "place=Jewry Street", "--set", "age_band=18_24", "--set", "safeguarding_concern=no",
        "--set", "notes=Private detail"});
  }
  Ok({"sync", "--data", amy});
  std::string central = site.dir / "central";
  auto exp = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"export", "--data", central, "--form", "outreach_contact"});
    return SyncServer(args);
  };
  auto lines = [](const std::string& text) {
    return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
  };

  CommandResult plain = exp({});
  REQUIRE(plain.exit_code == 0);
  CHECK(lines(plain.out) == 3);  // header and two records
  CHECK(plain.out.find("Private detail") == std::string::npos);
  CHECK(plain.out.find("notes") == std::string::npos);
  CHECK(plain.err.find("sensitive fields left out: notes") != std::string::npos);
  CHECK(lines(exp({"--fy", "2023", "--quarter", "Q1"}).out) == 2);

  CommandResult no_reason = exp({"--include-sensitive"});
  CHECK(no_reason.exit_code == 1);
  CHECK(no_reason.err.find("only exported with a reason") != std::string::npos);
  CHECK(no_reason.out.empty());
  CommandResult asked = exp({"--include-sensitive", "--reason", "safeguarding review 12", "--out",
                             site.dir / "contacts.csv"});
  REQUIRE(asked.exit_code == 0);
  std::ifstream file(site.dir / "contacts.csv");
  std::string written((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  CHECK(written.find("Private detail") != std::string::npos);
  CHECK(lines(written) == 3);

  for (std::vector<std::string> bad : {std::vector<std::string>{"--quarter", "Q1"},
                                       {"--fy", "2023", "--quarter", "Q7"},
                                       {"--format", "xml"},
                                       {"--reason", "no flag"}}) {
    CAPTURE(bad[0]);
    CHECK(exp(bad).exit_code == 1);
  }
  CommandResult unknown = SyncServer({"export", "--data", central, "--form", "nope"});
  CHECK(unknown.exit_code == 1);
  CHECK(unknown.err.find("form 'nope' is not one of") != std::string::npos);

  // Exactly the exports that happened are in the log, the sensitive one with its reason.
  json exports = Audit(site, {"--action", "export_records"});
  REQUIRE(exports.size() == 3);
  CHECK(exports[0]["detail"]["sensitive"] == false);
  CHECK(exports[0]["detail"]["records"] == 2);
  CHECK(exports[1]["detail"]["quarter"] == "Q1");
  CHECK(exports[2]["detail"]["sensitive"] == true);
  CHECK(exports[2]["detail"]["reason"] == "safeguarding review 12");
  CHECK(exports[2]["role"] == "operator");
}

TEST_CASE("a person met on two tablets is one person in the return, and their name stays put") {
  Site site;
  std::string amy = site.Enrol("amy", "street_pastors");
  std::string ben = site.Enrol("ben", "street_reach");
  std::string cleo = site.Enrol("cleo", "csp", "", "coordinator");
  Ok({"log", "--data", amy, "outreach_contact", "--occurred-at", "2023-05-01T23:00:00Z", "--set",
      "place=Jewry Street", "--set", "age_band=18_24", "--set", "safeguarding_concern=no", "--set",
      "support_given=water", "--subject-name", "Jane O'Neill", "--subject-dob", "1990-02-03"});
  // Typed differently on another partner's tablet, in bulk.
  std::string bulk = R"([{"form": "outreach_contact", "occurred_at": "2023-05-09T22:00:00Z",
      "fields": {"place": "High Street", "age_band": "18_24", "safeguarding_concern": false,
                 "referrals": ["stop"]},
      "subject": {"name": "JANE  ONEILL", "dob": "1990-02-03"}},
     {"form": "outreach_contact", "occurred_at": "2023-05-10T22:00:00Z",
      "fields": {"place": "High Street", "age_band": "25_34", "safeguarding_concern": false,
                 "support_given": ["water"]},
      "subject": {"name": "Someone Else", "dob": "1985-07-01"}}])";
  Ok({"log", "--data", ben, "--json", "-"}, bulk);
  for (const auto& dev : {amy, ben, cleo}) Ok({"sync", "--data", dev});

  json report = OkJson({"report", "--data", cleo, "--fy", "2023", "--format", "json"});
  json people;
  for (const auto& row : report["indicators"]) {
    if (row["id"] == "ql_individuals_supported") people = row;
  }
  REQUIRE(people.is_object());
  CHECK(people["values"]["Q1"] == 2);  // Jane (on both tablets) and someone else

  // The names were never stored: not in what the tablets hold (decrypted: their files are
  // encrypted, so searching those bytes could not fail), not in the server's files (in clear).
  // The place typed beside a name is found in each: the searches can fail.
  struct Searched {
    std::string where, content, place;
  };
  for (const auto& [where, content, place] : std::vector<Searched>{
           {amy, DecryptedDeviceContent(amy), "Jewry Street"},
           {ben, DecryptedDeviceContent(ben), "High Street"},
           {cleo, DecryptedDeviceContent(cleo), "Jewry Street"},
           {site.dir / "central", AllFileBytes(site.dir / "central"), "High Street"}}) {
    CAPTURE(where);
    CHECK(content.find(place) != std::string::npos);
    CHECK(content.find("Jane") == std::string::npos);
    CHECK(content.find("JANE") == std::string::npos);
    CHECK(content.find("Someone") == std::string::npos);
    CHECK(content.find("1990-02-03") == std::string::npos);
  }

  // A name typed into the key field is refused, and not echoed.
  CommandResult typed = FieldClient({"log", "--data", amy, "outreach_contact", "--set", "place=X",
                                     "--set", "age_band=18_24", "--set", "safeguarding_concern=no",
                                     "--set", "subject_key=Jane Doe"});
  CHECK(typed.exit_code == 1);
  CHECK(typed.err.find("never a name") != std::string::npos);
  CHECK(typed.err.find("Jane Doe") == std::string::npos);
  // A stand-alone tablet has no partnership key: it cannot record people.
  Ok({"init", "--data", site.dir / "solo", "--user", "sam", "--org", "police", "--role",
      "field_worker"});
  CommandResult solo =
      FieldClient({"log", "--data", site.dir / "solo", "outreach_contact", "--set", "place=X",
                   "--set", "age_band=18_24", "--set", "safeguarding_concern=no", "--subject-name",
                   "Jane", "--subject-dob", "1990-02-03"});
  CHECK(solo.exit_code == 1);
  CHECK(solo.err.find("no partnership subject key") != std::string::npos);
}
