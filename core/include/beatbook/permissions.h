// Who may change which record: one definition of the roles' write rules (docs/protocol.md,
// section 4), used by the device before it stores an edit or a delete, and by the server before it
// merges a change, so that a refused change is refused for the same reason in both places.
//
//   std::string why = WhyMayNotChange(identity.role, identity.user, identity.org, stored);
//   if (!why.empty()) return Status::PermissionDenied(why);
//
// - field_worker: only records they authored;
// - partner_lead: any record of their own org;
// - coordinator: any record;
// - board and admin: none (they read the return, or manage devices).
#pragma once

#include <string>

#include "beatbook/record.h"

namespace beatbook {

// "" if a device of `role` signed in as `user` of `org` may change (edit or delete) `stored`;
// otherwise the reason, in plain words.
std::string WhyMayNotChange(const std::string& role, const std::string& user,
                            const std::string& org, const RecordState& stored);

// Whether `role` may create and push records at all.
bool RoleWritesRecords(const std::string& role);

}  // namespace beatbook
