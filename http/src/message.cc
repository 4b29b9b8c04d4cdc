#include "beatbook/http/message.h"

namespace beatbook::http {

bool IsLoopbackHost(const std::string& host) {
  return host.rfind("127.", 0) == 0 || host == "::1" || host.rfind("::ffff:127.", 0) == 0 ||
         host == "localhost";
}

const std::string& Request::Header(const std::string& name) const {
  static const std::string kNone;
  auto it = headers.find(name);
  return it == headers.end() ? kNone : it->second;
}

std::string Response::Text() const {
  if (!raw.empty()) return raw;
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace beatbook::http
