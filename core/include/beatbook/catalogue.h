// The indicator catalogue: the 45 indicators of the delivery plan, loaded from
// schema/indicators.json and evaluated as data (no indicator is described in C++).
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

enum class IndicatorKind { kCount, kSum, kDistinct, kPercent, kReturn, kMilestone };
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
  std::vector<Condition> where;      // all must hold
  std::vector<Condition> where_any;  // at least one must hold (if any are given)
  std::set<std::string> orgs;        // the record's org must be one of these (if any are given)
  std::string sum_field;             // kind sum: a number, or the picks of a select_multiple
  std::set<std::string> picks_in;    // kind sum: count only these picks (if any are given)
  std::string distinct_field;        // kind distinct
  std::vector<Condition> numerator;  // kind percent: the share of the selected records

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
  const std::vector<Priority>& priorities() const { return priorities_; }
  const std::vector<Aim>& aims() const { return aims_; }
  const std::vector<Indicator>& indicators() const { return indicators_; }
  const Indicator* Find(const std::string& id) const;
  const Aim* FindAim(const std::string& id) const;
  const json& source() const { return source_; }

 private:
  int version_ = 0;
  std::vector<Priority> priorities_;
  std::vector<Aim> aims_;
  std::vector<Indicator> indicators_;
  json source_;
};

}  // namespace beatbook
