// sync_server's commands. Each returns the process exit code and reports its own errors.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "beatbook/status.h"

namespace beatbook::server {

// Where a command's central store is: the embedded SQLite store in `data`, or the PostgreSQL
// store at `url` (--store) when given.
struct StoreLocation {
  std::string data;
  std::string url;
};

struct ServeOptions {
  std::string data;
  std::string store_url;
  std::string listen;
  std::string schema;  // forms and indicators.json directory
  int threads = 0;
  bool allow_insecure_http = false;
  std::string tls_cert, tls_key;  // PEM files: serve HTTPS
  double rate_limit = -1;  // requests/s per device (burst 10x); 0 = none; -1 = tunables' default
  int device_expiry_days = -1;      // a device credential unused this long is refused; 0 = never
  std::size_t max_connections = 0;  // 0: tunables::kMaxConnections
  std::size_t max_connections_per_address = 0;  // 0: tunables::kMaxConnectionsPerAddress
  std::string log_level = "info";               // trace, debug, info, warn, error, off
};
int RunServe(const ServeOptions& o);

struct TokenOptions {
  std::string store_url;  // --store: PostgreSQL instead of the store in `data`
  std::string data, user, org, role, schema;
  int ttl_hours = 168;
};
int RunToken(const TokenOptions& o);

// The enrolled devices and their last sync.
int RunDevices(const StoreLocation& at, bool as_json);
// Renews an expired device credential (counts as a use now); audited.
int RunRenew(const StoreLocation& at, const std::string& device_id);
// Revokes a device: its next request is refused and it wipes its local data.
int RunRevoke(const StoreLocation& at, const std::string& device_id);
// Concurrent writes that lost a merge, for the coordinator to review.
int RunConflicts(const StoreLocation& at, const std::string& schema, bool as_json);

struct ReturnReportOptions {
  std::string store_url;  // --store: PostgreSQL instead of the store in `data`
  std::string data, schema, format = "table", out;
  int fy = 0;
  std::string quarter;
};
int RunReport(const ReturnReportOptions& o);

struct OwedOptions {
  std::string store_url;  // --store: PostgreSQL instead of the store in `data`
  std::string data, schema, quarter, org;
  int fy = 0;
  bool as_json = false;
};
int RunOwed(const OwedOptions& o);

struct ApproveOptions {
  std::string store_url;  // --store: PostgreSQL instead of the store in `data`
  std::string data, schema, user, quarter;
  int fy = 0;
};
int RunApprove(const ApproveOptions& o);

struct ExportOptions {
  std::string store_url;  // --store: PostgreSQL instead of the store in `data`
  std::string data, schema, form, quarter, org, reason, out, format = "csv";
  std::string attachments;  // a directory to write the exported records' photos into (audited)
  int fy = 0;               // 0: every year
  bool include_sensitive = false;
};
// One form's records as CSV or JSON, sensitive fields only with --include-sensitive --reason.
int RunExport(const ExportOptions& o);

struct PurgeOptions {
  std::string store_url;             // --store: PostgreSQL instead of the store in `data`
  std::string data, schema, policy;  // policy: default SCHEMA/retention.json
  bool dry_run = false;
};
// Removes records older than the retention policy (server now, devices at their next sync).
int RunPurge(const PurgeOptions& o);

struct AuditOptions {
  std::string store_url;  // --store: PostgreSQL instead of the store in `data`
  std::string data, since, user, device, action;
  int limit = 1000;
  bool as_json = false;
};
// The audit log, oldest first (the most recent --limit entries that match).
int RunAudit(const AuditOptions& o);

// --- Backups (commands_backup.cc; docs/operations.md) ---
// Writes a new backup key file.
int RunBackupKey(const std::string& out);
struct BackupOptions {
  std::string store_url;  // --store: refused (PostgreSQL is backed up with its own tools)
  std::string data, key, out, out_dir;
  int keep = 0;  // with out_dir: backups kept (0: all)
};
// A sealed, checksummed copy of the store taken while servers serve it.
int RunBackup(const BackupOptions& o);
// Checks a backup's checksum, opens it with the key and checks the copy inside.
int RunVerifyBackup(const std::string& key_file, const std::string& file);
struct RestoreOptions {
  std::string data, key, from;
};
// Puts a backup back as the store in `data` (servers stopped), keeping the one it replaces, and
// gives the store a new epoch.
int RunRestore(const RestoreOptions& o);
// A new epoch after a store went back in time some other way (a PostgreSQL restore).
int RunNewEpoch(const StoreLocation& at);

// --- Forms as XLSForm spreadsheets (commands_forms.cc; docs/xlsform.md) ---
struct FormsImportOptions {
  std::string file;    // the .xlsx
  std::string schema;  // the schema directory written into
  bool dry_run = false;
  bool as_json = false;
  bool allow_dropped_rules = false;  // a version may leave out its predecessor's rules
};
// Converts an XLSForm into the next version of a form in the schema directory.
int RunFormsImport(const FormsImportOptions& o);
struct FormsExportOptions {
  std::string form, schema, out;
  int version = 0;  // 0: the latest
};
// Writes a form as an XLSForm, to edit in a spreadsheet and import again.
int RunFormsExport(const FormsExportOptions& o);

class CentralStore;
struct AuditEvent;
// Opens the command's store: the PostgreSQL one at `at.url` if given, else the SQLite store in
// `at.data`.
Status OpenCommandStore(const StoreLocation& at, std::unique_ptr<CentralStore>* out);
// The forms directory: `flag` if given, else BEATBOOK_SCHEMA, the installed copy or the source
// tree (beatbook/install_paths.h).
std::string SchemaDir(const std::string& flag);
// Prints "sync_server: MESSAGE" to stderr; returns exit code 1.
int Fail(const std::string& message);
// Who runs a command on the server machine (the login name; under sudo, the invoking user).
std::string OperatorName();
// An operator's action (role "operator", no device) as an audit entry, now.
AuditEvent OperatorEvent(const std::string& action, nlohmann::json detail);
// Appends an operator's action to the audit log.
Status AuditOperator(CentralStore* store, const std::string& action, nlohmann::json detail);

}  // namespace beatbook::server
