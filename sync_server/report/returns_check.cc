#include "sync_server/report/returns_check.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "beatbook/datetime.h"

namespace beatbook::server {

using nlohmann::json;

Status EnteredReturns(CentralStore* store, const ReturnRules& rules, int fy,
                      std::vector<EnteredReturn>* out) {
  for (const auto& [id, rule] : rules.rules()) {
    std::vector<FigureSource> sources;
    BB_RETURN_IF_ERROR(store->ExplainFigure(id, fy, 0, &sources));
    // When the return was entered: on the device (its occurred_at, set when the partner lead
    // entered it), or when its figure reached the server if that is earlier. Not the last write
    // alone: a recount for a new catalogue or an edit of the note rewrites that.
    for (const auto& s : sources) {
      std::int64_t entered = s.at_ms;
      std::int64_t occurred = 0;
      if (ParseIsoDateTime(s.occurred_at, &occurred).ok()) entered = std::min(entered, occurred);
      out->push_back({id, s.org, s.quarter, entered});
    }
  }
  return Status::OK();
}

Status AssembleOwed(CentralStore* store, const ReturnRules& rules, int fy,
                    std::optional<int> quarter, std::int64_t now_ms, const std::string& org,
                    json* out) {
  std::vector<EnteredReturn> entered;
  BB_RETURN_IF_ERROR(EnteredReturns(store, rules, fy, &entered));
  *out = OwedJson(fy, OwedItems(rules, fy, quarter, entered, now_ms, org), now_ms);
  return Status::OK();
}

Status UnusualFigures(CentralStore* store, const ReturnRules& rules, int fy,
                      std::optional<int> quarter, json* out) {
  *out = json::array();
  for (const auto& [id, rule] : rules.rules()) {
    if (rule.milestone) continue;
    // Each owner's figures over this year and the one before, by (org, fy, quarter).
    std::map<std::tuple<std::string, int, int>, double> figures;
    std::vector<FigureSource> now;
    for (int year : {fy - 1, fy}) {
      std::vector<FigureSource> sources;
      BB_RETURN_IF_ERROR(store->ExplainFigure(id, year, 0, &sources));
      for (const auto& s : sources) figures[{s.org, year, s.quarter}] = s.value;
      if (year == fy) now = std::move(sources);
    }
    for (const auto& s : now) {
      if (quarter && s.quarter != *quarter) continue;
      std::vector<double> history;
      FyQuarter p{fy, s.quarter};
      for (int k = 0; k < 4; ++k) {
        p = PreviousQuarter(p);
        auto it = figures.find({s.org, p.fy, p.quarter});
        if (it != figures.end()) history.push_back(it->second);
      }
      std::string why = WhyUnusual(rules, rule, s.value, history);
      if (why.empty()) continue;
      out->push_back({{"indicator", id},
                      {"label", rule.label},
                      {"org", s.org},
                      {"quarter", "Q" + std::to_string(s.quarter)},
                      {"value", s.value},
                      {"reason", why}});
    }
  }
  return Status::OK();
}

OrgLabels OrgLabelsOf(const FormSet& forms) {
  OrgLabels labels;
  if (const auto* list = forms.List("org")) {
    for (const auto& c : *list) labels[c.code] = c.label.empty() ? c.code : c.label;
  }
  return labels;
}

std::vector<std::string> ReturnWarnings(const json& owed, const json& unusual,
                                        const OrgLabels& org_labels) {
  auto org_name = [&](const json& code) {
    auto it = org_labels.find(code.get<std::string>());
    return it == org_labels.end() ? code.get<std::string>() : it->second;
  };
  // An indicator by its label, by its id where an entry has none.
  auto indicator = [](const json& entry) {
    return entry.value("label", entry["indicator"].get<std::string>());
  };
  std::vector<std::string> out;
  std::map<std::string, std::vector<std::string>> owed_by_org;
  for (const auto& i : owed["items"]) {
    if (i["state"] != "owed") continue;
    owed_by_org[org_name(i["org"])].push_back(i["quarter"].get<std::string>() + " " + indicator(i));
  }
  // One line per org, naming the first few (`owed` lists them all).
  constexpr std::size_t kNamed = 5;
  for (const auto& [org, items] : owed_by_org) {
    std::string list;
    for (std::size_t i = 0; i < items.size() && i < kNamed; ++i) {
      list += (list.empty() ? "" : ", ") + items[i];
    }
    if (items.size() > kNamed) {
      list +=
          " and " + std::to_string(items.size() - kNamed) + " more (sync_server owed lists them)";
    }
    out.push_back(org + " still owes " + std::to_string(items.size()) + " return" +
                  (items.size() == 1 ? "" : "s") + " past the due date: " + list);
  }
  for (const auto& u : unusual) {
    out.push_back("unusual figure: " + indicator(u) + " " + u["quarter"].get<std::string>() +
                  " from " + org_name(u["org"]) + ": " + u["reason"].get<std::string>());
  }
  return out;
}

}  // namespace beatbook::server
