// Retention: how long each form's records are kept (schema/retention.json), and which records
// have expired. `sync_server purge` removes them with CentralStore::PurgeRecords; devices drop
// them at their next sync (docs/protocol.md, "Retention").
//
//   std::vector<RetentionRule> rules;
//   LoadRetention(schema_dir + "/retention.json", forms, &rules);
//   PurgePlan plan;
//   PlanPurge(store, rules, now_ms, &plan);      // plan.ids: what to purge, plan.by_form: counts
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "beatbook/form.h"
#include "sync_server/store/central_store.h"

namespace beatbook::server {

struct RetentionRule {
  std::string form;
  int keep_years = 0;
};

// InvalidArgument naming the file and entry for an unknown form, a repeated form or a
// keep_years that is not a whole number of at least 1.
Status LoadRetention(const std::string& path, const FormSet& forms,
                     std::vector<RetentionRule>* out);

// The first instant still kept: midnight UTC of the same calendar date `keep_years` before
// `now_ms`. Records that occurred before it have expired.
std::int64_t RetentionCutoffMs(std::int64_t now_ms, int keep_years);

struct PurgePlan {
  std::vector<std::string> ids;  // expired records not yet purged
  std::map<std::string, std::int64_t> by_form;
  std::map<std::string, std::int64_t> cutoff_ms;  // per form
};
Status PlanPurge(CentralStore* store, const std::vector<RetentionRule>& rules, std::int64_t now_ms,
                 PurgePlan* plan);

}  // namespace beatbook::server
