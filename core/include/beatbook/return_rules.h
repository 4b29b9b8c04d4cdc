// Who reports which partner return, how owners' entries combine, when a return falls due and when
// a figure looks wrong: the "returns" part of the indicator catalogue (schema/indicators.json,
// docs/indicators.md), as the device and the server both need it.
//
//   const ReturnRules& rules = forms.returns();      // loaded with the forms
//   const ReturnRule* r = rules.Find("pc_cpi_forms");
//   std::string org = rules.RecordOrg(*r, "police");  // the org the return is filed under
//   std::string why = WhyUnusual(rules, *r, 99999999, history);
//
// A ReturnRules is immutable once loaded and travels with the forms to every device, so that a
// device refuses offline what the server would refuse.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "beatbook/status.h"

namespace beatbook {

// How the owners' entries of a return make the partnership's figure.
enum class Combine {
  kOne,  // one figure for the partnership: one record per (indicator, fy, quarter)
  kSum,  // each owner reports its own part: one record per owner org, added up
};

struct ReturnRule {
  std::string indicator;
  std::string label;
  bool milestone = false;        // a status, not a figure
  std::set<std::string> owners;  // orgs whose partner leads enter it; empty: any org (version 1)
  Combine combine = Combine::kOne;
  int due_days = 20;         // days after the quarter ends
  double usual_max = 10000;  // a figure above this is unusual whatever the history
};

// One quarter of a financial year.
struct FyQuarter {
  int fy = 0;
  int quarter = 0;
};

// The quarter before `p` (Q1's is Q4 of the year before).
FyQuarter PreviousQuarter(FyQuarter p);

class ReturnRules {
 public:
  // From the indicator catalogue document (schema/indicators.json).
  static Status FromCatalogueJson(const nlohmann::json& catalogue, ReturnRules* out);
  // The shape ToJson writes, as stored on a device with its forms.
  static Status FromJson(const nlohmann::json& j, ReturnRules* out);
  nlohmann::json ToJson() const;

  bool empty() const { return rules_.empty(); }
  const ReturnRule* Find(const std::string& indicator) const;
  const std::map<std::string, ReturnRule>& rules() const { return rules_; }
  // The org `one` returns are filed under (the partnership's coordinator org, "csp").
  const std::string& partnership_org() const { return partnership_org_; }
  // The first financial year the catalogue reports; nothing may be dated before it.
  int first_fy() const { return first_fy_; }
  double unusual_factor() const { return unusual_factor_; }

  // The org a return of `rule` is filed under when entered for `owner_org`: the partnership's
  // for `one`, the owner's own for `sum`.
  std::string RecordOrg(const ReturnRule& rule, const std::string& owner_org) const;
  // When a return for `p` falls due: midnight (London) `due_days` after the quarter ends.
  std::int64_t DueMs(const ReturnRule& rule, FyQuarter p) const;

 private:
  std::map<std::string, ReturnRule> rules_;
  std::string partnership_org_ = "csp";
  int first_fy_ = 2000;
  double unusual_factor_ = 5;
};

// "" if `value` is a usual figure for `rule`, given the owner's figures for the (up to four)
// quarters before (most recent first; missing quarters left out); otherwise why, in plain words.
// Unusual: above the rule's usual_max, or more than unusual_factor times the largest of the
// earlier figures, taking that largest as at least 1 (so after a run of zeros anything above 5 is
// unusual, but a first 3 is not).
std::string WhyUnusual(const ReturnRules& rules, const ReturnRule& rule, double value,
                       const std::vector<double>& history);

// --- What is still owed ---

// A return the store or device holds: which indicator, owner org and quarter, and when entered.
struct EnteredReturn {
  std::string indicator;
  std::string org;  // the record's org (the partnership's for `one`)
  int quarter = 0;
  std::int64_t entered_ms = 0;
};

struct OwedItem {
  std::string indicator;
  std::string label;
  std::string org;          // the owner
  std::string filed_under;  // the record's org: the owner's, or the partnership's for `one`
  int fy = 0;
  int quarter = 0;
  std::string state;  // "entered", "due" (before its due date) or "owed" (after)
  std::int64_t due_ms = 0;
  std::int64_t entered_ms = 0;  // 0 unless entered
  bool on_time = false;         // entered by its due date
};

// Every (indicator, owner, quarter) of `fy` whose quarter has ended by `now_ms` (only `quarter`
// if given, only owner `org` if not empty), and whether it is entered, due or owed.
std::vector<OwedItem> OwedItems(const ReturnRules& rules, int fy, std::optional<int> quarter,
                                const std::vector<EnteredReturn>& entered, std::int64_t now_ms,
                                const std::string& org = "");

// The interface's `owed --json` document: {"fy", "items": [{"indicator", "label", "org",
// "quarter", "state", "due", "entered_at"}], "by_org": {ORG: {"entered", "due", "owed"}},
// "rates": {"Qn": {"expected", "on_time", "rate"}}}. The reporting rate is DHIS2's: returns entered
// by their due date over returns expected, for quarters whose due date has passed.
nlohmann::json OwedJson(int fy, const std::vector<OwedItem>& items, std::int64_t now_ms);

// The earlier contacts with one person: how many records of `records` carry `key` in `key_field`,
// fall in the same financial year as `at_ms` and are not `except_id` (the record being entered).
// The device shows only this count, never who entered them or where.
struct RecordState;
int CountSeenBefore(const std::vector<RecordState>& records, const std::string& key_field,
                    const std::string& key, std::int64_t at_ms, const std::string& except_id);

// A readable list for a terminal, grouped by org.
std::string RenderOwed(const nlohmann::json& owed);

}  // namespace beatbook
