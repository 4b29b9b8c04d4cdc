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

#include "beatbook/form.h"
#include "beatbook/record.h"
#include "beatbook/role.h"

namespace beatbook {

// "" if a device of `role` signed in as `user` of `org` may change (edit or delete) `stored`;
// otherwise the reason, in plain words.
std::string WhyMayNotChange(Role role, const std::string& user, const std::string& org,
                            const RecordState& stored);

// The same, knowing the forms: a partner lead may also change a return filed under the
// partnership (combine `one`) when their org is one of its indicator's owners.
std::string WhyMayNotChange(const FormSet& forms, Role role, const std::string& user,
                            const std::string& org, const RecordState& stored);

// Whether `role` may create and push records at all.
bool RoleWritesRecords(Role role);

// "" if a device of `role` and `org` may write a record of form `form` (at `version`) filed under
// `record_org` with these field values; otherwise the reason, naming the rule (docs/forms.md,
// "Who may log what"):
// - the form's writers (roles and orgs; a coordinator may log any form);
// - choices limited to some orgs (`choice_orgs`), checked against the record's org;
// - a partner return: only partner leads of its indicator's owners, or the coordinator on an
//   owner's behalf (saying which in `entered_for` where the form has that field), and filed under
//   the org its combine asks for (the partnership's for `one`, the owner's for `sum`).
// Checked by the device before it stores a record and by the server on every merged change.
std::string WhyMayNotWrite(const FormSet& forms, Role role, const std::string& org,
                           const std::string& form, int version, const std::string& record_org,
                           const json& fields);

// Whether a device of `role` and `org` may log form `form` at all (its writers), and may pick
// choice `code` of `field` (choices limited to some orgs; the indicators of a partner return its
// owners report, any of them for the coordinator). What a device offers its worker.
bool MayLogForm(const FormSet& forms, Role role, const std::string& org, const FormDef& form);
bool MayPickChoice(const FormSet& forms, Role role, const std::string& org, const FormDef& form,
                   const FieldDef& field, const std::string& code);

// The owner a coordinator names for a partner return ("entered_for"), or "".
std::string EnteredFor(const json& fields);

// The org a new record of `form` with these fields is filed under when a device of `org` logs
// it: the device's own org except for partner returns (beatbook/return_rules.h, RecordOrg), which
// go to the partnership's org or to the owner named in `entered_for`.
std::string FilingOrg(const FormSet& forms, const std::string& form, const json& fields,
                      const std::string& org);

}  // namespace beatbook
