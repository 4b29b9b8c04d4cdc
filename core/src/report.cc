#include "beatbook/report.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>

#include "beatbook/datetime.h"
#include "csv.h"

namespace beatbook {

using nlohmann::json;

namespace {

const char* kQuarters[] = {"Q1", "Q2", "Q3", "Q4"};
constexpr size_t kCellWidth = 13;  // fits a milestone status ("in_progress") and its marks

struct Cells {
  std::map<int, RawFigure> by_quarter;  // 0..4
};

std::map<std::string, Cells> Index(const std::vector<RawFigure>& figures) {
  std::map<std::string, Cells> out;
  for (const auto& f : figures) out[f.indicator].by_quarter[f.quarter] = f;
  return out;
}

double Round1(double v) { return std::round(v * 10) / 10; }

// The value of one quarter (1-4) or the year (0) of `ind`, as the interface reports it.
json Value(const Indicator& ind, const Cells* cells, int quarter) {
  auto get = [&](int q) -> const RawFigure* {
    if (!cells) return nullptr;
    auto it = cells->by_quarter.find(q);
    return it == cells->by_quarter.end() ? nullptr : &it->second;
  };
  switch (ind.kind) {
    case IndicatorKind::kCount:
    case IndicatorKind::kSum:
    case IndicatorKind::kDistinct: {
      if (quarter != 0 || ind.kind == IndicatorKind::kDistinct) {
        const RawFigure* f = get(quarter);
        return f ? f->value : 0.0;
      }
      double total = 0;
      for (int q = 1; q <= 4; ++q) total += get(q) ? get(q)->value : 0;
      return total;
    }
    case IndicatorKind::kRepeat: {
      // The store counts, per period, the keys seen in two or more records (RawFigure::n).
      const RawFigure* f = get(quarter);
      return f ? f->n : 0.0;
    }
    case IndicatorKind::kPercent: {
      double num = 0, n = 0;
      for (int q = 1; q <= 4; ++q) {
        if (quarter != 0 && q != quarter) continue;
        if (const RawFigure* f = get(q)) {
          num += f->value;
          n += f->n;
        }
      }
      return n > 0 ? json(Round1(100.0 * num / n)) : json(nullptr);
    }
    case IndicatorKind::kReturn: {
      double total = 0;
      bool any = false;
      for (int q = 1; q <= 4; ++q) {
        if (quarter != 0 && q != quarter) continue;
        if (const RawFigure* f = get(q); f && f->records > 0) {
          total += f->value;
          any = true;
        }
      }
      return any ? json(total) : json(nullptr);
    }
    case IndicatorKind::kMilestone: {
      // The year's status is the latest quarter's that has one.
      for (int q = quarter == 0 ? 4 : quarter; q >= (quarter == 0 ? 1 : quarter); --q) {
        if (const RawFigure* f = get(q); f && !f->status.empty()) return f->status;
      }
      return nullptr;
    }
  }
  return nullptr;
}

json Denominator(const Cells* cells, int quarter) {
  double n = 0;
  if (cells) {
    for (const auto& [q, f] : cells->by_quarter) {
      if (q >= 1 && (quarter == 0 || q == quarter)) n += f.n;
    }
  }
  return n;
}

// "better", "worse" or "same" for a move from `before` to `now`, given the wanted direction.
json Trend(const Indicator& ind, const json& now, const json& before) {
  if (!now.is_number() || !before.is_number()) return nullptr;
  double diff = now.get<double>() - before.get<double>();
  if (diff == 0) return "same";
  return (diff > 0) == (ind.direction > 0) ? "better" : "worse";
}

std::string Text(const json& v) {
  if (v.is_null()) return "-";
  if (v.is_string()) return v.get<std::string>();
  double d = v.get<double>();
  std::ostringstream out;
  if (d == std::floor(d) && std::fabs(d) < 1e15) {
    out << static_cast<long long>(d);
  } else {
    out.precision(1);
    out << std::fixed << d;
  }
  return out.str();
}

}  // namespace

json BuildReport(const Catalogue& catalogue, const ReportInput& in) {
  auto now = Index(in.figures);
  auto before = Index(in.previous);
  // The latest approval of each quarter freezes it.
  std::map<int, const Approval*> frozen;
  for (const auto& a : in.approvals) frozen[a.quarter] = &a;

  json indicators = json::array();
  for (const Indicator& ind : catalogue.indicators()) {
    const Cells* cur = now.count(ind.id) ? &now[ind.id] : nullptr;
    const Cells* prev = before.count(ind.id) ? &before[ind.id] : nullptr;
    json values = json::object(), trend = json::object(), late = json::object(),
         approved = json::object(), n = json::object(), redefined = json::object();
    // The version that last changed how this indicator is counted.
    int defined_in = std::max(ind.changed_in, ind.added_in);
    std::map<int, json> live;
    for (int q = 1; q <= 4; ++q) live[q] = Value(ind, cur, q);
    for (int q = 1; q <= 4; ++q) {
      const char* name = kQuarters[q - 1];
      json shown = live[q];
      const json* approved_row = nullptr;
      if (auto it = frozen.find(q); it != frozen.end()) {
        for (const auto& r : it->second->report["indicators"]) {
          if (r["id"] == ind.id) approved_row = &r;
        }
      }
      // An indicator added after the quarter was approved was not part of it: shown live.
      if (approved_row != nullptr) {
        const Approval& a = *frozen[q];
        // The approved figure stands; a different live figure is shown as late, or, for a
        // figure approved under an earlier definition, beside today's count of it.
        approved[name] = true;
        shown = (*approved_row)["values"][name];
        if (shown != live[q]) {
          (a.catalogue_version < defined_in ? redefined : late)[name] = live[q];
        }
      }
      values[name] = shown;
      json previous_quarter = q > 1 ? values[kQuarters[q - 2]] : Value(ind, prev, 4);
      trend[name] = {{"vs_previous_quarter", Trend(ind, shown, previous_quarter)},
                     {"vs_same_quarter_last_year", Trend(ind, shown, Value(ind, prev, q))}};
      if (ind.kind == IndicatorKind::kPercent) n[name] = Denominator(cur, q);
    }
    values["year"] = Value(ind, cur, 0);
    json row = {{"id", ind.id},
                {"priority", ind.priority},
                {"aim", ind.aim},
                {"label", ind.label},
                {"kind", IndicatorKindName(ind.kind)},
                {"direction", ind.direction > 0 ? "increase" : "decrease"},
                {"values", values},
                {"trend", trend}};
    if (ind.kind == IndicatorKind::kPercent) {
      n["year"] = Denominator(cur, 0);
      row["n"] = n;
    }
    if (!approved.empty()) row["approved"] = approved;
    if (!late.empty()) row["late"] = late;
    if (!redefined.empty()) row["redefined"] = redefined;
    if (ind.at_least) row["at_least"] = true;
    if (defined_in > 0) row["defined_in"] = defined_in;
    indicators.push_back(std::move(row));
  }
  json approvals = json::array();
  for (const auto& a : in.approvals) {
    approvals.push_back({{"quarter", kQuarters[a.quarter - 1]},
                         {"kind", a.kind},
                         {"user", a.user},
                         {"at", FormatIsoUtc(a.at_ms)},
                         {"catalogue_version", a.catalogue_version}});
  }
  // The catalogue version each quarter is reported under: its approval's, or today's.
  json versions = json::object();
  for (int q = 1; q <= 4; ++q) {
    auto it = frozen.find(q);
    versions[kQuarters[q - 1]] =
        it != frozen.end() ? it->second->catalogue_version : catalogue.version();
  }
  json report = {{"fy", in.fy},
                 {"catalogue_version", catalogue.version()},
                 {"versions", versions},
                 {"indicators", indicators},
                 {"approvals", approvals},
                 {"warnings", in.warnings}};
  if (in.quarter) report["quarter"] = kQuarters[*in.quarter - 1];
  return report;
}

std::string RenderTable(const Catalogue& catalogue, const json& report) {
  std::ostringstream out;
  int fy = report["fy"].get<int>();
  out << "Quarterly return " << fy << "/" << (fy + 1) % 100 << " (catalogue version "
      << report["catalogue_version"] << ")\n";
  std::vector<std::string> cols = {"Q1", "Q2", "Q3", "Q4", "year"};
  if (report.contains("quarter")) cols = {report["quarter"].get<std::string>(), "year"};
  auto mark = [](const json& t) {
    if (t.is_null()) return std::string(" ");
    return t == "better" ? std::string("+") : t == "worse" ? std::string("-") : std::string("=");
  };
  for (const Priority& p : catalogue.priorities()) {
    out << "\n" << p.label << "\n";
    for (const Aim& a : catalogue.aims()) {
      if (a.priority != p.id) continue;
      out << "  Aim: " << a.label << " (the plan wants "
          << (a.direction > 0 ? "an increase" : "a reduction") << ")\n";
      char head[256];
      std::snprintf(head, sizeof head, "    %-32s %-48s", "indicator", "");
      out << head;
      for (const auto& c : cols) out << std::string(kCellWidth - c.size(), ' ') << c;
      out << "\n";
      for (const auto& row : report["indicators"]) {
        if (row["aim"] != a.id) continue;
        std::string label = row["label"].get<std::string>();
        if (label.size() > 48) {
          size_t cut = 45;
          while (cut > 0 && (static_cast<unsigned char>(label[cut]) & 0xC0) == 0x80) --cut;
          label = label.substr(0, cut) + "...";  // never inside a UTF-8 character
        }
        char line[256];
        std::snprintf(line, sizeof line, "    %-32s %-48s", row["id"].get<std::string>().c_str(),
                      label.c_str());
        out << line;
        for (const auto& c : cols) {
          std::string cell = Text(row["values"][c]);
          if (row.contains("at_least") && row["values"][c].is_number()) cell = ">=" + cell;
          if (row["kind"] == "percent" && !row["values"][c].is_null()) cell += "%";
          if (c != "year") {
            cell += mark(row["trend"][c]["vs_previous_quarter"]);
            if (row.contains("late") && row["late"].contains(c)) cell += "*";
            if (row.contains("redefined") && row["redefined"].contains(c)) cell += "^";
          }
          out << (cell.size() < kCellWidth ? std::string(kCellWidth - cell.size(), ' ') : " ")
              << cell;
        }
        out << "\n";
      }
    }
  }
  out << "\n+ / - / = : moved the way the plan wants / the other way / unchanged, against the "
         "previous quarter.  * : late data changes an approved figure.  ^ : approved under an "
         "earlier definition; counted today's way it differs.  >= : at least.\n";
  std::string versions;
  for (const auto& [q, v] : report["versions"].items()) {
    versions += (versions.empty() ? "" : ", ") + q + " v" + std::to_string(v.get<int>());
  }
  out << "Reported under catalogue versions: " << versions << "\n";
  for (const auto& a : report["approvals"]) {
    out << a["quarter"].get<std::string>() << " " << a["kind"].get<std::string>() << " by "
        << a["user"].get<std::string>() << " at " << a["at"].get<std::string>() << "\n";
  }
  for (const auto& w : report["warnings"]) out << "warning: " << w.get<std::string>() << "\n";
  return out.str();
}

std::string RenderCsv(const json& report) {
  std::ostringstream out;
  out << "id,priority,aim,label,kind,direction,Q1,Q2,Q3,Q4,year\r\n";
  for (const auto& row : report["indicators"]) {
    out << CsvField(row["id"]) << "," << CsvField(row["priority"]) << "," << CsvField(row["aim"])
        << "," << CsvField(row["label"]) << "," << CsvField(row["kind"]) << ","
        << CsvField(row["direction"]);
    for (const char* c : {"Q1", "Q2", "Q3", "Q4", "year"}) {
      const json& v = row["values"][c];
      out << "," << (v.is_null() ? "" : CsvField(Text(v)));
    }
    out << "\r\n";
  }
  return out.str();
}

}  // namespace beatbook
