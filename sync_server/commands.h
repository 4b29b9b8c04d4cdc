// sync_server's commands. Each returns the process exit code and reports its own errors.
#pragma once

#include <string>

namespace beatbook::server {

struct ServeOptions {
  std::string data;
  std::string listen;
  std::string schema;  // forms and indicators.json directory
  int threads = 0;
  bool allow_insecure_http = false;
};
int RunServe(const ServeOptions& o);

struct TokenOptions {
  std::string data, user, org, role, schema;
  int ttl_hours = 168;
};
int RunToken(const TokenOptions& o);

int RunDevices(const std::string& data, bool as_json);
// Revokes a device: its next request is refused and it wipes its local data.
int RunRevoke(const std::string& data, const std::string& device_id);
// Concurrent writes that lost a merge, for the coordinator to review.
int RunConflicts(const std::string& data, bool as_json);

struct ReportOptions {
  std::string data, schema, format = "table", out;
  int fy = 0;
  std::string quarter;
};
int RunReport(const ReportOptions& o);

struct ApproveOptions {
  std::string data, schema, user, quarter;
  int fy = 0;
};
int RunApprove(const ApproveOptions& o);

}  // namespace beatbook::server
