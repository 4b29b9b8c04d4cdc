// The indicator catalogue: the 48 indicators of the delivery plan (catalogue version 2), loaded
// from schema/indicators.json and evaluated as data (no indicator is described in C++).
//
//   Catalogue cat;
//   Status s = Catalogue::LoadFile("schema/indicators.json", &cat);
//   for (const Indicator& i : cat.indicators()) ...
//
// Immutable once loaded; safe to share between threads. The JSON and the definition language are
// documented in docs/indicators.md.
#pragma once

#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "beatbook/status.h"

namespace beatbook {

using json = nlohmann::json;

// kRepeat: distinct keys seen in two or more records of the period (people seen twice or more).
enum class IndicatorKind { kCount, kSum, kDistinct, kRepeat, kPercent, kReturn, kMilestone };
const char* IndicatorKindName(IndicatorKind kind);

// One test on a record's fields (docs/indicators.md).
struct Condition {
  enum class Op { kEquals, kIn, kIncludes, kIncludesAny, kPresent, kMin, kMax };
  std::string field;
  Op op = Op::kPresent;
  json operand;
  bool Holds(const json& fields) const;
};

struct Definition {
  std::string form;
  std::vector<Condition> where;        // all must hold
  std::vector<Condition> where_any;    // at least one must hold (if any are given)
  std::set<std::string> orgs;          // the record's org must be one of these (if any are given)
  std::string sum_field;               // kind sum: a number, or the picks of a select_multiple
  std::set<std::string> picks_in;      // kind sum: count only these picks (if any are given)
  std::set<std::string> picks_not_in;  // kind sum: ... and not these
  // Kinds distinct and repeat: the key counted once, made of these fields ("@id", "@org" and
  // "@local_date" name the record's id, org and London date), and the key used when the first
  // is empty (e.g. "@id": an anonymous contact counts once on its own).
  std::vector<std::string> distinct;
  std::vector<std::string> otherwise_distinct;
  std::vector<Condition> numerator;  // kind percent: the share of the selected records
  // More records that count towards the same indicator, each with its own form and conditions
  // (a record counts under the first definition that selects it).
  std::vector<Definition> also;

  // True if a record of `form` by `org` with these field values is selected.
  bool Selects(const std::string& form, const std::string& org, const json& fields) const;
};

struct Indicator {
  std::string id;
  std::string priority;
  std::string aim;
  std::string label;
  IndicatorKind kind = IndicatorKind::kCount;
  int direction = +1;     // +1: the plan wants it to increase; -1: to decrease
  Definition definition;  // derived kinds only
  bool at_least = false;  // the figure is a lower bound (shown as "at least")
  int changed_in = 0;     // the catalogue version that last changed its definition (0: never)
  int added_in = 0;       // the catalogue version that added it (0: the first)
};

struct Aim {
  std::string id;
  std::string priority;
  std::string label;
  std::string outcome;
  int direction = +1;
};

struct Priority {
  std::string id;
  std::string label;
};

class Catalogue {
 public:
  static Status LoadFile(const std::string& path, Catalogue* out);
  static Status FromJson(const json& doc, Catalogue* out);

  int version() const { return version_; }
  // The first financial year reported: records dated before its 1 April are refused.
  int first_fy() const { return first_fy_; }
  // The form partner returns are entered on ("return_form"): its records contribute the figure
  // or status they carry, for the quarter they name.
  const std::string& return_form() const { return return_form_; }
  const std::vector<Priority>& priorities() const { return priorities_; }
  const std::vector<Aim>& aims() const { return aims_; }
  const std::vector<Indicator>& indicators() const { return indicators_; }
  const Indicator* Find(const std::string& id) const;
  const Aim* FindAim(const std::string& id) const;
  const json& source() const { return source_; }

 private:
  int version_ = 0;
  int first_fy_ = 2000;
  std::string return_form_ = "indicator_return";
  std::vector<Priority> priorities_;
  std::vector<Aim> aims_;
  std::vector<Indicator> indicators_;
  json source_;
};

}  // namespace beatbook
