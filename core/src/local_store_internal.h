// What the files of LocalStore (local_store*.cc) share: not part of its interface.
#pragma once

#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

#include "beatbook/local_store.h"
#include "beatbook/status.h"

namespace beatbook::local_store_internal {

// A whole number this store wrote into its meta table, read without exceptions.
template <typename Int>
inline Status MetaInt(const std::string& text, const char* key, Int* out) {
  char* end = nullptr;
  long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0') {
    return Status::Corruption(std::string("the device store's ") + key + " '" + text +
                              "' is not a number");
  }
  *out = static_cast<Int>(v);
  return Status::OK();
}

inline nlohmann::json IdentityToJson(const Identity& id) {
  return {{"user", id.user},
          {"org", id.org},
          {"role", RoleName(id.role)},
          {"device_id", id.device_id},
          {"server_url", id.server_url},
          {"secret", id.secret},
          {"ca_file", id.ca_file},
          {"subject_secret", id.subject_secret},
          {"allow_insecure_http", id.allow_insecure_http},
          {"server_reads_gzip", id.server_reads_gzip}};
}

}  // namespace beatbook::local_store_internal
