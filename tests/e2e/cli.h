// Running field_client and sync_server as a user would, for end-to-end tests.
#pragma once

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "support/process.h"

namespace beatbook::test {

inline CommandResult FieldClient(std::vector<std::string> args, const std::string& input = "") {
  args.insert(args.begin(), FieldClientBin());
  return Run(args, input);
}

// field_client run by the worker whose PIN is `pin` on a shared tablet (FIELD_CLIENT_PIN).
inline CommandResult FieldClientWithPin(const std::string& pin, std::vector<std::string> args) {
  args.insert(args.begin(), FieldClientBin());
  return Run(args, "", {{"FIELD_CLIENT_PIN", pin}});
}

inline CommandResult SyncServer(std::vector<std::string> args) {
  args.insert(args.begin(), SyncServerBin());
  return Run(args);
}

// Runs field_client expecting success; returns stdout without the trailing newline.
inline std::string Ok(std::vector<std::string> args, const std::string& input = "") {
  CommandResult r = FieldClient(args, input);
  INFO("field_client " << args[0] << " stderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  std::string out = r.out;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

inline nlohmann::json OkJson(std::vector<std::string> args) {
  return nlohmann::json::parse(Ok(std::move(args)));
}

}  // namespace beatbook::test
