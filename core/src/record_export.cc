#include "beatbook/record_export.h"

#include <set>
#include <sstream>

#include "csv.h"

namespace beatbook {

using nlohmann::json;

namespace {

std::string CellText(const json& v) {
  if (v.is_null()) return "";
  if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
  if (v.is_string()) return CsvText(v.get<std::string>());
  if (v.is_array()) {
    std::string joined;
    for (const auto& item : v) {
      joined +=
          (joined.empty() ? "" : "; ") + (item.is_string() ? item.get<std::string>() : item.dump());
    }
    return CsvText(joined);
  }
  return CsvField(v.dump());
}

}  // namespace

RecordTable TabulateRecords(const FormSet& forms, const std::string& form,
                            const std::vector<RecordState>& records, bool include_sensitive) {
  RecordTable t;
  t.columns = {"id", "org", "author", "occurred_at"};
  std::set<std::string> seen(t.columns.begin(), t.columns.end()), sensitive;
  // Fields of the latest version first, then of the versions the records use.
  std::vector<const FormDef*> versions;
  if (const FormDef* latest = forms.Latest(form)) versions.push_back(latest);
  for (const auto& r : records) {
    if (const FormDef* f = forms.Find(r.form, r.form_version)) versions.push_back(f);
  }
  std::vector<std::string> fields;
  for (const FormDef* def : versions) {
    for (const auto& f : def->fields) {
      if (f.sensitive) sensitive.insert(f.name);
      if (seen.insert(f.name).second) fields.push_back(f.name);
    }
  }
  for (const auto& name : fields) {
    if (sensitive.count(name) && !include_sensitive) {
      t.withheld.push_back(name);
    } else {
      t.columns.push_back(name);
    }
  }
  for (const auto& r : records) {
    json values = r.FieldValues();
    std::vector<json> row = {r.id, r.org, r.author, r.OccurredAt()};
    for (std::size_t c = 4; c < t.columns.size(); ++c) {
      row.push_back(values.contains(t.columns[c]) ? values[t.columns[c]] : json(nullptr));
    }
    t.rows.push_back(std::move(row));
  }
  return t;
}

std::string RenderRecordsCsv(const RecordTable& t) {
  std::ostringstream out;
  for (std::size_t c = 0; c < t.columns.size(); ++c)
    out << (c ? "," : "") << CsvField(t.columns[c]);
  out << "\n";
  for (const auto& row : t.rows) {
    for (std::size_t c = 0; c < row.size(); ++c) out << (c ? "," : "") << CellText(row[c]);
    out << "\n";
  }
  return out.str();
}

json RecordsJson(const RecordTable& t) {
  json rows = json::array();
  for (const auto& row : t.rows) rows.push_back(row);
  return {{"columns", t.columns}, {"rows", rows}, {"withheld", t.withheld}};
}

}  // namespace beatbook
