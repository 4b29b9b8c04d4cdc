// XLSForm, both ways (docs/xlsform.md): a form written in a spreadsheet (the survey, choices and
// settings sheets, as ODK's documentation writes them) becomes Beatbook's form JSON, and a form
// becomes such a spreadsheet, so a partnership can edit its forms where it is used to.
//
//   Workbook book;
//   ReadWorkbook("contact.xlsx", &book);
//   XlsFormImport imported;
//   Status s = ImportXlsForm(book, schema_forms, "contact", &imported);
//   // s names the sheet, row and column of anything Beatbook cannot express
//
// Nothing is dropped silently: a construct Beatbook cannot express (a calculation, a repeat, a
// choice filter, a custom message, a question type it lacks) is refused where it stands, and what
// is taken in another way (ODK's start and end, a display hint) is said in `notes`.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "beatbook/form.h"
#include "beatbook/status.h"
#include "sync_server/xlsform/workbook.h"

namespace beatbook::server::xlsform {

struct XlsFormImport {
  // The form's JSON (docs/forms.md), in the order a person reads it, for FORM.vN.json.
  nlohmann::ordered_json form;
  // Choice lists to write into choices.json, whole: new ones, and existing ones the spreadsheet
  // gives labels in more languages.
  std::vector<std::pair<std::string, nlohmann::ordered_json>> lists;
  // What was taken in another way than written, said to the user.
  std::vector<std::string> notes;
};

struct ImportOptions {
  // A new version may leave out rules the form's latest version has (who may log it, a field's
  // sensitive or safeguarding mark, a person key's format, ...). Refused unless this is set:
  // a sheet saved by a tool that strips unknown columns must not quietly widen who sees what.
  bool allow_dropped_rules = false;
};

// Converts `book` into a new version of a form of `schema` (whose choice lists, languages and
// forms it is checked against). `fallback_id` names the form when the settings sheet does not
// (ODK's habit: the file's name). The result is checked as loading would check it.
Status ImportXlsForm(const Workbook& book, const FormSet& schema, const std::string& fallback_id,
                     XlsFormImport* out, const ImportOptions& options = {});

// The survey, choices and settings sheets of `form`; Beatbook's own rules (who may log it,
// sensitive fields, ...) in columns named bb_..., which XLSForm tools leave alone.
Workbook ExportXlsForm(const FormDef& form, const FormSet& schema);

}  // namespace beatbook::server::xlsform
