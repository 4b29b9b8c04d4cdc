// Assembling the quarterly return from the central store, and approving a quarter. Shared by the
// API (field_client report, the dashboard) and sync_server's own report and approve commands.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "beatbook/catalogue.h"
#include "sync_server/report/returns_check.h"
#include "sync_server/store/central_store.h"

namespace beatbook::server {

// InvalidArgument unless `fy` is a financial year (2000-2100) and `quarter`, if given, is 1-4.
Status CheckPeriod(int fy, std::optional<int> quarter);

// The report JSON of beatbook/report.h for financial year `fy` (and one quarter, if given), with
// a warning for each enrolled tablet that has not synced since the quarter ended, and the
// catalogue's "priorities" and "aims" with their labels. With `org`, the figures count that org's
// records only, live (approvals freeze the whole partnership's), with only its tablets' warnings.
Status AssembleReturn(CentralStore* store, const Catalogue& catalogue, int fy,
                      std::optional<int> quarter, std::int64_t now_ms, nlohmann::json* out,
                      const std::string& org = "", const OrgLabels& org_labels = {});

// Freezes quarter `quarter` of `fy` as it stands now: an "approval" the first time, a
// "restatement" after that. Sets *kind. `audit` names who asked (its action and detail are
// filled in here) and is written in the approval's transaction.
// `warnings`, if given, gets what was still owed and the unusual figures when it was approved
// (also kept in the audit entry).
Status ApproveQuarter(CentralStore* store, const Catalogue& catalogue, int fy, int quarter,
                      const std::string& user, std::int64_t now_ms, AuditEvent audit,
                      std::string* kind, std::vector<std::string>* warnings = nullptr,
                      const OrgLabels& org_labels = {});

// Writes the return as an Excel workbook with a sheet per priority (libxlsxwriter).
Status WriteXlsx(const Catalogue& catalogue, const nlohmann::json& report, const std::string& path);

}  // namespace beatbook::server
