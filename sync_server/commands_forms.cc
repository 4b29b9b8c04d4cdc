// `sync_server forms import` and `forms export`: a form to and from an XLSForm spreadsheet
// (docs/xlsform.md). Import checks everything before it writes anything.
#include <filesystem>
#include <iostream>

#include "beatbook/form.h"
#include "beatbook/json_text.h"
#include "sync_server/commands.h"
#include "sync_server/xlsform/schema_files.h"
#include "sync_server/xlsform/xlsform.h"

namespace beatbook::server {

using nlohmann::json;

int RunFormsImport(const FormsImportOptions& o) {
  FormSet schema;
  if (Status s = FormSet::LoadDir(o.schema, &schema); !s.ok()) return Fail(s.message());
  xlsform::Workbook book;
  if (Status s = xlsform::ReadWorkbook(o.file, &book); !s.ok()) return Fail(s.message());
  xlsform::XlsFormImport imported;
  xlsform::ImportOptions options;
  options.allow_dropped_rules = o.allow_dropped_rules;
  Status s = xlsform::ImportXlsForm(book, schema, std::filesystem::path(o.file).stem().string(),
                                    &imported, options);
  if (!s.ok()) return Fail(o.file + ": " + s.message());
  const std::string name = imported.form["form"].get<std::string>();
  const int version = imported.form["version"].get<int>();
  std::string written;
  if (!o.dry_run) {
    if (Status w = xlsform::WriteImport(o.schema, imported, &written); !w.ok()) {
      return Fail(w.message());
    }
  }
  std::vector<std::string> lists;
  for (const auto& [list, items] : imported.lists) lists.push_back(list);
  if (o.as_json) {
    std::cout << JsonText({{"form", name},
                           {"version", version},
                           {"file", written.empty() ? json() : json(written)},
                           {"fields", imported.form["fields"].size()},
                           {"lists", lists},
                           {"notes", imported.notes}})
              << "\n";
    return 0;
  }
  std::cout << name << " version " << version << " (" << imported.form["fields"].size()
            << " questions): "
            << (o.dry_run ? "checked; nothing written (--dry-run)" : "written to " + written)
            << "\n";
  for (const auto& list : lists) {
    std::cout << "  choices.json: list '" << list << "'" << (o.dry_run ? " would change" : "")
              << "\n";
  }
  for (const auto& note : imported.notes) std::cout << "  note: " << note << "\n";
  if (!o.dry_run) {
    std::cout << "Restart the server to offer it: devices get it at their next sync.\n";
  }
  return 0;
}

int RunFormsExport(const FormsExportOptions& o) {
  FormSet schema;
  if (Status s = FormSet::LoadDir(SchemaDir(o.schema), &schema); !s.ok()) {
    return Fail(s.message());
  }
  const FormDef* form = o.version > 0 ? schema.Find(o.form, o.version) : schema.Latest(o.form);
  if (form == nullptr) {
    std::string known;
    for (const auto& n : schema.FormNames()) known += (known.empty() ? "" : ", ") + n;
    return Fail("no form '" + o.form + "'" +
                (o.version > 0 ? " version " + std::to_string(o.version) : "") +
                " (the forms: " + known + ")");
  }
  xlsform::Workbook book = xlsform::ExportXlsForm(*form, schema);
  if (Status s = xlsform::WriteWorkbook(book, o.out); !s.ok()) return Fail(s.message());
  std::cout << form->name << " version " << form->version << " written to " << o.out
            << " (import the edited sheet to make version " << schema.Latest(o.form)->version + 1
            << ")\n";
  return 0;
}

}  // namespace beatbook::server
