// The return rules of catalogue version 2 (beatbook/return_rules.h): owners and combine as data,
// due dates in London time, the unusual-figure thresholds, what is owed, and the "seen before"
// count a device shows.
#include <doctest/doctest.h>

#include "beatbook/datetime.h"
#include "beatbook/form.h"
#include "beatbook/record.h"
#include "support/record_states.h"
#include "support/schema_dir.h"

using namespace beatbook;

namespace {

std::int64_t At(const std::string& iso) {
  std::int64_t ms = 0;
  REQUIRE(ParseIsoDateTime(iso, &ms).ok());
  return ms;
}

}  // namespace

TEST_CASE("return rules come from the catalogue: owners, combine, due dates") {
  FormSet forms;
  REQUIRE(FormSet::LoadDir(test::SchemaDir(), &forms).ok());
  const ReturnRules& rules = forms.returns();
  CHECK(rules.first_fy() == 2023);
  CHECK(rules.partnership_org() == "csp");
  CHECK(rules.rules().size() == 27);  // 22 returns and 5 milestones
  const ReturnRule* housing = rules.Find("pc_housing_drug_interventions");
  REQUIRE(housing);
  CHECK(housing->combine == Combine::kSum);
  CHECK(housing->owners == std::set<std::string>{"wcc_housing"});
  const ReturnRule* channel = rules.Find("pc_channel_referrals");
  REQUIRE(channel);
  CHECK(channel->combine == Combine::kOne);
  CHECK(rules.RecordOrg(*channel, "hcc") == "csp");
  CHECK(rules.RecordOrg(*housing, "wcc_housing") == "wcc_housing");
  // Q1 ends on 30 June; due 20 days later; owed from midnight (BST) after 20 July.
  CHECK(rules.DueMs(*channel, {2023, 1}) == At("2023-07-21T00:00:00+01:00"));
  // Q3 ends on 31 December; owed from midnight (GMT) after 20 January.
  CHECK(rules.DueMs(*channel, {2023, 3}) == At("2024-01-21T00:00:00Z"));
  // Each milestone and return has at least one owner among the org codes.
  const std::vector<Choice>* orgs = forms.List("org");
  REQUIRE(orgs);
  for (const auto& [id, rule] : rules.rules()) {
    CAPTURE(id);
    CHECK(!rule.owners.empty());
    for (const auto& o : rule.owners) {
      bool known = false;
      for (const auto& c : *orgs) known |= c.code == o;
      CHECK_MESSAGE(known, o);
    }
  }
  // The rules travel with the forms to the device and back unchanged.
  FormSet copy;
  REQUIRE(FormSet::FromJson(forms.ToJson(), &copy).ok());
  CHECK(copy.returns().ToJson() == rules.ToJson());
  // A partnership figure's id has no org; a per-owner one keeps version 1's.
  json key = {{"indicator", "pc_channel_referrals"}, {"fy", 2023}, {"quarter", "Q3"}};
  CHECK(*NaturalKeyId(forms, "indicator_return", key, "hcc") ==
        *NaturalKeyId(forms, "indicator_return", key, "csp"));
  key["indicator"] = "pc_housing_drug_interventions";
  CHECK(*NaturalKeyId(forms, "indicator_return", key, "wcc_housing") !=
        *NaturalKeyId(forms, "indicator_return", key, "csp"));
}

TEST_CASE("unusual figures: above the most expected, or far above the owner's history") {
  FormSet forms;
  REQUIRE(FormSet::LoadDir(test::SchemaDir(), &forms).ok());
  const ReturnRules& rules = forms.returns();
  const ReturnRule& cpi = *rules.Find("pc_cpi_forms");
  CHECK(WhyUnusual(rules, cpi, 99999999, {}) != "");
  CHECK(WhyUnusual(rules, cpi, 10000, {}) == "");
  CHECK(WhyUnusual(rules, cpi, 60, {12, 3}) == "");  // five times 12
  CHECK(WhyUnusual(rules, cpi, 61, {12, 3}) != "");
  // After zeros, a first few are usual; more than five is not.
  CHECK(WhyUnusual(rules, cpi, 5, {0, 0, 0}) == "");
  CHECK(WhyUnusual(rules, cpi, 6, {0, 0, 0}) != "");
  // Grant funding is counted in pounds: its own maximum.
  CHECK(WhyUnusual(rules, *rules.Find("pc_vawg_funding"), 250000, {}) == "");
}

TEST_CASE("what is owed: nothing before a quarter ends, due, owed, entered and on time") {
  FormSet forms;
  REQUIRE(FormSet::LoadDir(test::SchemaDir(), &forms).ok());
  const ReturnRules& rules = forms.returns();
  std::vector<EnteredReturn> entered = {
      {"pc_cpi_forms", "csp", 1, At("2023-07-19T10:00:00+01:00")},  // `one`: the partnership's
      {"pc_fat_violence_injury", "csp", 1, At("2023-07-25T10:00:00+01:00")}};
  CHECK(OwedItems(rules, 2023, 1, entered, At("2023-06-30T12:00:00+01:00"), "police").empty());
  auto items = OwedItems(rules, 2023, 1, entered, At("2023-08-01T12:00:00+01:00"), "police");
  std::map<std::string, OwedItem> by;
  for (const auto& i : items) by[i.indicator] = i;
  CHECK(by.at("pc_cpi_forms").state == "entered");
  CHECK(by.at("pc_cpi_forms").on_time);
  CHECK(by.at("pc_fat_violence_injury").state == "entered");
  CHECK(!by.at("pc_fat_violence_injury").on_time);
  CHECK(by.at("pc_vawg_reports").state == "owed");
  CHECK(by.count("pc_housing_drug_interventions") == 0);  // not the police's
  json doc = OwedJson(2023, items, At("2023-08-01T12:00:00+01:00"));
  CHECK(doc["by_org"]["police"]["entered"] == 2);
  CHECK(doc["rates"]["Q1"]["on_time"] == 1);
  CHECK(RenderOwed(doc).find("OWED Q1 2023/24") != std::string::npos);
  // Years before the plan's first expect nothing.
  CHECK(OwedItems(rules, 2022, std::nullopt, {}, At("2024-01-01T00:00:00Z")).empty());
}

TEST_CASE("seen before counts earlier contacts with one person this financial year only") {
  HlcStamp t = HybridClock::FromPhysical(1'700'000'000'000);
  std::string key(64, 'a');
  auto contact = [&](const std::string& id, const std::string& when, const std::string& who) {
    return test::NewRecord(test::Envelope(id, "outreach_contact", "street_pastors", "amy", "d"), t,
                           when, {{"subject_key", who}});
  };
  std::vector<RecordState> records = {
      contact("a", "2024-04-02T10:00:00Z", key), contact("b", "2024-09-02T10:00:00Z", key),
      contact("c", "2024-03-30T10:00:00Z", key),  // the year before
      contact("d", "2024-05-02T10:00:00Z", std::string(64, 'b')),
      contact("e", "2024-10-01T10:00:00Z", key)};  // the one being entered
  CHECK(CountSeenBefore(records, "subject_key", key, At("2024-10-01T10:00:00Z"), "e") == 2);
  CHECK(CountSeenBefore(records, "subject_key", "", At("2024-10-01T10:00:00Z"), "e") == 0);
}
