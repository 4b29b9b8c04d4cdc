// Every role against every endpoint and record scope, allowed and denied (docs/security.md,
// "Access"; docs/protocol.md, section 4). Requests go to the real Api over the real store.
#include <set>

#include "beatbook/permissions.h"
#include "sync_fixture.h"

using namespace beatbook;
using namespace beatbook::test;

namespace {

struct Actor {
  std::string role;
  Device device;
  std::string bearer;
};

// A change to one field of `stored`, stamped by `device_id` after every stamp it holds.
nlohmann::json Correction(const RecordState& stored, const std::string& device_id,
                          const std::string& field, const nlohmann::json& value) {
  RecordState change;
  change.id = stored.id;
  change.form = stored.form;
  change.form_version = stored.form_version;
  change.org = stored.org;
  change.author = stored.author;
  change.device = stored.device;
  HlcStamp old = stored.fields.at(field).t;
  change.fields[field] = Register{value, stored.MaxStamp() + (1 << 16), device_id, old};
  nlohmann::json j = change.ToJson(/*with_base=*/true);
  j["change_id"] = NewUuid();
  return j;
}

// Pushes one change; returns the HTTP status and, for a 200, "applied" or "rejected".
std::string PushOne(server::Api& api, const std::string& bearer, const nlohmann::json& change) {
  nlohmann::json body = {{"batch_id", NewUuid()}, {"changes", {change}}};
  server::ApiResponse r = api.Handle({"POST", "/v1/push", body.dump(), bearer});
  if (r.status != 200) return std::to_string(r.status);
  return r.body["results"][0]["status"];
}

std::set<std::string> PulledOrgs(server::Api& api, const std::string& bearer, int* status) {
  server::ApiResponse r = api.Handle({"GET", "/v1/pull?cursor=0", "", bearer});
  *status = r.status;
  std::set<std::string> orgs;
  if (r.status == 200) {
    nlohmann::json page = r.Json();  // kept: iterating a temporary's member would dangle
    for (const auto& rec : page["records"]) orgs.insert(rec["org"].get<std::string>());
  }
  return orgs;
}

}  // namespace

TEST_CASE("every role against every endpoint and record scope") {
  SyncFixture f;
  // Records on the server: one of police (the actors' org for the first three) and one of stop.
  Device stop_worker = f.Enrol("sue", "wcc_asb", "field_worker");
  stop_worker.Log("street_brief", {{"place", "Refuge"}, {"attendees", 2}});
  REQUIRE(stop_worker.Sync().ok());
  Device police_worker = f.Enrol("pat", "police", "field_worker");
  police_worker.Log("street_brief", {{"place", "Jewry Street"}, {"attendees", 5}});
  REQUIRE(police_worker.Sync().ok());
  RecordState stop_record, police_record;
  for (const auto& [id, j] : f.ServerRecords("wcc_asb"))
    REQUIRE(RecordState::FromJson(j, &stop_record).ok());
  for (const auto& [id, j] : f.ServerRecords("police")) {
    REQUIRE(RecordState::FromJson(j, &police_record).ok());
  }

  struct Expect {
    const char* role;
    const char* org;
    int pull;                               // HTTP status
    std::set<std::string> sees;             // orgs whose records the pull returns
    const char* correct_own_org;            // another user's record of the device's org (police)
    const char* correct_other_org;          // a record of another org (stop)
    const char* enter_return;               // a partnership return the device's org owns
    int report, approve, explain, records;  // HTTP statuses
  };
  const std::vector<Expect> matrix = {
      // A field worker changes only records they entered: a colleague's is refused.
      {"field_worker",
       "police",
       200,
       {"police"},
       "rejected",
       "rejected",
       "rejected",
       403,
       403,
       403,
       403},
      {"partner_lead",
       "police",
       200,
       {"police"},
       "applied",
       "rejected",
       "applied",
       403,
       403,
       403,
       403},
      {"coordinator",
       "csp",
       200,
       {"csp", "police", "wcc_asb"},  // csp: the partnership return the lead entered
       "applied",
       "applied",
       "applied",
       200,
       200,
       200,
       200},
      {"admin", "csp", 403, {}, "403", "403", "403", 403, 403, 403, 403},
      // A board member reads the return on the dashboard, and no records.
      {"board", "csp", 403, {}, "403", "403", "403", 200, 403, 403, 403},
      // The safeguarding lead follows up the safeguarding queue, and reads nothing else.
      {"safeguarding_lead", "csp", 403, {}, "403", "403", "403", 403, 403, 403, 403},
  };
  auto text = [](const std::set<std::string>& orgs) {
    std::string out;
    for (const auto& o : orgs) out += o + " ";
    return out;
  };
  for (const auto& e : matrix) {
    std::string role = e.role;
    CAPTURE(role);
    Device d = f.Enrol(std::string("user-") + e.role, e.org, e.role);
    std::string bearer = d.Bearer();
    const std::string dev = d.store->identity().device_id;

    CHECK(f.api->Handle({"GET", "/v1/forms", "", bearer}).status == 200);  // every role
    int pull_status = 0;
    std::set<std::string> orgs = PulledOrgs(*f.api, bearer, &pull_status);
    CHECK(pull_status == e.pull);
    CHECK(text(orgs) == text(e.sees));

    // A record of its own org, entered by someone else (the coordinator's org is csp: it corrects
    // the police record like any other org's).
    CHECK(PushOne(*f.api, bearer, Correction(police_record, dev, "attendees", 6)) ==
          e.correct_own_org);
    CHECK(PushOne(*f.api, bearer, Correction(stop_record, dev, "attendees", 3)) ==
          e.correct_other_org);

    // A record that claims another author is refused even from the right org.
    if (e.pull == 200) {
      RecordState forged = police_record;
      forged.id = NewUuid();
      forged.org = e.org;
      forged.author = "someone_else";
      forged.device = dev;
      HlcStamp t = police_record.MaxStamp() + (2 << 16);
      forged.occurred_at = Register{"2023-06-02T10:00:00Z", t, dev, 0};
      forged.deleted = Register{false, t, dev, 0};
      forged.fields = {{"place", Register{"X", t, dev, 0}}, {"attendees", Register{1, t, dev, 0}}};
      nlohmann::json j = forged.ToJson(true);
      j["change_id"] = NewUuid();
      CHECK(PushOne(*f.api, bearer, j) == "rejected");
    }

    // A partner return (natural-key id) of an indicator the device's org owns: one figure for
    // the partnership, filed under its org.
    if (e.pull == 200) {
      nlohmann::json fields = {
          {"indicator", "pc_vru_referrals"}, {"fy", 2023}, {"quarter", "Q1"}, {"value", 2}};
      auto id = NaturalKeyId(f.forms, "indicator_return", fields, e.org);
      REQUIRE(id.has_value());
      RecordState ret;
      ret.id = *id;
      ret.form = "indicator_return";
      ret.form_version = 1;
      ret.org = FilingOrg(f.forms, "indicator_return", fields, e.org);
      CHECK(ret.org == "csp");
      ret.author = d.store->identity().user;
      ret.device = dev;
      HlcStamp t = police_record.MaxStamp() + (3 << 16);
      ret.occurred_at = Register{"2023-06-30T12:00:00Z", t, dev, 0};
      ret.deleted = Register{false, t, dev, 0};
      for (const auto& [k, v] : fields.items()) ret.fields[k] = Register{v, t, dev, 0};
      nlohmann::json j = ret.ToJson(true);
      j["change_id"] = NewUuid();
      CHECK(PushOne(*f.api, bearer, j) == e.enter_return);
    } else {
      CHECK(PushOne(*f.api, bearer, Correction(police_record, dev, "place", "Y")) ==
            e.enter_return);
    }

    CHECK(f.api->Handle({"GET", "/v1/report?fy=2023", "", bearer}).status == e.report);
    CHECK(
        f.api->Handle({"POST", "/v1/approve", R"({"fy": 2023, "quarter": "Q4"})", bearer}).status ==
        e.approve);
    CHECK(f.api->Handle({"GET", "/v1/explain?indicator=pc_closure_orders&fy=2023", "", bearer})
              .status == e.explain);
    CHECK(f.api->Handle({"GET", "/v1/records?form=street_brief", "", bearer}).status == e.records);
    const bool follows_up = role == "coordinator" || role == "safeguarding_lead";
    CHECK(f.api->Handle({"GET", "/v1/safeguarding", "", bearer}).status ==
          (follows_up ? 200 : 403));
  }
}

TEST_CASE("a revoked device is refused on every endpoint, whatever its role") {
  SyncFixture f;
  for (const char* role : {"field_worker", "partner_lead", "coordinator", "admin", "board"}) {
    CAPTURE(role);
    Device d = f.Enrol(std::string("user-") + role, "police", role);
    server::DeviceInfo info;
    REQUIRE(f.central->RevokeDevice(d.store->identity().device_id, &info, nullptr).ok());
    std::string bearer = d.Bearer();
    for (auto [method, target, body] :
         std::vector<std::tuple<std::string, std::string, std::string>>{
             {"GET", "/v1/forms", ""},
             {"GET", "/v1/pull?cursor=0", ""},
             {"POST", "/v1/push", R"({"batch_id": "b", "changes": []})"},
             {"GET", "/v1/report?fy=2023", ""},
             {"POST", "/v1/approve", R"({"fy": 2023, "quarter": "Q1"})"},
             {"GET", "/v1/explain?indicator=pc_closure_orders&fy=2023", ""},
             {"GET", "/v1/records?form=street_brief", ""},
             {"POST", "/v1/rotate", "{}"}}) {
      CAPTURE(target);
      server::ApiResponse r = f.api->Handle({method, target, body, bearer});
      CHECK(r.status == 403);
      CHECK(r.body["error"]["code"] == "device_revoked");
    }
  }
}
