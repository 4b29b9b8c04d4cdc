#include "beatbook/catalogue.h"

#include <fstream>
#include <sstream>

#include "beatbook/validation.h"

namespace beatbook {

const char* IndicatorKindName(IndicatorKind kind) {
  switch (kind) {
    case IndicatorKind::kCount:
      return "count";
    case IndicatorKind::kSum:
      return "sum";
    case IndicatorKind::kDistinct:
      return "distinct";
    case IndicatorKind::kRepeat:
      return "repeat";
    case IndicatorKind::kPercent:
      return "percent";
    case IndicatorKind::kReturn:
      return "return";
    case IndicatorKind::kMilestone:
      return "milestone";
  }
  return "?";
}

namespace {

Status ParseCondition(const json& j, const std::string& where, Condition* out) {
  if (!j.is_object() || !j.contains("field") || !j["field"].is_string()) {
    return Status::InvalidArgument(where + ": a condition needs a \"field\"");
  }
  Condition c;
  c.field = j["field"].get<std::string>();
  static const std::pair<const char*, Condition::Op> kOps[] = {
      {"equals", Condition::Op::kEquals},
      {"in", Condition::Op::kIn},
      {"includes", Condition::Op::kIncludes},
      {"includes_any", Condition::Op::kIncludesAny},
      {"present", Condition::Op::kPresent},
      {"min", Condition::Op::kMin},
      {"max", Condition::Op::kMax}};
  bool found = false;
  for (const auto& [name, op] : kOps) {
    if (j.contains(name)) {
      c.op = op;
      c.operand = j[name];
      found = true;
    }
  }
  if (!found)
    return Status::InvalidArgument(where + ": condition on '" + c.field + "' has no test");
  bool needs_array = c.op == Condition::Op::kIn || c.op == Condition::Op::kIncludesAny;
  bool needs_number = c.op == Condition::Op::kMin || c.op == Condition::Op::kMax;
  if ((needs_array && !c.operand.is_array()) || (needs_number && !c.operand.is_number())) {
    return Status::InvalidArgument(where + ": condition on '" + c.field + "' has a bad operand");
  }
  *out = std::move(c);
  return Status::OK();
}

Status ParseConditions(const json& parent, const char* key, const std::string& where,
                       std::vector<Condition>* out) {
  if (!parent.contains(key)) return Status::OK();
  if (!parent[key].is_array())
    return Status::InvalidArgument(where + ": \"" + key + "\" must be an array");
  for (const auto& cj : parent[key]) {
    Condition c;
    BB_RETURN_IF_ERROR(ParseCondition(cj, where, &c));
    out->push_back(std::move(c));
  }
  return Status::OK();
}

// A field list: "subject_key" or ["@local_date", "place", "@org"].
std::vector<std::string> FieldList(const json& j) {
  if (j.is_string()) return {j.get<std::string>()};
  return j.get<std::vector<std::string>>();
}

Status ParseDefinition(const json& d, IndicatorKind kind, const std::string& where,
                       Definition* def) {
  def->form = d.at("form").get<std::string>();
  BB_RETURN_IF_ERROR(ParseConditions(d, "where", where, &def->where));
  BB_RETURN_IF_ERROR(ParseConditions(d, "where_any", where, &def->where_any));
  BB_RETURN_IF_ERROR(ParseConditions(d, "numerator", where, &def->numerator));
  if (d.contains("org")) def->orgs = d["org"].get<std::set<std::string>>();
  if (kind == IndicatorKind::kSum) {
    def->sum_field = d.at("sum").at("field").get<std::string>();
    if (d["sum"].contains("picks_in")) {
      def->picks_in = d["sum"]["picks_in"].get<std::set<std::string>>();
    }
    if (d["sum"].contains("picks_not_in")) {
      def->picks_not_in = d["sum"]["picks_not_in"].get<std::set<std::string>>();
    }
  }
  if (kind == IndicatorKind::kDistinct || kind == IndicatorKind::kRepeat) {
    def->distinct = FieldList(d.at("distinct"));
    if (def->distinct.empty()) return Status::InvalidArgument(where + ": \"distinct\" is empty");
    if (d.contains("otherwise_distinct"))
      def->otherwise_distinct = FieldList(d["otherwise_distinct"]);
  }
  if (kind == IndicatorKind::kPercent && def->numerator.empty()) {
    return Status::InvalidArgument(where + ": a percent needs a \"numerator\"");
  }
  if (d.contains("also")) {
    for (const auto& more : d["also"]) {
      Definition extra;
      BB_RETURN_IF_ERROR(ParseDefinition(more, kind, where, &extra));
      def->also.push_back(std::move(extra));
    }
  }
  return Status::OK();
}

int ParseDirection(const json& j) {
  return j.value("direction", "increase") == "decrease" ? -1 : 1;
}

}  // namespace

bool Condition::Holds(const json& fields) const {
  auto it = fields.find(field);
  const json& v = it == fields.end() ? json() : *it;
  switch (op) {
    case Op::kPresent:
      return !IsEmptyValue(v) == operand.get<bool>();
    case Op::kEquals:
      return v == operand;
    case Op::kIn:
      for (const auto& o : operand) {
        if (v == o) return true;
      }
      return false;
    case Op::kIncludes:
      if (!v.is_array()) return false;
      for (const auto& item : v) {
        if (item == operand) return true;
      }
      return false;
    case Op::kIncludesAny:
      if (!v.is_array()) return false;
      for (const auto& item : v) {
        for (const auto& o : operand) {
          if (item == o) return true;
        }
      }
      return false;
    case Op::kMin:
      return v.is_number() && v.get<double>() >= operand.get<double>();
    case Op::kMax:
      return v.is_number() && v.get<double>() <= operand.get<double>();
  }
  return false;
}

bool Definition::Selects(const std::string& record_form, const std::string& org,
                         const json& fields) const {
  if (record_form != form) return false;
  if (!orgs.empty() && !orgs.count(org)) return false;
  for (const auto& c : where) {
    if (!c.Holds(fields)) return false;
  }
  if (!where_any.empty()) {
    bool any = false;
    for (const auto& c : where_any) any = any || c.Holds(fields);
    if (!any) return false;
  }
  return true;
}

Status Catalogue::LoadFile(const std::string& path, Catalogue* out) {
  std::ifstream in(path);
  if (!in) return Status::IoError("cannot read the indicator catalogue " + path);
  std::stringstream buf;
  buf << in.rdbuf();
  json doc;
  try {
    doc = json::parse(buf.str());
  } catch (const json::parse_error& e) {
    return Status::InvalidArgument(path + " is not valid JSON: " + e.what());
  }
  Status s = FromJson(doc, out);
  return s.ok() ? s : Status::InvalidArgument(path + ": " + s.message());
}

Status Catalogue::FromJson(const json& doc, Catalogue* out) {
  Catalogue cat;
  cat.source_ = doc;
  try {
    cat.version_ = doc.at("catalogue_version").get<int>();
    cat.first_fy_ = doc.value("first_fy", 2000);
    cat.return_form_ = doc.value("return_form", "indicator_return");
    for (const auto& p : doc.at("priorities")) {
      cat.priorities_.push_back({p.at("id").get<std::string>(), p.at("label").get<std::string>()});
    }
    for (const auto& a : doc.at("aims")) {
      cat.aims_.push_back({a.at("id").get<std::string>(), a.at("priority").get<std::string>(),
                           a.at("label").get<std::string>(), a.value("outcome", ""),
                           ParseDirection(a)});
    }
    for (const auto& ij : doc.at("indicators")) {
      Indicator ind;
      ind.id = ij.at("id").get<std::string>();
      std::string where = "indicator '" + ind.id + "'";
      if (cat.Find(ind.id)) return Status::InvalidArgument(where + " is defined twice");
      ind.priority = ij.at("priority").get<std::string>();
      ind.aim = ij.at("aim").get<std::string>();
      ind.label = ij.at("label").get<std::string>();
      ind.direction = ParseDirection(ij);
      std::string kind = ij.at("kind").get<std::string>();
      static const std::pair<const char*, IndicatorKind> kKinds[] = {
          {"count", IndicatorKind::kCount},        {"sum", IndicatorKind::kSum},
          {"distinct", IndicatorKind::kDistinct},  {"repeat", IndicatorKind::kRepeat},
          {"percent", IndicatorKind::kPercent},    {"return", IndicatorKind::kReturn},
          {"milestone", IndicatorKind::kMilestone}};
      bool known = false;
      for (const auto& [name, k] : kKinds) {
        if (kind == name) {
          ind.kind = k;
          known = true;
        }
      }
      if (!known) return Status::InvalidArgument(where + ": unknown kind '" + kind + "'");
      if (!cat.FindAim(ind.aim))
        return Status::InvalidArgument(where + ": unknown aim '" + ind.aim + "'");
      bool derived = ind.kind != IndicatorKind::kReturn && ind.kind != IndicatorKind::kMilestone;
      if (derived) {
        if (!ij.contains("definition"))
          return Status::InvalidArgument(where + " needs a definition");
        BB_RETURN_IF_ERROR(ParseDefinition(ij["definition"], ind.kind, where, &ind.definition));
      }
      ind.at_least = ij.value("at_least", false);
      ind.changed_in = ij.value("changed_in", 0);
      ind.added_in = ij.value("added_in", 0);
      cat.indicators_.push_back(std::move(ind));
    }
  } catch (const json::exception& e) {
    return Status::InvalidArgument(std::string("the catalogue has a missing or mistyped member: ") +
                                   e.what());
  }
  *out = std::move(cat);
  return Status::OK();
}

const Indicator* Catalogue::Find(const std::string& id) const {
  for (const auto& i : indicators_) {
    if (i.id == id) return &i;
  }
  return nullptr;
}

const Aim* Catalogue::FindAim(const std::string& id) const {
  for (const auto& a : aims_) {
    if (a.id == id) return &a;
  }
  return nullptr;
}

}  // namespace beatbook
