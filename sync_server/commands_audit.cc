// The audit log from the command line: entries for what operators do on the server machine, and
// `sync_server audit` to read the log.
#include <pwd.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "beatbook/clock.h"
#include "beatbook/datetime.h"
#include "commands.h"
#include "store/sqlite_central_store.h"

namespace beatbook::server {

using nlohmann::json;

std::string OperatorName() {
  // Under sudo, the person, not root.
  for (const char* var : {"SUDO_USER", "USER", "LOGNAME"}) {
    if (const char* v = std::getenv(var); v && *v) return v;
  }
  if (const passwd* pw = ::getpwuid(::geteuid())) return pw->pw_name;
  return "uid " + std::to_string(::geteuid());
}

Status AuditOperator(CentralStore* store, const std::string& action, json detail) {
  return store->Audit({0, SystemClock::Default()->NowMs(), OperatorName(), "operator", "", "",
                       action, std::move(detail)});
}

int RunAudit(const AuditOptions& o) {
  AuditQuery query;
  query.actor = o.user;
  query.device_id = o.device;
  query.action = o.action;
  query.limit = static_cast<std::size_t>(o.limit);
  if (!o.since.empty()) {
    std::string since = o.since.size() == 10 ? o.since + "T00:00:00Z" : o.since;
    if (Status s = ParseIsoDateTime(since, &query.since_ms); !s.ok()) {
      std::cerr << "sync_server: --since '" << o.since << "': " << s.message() << "\n";
      return 1;
    }
  }
  std::unique_ptr<SqliteCentralStore> store;
  std::vector<AuditEvent> events;
  Status s = SqliteCentralStore::Open(o.data, &store);
  if (s.ok()) s = store->ReadAudit(query, &events);
  if (!s.ok()) {
    std::cerr << "sync_server: " << s.message() << "\n";
    return 1;
  }
  if (o.as_json) {
    json out = {{"events", json::array()}};
    for (const auto& e : events) {
      out["events"].push_back({{"seq", e.seq},
                               {"at", FormatIsoUtc(e.at_ms)},
                               {"actor", e.actor},
                               {"role", e.role},
                               {"org", e.org},
                               {"device", e.device_id},
                               {"action", e.action},
                               {"detail", e.detail}});
    }
    std::cout << out.dump() << "\n";
    return 0;
  }
  std::printf("%-20s %-10s %-14s %-12s %-40s %s\n", "AT", "ACTION", "WHO", "ORG", "DEVICE",
              "DETAIL");
  for (const auto& e : events) {
    json brief = e.detail;
    if (brief.contains("records") && brief["records"].is_array()) {
      brief["records"] = std::to_string(brief["records"].size()) + " records";
    }
    std::printf("%-20s %-10s %-14s %-12s %-40s %s\n", FormatIsoUtc(e.at_ms).c_str(),
                e.action.c_str(), e.actor.c_str(), e.org.c_str(), e.device_id.c_str(),
                brief.dump().c_str());
  }
  std::cout << events.size() << " event" << (events.size() == 1 ? "" : "s") << "\n";
  return 0;
}

}  // namespace beatbook::server
