// sync_server's command line: every subcommand, its options and what it runs
// (docs/interfaces.md). main() makes a CommandLine, adds the commands and parses.
//
//   CLI::App app{"..."};
//   CommandLine cl;
//   AddCommands(app, cl);
//   app.parse(argc, argv);  // runs the chosen command; its exit code is then in cl.rc
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "sync_server/commands.h"

namespace beatbook::server {

// What the options are parsed into. It must outlive parsing: the commands' callbacks read it.
struct CommandLine {
  int rc = 0;             // the chosen command's exit code
  std::string store_url;  // --store, before any command: PostgreSQL instead of --data
  ServeOptions serve;
  TokenOptions token;
  ReturnReportOptions report;
  OwedOptions owed;
  ApproveOptions approve;
  ExportOptions exp;
  PurgeOptions purge;
  AuditOptions audit;
  BackupOptions backup;
  RestoreOptions restore;
  FormsImportOptions forms_import;
  FormsExportOptions forms_export;
  std::string key_file, backup_file;
  // Shared by the smaller commands (one runs per invocation).
  std::string data, device_id, conflicts_schema;
  bool as_json = false;
};

// Every subcommand, and the --store option they share.
void AddCommands(CLI::App& app, CommandLine& cl);

}  // namespace beatbook::server
