// The quarterly return: figures per indicator for Q1-Q4 and the year, with the direction of travel,
// approved quarters frozen, and late changes shown beside them. Rendered as a table, CSV or JSON
// (the JSON shape is the interface's `report --format json`).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "beatbook/catalogue.h"

namespace beatbook {

// Aggregates the central store keeps per indicator and period (quarter 0: the year, for distinct).
struct RawFigure {
  std::string indicator;
  int fy = 0;
  int quarter = 0;
  double value = 0;          // sum of contributions (distinct: number of distinct keys)
  double n = 0;              // percent: records in the denominator
  std::int64_t records = 0;  // contributing records
  std::string status;        // milestone: the latest status
};

// A frozen quarter: the report JSON as approved, with who and when.
struct Approval {
  int fy = 0;
  int quarter = 0;
  std::string kind;  // "approval" or "restatement"
  std::string user;
  std::int64_t at_ms = 0;
  int catalogue_version = 0;
  nlohmann::json report;  // BuildReport(...) JSON at the time
};

struct ReportInput {
  int fy = 0;
  std::optional<int> quarter;         // only this quarter's columns, when set
  std::vector<RawFigure> figures;     // of fy
  std::vector<RawFigure> previous;    // of fy - 1 (for the direction of travel)
  std::vector<Approval> approvals;    // of fy, oldest first
  std::vector<std::string> warnings;  // e.g. devices not synced since a quarter ended
};

// The report as JSON: {"fy", "catalogue_version", "indicators": [{"id", "priority", "aim",
// "label", "kind", "direction", "values": {"Q1".."Q4", "year"}, "n": {...} (percent),
// "trend": {"Qn": {"vs_previous_quarter", "vs_same_quarter_last_year"}}, "approved": {"Qn": true},
// "late": {"Qn": current value}}], "approvals": [...], "warnings": [...]}.
nlohmann::json BuildReport(const Catalogue& catalogue, const ReportInput& input);

// A readable table grouped by priority and aim.
std::string RenderTable(const Catalogue& catalogue, const nlohmann::json& report);
// One row per indicator: id, priority, aim, label, kind, direction, Q1..Q4, year.
std::string RenderCsv(const nlohmann::json& report);

}  // namespace beatbook
