#include "beatbook/permissions.h"

namespace beatbook {

bool RoleWritesRecords(const std::string& role) {
  return role == "field_worker" || role == "partner_lead" || role == "coordinator";
}

std::string WhyMayNotChange(const std::string& role, const std::string& user,
                            const std::string& org, const RecordState& stored) {
  if (role == "coordinator") return "";
  if (!RoleWritesRecords(role)) return "a " + role + " does not change records";
  if (stored.org != org) {
    return "this device may not change records of org '" + stored.org + "'";
  }
  if (role == "field_worker" && stored.author != user) {
    return "record " + stored.id + " was entered by " + stored.author +
           "; a field worker changes only records they entered (a partner lead or the "
           "coordinator can correct it)";
  }
  return "";
}

}  // namespace beatbook
