// The server's log (spdlog): one JSON object per line on standard error, which the journal keeps
// when systemd runs the server (packaging/). A line says when, how bad, and what: each answered
// request (its id, the device, user and org, the endpoint, status and error code, the time taken,
// a push's counts) and the server's own events (start, TLS reload, shutdown). Never record
// content, credentials or queries.
//
//   if (Status s = InitServerLog("info"); !s.ok()) ...   // trace, debug, info, warn, error, off
//   LogRequest(record);                                   // ApiOptions::on_request
//   LogEvent(LogLevel::kWarn, "tls_reload", {{"error", "..."}});
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "beatbook/status.h"
#include "sync_server/api/api.h"

namespace beatbook::server {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

// Sets up the log at `level`; InvalidArgument naming the levels if it is not one.
Status InitServerLog(const std::string& level);
void LogRequest(const RequestRecord& record);
void LogEvent(LogLevel level, const std::string& event, const nlohmann::json& detail = {});

}  // namespace beatbook::server
