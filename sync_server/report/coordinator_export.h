// A coordinator's export of one form's records (sync_server export, GET /v1/records): which
// records, which columns, and the audit entry that says who asked for what.
#pragma once

#include <optional>
#include <string>

#include "beatbook/form.h"
#include "beatbook/record_export.h"
#include "sync_server/store/central_store.h"

namespace beatbook::server {

struct RecordExportRequest {
  std::string form;
  std::optional<int> fy;       // with `quarter`, by occurred_at in the UK financial year
  std::optional<int> quarter;  // needs fy
  std::string org;             // empty: every org
  bool include_sensitive = false;
  std::string reason;  // required with include_sensitive; goes to the audit log
};

// Checks the request, tabulates the live (not deleted) records it selects, and appends
// `audit_as` (its action set to "export_records" and its detail to the request and the count) to
// the audit log. InvalidArgument, naming the problem, for an unknown form, a quarter without a
// year, or sensitive fields asked for without a reason. Nothing is returned unless the audit
// entry was written.
Status ExportRecords(CentralStore* store, const FormSet& forms, const RecordExportRequest& request,
                     AuditEvent audit_as, RecordTable* out);

}  // namespace beatbook::server
