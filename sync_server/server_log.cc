#include "sync_server/server_log.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "beatbook/json_text.h"

namespace beatbook::server {

using nlohmann::json;

namespace {

std::shared_ptr<spdlog::logger> Logger() {
  static std::shared_ptr<spdlog::logger> logger = [] {
    auto l = spdlog::stderr_logger_mt("beatbook");
    // The time and level come from spdlog; the message is the rest of the object's members.
    l->set_pattern(R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l",%v})",
                   spdlog::pattern_time_type::utc);
    l->flush_on(spdlog::level::trace);  // a line is written whole as it comes
    return l;
  }();
  return logger;
}

// `object`'s members without its braces, for the pattern above.
std::string Members(const json& object) {
  std::string text = JsonText(object);
  return text.size() >= 2 ? text.substr(1, text.size() - 2) : "";
}

spdlog::level::level_enum SpdLevel(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return spdlog::level::debug;
    case LogLevel::kInfo:
      return spdlog::level::info;
    case LogLevel::kWarn:
      return spdlog::level::warn;
    case LogLevel::kError:
      break;
  }
  return spdlog::level::err;
}

}  // namespace

Status InitServerLog(const std::string& level) {
  static const std::pair<const char*, spdlog::level::level_enum> kLevels[] = {
      {"trace", spdlog::level::trace}, {"debug", spdlog::level::debug},
      {"info", spdlog::level::info},   {"warn", spdlog::level::warn},
      {"error", spdlog::level::err},   {"off", spdlog::level::off}};
  for (const auto& [name, value] : kLevels) {
    if (level == name) {
      Logger()->set_level(value);
      return Status::OK();
    }
  }
  return Status::InvalidArgument("log level '" + level +
                                 "' is not one of trace, debug, info, warn, error, off");
}

void LogRequest(const RequestRecord& r) {
  json line = {{"event", "request"},
               {"request_id", r.request_id},
               {"method", r.method},
               {"endpoint", r.endpoint},
               {"status", r.status},
               {"peer", r.peer},
               {"ms", static_cast<std::int64_t>(r.seconds * 1000 + 0.5)}};
  if (!r.device.empty()) {
    line["device"] = r.device;
    line["user"] = r.user;
    line["org"] = r.org;
  }
  if (!r.error.empty()) line["error"] = r.error;
  if (r.applied >= 0) {
    line["applied"] = r.applied;
    line["rejected"] = r.rejected;
  }
  // Server faults are errors; a client's mistakes and refusals are part of normal running.
  Logger()->log(r.status >= 500 ? spdlog::level::err : spdlog::level::info, Members(line));
}

void LogEvent(LogLevel level, const std::string& event, const json& detail) {
  json line = {{"event", event}};
  if (detail.is_object()) line.update(detail);
  Logger()->log(SpdLevel(level), Members(line));
}

}  // namespace beatbook::server
