// A form as an XLSForm (xlsform.h): what ODK's tools read in the survey, choices and settings
// sheets, and Beatbook's own rules in bb_... columns beside them, so an import gives the form
// back.
#include <algorithm>
#include <map>
#include <set>

#include "sync_server/xlsform/expressions.h"
#include "sync_server/xlsform/xlsform.h"

namespace beatbook::server::xlsform {

namespace {

using Row = std::vector<std::string>;

// A sheet built column by column: each row is a map from header to cell, and only the columns
// some row uses are kept, in the order given.
class SheetBuilder {
 public:
  SheetBuilder(std::string name, std::vector<std::string> columns)
      : name_(std::move(name)), columns_(std::move(columns)) {}
  void Add(std::map<std::string, std::string> row) { rows_.push_back(std::move(row)); }
  Sheet Build() const {
    std::vector<std::string> used;
    for (const auto& column : columns_) {
      bool any = std::any_of(rows_.begin(), rows_.end(), [&](const auto& row) {
        auto it = row.find(column);
        return it != row.end() && !it->second.empty();
      });
      // XLSForm's own first columns are always there, even empty.
      if (any || column == "type" || column == "name" || column == "label" ||
          column == "list_name" || column == "form_id") {
        used.push_back(column);
      }
    }
    Sheet sheet{name_, {used}};
    for (const auto& row : rows_) {
      Row cells;
      for (const auto& column : used) {
        auto it = row.find(column);
        cells.push_back(it == row.end() ? "" : it->second);
      }
      sheet.rows.push_back(std::move(cells));
    }
    return sheet;
  }

 private:
  std::string name_;
  std::vector<std::string> columns_;
  std::vector<std::map<std::string, std::string>> rows_;
};

// "label::Cymraeg (cy)": XLSForm's column for a text in a language.
std::string LanguageColumn(const std::string& base, const FormSet& schema,
                           const std::string& code) {
  const Language* l = schema.FindLanguage(code);
  return base + "::" + (l ? l->name : code) + " (" + code + ")";
}

std::string Words(const nlohmann::json& list) {
  std::string text;
  if (!list.is_array()) return text;
  for (const auto& item : list) {
    if (item.is_string()) text += (text.empty() ? "" : " ") + item.get<std::string>();
  }
  return text;
}

// The list a select question names in its type: its own, or one made of its several.
std::string ListName(const FieldDef& f) {
  std::string name;
  for (const auto& l : f.choice_lists) name += (name.empty() ? "" : "__") + l;
  return name;
}

}  // namespace

Workbook ExportXlsForm(const FormDef& form, const FormSet& schema) {
  std::vector<std::string> others(form.languages.begin() + 1, form.languages.end());
  FieldTypes types;
  for (const auto& f : form.fields) types[f.name] = f.type;

  std::vector<std::string> survey_columns = {"type", "name", "label"};
  for (const auto& code : others) survey_columns.push_back(LanguageColumn("label", schema, code));
  survey_columns.push_back("hint");
  for (const auto& code : others) survey_columns.push_back(LanguageColumn("hint", schema, code));
  for (const char* c : {"required", "relevant", "bb_in_list", "constraint", "bb_choices",
                        "bb_sensitive", "bb_places", "bb_safeguarding", "bb_keep_location",
                        "bb_format", "bb_not_before", "bb_choice_orgs"}) {
    survey_columns.push_back(c);
  }
  SheetBuilder survey("survey", survey_columns);

  std::vector<std::string> choice_columns = {"list_name", "name", "label"};
  for (const auto& code : others) choice_columns.push_back(LanguageColumn("label", schema, code));
  SheetBuilder choices("choices", choice_columns);
  std::set<std::string> listed;
  auto list_choices = [&](const std::string& list, const std::vector<Choice>& items) {
    if (!listed.insert(list).second) return;
    for (const auto& c : items) {
      std::map<std::string, std::string> row = {
          {"list_name", list}, {"name", c.code}, {"label", c.label}};
      for (const auto& code : others) {
        row[LanguageColumn("label", schema, code)] = TextIn(c.label, c.labels, code);
      }
      choices.Add(std::move(row));
    }
  };

  for (const auto& f : form.fields) {
    std::map<std::string, std::string> row = {{"name", f.name},
                                              {"label", f.label},
                                              {"hint", f.help},
                                              {"required", f.required ? "yes" : ""}};
    for (const auto& code : others) {
      row[LanguageColumn("label", schema, code)] = TextIn(f.label, f.labels, code);
      if (!f.help.empty())
        row[LanguageColumn("hint", schema, code)] = TextIn(f.help, f.helps, code);
    }
    switch (f.type) {
      case FieldType::kText:
        row["type"] = "text";
        break;
      case FieldType::kInteger:
        row["type"] = "integer";
        break;
      case FieldType::kNumber:
        row["type"] = "decimal";
        break;
      case FieldType::kDateTime:
        row["type"] = "dateTime";
        break;
      case FieldType::kGeopoint:
        row["type"] = "geopoint";
        break;
      case FieldType::kImage:
        row["type"] = "image";
        break;
      case FieldType::kBoolean: {
        // XLSForm has no yes/no type: a select_one of the list yes_no, in the form's languages.
        row["type"] = "select_one yes_no";
        std::vector<Choice> yes_no = {{"yes", schema.default_language().yes, {}},
                                      {"no", schema.default_language().no, {}}};
        for (const auto& code : others) {
          if (const Language* l = schema.FindLanguage(code)) {
            yes_no[0].labels[code] = l->yes;
            yes_no[1].labels[code] = l->no;
          }
        }
        list_choices("yes_no", yes_no);
        break;
      }
      case FieldType::kSelectOne:
      case FieldType::kSelectMultiple: {
        std::string list = ListName(f);
        row["type"] =
            std::string(f.type == FieldType::kSelectOne ? "select_one " : "select_multiple ") +
            list;
        if (f.choice_lists.size() > 1) {
          std::string names;
          for (const auto& l : f.choice_lists) names += (names.empty() ? "" : " ") + l;
          row["bb_choices"] = names;
        }
        list_choices(list, f.choices);
        break;
      }
    }
    if (f.relevant) {
      row["relevant"] = RelevantToXlsForm(*f.relevant, types);
      // "One of the list L": the relevant spells out L's codes, and this keeps it following L.
      if (f.relevant->op == Relevance::Op::kInList) {
        row["bb_in_list"] = f.relevant->operand.get<std::string>();
      }
    }
    row["constraint"] = ConstraintToXlsForm(f);
    if (f.sensitive) row["bb_sensitive"] = "yes";
    if (f.places) row["bb_places"] = "yes";
    if (f.safeguarding) row["bb_safeguarding"] = "yes";
    if (f.keep_location) row["bb_keep_location"] = "yes";
    row["bb_format"] = f.format;
    row["bb_not_before"] = f.not_before;
    std::string orgs;
    for (const auto& [code, allowed] : f.choice_orgs) {
      std::string names;
      for (const auto& o : allowed) names += (names.empty() ? "" : " ") + o;
      orgs += (orgs.empty() ? "" : "; ") + code + ": " + names;
    }
    row["bb_choice_orgs"] = orgs;
    survey.Add(std::move(row));
  }

  std::vector<std::string> settings_columns = {"form_title"};
  for (const auto& code : others) {
    settings_columns.push_back(LanguageColumn("form_title", schema, code));
  }
  for (const char* c : {"form_id", "version", "default_language", "bb_help"}) {
    settings_columns.push_back(c);
  }
  for (const auto& code : others)
    settings_columns.push_back(LanguageColumn("bb_help", schema, code));
  for (const char* c : {"bb_writers_roles", "bb_writers_orgs", "bb_owners_of", "bb_natural_key",
                        "bb_immutable", "bb_changes"}) {
    settings_columns.push_back(c);
  }
  SheetBuilder settings("settings", settings_columns);
  const nlohmann::json& source = form.source;
  const nlohmann::json writers = source.value("writers", nlohmann::json::object());
  // No version: an import of the edited sheet becomes the form's next version.
  std::map<std::string, std::string> row = {
      {"form_title", form.label},
      {"form_id", form.name},
      {"default_language",
       schema.default_language().name + " (" + schema.default_language().code + ")"},
      {"bb_help", form.help},
      {"bb_writers_roles", Words(writers.value("roles", nlohmann::json()))},
      {"bb_writers_orgs", Words(writers.value("orgs", nlohmann::json()))},
      {"bb_owners_of", writers.value("owners_of", nlohmann::json()).is_string()
                           ? writers["owners_of"].get<std::string>()
                           : ""},
      {"bb_natural_key", Words(source.value("natural_key", nlohmann::json()))},
      {"bb_immutable", Words(source.value("immutable", nlohmann::json()))}};
  // bb_changes is left for the editor: it says what the version being made changes.
  for (const auto& code : others) {
    row[LanguageColumn("form_title", schema, code)] = TextIn(form.label, form.labels, code);
    if (!form.help.empty()) {
      row[LanguageColumn("bb_help", schema, code)] = TextIn(form.help, form.helps, code);
    }
  }
  settings.Add(std::move(row));

  Workbook book;
  book.sheets = {survey.Build(), choices.Build(), settings.Build()};
  return book;
}

}  // namespace beatbook::server::xlsform
