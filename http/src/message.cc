#include "beatbook/http/message.h"

namespace beatbook::http {

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
