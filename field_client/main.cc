// field_client: the field tablet tool. Logs records offline and syncs them with sync_server.
// Command-line contract: docs/interfaces.md (and README.md).
#include <CLI/CLI.hpp>

#include <cstdio>

#include "beatbook/fault.h"
#include "field_client/commands.h"

int main(int argc, char** argv) {
  // Test hooks set by accident kill the process or fail every write: say so before anything.
  for (const std::string& warning : beatbook::FaultHookWarnings()) {
    std::fprintf(stderr, "%s: WARNING: %s\n", "field_client", warning.c_str());
  }
  using namespace field_client;
  CLI::App app{"Beatbook field client: offline capture and sync for community safety field work"};
  app.require_subcommand(1);
  int rc = 0;

  InitOptions init;
  auto* c_init = app.add_subcommand("init", "create a stand-alone store, or enrol with a server");
  c_init->add_option("--data", init.data, "device store directory")->required();
  c_init->add_option("--user", init.user, "user name (stand-alone)");
  c_init->add_option("--org", init.org, "partner organisation code (stand-alone)");
  c_init->add_option("--role", init.role, "field_worker, partner_lead, coordinator or admin");
  c_init->add_option("--schema", init.schema, "forms directory (stand-alone)");
  c_init->add_option("--server", init.server, "sync server URL, e.g. http://127.0.0.1:8443");
  c_init->add_option("--token", init.token, "one-time enrolment token");
  c_init->add_option("--ca", init.ca, "CA certificate file to trust for the server");
  c_init->add_option("--device-name", init.device_name, "a label for this device");
  c_init->add_flag("--allow-insecure-http", init.allow_insecure_http,
                   "talk plain http:// to a server beyond this machine (insecure; kept)");
  c_init->add_flag("--pin", init.pin,
                   "a shared tablet: this worker signs in with a PIN (from FIELD_CLIENT_PIN or "
                   "asked); set when FIELD_CLIENT_PIN is set");
  c_init->callback([&] { rc = RunInit(init); });

  std::string data;
  bool as_json = false;
  auto* c_forms = app.add_subcommand("forms", "the forms this device can fill in");
  c_forms->add_option("--data", data, "device store directory")->required();
  c_forms->add_flag("--json", as_json, "machine-readable output");
  c_forms->callback([&] { rc = RunForms(data, as_json); });

  LogOptions log;
  auto* c_log = app.add_subcommand("log", "validate and store a record offline");
  c_log->add_option("--data", log.data, "device store directory")->required();
  c_log->add_option("form", log.form, "form name, e.g. outreach_contact");
  c_log->add_option("--set", log.sets, "FIELD=VALUE (multi-select: comma-separated)");
  c_log->add_option("--occurred-at", log.occurred_at, "ISO 8601 with offset (default: now)");
  c_log->add_option("--json", log.json_file, "bulk import from a JSON file, or - for stdin");
  c_log->add_option("--subject-name", log.subject_name,
                    "the person's name: hashed into subject_key here, never stored or sent");
  c_log->add_option("--subject-dob", log.subject_dob, "the person's date of birth, YYYY-MM-DD");
  c_log->add_flag("--confirm-unusual", log.confirm_unusual,
                  "store a return figure far outside its usual range (you have checked it)");
  c_log->add_option("--for", log.entered_for,
                    "coordinator: the owner org a partner return is entered for");
  c_log->add_flag("--draft", log.draft,
                  "keep it as a draft to finish later (not checked, never synced)");
  c_log->callback([&] { rc = RunLog(log); });

  auto* c_drafts = app.add_subcommand("drafts", "drafts kept on this device, to finish later");
  c_drafts->add_option("--data", data, "device store directory")->required();
  c_drafts->add_flag("--json", as_json, "machine-readable output");
  c_drafts->callback([&] { rc = RunDrafts(data, as_json); });

  std::string draft_id;
  auto* c_finish = app.add_subcommand("finish", "store a draft as a record (checked as log does)");
  c_finish->add_option("--data", data, "device store directory")->required();
  c_finish->add_option("id", draft_id, "draft id")->required();
  std::vector<std::string> finish_sets;
  c_finish->add_option("--set", finish_sets, "FIELD=VALUE to complete or change the draft");
  c_finish->callback([&] { rc = RunFinishDraft(data, draft_id, finish_sets); });

  auto* c_discard = app.add_subcommand("discard", "delete a draft");
  c_discard->add_option("--data", data, "device store directory")->required();
  c_discard->add_option("id", draft_id, "draft id")->required();
  c_discard->callback([&] { rc = RunDiscardDraft(data, draft_id); });

  AppCommandOptions app_options;
  auto* c_app = app.add_subcommand("app", "serve the worker's touch app on this machine");
  c_app->add_option("--data", app_options.data, "device store directory")->required();
  c_app->add_option("--listen", app_options.listen, "127.0.0.1:PORT (0 picks a free one)");
  c_app->callback([&] { rc = RunApp(app_options); });

  std::string form;
  auto* c_list = app.add_subcommand("list", "records on this device");
  c_list->add_option("--data", data, "device store directory")->required();
  c_list->add_option("--form", form, "only records of this form");
  c_list->add_flag("--json", as_json, "machine-readable output");
  c_list->callback([&] { rc = RunList(data, form, as_json); });

  std::string id;
  auto* c_show = app.add_subcommand("show", "one record");
  c_show->add_option("--data", data, "device store directory")->required();
  c_show->add_option("id", id, "record id")->required();
  c_show->add_flag("--json", as_json, "machine-readable output");
  c_show->callback([&] { rc = RunShow(data, id, as_json); });

  std::vector<std::string> sets;
  std::string occurred_at;
  auto* c_edit = app.add_subcommand("edit", "change fields of a record");
  c_edit->add_option("--data", data, "device store directory")->required();
  c_edit->add_option("id", id, "record id")->required();
  c_edit->add_option("--set", sets, "FIELD=VALUE (empty VALUE clears the field)");
  c_edit->add_option("--occurred-at", occurred_at, "new ISO 8601 date-time");
  bool confirm_unusual = false;
  c_edit->add_flag("--confirm-unusual", confirm_unusual,
                   "store a return figure far outside its usual range (you have checked it)");
  c_edit->callback([&] { rc = RunEdit(data, id, sets, occurred_at, confirm_unusual); });

  int owed_fy = 0;
  std::string owed_quarter;
  auto* c_owed = app.add_subcommand(
      "owed", "what this device's org still owes: returns due or past their due date");
  c_owed->add_option("--data", data, "device store directory")->required();
  c_owed->add_option("--fy", owed_fy, "financial year (default: that of the latest quarter ended)");
  c_owed->add_option("--quarter", owed_quarter, "Q1, Q2, Q3 or Q4");
  c_owed->add_flag("--json", as_json, "machine-readable output");
  c_owed->callback([&] { rc = RunOwed(data, owed_fy, owed_quarter, as_json); });

  auto* c_delete = app.add_subcommand("delete", "delete a record (a tombstone that syncs)");
  c_delete->add_option("--data", data, "device store directory")->required();
  c_delete->add_option("id", id, "record id")->required();
  c_delete->callback([&] { rc = RunDelete(data, id); });

  auto* c_status = app.add_subcommand("status", "identity, changes waiting, rejections, last sync");
  c_status->add_option("--data", data, "device store directory")->required();
  c_status->add_flag("--json", as_json, "machine-readable output");
  c_status->callback([&] { rc = RunStatus(data, as_json); });

  SyncCommandOptions sync;
  auto* c_sync = app.add_subcommand("sync", "push waiting changes, pull what this device may see");
  c_sync->add_option("--data", sync.data, "device store directory")->required();
  c_sync->add_flag("--json", sync.as_json, "machine-readable output");
  c_sync->add_option("--ca", sync.ca, "CA certificate file to trust for the server");
  c_sync->add_option("--timeout", sync.timeout_sec, "seconds one request may take (default 60)")
      ->check(CLI::Range(1, 3600));
  c_sync->add_option("--retries", sync.retries, "retries of a request that failed (default 3)")
      ->check(CLI::Range(0, 20));
  c_sync->add_flag("--allow-insecure-http", sync.allow_insecure_http,
                   "plain http:// to a server beyond this machine, this once (insecure)");
  c_sync->callback([&] { rc = RunSync(sync); });

  SyncCommandOptions rotate;
  auto* c_rotate = app.add_subcommand("rotate", "replace this device's credential with a new one");
  c_rotate->add_option("--data", rotate.data, "device store directory")->required();
  c_rotate->add_option("--ca", rotate.ca, "CA certificate file to trust for the server");
  c_rotate->add_flag("--allow-insecure-http", rotate.allow_insecure_http,
                     "plain http:// to a server beyond this machine, this once (insecure)");
  c_rotate->callback([&] { rc = RunRotate(rotate); });

  ReportCommandOptions report;
  auto* c_report =
      app.add_subcommand("report", "the quarterly return from the server (coordinator)");
  c_report->add_option("--data", report.data, "device store directory")->required();
  c_report->add_option("--fy", report.fy, "financial year, e.g. 2023 for 2023/24")->required();
  c_report->add_option("--quarter", report.quarter, "Q1, Q2, Q3 or Q4");
  c_report->add_option("--format", report.format, "table, csv or json")->default_val("table");
  c_report->add_option("--ca", report.ca, "CA certificate file to trust for the server");
  c_report->add_flag("--allow-insecure-http", report.allow_insecure_http,
                     "plain http:// to a server beyond this machine, this once (insecure)");
  c_report->callback([&] { rc = RunReport(report); });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return rc;
}
