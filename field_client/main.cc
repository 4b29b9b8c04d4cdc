// field_client: the field tablet tool. Logs records offline and syncs them with sync_server.
// Command-line contract: docs/interfaces.md (and README.md); the commands: command_line.h.
#include <CLI/CLI.hpp>

#include <cstdio>

#include "beatbook/fault.h"
#include "field_client/command_line.h"

int main(int argc, char** argv) {
  // Test hooks set by accident kill the process or fail every write: say so before anything.
  for (const std::string& warning : beatbook::FaultHookWarnings()) {
    std::fprintf(stderr, "%s: WARNING: %s\n", "field_client", warning.c_str());
  }
  CLI::App app{"Beatbook field client: offline capture and sync for community safety field work"};
  app.require_subcommand(1);
  field_client::CommandLine cl;
  field_client::AddCommands(app, cl);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return cl.rc;
}
