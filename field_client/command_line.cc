#include "field_client/command_line.h"

namespace field_client {

namespace {

// Setting up a device: init, the forms it has, the touch app.
void AddDeviceCommands(CLI::App& app, CommandLine& cl) {
  auto* c_init = app.add_subcommand("init", "create a stand-alone store, or enrol with a server");
  c_init->add_option("--data", cl.init.data, "device store directory")->required();
  c_init->add_option("--user", cl.init.user, "user name (stand-alone)");
  c_init->add_option("--org", cl.init.org, "partner organisation code (stand-alone)");
  c_init->add_option("--role", cl.init.role, "field_worker, partner_lead, coordinator or admin");
  c_init->add_option("--schema", cl.init.schema, "forms directory (stand-alone)");
  c_init->add_option("--server", cl.init.server, "sync server URL, e.g. http://127.0.0.1:8443");
  c_init->add_option("--token", cl.init.token, "one-time enrolment token");
  c_init->add_option("--ca", cl.init.ca, "CA certificate file to trust for the server");
  c_init->add_option("--device-name", cl.init.device_name, "a label for this device");
  c_init->add_flag("--allow-insecure-http", cl.init.allow_insecure_http,
                   "talk plain http:// to a server beyond this machine (insecure; kept)");
  c_init->add_flag("--pin", cl.init.pin,
                   "a shared tablet: this worker signs in with a PIN (from FIELD_CLIENT_PIN or "
                   "asked); set when FIELD_CLIENT_PIN is set");
  c_init->callback([&] { cl.rc = RunInit(cl.init); });

  auto* c_forms = app.add_subcommand("forms", "the forms this device can fill in");
  c_forms->add_option("--data", cl.data, "device store directory")->required();
  c_forms->add_flag("--json", cl.as_json, "machine-readable output");
  c_forms->add_option("--language", cl.language,
                      "show labels in this language (default: the one chosen with `language`)");
  c_forms->callback([&] { cl.rc = RunForms(cl.data, cl.as_json, cl.language); });

  auto* c_places = app.add_subcommand("places", "the partnership's named places, to log a place");
  c_places->add_option("--data", cl.data, "device store directory")->required();
  c_places->add_flag("--json", cl.as_json, "machine-readable output");
  c_places->callback([&] { cl.rc = RunPlaces(cl.data, cl.as_json); });

  auto* c_language =
      app.add_subcommand("language", "the language forms are shown in: list them, or choose one");
  c_language->add_option("--data", cl.data, "device store directory")->required();
  c_language->add_option("code", cl.language, "the language to choose, e.g. cy");
  c_language->add_flag("--json", cl.as_json, "machine-readable output");
  c_language->callback([&] { cl.rc = RunLanguage(cl.data, cl.language, cl.as_json); });

  auto* c_app = app.add_subcommand("app", "serve the worker's touch app on this machine");
  c_app->add_option("--data", cl.app_options.data, "device store directory")->required();
  c_app->add_option("--listen", cl.app_options.listen, "127.0.0.1:PORT (0 picks a free one)");
  c_app->callback([&] { cl.rc = RunApp(cl.app_options); });
}

// Records on the device: log, list, show, edit, delete, status.
void AddRecordCommands(CLI::App& app, CommandLine& cl) {
  auto* c_log = app.add_subcommand("log", "validate and store a record offline");
  c_log->add_option("--data", cl.log.data, "device store directory")->required();
  c_log->add_option("form", cl.log.form, "form name, e.g. outreach_contact");
  c_log->add_option("--set", cl.log.sets, "FIELD=VALUE (multi-select: comma-separated)");
  c_log->add_option("--occurred-at", cl.log.occurred_at, "ISO 8601 with offset (default: now)");
  c_log->add_option("--json", cl.log.json_file, "bulk import from a JSON file, or - for stdin");
  c_log->add_option("--subject-name", cl.log.subject_name,
                    "the person's name: hashed into subject_key here, never stored or sent");
  c_log->add_option("--subject-dob", cl.log.subject_dob, "the person's date of birth, YYYY-MM-DD");
  c_log->add_flag("--confirm-unusual", cl.log.confirm_unusual,
                  "store a return figure far outside its usual range (you have checked it)");
  c_log->add_option("--for", cl.log.entered_for,
                    "coordinator: the owner org a partner return is entered for");
  c_log->add_flag("--draft", cl.log.draft,
                  "keep it as a draft to finish later (not checked, never synced)");
  c_log->callback([&] { cl.rc = RunLog(cl.log); });

  auto* c_list = app.add_subcommand("list", "records on this device");
  c_list->add_option("--data", cl.data, "device store directory")->required();
  c_list->add_option("--form", cl.form, "only records of this form");
  c_list->add_flag("--json", cl.as_json, "machine-readable output");
  c_list->callback([&] { cl.rc = RunList(cl.data, cl.form, cl.as_json); });

  auto* c_show = app.add_subcommand("show", "one record");
  c_show->add_option("--data", cl.data, "device store directory")->required();
  c_show->add_option("id", cl.id, "record id")->required();
  c_show->add_flag("--json", cl.as_json, "machine-readable output");
  c_show->callback([&] { cl.rc = RunShow(cl.data, cl.id, cl.as_json); });

  auto* c_edit = app.add_subcommand("edit", "change fields of a record");
  c_edit->add_option("--data", cl.data, "device store directory")->required();
  c_edit->add_option("id", cl.id, "record id")->required();
  c_edit->add_option("--set", cl.sets, "FIELD=VALUE (empty VALUE clears the field)");
  c_edit->add_option("--occurred-at", cl.occurred_at, "new ISO 8601 date-time");
  c_edit->add_flag("--confirm-unusual", cl.confirm_unusual,
                   "store a return figure far outside its usual range (you have checked it)");
  c_edit->callback(
      [&] { cl.rc = RunEdit(cl.data, cl.id, cl.sets, cl.occurred_at, cl.confirm_unusual); });

  auto* c_delete = app.add_subcommand("delete", "delete a record (a tombstone that syncs)");
  c_delete->add_option("--data", cl.data, "device store directory")->required();
  c_delete->add_option("id", cl.id, "record id")->required();
  c_delete->callback([&] { cl.rc = RunDelete(cl.data, cl.id); });

  auto* c_attach = app.add_subcommand(
      "attach", "attach a photo (JPEG or PNG) to a record's photo question; sync uploads it");
  c_attach->add_option("--data", cl.data, "device store directory")->required();
  c_attach->add_option("id", cl.id, "record id")->required();
  c_attach->add_option("field", cl.field, "the photo question")->required();
  c_attach->add_option("file", cl.file, "the photo's file")->required();
  c_attach->callback([&] { cl.rc = RunAttach(cl.data, cl.id, cl.field, cl.file); });

  auto* c_status = app.add_subcommand("status", "identity, changes waiting, rejections, last sync");
  c_status->add_option("--data", cl.data, "device store directory")->required();
  c_status->add_flag("--json", cl.as_json, "machine-readable output");
  c_status->callback([&] { cl.rc = RunStatus(cl.data, cl.as_json); });
}

// Drafts kept to finish later.
void AddDraftCommands(CLI::App& app, CommandLine& cl) {
  auto* c_drafts = app.add_subcommand("drafts", "drafts kept on this device, to finish later");
  c_drafts->add_option("--data", cl.data, "device store directory")->required();
  c_drafts->add_flag("--json", cl.as_json, "machine-readable output");
  c_drafts->callback([&] { cl.rc = RunDrafts(cl.data, cl.as_json); });

  auto* c_finish = app.add_subcommand("finish", "store a draft as a record (checked as log does)");
  c_finish->add_option("--data", cl.data, "device store directory")->required();
  c_finish->add_option("id", cl.draft_id, "draft id")->required();
  c_finish->add_option("--set", cl.finish_sets, "FIELD=VALUE to complete or change the draft");
  c_finish->callback([&] { cl.rc = RunFinishDraft(cl.data, cl.draft_id, cl.finish_sets); });

  auto* c_discard = app.add_subcommand("discard", "delete a draft");
  c_discard->add_option("--data", cl.data, "device store directory")->required();
  c_discard->add_option("id", cl.draft_id, "draft id")->required();
  c_discard->callback([&] { cl.rc = RunDiscardDraft(cl.data, cl.draft_id); });
}

// Talking to the server: sync, rotate, the return, what is owed.
void AddServerCommands(CLI::App& app, CommandLine& cl) {
  auto* c_sync = app.add_subcommand("sync", "push waiting changes, pull what this device may see");
  c_sync->add_option("--data", cl.sync.data, "device store directory")->required();
  c_sync->add_flag("--json", cl.sync.as_json, "machine-readable output");
  c_sync->add_option("--ca", cl.sync.ca, "CA certificate file to trust for the server");
  c_sync->add_option("--timeout", cl.sync.timeout_sec, "seconds one request may take (default 60)")
      ->check(CLI::Range(1, 3600));
  c_sync->add_option("--retries", cl.sync.retries, "retries of a request that failed (default 3)")
      ->check(CLI::Range(0, 20));
  c_sync->add_flag("--allow-insecure-http", cl.sync.allow_insecure_http,
                   "plain http:// to a server beyond this machine, this once (insecure)");
  c_sync->callback([&] { cl.rc = RunSync(cl.sync); });

  auto* c_rotate = app.add_subcommand("rotate", "replace this device's credential with a new one");
  c_rotate->add_option("--data", cl.rotate.data, "device store directory")->required();
  c_rotate->add_option("--ca", cl.rotate.ca, "CA certificate file to trust for the server");
  c_rotate->add_flag("--allow-insecure-http", cl.rotate.allow_insecure_http,
                     "plain http:// to a server beyond this machine, this once (insecure)");
  c_rotate->callback([&] { cl.rc = RunRotate(cl.rotate); });

  auto* c_report =
      app.add_subcommand("report", "the quarterly return from the server (coordinator)");
  c_report->add_option("--data", cl.report.data, "device store directory")->required();
  c_report->add_option("--fy", cl.report.fy, "financial year, e.g. 2023 for 2023/24")->required();
  c_report->add_option("--quarter", cl.report.quarter, "Q1, Q2, Q3 or Q4");
  c_report->add_option("--format", cl.report.format, "table, csv or json")->default_val("table");
  c_report->add_option("--ca", cl.report.ca, "CA certificate file to trust for the server");
  c_report->add_flag("--allow-insecure-http", cl.report.allow_insecure_http,
                     "plain http:// to a server beyond this machine, this once (insecure)");
  c_report->callback([&] { cl.rc = RunReport(cl.report); });

  auto* c_owed = app.add_subcommand(
      "owed", "what this device's org still owes: returns due or past their due date");
  c_owed->add_option("--data", cl.data, "device store directory")->required();
  c_owed->add_option("--fy", cl.owed_fy,
                     "financial year (default: that of the latest quarter ended)");
  c_owed->add_option("--quarter", cl.owed_quarter, "Q1, Q2, Q3 or Q4");
  c_owed->add_flag("--json", cl.as_json, "machine-readable output");
  c_owed->callback([&] { cl.rc = RunOwed(cl.data, cl.owed_fy, cl.owed_quarter, cl.as_json); });
}

}  // namespace

void AddCommands(CLI::App& app, CommandLine& cl) {
  AddDeviceCommands(app, cl);
  AddRecordCommands(app, cl);
  AddDraftCommands(app, cl);
  AddServerCommands(app, cl);
}

}  // namespace field_client
