// Roles: what a device's user is to the partnership (docs/protocol.md, section 4), as a type
// rather than bare strings, and sets of them (who may use an endpoint, who may log a form).
//
//   std::optional<Role> role = ParseRole(device.role);
//   if (role && RoleSet{Role::kCoordinator, Role::kBoard}.Has(*role)) ...
//
// Roles are stored and sent as their names ("field_worker", ...); ParseRole and RoleName convert.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace beatbook {

enum class Role : std::uint8_t {
  kFieldWorker,  // logs and syncs records of their own org
  kPartnerLead,  // also enters the returns their org owns, and corrects their org's records
  kCoordinator,  // sees and corrects every record, runs and approves the return
  kBoard,        // reads the return, no record content
  kAdmin,        // manages devices and tokens, reads no record content
  // The partnership's designated safeguarding lead: follows up the safeguarding queue on the
  // dashboard (docs/safeguarding.md), and nothing else.
  kSafeguardingLead,
};

inline constexpr Role kAllRoles[] = {Role::kFieldWorker, Role::kPartnerLead,
                                     Role::kCoordinator, Role::kBoard,
                                     Role::kAdmin,       Role::kSafeguardingLead};

// "field_worker", "partner_lead", "coordinator", "board", "admin" or "safeguarding_lead".
const char* RoleName(Role role);
// The role a name stands for; nullopt for anything else.
std::optional<Role> ParseRole(std::string_view name);
// "a field worker", "a board member": a role named in a sentence (the name itself if unknown).
std::string RoleInWords(Role role);
std::string RoleInWords(std::string_view name);

class RoleSet {
 public:
  constexpr RoleSet() = default;
  constexpr RoleSet(std::initializer_list<Role> roles) {
    for (Role r : roles) bits_ |= Bit(r);
  }
  static constexpr RoleSet All() {
    return {Role::kFieldWorker, Role::kPartnerLead, Role::kCoordinator,
            Role::kBoard,       Role::kAdmin,       Role::kSafeguardingLead};
  }
  constexpr bool Has(Role role) const { return (bits_ & Bit(role)) != 0; }
  constexpr void Add(Role role) { bits_ |= Bit(role); }
  constexpr bool empty() const { return bits_ == 0; }
  // Whether the role named `name` is in the set (false for an unknown name).
  bool Has(std::string_view name) const;
  // "a partner lead, coordinator or board member": for messages.
  std::string Describe() const;

 private:
  static constexpr std::uint8_t Bit(Role r) {
    return static_cast<std::uint8_t>(1u << static_cast<unsigned>(r));
  }
  std::uint8_t bits_ = 0;
};

// The roles whose devices create and push records.
inline constexpr RoleSet kRecordWriters = {Role::kFieldWorker, Role::kPartnerLead,
                                           Role::kCoordinator};

}  // namespace beatbook
