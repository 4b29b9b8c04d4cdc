// JSON as text for output and storage. nlohmann::json::dump() throws on a string that is not
// UTF-8; text stored before input was checked (or cut mid-character) must never stop a listing
// or an answer, so bytes that are not UTF-8 become U+FFFD instead.
//
//   std::cout << JsonText(devices) << "\n";
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace beatbook {

inline std::string JsonText(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace beatbook
