// What both central stores (SQLite and PostgreSQL) do alike, kept in one place: a conflict's
// registers as text, reading a pull cursor, a purged record's tombstone, the latest status of
// each milestone, and which roles a sign-in code may enrol.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "beatbook/record.h"
#include "beatbook/report.h"
#include "sync_server/store/central_store.h"

namespace beatbook::server {

// A conflict's register as stored: {"v": value, "t": stamp, "d": device} (no base stamp).
inline nlohmann::json StoredRegisterJson(const Register& r) {
  return {{"v", r.v}, {"t", r.t}, {"d", r.d}};
}

// Corruption (never an exception) if the stored text is not such a register.
inline Status StoredRegisterFrom(const std::string& text, Register* out) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("v") || !j.value("t", nlohmann::json()).is_number_integer() ||
      !j.value("d", nlohmann::json()).is_string()) {
    return Status::Corruption("a stored conflict's register is unreadable");
  }
  *out = Register{j["v"], j["t"].get<std::int64_t>(), j["d"].get<std::string>(), 0};
  return Status::OK();
}

// A stored whole number (a version, a count) read without exceptions; Corruption otherwise.
inline Status StoredInt(const std::string& text, const char* what, std::int64_t* out) {
  char* end = nullptr;
  long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0') {
    return Status::Corruption(std::string("the stored ") + what + " '" + text +
                              "' is not a number");
  }
  *out = v;
  return Status::OK();
}

// A stored role name read back; Corruption for a name this program does not know.
inline Status StoredRole(const std::string& text, Role* out) {
  std::optional<Role> role = ParseRole(text);
  if (!role) return Status::Corruption("the stored role '" + text + "' is not a role");
  *out = *role;
  return Status::OK();
}

// The sequence number a pull cursor stands for; InvalidArgument for one no server issued.
inline Status ParseCursor(const std::string& cursor, std::int64_t* after) {
  try {
    std::size_t used = 0;
    *after = std::stoll(cursor, &used);
    if (used == cursor.size() && *after >= 0) return Status::OK();
  } catch (const std::exception&) {
  }
  return Status::InvalidArgument("cursor '" + cursor + "' is not a cursor this server issued");
}

// What a purge leaves of `stored`: its envelope, marked purged, with no registers.
inline RecordState PurgedTombstone(const RecordState& stored) {
  RecordState t;
  t.id = stored.id;
  t.form = stored.form;
  t.form_version = stored.form_version;
  t.org = stored.org;
  t.author = stored.author;
  t.device = stored.device;
  t.purged = true;
  return t;
}

// Milestone statuses, fed in the order they were stamped; AppendTo adds one figure per
// (indicator, quarter) holding the latest.
class LatestMilestones {
 public:
  void Add(std::string indicator, int quarter, std::string status) {
    latest_[{std::move(indicator), quarter}] = std::move(status);
  }
  void AppendTo(int fy, std::vector<RawFigure>* out) const {
    for (const auto& [key, status] : latest_) {
      RawFigure f;
      f.indicator = key.first;
      f.fy = fy;
      f.quarter = key.second;
      f.records = 1;
      f.status = status;
      out->push_back(std::move(f));
    }
  }

 private:
  std::map<std::pair<std::string, int>, std::string> latest_;
};

// PermissionDenied (the code stays unused) unless a code for `role` may enrol this client.
inline Status CheckEnrolRole(const EnrolRequest& request, Role role) {
  if (request.roles_allowed.empty() || request.roles_allowed.Has(role)) return Status::OK();
  return Status::PermissionDenied(std::string("a ") + RoleName(role) +
                                  "'s sign-in code does not open the " + request.client +
                                  "; the code is still unused");
}

}  // namespace beatbook::server
