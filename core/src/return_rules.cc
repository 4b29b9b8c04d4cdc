#include "beatbook/return_rules.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <tuple>

#include "beatbook/datetime.h"
#include "beatbook/indicators.h"
#include "beatbook/record.h"

namespace beatbook {

using nlohmann::json;

namespace {

// Days since 1970-01-01 of the quarter's last day.
std::int64_t LastDayOfQuarter(FyQuarter p) {
  int month = p.quarter == 4 ? 3 : 3 + p.quarter * 3;  // June, September, December, March
  int year = p.quarter == 4 ? p.fy + 1 : p.fy;
  static const int kLastDay[] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return DaysFromCivil(year, month, kLastDay[month]);
}

// Midnight in London at the start of day `days` (since 1970-01-01).
std::int64_t LondonMidnightMs(std::int64_t days) {
  std::int64_t utc = days * 86'400'000;
  return utc - LondonOffsetMs(utc);
}

std::string DateOfDay(std::int64_t days) {
  int y = 0, m = 0, d = 0;
  LondonDate(days * 86'400'000 + 43'200'000, &y, &m, &d);  // noon: no DST edge
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", y, m, d);
  return buf;
}

std::string FormatFigure(double v) {
  if (v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(static_cast<long long>(v));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

}  // namespace

FyQuarter PreviousQuarter(FyQuarter p) {
  return p.quarter == 1 ? FyQuarter{p.fy - 1, 4} : FyQuarter{p.fy, p.quarter - 1};
}

Status ReturnRules::FromCatalogueJson(const json& cat, ReturnRules* out) {
  if (!cat.is_object() || !cat.contains("indicators") || !cat["indicators"].is_array()) {
    return Status::InvalidArgument("the catalogue has no \"indicators\" array");
  }
  // Version 1 had no owners and keyed every return by org; version 2 makes `one` the default.
  int version = cat.value("catalogue_version", 1);
  json j = {{"partnership_org", cat.value("partnership_org", "csp")},
            {"first_fy", cat.value("first_fy", 2000)},
            {"unusual_factor", cat.value("unusual_factor", 5.0)},
            {"indicators", json::array()}};
  int due_days = cat.value("due_days", 20);
  double usual_max = cat.value("usual_max", 10000.0);
  for (const auto& ij : cat["indicators"]) {
    if (!ij.is_object()) continue;
    std::string kind = ij.value("kind", "");
    if (kind != "return" && kind != "milestone") continue;
    j["indicators"].push_back({{"id", ij.value("id", "")},
                               {"label", ij.value("label", "")},
                               {"kind", kind},
                               {"owners", ij.value("owners", json::array())},
                               {"combine", ij.value("combine", version >= 2 ? "one" : "sum")},
                               {"due_days", ij.value("due_days", due_days)},
                               {"usual_max", ij.value("usual_max", usual_max)}});
  }
  return FromJson(j, out);
}

Status ReturnRules::FromJson(const json& j, ReturnRules* out) {
  ReturnRules rules;
  try {
    rules.partnership_org_ = j.at("partnership_org").get<std::string>();
    rules.first_fy_ = j.at("first_fy").get<int>();
    rules.unusual_factor_ = j.value("unusual_factor", 5.0);
    for (const auto& ij : j.at("indicators")) {
      ReturnRule r;
      r.indicator = ij.at("id").get<std::string>();
      std::string where = "return indicator '" + r.indicator + "'";
      r.label = ij.value("label", r.indicator);
      r.milestone = ij.at("kind").get<std::string>() == "milestone";
      r.owners = ij.at("owners").get<std::set<std::string>>();
      std::string combine = ij.value("combine", "one");
      if (combine != "one" && combine != "sum") {
        return Status::InvalidArgument(where + ": combine must be \"one\" or \"sum\", not '" +
                                       combine + "'");
      }
      r.combine = combine == "sum" ? Combine::kSum : Combine::kOne;
      r.due_days = ij.value("due_days", 20);
      if (r.due_days < 0 || r.due_days > 366) {
        return Status::InvalidArgument(where + ": due_days must be 0 to 366");
      }
      r.usual_max = ij.value("usual_max", 10000.0);
      rules.rules_[r.indicator] = std::move(r);
    }
  } catch (const json::exception& e) {
    return Status::InvalidArgument(std::string("the return rules have a missing or mistyped "
                                               "member: ") +
                                   e.what());
  }
  *out = std::move(rules);
  return Status::OK();
}

json ReturnRules::ToJson() const {
  json list = json::array();
  for (const auto& [id, r] : rules_) {
    list.push_back({{"id", id},
                    {"label", r.label},
                    {"kind", r.milestone ? "milestone" : "return"},
                    {"owners", r.owners},
                    {"combine", r.combine == Combine::kSum ? "sum" : "one"},
                    {"due_days", r.due_days},
                    {"usual_max", r.usual_max}});
  }
  return {{"partnership_org", partnership_org_},
          {"first_fy", first_fy_},
          {"unusual_factor", unusual_factor_},
          {"indicators", list}};
}

const ReturnRule* ReturnRules::Find(const std::string& indicator) const {
  auto it = rules_.find(indicator);
  return it == rules_.end() ? nullptr : &it->second;
}

std::string ReturnRules::RecordOrg(const ReturnRule& rule, const std::string& owner_org) const {
  return rule.combine == Combine::kOne ? partnership_org_ : owner_org;
}

std::int64_t ReturnRules::DueMs(const ReturnRule& rule, FyQuarter p) const {
  // Owed from midnight after the due date: the due date itself is still in time.
  return LondonMidnightMs(LastDayOfQuarter(p) + rule.due_days + 1);
}

std::string WhyUnusual(const ReturnRules& rules, const ReturnRule& rule, double value,
                       const std::vector<double>& history) {
  if (value > rule.usual_max) {
    return FormatFigure(value) + " is above " + FormatFigure(rule.usual_max) +
           ", the highest figure expected for '" + rule.label + "'";
  }
  if (history.empty()) return "";
  double largest = *std::max_element(history.begin(), history.end());
  double limit = rules.unusual_factor() * std::max(largest, 1.0);
  if (value > limit) {
    return FormatFigure(value) + " is more than " + FormatFigure(rules.unusual_factor()) +
           " times the largest figure of the " + std::to_string(history.size()) + " quarter" +
           (history.size() == 1 ? "" : "s") + " before (" + FormatFigure(largest) + ")";
  }
  return "";
}

std::vector<OwedItem> OwedItems(const ReturnRules& rules, int fy, std::optional<int> quarter,
                                const std::vector<EnteredReturn>& entered, std::int64_t now_ms,
                                const std::string& org) {
  std::vector<OwedItem> out;
  if (fy < rules.first_fy()) return out;
  for (int q = 1; q <= 4; ++q) {
    if (quarter && *quarter != q) continue;
    FyQuarter p{fy, q};
    // Not expected before the quarter has ended.
    if (LondonMidnightMs(LastDayOfQuarter(p) + 1) > now_ms) continue;
    for (const auto& [id, rule] : rules.rules()) {
      std::int64_t due = rules.DueMs(rule, p);
      for (const auto& owner : rule.owners) {
        if (!org.empty() && owner != org) continue;
        std::string filed_under = rules.RecordOrg(rule, owner);
        OwedItem item{id, rule.label, owner, filed_under, fy, q, "", due, 0, false};
        for (const auto& e : entered) {
          if (e.indicator != id || e.quarter != q || e.org != filed_under) continue;
          if (item.entered_ms == 0 || e.entered_ms < item.entered_ms)
            item.entered_ms = e.entered_ms;
        }
        if (item.entered_ms != 0) {
          item.state = "entered";
          item.on_time = item.entered_ms < due;
        } else {
          item.state = now_ms < due ? "due" : "owed";
        }
        out.push_back(std::move(item));
      }
    }
  }
  return out;
}

json OwedJson(int fy, const std::vector<OwedItem>& items, std::int64_t now_ms) {
  json list = json::array();
  json by_org = json::object();
  std::map<int, std::pair<int, int>> rates;  // quarter -> (expected, on time), of `fy`
  // A `one` return is one figure whichever owner enters it: the rate counts figures, not owners.
  std::set<std::tuple<std::string, std::string, int>> counted;
  for (const auto& i : items) {
    json row = {{"indicator", i.indicator},
                {"label", i.label},
                {"org", i.org},
                {"fy", i.fy},
                {"quarter", "Q" + std::to_string(i.quarter)},
                {"state", i.state},
                {"due", DateOfDay((i.due_ms + LondonOffsetMs(i.due_ms)) / 86'400'000 - 1)}};
    if (i.entered_ms) {
      row["entered_at"] = FormatIsoUtc(i.entered_ms);
      row["on_time"] = i.on_time;
    }
    list.push_back(std::move(row));
    json& counts = by_org[i.org];
    if (counts.is_null()) counts = {{"entered", 0}, {"due", 0}, {"owed", 0}};
    counts[i.state] = counts[i.state].get<int>() + 1;
    if (i.fy == fy && i.due_ms <= now_ms &&
        counted.insert({i.indicator + "|" + std::to_string(i.fy), i.filed_under, i.quarter})
            .second) {
      auto& [expected, on_time] = rates[i.quarter];
      ++expected;
      if (i.on_time) ++on_time;
    }
  }
  json rate_json = json::object();
  for (const auto& [q, r] : rates) {
    rate_json["Q" + std::to_string(q)] = {
        {"expected", r.first},
        {"on_time", r.second},
        {"rate", r.first ? std::round(1000.0 * r.second / r.first) / 10 : 0.0}};
  }
  return {{"fy", fy}, {"items", list}, {"by_org", by_org}, {"rates", rate_json}};
}

std::string RenderOwed(const json& owed) {
  std::string out = "Returns for " + std::to_string(owed.value("fy", 0)) + "/" +
                    std::to_string((owed.value("fy", 0) + 1) % 100) + "\n";
  std::map<std::string, std::vector<const json*>> by_org;
  for (const auto& i : owed["items"]) by_org[i.value("org", "")].push_back(&i);
  if (by_org.empty()) out += "  No returns are expected yet (no quarter has ended).\n";
  for (const auto& [org, rows] : by_org) {
    const json& c = owed["by_org"][org];
    out += "\n" + org + ": " + std::to_string(c.value("owed", 0)) + " owed, " +
           std::to_string(c.value("due", 0)) + " due, " + std::to_string(c.value("entered", 0)) +
           " entered\n";
    for (const json* r : rows) {
      const std::string state = r->value("state", "");
      if (state == "entered") continue;
      int fy = r->value("fy", 0);
      out += "  " + std::string(state == "owed" ? "OWED " : "due  ") + r->value("quarter", "") +
             " " + std::to_string(fy) + "/" + std::to_string((fy + 1) % 100) + "  " +
             r->value("label", "") + " (" + r->value("indicator", "") + "), due " +
             r->value("due", "") + "\n";
    }
  }
  if (!owed["rates"].empty()) {
    out += "\nReporting rate (entered by the due date):";
    for (const auto& [q, r] : owed["rates"].items()) {
      out += "  " + q + " " + std::to_string(r.value("on_time", 0)) + "/" +
             std::to_string(r.value("expected", 0));
    }
    out += "\n";
  }
  return out;
}

int CountSeenBefore(const std::vector<RecordState>& records, const std::string& key_field,
                    const std::string& key, std::int64_t at_ms, const std::string& except_id) {
  if (key.empty()) return 0;
  int fy = PeriodOf(at_ms).fy;
  int count = 0;
  for (const auto& r : records) {
    if (r.id == except_id || r.IsDeleted()) continue;
    auto it = r.fields.find(key_field);
    if (it == r.fields.end() || it->second.v != key) continue;
    std::int64_t when = 0;
    if (!ParseIsoDateTime(r.OccurredAt(), &when).ok() || PeriodOf(when).fy != fy) continue;
    ++count;
  }
  return count;
}

}  // namespace beatbook
