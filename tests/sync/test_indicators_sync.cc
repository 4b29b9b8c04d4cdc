// Indicators kept current as records merge through the real API and store, against hand-computed
// figures: edits that move a record between quarters, deletes, distinct people across devices,
// returns entered twice, permission failures, approval and late data.
#include "beatbook/datetime.h"
#include "sync_fixture.h"
#include "sync_server/report/quarterly_return.h"

using namespace beatbook;
using namespace beatbook::test;

namespace {

// Indicator id -> values {"Q1".."Q4", "year"} of the live return, through the coordinator API.
std::map<std::string, json> Figures(SyncFixture& f, Device& coordinator, int fy = 2023) {
  std::string auth = "Bearer " + coordinator.store->identity().device_id + "." +
                     coordinator.store->identity().secret;
  auto r = f.api->Handle({"GET", "/v1/report?fy=" + std::to_string(fy), "", auth});
  REQUIRE(r.status == 200);
  std::map<std::string, json> out;
  for (const auto& row : r.body["report"]["indicators"]) out[row["id"]] = row;
  return out;
}

std::string Auth(Device& d) {
  return "Bearer " + d.store->identity().device_id + "." + d.store->identity().secret;
}

}  // namespace

TEST_CASE("figures follow edits, deletes and quarter moves, and count people once") {
  SyncFixture f;
  Device amy = f.Enrol("amy", "street_pastors", "field_worker");
  Device ben = f.Enrol("ben", "street_pastors", "field_worker");
  Device cleo = f.Enrol("cleo", "csp", "coordinator");
  json contact = {{"place", "Jewry St"},
                  {"age_band", "under_18"},
                  {"safeguarding_concern", false},
                  {"support_given", {"water"}},
                  {"subject_key", std::string(64, 'a')}};
  // The same person met by two Street Pastors in Q1 (one just after midnight on 1 April, BST),
  // and again in Q2.
  amy.Log("outreach_contact", contact, "2024-03-31T23:30:00Z");
  ben.Log("outreach_contact", contact, "2024-05-02T21:00:00+01:00");
  std::string moved = ben.Log("outreach_contact", contact, "2024-07-15T12:00:00+01:00");
  json other = contact;
  other["subject_key"] = std::string(64, 'b');
  std::string gone = amy.Log("outreach_contact", other, "2024-06-30T22:59:00Z");  // 23:59 BST, Q1
  // Just before the year began: 31 March 23:59 BST belongs to 2023/24.
  amy.Log("outreach_contact", contact, "2024-03-31T22:59:00Z");
  REQUIRE(amy.Sync().ok());
  REQUIRE(ben.Sync().ok());
  auto fig = Figures(f, cleo, 2024);
  CHECK(fig["pc_youth_interventions"]["values"]["Q1"] == 3.0);
  CHECK(fig["pc_youth_interventions"]["values"]["Q2"] == 1.0);
  CHECK(fig["pc_street_pastor_interventions"]["values"]["year"] == 4.0);
  CHECK(fig["ql_individuals_supported"]["values"]["Q1"] == 2.0);    // k-1 and k-2
  CHECK(fig["ql_individuals_supported"]["values"]["Q2"] == 1.0);    // k-1
  CHECK(fig["ql_individuals_supported"]["values"]["year"] == 2.0);  // distinct over the year
  // Repeat contacts: k-1 was met twice in Q1 (and again in Q2), k-2 once.
  CHECK(fig["ql_repeat_contacts"]["values"]["Q1"] == 1.0);
  CHECK(fig["ql_repeat_contacts"]["values"]["Q2"] == 0.0);
  CHECK(fig["ql_repeat_contacts"]["values"]["year"] == 1.0);
  CHECK(Figures(f, cleo, 2023)["pc_youth_interventions"]["values"]["Q4"] == 1.0);

  // Move one record from Q2 to Q3, delete another: figures follow, nothing counts twice.
  REQUIRE(ben.store->Edit(moved, json::object(), std::string("2024-10-02T09:00:00+01:00")).ok());
  REQUIRE(amy.store->Delete(gone).ok());
  REQUIRE(ben.Sync().ok());
  REQUIRE(amy.Sync().ok());
  fig = Figures(f, cleo, 2024);
  CHECK(fig["pc_youth_interventions"]["values"]["Q1"] == 2.0);
  CHECK(fig["pc_youth_interventions"]["values"]["Q2"] == 0.0);
  CHECK(fig["pc_youth_interventions"]["values"]["Q3"] == 1.0);
  CHECK(fig["ql_individuals_supported"]["values"]["Q1"] == 1.0);
  CHECK(fig["ql_individuals_supported"]["values"]["year"] == 1.0);
  CHECK(fig["ql_repeat_contacts"]["values"]["Q1"] == 1.0);
  // An edit that takes the record out of the definition (no longer under 18).
  REQUIRE(ben.store->Edit(moved, {{"age_band", "25_34"}}, std::nullopt).ok());
  REQUIRE(ben.Sync().ok());
  CHECK(Figures(f, cleo, 2024)["pc_youth_interventions"]["values"]["Q3"] == 0.0);
  // Percent with n = 0 is null; a survey makes it a figure.
  CHECK(fig["ql_satisfaction_level"]["values"]["Q1"].is_null());
}

TEST_CASE("a return entered on two tablets is one record, and only leads may enter returns") {
  SyncFixture f;
  ManualClock early(SystemClock::Default()->NowMs()), later(SystemClock::Default()->NowMs());
  Device lead1 = f.Enrol("hana", "wcc_housing", "partner_lead", nullptr, &early);
  Device lead2 = f.Enrol("ian", "wcc_housing", "partner_lead", nullptr, &later);
  Device other = f.Enrol("jo", "stop", "partner_lead");
  Device worker = f.Enrol("kim", "wcc_housing", "field_worker");
  Device cleo = f.Enrol("cleo", "csp", "coordinator");
  json ret = {{"indicator", "pc_housing_drug_interventions"},
              {"fy", 2023},
              {"quarter", "Q2"},
              {"value", 4}};
  std::string a = lead1.Log("indicator_return", ret);
  ret["value"] = 6;
  later.Advance(60'000);  // entered a minute later on the second tablet
  std::string b = lead2.Log("indicator_return", ret);
  CHECK(a == b);
  ret["value"] = 10;
  // Only the indicator's owner reports it (WCC Housing's alone), and only a lead: refused on the
  // device, naming the rule.
  std::string id;
  Status not_owner = other.store->Log({"indicator_return", ret, {}, {}, {}, {}, {}}, &id);
  CHECK(not_owner.IsInvalidArgument());
  CHECK(not_owner.message().find("not an owner") != std::string::npos);
  Status not_lead = worker.store->Log({"indicator_return", ret, {}, {}, {}, {}, {}}, &id);
  CHECK(not_lead.IsInvalidArgument());
  CHECK(not_lead.message().find("a field worker does not log 'Indicator return' (it is logged by a "
                                "partner lead or coordinator)") != std::string::npos);
  REQUIRE(lead1.Sync().ok());
  REQUIRE(lead2.Sync().ok());
  REQUIRE(lead1.Sync().ok());
  CHECK(lead1.Visible() == lead2.Visible());  // one record, the same on both tablets
  CHECK(lead1.Visible().size() == 1);
  auto fig = Figures(f, cleo);
  CHECK(fig["pc_housing_drug_interventions"]["values"]["Q2"] == 6.0);  // the later entry
  CHECK(fig["pc_housing_drug_interventions"]["values"]["Q1"].is_null());
  // Who entered a return, and when (the coordinator's drill-down).
  auto explain = f.api->Handle({"GET",
                                "/v1/explain?indicator=pc_housing_drug_interventions&fy=2023&"
                                "quarter=Q2",
                                "", Auth(cleo)});
  REQUIRE(explain.status == 200);
  REQUIRE(explain.body["records"].size() == 1);
  std::set<std::string> orgs;
  for (const auto& r : explain.body["records"]) {
    orgs.insert(r["org"].get<std::string>());
    CHECK(r.contains("entered_by"));
    CHECK(r.contains("at"));
  }
  CHECK(orgs == std::set<std::string>{"wcc_housing"});
  // Field workers and leads cannot read the return or its drill-downs.
  CHECK(f.api->Handle({"GET", "/v1/report?fy=2023", "", Auth(worker)}).status == 403);
  CHECK(f.api->Handle({"GET", "/v1/explain?indicator=pc_closure_orders&fy=2023", "", Auth(lead1)})
            .status == 403);
  CHECK(f.api->Handle({"GET", "/v1/report?fy=twenty", "", Auth(cleo)}).status == 400);
  CHECK(f.api->Handle({"GET", "/v1/report?fy=2023&quarter=Q5", "", Auth(cleo)}).status == 400);
}

TEST_CASE("late data after approval is kept, shown, and taken in by a restatement") {
  SyncFixture f;
  Device pc = f.Enrol("pat", "police", "field_worker");
  Device cleo = f.Enrol("cleo", "csp", "coordinator");
  pc.Log("enforcement_action", {{"action", "closure_order"}}, "2023-05-01T10:00:00+01:00");
  REQUIRE(pc.Sync().ok());
  auto approve = [&] {
    return f.api->Handle({"POST", "/v1/approve", R"({"fy": 2023, "quarter": "Q1"})", Auth(cleo)});
  };
  auto first = approve();
  REQUIRE(first.status == 200);
  CHECK(first.body["kind"] == "approval");
  CHECK(
      f.api->Handle({"POST", "/v1/approve", R"({"fy": 2023, "quarter": "Q1"})", Auth(pc)}).status ==
      403);
  // A late record for Q1 arrives after approval.
  pc.Log("enforcement_action", {{"action", "closure_order"}}, "2023-06-20T10:00:00+01:00");
  REQUIRE(pc.Sync().ok());
  auto fig = Figures(f, cleo);
  CHECK(fig["pc_closure_orders"]["values"]["Q1"] == 1.0);  // as approved
  CHECK(fig["pc_closure_orders"]["late"]["Q1"] == 2.0);    // what it would become
  CHECK(f.ServerRecords().size() == 2);                    // never lost
  auto second = approve();
  CHECK(second.body["kind"] == "restatement");
  fig = Figures(f, cleo);
  CHECK(fig["pc_closure_orders"]["values"]["Q1"] == 2.0);
  CHECK_FALSE(fig["pc_closure_orders"].contains("late"));
  std::vector<Approval> approvals;
  REQUIRE(f.central->Approvals(2023, &approvals).ok());
  REQUIRE(approvals.size() == 2);
  CHECK(approvals[0].user == "cleo");
  CHECK(approvals[1].kind == "restatement");
}

TEST_CASE("the return warns about devices that have not synced since the quarter ended") {
  SyncFixture f;
  std::int64_t june = 0, july = 0;
  REQUIRE(ParseIsoDateTime("2023-06-01T12:00:00Z", &june).ok());
  REQUIRE(ParseIsoDateTime("2023-07-15T12:00:00Z", &july).ok());
  ManualClock server_clock(june);
  f.UseServerClock(&server_clock);
  Device amy = f.Enrol("amy", "police", "field_worker");
  Device ben = f.Enrol("ben", "police", "field_worker");
  Device cleo = f.Enrol("cleo", "csp", "coordinator");
  REQUIRE(amy.Sync().ok());  // in June: before Q1 ended
  server_clock.Set(july);
  REQUIRE(ben.Sync().ok());  // in July: after
  REQUIRE(cleo.Sync().ok());
  json report;
  REQUIRE(
      server::AssembleReturn(f.central.get(), f.catalogue, 2023, std::nullopt, july, &report).ok());
  REQUIRE(report["warnings"].size() == 1);
  std::string w = report["warnings"][0];
  CHECK(w.find(amy.store->identity().device_id) != std::string::npos);
  CHECK(w.find("has not synced since Q1 ended") != std::string::npos);
}
