#include "beatbook/indicators.h"

#include "beatbook/datetime.h"

namespace beatbook {

Period PeriodOf(std::int64_t epoch_ms) {
  int y, m, d;
  LondonDate(epoch_ms, &y, &m, &d);
  Period p;
  p.fy = m >= 4 ? y : y - 1;
  p.quarter = m >= 4 ? (m - 4) / 3 + 1 : 4;
  return p;
}

int QuarterNumber(const std::string& name) {
  if (name.size() == 2 && name[0] == 'Q' && name[1] >= '1' && name[1] <= '4') return name[1] - '0';
  return 0;
}

std::int64_t QuarterStartMs(int fy, int quarter) {
  int month = quarter == 4 ? 1 : 4 + (quarter - 1) * 3;
  int year = quarter == 4 ? fy + 1 : fy;
  std::int64_t midnight_utc = DaysFromCivil(year, month, 1) * 86'400'000;
  // April, July and October start in BST (UTC+1); January in GMT.
  return quarter == 4 ? midnight_utc : midnight_utc - 3'600'000;
}

namespace {

double SumOf(const Definition& def, const json& fields) {
  auto it = fields.find(def.sum_field);
  if (it == fields.end()) return 0;
  if (it->is_number()) return it->get<double>();
  if (!it->is_array()) return 0;
  double picks = 0;
  for (const auto& item : *it) {
    if (!item.is_string()) continue;
    const std::string code = item.get<std::string>();
    if ((def.picks_in.empty() || def.picks_in.count(code)) && !def.picks_not_in.count(code)) {
      picks += 1;
    }
  }
  return picks;
}

// The value of one part of a distinct key: a field, or "@id", "@org", "@local_date".
std::string KeyPart(const std::string& part, const RecordState& state, const json& fields,
                    std::int64_t occurred_ms) {
  if (part == "@id") return state.id;
  if (part == "@org") return state.org;
  if (part == "@local_date") {
    int y = 0, m = 0, d = 0;
    LondonDate(occurred_ms, &y, &m, &d);
    return std::to_string(y) + "-" + std::to_string(m) + "-" + std::to_string(d);
  }
  auto it = fields.find(part);
  if (it == fields.end() || it->is_null()) return "";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

// The key a record counts under, or "" if its first part is empty (and there is no fallback).
std::string DistinctKey(const Definition& def, const RecordState& state, const json& fields,
                        std::int64_t occurred_ms) {
  auto build = [&](const std::vector<std::string>& parts) {
    std::string key;
    for (std::size_t i = 0; i < parts.size(); ++i) {
      std::string v = KeyPart(parts[i], state, fields, occurred_ms);
      if (i == 0 && v.empty()) return std::string();
      key += (i == 0 ? "" : "|") + v;
    }
    return key;
  };
  std::string key = build(def.distinct);
  if (key.empty() && !def.otherwise_distinct.empty()) key = build(def.otherwise_distinct);
  return key;
}

// The first of an indicator's definitions that selects the record, or nullptr.
const Definition* SelectingDefinition(const Definition& def, const RecordState& state,
                                      const json& fields) {
  if (def.Selects(state.form, state.org, fields)) return &def;
  for (const auto& more : def.also) {
    if (more.Selects(state.form, state.org, fields)) return &more;
  }
  return nullptr;
}

}  // namespace

std::vector<Contribution> ContributionsOf(const Catalogue& catalogue, const RecordState& state) {
  std::vector<Contribution> out;
  if (state.IsDeleted()) return out;
  json fields = state.FieldValues();
  if (state.form == catalogue.return_form()) {
    // A partner's figure or milestone: its period is the one it names, not when it was entered.
    const Indicator* ind = catalogue.Find(fields.value("indicator", ""));
    int quarter = QuarterNumber(fields.value("quarter", ""));
    if (!ind || quarter == 0 || !fields.contains("fy") || !fields["fy"].is_number_integer()) {
      return out;
    }
    Contribution c{ind->id, fields["fy"].get<int>(), quarter, 0, 0, "", ""};
    if (ind->kind == IndicatorKind::kReturn && fields.contains("value") &&
        fields["value"].is_number()) {
      c.value = fields["value"].get<double>();
      out.push_back(c);
    } else if (ind->kind == IndicatorKind::kMilestone && fields.contains("status") &&
               fields["status"].is_string()) {
      c.status = fields["status"].get<std::string>();
      out.push_back(c);
    }
    return out;
  }
  std::int64_t occurred_ms = 0;
  if (!ParseIsoDateTime(state.OccurredAt(), &occurred_ms).ok()) return out;
  Period p = PeriodOf(occurred_ms);
  for (const Indicator& ind : catalogue.indicators()) {
    if (ind.definition.form.empty()) continue;
    const Definition* selecting = SelectingDefinition(ind.definition, state, fields);
    if (selecting == nullptr) continue;
    const Definition& def = *selecting;
    Contribution c{ind.id, p.fy, p.quarter, 0, 0, "", ""};
    switch (ind.kind) {
      case IndicatorKind::kCount:
        c.value = 1;
        break;
      case IndicatorKind::kSum:
        c.value = SumOf(def, fields);
        if (c.value == 0) continue;
        break;
      case IndicatorKind::kDistinct:
      case IndicatorKind::kRepeat:
        c.key = DistinctKey(def, state, fields, occurred_ms);
        if (c.key.empty()) continue;
        c.value = 1;
        break;
      case IndicatorKind::kPercent: {
        bool in = true;
        for (const auto& cond : def.numerator) in = in && cond.Holds(fields);
        c.n = 1;
        c.value = in ? 1 : 0;
        break;
      }
      default:
        continue;
    }
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace beatbook
