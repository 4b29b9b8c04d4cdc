#include "sync_server/report/return_migration.h"

#include <algorithm>
#include <map>

#include "beatbook/clock.h"
#include "beatbook/hlc.h"

namespace beatbook::server {

using nlohmann::json;

namespace {

// The device id on registers the server writes itself (only this migration's deletes).
constexpr const char* kServerWriter = "server";

// A clock that reads a fixed time: the migration stamps with the time it was asked to run at.
class FixedClock final : public Clock {
 public:
  explicit FixedClock(std::int64_t ms) : ms_(ms) {}
  std::int64_t NowMs() const override { return ms_; }

 private:
  std::int64_t ms_;
};

}  // namespace

Status MigrateSharedReturns(CentralStore* store, const FormSet& forms, std::int64_t now_ms,
                            MigrationResult* result) {
  *result = MigrationResult{};
  const ReturnRules& rules = forms.returns();
  if (rules.empty()) return Status::OK();
  std::vector<RecordState> all;
  BB_RETURN_IF_ERROR(store->AllRecords(&all));
  // Per-org returns of `one` indicators, grouped by the partnership record they belong to.
  std::map<std::string, std::vector<RecordState>> groups;
  HlcStamp latest = 0;
  for (auto& r : all) {
    if (r.purged || r.IsDeleted()) continue;
    const FormDef* def = forms.Latest(r.form);
    if (def == nullptr || def->writers.owners_of.empty()) continue;
    json fields = r.FieldValues();
    auto ind = fields.find(def->writers.owners_of);
    const ReturnRule* rule =
        ind != fields.end() && ind->is_string() ? rules.Find(ind->get<std::string>()) : nullptr;
    if (rule == nullptr || rule->combine != Combine::kOne) continue;
    auto shared_id = NaturalKeyId(forms, r.form, fields, rules.partnership_org());
    if (!shared_id || *shared_id == r.id) continue;
    latest = std::max(latest, r.MaxStamp());
    groups[*shared_id].push_back(std::move(r));
  }
  if (groups.empty()) return Status::OK();
  FixedClock clock(now_ms);
  HybridClock hlc(&clock, latest);
  return store->Write([&](WriteTxn& txn) {
    for (auto& [shared_id, members] : groups) {
      RecordState target;
      bool found = false;
      BB_RETURN_IF_ERROR(txn.LoadRecord(shared_id, &target, &found));
      if (!found) target = RecordState{};
      json from = json::array();
      // The figure and status each org had entered, to find disagreements.
      std::map<std::string, std::vector<Register>> entries;
      for (const auto& m : members) {
        RecordState moved = m;
        moved.id = shared_id;
        moved.org = rules.partnership_org();
        Merge(&target, moved);
        target.form_version = std::max(target.form_version, m.form_version);
        json fields = m.FieldValues();
        from.push_back({{"record", m.id},
                        {"org", m.org},
                        {"value", fields.value("value", json())},
                        {"status", fields.value("status", json())}});
        for (const char* f : {"value", "status"}) {
          auto it = m.fields.find(f);
          if (it != m.fields.end() && !it->second.v.is_null()) entries[f].push_back(it->second);
        }
      }
      bool disagreed = false;
      for (const auto& [field, regs] : entries) {
        auto win = target.fields.find(field);
        if (win == target.fields.end()) continue;
        for (const auto& r : regs) {
          if (r.v == win->second.v) continue;
          BB_RETURN_IF_ERROR(txn.AddConflict({shared_id, field, win->second, r}, now_ms));
          disagreed = true;
        }
      }
      BB_RETURN_IF_ERROR(txn.SaveRecord(target));
      for (const auto& m : members) {
        RecordState gone = m;
        gone.deleted = Register{true, hlc.Now(), kServerWriter, 0};
        BB_RETURN_IF_ERROR(txn.SaveRecord(gone));
        BB_RETURN_IF_ERROR(txn.SetContributions(m.id, {}, gone.MaxStamp(), now_ms));
      }
      result->moved += static_cast<int>(members.size());
      result->merged_to += 1;
      if (disagreed) result->conflicts += 1;
      BB_RETURN_IF_ERROR(
          txn.Audit({0,
                     now_ms,
                     "beatbook",
                     "operator",
                     "",
                     "",
                     "migrate_return",
                     {{"record", shared_id}, {"from", from}, {"owners_disagreed", disagreed}}}));
    }
    return Status::OK();
  });
}

}  // namespace beatbook::server
