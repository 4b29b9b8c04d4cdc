#include "sync_server/report/retention.h"

#include <fstream>
#include <set>
#include <sstream>

#include "beatbook/datetime.h"

namespace beatbook::server {

using nlohmann::json;

Status LoadRetention(const std::string& path, const FormSet& forms,
                     std::vector<RetentionRule>* out) {
  std::ifstream in(path);
  if (!in) return Status::NotFound("cannot read the retention policy " + path);
  std::stringstream text;
  text << in.rdbuf();
  json doc = json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || !doc.contains("retention") || !doc["retention"].is_array()) {
    return Status::InvalidArgument(path +
                                   ": expected {\"retention\": [{\"form\", \"keep_years\"}]}");
  }
  std::set<std::string> seen;
  out->clear();
  for (std::size_t i = 0; i < doc["retention"].size(); ++i) {
    const json& r = doc["retention"][i];
    std::string at = path + ": entry " + std::to_string(i + 1) + ": ";
    if (!r.is_object() || !r.contains("form") || !r["form"].is_string()) {
      return Status::InvalidArgument(at + "needs a \"form\"");
    }
    std::string form = r["form"];
    if (forms.Latest(form) == nullptr)
      return Status::InvalidArgument(at + "unknown form '" + form + "'");
    if (!seen.insert(form).second) return Status::InvalidArgument(at + "form '" + form + "' twice");
    if (!r.contains("keep_years") || !r["keep_years"].is_number_integer() ||
        r["keep_years"].get<int>() < 1) {
      return Status::InvalidArgument(at +
                                     "\"keep_years\" must be a whole number of years, 1 or more");
    }
    out->push_back({form, r["keep_years"].get<int>()});
  }
  return Status::OK();
}

std::int64_t RetentionCutoffMs(std::int64_t now_ms, int keep_years) {
  std::string today = FormatIsoUtc(now_ms).substr(0, 10);  // YYYY-MM-DD
  int y = std::stoi(today.substr(0, 4)) - keep_years;
  int m = std::stoi(today.substr(5, 2)), d = std::stoi(today.substr(8, 2));
  if (m == 2 && d == 29) d = 28;  // 29 February, years later, may not exist
  return DaysFromCivil(y, m, d) * 86'400'000LL;
}

Status PlanPurge(CentralStore* store, const std::vector<RetentionRule>& rules, std::int64_t now_ms,
                 PurgePlan* plan) {
  std::map<std::string, std::int64_t> cutoff;
  for (const auto& r : rules) cutoff[r.form] = RetentionCutoffMs(now_ms, r.keep_years);
  plan->cutoff_ms = cutoff;
  std::vector<RecordState> all;
  BB_RETURN_IF_ERROR(store->AllRecords(&all));
  for (const auto& r : all) {
    auto it = cutoff.find(r.form);
    if (it == cutoff.end() || r.purged) continue;
    std::int64_t ms = 0;
    if (!ParseIsoDateTime(r.OccurredAt(), &ms).ok() || ms >= it->second) continue;
    plan->ids.push_back(r.id);
    ++plan->by_form[r.form];
  }
  return Status::OK();
}

}  // namespace beatbook::server
