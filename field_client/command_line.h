// field_client's command line: every subcommand, its options and what it runs
// (docs/interfaces.md). main() makes a CommandLine, adds the commands and parses.
//
//   CLI::App app{"..."};
//   CommandLine cl;
//   AddCommands(app, cl);
//   app.parse(argc, argv);  // runs the chosen command; its exit code is then in cl.rc
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "field_client/commands.h"

namespace field_client {

// What the options are parsed into. It must outlive parsing: the commands' callbacks read it.
struct CommandLine {
  int rc = 0;  // the chosen command's exit code
  InitOptions init;
  LogOptions log;
  AppCommandOptions app_options;
  SyncCommandOptions sync, rotate;
  ReportCommandOptions report;
  // Shared by the smaller commands (one runs per invocation).
  std::string data, form, id, draft_id, occurred_at, owed_quarter, language, field, file;
  std::vector<std::string> sets, finish_sets;
  bool as_json = false, confirm_unusual = false;
  int owed_fy = 0;
};

// Every subcommand.
void AddCommands(CLI::App& app, CommandLine& cl);

}  // namespace field_client
