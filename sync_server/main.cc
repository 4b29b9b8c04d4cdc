// sync_server: merges what field devices push into the central store and serves it back.
// Command-line contract: docs/interfaces.md (and README.md).
#include <sys/stat.h>
#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>

#include "beatbook/fault.h"
#include "sync_server/commands.h"

int main(int argc, char** argv) {
  // Whatever the server writes (its store, exports, workbooks) is for its own account only.
  ::umask(077);
  // Test hooks set by accident kill the process or fail every write: say so before anything.
  for (const std::string& warning : beatbook::FaultHookWarnings()) {
    std::fprintf(stderr, "%s: WARNING: %s\n", "sync_server", warning.c_str());
  }
  using namespace beatbook::server;
  CLI::App app{"Beatbook sync server: the central indicator store and the sync API"};
  app.require_subcommand(1);
  // Every command: the PostgreSQL store instead of the embedded one in --data.
  std::string store_url;
  app.add_option("--store", store_url,
                 "a PostgreSQL store, postgresql://USER@HOST/DB (instead of --data DIR)");
  app.fallthrough();
  int rc = 0;

  ServeOptions serve;
  auto* c_serve = app.add_subcommand("serve", "serve the sync API");
  c_serve->add_option("--data", serve.data, "central store directory (the embedded SQLite store)");
  c_serve->add_option("--listen", serve.listen, "HOST:PORT (port 0 picks a free one)")
      ->default_val("127.0.0.1:8080");
  c_serve->add_option("--schema", serve.schema, "forms directory");
  c_serve->add_option("--threads", serve.threads, "I/O threads");
  c_serve
      ->add_option("--rate-limit", serve.rate_limit,
                   "requests per second per device, bursts of 10x (default 50; 0: none)")
      ->check(CLI::Range(0.0, 1e6));
  c_serve->add_option("--tls-cert", serve.tls_cert, "PEM certificate chain: serve HTTPS");
  c_serve->add_option("--tls-key", serve.tls_key, "PEM private key of --tls-cert");
  c_serve->add_flag("--allow-insecure-http", serve.allow_insecure_http,
                    "serve plain HTTP on a non-loopback address (insecure)");
  c_serve->add_option("--max-connections", serve.max_connections, "open connections at most")
      ->check(CLI::Range(1, 1'000'000));
  c_serve
      ->add_option("--max-connections-per-address", serve.max_connections_per_address,
                   "open connections one client address may hold (raise behind a load balancer)")
      ->check(CLI::Range(1, 1'000'000));
  c_serve
      ->add_option("--device-expiry-days", serve.device_expiry_days,
                   "refuse a device credential unused for this many days (default 180; 0: never)")
      ->check(CLI::Range(0, 36500));
  c_serve->callback([&] {
    serve.store_url = store_url;
    rc = RunServe(serve);
  });

  TokenOptions token;
  auto* c_token = app.add_subcommand("token", "print a one-time enrolment token");
  c_token->add_option("--data", token.data, "central store directory (the embedded SQLite store)");
  c_token->add_option("--user", token.user, "user name")->required();
  c_token->add_option("--org", token.org, "partner organisation code")->required();
  c_token
      ->add_option("--role", token.role,
                   "field_worker, partner_lead, coordinator, admin or board (reads the return on "
                   "the dashboard)")
      ->required();
  c_token->add_option("--ttl-hours", token.ttl_hours, "hours until the token expires")
      ->default_val(168);
  c_token->add_option("--schema", token.schema, "forms directory (for the org codes)");
  c_token->callback([&] {
    token.store_url = store_url;
    rc = RunToken(token);
  });

  std::string data;
  bool as_json = false;
  auto* c_devices = app.add_subcommand("devices", "enrolled devices and their last sync");
  c_devices->add_option("--data", data, "central store directory (the embedded SQLite store)");
  c_devices->add_flag("--json", as_json, "machine-readable output");
  c_devices->callback([&] { rc = RunDevices({data, store_url}, as_json); });

  std::string device_id;
  auto* c_renew = app.add_subcommand("renew", "renew a device credential that expired unused");
  c_renew->add_option("--data", data, "central store directory (the embedded SQLite store)");
  c_renew->add_option("--device", device_id, "device id, as `devices` lists it")->required();
  c_renew->callback([&] { rc = RunRenew({data, store_url}, device_id); });

  auto* c_revoke = app.add_subcommand("revoke", "revoke a device (lost, stolen, or its user left)");
  c_revoke->add_option("--data", data, "central store directory (the embedded SQLite store)");
  c_revoke->add_option("--device", device_id, "device id, as `devices` lists it")->required();
  c_revoke->callback([&] { rc = RunRevoke({data, store_url}, device_id); });

  auto* c_conflicts = app.add_subcommand("conflicts", "concurrent edits that lost, for review");
  c_conflicts->add_option("--data", data, "central store directory (the embedded SQLite store)");
  c_conflicts->add_flag("--json", as_json, "machine-readable output");
  std::string conflicts_schema;
  c_conflicts->add_option("--schema", conflicts_schema,
                          "forms directory (which fields are sensitive)");
  c_conflicts->callback([&] { rc = RunConflicts({data, store_url}, conflicts_schema, as_json); });

  ReturnReportOptions report;
  auto* c_report = app.add_subcommand("report", "the quarterly return, read from the store");
  c_report->add_option("--data", report.data,
                       "central store directory (the embedded SQLite store)");
  c_report->add_option("--fy", report.fy, "financial year, e.g. 2023 for 2023/24")->required();
  c_report->add_option("--quarter", report.quarter, "Q1, Q2, Q3 or Q4");
  c_report->add_option("--format", report.format, "table, csv, json or xlsx")->default_val("table");
  c_report->add_option("--out", report.out, "output file (xlsx)");
  c_report->add_option("--schema", report.schema, "forms and indicators directory");
  c_report->callback([&] {
    report.store_url = store_url;
    rc = RunReport(report);
  });

  OwedOptions owed;
  auto* c_owed = app.add_subcommand(
      "owed", "which partner returns are entered, due or owed (past their due date), per owner");
  c_owed->add_option("--data", owed.data, "central store directory (the embedded SQLite store)");
  c_owed->add_option("--fy", owed.fy, "financial year, e.g. 2023 for 2023/24")->required();
  c_owed->add_option("--quarter", owed.quarter, "Q1, Q2, Q3 or Q4");
  c_owed->add_option("--org", owed.org, "one owner org only");
  c_owed->add_flag("--json", owed.as_json, "machine-readable output");
  c_owed->add_option("--schema", owed.schema, "forms and indicators directory");
  c_owed->callback([&] {
    owed.store_url = store_url;
    rc = RunOwed(owed);
  });

  ApproveOptions approve;
  auto* c_approve = app.add_subcommand("approve", "freeze a quarter's return (or restate it)");
  c_approve->add_option("--data", approve.data,
                        "central store directory (the embedded SQLite store)");
  c_approve->add_option("--fy", approve.fy, "financial year")->required();
  c_approve->add_option("--quarter", approve.quarter, "Q1, Q2, Q3 or Q4")->required();
  c_approve->add_option("--user", approve.user, "the coordinator approving")->required();
  c_approve->add_option("--schema", approve.schema, "forms and indicators directory");
  c_approve->callback([&] {
    approve.store_url = store_url;
    rc = RunApprove(approve);
  });

  ExportOptions exp;
  auto* c_export = app.add_subcommand("export", "one form's records (sensitive fields on request)");
  c_export->add_option("--data", exp.data, "central store directory (the embedded SQLite store)");
  c_export->add_option("--form", exp.form, "form name, e.g. outreach_contact")->required();
  c_export->add_option("--fy", exp.fy, "only this financial year (by occurred_at)");
  c_export->add_option("--quarter", exp.quarter, "only this quarter of --fy (Q1..Q4)");
  c_export->add_option("--org", exp.org, "only this partner organisation");
  c_export->add_flag("--include-sensitive", exp.include_sensitive,
                     "include fields marked sensitive (needs --reason; audited)");
  c_export->add_option("--reason", exp.reason, "why sensitive fields are needed (audited)");
  c_export->add_option("--format", exp.format, "csv or json")->default_val("csv");
  c_export->add_option("--out", exp.out, "write to this file instead of stdout");
  c_export->add_option("--schema", exp.schema, "forms directory");
  c_export->callback([&] {
    exp.store_url = store_url;
    rc = RunExport(exp);
  });

  PurgeOptions purge;
  auto* c_purge = app.add_subcommand("purge", "remove records older than the retention policy");
  c_purge->add_option("--data", purge.data, "central store directory (the embedded SQLite store)");
  c_purge->add_flag("--dry-run", purge.dry_run, "only say what would be removed");
  c_purge->add_option("--policy", purge.policy, "retention policy (default schema/retention.json)");
  c_purge->add_option("--schema", purge.schema, "forms directory");
  c_purge->callback([&] {
    purge.store_url = store_url;
    rc = RunPurge(purge);
  });

  AuditOptions audit;
  auto* c_audit = app.add_subcommand("audit", "who did what: the append-only audit log");
  c_audit->add_option("--data", audit.data, "central store directory (the embedded SQLite store)");
  c_audit->add_option("--since", audit.since, "from this date or ISO 8601 date-time");
  c_audit->add_option("--user", audit.user, "only this actor");
  c_audit->add_option("--device", audit.device, "only this device");
  c_audit->add_option("--action", audit.action,
                      "only this action (enrol, token, revoke, rotate, renew, signout, push, "
                      "correct, unblock, pull, report, explain, export, export_records, approve, "
                      "purge, devices, conflicts, audit, migrate_return)");
  c_audit->add_option("--limit", audit.limit, "the most recent N entries")
      ->default_val(1000)
      ->check(CLI::Range(1, 1'000'000));
  c_audit->add_flag("--json", audit.as_json, "machine-readable output");
  c_audit->callback([&] {
    audit.store_url = store_url;
    rc = RunAudit(audit);
  });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return rc;
}
