#include "beatbook/return_checks.h"

#include "beatbook/indicators.h"
#include "beatbook/record.h"
#include "beatbook/tunables.h"

namespace beatbook {

namespace {

// The return rule of a record of `form`, or nullptr if it is not a partner return.
const ReturnRule* RuleOf(const FormSet& forms, const std::string& form, int version,
                         const json& fields) {
  const FormDef* def = forms.Find(form, version);
  if (def == nullptr || def->writers.owners_of.empty()) return nullptr;
  auto it = fields.find(def->writers.owners_of);
  if (it == fields.end() || !it->is_string()) return nullptr;
  return forms.returns().Find(it->get<std::string>());
}

bool PeriodOfReturn(const json& fields, FyQuarter* p) {
  auto fy = fields.find("fy");
  auto q = fields.find("quarter");
  if (fy == fields.end() || !fy->is_number_integer() || q == fields.end() || !q->is_string()) {
    return false;
  }
  p->fy = fy->get<int>();
  p->quarter = QuarterNumber(q->get<std::string>());
  return p->quarter != 0;
}

}  // namespace

std::string WhyReturnPeriodRefused(const FormSet& forms, const std::string& form, int version,
                                   const json& fields, std::int64_t now_ms) {
  if (RuleOf(forms, form, version, fields) == nullptr) return "";
  FyQuarter p;
  if (!PeriodOfReturn(fields, &p)) return "";
  int first = forms.returns().first_fy();
  if (p.fy < first) {
    return "financial year " + std::to_string(p.fy) + "/" + std::to_string((p.fy + 1) % 100) +
           " is before the first year the plan reports (" + std::to_string(first) + "/" +
           std::to_string((first + 1) % 100) + ")";
  }
  if (QuarterStartMs(p.fy, p.quarter) > now_ms + tunables::kMaxClockAheadMs) {
    return "Q" + std::to_string(p.quarter) + " of " + std::to_string(p.fy) + "/" +
           std::to_string((p.fy + 1) % 100) + " has not started yet";
  }
  return "";
}

std::string WhyReturnUnusual(const FormSet& forms, const std::string& form, int version,
                             const std::string& org, const json& fields,
                             const FigureOf& figure_of) {
  const ReturnRule* rule = RuleOf(forms, form, version, fields);
  if (rule == nullptr || rule->milestone) return "";
  auto value = fields.find("value");
  FyQuarter p;
  if (value == fields.end() || !value->is_number() || !PeriodOfReturn(fields, &p)) return "";
  std::vector<double> history;
  json earlier = fields;
  for (int k = 0; k < 4; ++k) {
    p = PreviousQuarter(p);
    earlier["fy"] = p.fy;
    earlier["quarter"] = "Q" + std::to_string(p.quarter);
    auto id = NaturalKeyId(forms, form, earlier, org);
    double v = 0;
    if (id && figure_of(*id, &v)) history.push_back(v);
  }
  return WhyUnusual(forms.returns(), *rule, value->get<double>(), history);
}

std::string WhyReturnNeedsConfirming(const FormSet& forms, const std::string& form, int version,
                                     const std::string& org, const json& fields,
                                     const FigureOf& figure_of) {
  auto confirmed = fields.find("unusual_confirmed");
  if (confirmed != fields.end() && *confirmed == true) return "";
  std::string why = WhyReturnUnusual(forms, form, version, org, fields, figure_of);
  if (why.empty()) return "";
  const FormDef* def = forms.Find(form, version);
  return why + (def && def->Find("unusual_confirmed")
                    ? ": check it, and if it is right confirm it (--confirm-unusual, or tick 'I "
                      "have checked this figure')"
                    : ": check it; this form version cannot confirm an unusual figure, so sync to "
                      "get the current forms and enter it again");
}

}  // namespace beatbook
