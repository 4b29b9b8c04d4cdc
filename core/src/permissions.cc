#include "beatbook/permissions.h"

#include "beatbook/role.h"

namespace beatbook {

namespace {

// "Police, CSP and Stop" from org codes, with the labels of the form set's org list.
std::string OrgNames(const FormSet& forms, const std::set<std::string>& orgs) {
  const std::vector<Choice>* list = forms.List("org");
  std::string out;
  std::size_t i = 0;
  for (const auto& code : orgs) {
    std::string name = code;
    if (list) {
      for (const auto& c : *list) {
        if (c.code == code && !c.label.empty()) name = c.label;
      }
    }
    out += (i == 0 ? "" : i + 1 == orgs.size() ? " and " : ", ") + name;
    ++i;
  }
  return out;
}

std::string OrgName(const FormSet& forms, const std::string& org) { return OrgNames(forms, {org}); }

// The codes a select field's value picks.
std::vector<std::string> Picks(const json& v) {
  std::vector<std::string> out;
  if (v.is_string()) out.push_back(v.get<std::string>());
  if (v.is_array()) {
    for (const auto& item : v) {
      if (item.is_string()) out.push_back(item.get<std::string>());
    }
  }
  return out;
}

std::string ChoiceLabel(const FieldDef& f, const std::string& code) {
  for (const auto& c : f.choices) {
    if (c.code == code) return c.label.empty() ? code : c.label;
  }
  return code;
}

const ReturnRule* ReturnRuleOf(const FormSet& forms, const FormDef& def, const json& fields) {
  if (def.writers.owners_of.empty()) return nullptr;
  auto it = fields.find(def.writers.owners_of);
  if (it == fields.end() || !it->is_string()) return nullptr;
  return forms.returns().Find(it->get<std::string>());
}

std::string WhyMayNotWriteReturn(const FormSet& forms, const FormDef& def, const ReturnRule& rule,
                                 Role role, const std::string& org, const std::string& record_org,
                                 const json& fields) {
  const ReturnRules& rules = forms.returns();
  const std::string what = "'" + rule.label + "'";
  const std::string entered_for = EnteredFor(fields);
  bool owner = rule.owners.empty() || rule.owners.count(org) > 0;
  if (role != Role::kCoordinator && !entered_for.empty() && entered_for != org) {
    return "only the coordinator enters a return on another organisation's behalf";
  }
  if (role != Role::kCoordinator && !owner) {
    return OrgName(forms, org) + " is not an owner of " + what +
           " (its owners: " + OrgNames(forms, rule.owners) +
           "); the coordinator can enter it on an owner's behalf";
  }
  if (!entered_for.empty() && !rule.owners.empty() && !rule.owners.count(entered_for)) {
    return "the return is entered on behalf of " + OrgName(forms, entered_for) +
           ", which is not an owner of " + what + " (its owners: " + OrgNames(forms, rule.owners) +
           ")";
  }
  if (role == Role::kCoordinator && !owner && entered_for.empty() && def.Find("entered_for")) {
    return "the coordinator's org is not an owner of " + what + ": say which owner it is " +
           "entered for (" + OrgNames(forms, rule.owners) + ")";
  }
  // The org the record must be filed under.
  std::string owner_org = !entered_for.empty() ? entered_for : org;
  std::string expected = rules.RecordOrg(rule, owner_org);
  if (rule.combine == Combine::kSum && role == Role::kCoordinator && entered_for.empty()) {
    // Entered on an owner's behalf without saying so (a form version without entered_for): the
    // record's own org must be an owner.
    expected = record_org;
    if (!rule.owners.empty() && !rule.owners.count(record_org)) {
      return "a return of " + what + " is filed under one of its owners (" +
             OrgNames(forms, rule.owners) + "), not " + OrgName(forms, record_org);
    }
  }
  if (record_org != expected) {
    return rule.combine == Combine::kOne
               ? what + " has one figure for the partnership: its return is filed under " +
                     OrgName(forms, expected) + ", not " + OrgName(forms, record_org)
               : what + " is reported by each owner for itself: this return is filed under " +
                     OrgName(forms, expected) + ", not " + OrgName(forms, record_org);
  }
  return "";
}

}  // namespace

bool RoleWritesRecords(Role role) { return kRecordWriters.Has(role); }

std::string WhyMayNotChange(Role role, const std::string& user, const std::string& org,
                            const RecordState& stored) {
  if (role == Role::kCoordinator) return "";
  if (!RoleWritesRecords(role)) return RoleInWords(role) + " does not change records";
  if (stored.org != org) {
    return "this device may not change records of org '" + stored.org + "'";
  }
  if (role == Role::kFieldWorker && stored.author != user) {
    return "record " + stored.id + " was entered by " + stored.author +
           "; a field worker changes only records they entered (a partner lead or the "
           "coordinator can correct it)";
  }
  return "";
}

std::string WhyMayNotChange(const FormSet& forms, Role role, const std::string& user,
                            const std::string& org, const RecordState& stored) {
  if (role == Role::kPartnerLead && stored.org != org) {
    const FormDef* def = forms.Find(stored.form, stored.form_version);
    const ReturnRule* rule = def ? ReturnRuleOf(forms, *def, stored.FieldValues()) : nullptr;
    if (rule && rule->combine == Combine::kOne && stored.org == forms.returns().partnership_org() &&
        rule->owners.count(org)) {
      return "";
    }
  }
  return WhyMayNotChange(role, user, org, stored);
}

std::string WhyMayNotWrite(const FormSet& forms, Role role, const std::string& org,
                           const std::string& form, int version, const std::string& record_org,
                           const json& fields) {
  const FormDef* def = forms.Find(form, version);
  if (def == nullptr) return "";  // unknown forms are refused by validation, with their name
  const std::string name = "'" + (def->label.empty() ? def->name : def->label) + "'";
  const Writers& w = def->writers;
  if (role != Role::kCoordinator) {
    if (!w.roles.empty() && !w.roles.Has(role)) {
      return RoleInWords(role) + " does not log " + name + " (it is logged by " +
             w.roles.Describe() + ")";
    }
    if (!w.orgs.empty() && !w.orgs.count(org)) {
      return OrgName(forms, org) + " does not log " + name + " (it is logged by " +
             OrgNames(forms, w.orgs) + ")";
    }
  }
  for (const auto& f : def->fields) {
    if (f.choice_orgs.empty()) continue;
    auto it = fields.find(f.name);
    if (it == fields.end()) continue;
    for (const auto& code : Picks(*it)) {
      auto limit = f.choice_orgs.find(code);
      if (limit != f.choice_orgs.end() && !limit->second.count(record_org)) {
        return "'" + ChoiceLabel(f, code) + "' (" + (f.label.empty() ? f.name : f.label) +
               ") may be recorded by " + OrgNames(forms, limit->second) + " only, not " +
               OrgName(forms, record_org);
      }
    }
  }
  if (const ReturnRule* rule = ReturnRuleOf(forms, *def, fields)) {
    return WhyMayNotWriteReturn(forms, *def, *rule, role, org, record_org, fields);
  }
  return "";
}

std::string EnteredFor(const json& fields) {
  auto it = fields.find("entered_for");
  return it != fields.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string FilingOrg(const FormSet& forms, const std::string& form, const json& fields,
                      const std::string& org) {
  const FormDef* def = forms.Latest(form);
  const ReturnRule* rule = def ? ReturnRuleOf(forms, *def, fields) : nullptr;
  if (rule == nullptr) return org;
  std::string owner = EnteredFor(fields);
  return forms.returns().RecordOrg(*rule, owner.empty() ? org : owner);
}

bool MayLogForm(const FormSet& forms, Role role, const std::string& org, const FormDef& form) {
  if (!RoleWritesRecords(role)) return false;
  return WhyMayNotWrite(forms, role, org, form.name, form.version, org, json::object()).empty();
}

bool MayPickChoice(const FormSet& forms, Role role, const std::string& org, const FormDef& form,
                   const FieldDef& field, const std::string& code) {
  auto limit = field.choice_orgs.find(code);
  if (limit != field.choice_orgs.end() && !limit->second.count(org)) return false;
  if (field.name == form.writers.owners_of && role != Role::kCoordinator) {
    const ReturnRule* rule = forms.returns().Find(code);
    if (rule && !rule->owners.empty() && !rule->owners.count(org)) return false;
  }
  return true;
}

}  // namespace beatbook
