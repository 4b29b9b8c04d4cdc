// Writing an imported form into a schema directory (docs/forms.md, "Files"), laid out as the
// shipped files are: one member per line, each field and each choice on a line of its own, so
// a person can read the change and a diff shows it.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "beatbook/status.h"
#include "sync_server/xlsform/xlsform.h"

namespace beatbook::server::xlsform {

// Writes DIR/forms/FORM.vN.json and, when the import changes lists, DIR/choices.json (each by
// a temporary file renamed into place). AlreadyExists, changing nothing, if that version's file
// is there. Sets *form_file to the file written.
Status WriteImport(const std::string& schema_dir, const XlsFormImport& imported,
                   std::string* form_file);

// The text of a form's file, and of choices.json.
std::string FormFileText(const nlohmann::ordered_json& form);
std::string ChoicesFileText(const nlohmann::ordered_json& choices);

}  // namespace beatbook::server::xlsform
