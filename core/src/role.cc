#include "beatbook/role.h"

namespace beatbook {

namespace {

// How a role is named in a sentence.
const char* Spoken(Role role) {
  switch (role) {
    case Role::kFieldWorker:
      return "field worker";
    case Role::kPartnerLead:
      return "partner lead";
    case Role::kCoordinator:
      return "coordinator";
    case Role::kBoard:
      return "board member";
    case Role::kAdmin:
      return "admin";
    case Role::kSafeguardingLead:
      return "safeguarding lead";
  }
  return "?";
}

}  // namespace

const char* RoleName(Role role) {
  switch (role) {
    case Role::kFieldWorker:
      return "field_worker";
    case Role::kPartnerLead:
      return "partner_lead";
    case Role::kCoordinator:
      return "coordinator";
    case Role::kBoard:
      return "board";
    case Role::kAdmin:
      return "admin";
    case Role::kSafeguardingLead:
      return "safeguarding_lead";
  }
  return "?";
}

std::optional<Role> ParseRole(std::string_view name) {
  for (Role r : kAllRoles) {
    if (name == RoleName(r)) return r;
  }
  return std::nullopt;
}

std::string RoleInWords(Role role) {
  return std::string(role == Role::kAdmin ? "an " : "a ") + Spoken(role);
}

std::string RoleInWords(std::string_view name) {
  std::optional<Role> role = ParseRole(name);
  return role ? RoleInWords(*role) : std::string(name);
}

bool RoleSet::Has(std::string_view name) const {
  std::optional<Role> role = ParseRole(name);
  return role && Has(*role);
}

std::string RoleSet::Describe() const {
  std::string out;
  int n = 0, total = 0;
  for (Role r : kAllRoles) total += Has(r) ? 1 : 0;
  for (Role r : kAllRoles) {
    if (!Has(r)) continue;
    ++n;
    out += (n == 1       ? (r == Role::kAdmin ? "an " : "a ")
            : n == total ? " or "
                         : ", ") +
           std::string(Spoken(r));
  }
  return out;
}

}  // namespace beatbook
