// `sync_server purge`: removes records older than the retention policy, on the server now and on
// devices at their next sync.
#include <iostream>

#include "beatbook/clock.h"
#include "beatbook/datetime.h"
#include "beatbook/tunables.h"
#include "sync_server/commands.h"
#include "sync_server/report/retention.h"
#include "sync_server/store/central_store.h"

namespace beatbook::server {

int RunPurge(const PurgeOptions& o) {
  std::string schema = SchemaDir(o.schema);
  FormSet forms;
  if (Status s = FormSet::LoadDir(schema, &forms); !s.ok()) return Fail(s.message());
  std::vector<RetentionRule> rules;
  std::string policy = o.policy.empty() ? schema + "/retention.json" : o.policy;
  if (Status s = LoadRetention(policy, forms, &rules); !s.ok()) return Fail(s.message());
  std::unique_ptr<CentralStore> store;
  if (Status s = OpenCommandStore({o.data, o.store_url}, &store); !s.ok()) return Fail(s.message());
  std::int64_t now = SystemClock::Default()->NowMs();
  PurgePlan plan;
  if (Status s = PlanPurge(store.get(), rules, now, &plan); !s.ok()) return Fail(s.message());

  for (const auto& rule : rules) {
    std::int64_t n = plan.by_form.count(rule.form) ? plan.by_form.at(rule.form) : 0;
    std::cout << rule.form << ": " << n << " record" << (n == 1 ? "" : "s") << " occurred before "
              << FormatIsoUtc(plan.cutoff_ms.at(rule.form)).substr(0, 10) << " (kept "
              << rule.keep_years << " year" << (rule.keep_years == 1 ? "" : "s") << ")"
              << (o.dry_run ? ", would be removed" : ", removed") << "\n";
  }
  nlohmann::json counts = plan.by_form;
  if (o.dry_run) {
    // A dry run reads which records are due (counts per form): logged like every read.
    if (Status s =
            AuditOperator(store.get(), "purge_dry_run",
                          {{"records", plan.ids.size()}, {"by_form", counts}, {"policy", policy}});
        !s.ok()) {
      return Fail(s.message());
    }
    return 0;
  }
  AuditEvent audit = OperatorEvent(
      "purge", {{"records", plan.ids.size()}, {"by_form", counts}, {"policy", policy}});
  if (Status s = store->PurgeRecords(plan.ids, now - tunables::kBatchReplyKeepMs, audit); !s.ok()) {
    return Fail(s.message());
  }
  std::size_t n = plan.ids.size();
  std::cout << "removed " << n << " record" << (n == 1 ? "" : "s")
            << "; devices drop them, and the photos only they named, at their next sync\n";
  // Photo uploads a device began and never finished (docs/protocol.md, section 8).
  std::int64_t stale = 0;
  if (Status s = store->DropStaleUploads(now - tunables::kAttachmentPartKeepMs, &stale); !s.ok()) {
    return Fail(s.message());
  }
  if (stale > 0) {
    std::cout << "dropped " << stale << " unfinished photo upload" << (stale == 1 ? "" : "s")
              << " untouched for a week\n";
  }
  return 0;
}

}  // namespace beatbook::server
