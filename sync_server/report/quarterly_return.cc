#include "sync_server/report/quarterly_return.h"

#include "beatbook/datetime.h"
#include "beatbook/indicators.h"
#include "beatbook/report.h"
#include "sync_server/report/returns_check.h"

namespace beatbook::server {

using nlohmann::json;

namespace {

// The end of a quarter: the start of the next one.
std::int64_t QuarterEndMs(int fy, int quarter) {
  return quarter == 4 ? QuarterStartMs(fy + 1, 1) : QuarterStartMs(fy, quarter + 1);
}

Status DeviceWarnings(CentralStore* store, int fy, std::optional<int> quarter, std::int64_t now_ms,
                      const std::string& org, std::vector<std::string>* out) {
  // The quarter asked for, or else the latest quarter of the year that has ended.
  int q = quarter.value_or(0);
  if (q == 0) {
    for (int i = 4; i >= 1 && q == 0; --i) {
      if (QuarterEndMs(fy, i) <= now_ms) q = i;
    }
  }
  if (q == 0 || QuarterEndMs(fy, q) > now_ms) return Status::OK();
  std::int64_t end = QuarterEndMs(fy, q);
  std::vector<DeviceInfo> devices;
  BB_RETURN_IF_ERROR(store->ListDevices(&devices));
  for (const auto& d : devices) {
    // Browsers signed in to the dashboard hold no records to sync.
    if (d.revoked || d.role == Role::kAdmin || d.client == "dashboard" || d.enrolled_ms >= end ||
        d.last_sync_ms >= end || (!org.empty() && d.org != org)) {
      continue;
    }
    out->push_back("device " + d.id + " (" + d.user + ", " + d.org + ") has not synced since Q" +
                   std::to_string(q) + " ended" +
                   (d.last_sync_ms
                        ? " (last sync " + FormatIsoUtc(d.last_sync_ms) + ", " +
                              std::to_string(d.pending_at_last_sync) + " changes waiting then)"
                        : " (never synced)"));
  }
  return Status::OK();
}

}  // namespace

Status CheckPeriod(int fy, std::optional<int> quarter) {
  if (fy < 2000 || fy > 2100) {
    return Status::InvalidArgument("fy " + std::to_string(fy) + " is not a financial year");
  }
  if (quarter && (*quarter < 1 || *quarter > 4)) {
    return Status::InvalidArgument("quarter must be Q1, Q2, Q3 or Q4");
  }
  return Status::OK();
}

Status AssembleReturn(CentralStore* store, const Catalogue& catalogue, int fy,
                      std::optional<int> quarter, std::int64_t now_ms, json* out,
                      const std::string& org, const OrgLabels& org_labels) {
  BB_RETURN_IF_ERROR(CheckPeriod(fy, quarter));
  ReportInput in;
  in.fy = fy;
  in.quarter = quarter;
  if (org.empty()) {
    BB_RETURN_IF_ERROR(store->ReadFigures(fy, &in.figures));
    BB_RETURN_IF_ERROR(store->ReadFigures(fy - 1, &in.previous));
    BB_RETURN_IF_ERROR(store->Approvals(fy, &in.approvals));
  } else {
    // Approvals freeze the partnership's figures, not one org's: an org's are always live.
    BB_RETURN_IF_ERROR(store->ReadOrgFigures(fy, org, &in.figures));
    BB_RETURN_IF_ERROR(store->ReadOrgFigures(fy - 1, org, &in.previous));
  }
  BB_RETURN_IF_ERROR(DeviceWarnings(store, fy, quarter, now_ms, org, &in.warnings));
  // What is still owed and what looks wrong, before anyone approves the quarter.
  ReturnRules rules;
  BB_RETURN_IF_ERROR(ReturnRules::FromCatalogueJson(catalogue.source(), &rules));
  json owed, unusual;
  BB_RETURN_IF_ERROR(AssembleOwed(store, rules, fy, quarter, now_ms, org, &owed));
  BB_RETURN_IF_ERROR(UnusualFigures(store, rules, fy, quarter, &unusual));
  if (!org.empty()) {
    json mine = json::array();
    for (const auto& u : unusual) {
      if (u["org"] == org) mine.push_back(u);
    }
    unusual = std::move(mine);
  }
  for (auto& w : ReturnWarnings(owed, unusual, org_labels)) in.warnings.push_back(std::move(w));
  *out = BuildReport(catalogue, in);
  // What is not entered yet (due or owed), for the warnings shown before approval.
  json missing = json::array();
  for (const auto& i : owed["items"]) {
    if (i["state"] != "entered") missing.push_back(i);
  }
  (*out)["owed"] = {{"by_org", owed["by_org"]}, {"rates", owed["rates"]}, {"items", missing}};
  (*out)["unusual"] = std::move(unusual);
  if (!org.empty()) (*out)["org"] = org;
  // Partners by name on screens (the owed and unusual lists carry codes).
  if (!org_labels.empty()) (*out)["org_labels"] = org_labels;
  // Labels for headings (the dashboard groups indicators by priority and aim).
  json priorities = json::array(), aims = json::array();
  for (const auto& p : catalogue.priorities()) {
    priorities.push_back({{"id", p.id}, {"label", p.label}});
  }
  for (const auto& a : catalogue.aims()) {
    aims.push_back({{"id", a.id},
                    {"priority", a.priority},
                    {"label", a.label},
                    {"outcome", a.outcome},
                    {"direction", a.direction > 0 ? "increase" : "decrease"}});
  }
  (*out)["priorities"] = std::move(priorities);
  (*out)["aims"] = std::move(aims);
  return Status::OK();
}

Status ApproveQuarter(CentralStore* store, const Catalogue& catalogue, int fy, int quarter,
                      const std::string& user, std::int64_t now_ms, AuditEvent audit,
                      std::string* kind, std::vector<std::string>* warnings,
                      const OrgLabels& org_labels) {
  BB_RETURN_IF_ERROR(CheckPeriod(fy, quarter));
  // Approving does not wait for every partner, but says who still owes what and which figures
  // look wrong, and keeps that with the approval's audit entry.
  ReturnRules rules;
  BB_RETURN_IF_ERROR(ReturnRules::FromCatalogueJson(catalogue.source(), &rules));
  json owed, unusual;
  BB_RETURN_IF_ERROR(AssembleOwed(store, rules, fy, quarter, now_ms, "", &owed));
  BB_RETURN_IF_ERROR(UnusualFigures(store, rules, fy, quarter, &unusual));
  std::vector<std::string> said = ReturnWarnings(owed, unusual, org_labels);
  if (!said.empty()) audit.detail["warnings"] = said;
  if (warnings) *warnings = said;
  std::vector<Approval> earlier;
  BB_RETURN_IF_ERROR(store->Approvals(fy, &earlier));
  bool approved_before = false;
  for (const auto& a : earlier) approved_before |= a.quarter == quarter;
  // The snapshot holds the live figures (not an earlier approval's), so a restatement takes in
  // the late data.
  ReportInput live;
  live.fy = fy;
  live.quarter = quarter;
  BB_RETURN_IF_ERROR(store->ReadFigures(fy, &live.figures));
  BB_RETURN_IF_ERROR(store->ReadFigures(fy - 1, &live.previous));
  Approval a;
  a.fy = fy;
  a.quarter = quarter;
  a.kind = approved_before ? "restatement" : "approval";
  a.user = user;
  a.at_ms = now_ms;
  a.catalogue_version = catalogue.version();
  a.report = BuildReport(catalogue, live);
  audit.action = "approve";
  audit.at_ms = now_ms;
  audit.detail["fy"] = fy;
  audit.detail["quarter"] = "Q" + std::to_string(quarter);
  audit.detail["kind"] = a.kind;
  if (user != audit.actor) audit.detail["on_behalf_of"] = user;
  BB_RETURN_IF_ERROR(store->AddApproval(a, audit));
  *kind = a.kind;
  return Status::OK();
}

}  // namespace beatbook::server
