// The safeguarding queue (docs/safeguarding.md) on the real Api and store: a Yes synced from a
// tablet joins it once, with its answers labelled; it is flagged when nobody acknowledges it in
// time; the coordinator acknowledges it and records the action, each step audited; nobody else
// sees it; retention takes it away with its record.
#include <chrono>
#include <thread>

#include "beatbook/datetime.h"
#include "sync_fixture.h"

using namespace beatbook;
using namespace beatbook::test;

namespace {

// A dashboard sign-in for `role`, as a bearer credential; `clock` is the server's.
std::string SignedIn(SyncFixture& f, const std::string& user, const std::string& org,
                     const std::string& role, const Clock& clock = *SystemClock::Default()) {
  return f.DashboardSignIn(user, org, role, clock);
}

json Contact(bool concern, const std::string& place = "Jewry Street") {
  return {{"place", place},
          {"age_band", "18_24"},
          {"issues", json::array({"domestic_abuse", "mental_health"})},
          {"referrals", json::array({"stop"})},
          {"safeguarding_concern", concern},
          {"notes", "Said her partner took her phone."}};
}

std::vector<server::AuditEvent> AuditOf(SyncFixture& f, const std::string& action) {
  server::AuditQuery q;
  q.action = action;
  std::vector<server::AuditEvent> events;
  REQUIRE(f.central->ReadAudit(q, &events).ok());
  return events;
}

}  // namespace

TEST_CASE("a safeguarding concern goes from a tablet to the coordinator's acknowledgement") {
  SyncFixture f;
  ManualClock clock(SystemClock::Default()->NowMs());
  f.UseServerClock(&clock);
  Device pat = f.Enrol("pat", "street_pastors", "field_worker", nullptr, &clock);
  std::string concern = pat.Log("outreach_contact", Contact(true), "2023-06-02T23:40:00Z");
  pat.Log("outreach_contact", Contact(false, "The Square"), "2023-06-02T23:50:00Z");
  REQUIRE(pat.Sync().ok());
  std::string cleo = SignedIn(f, "cleo", "csp", "coordinator", clock);
  auto queue = [&] {
    server::ApiResponse r = f.api->Handle({"GET", "/v1/safeguarding", "", cleo});
    REQUIRE(r.status == 200);
    return r.body;
  };

  // Only the Yes is on the queue, with its answers as people read them.
  json q = queue();
  REQUIRE(q["concerns"].size() == 1);
  json c = q["concerns"][0];
  CHECK(c["record_id"] == concern);
  CHECK(c["org_label"] == "Street Pastors");
  CHECK(c["worker"] == "pat");
  CHECK(c["form"] == "Outreach contact");
  CHECK(c["occurred_at"] == "2023-06-02T23:40:00Z");
  CHECK(c["overdue"] == false);
  CHECK(c["still_raised"] == true);
  CHECK(c["acknowledged_at"] == "");
  CHECK(q["waiting"] == 1);
  std::map<std::string, json> answers;
  for (const auto& a : c["answers"]) answers[a["label"].get<std::string>()] = a;
  CHECK(answers.at("Issues")["value"] == "Domestic abuse, Mental health");
  CHECK(answers.at("Referrals")["value"] == "STOP Domestic Abuse");
  CHECK(answers.at("Safeguarding concern")["value"] == "Yes");
  CHECK(answers.at("Notes")["sensitive"] == true);
  // The view was audited with the record it showed.
  auto views = AuditOf(f, "safeguarding_view");
  REQUIRE(views.size() == 1);
  CHECK(views[0].actor == "cleo");
  CHECK(views[0].detail["records"] == json::array({concern}));
  CHECK(views[0].detail["sensitive_shown"] == true);  // the notes

  // Syncing the same record again, or editing it, does not raise it twice.
  REQUIRE(pat.store->Edit(concern, json{{"place", "Jewry Street, by the bus stop"}}, std::nullopt)
              .ok());
  REQUIRE(pat.Sync().ok());
  CHECK(queue()["concerns"].size() == 1);

  // Not acknowledged within the stated time: flagged. (A dashboard sign-in that long idle has
  // expired: the coordinator signs in again.)
  clock.Advance((tunables::kSafeguardingAcknowledgeHours + 1) * 3'600'000);
  cleo = SignedIn(f, "cleo", "csp", "coordinator", clock);
  q = queue();
  CHECK(q["concerns"][0]["overdue"] == true);
  CHECK(q["concerns"][0]["hours_waiting"] == tunables::kSafeguardingAcknowledgeHours + 1);
  CHECK(q["overdue"] == 1);

  // Acknowledged, then the action recorded, each with its time and who.
  json ack = {{"record_id", concern}};
  server::ApiResponse acked =
      f.api->Handle({"POST", "/v1/safeguarding/acknowledge", ack.dump(), cleo});
  REQUIRE(acked.status == 200);
  std::string acked_at = FormatIsoUtc(clock.NowMs());
  clock.Advance(10 * 60'000);
  json action = {{"record_id", concern},
                 {"action", "  Referred to STOP's duty worker; police informed (ref 44).  "}};
  REQUIRE(f.api->Handle({"POST", "/v1/safeguarding/action", action.dump(), cleo}).status == 200);
  c = queue()["concerns"][0];
  CHECK(c["overdue"] == false);
  CHECK(c["acknowledged_at"] == acked_at);
  CHECK(c["acknowledged_by"] == "cleo");
  CHECK(c["action"] == "Referred to STOP's duty worker; police informed (ref 44).");
  CHECK(c["action_at"] == FormatIsoUtc(clock.NowMs()));
  CHECK(c["action_by"] == "cleo");
  // A further action is added; the first is kept.
  json again = {{"record_id", concern}, {"action", "Followed up: she is in a refuge."}};
  REQUIRE(f.api->Handle({"POST", "/v1/safeguarding/action", again.dump(), cleo}).status == 200);
  c = queue()["concerns"][0];
  CHECK(c["action"] == "Followed up: she is in a refuge.");
  REQUIRE(c["actions"].size() == 2);
  CHECK(c["actions"][0]["action"] == "Referred to STOP's duty worker; police informed (ref 44).");
  CHECK(c["actions"][1]["by"] == "cleo");
  // A second acknowledgement keeps the first.
  clock.Advance(60'000);
  REQUIRE(f.api->Handle({"POST", "/v1/safeguarding/acknowledge", ack.dump(), cleo}).status == 200);
  CHECK(queue()["concerns"][0]["acknowledged_at"] == acked_at);
  CHECK(AuditOf(f, "safeguarding_acknowledge").size() == 2);
  auto actions = AuditOf(f, "safeguarding_action");
  REQUIRE(actions.size() == 2);
  // The audit says who did what to which record, not the action's words.
  CHECK(actions[0].detail == json({{"record", concern}}));

  // The worker later answers No: the concern stays, marked as no longer raised.
  REQUIRE(pat.store->Edit(concern, json{{"safeguarding_concern", false}}, std::nullopt).ok());
  REQUIRE(pat.Sync().ok());
  CHECK(queue()["concerns"][0]["still_raised"] == false);
}

TEST_CASE("a Yes raises a concern even when a later No won the merge") {
  SyncFixture f;
  Device pat = f.Enrol("pat", "street_pastors", "field_worker");
  Device cleo = f.Enrol("cleo", "csp", "coordinator");
  std::string id = pat.Log("outreach_contact", Contact(false), "2023-06-02T23:40:00Z");
  REQUIRE(pat.Sync().ok());
  REQUIRE(cleo.Sync().ok());
  // The worker answers Yes offline; the coordinator's later No reaches the server first.
  REQUIRE(pat.store->Edit(id, json{{"safeguarding_concern", true}}, std::nullopt).ok());
  // Clearly later by the clock (stamps are milliseconds, and a tie goes by device id).
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  REQUIRE(cleo.store->Edit(id, json{{"safeguarding_concern", false}}, std::nullopt).ok());
  REQUIRE(cleo.Sync().ok());
  REQUIRE(pat.Sync().ok());
  CHECK(f.ServerRecords().at(id)["fields"]["safeguarding_concern"]["v"] == false);
  std::vector<server::SafeguardingConcern> queue;
  REQUIRE(f.central->Concerns(&queue).ok());
  REQUIRE(queue.size() == 1);
  CHECK(queue[0].record_id == id);
}

TEST_CASE("the safeguarding queue is the coordinator's alone, and bad follow-ups change nothing") {
  SyncFixture f;
  Device pat = f.Enrol("pat", "street_pastors", "field_worker");
  std::string concern = pat.Log("outreach_contact", Contact(true), "2023-06-02T23:40:00Z");
  REQUIRE(pat.Sync().ok());
  json ack = {{"record_id", concern}};
  json action = {{"record_id", concern}, {"action", "Called the duty worker."}};
  std::string board = SignedIn(f, "bo", "csp", "board");
  CHECK(f.api->Handle({"GET", "/v1/safeguarding", "", board}).status == 403);
  CHECK(f.api->Handle({"POST", "/v1/safeguarding/acknowledge", ack.dump(), board}).status == 403);
  for (const char* role : {"field_worker", "partner_lead", "admin"}) {
    CAPTURE(role);
    Device d = f.Enrol(std::string("u-") + role, "street_pastors", role);
    CHECK(f.api->Handle({"GET", "/v1/safeguarding", "", d.Bearer()}).status == 403);
    CHECK(f.api->Handle({"POST", "/v1/safeguarding/action", action.dump(), d.Bearer()}).status ==
          403);
  }
  CHECK(AuditOf(f, "safeguarding_view").empty());

  std::string cleo = SignedIn(f, "cleo", "csp", "coordinator");
  auto refused = [&](const std::string& path, const std::string& body) {
    server::ApiResponse r = f.api->Handle({"POST", path, body, cleo});
    CAPTURE(body);
    CHECK(r.status >= 400);
    return r.body["error"]["message"].get<std::string>();
  };
  CHECK(refused("/v1/safeguarding/acknowledge", "[]").find("JSON object") != std::string::npos);
  CHECK(refused("/v1/safeguarding/acknowledge", "{}").find("record_id") != std::string::npos);
  CHECK(refused("/v1/safeguarding/acknowledge", json({{"record_id", "nope"}}).dump())
            .find("not on the safeguarding queue") != std::string::npos);
  CHECK(refused("/v1/safeguarding/action", ack.dump()).find("what was done") != std::string::npos);
  CHECK(
      refused("/v1/safeguarding/action", json({{"record_id", concern}, {"action", " \n "}}).dump())
          .find("what was done") != std::string::npos);
  CHECK(refused("/v1/safeguarding/action",
                json({{"record_id", concern},
                      {"action", std::string(tunables::kMaxSafeguardingActionLength + 1, 'x')}})
                    .dump())
            .find("longer than") != std::string::npos);
  CHECK(refused("/v1/safeguarding/action",
                json({{"record_id", concern}, {"action", "done\xe2\x80\xae"}}).dump())
            .find("control or text-direction") != std::string::npos);
  // None of that acknowledged anything or reached the audit log.
  json c = f.api->Handle({"GET", "/v1/safeguarding", "", cleo}).body["concerns"][0];
  CHECK(c["acknowledged_at"] == "");
  CHECK(c["action"] == "");
  CHECK(AuditOf(f, "safeguarding_acknowledge").empty());
  CHECK(AuditOf(f, "safeguarding_action").empty());

  // The limit counts characters, as the page's box does: 2,000 Welsh "ŵ" (4,000 bytes) fit.
  std::string welsh;
  for (std::size_t i = 0; i < tunables::kMaxSafeguardingActionLength; ++i) welsh += "\xc5\xb5";
  CHECK(f.api
            ->Handle({"POST", "/v1/safeguarding/action",
                      json({{"record_id", concern}, {"action", welsh}}).dump(), cleo})
            .status == 200);
  CHECK(refused("/v1/safeguarding/action",
                json({{"record_id", concern}, {"action", welsh + "\xc5\xb5"}}).dump())
            .find("longer than") != std::string::npos);
}

TEST_CASE("a purged record leaves the safeguarding queue with everything else it held") {
  SyncFixture f;
  Device pat = f.Enrol("pat", "street_pastors", "field_worker");
  std::string concern = pat.Log("outreach_contact", Contact(true), "2023-06-02T23:40:00Z");
  REQUIRE(pat.Sync().ok());
  std::vector<server::SafeguardingConcern> queue;
  REQUIRE(f.central->Concerns(&queue).ok());
  REQUIRE(queue.size() == 1);
  server::AuditEvent audit{0, 1, "admin", "admin", "csp", "", "purge", json::object()};
  REQUIRE(f.central->PurgeRecords({concern}, 0, audit).ok());
  queue.clear();
  REQUIRE(f.central->Concerns(&queue).ok());
  CHECK(queue.empty());
}

TEST_CASE("the partnership's safeguarding lead follows up the queue and reads nothing else") {
  SyncFixture f;
  Device pat = f.Enrol("pat", "street_pastors", "field_worker");
  std::string concern = pat.Log("outreach_contact", Contact(true), "2023-06-02T23:40:00Z");
  REQUIRE(pat.Sync().ok());
  std::string dee = SignedIn(f, "dee", "csp", "safeguarding_lead");
  server::ApiResponse q = f.api->Handle({"GET", "/v1/safeguarding", "", dee});
  REQUIRE(q.status == 200);
  REQUIRE(q.body["concerns"].size() == 1);
  json ack = {{"record_id", concern}};
  REQUIRE(f.api->Handle({"POST", "/v1/safeguarding/acknowledge", ack.dump(), dee}).status == 200);
  json action = {{"record_id", concern}, {"action", "Called the refuge; a place for tonight."}};
  REQUIRE(f.api->Handle({"POST", "/v1/safeguarding/action", action.dump(), dee}).status == 200);
  json c = f.api->Handle({"GET", "/v1/safeguarding", "", dee}).body["concerns"][0];
  CHECK(c["acknowledged_by"] == "dee");
  CHECK(c["action_by"] == "dee");
  auto steps = AuditOf(f, "safeguarding_acknowledge");
  REQUIRE(steps.size() == 1);
  CHECK(steps[0].actor == "dee");
  CHECK(steps[0].role == "safeguarding_lead");

  // Nothing else: not the return, the records behind it, places, photos or devices.
  for (const char* target :
       {"/v1/report?fy=2023", "/v1/records?form=outreach_contact", "/v1/hotspots?fy=2023",
        "/v1/explain?indicator=pc_closure_orders&fy=2023", "/v1/devices", "/v1/conflicts",
        "/v1/orgs", "/v1/owed?fy=2023", "/v1/approvals?fy=2023", "/v1/report.xlsx?fy=2023",
        "/v1/pull?cursor=0&limit=10"}) {
    CAPTURE(target);
    CHECK(f.api->Handle({"GET", target, "", dee}).status == 403);
  }
  const std::string photo = "/v1/attachments/" + std::string(64, 'a') + ".jpg?record=" + concern;
  CHECK(f.api->Handle({"GET", photo, "", dee}).status == 403);
  // And the follow-up steps are theirs and the coordinator's only.
  std::string bea = SignedIn(f, "bea", "csp", "board");
  CHECK(f.api->Handle({"POST", "/v1/safeguarding/acknowledge", ack.dump(), bea}).status == 403);
  CHECK(f.api->Handle({"POST", "/v1/safeguarding/action", action.dump(), bea}).status == 403);
}
