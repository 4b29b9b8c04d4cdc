// How both central stores keep a conflict's registers as text: {"v": value, "t": stamp,
// "d": device} (the base stamp is not kept).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "beatbook/record.h"

namespace beatbook::server {

inline nlohmann::json StoredRegisterJson(const Register& r) {
  return {{"v", r.v}, {"t", r.t}, {"d", r.d}};
}

inline Register StoredRegisterFrom(const std::string& text) {
  nlohmann::json j = nlohmann::json::parse(text);
  return Register{j["v"], j["t"].get<std::int64_t>(), j["d"].get<std::string>(), 0};
}

}  // namespace beatbook::server
