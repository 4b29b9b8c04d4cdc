#include "sync_server/commands.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <set>

#include "beatbook/crypto.h"
#include "beatbook/datetime.h"
#include "beatbook/http/server.h"
#include "beatbook/indicators.h"
#include "beatbook/install_paths.h"
#include "beatbook/json_text.h"
#include "beatbook/report.h"
#include "beatbook/tunables.h"
#include "sync_server/api/api.h"
#include "sync_server/backup/data_dir_lock.h"
#include "sync_server/report/quarterly_return.h"
#include "sync_server/report/return_migration.h"
#include "sync_server/report/returns_check.h"
#include "sync_server/server_log.h"
#include "sync_server/store/open_store.h"

namespace beatbook::server {

using nlohmann::json;

int Fail(const std::string& message) {
  std::cerr << "sync_server: " << message << "\n";
  return 1;
}

Status OpenCommandStore(const StoreLocation& at, std::unique_ptr<CentralStore>* out) {
  return OpenCentralStore(at.data, at.url, out);
}

namespace {

// "127.0.0.1:8080" or "[::1]:0" -> host and port.
bool SplitListen(const std::string& listen, std::string* host, std::uint16_t* port) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  *host = listen.substr(0, colon);
  if (host->size() > 2 && host->front() == '[' && host->back() == ']') {
    *host = host->substr(1, host->size() - 2);
  }
  try {
    size_t used = 0;
    int p = std::stoi(listen.substr(colon + 1), &used);
    if (used != listen.size() - colon - 1 || p < 0 || p > 65535) return false;
    *port = static_cast<std::uint16_t>(p);
  } catch (const std::exception&) {
    return false;
  }
  return true;
}

}  // namespace

std::string SchemaDir(const std::string& flag) { return SchemaDirFor(flag, BEATBOOK_SCHEMA_DIR); }

// Loads the catalogue and brings the stored contributions up to its version.
Status LoadCatalogue(const std::string& schema_dir, CentralStore* store, Catalogue* out) {
  BB_RETURN_IF_ERROR(Catalogue::LoadFile(schema_dir + "/indicators.json", out));
  int version = 0;
  BB_RETURN_IF_ERROR(store->ContributionsVersion(&version));
  if (version == out->version()) return Status::OK();
  // A new catalogue version. Returns that now have one figure for the partnership move to its
  // record first (report/return_migration.h); then what every record contributes is recomputed.
  // Approved quarters keep the figures (and catalogue version) they were approved with.
  FormSet forms;
  BB_RETURN_IF_ERROR(FormSet::LoadDir(schema_dir, &forms));
  MigrationResult moved;
  BB_RETURN_IF_ERROR(MigrateSharedReturns(store, forms, SystemClock::Default()->NowMs(), &moved));
  if (moved.moved > 0) {
    std::cerr << "sync_server: catalogue version " << out->version() << ": moved " << moved.moved
              << " partner returns to " << moved.merged_to
              << " shared partnership returns; owners disagreed in " << moved.conflicts
              << " (see the conflicts list)\n";
  }
  return store->RebuildContributions(
      out->version(), [out](const RecordState& s) { return ContributionsOf(*out, s); });
}

int RunServe(const ServeOptions& o) {
  std::string host;
  std::uint16_t port = 0;
  if (!SplitListen(o.listen, &host, &port)) {
    return Fail("--listen '" + o.listen + "' is not HOST:PORT (e.g. 127.0.0.1:8080)");
  }
  bool tls = !o.tls_cert.empty() || !o.tls_key.empty();
  if (tls && (o.tls_cert.empty() || o.tls_key.empty())) {
    return Fail("HTTPS needs both --tls-cert and --tls-key");
  }
  if (!tls && !http::IsLoopbackHost(host) && !o.allow_insecure_http) {
    return Fail("refusing plain HTTP on " + host + ": the data is sensitive; give --tls-cert " +
                "and --tls-key, serve on loopback, or pass --allow-insecure-http");
  }
  if (Status s = InitServerLog(o.log_level); !s.ok()) return Fail(s.message());
  FormSet forms;
  if (Status s = FormSet::LoadDir(SchemaDir(o.schema), &forms); !s.ok()) return Fail(s.message());
  // Held while serving, so a restore never replaces the store under this server.
  DataDirLock data_lock;
  if (o.store_url.empty() && !o.data.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(o.data, ec);
    if (Status s = data_lock.Lock(o.data, /*exclusive=*/false); !s.ok()) return Fail(s.message());
  }
  std::unique_ptr<CentralStore> store;
  if (Status s = OpenCommandStore({o.data, o.store_url}, &store); !s.ok()) return Fail(s.message());
  Catalogue catalogue;
  if (Status s = LoadCatalogue(SchemaDir(o.schema), store.get(), &catalogue); !s.ok()) {
    return Fail(s.message());
  }
  // A store from before the safeguarding queue: the concerns already synced join it, once.
  std::int64_t raised = 0;
  Status earlier = store->RaiseEarlierConcerns(
      [&forms](const RecordState& r) {
        const FormDef* def = forms.Find(r.form, r.form_version);
        return def != nullptr && def->RaisesSafeguardingConcern(r);
      },
      SystemClock::Default()->NowMs(), &raised);
  if (!earlier.ok()) return Fail(earlier.message());
  if (raised > 0) {
    LogEvent(LogLevel::kInfo, "safeguarding_queue_filled",
             {{"records", raised}, {"message", "concerns synced before the queue existed"}});
  }
  std::string epoch;
  if (Status s = store->Epoch(&epoch); !s.ok()) return Fail(s.message());
  ApiOptions limits;
  limits.on_request = LogRequest;
  if (o.rate_limit >= 0) {
    limits.requests_per_second = o.rate_limit;
    limits.burst = o.rate_limit * 10;
  }
  if (o.device_expiry_days >= 0) {
    limits.device_idle_ms = static_cast<std::int64_t>(o.device_expiry_days) * 86'400'000;
  }
  Api api(store.get(), &forms, &catalogue, SystemClock::Default(), limits);
  http::HttpLimits connections;
  if (o.max_connections) connections.max_connections = o.max_connections;
  if (o.max_connections_per_address) {
    connections.max_connections_per_address = o.max_connections_per_address;
  }
  http::HttpServer server(&api, o.threads, connections);
  if (tls) {
    if (Status s = server.UseTls(o.tls_cert, o.tls_key); !s.ok()) return Fail(s.message());
  }
  std::string bound;
  if (Status s = server.Listen(host == "localhost" ? "127.0.0.1" : host, port, &bound); !s.ok()) {
    return Fail(s.message());
  }
  server.OnEvent([](const std::string& event, const Status& outcome) {
    if (event == "shutdown") {
      LogEvent(LogLevel::kInfo, "shutdown",
               {{"grace_seconds", tunables::kShutdownGraceSec},
                {"message", "finishing requests in flight, then stopping"}});
    } else if (outcome.ok()) {
      LogEvent(LogLevel::kInfo, event, {{"message", "TLS certificate and key reloaded"}});
    } else {
      LogEvent(LogLevel::kError, event,
               {{"message", outcome.message() + "; the previous certificate is still served"}});
    }
  });
  LogEvent(LogLevel::kInfo, "start",
           {{"listen", bound},
            {"store", o.store_url.empty() ? "sqlite" : "postgresql"},
            {"epoch", epoch},
            {"tls", tls}});
  std::cout << "listening on " << bound << std::endl;
  server.Run();
  LogEvent(LogLevel::kInfo, "stopped");
  return 0;
}

int RunToken(const TokenOptions& o) {
  // board: a partnership board member, who reads the return on the dashboard.
  std::optional<Role> role = ParseRole(o.role);
  if (!role) {
    return Fail("role '" + o.role +
                "' is not one of field_worker, partner_lead, coordinator, admin, board, "
                "safeguarding_lead");
  }
  FormSet forms;
  if (Status s = FormSet::LoadDir(SchemaDir(o.schema), &forms); !s.ok()) return Fail(s.message());
  if (const auto* orgs = forms.List("org")) {
    bool known = false;
    for (const auto& c : *orgs) known |= c.code == o.org;
    if (!known) return Fail("org '" + o.org + "' is not a partner organisation code");
  }
  if (o.user.empty() || o.user.size() > 100) return Fail("--user must be 1 to 100 characters");
  if (o.ttl_hours <= 0) return Fail("--ttl-hours must be positive");
  std::unique_ptr<CentralStore> store;
  if (Status s = OpenCommandStore({o.data, o.store_url}, &store); !s.ok()) return Fail(s.message());
  std::string token = RandomSecret(24);
  std::int64_t now = SystemClock::Default()->NowMs();
  TokenGrant grant{o.user, o.org, *role, now + std::int64_t{o.ttl_hours} * 3600 * 1000};
  AuditEvent audit = OperatorEvent("token", {{"user", o.user},
                                             {"org", o.org},
                                             {"role", o.role},
                                             {"expires", FormatIsoUtc(grant.expires_ms)}});
  if (Status s = store->CreateToken(token, grant, now, &audit); !s.ok()) return Fail(s.message());
  std::cout << token << std::endl;
  return 0;
}

int RunDevices(const StoreLocation& at, bool as_json) {
  std::unique_ptr<CentralStore> store;
  if (Status s = OpenCommandStore(at, &store); !s.ok()) return Fail(s.message());
  std::vector<DeviceInfo> devices;
  if (Status s = store->ListDevices(&devices); !s.ok()) return Fail(s.message());
  if (Status s = AuditOperator(store.get(), "devices", {{"devices", devices.size()}}); !s.ok()) {
    return Fail("nothing shown: the audit log could not record this read (" + s.message() + ")");
  }
  auto when = [](std::int64_t ms) { return ms ? json(FormatIsoUtc(ms)) : json(nullptr); };
  if (as_json) {
    json out = {{"devices", json::array()}};
    for (const auto& d : devices) {
      out["devices"].push_back({{"id", d.id},
                                {"name", d.name},
                                {"user", d.user},
                                {"org", d.org},
                                {"role", RoleName(d.role)},
                                {"enrolled", when(d.enrolled_ms)},
                                {"last_sync", when(d.last_sync_ms)},
                                {"pending_at_last_sync", d.pending_at_last_sync},
                                {"revoked", d.revoked}});
    }
    std::cout << JsonText(out) << "\n";
    return 0;
  }
  std::printf("%-40s %-12s %-15s %-13s %-21s %s\n", "DEVICE", "USER", "ORG", "ROLE", "LAST SYNC",
              "PENDING");
  for (const auto& d : devices) {
    std::printf("%-40s %-12s %-15s %-13s %-21s %lld%s\n", d.id.c_str(), d.user.c_str(),
                d.org.c_str(), RoleName(d.role),
                d.last_sync_ms ? FormatIsoUtc(d.last_sync_ms).c_str() : "never",
                static_cast<long long>(d.pending_at_last_sync), d.revoked ? "  REVOKED" : "");
  }
  std::fflush(stdout);
  std::cout << devices.size() << " device" << (devices.size() == 1 ? "" : "s") << "\n";
  return 0;
}

int RunRenew(const StoreLocation& at, const std::string& device_id) {
  std::unique_ptr<CentralStore> store;
  if (Status s = OpenCommandStore(at, &store); !s.ok()) return Fail(s.message());
  std::vector<DeviceInfo> devices;
  if (Status s = store->ListDevices(&devices); !s.ok()) return Fail(s.message());
  auto it = std::find_if(devices.begin(), devices.end(),
                         [&](const DeviceInfo& d) { return d.id == device_id; });
  if (it == devices.end()) return Fail("no device '" + device_id + "' (see sync_server devices)");
  if (it->revoked) return Fail("device " + device_id + " is revoked; it cannot be renewed");
  std::int64_t now = SystemClock::Default()->NowMs();
  Status s = AuditOperator(store.get(), "renew", {{"device", device_id}, {"user", it->user}});
  if (s.ok()) s = store->NotePull(device_id, now);
  if (!s.ok()) return Fail(s.message());
  std::cout << "renewed device " << device_id << " (" << it->user << ", " << it->org
            << "): it may sync again\n";
  return 0;
}

int RunRevoke(const StoreLocation& at, const std::string& device_id) {
  std::unique_ptr<CentralStore> store;
  if (Status s = OpenCommandStore(at, &store); !s.ok()) return Fail(s.message());
  DeviceInfo device;
  AuditEvent audit = OperatorEvent("revoke", json::object());
  if (Status s = store->RevokeDevice(device_id, &device, &audit); !s.ok()) {
    return Fail(s.message());
  }
  std::cout << "revoked device " << device.id << " (" << device.user << ", " << device.org
            << "): its next sync is refused and it wipes its local data\n";
  return 0;
}

int RunConflicts(const StoreLocation& at, const std::string& schema, bool as_json) {
  std::unique_ptr<CentralStore> store;
  if (Status s = OpenCommandStore(at, &store); !s.ok()) return Fail(s.message());
  FormSet forms;
  if (Status s = FormSet::LoadDir(SchemaDir(schema), &forms); !s.ok()) return Fail(s.message());
  std::vector<StoredConflict> conflicts;
  if (Status s = store->Conflicts(&conflicts); !s.ok()) return Fail(s.message());
  // Values of sensitive fields are withheld, as on the dashboard; what was shown is audited.
  auto side = [](const Register& r, bool withheld) {
    return json{{"value", withheld ? json("(withheld: sensitive field)") : r.v},
                {"device", r.d},
                {"at", FormatIsoUtc(HybridClock::PhysicalMs(r.t))}};
  };
  json out = {{"conflicts", json::array()}};
  for (const auto& c : conflicts) {
    bool withheld = forms.AnyMarksSensitive(c.conflict.field);
    out["conflicts"].push_back({{"record_id", c.conflict.record_id},
                                {"field", c.conflict.field},
                                {"kept", side(c.conflict.winner, withheld)},
                                {"lost", side(c.conflict.loser, withheld)},
                                {"withheld", withheld},
                                {"recorded", FormatIsoUtc(c.at_ms)}});
  }
  if (Status s = AuditOperator(store.get(), "conflicts", {{"conflicts", conflicts.size()}});
      !s.ok()) {
    return Fail("nothing shown: the audit log could not record this read (" + s.message() + ")");
  }
  if (as_json) {
    std::cout << JsonText(out) << "\n";
    return 0;
  }
  for (const auto& c : out["conflicts"]) {
    std::cout << "record " << c["record_id"].get<std::string>() << " field "
              << c["field"].get<std::string>() << ": kept " << JsonText(c["kept"]["value"]) << " ("
              << c["kept"]["device"].get<std::string>() << ", "
              << c["kept"]["at"].get<std::string>() << "), lost " << JsonText(c["lost"]["value"])
              << " (" << c["lost"]["device"].get<std::string>() << ", "
              << c["lost"]["at"].get<std::string>() << ")\n";
  }
  std::cout << conflicts.size() << " conflict" << (conflicts.size() == 1 ? "" : "s") << "\n";
  return 0;
}

int RunReport(const ReturnReportOptions& o) {
  std::optional<int> quarter;
  if (!o.quarter.empty()) {
    quarter = QuarterNumber(o.quarter);
    if (*quarter == 0) return Fail("--quarter '" + o.quarter + "' is not one of Q1, Q2, Q3, Q4");
  }
  static const std::set<std::string> kFormats = {"table", "csv", "json", "xlsx"};
  if (!kFormats.count(o.format)) {
    return Fail("--format '" + o.format + "' is not table, csv, json or xlsx");
  }
  if (o.format == "xlsx" && o.out.empty()) return Fail("--format xlsx needs --out FILE.xlsx");
  std::unique_ptr<CentralStore> store;
  if (Status s = OpenCommandStore({o.data, o.store_url}, &store); !s.ok()) return Fail(s.message());
  Catalogue catalogue;
  if (Status s = LoadCatalogue(SchemaDir(o.schema), store.get(), &catalogue); !s.ok()) {
    return Fail(s.message());
  }
  FormSet forms;  // for the partners' names
  if (Status f = FormSet::LoadDir(SchemaDir(o.schema), &forms); !f.ok()) return Fail(f.message());
  json report;
  Status s = AssembleReturn(store.get(), catalogue, o.fy, quarter, SystemClock::Default()->NowMs(),
                            &report, "", OrgLabelsOf(forms));
  if (!s.ok()) return Fail(s.message());
  json exported = {{"fy", o.fy}, {"format", o.format}};
  if (quarter) exported["quarter"] = o.quarter;
  if (!o.out.empty()) exported["out"] = o.out;
  if (Status a = AuditOperator(store.get(), "export", exported); !a.ok()) return Fail(a.message());
  if (o.format == "xlsx") {
    if (Status w = WriteXlsx(catalogue, report, o.out); !w.ok()) return Fail(w.message());
    std::cout << "wrote " << o.out << "\n";
    return 0;
  }
  std::string text = o.format == "json"  ? JsonText(report) + "\n"
                     : o.format == "csv" ? RenderCsv(report)
                                         : RenderTable(catalogue, report);
  std::cout << text;
  return 0;
}

int RunApprove(const ApproveOptions& o) {
  int quarter = QuarterNumber(o.quarter);
  if (quarter == 0) return Fail("--quarter '" + o.quarter + "' is not one of Q1, Q2, Q3, Q4");
  std::unique_ptr<CentralStore> store;
  if (Status s = OpenCommandStore({o.data, o.store_url}, &store); !s.ok()) return Fail(s.message());
  Catalogue catalogue;
  if (Status s = LoadCatalogue(SchemaDir(o.schema), store.get(), &catalogue); !s.ok()) {
    return Fail(s.message());
  }
  FormSet forms;  // for the partners' names in the warnings
  if (Status f = FormSet::LoadDir(SchemaDir(o.schema), &forms); !f.ok()) return Fail(f.message());
  std::string kind;
  AuditEvent who{0, 0, OperatorName(), "operator", "", "", "", json::object()};
  std::vector<std::string> warnings;
  Status s =
      ApproveQuarter(store.get(), catalogue, o.fy, quarter, o.user, SystemClock::Default()->NowMs(),
                     who, &kind, &warnings, OrgLabelsOf(forms));
  if (!s.ok()) return Fail(s.message());
  for (const auto& w : warnings) std::cerr << "warning: " << w << "\n";
  std::cout << kind << " of " << o.fy << "/" << (o.fy + 1) % 100 << " " << o.quarter << " by "
            << o.user << " recorded\n";
  return 0;
}

int RunOwed(const OwedOptions& o) {
  std::optional<int> quarter;
  if (!o.quarter.empty()) {
    quarter = QuarterNumber(o.quarter);
    if (*quarter == 0) return Fail("--quarter '" + o.quarter + "' is not one of Q1, Q2, Q3, Q4");
  }
  if (Status p = CheckPeriod(o.fy, quarter); !p.ok()) return Fail(p.message());
  FormSet forms;
  if (Status s = FormSet::LoadDir(SchemaDir(o.schema), &forms); !s.ok()) return Fail(s.message());
  if (!o.org.empty() && forms.List("org")) {
    bool known = false;
    for (const auto& c : *forms.List("org")) known |= c.code == o.org;
    if (!known) return Fail("--org '" + o.org + "' is not a partner code");
  }
  std::unique_ptr<CentralStore> store;
  if (Status s = OpenCommandStore({o.data, o.store_url}, &store); !s.ok()) return Fail(s.message());
  Catalogue catalogue;
  if (Status s = LoadCatalogue(SchemaDir(o.schema), store.get(), &catalogue); !s.ok()) {
    return Fail(s.message());
  }
  json owed;
  if (Status s = AssembleOwed(store.get(), forms.returns(), o.fy, quarter,
                              SystemClock::Default()->NowMs(), o.org, &owed);
      !s.ok()) {
    return Fail(s.message());
  }
  std::cout << (o.as_json ? JsonText(owed) + "\n" : RenderOwed(owed));
  return 0;
}

}  // namespace beatbook::server
