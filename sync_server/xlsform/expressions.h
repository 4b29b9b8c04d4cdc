// The XLSForm expressions Beatbook's forms can express, both ways (docs/xlsform.md):
//
//   relevant:   ${f} = 'v'   ${f} = 3   ${f} = 'a' or ${f} = 'b'   selected(${f}, 'c')   ${f} != ''
//   constraint: . >= 0   . <= 5   . >= 1 and . <= 5   string-length(.) <= 200
//   required:   yes, no, true, false, TRUE, FALSE, true(), false() (an empty cell is no)
//
// Anything else is refused with what Beatbook can take instead: nothing is dropped.
#pragma once

#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "beatbook/form.h"

namespace beatbook::server::xlsform {

// How a question's answers look to an expression: select_one and text answers are strings, a
// boolean's is 'yes' or 'no' in XLSForm and true or false in Beatbook.
using FieldTypes = std::map<std::string, FieldType>;

// `text` (a relevant cell) as the form JSON's "relevant" object, reading `types` for the field it
// names. "" or what is wrong.
std::string RelevantFromXlsForm(const std::string& text, const FieldTypes& types,
                                nlohmann::json* out);

// A constraint cell as the field's "min", "max" and "max_length" (set in *field). `type` is the
// field's. "" or what is wrong.
std::string ConstraintFromXlsForm(const std::string& text, FieldType type,
                                  nlohmann::ordered_json* field);

// A required cell: "" or what is wrong.
std::string RequiredFromXlsForm(const std::string& text, bool* required);

// The other way, for export.
std::string RelevantToXlsForm(const Relevance& relevance, const FieldTypes& types);
std::string ConstraintToXlsForm(const FieldDef& field);

// "3" for 3.0, "2.5" for 2.5: a number as a spreadsheet user writes it.
std::string NumberText(double value);

}  // namespace beatbook::server::xlsform
