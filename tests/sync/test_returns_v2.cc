// A return the board can trust (catalogue version 2, docs/indicators.md): who reports what,
// what is still owed and what looks wrong, checked on the device and again on the server. Each
// server-side case uses a device with out-of-date, looser forms, as an old or tampered tablet
// would have: what it stores is refused when it syncs, for the same reason.
#include <set>

#include "beatbook/crypto.h"
#include "beatbook/datetime.h"
#include "beatbook/indicators.h"
#include "sync_fixture.h"
#include "sync_server/report/quarterly_return.h"
#include "sync_server/report/returns_check.h"

using namespace beatbook;
using namespace beatbook::test;
using nlohmann::json;

namespace {

// Gives `d` forms that say nothing about who may log what, how unusual a figure may be or which
// years are reported: the device stores what the server will refuse.
void Loosen(Device& d) {
  json doc = d.store->forms().ToJson();
  for (auto& form : doc["forms"]) {
    if (form.contains("writers")) {
      json keep = json::object();
      if (form["writers"].contains("owners_of")) keep["owners_of"] = form["writers"]["owners_of"];
      form["writers"] = keep;
    }
    for (auto& field : form["fields"]) field.erase("choice_orgs");
  }
  for (auto& r : doc["returns"]["indicators"]) {
    r["owners"] = json::array();
    r["usual_max"] = 1e12;
  }
  doc["returns"]["unusual_factor"] = 1e9;
  doc["returns"]["first_fy"] = 2000;
  FormSet loose;
  REQUIRE(FormSet::FromJson(doc, &loose).ok());
  REQUIRE(d.store->ReplaceForms(loose).ok());
}

// Stores a record on `d`, returning the status (not requiring success).
Status TryLog(Device& d, const std::string& form, const json& fields, std::string* id,
              const std::string& occurred_at = "2023-12-20T12:00:00Z") {
  return d.store->Log({form, fields, occurred_at, {}, {}, {}, {}}, id);
}

json Return(const std::string& indicator, const std::string& quarter, double value) {
  return {{"indicator", indicator}, {"fy", 2023}, {"quarter", quarter}, {"value", value}};
}

// The reason the server gave for refusing `id` to `d`, or "" if it was not refused.
std::string Refusal(Device& d, const std::string& id) {
  std::vector<Rejection> rejections;
  REQUIRE(d.store->Rejections(&rejections).ok());
  for (const auto& r : rejections) {
    if (r.record_id == id) return r.reason;
  }
  return "";
}

json Report(SyncFixture& f, Device& cleo, const std::string& query = "fy=2023") {
  server::ApiResponse r = f.api->Handle({"GET", "/v1/report?" + query, "", cleo.Bearer()});
  REQUIRE_MESSAGE(r.status == 200, r.Text());
  return r.body["report"];
}

json Row(const json& report, const std::string& id) {
  for (const auto& row : report["indicators"]) {
    if (row["id"] == id) return row;
  }
  FAIL("no indicator " << id);
  return {};
}

}  // namespace

TEST_CASE("two owners of one figure edit one record: the return shows one figure, a conflict") {
  SyncFixture f;
  // "Number of referrals to Channel Panel" is the partnership's figure; its owners include HCC
  // and WCC Safeguarding.
  // WCC Safeguarding enters its figure a minute after HCC (the later write wins).
  ManualClock early(SystemClock::Default()->NowMs());
  ManualClock later(SystemClock::Default()->NowMs() + 60'000);
  Device hcc = f.Enrol("hal", "hcc", "partner_lead", nullptr, &early);
  Device wccs = f.Enrol("wes", "wcc_safeguarding", "partner_lead", nullptr, &later);
  Device police = f.Enrol("pat", "police", "partner_lead");
  Device cleo = f.Enrol("cleo", "csp", "coordinator");
  std::string a, b;
  REQUIRE(TryLog(hcc, "indicator_return", Return("pc_channel_referrals", "Q3", 5), &a).ok());
  REQUIRE(TryLog(wccs, "indicator_return", Return("pc_channel_referrals", "Q3", 7), &b).ok());
  CHECK(a == b);  // the same record, whoever enters it
  RecordState stored;
  REQUIRE(hcc.store->Get(a, &stored).ok());
  CHECK(stored.org == "csp");  // filed under the partnership
  REQUIRE(hcc.Sync().ok());
  REQUIRE(wccs.Sync().ok());
  REQUIRE(hcc.Sync().ok());

  // One figure, not 12; the owners' disagreement is a conflict for the coordinator.
  CHECK(Row(Report(f, cleo), "pc_channel_referrals")["values"]["Q3"] == 7.0);
  server::ApiResponse conflicts = f.api->Handle({"GET", "/v1/conflicts", "", cleo.Bearer()});
  REQUIRE(conflicts.status == 200);
  bool found = false;
  for (const auto& c : conflicts.body["conflicts"]) {
    if (c["record_id"] == a && c["field"] == "value") {
      found = true;
      CHECK(c["kept"] == 7);
      CHECK(c["lost"] == 5);
    }
  }
  CHECK(found);
  // Both owners' tablets hold the same record; a lead of another org does not see it.
  CHECK(hcc.Visible().at(a) == wccs.Visible().at(a));
  REQUIRE(police.Sync().ok());
  CHECK(police.Visible().count(a) == 0);
  // The other owner may correct the shared figure; the edit reaches everyone.
  early.Advance(120'000);
  REQUIRE(hcc.store->Edit(a, {{"value", 6}}, std::nullopt).ok());
  REQUIRE(hcc.Sync().ok());
  CHECK(Refusal(hcc, a).empty());
  CHECK(Row(Report(f, cleo), "pc_channel_referrals")["values"]["Q3"] == 6.0);
}

TEST_CASE("a non-owner's return is refused on the device and on the server, naming the rule") {
  SyncFixture f;
  Device police = f.Enrol("pat", "police", "partner_lead");
  Device cleo = f.Enrol("cleo", "csp", "coordinator");
  std::string id;
  Status s = TryLog(police, "indicator_return", Return("pc_channel_referrals", "Q3", 5), &id);
  CHECK(s.IsInvalidArgument());
  CHECK(s.message().find("Police is not an owner of 'Number of referrals to Channel Panel'") !=
        std::string::npos);
  Loosen(police);
  REQUIRE(TryLog(police, "indicator_return", Return("pc_channel_referrals", "Q3", 5), &id).ok());
  REQUIRE(police.Sync().ok());
  CHECK(Refusal(police, id).find("Police is not an owner") != std::string::npos);
  CHECK(f.ServerRecords().count(id) == 0);
  CHECK(Row(Report(f, cleo), "pc_channel_referrals")["values"]["Q3"].is_null());

  // A return created already deleted is held to the same rules: a non-owner cannot take the
  // partnership's Q2 figure (a delete is final) and keep its owners from entering it.
  {
    json fields = Return("pc_channel_referrals", "Q2", 1);
    std::string shared_id = *NaturalKeyId(f.forms, "indicator_return", fields, "csp");
    const Identity& me = police.store->identity();
    HlcStamp t = HybridClock::FromPhysical(SystemClock::Default()->NowMs());
    RecordState squat;
    squat.id = shared_id;
    squat.form = "indicator_return";
    squat.form_version = 2;
    squat.org = "csp";
    squat.author = me.user;
    squat.device = me.device_id;
    squat.occurred_at = Register{"2023-07-02T12:00:00Z", t, me.device_id, 0};
    squat.deleted = Register{true, t, me.device_id, 0};
    for (const auto& [k, v] : fields.items()) squat.fields[k] = Register{v, t, me.device_id, 0};
    json change = squat.ToJson(true);
    change["change_id"] = NewUuid();
    json body = {{"batch_id", NewUuid()}, {"changes", json::array({change})}};
    server::ApiResponse r = f.api->Handle({"POST", "/v1/push", body.dump(), police.Bearer()});
    REQUIRE(r.status == 200);
    CHECK(r.body["results"][0]["status"] == "rejected");
    CHECK(r.body["results"][0]["reason"].get<std::string>().find("Police is not an owner") !=
          std::string::npos);
    CHECK(f.ServerRecords().count(shared_id) == 0);
  }

  // Only the coordinator enters a return for another organisation.
  json shared = Return("pc_vru_referrals", "Q3", 2);
  shared["entered_for"] = "opcc";
  Device pam = f.Enrol("pam", "police", "partner_lead");
  s = TryLog(pam, "indicator_return", shared, &id);
  CHECK(s.message().find("only the coordinator enters a return on another organisation's") !=
        std::string::npos);

  // The coordinator enters a `sum` return on its owner's behalf: filed under the owner, and the
  // audit says so. Without saying for whom, it is refused.
  json ret = Return("pc_housing_drug_interventions", "Q3", 4);
  s = TryLog(cleo, "indicator_return", ret, &id);
  CHECK(s.message().find("say which owner") != std::string::npos);
  ret["entered_for"] = "wcc_housing";
  REQUIRE(TryLog(cleo, "indicator_return", ret, &id).ok());
  REQUIRE(cleo.Sync().ok());
  CHECK(Refusal(cleo, id).empty());
  RecordState r;
  REQUIRE(RecordState::FromJson(f.ServerRecords().at(id), &r).ok());
  CHECK(r.org == "wcc_housing");
  CHECK(r.author == "cleo");
  std::vector<server::AuditEvent> events;
  REQUIRE(f.central->ReadAudit({0, "cleo", "", "push", 10}, &events).ok());
  REQUIRE(!events.empty());
  CHECK(events.back().detail["on_behalf"][0]["for"] == "wcc_housing");
  // ... and the owner's lead sees the return entered for them.
  Device housing = f.Enrol("hana", "wcc_housing", "partner_lead");
  REQUIRE(housing.Sync().ok());
  CHECK(housing.Visible().count(id) == 1);
}

TEST_CASE("a code limited to one org, and forms limited to their writers") {
  SyncFixture f;
  Device pastor = f.Enrol("sam", "street_pastors", "field_worker");
  Device officer = f.Enrol("pc", "police", "field_worker");
  Device cleo = f.Enrol("cleo", "csp", "coordinator");
  json fortress = {{"place", "Stanmore"}, {"patrol_type", "op_fortress"}};
  std::string id;
  Status s = TryLog(pastor, "patrol", fortress, &id);
  CHECK(s.IsInvalidArgument());
  CHECK(s.message().find(
            "'Op Fortress (drug networks)' (Type of patrol) may be recorded by Police only") !=
        std::string::npos);
  // A Street Pastor logs no enforcement actions; a police officer logs no outreach contacts.
  s = TryLog(pastor, "enforcement_action", {{"action", "cpw"}}, &id);
  CHECK(s.message().find("Street Pastors does not log 'Enforcement action'") != std::string::npos);
  s = TryLog(officer, "outreach_contact",
             {{"place", "High St"}, {"age_band", "18_24"}, {"safeguarding_concern", false}}, &id);
  CHECK(s.message().find("Police does not log 'Outreach contact'") != std::string::npos);

  REQUIRE(TryLog(officer, "patrol", fortress, &id).ok());
  REQUIRE(officer.Sync().ok());
  Loosen(pastor);
  std::string forged;
  REQUIRE(TryLog(pastor, "patrol", fortress, &forged).ok());
  REQUIRE(pastor.Sync().ok());
  CHECK(Refusal(pastor, forged).find("may be recorded by Police only") != std::string::npos);
  CHECK(Row(Report(f, cleo), "pc_op_fortress_operations")["values"]["Q3"] == 1.0);
}

TEST_CASE("an absurd figure is stored only when confirmed, and listed as unusual") {
  SyncFixture f;
  Device lead = f.Enrol("pat", "police", "partner_lead");
  Device cleo = f.Enrol("cleo", "csp", "coordinator");
  std::string id;
  REQUIRE(TryLog(lead, "indicator_return", Return("pc_cpi_forms", "Q1", 10), &id).ok());
  REQUIRE(TryLog(lead, "indicator_return", Return("pc_cpi_forms", "Q2", 12), &id).ok());
  // Above the most the catalogue expects, whatever the history.
  Status s = TryLog(lead, "indicator_return", Return("pc_cpi_forms", "Q3", 99999999), &id);
  CHECK(s.IsInvalidArgument());
  CHECK(s.message().find("above 10000") != std::string::npos);
  CHECK(s.message().find("--confirm-unusual") != std::string::npos);
  // More than five times the largest of the last quarters.
  s = TryLog(lead, "indicator_return", Return("pc_cpi_forms", "Q3", 61), &id);
  CHECK(s.message().find(
            "61 is more than 5 times the largest figure of the 2 quarters before (12)") !=
        std::string::npos);
  REQUIRE(TryLog(lead, "indicator_return", Return("pc_cpi_forms", "Q3", 60), &id).ok());
  json confirmed = Return("pc_cpi_forms", "Q4", 900);
  confirmed["unusual_confirmed"] = true;
  REQUIRE(TryLog(lead, "indicator_return", confirmed, &id, "2024-04-02T12:00:00+01:00").ok());
  // A confirmation stands for its figure only: changing the figure asks again.
  Status again = lead.store->Edit(id, {{"value", 2000}}, std::nullopt);
  CHECK(again.IsInvalidArgument());
  CHECK(again.message().find("more than 5 times") != std::string::npos);
  REQUIRE(lead.Sync().ok());
  CHECK(Refusal(lead, id).empty());

  // The server checks too: a device without the limits is refused.
  Device old = f.Enrol("pip", "police", "partner_lead");
  REQUIRE(old.Sync().ok());
  Loosen(old);
  std::string forged;
  REQUIRE(TryLog(old, "indicator_return", Return("pc_cpi_forms", "Q2", 99999999), &forged).ok());
  REQUIRE(old.Sync().ok());
  CHECK(Refusal(old, forged).find("above 10000") != std::string::npos);
  json report = Report(f, cleo);
  CHECK(Row(report, "pc_cpi_forms")["values"]["Q2"] == 12.0);

  // The confirmed figure is listed for the coordinator and warned about before approval.
  REQUIRE(report["unusual"].size() == 1);
  CHECK(report["unusual"][0]["quarter"] == "Q4");
  CHECK(report["unusual"][0]["value"] == 900.0);
  server::ApiResponse approved =
      f.api->Handle({"POST", "/v1/approve", R"({"fy": 2023, "quarter": "Q4"})", cleo.Bearer()});
  REQUIRE(approved.status == 200);
  bool warned = false;
  for (const auto& w : approved.body["warnings"]) {
    warned |= w.get<std::string>().find("unusual figure: Number of CPIs forms (Drug intel) Q4") !=
              std::string::npos;
  }
  CHECK(warned);
}

TEST_CASE("dates in the future or before the plan's first year are refused") {
  SyncFixture f;
  Device amy = f.Enrol("amy", "street_pastors", "field_worker");
  Device lead = f.Enrol("pat", "police", "partner_lead");
  json contact = {{"place", "High St"}, {"age_band", "18_24"}, {"safeguarding_concern", false}};
  std::string id;
  Status s = TryLog(amy, "outreach_contact", contact, &id, "2030-01-01T12:00:00Z");
  CHECK(s.message().find("is in the future") != std::string::npos);
  s = TryLog(amy, "outreach_contact", contact, &id, "2023-03-31T12:00:00+01:00");
  CHECK(s.message().find("before 1 April 2023") != std::string::npos);
  json late = Return("pc_cpi_forms", "Q1", 3);
  late["fy"] = 2030;
  s = TryLog(lead, "indicator_return", late, &id);
  CHECK(s.message().find("Q1 of 2030/31 has not started yet") != std::string::npos);
  late["fy"] = 2019;
  s = TryLog(lead, "indicator_return", late, &id);
  CHECK(s.message().find("before the first year the plan reports (2023/24)") != std::string::npos);
  // The server refuses them from a device that does not know the first year.
  Loosen(lead);
  REQUIRE(TryLog(lead, "indicator_return", late, &id).ok());
  std::string early;
  Loosen(amy);
  REQUIRE(TryLog(amy, "outreach_contact", contact, &early, "2021-06-01T12:00:00Z").ok());
  REQUIRE(lead.Sync().ok());
  REQUIRE(amy.Sync().ok());
  CHECK(Refusal(lead, id).find("before the first year") != std::string::npos);
  CHECK(Refusal(amy, early).find("before 1 April 2023") != std::string::npos);
}

TEST_CASE("what is still owed: due before the due date, owed after, per owner, with the rate") {
  SyncFixture f;
  // The server and the tablets live on 10 July 2023.
  std::int64_t july10 = 0;
  REQUIRE(ParseIsoDateTime("2023-07-10T12:00:00+01:00", &july10).ok());
  ManualClock clock(july10);
  f.UseServerClock(&clock);
  Device police = f.Enrol("pat", "police", "partner_lead", nullptr, &clock);
  Device worker = f.Enrol("amy", "police", "field_worker", nullptr, &clock);
  Device cleo = f.Enrol("cleo", "csp", "coordinator", nullptr, &clock);
  std::string id;
  // Entered in July: the police's Q1 CPI figure, on time (due 20 July).
  REQUIRE(TryLog(police, "indicator_return", Return("pc_cpi_forms", "Q1", 4), &id,
                 "2023-07-10T12:00:00+01:00")
              .ok());
  REQUIRE(police.Sync().ok());
  auto owed_at = [&](const std::string& when, const std::string& org) {
    std::int64_t now = 0;
    REQUIRE(ParseIsoDateTime(when, &now).ok());
    json owed;
    REQUIRE(
        server::AssembleOwed(f.central.get(), f.forms.returns(), 2023, 1, now, org, &owed).ok());
    return owed;
  };
  auto state_of = [](const json& owed, const std::string& indicator, const std::string& org) {
    for (const auto& i : owed["items"]) {
      if (i["indicator"] == indicator && i["org"] == org) return i;
    }
    return json();
  };
  // Before Q1 ends nothing is expected; before the due date it is due; after it, owed.
  CHECK(owed_at("2023-06-20T12:00:00+01:00", "police")["items"].empty());
  json july = owed_at("2023-07-15T12:00:00+01:00", "police");
  CHECK(state_of(july, "pc_cpi_forms", "police")["state"] == "entered");
  CHECK(state_of(july, "pc_fat_violence_injury", "police")["state"] == "due");
  CHECK(state_of(july, "pc_fat_violence_injury", "police")["due"] == "2023-07-20");
  json august = owed_at("2023-08-01T12:00:00+01:00", "");
  CHECK(state_of(august, "pc_fat_violence_injury", "police")["state"] == "owed");
  CHECK(state_of(august, "pc_housing_drug_interventions", "wcc_housing")["state"] == "owed");
  CHECK(august["by_org"]["police"]["entered"] == 1);
  CHECK(august["by_org"]["police"]["owed"].get<int>() > 1);
  // The reporting rate counts figures: the one entered on time of those expected.
  CHECK(august["rates"]["Q1"]["on_time"] == 1);
  CHECK(august["rates"]["Q1"]["expected"].get<int>() > 20);

  // Over the API: a partner lead sees their own org's, a field worker nothing, the coordinator
  // everyone's (and any one org's).
  server::ApiResponse mine =
      f.api->Handle({"GET", "/v1/owed?fy=2023&quarter=Q1", "", police.Bearer()});
  REQUIRE(mine.status == 200);
  std::set<std::string> orgs;
  for (const auto& i : mine.body["items"]) orgs.insert(i["org"].get<std::string>());
  CHECK(orgs == std::set<std::string>{"police"});
  CHECK(f.api->Handle({"GET", "/v1/owed?fy=2023&org=stop", "", police.Bearer()}).status == 403);
  CHECK(f.api->Handle({"GET", "/v1/owed?fy=2023", "", worker.Bearer()}).status == 403);
  server::ApiResponse all = f.api->Handle({"GET", "/v1/owed?fy=2023", "", cleo.Bearer()});
  REQUIRE(all.status == 200);
  CHECK(all.body["by_org"].size() > 5);
  // The return warns about what is owed before the quarter is approved.
  clock.Set(july10 + 30LL * 86'400'000);
  bool warned = false;
  json q1 = Report(f, cleo, "fy=2023&quarter=Q1");
  for (const auto& w : q1["warnings"]) {
    warned |= w.get<std::string>().find("Police still owes") != std::string::npos;
  }
  CHECK(warned);
}
