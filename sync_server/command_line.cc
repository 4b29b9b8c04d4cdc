#include "sync_server/command_line.h"

namespace beatbook::server {

namespace {

constexpr const char* kDataHelp = "central store directory (the embedded SQLite store)";

// A command over the central store with its own options: --data DIR (or the --store given
// before the command), and `run` called with the options once they are parsed.
template <typename Options>
CLI::App* StoreCommand(CLI::App& app, CommandLine& cl, const char* name, const char* help,
                       Options* options, int (*run)(const Options&)) {
  auto* command = app.add_subcommand(name, help);
  command->add_option("--data", options->data, kDataHelp);
  command->callback([&cl, options, run] {
    options->store_url = cl.store_url;
    cl.rc = run(*options);
  });
  return command;
}

// Serving devices, and the codes that enrol them.
void AddServeCommands(CLI::App& app, CommandLine& cl) {
  auto* c_serve = StoreCommand(app, cl, "serve", "serve the sync API", &cl.serve, RunServe);
  c_serve->add_option("--listen", cl.serve.listen, "HOST:PORT (port 0 picks a free one)")
      ->default_val("127.0.0.1:8080");
  c_serve->add_option("--schema", cl.serve.schema, "forms directory");
  c_serve->add_option("--threads", cl.serve.threads, "I/O threads");
  c_serve
      ->add_option("--rate-limit", cl.serve.rate_limit,
                   "requests per second per device, bursts of 10x (default 50; 0: none)")
      ->check(CLI::Range(0.0, 1e6));
  c_serve->add_option("--tls-cert", cl.serve.tls_cert, "PEM certificate chain: serve HTTPS");
  c_serve->add_option("--tls-key", cl.serve.tls_key, "PEM private key of --tls-cert");
  c_serve->add_flag("--allow-insecure-http", cl.serve.allow_insecure_http,
                    "serve plain HTTP on a non-loopback address (insecure)");
  c_serve->add_option("--max-connections", cl.serve.max_connections, "open connections at most")
      ->check(CLI::Range(1, 1'000'000));
  c_serve
      ->add_option("--max-connections-per-address", cl.serve.max_connections_per_address,
                   "open connections one client address may hold (raise behind a load balancer)")
      ->check(CLI::Range(1, 1'000'000));
  c_serve
      ->add_option("--device-expiry-days", cl.serve.device_expiry_days,
                   "refuse a device credential unused for this many days (default 180; 0: never)")
      ->check(CLI::Range(0, 36500));
  c_serve->add_option("--log-level", cl.serve.log_level,
                      "trace, debug, info, warn, error or off (one JSON line per request on "
                      "stderr)");

  auto* c_token =
      StoreCommand(app, cl, "token", "print a one-time enrolment token", &cl.token, RunToken);
  c_token->add_option("--user", cl.token.user, "user name")->required();
  c_token->add_option("--org", cl.token.org, "partner organisation code")->required();
  c_token
      ->add_option("--role", cl.token.role,
                   "field_worker, partner_lead, coordinator, admin, board (reads the return on "
                   "the dashboard) or safeguarding_lead (follows up the safeguarding queue there)")
      ->required();
  c_token->add_option("--ttl-hours", cl.token.ttl_hours, "hours until the token expires")
      ->default_val(168);
  c_token->add_option("--schema", cl.token.schema, "forms directory (for the org codes)");
}

// Devices: which are enrolled, renewing and revoking their credentials.
void AddDeviceCommands(CLI::App& app, CommandLine& cl) {
  auto* c_devices = app.add_subcommand("devices", "enrolled devices and their last sync");
  c_devices->add_option("--data", cl.data, kDataHelp);
  c_devices->add_flag("--json", cl.as_json, "machine-readable output");
  c_devices->callback([&] { cl.rc = RunDevices({cl.data, cl.store_url}, cl.as_json); });

  auto* c_renew = app.add_subcommand("renew", "renew a device credential that expired unused");
  c_renew->add_option("--data", cl.data, kDataHelp);
  c_renew->add_option("--device", cl.device_id, "device id, as `devices` lists it")->required();
  c_renew->callback([&] { cl.rc = RunRenew({cl.data, cl.store_url}, cl.device_id); });

  auto* c_revoke = app.add_subcommand("revoke", "revoke a device (lost, stolen, or its user left)");
  c_revoke->add_option("--data", cl.data, kDataHelp);
  c_revoke->add_option("--device", cl.device_id, "device id, as `devices` lists it")->required();
  c_revoke->callback([&] { cl.rc = RunRevoke({cl.data, cl.store_url}, cl.device_id); });
}

// The quarterly return: the figures, what is owed, approval.
void AddReturnCommands(CLI::App& app, CommandLine& cl) {
  auto* c_report = StoreCommand(app, cl, "report", "the quarterly return, read from the store",
                                &cl.report, RunReport);
  c_report->add_option("--fy", cl.report.fy, "financial year, e.g. 2023 for 2023/24")->required();
  c_report->add_option("--quarter", cl.report.quarter, "Q1, Q2, Q3 or Q4");
  c_report->add_option("--format", cl.report.format, "table, csv, json or xlsx")
      ->default_val("table");
  c_report->add_option("--out", cl.report.out, "output file (xlsx)");
  c_report->add_option("--schema", cl.report.schema, "forms and indicators directory");

  auto* c_owed = StoreCommand(
      app, cl, "owed",
      "which partner returns are entered, due or owed (past their due date), per owner", &cl.owed,
      RunOwed);
  c_owed->add_option("--fy", cl.owed.fy, "financial year, e.g. 2023 for 2023/24")->required();
  c_owed->add_option("--quarter", cl.owed.quarter, "Q1, Q2, Q3 or Q4");
  c_owed->add_option("--org", cl.owed.org, "one owner org only");
  c_owed->add_flag("--json", cl.owed.as_json, "machine-readable output");
  c_owed->add_option("--schema", cl.owed.schema, "forms and indicators directory");

  auto* c_approve = StoreCommand(app, cl, "approve", "freeze a quarter's return (or restate it)",
                                 &cl.approve, RunApprove);
  c_approve->add_option("--fy", cl.approve.fy, "financial year")->required();
  c_approve->add_option("--quarter", cl.approve.quarter, "Q1, Q2, Q3 or Q4")->required();
  c_approve->add_option("--user", cl.approve.user, "the coordinator approving")->required();
  c_approve->add_option("--schema", cl.approve.schema, "forms and indicators directory");
}

// Records and accountability: conflicts, exports, retention, the audit log.
void AddRecordCommands(CLI::App& app, CommandLine& cl) {
  auto* c_conflicts = app.add_subcommand("conflicts", "concurrent edits that lost, for review");
  c_conflicts->add_option("--data", cl.data, kDataHelp);
  c_conflicts->add_flag("--json", cl.as_json, "machine-readable output");
  c_conflicts->add_option("--schema", cl.conflicts_schema,
                          "forms directory (which fields are sensitive)");
  c_conflicts->callback([&] {
    cl.rc = RunConflicts({cl.data, cl.store_url}, cl.conflicts_schema, cl.as_json);
  });

  auto* c_export = StoreCommand(
      app, cl, "export", "one form's records (sensitive fields on request)", &cl.exp, RunExport);
  c_export->add_option("--form", cl.exp.form, "form name, e.g. outreach_contact")->required();
  c_export->add_option("--fy", cl.exp.fy, "only this financial year (by occurred_at)");
  c_export->add_option("--quarter", cl.exp.quarter, "only this quarter of --fy (Q1..Q4)");
  c_export->add_option("--org", cl.exp.org, "only this partner organisation");
  c_export->add_flag("--include-sensitive", cl.exp.include_sensitive,
                     "include fields marked sensitive (needs --reason; audited)");
  c_export->add_option("--reason", cl.exp.reason, "why sensitive fields are needed (audited)");
  c_export->add_option("--format", cl.exp.format, "csv or json")->default_val("csv");
  c_export->add_option("--out", cl.exp.out, "write to this file instead of stdout");
  c_export->add_option("--schema", cl.exp.schema, "forms directory");
  c_export->add_option("--attachments", cl.exp.attachments,
                       "also write the records' photos into this directory (audited)");

  auto* c_purge = StoreCommand(app, cl, "purge", "remove records older than the retention policy",
                               &cl.purge, RunPurge);
  c_purge->add_flag("--dry-run", cl.purge.dry_run, "only say what would be removed");
  c_purge->add_option("--policy", cl.purge.policy,
                      "retention policy (default schema/retention.json)");
  c_purge->add_option("--schema", cl.purge.schema, "forms directory");

  auto* c_audit = StoreCommand(app, cl, "audit", "who did what: the append-only audit log",
                               &cl.audit, RunAudit);
  c_audit->add_option("--since", cl.audit.since, "from this date or ISO 8601 date-time");
  c_audit->add_option("--user", cl.audit.user, "only this actor");
  c_audit->add_option("--device", cl.audit.device, "only this device");
  c_audit->add_option("--action", cl.audit.action,
                      "only this action (enrol, token, revoke, rotate, renew, signout, push, "
                      "correct, unblock, pull, report, explain, export, export_records, approve, "
                      "purge, devices, conflicts, audit, migrate_return, safeguarding_view, "
                      "safeguarding_acknowledge, safeguarding_action, hotspots)");
  c_audit->add_option("--limit", cl.audit.limit, "the most recent N entries")
      ->default_val(1000)
      ->check(CLI::Range(1, 1'000'000));
  c_audit->add_flag("--json", cl.audit.as_json, "machine-readable output");
}

// Backups: the key, taking, checking and restoring them (docs/operations.md).
void AddBackupCommands(CLI::App& app, CommandLine& cl) {
  auto* c_key = app.add_subcommand("backup-key", "make a new key that seals backups");
  c_key->add_option("--out", cl.key_file, "where to write it (never overwritten)")->required();
  c_key->callback([&] { cl.rc = RunBackupKey(cl.key_file); });

  auto* c_backup = StoreCommand(app, cl, "backup",
                                "a sealed, checksummed copy of the store, taken while it serves",
                                &cl.backup, RunBackup);
  c_backup->add_option("--key", cl.backup.key, "the backup key file")->required();
  c_backup->add_option("--out", cl.backup.out, "the backup file to write");
  c_backup->add_option("--out-dir", cl.backup.out_dir,
                       "write beatbook-TIME.bbk in this folder instead");
  c_backup->add_option("--keep", cl.backup.keep, "with --out-dir: keep the newest N (0: all)")
      ->check(CLI::Range(0, 100000));

  auto* c_verify = app.add_subcommand("verify-backup", "check a backup can be restored");
  c_verify->add_option("--key", cl.key_file, "the backup key file")->required();
  c_verify->add_option("file", cl.backup_file, "the backup file")->required();
  c_verify->callback([&] { cl.rc = RunVerifyBackup(cl.key_file, cl.backup_file); });

  auto* c_restore =
      app.add_subcommand("restore", "put a backup back as the store (stop the server first)");
  c_restore->add_option("--data", cl.restore.data, kDataHelp)->required();
  c_restore->add_option("--key", cl.restore.key, "the backup key file")->required();
  c_restore->add_option("--from", cl.restore.from, "the backup file")->required();
  c_restore->callback([&] { cl.rc = RunRestore(cl.restore); });

  auto* c_epoch = app.add_subcommand(
      "new-epoch", "tell devices the store went back in time (after a PostgreSQL restore)");
  c_epoch->add_option("--data", cl.data, kDataHelp);
  c_epoch->callback([&] { cl.rc = RunNewEpoch({cl.data, cl.store_url}); });
}

}  // namespace

// Forms as XLSForm spreadsheets (docs/xlsform.md).
void AddFormsCommands(CLI::App& app, CommandLine& cl) {
  auto* c_forms = app.add_subcommand("forms", "forms as XLSForm spreadsheets: import, export");
  c_forms->require_subcommand(1);
  auto* c_import =
      c_forms->add_subcommand("import", "make an XLSForm (.xlsx) the next version of its form");
  c_import->add_option("file", cl.forms_import.file, "the XLSForm, FILE.xlsx")->required();
  c_import->add_option("--schema", cl.forms_import.schema, "the forms directory to write into")
      ->required();
  c_import->add_flag("--dry-run", cl.forms_import.dry_run, "check and say what would be written");
  c_import->add_flag("--json", cl.forms_import.as_json, "machine-readable output");
  c_import->add_flag("--allow-dropped-rules", cl.forms_import.allow_dropped_rules,
                     "let the new version leave out rules of the latest (who may log it, "
                     "sensitive fields, ...)");
  c_import->callback([&] { cl.rc = RunFormsImport(cl.forms_import); });
  auto* c_export = c_forms->add_subcommand("export", "write a form as an XLSForm (.xlsx)");
  c_export->add_option("form", cl.forms_export.form, "form name, e.g. outreach_contact")
      ->required();
  c_export->add_option("--out", cl.forms_export.out, "the .xlsx file to write")->required();
  c_export->add_option("--version", cl.forms_export.version, "that version (default the latest)");
  c_export->add_option("--schema", cl.forms_export.schema, "forms directory");
  c_export->callback([&] { cl.rc = RunFormsExport(cl.forms_export); });
}

void AddCommands(CLI::App& app, CommandLine& cl) {
  // Every command: the PostgreSQL store instead of the embedded one in --data.
  app.add_option("--store", cl.store_url,
                 "a PostgreSQL store, postgresql://USER@HOST/DB (instead of --data DIR)");
  // Options from a file: one [section] per command, keys are its long options
  // (packaging/sync_server.conf); the command line overrides the file.
  app.set_config("--config", "",
                 "read options from this file (e.g. /etc/beatbook/sync_server.conf)");
  app.fallthrough();
  AddServeCommands(app, cl);
  AddDeviceCommands(app, cl);
  AddReturnCommands(app, cl);
  AddRecordCommands(app, cl);
  AddBackupCommands(app, cl);
  AddFormsCommands(app, cl);
}

}  // namespace beatbook::server
