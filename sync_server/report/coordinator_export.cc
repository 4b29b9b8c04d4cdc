#include "sync_server/report/coordinator_export.h"

#include <cctype>

#include "beatbook/datetime.h"
#include "beatbook/indicators.h"
#include "beatbook/validation.h"

namespace beatbook::server {

using nlohmann::json;

Status ExportRecords(CentralStore* store, const FormSet& forms, const RecordExportRequest& req,
                     AuditEvent audit_as, RecordTable* out) {
  if (forms.Latest(req.form) == nullptr) {
    std::string known;
    for (const auto& n : forms.FormNames()) known += (known.empty() ? "" : ", ") + n;
    return Status::InvalidArgument("form '" + req.form + "' is not one of: " + known);
  }
  if (req.quarter && !req.fy) return Status::InvalidArgument("a quarter needs its year (fy)");
  if (req.include_sensitive) {
    // A reason someone can read later: words, not blanks or control characters.
    std::size_t letters = 0;
    for (char c : req.reason) letters += std::isalnum(static_cast<unsigned char>(c)) ? 1 : 0;
    if (letters < 3 || req.reason.size() > 500 ||
        !ForbiddenCharacterIn(req.reason, false).empty()) {
      return Status::InvalidArgument(
          "sensitive fields are only exported with a reason, which the audit log records: give "
          "one in words (at least 3 letters or digits, at most 500 characters, no control "
          "characters)");
    }
  }
  std::vector<RecordState> all, chosen;
  BB_RETURN_IF_ERROR(store->AllRecords(&all));
  for (auto& r : all) {
    if (r.form != req.form || r.IsDeleted()) continue;
    if (!req.org.empty() && r.org != req.org) continue;
    if (req.fy) {
      std::int64_t ms = 0;
      if (!ParseIsoDateTime(r.OccurredAt(), &ms).ok()) continue;
      Period p = PeriodOf(ms);
      if (p.fy != *req.fy || (req.quarter && p.quarter != *req.quarter)) continue;
    }
    chosen.push_back(std::move(r));
  }
  *out = TabulateRecords(forms, req.form, chosen, req.include_sensitive);
  audit_as.action = "export_records";
  audit_as.detail = {
      {"form", req.form}, {"records", chosen.size()}, {"sensitive", req.include_sensitive}};
  if (req.fy) audit_as.detail["fy"] = *req.fy;
  if (req.quarter) audit_as.detail["quarter"] = "Q" + std::to_string(*req.quarter);
  if (!req.org.empty()) audit_as.detail["org"] = req.org;
  if (req.include_sensitive) audit_as.detail["reason"] = req.reason;
  return store->Audit(audit_as);
}

}  // namespace beatbook::server
