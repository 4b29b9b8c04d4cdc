// Accountability from the command line: audit entries for what operators do on the server
// machine, `sync_server audit` to read the log, and `sync_server export` of records (audited).
#include <pwd.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>

#include "beatbook/attachment.h"
#include "beatbook/clock.h"
#include "beatbook/datetime.h"
#include "beatbook/indicators.h"
#include "beatbook/json_text.h"
#include "sync_server/api/attachments.h"
#include "sync_server/commands.h"
#include "sync_server/report/coordinator_export.h"
#include "sync_server/store/central_store.h"

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

AuditEvent OperatorEvent(const std::string& action, json detail) {
  return {0,
          SystemClock::Default()->NowMs(),
          OperatorName(),
          "operator",
          "",
          "",
          action,
          std::move(detail)};
}

Status AuditOperator(CentralStore* store, const std::string& action, json detail) {
  return store->Audit(OperatorEvent(action, std::move(detail)));
}

namespace {

// Writes the photos `table` names into o.attachments, each as its name, after the audit entry
// saying so; those not uploaded yet are counted.
int ExportPhotos(CentralStore* store, const FormSet& forms, const RecordTable& table,
                 const ExportOptions& o) {
  const std::vector<std::string> names = PhotosInTable(forms, o.form, table);
  std::error_code ec;
  std::filesystem::create_directories(o.attachments, ec);
  if (ec) return Fail("cannot make " + o.attachments + ": " + ec.message());
  if (Status s =
          AuditOperator(store, "export_attachments",
                        {{"form", o.form}, {"photos", names.size()}, {"dir", o.attachments}});
      !s.ok()) {
    return Fail(s.message());
  }
  std::size_t written = 0, missing = 0;
  for (const auto& name : names) {
    std::string bytes;
    bool found = false;
    if (Status s = store->ReadAttachment(name, &bytes, &found); !s.ok()) return Fail(s.message());
    if (!found) {
      ++missing;
      continue;
    }
    const std::string path = (std::filesystem::path(o.attachments) / name).string();
    std::ofstream file(path, std::ios::binary);
    file << bytes;
    if (!file.flush()) return Fail("cannot write " + path);
    ++written;
  }
  std::cerr << "wrote " << written << " photo" << (written == 1 ? "" : "s") << " to "
            << o.attachments;
  if (missing > 0) std::cerr << " (" << missing << " not uploaded yet)";
  std::cerr << "\n";
  return 0;
}

}  // namespace

int RunExport(const ExportOptions& o) {
  if (o.format != "csv" && o.format != "json")
    return Fail("--format '" + o.format + "' is not csv or json");
  RecordExportRequest req;
  req.form = o.form;
  if (o.fy != 0) req.fy = o.fy;
  if (!o.quarter.empty()) {
    int q = QuarterNumber(o.quarter);
    if (q == 0) return Fail("--quarter '" + o.quarter + "' is not one of Q1, Q2, Q3, Q4");
    req.quarter = q;
  }
  req.org = o.org;
  req.include_sensitive = o.include_sensitive;
  req.reason = o.reason;
  if (!o.reason.empty() && !o.include_sensitive) {
    return Fail("--reason is for --include-sensitive; without it no sensitive field is exported");
  }
  FormSet forms;
  std::string schema = SchemaDir(o.schema);
  if (Status s = FormSet::LoadDir(schema, &forms); !s.ok()) return Fail(s.message());
  std::unique_ptr<CentralStore> store;
  if (Status s = OpenCommandStore({o.data, o.store_url}, &store); !s.ok()) return Fail(s.message());
  RecordTable table;
  AuditEvent who{0, SystemClock::Default()->NowMs(), OperatorName(), "operator", "", "", "", {}};
  if (Status s = ExportRecords(store.get(), forms, req, who, &table); !s.ok()) {
    return Fail(s.message());
  }
  std::string text =
      o.format == "csv" ? RenderRecordsCsv(table) : JsonText(RecordsJson(table)) + "\n";
  if (o.out.empty()) {
    std::cout << text;
  } else {
    std::ofstream file(o.out, std::ios::binary);
    file << text;
    if (!file.flush()) return Fail("cannot write " + o.out);
    std::cerr << "wrote " << table.rows.size() << " records to " << o.out << "\n";
  }
  if (!o.attachments.empty()) {
    if (int rc = ExportPhotos(store.get(), forms, table, o); rc != 0) return rc;
  }
  if (!table.withheld.empty()) {
    std::string names;
    for (const auto& n : table.withheld) names += (names.empty() ? "" : ", ") + n;
    std::cerr << "sensitive fields left out: " << names
              << " (--include-sensitive --reason WHY to include them; the request is audited)\n";
  }
  return 0;
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
      return Fail("--since '" + o.since + "': " + s.message());
    }
  }
  std::unique_ptr<CentralStore> store;
  std::vector<AuditEvent> events;
  Status s = OpenCommandStore({o.data, o.store_url}, &store);
  if (s.ok()) s = store->ReadAudit(query, &events);
  // Reading the log is itself logged (after the read: it is not in what this read shows).
  if (s.ok()) {
    s = AuditOperator(store.get(), "audit",
                      {{"user", o.user},
                       {"device", o.device},
                       {"action", o.action},
                       {"since", o.since},
                       {"events", events.size()}});
  }
  if (!s.ok()) return Fail(s.message());
  if (o.as_json) {
    json out = {{"events", json::array()}};
    for (const auto& e : events) {
      out["events"].push_back({{"seq", e.seq},
                               {"at", FormatIsoUtc(e.at_ms)},
                               {"actor", e.actor},
                               {"user", e.actor},  // the interface's name for it
                               {"role", e.role},
                               {"org", e.org},
                               {"device", e.device_id},
                               {"action", e.action},
                               {"detail", e.detail}});
    }
    std::cout << JsonText(out) << "\n";
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
                JsonText(brief).c_str());
  }
  std::cout << events.size() << " event" << (events.size() == 1 ? "" : "s") << "\n";
  return 0;
}

}  // namespace beatbook::server
