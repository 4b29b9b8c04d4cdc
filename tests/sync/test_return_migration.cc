// Catalogue version 2 on a store the first quarter filled under version 1: returns that now have
// one figure for the partnership move to its record (owners' disagreements become conflicts),
// approved quarters keep their figures, and the return says which version each quarter was
// reported under (report/return_migration.h, docs/indicators.md).
#include <fstream>

#include "beatbook/indicators.h"
#include "support/process.h"
#include "support/record_states.h"
#include "support/temp_dir.h"
#include "sync_server/report/quarterly_return.h"
#include "sync_server/report/return_migration.h"
#include "sync_server/store/sql_central_store.h"

using namespace beatbook;
using namespace beatbook::test;
using nlohmann::json;

namespace {

// The catalogue as version 1 had it: no owners, every return per org, and version 1's count of
// youth interventions (any contact under 18).
json VersionOneCatalogue() {
  std::ifstream in(SchemaDir() + "/indicators.json");
  json doc = json::parse(in);
  doc["catalogue_version"] = 1;
  json kept = json::array();
  for (auto ind : doc["indicators"]) {
    if (ind.value("added_in", 0) == 2) continue;
    for (const char* key : {"owners", "combine", "changed_in", "added_in", "at_least"}) {
      ind.erase(key);
    }
    if (ind["id"] == "pc_youth_interventions") {
      ind["definition"] = {{"form", "outreach_contact"},
                           {"where", {{{"field", "age_band"}, {"equals", "under_18"}}}}};
    }
    kept.push_back(ind);
  }
  doc["indicators"] = kept;
  return doc;
}

json Values(const json& report, const std::string& id, const char* what = "values") {
  for (const auto& row : report["indicators"]) {
    if (row["id"] == id) return row.value(what, json());
  }
  return json();
}

}  // namespace

TEST_CASE("version 2 moves shared returns to the partnership's record and keeps approved figures") {
  TempDir dir;
  std::unique_ptr<server::SqlCentralStore> store;
  REQUIRE(server::SqlCentralStore::OpenSqlite(dir / "server", &store).ok());
  json v1doc = VersionOneCatalogue();
  Catalogue v1, v2;
  REQUIRE(Catalogue::FromJson(v1doc, &v1).ok());
  REQUIRE(Catalogue::LoadFile(SchemaDir() + "/indicators.json", &v2).ok());
  FormSet v2forms, v1forms;
  REQUIRE(FormSet::LoadDir(SchemaDir(), &v2forms).ok());
  json forms_doc = v2forms.ToJson();
  ReturnRules v1rules;
  REQUIRE(ReturnRules::FromCatalogueJson(v1doc, &v1rules).ok());
  forms_doc["returns"] = v1rules.ToJson();
  REQUIRE(FormSet::FromJson(forms_doc, &v1forms).ok());

  // Q3 2023/24 under version 1: police and CSP each entered the Channel Panel figure (5 and 5,
  // summed to 10); HCC and CSP disagreed on VRU referrals (3, then 4); WCC Housing reported its
  // own interventions; a contact with someone under 18 who got no support counted as a youth
  // intervention.
  HlcStamp t = HybridClock::FromPhysical(1'703'000'000'000);
  std::vector<RecordState> entered;
  auto ret = [&](const std::string& indicator, const std::string& org, double value, int later) {
    json fields = {{"indicator", indicator}, {"fy", 2023}, {"quarter", "Q3"}, {"value", value}};
    std::string id = *NaturalKeyId(v1forms, "indicator_return", fields, org);
    entered.push_back(NewRecord(Envelope(id, "indicator_return", org, "lead-" + org, "dev-" + org),
                                t + later, "2023-12-20T12:00:00Z", fields));
    return id;
  };
  std::string police_channel = ret("pc_channel_referrals", "police", 5, 0);
  std::string csp_channel = ret("pc_channel_referrals", "csp", 5, 1);
  std::string hcc_vru = ret("pc_vru_referrals", "hcc", 3, 2);
  std::string csp_vru = ret("pc_vru_referrals", "csp", 4, 3);
  std::string housing = ret("pc_housing_drug_interventions", "wcc_housing", 2, 4);
  CHECK(police_channel != csp_channel);  // version 1 kept one record per org
  entered.push_back(NewRecord(
      Envelope("c-1", "outreach_contact", "street_pastors", "amy", "dev-amy"), t,
      "2023-11-02T22:00:00Z",
      {{"place", "Jewry St"}, {"age_band", "under_18"}, {"safeguarding_concern", false}}));
  REQUIRE(store
              ->Write([&](server::WriteTxn& txn) {
                for (const auto& r : entered) BB_RETURN_IF_ERROR(txn.SaveRecord(r));
                return Status::OK();
              })
              .ok());
  REQUIRE(
      store->RebuildContributions(1, [&](const RecordState& s) { return ContributionsOf(v1, s); })
          .ok());
  std::int64_t now = SystemClock::Default()->NowMs();
  std::string kind;
  REQUIRE(server::ApproveQuarter(store.get(), v1, 2023, 3, "cleo", now,
                                 {0, 0, "cleo", "coordinator", "csp", "", "", json::object()},
                                 &kind)
              .ok());
  json before;
  REQUIRE(server::AssembleReturn(store.get(), v1, 2023, std::nullopt, now, &before).ok());
  REQUIRE(Values(before, "pc_channel_referrals")["Q3"] == 10.0);
  REQUIRE(Values(before, "pc_vru_referrals")["Q3"] == 7.0);
  REQUIRE(Values(before, "pc_youth_interventions")["Q3"] == 1.0);

  // Version 2 arrives (as the server does on start: move, then recount).
  server::MigrationResult moved;
  REQUIRE(server::MigrateSharedReturns(store.get(), v2forms, now, &moved).ok());
  CHECK(moved.moved == 4);
  CHECK(moved.merged_to == 2);
  CHECK(moved.conflicts == 1);
  REQUIRE(
      store->RebuildContributions(2, [&](const RecordState& s) { return ContributionsOf(v2, s); })
          .ok());

  json after;
  REQUIRE(server::AssembleReturn(store.get(), v2, 2023, std::nullopt, now, &after).ok());
  // Every approved figure stands; today's count is shown beside it.
  CHECK(Values(after, "pc_channel_referrals")["Q3"] == 10.0);
  CHECK(Values(after, "pc_channel_referrals", "late")["Q3"] == 5.0);  // one figure now
  CHECK(Values(after, "pc_vru_referrals")["Q3"] == 7.0);
  CHECK(Values(after, "pc_vru_referrals", "late")["Q3"] == 4.0);  // the later entry
  CHECK(Values(after, "pc_housing_drug_interventions")["Q3"] == 2.0);
  CHECK(Values(after, "pc_housing_drug_interventions", "late").is_null());
  CHECK(Values(after, "pc_youth_interventions")["Q3"] == 1.0);
  CHECK(Values(after, "pc_youth_interventions", "redefined")["Q3"] == 0.0);
  CHECK(after["versions"]["Q3"] == 1);
  CHECK(after["versions"]["Q4"] == 2);

  // The per-org records are deleted; the partnership's holds the figure, filed under CSP.
  std::vector<RecordState> all;
  REQUIRE(store->AllRecords(&all).ok());
  std::string shared_vru;
  for (const auto& r : all) {
    if (r.id == police_channel || r.id == csp_channel || r.id == hcc_vru || r.id == csp_vru) {
      CHECK(r.IsDeleted());
    }
    if (r.id == housing) CHECK(!r.IsDeleted());  // a `sum` return stays its owner's
    if (r.form == "indicator_return" && !r.IsDeleted() &&
        r.FieldValues()["indicator"] == "pc_vru_referrals") {
      shared_vru = r.id;
      CHECK(r.org == "csp");
      CHECK(r.FieldValues()["value"] == 4);
    }
  }
  REQUIRE(!shared_vru.empty());
  // HCC's 3 and CSP's 4 disagreed: a conflict to resolve. The Channel Panel entries agreed.
  std::vector<server::StoredConflict> conflicts;
  REQUIRE(store->Conflicts(&conflicts).ok());
  REQUIRE(conflicts.size() == 1);
  CHECK(conflicts[0].conflict.record_id == shared_vru);
  CHECK(conflicts[0].conflict.winner.v == 4);
  CHECK(conflicts[0].conflict.loser.v == 3);
  std::vector<server::AuditEvent> events;
  REQUIRE(store->ReadAudit({0, "", "", "migrate_return", 10}, &events).ok());
  CHECK(events.size() == 2);

  // A second start finds nothing to move.
  REQUIRE(server::MigrateSharedReturns(store.get(), v2forms, now, &moved).ok());
  CHECK(moved.moved == 0);
}
