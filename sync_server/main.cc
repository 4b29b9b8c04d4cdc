// sync_server: merges what field devices push into the central store and serves it back.
// Command-line contract: docs/interfaces.md (and README.md); the commands: command_line.h.
#include <sys/stat.h>
#include <CLI/CLI.hpp>

#include <cstdio>

#include "beatbook/fault.h"
#include "sync_server/command_line.h"

int main(int argc, char** argv) {
  // Whatever the server writes (its store, exports, workbooks) is for its own account only.
  ::umask(077);
  // Test hooks set by accident kill the process or fail every write: say so before anything.
  for (const std::string& warning : beatbook::FaultHookWarnings()) {
    std::fprintf(stderr, "%s: WARNING: %s\n", "sync_server", warning.c_str());
  }
  CLI::App app{"Beatbook sync server: the central indicator store and the sync API"};
  app.require_subcommand(1);
  beatbook::server::CommandLine cl;
  beatbook::server::AddCommands(app, cl);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return cl.rc;
}
