// Record-level exports: one form's records as a table, with fields marked sensitive (notes,
// comments: "sensitive": true in the form) left out unless they are asked for explicitly.
//
//   RecordTable t = TabulateRecords(forms, "outreach_contact", records,
//                                   /*include_sensitive=*/false);
//   std::cout << RenderRecordsCsv(t);  // t.withheld names the columns left out
//
// Only what the caller passes is tabulated: choosing the records (form, period, org, not
// deleted) and recording the export in the audit log are the caller's job.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "beatbook/form.h"
#include "beatbook/record.h"

namespace beatbook {

struct RecordTable {
  // "id", "org", "author", "occurred_at", then the form's fields: the latest version's in order,
  // then any only older versions had.
  std::vector<std::string> columns;
  std::vector<std::vector<nlohmann::json>> rows;  // null where a record has no value
  std::vector<std::string> withheld;              // sensitive fields left out
};

RecordTable TabulateRecords(const FormSet& forms, const std::string& form,
                            const std::vector<RecordState>& records, bool include_sensitive);

// CSV with a header row; lists joined with "; ", booleans as yes/no, free text escaped against
// spreadsheet formulas (CsvText).
std::string RenderRecordsCsv(const RecordTable& table);
// {"columns": [...], "rows": [[...], ...], "withheld": [...]}
nlohmann::json RecordsJson(const RecordTable& table);

}  // namespace beatbook
