// The catalogue as data, what records contribute, and the report built from totals, against
// hand-computed figures.
#include <doctest/doctest.h>

#include "beatbook/datetime.h"
#include "beatbook/indicators.h"
#include "beatbook/report.h"
#include "support/schema_dir.h"

using namespace beatbook;

namespace {

const Catalogue& Cat() {
  static Catalogue cat = [] {
    Catalogue c;
    Status s = Catalogue::LoadFile(test::SchemaDir() + "/indicators.json", &c);
    REQUIRE_MESSAGE(s.ok(), s.ToString());
    return c;
  }();
  return cat;
}

RecordState Make(const std::string& form, const json& fields, const std::string& occurred_at,
                 const std::string& org = "police", bool deleted = false) {
  RecordState s;
  s.id = "r-" + std::to_string(reinterpret_cast<std::uintptr_t>(&fields) % 100000);
  s.form = form;
  s.form_version = 1;
  s.org = org;
  s.author = "amy";
  s.device = "dev-a";
  s.occurred_at = Register{occurred_at, 1, "dev-a", 0};
  s.deleted = Register{deleted, 1, "dev-a", 0};
  for (const auto& [k, v] : fields.items()) s.fields[k] = Register{v, 1, "dev-a", 0};
  return s;
}

std::map<std::string, Contribution> ById(const std::vector<Contribution>& cs) {
  std::map<std::string, Contribution> out;
  for (const auto& c : cs) out[c.indicator] = c;
  return out;
}

}  // namespace

TEST_CASE("the catalogue holds the 48 indicators of the data dictionary, version 2") {
  const Catalogue& cat = Cat();
  CHECK(cat.version() == 2);
  CHECK(cat.first_fy() == 2023);
  CHECK(cat.indicators().size() == 48);
  std::map<IndicatorKind, int> kinds;
  for (const auto& i : cat.indicators()) {
    kinds[i.kind]++;
    CHECK(cat.FindAim(i.aim) != nullptr);
  }
  CHECK(kinds[IndicatorKind::kReturn] == 22);
  CHECK(kinds[IndicatorKind::kMilestone] == 5);
  CHECK(kinds[IndicatorKind::kCount] == 13);
  CHECK(kinds[IndicatorKind::kSum] == 4);
  CHECK(kinds[IndicatorKind::kDistinct] == 2);
  CHECK(kinds[IndicatorKind::kRepeat] == 1);
  CHECK(kinds[IndicatorKind::kPercent] == 1);
  CHECK(cat.Find("ql_satisfaction_level")->kind == IndicatorKind::kPercent);
  CHECK(cat.Find("da_protection_powers")->definition.form == "enforcement_action");
}

TEST_CASE("periods follow the financial year in London time across BST") {
  std::int64_t ms = 0;
  auto period = [&](const char* iso) {
    REQUIRE(ParseIsoDateTime(iso, &ms).ok());
    Period p = PeriodOf(ms);
    return std::make_pair(p.fy, p.quarter);
  };
  CHECK(period("2023-03-31T23:30:00Z") == std::make_pair(2023, 1));  // 1 April 00:30 BST
  CHECK(period("2023-03-31T22:59:00Z") == std::make_pair(2022, 4));  // 31 March 23:59 BST
  CHECK(period("2024-03-31T22:30:00Z") == std::make_pair(2023, 4));  // 31 March 23:30 BST
  CHECK(period("2023-06-30T23:30:00Z") == std::make_pair(2023, 2));  // 1 July 00:30 BST
  CHECK(period("2023-12-31T23:30:00Z") == std::make_pair(2023, 3));  // GMT: still December
  CHECK(period("2024-01-01T00:00:00Z") == std::make_pair(2023, 4));
  CHECK(FormatIsoUtc(QuarterStartMs(2023, 1)) == "2023-03-31T23:00:00Z");
  CHECK(FormatIsoUtc(QuarterStartMs(2023, 4)) == "2024-01-01T00:00:00Z");
}

TEST_CASE("each kind's contribution matches its definition") {
  const Catalogue& cat = Cat();
  auto c = ById(ContributionsOf(cat, Make("outreach_contact",
                                          {{"place", "x"},
                                           {"age_band", "under_18"},
                                           {"safeguarding_concern", false},
                                           {"issues", {"domestic_abuse", "substance_misuse"}},
                                           {"referrals", {"stop", "refuge", "gp"}},
                                           {"subject_key", "k1"}},
                                          "2023-05-01T12:00:00+01:00", "street_pastors")));
  CHECK(c.at("pc_youth_interventions").value == 1);
  CHECK(c.at("da_referrals_support").value == 2);       // stop and refuge, not gp
  CHECK(c.at("pc_drug_support_referrals").value == 3);  // all picks
  CHECK(c.at("ql_referrals_support").value == 3);
  CHECK(c.at("ql_individuals_supported").key == "k1");
  CHECK(c.at("pc_street_pastor_interventions").value == 1);
  CHECK(c.at("pc_youth_interventions").fy == 2023);
  CHECK(c.at("pc_youth_interventions").quarter == 1);
  // Another org's contact is not a Street Pastor intervention; no referrals, no support: not an
  // individual supported.
  auto d = ById(ContributionsOf(cat, Make("outreach_contact",
                                          {{"place", "x"},
                                           {"age_band", "25_34"},
                                           {"safeguarding_concern", false},
                                           {"subject_key", "k2"}},
                                          "2023-05-01T12:00:00Z", "street_reach")));
  CHECK(d.count("pc_street_pastor_interventions") == 0);
  CHECK(d.count("ql_individuals_supported") == 0);
  CHECK(d.count("pc_youth_interventions") == 0);
  auto s = ById(ContributionsOf(
      cat, Make("satisfaction_survey", {{"respondent_type", "resident"}, {"satisfaction", 3}},
                "2023-08-01T12:00:00Z")));
  CHECK(s.at("ql_satisfaction_level").n == 1);
  CHECK(s.at("ql_satisfaction_level").value == 0);
  CHECK(s.at("ql_satisfaction_surveys").value == 1);
  auto e =
      ById(ContributionsOf(cat, Make("enforcement_action", {{"action", "clares_law_disclosure"}},
                                     "2023-10-01T12:00:00Z")));
  CHECK(e.at("da_protection_powers").quarter == 3);
  CHECK(e.count("ql_asb_powers") == 0);
  // Deleted records count nowhere.
  CHECK(ContributionsOf(cat, Make("enforcement_action", {{"action", "cpw"}}, "2023-10-01T12:00:00Z",
                                  "police", true))
            .empty());
  // A partner return counts in the period it names, not when it was entered.
  auto r = ContributionsOf(
      cat, Make("indicator_return",
                {{"indicator", "da_op_foundation"}, {"fy", 2022}, {"quarter", "Q4"}, {"value", 7}},
                "2023-06-01T12:00:00Z"));
  REQUIRE(r.size() == 1);
  CHECK((r[0].fy == 2022 && r[0].quarter == 4 && r[0].value == 7));
  auto m = ContributionsOf(cat, Make("indicator_return",
                                     {{"indicator", "pc_service_gaps"},
                                      {"fy", 2023},
                                      {"quarter", "Q2"},
                                      {"status", "complete"}},
                                     "2023-06-01T12:00:00Z"));
  REQUIRE(m.size() == 1);
  CHECK(m[0].status == "complete");
}

TEST_CASE("the report: year totals, percent with n = 0, milestones and returns") {
  const Catalogue& cat = Cat();
  ReportInput in;
  in.fy = 2023;
  in.figures = {
      {"pc_closure_orders", 2023, 1, 2, 0, 2, ""},
      {"pc_closure_orders", 2023, 3, 1, 0, 1, ""},
      {"ql_satisfaction_level", 2023, 1, 3, 4, 4, ""},  // 3 of 4 satisfied
      {"ql_satisfaction_level", 2023, 2, 0, 1, 1, ""},  // 0 of 1
      {"ql_individuals_supported", 2023, 1, 2, 0, 0, ""},
      {"ql_individuals_supported", 2023, 2, 1, 0, 0, ""},
      {"ql_individuals_supported", 2023, 0, 2, 0, 0, ""},  // the same person in Q1 and Q2
      {"da_op_foundation", 2023, 2, 5, 0, 1, ""},
      {"pc_service_gaps", 2023, 1, 0, 0, 1, "in_progress"},
      {"pc_service_gaps", 2023, 3, 0, 0, 1, "complete"},
  };
  in.previous = {{"pc_closure_orders", 2022, 1, 5, 0, 5, ""},
                 {"pc_closure_orders", 2022, 4, 1, 0, 1, ""}};
  json report = BuildReport(cat, in);
  std::map<std::string, json> rows;
  for (const auto& r : report["indicators"]) rows[r["id"]] = r;
  CHECK(report["indicators"].size() == 48);
  json v = rows["pc_closure_orders"]["values"];
  CHECK(v == json({{"Q1", 2.0}, {"Q2", 0.0}, {"Q3", 1.0}, {"Q4", 0.0}, {"year", 3.0}}));
  // Closure orders: the plan wants more (direction increase).
  CHECK(rows["pc_closure_orders"]["trend"]["Q1"]["vs_previous_quarter"] == "better");  // 1 -> 2
  CHECK(rows["pc_closure_orders"]["trend"]["Q1"]["vs_same_quarter_last_year"] ==
        "worse");  // 5 -> 2
  CHECK(rows["pc_closure_orders"]["trend"]["Q2"]["vs_previous_quarter"] == "worse");
  json p = rows["ql_satisfaction_level"];
  CHECK(p["values"]["Q1"] == 75.0);
  CHECK(p["values"]["Q2"] == 0.0);
  CHECK(p["values"]["Q3"].is_null());  // n = 0
  CHECK(p["values"]["year"] == 60.0);  // 3 of 5
  CHECK(p["n"]["year"] == 5.0);
  CHECK(rows["ql_individuals_supported"]["values"]["year"] == 2.0);  // distinct over the year
  CHECK(rows["da_op_foundation"]["values"]["Q1"].is_null());
  CHECK(rows["da_op_foundation"]["values"]["Q2"] == 5.0);
  CHECK(rows["da_op_foundation"]["values"]["year"] == 5.0);
  CHECK(rows["pc_service_gaps"]["values"]["Q2"].is_null());
  CHECK(rows["pc_service_gaps"]["values"]["year"] == "complete");
  CHECK(rows["ql_asb_powers"]["values"]["Q4"] == 0.0);  // no records: 0 for a count
  std::string csv = RenderCsv(report);
  CHECK(csv.rfind("id,priority,aim,label,kind,direction,Q1,Q2,Q3,Q4,year\r\n", 0) == 0);
  CHECK(csv.find("pc_closure_orders,pc,") != std::string::npos);
  CHECK(csv.find(",2,0,1,0,3\r\n") != std::string::npos);
  std::string table = RenderTable(cat, report);
  CHECK(table.find("Quality of Life") != std::string::npos);
  CHECK(table.find("75%") != std::string::npos);
}

TEST_CASE("an approved quarter stays frozen, and a late change is shown beside it") {
  const Catalogue& cat = Cat();
  ReportInput before;
  before.fy = 2023;
  before.figures = {{"pc_closure_orders", 2023, 1, 2, 0, 2, ""}};
  Approval a;
  a.fy = 2023;
  a.quarter = 1;
  a.kind = "approval";
  a.user = "cleo";
  a.report = BuildReport(cat, before);
  ReportInput after = before;
  after.figures = {{"pc_closure_orders", 2023, 1, 3, 0, 3, ""}};  // a late record
  after.approvals = {a};
  json report = BuildReport(cat, after);
  for (const auto& r : report["indicators"]) {
    if (r["id"] != "pc_closure_orders") continue;
    CHECK(r["values"]["Q1"] == 2.0);
    CHECK(r["late"]["Q1"] == 3.0);
    CHECK(r["approved"]["Q1"] == true);
  }
  CHECK(report["approvals"][0]["user"] == "cleo");
}
