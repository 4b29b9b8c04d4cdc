// What a hostile device or a careless request could do to the central store, refused at the
// server (docs/security.md, "Hostile devices"): stamps from the far future, ids taken from partner
// returns, deletes undone or stuffed with junk, doubtful values, blank export reasons, credentials
// that never expire, and the person-key secret for roles that do not need it. Each refusal leaves
// what was stored as it was.
#include <functional>
#include <limits>
#include <map>

#include "beatbook/hlc.h"
#include "support/record_states.h"
#include "sync_fixture.h"

using namespace beatbook;
using namespace beatbook::test;
using nlohmann::json;

namespace {

// A new street brief as a device would first push it, every register stamped `t` by `device`.
RecordState NewBrief(const Device& d, HlcStamp t, const std::string& id = "") {
  const Identity& me = d.store->identity();
  return NewRecord(Envelope(id.empty() ? NewTimeOrderedUuid(SystemClock::Default()->NowMs()) : id,
                            "street_brief", me.org, me.user, me.device_id),
                   t, "2023-06-01T21:00:00Z", {{"place", "Jewry Street"}, {"attendees", 4}});
}

// Pushes `changes` (wire form) from `d`; the per-change results.
json Push(SyncFixture& f, const Device& d, json changes) {
  for (auto& c : changes) c["change_id"] = NewUuid();
  json body = {{"batch_id", NewUuid()}, {"changes", changes}};
  server::ApiResponse r = f.api->Handle({"POST", "/v1/push", body.dump(), d.Bearer()});
  REQUIRE_MESSAGE(r.status == 200, r.Text());
  return r.body["results"];
}

HlcStamp Now() { return HybridClock::FromPhysical(SystemClock::Default()->NowMs()); }

}  // namespace

TEST_CASE("a stamp from the far future is refused, and sync goes on for everyone") {
  SyncFixture f;
  Device mallory = f.Enrol("mallory", "police", "field_worker");
  Device amy = f.Enrol("amy", "police", "field_worker");
  HlcStamp near_max = std::numeric_limits<HlcStamp>::max() - 10;
  HlcStamp two_days = HybridClock::FromPhysical(SystemClock::Default()->NowMs() + 2 * 86'400'000);
  for (HlcStamp t : {near_max, two_days}) {
    CAPTURE(t);
    json results = Push(f, mallory, {NewBrief(mallory, t).ToJson(true)});
    CHECK(results[0]["status"] == "rejected");
    CHECK(results[0]["reason"].get<std::string>().find("ahead of the server's clock") !=
          std::string::npos);
  }
  CHECK(f.ServerRecords().empty());  // nothing of them stored
  // Within the tolerance (a clock a few hours fast) a write is taken as usual.
  HlcStamp hours = HybridClock::FromPhysical(SystemClock::Default()->NowMs() + 3 * 3'600'000);
  CHECK(Push(f, mallory, {NewBrief(mallory, hours).ToJson(true)})[0]["status"] == "applied");
  // Honest devices keep syncing, and their stamps stay near real time.
  std::string id = amy.Log("street_brief", {{"place", "A"}, {"attendees", 1}});
  REQUIRE(amy.Sync().ok());
  REQUIRE(amy.store->Edit(id, {{"attendees", 2}}, std::nullopt).ok());
  REQUIRE(amy.Sync().ok());
  RecordState r;
  REQUIRE(amy.store->Get(id, &r).ok());
  CHECK(HybridClock::PhysicalMs(r.fields.at("attendees").t) <
        SystemClock::Default()->NowMs() + 4 * 3'600'000);
  CHECK(f.ServerRecords().at(id)["fields"]["attendees"]["v"] == 2);
}

TEST_CASE(
    "a record of another form cannot take a partner return's id, and a squatter gives it up") {
  SyncFixture f;
  Device mallory = f.Enrol("mallory", "wcc_asb", "field_worker");
  Device lead = f.Enrol("pat", "police", "partner_lead");
  json key = {{"indicator", "da_campaigns_supported"}, {"fy", 2023}, {"quarter", "Q3"}};
  std::string return_id = *NaturalKeyId(f.forms, "indicator_return", key, "police");
  // Taking the id with a street brief (any form, any org) is refused.
  json results = Push(f, mallory, {NewBrief(mallory, Now(), return_id).ToJson(true)});
  CHECK(results[0]["status"] == "rejected");
  CHECK(results[0]["reason"].get<std::string>().find("kept for partner returns") !=
        std::string::npos);
  CHECK(f.ServerRecords().empty());

  // A squatter stored before this rule: the real return takes its id over, and the audit log
  // keeps what it was.
  RecordState squatter = NewBrief(mallory, Now(), return_id);
  REQUIRE(f.central->Write([&](server::WriteTxn& txn) { return txn.SaveRecord(squatter); }).ok());
  std::string id;
  REQUIRE(lead.store
              ->Log({"indicator_return",
                     {{"indicator", "da_campaigns_supported"},
                      {"fy", 2023},
                      {"quarter", "Q3"},
                      {"value", 3}},
                     "2023-12-20T12:00:00Z",
                     {},
                     {},
                     {},
                     {}},
                    &id)
              .ok());
  CHECK(id == return_id);
  sync::SyncSummary summary;
  REQUIRE(lead.Sync(&summary).ok());
  CHECK(summary.rejected == 0);
  json stored = f.ServerRecords().at(return_id);
  CHECK(stored["form"] == "indicator_return");
  CHECK(stored["fields"]["value"]["v"] == 3);
  std::vector<server::AuditEvent> events;
  server::AuditQuery q;
  q.action = "unblock";
  REQUIRE(f.central->ReadAudit(q, &events).ok());
  REQUIRE(events.size() == 1);
  CHECK(events[0].detail["form"] == "street_brief");
  CHECK(events[0].detail["author"] == "mallory");
}

TEST_CASE("a delete is final, and a delete is validated like any change") {
  SyncFixture f;
  Device amy = f.Enrol("amy", "csp", "field_worker");
  std::string id = amy.Log("street_brief", {{"place", "A"}, {"attendees", 1}});
  REQUIRE(amy.Sync().ok());
  REQUIRE(amy.store->Delete(id).ok());
  REQUIRE(amy.Sync().ok());
  json before = f.ServerRecords().at(id);
  REQUIRE(before["deleted"]["v"] == true);
  const std::string dev = amy.store->identity().device_id;
  HlcStamp later = Now() + (1 << 16);

  // Undeleting with a later "deleted": false is refused; nothing changes.
  RecordState undo = Envelope(id, "street_brief", "csp", "amy", dev);
  undo.deleted = Register{false, later, dev, 0};
  json results = Push(f, amy, {undo.ToJson(true)});
  CHECK(results[0]["status"] == "rejected");
  CHECK(results[0]["reason"].get<std::string>().find("a delete is final") != std::string::npos);
  CHECK(f.ServerRecords().at(id) == before);

  // A delete carrying junk: a name typed into the person key, a field the form lacks, megabytes.
  std::string id2 = amy.Log(
      "outreach_contact", {{"place", "B"}, {"age_band", "18_24"}, {"safeguarding_concern", false}});
  REQUIRE(amy.Sync().ok());
  json before2 = f.ServerRecords().at(id2);
  for (auto [field, value] :
       std::vector<std::pair<std::string, json>>{{"subject_key", "Jane Doe"},
                                                 {"no_such_field", "x"},
                                                 {"notes", std::string(3'000'000, 'x')}}) {
    CAPTURE(field);
    RecordState junk =
        Envelope(id2, "outreach_contact", "csp", "amy", dev, before2["form_version"].get<int>());
    junk.deleted = Register{true, later, dev, 0};
    junk.fields[field] = Register{value, later, dev, 0};
    json r = Push(f, amy, {junk.ToJson(true)});
    CHECK(r[0]["status"] == "rejected");
    CHECK(f.ServerRecords().at(id2) == before2);
  }
}

TEST_CASE("doubtful values are refused: dates out of range, huge versions, control characters") {
  SyncFixture f;
  Device amy = f.Enrol("amy", "police", "field_worker");
  // On the device, before anything is stored.
  for (const char* when :
       {"0001-01-01T00:00:00Z", "9999-12-31T23:00:00Z", "1999-12-31T23:00:00Z"}) {
    CAPTURE(when);
    std::string id;
    Status s = amy.store->Log(
        {"street_brief", {{"place", "A"}, {"attendees", 1}}, when, {}, {}, {}, {}}, &id);
    CHECK(s.IsInvalidArgument());
    CHECK(s.message().find("occurred_at") != std::string::npos);
  }
  for (std::string text : {std::string("nul\0here", 8), std::string("right\xE2\x80\xAEtfel"),
                           std::string("bell\x07")}) {
    CAPTURE(text);
    std::string id;
    Status s = amy.store->Log(
        {"street_brief", {{"place", text}, {"attendees", 1}}, {}, {}, {}, {}, {}}, &id);
    CHECK(s.IsInvalidArgument());
    CHECK(s.message().find("control or text-direction character") != std::string::npos);
  }
  std::string ok_id;
  REQUIRE(
      amy.store
          ->Log({"street_brief", {{"place", "Two\nlines"}, {"attendees", 1}}, {}, {}, {}, {}, {}},
                &ok_id)
          .ok());

  // At the server, from a device that skips its own checks.
  auto pushed = [&](RecordState s, const std::function<void(json&)>& tweak) {
    json j = s.ToJson(true);
    tweak(j);
    j["change_id"] = NewUuid();
    json body = {{"batch_id", NewUuid()}, {"changes", {j}}};
    return f.api->Handle({"POST", "/v1/push", body.dump(), amy.Bearer()});
  };
  server::ApiResponse r = pushed(NewBrief(amy, Now()), [](json& j) {
    j["form_version"] = 4294967298LL;  // 2 in 32 bits
  });
  CHECK(r.status == 400);
  CHECK(r.Text().find("form_version") != std::string::npos);
  r = pushed(NewBrief(amy, Now()), [](json& j) { j["occurred_at"]["v"] = "9999-12-31T23:00:00Z"; });
  REQUIRE(r.status == 200);
  CHECK(r.body["results"][0]["status"] == "rejected");
  r = pushed(NewBrief(amy, Now()), [](json& j) { j["fields"]["place"]["v"] = "a\u202Eb"; });
  REQUIRE(r.status == 200);
  CHECK(r.body["results"][0]["status"] == "rejected");
  r = pushed(NewBrief(amy, Now()), [](json& j) { j["author"] = std::string("am\0y", 4); });
  CHECK(r.status == 400);
  CHECK(f.ServerRecords().empty());
}

TEST_CASE(
    "the person-key secret goes only to roles that log records, and every delivery is logged") {
  SyncFixture f;
  Device worker = f.Enrol("amy", "police", "field_worker");
  CHECK(!worker.store->identity().subject_secret.empty());
  for (const char* role : {"board", "admin"}) {
    CAPTURE(role);
    Device d = f.Enrol(std::string("u-") + role, "csp", role);
    CHECK(d.store->identity().subject_secret.empty());
    server::ApiResponse forms = f.api->Handle({"GET", "/v1/forms", "", d.Bearer()});
    REQUIRE(forms.status == 200);
    CHECK_FALSE(forms.body.contains("subject_secret"));
  }
  REQUIRE(f.api->Handle({"GET", "/v1/forms", "", worker.Bearer()}).status == 200);
  std::vector<server::AuditEvent> events;
  server::AuditQuery q;
  q.action = "subject_secret";
  REQUIRE(f.central->ReadAudit(q, &events).ok());
  REQUIRE(events.size() == 2);  // at enrolment, and with the forms
  CHECK(events[0].actor == "amy");
  CHECK(events[0].detail["via"] == "enrol");
  CHECK(events[1].detail["via"] == "forms");
}

TEST_CASE("sensitive fields are exported only with a reason in words") {
  SyncFixture f;
  Device cleo = f.Enrol("cleo", "csp", "coordinator");
  for (const char* reason : {"", "%20%20%20", "%00", "ab"}) {
    CAPTURE(reason);
    server::ApiResponse r = f.api->Handle(
        {"GET",
         std::string("/v1/records?form=outreach_contact&include_sensitive=true&reason=") + reason,
         "", cleo.Bearer()});
    CHECK(r.status == 400);
    CHECK(r.Text().find("reason") != std::string::npos);
  }
  CHECK(f.api
            ->Handle({"GET",
                      "/v1/records?form=outreach_contact&include_sensitive=true&reason=case%2012",
                      "", cleo.Bearer()})
            .status == 200);
}

TEST_CASE("credentials expire: dashboard sign-ins idle or old, devices unused for months") {
  SyncFixture f;
  ManualClock clock(SystemClock::Default()->NowMs());
  f.UseServerClock(&clock);
  Device amy = f.Enrol("amy", "police", "field_worker", nullptr, &clock);
  auto dashboard = [&] {
    std::string code = RandomSecret(16);
    REQUIRE(f.central
                ->CreateToken(code, {"cleo", "csp", Role::kCoordinator, clock.NowMs() + 60'000},
                              clock.NowMs(), nullptr)
                .ok());
    server::ApiResponse e = f.api->Handle(
        {"POST", "/v1/enrol", json{{"token", code}, {"client", "dashboard"}}.dump(), ""});
    REQUIRE(e.status == 200);
    return "Bearer " + e.body["device_id"].get<std::string>() + "." +
           e.body["secret"].get<std::string>();
  };
  auto orgs = [&](const std::string& bearer) {
    return f.api->Handle({"GET", "/v1/orgs", "", bearer});
  };
  // Idle: a request every 20 minutes keeps a sign-in; 31 minutes without one ends it.
  std::string session = dashboard();
  for (int i = 0; i < 3; ++i) {
    clock.Advance(20 * 60'000);
    REQUIRE(orgs(session).status == 200);
  }
  clock.Advance(31 * 60'000);
  server::ApiResponse idle = orgs(session);
  CHECK(idle.status == 401);
  CHECK(idle.body["error"]["code"] == "session_expired");
  // Absolute: 12 hours after signing in, however busy.
  session = dashboard();
  for (int i = 0; i < 36; ++i) {
    clock.Advance(20 * 60'000);
    REQUIRE(orgs(session).status == 200);
  }
  clock.Advance(20 * 60'000);
  CHECK(orgs(session).body["error"]["code"] == "session_expired");

  // A device unused for half a year is refused until renewed; syncing keeps it alive.
  REQUIRE(amy.Sync().ok());
  clock.Advance(170LL * 86'400'000);
  REQUIRE(amy.Sync().ok());
  clock.Advance(181LL * 86'400'000);
  server::ApiResponse expired = f.api->Handle({"GET", "/v1/forms", "", amy.Bearer()});
  CHECK(expired.status == 401);
  CHECK(expired.body["error"]["code"] == "credential_expired");
  CHECK(expired.Text().find("sync_server renew") != std::string::npos);
  REQUIRE(f.central->NotePull(amy.store->identity().device_id, clock.NowMs()).ok());  // renewed
  CHECK(f.api->Handle({"GET", "/v1/forms", "", amy.Bearer()}).status == 200);
}

TEST_CASE("failed sign-ins, blocked addresses and refused requests are in the audit log") {
  SyncFixture f;
  server::Api api(f.central.get(), &f.forms, &f.catalogue, SystemClock::Default(),
                  server::ApiOptions{0, 0, /*failed per second=*/0.01, /*burst=*/3});
  Device amy = f.Enrol("amy", "police", "field_worker");
  const std::string peer = "203.0.113.7";
  for (int i = 0; i < 3; ++i) {
    api.Handle({"GET", "/v1/forms", "", "Bearer dev-guess.wrong" + std::to_string(i), peer});
  }
  // The address is blocked now, even for a right credential.
  CHECK(api.Handle({"GET", "/v1/forms", "", amy.Bearer(), peer}).status == 429);
  // Unauthenticated requests that fail in other ways (unknown paths, bad bodies) count too.
  const std::string scanner = "203.0.113.8";
  CHECK(api.Handle({"GET", "/v1/nothing", "", "", scanner}).status == 404);
  CHECK(api.Handle({"POST", "/v1/enrol", "not json", "", scanner}).status == 400);
  CHECK(api.Handle({"GET", "/v1/enrol", "", "", scanner}).status == 405);
  CHECK(api.Handle({"GET", "/v1/forms", "", amy.Bearer(), scanner}).status == 429);
  CHECK(api.Handle({"GET", "/v1/approvals", "", amy.Bearer()}).status == 403);
  std::map<std::string, std::vector<server::AuditEvent>> by_action;
  for (const char* action : {"sign_in_failed", "sign_in_blocked", "refused"}) {
    server::AuditQuery q;
    q.action = action;
    REQUIRE(f.central->ReadAudit(q, &by_action[action]).ok());
  }
  REQUIRE(by_action["sign_in_failed"].size() == 3);
  CHECK(by_action["sign_in_failed"][0].detail["peer"] == peer);
  CHECK(by_action["sign_in_failed"][0].detail["claimed_device"] == "dev-guess");
  CHECK(by_action["sign_in_failed"][0].detail.dump().find("wrong") == std::string::npos);
  CHECK(by_action["sign_in_blocked"].size() == 2);  // once per address
  REQUIRE(by_action["refused"].size() == 1);
  CHECK(by_action["refused"][0].actor == "amy");
  CHECK(by_action["refused"][0].detail["path"] == "/v1/approvals");
}
