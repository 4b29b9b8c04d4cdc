// An XLSForm as a Beatbook form (xlsform.h). The sheets are read by their header row, so columns
// may come in any order; every message names the sheet, row and column it is about, as the
// spreadsheet shows them ("sheet 'survey', row 7, column D (relevant)").
#include <algorithm>
#include <cctype>
#include <optional>
#include <set>

#include "sync_server/xlsform/expressions.h"
#include "sync_server/xlsform/xlsform.h"

namespace beatbook::server::xlsform {

using nlohmann::json;
using nlohmann::ordered_json;

namespace {

const std::size_t kNone = static_cast<std::size_t>(-1);

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string Trim(const std::string& s) {
  std::size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

bool IsName(const std::string& s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  return std::all_of(s.begin(), s.end(),
                     [](unsigned char c) { return std::isalnum(c) || c == '_'; });
}

std::vector<std::string> Words(const std::string& s) {
  std::vector<std::string> words;
  std::string word;
  for (char c : s + " ") {
    if (std::isspace(static_cast<unsigned char>(c))) {
      if (!word.empty()) words.push_back(word);
      word.clear();
    } else {
      word += c;
    }
  }
  return words;
}

// One column of a sheet: XLSForm's name for it ("label") and, for a text in another language,
// that language's code ("cy" for "label::Cymraeg (cy)").
struct Column {
  std::string base;
  std::string language;  // "" for the default language
  std::string header;    // as written
};

// A sheet read by its header row.
class Table {
 public:
  Table(const Sheet& sheet, std::vector<Column> columns)
      : sheet_(sheet), columns_(std::move(columns)) {}

  // Reads the header row, resolving each language to a code of `schema`. "" or what is wrong.
  static std::string Read(const Sheet& sheet, const FormSet& schema, std::optional<Table>* out) {
    std::vector<Column> columns;
    const auto& headers = sheet.rows.empty() ? std::vector<std::string>() : sheet.rows[0];
    for (std::size_t c = 0; c < headers.size(); ++c) {
      Column column{"", "", headers[c]};
      std::string header = Trim(headers[c]);
      std::size_t sep = header.find("::");
      column.base = Lower(Trim(header.substr(0, sep)));
      if (column.base == "list name") column.base = "list_name";
      if (sep != std::string::npos) {
        std::string spec = Trim(header.substr(sep + 2));
        std::string why = LanguageOf(spec, schema, &column.language);
        if (!why.empty()) {
          return "sheet '" + sheet.name + "', column " + ColumnLetters(c) + " ('" + headers[c] +
                 "'): " + why;
        }
      }
      for (std::size_t earlier = 0; earlier < columns.size(); ++earlier) {
        const Column& other = columns[earlier];
        if (!column.base.empty() && other.base == column.base &&
            other.language == column.language) {
          // Two columns for one thing: which one is meant cannot be known.
          return "sheet '" + sheet.name + "', columns " + ColumnLetters(earlier) + " ('" +
                 other.header + "') and " + ColumnLetters(c) + " ('" + headers[c] +
                 "') are the same column; keep one";
        }
      }
      columns.push_back(std::move(column));
    }
    out->emplace(sheet, std::move(columns));
    return "";
  }

  // "Cymraeg (cy)", "cy" or "Cymraeg" as a code of `schema` ("" for its default language).
  static std::string LanguageOf(const std::string& spec, const FormSet& schema, std::string* code) {
    std::string wanted = spec;
    std::string named;  // "Cymraeg" of "Cymraeg (cy)"
    std::size_t open = spec.rfind('(');
    if (open != std::string::npos && spec.back() == ')') {
      wanted = Trim(spec.substr(open + 1, spec.size() - open - 2));
      named = Trim(spec.substr(0, open));
    }
    for (const auto& l : schema.languages()) {
      if (l.code == wanted || Lower(l.name) == Lower(spec)) {
        if (!named.empty() && Lower(named) != Lower(l.name)) {
          return "'" + spec + "' names " + named + " but gives the code of " + l.name + " (" +
                 l.code + "); say which is meant";
        }
        *code = l.code == schema.default_language().code ? "" : l.code;
        return "";
      }
    }
    std::string known;
    for (const auto& l : schema.languages()) {
      known += (known.empty() ? "" : ", ") + l.name + " (" + l.code + ")";
    }
    return "'" + spec + "' is not a language of this partnership's forms (" + known +
           "); add it to choices.json's \"languages\", with its name and its words for yes and "
           "no, first";
  }

  std::size_t rows() const { return sheet_.rows.size(); }
  const std::vector<Column>& columns() const { return columns_; }
  const std::string& name() const { return sheet_.name; }
  // The column `base` in `language`, or kNone.
  std::size_t Find(const std::string& base, const std::string& language = "") const {
    for (std::size_t c = 0; c < columns_.size(); ++c) {
      if (columns_[c].base == base && columns_[c].language == language) return c;
    }
    return kNone;
  }
  // The cell of `row` in column `base` (default language), trimmed; "" when there is none.
  std::string Get(std::size_t row, const std::string& base) const {
    std::size_t c = Find(base);
    return c == kNone ? "" : Trim(sheet_.Cell(row, c));
  }
  bool Blank(std::size_t row) const {
    if (row >= sheet_.rows.size()) return true;
    for (const auto& cell : sheet_.rows[row]) {
      if (!Trim(cell).empty()) return false;
    }
    return true;
  }
  // "sheet 'survey', row 7, column D (relevant)".
  std::string Where(std::size_t row, const std::string& base) const {
    std::size_t c = Find(base);
    std::string at = "sheet '" + sheet_.name + "', row " + std::to_string(row + 1);
    if (c == kNone) return at;
    return at + ", column " + ColumnLetters(c) + " (" + columns_[c].header + ")";
  }
  std::string WhereColumn(std::size_t row, std::size_t c) const {
    return "sheet '" + sheet_.name + "', row " + std::to_string(row + 1) + ", column " +
           ColumnLetters(c) + " (" + columns_[c].header + ")";
  }
  // The texts of `base` in each other language: {"label::cy": "..."}, keyed as Beatbook keys
  // them under `key`.
  void Translations(std::size_t row, const std::string& base, const std::string& key,
                    ordered_json* into) const {
    for (std::size_t c = 0; c < columns_.size(); ++c) {
      if (columns_[c].base != base || columns_[c].language.empty()) continue;
      std::string text = Trim(sheet_.Cell(row, c));
      if (!text.empty()) (*into)[key + "::" + columns_[c].language] = text;
    }
  }
  // The first non-empty cell of `row` in a column not in `known`, or in another language when
  // its column is not one of `translated`; kNone if there is none.
  std::size_t Unknown(std::size_t row, const std::set<std::string>& known,
                      const std::set<std::string>& translated = {"label", "hint"}) const {
    for (std::size_t c = 0; c < columns_.size(); ++c) {
      const Column& column = columns_[c];
      if (known.count(column.base) && (column.language.empty() || translated.count(column.base))) {
        continue;
      }
      if (!Trim(sheet_.Cell(row, c)).empty()) return c;
    }
    return kNone;
  }

 private:
  const Sheet& sheet_;
  std::vector<Column> columns_;
};

// Why a column XLSForm has is not taken, in words a form designer acts on.
std::string Refusal(const std::string& base) {
  if (base == "calculation") {
    return "Beatbook's forms do not calculate values; each answer is what the worker enters";
  }
  if (base == "choice_filter") {
    return "Beatbook does not narrow one question's choices by another's answer "
           "(choice_filter); offer every choice, or make separate questions with a relevant";
  }
  if (base == "default") return "Beatbook does not pre-fill answers (default)";
  if (base == "read_only") return "Beatbook has no read-only questions";
  if (base == "required_message" || base == "constraint_message") {
    return "Beatbook words its own messages, naming the question and the rule broken; leave " +
           base + " empty";
  }
  if (base == "repeat_count") return "Beatbook has no repeats";
  if (base.rfind("media", 0) == 0 || base == "image" || base == "audio" || base == "video") {
    return "Beatbook's forms show no media";
  }
  return "'" + base + "' is not something Beatbook can express; leave it empty or remove it";
}

struct ChoiceRow {
  std::size_t row;
  std::string code, label;
  ordered_json translations;  // {"label::cy": ...}
};

const char kYesNo[] = "yes_no";

// Reads the choices sheet into lists. "" or what is wrong.
std::string ReadChoices(const Table& t, std::map<std::string, std::vector<ChoiceRow>>* lists) {
  const std::set<std::string> known = {"list_name", "name", "label"};
  if (t.Find("list_name") == kNone || t.Find("name") == kNone) {
    return "sheet '" + t.name() + "' needs the columns list_name and name";
  }
  for (std::size_t r = 1; r < t.rows(); ++r) {
    if (t.Blank(r)) continue;
    if (std::size_t c = t.Unknown(r, known); c != kNone) {
      const std::string& base = t.columns()[c].base;
      return t.WhereColumn(r, c) + ": " +
             (base == "image" || base.rfind("media", 0) == 0
                  ? Refusal(base)
                  : "a column beside list_name, name and label is read by choice_filter, which "
                    "Beatbook does not support; leave it empty or remove it");
    }
    ChoiceRow choice{r, t.Get(r, "name"), t.Get(r, "label"), ordered_json::object()};
    std::string list = t.Get(r, "list_name");
    if (list.empty()) return t.Where(r, "list_name") + ": a choice needs its list's name";
    if (choice.code.empty()) return t.Where(r, "name") + ": a choice needs a name (its code)";
    if (choice.label.empty())
      return t.Where(r, "label") + ": choice '" + choice.code + "' needs a label";
    for (const auto& other : (*lists)[list]) {
      if (other.code == choice.code) {
        return t.Where(r, "name") + ": list '" + list + "' has '" + choice.code +
               "' twice (also row " + std::to_string(other.row + 1) + ")";
      }
    }
    t.Translations(r, "label", "label", &choice.translations);
    (*lists)[list].push_back(std::move(choice));
  }
  return "";
}

// The form's choice lists against choices.json: a list there must have the same codes in the
// same order and the same labels (other forms use it); it may gain labels in other languages.
class ListMerger {
 public:
  ListMerger(const FormSet& schema, const json& schema_lists, const Table* choices,
             const std::map<std::string, std::vector<ChoiceRow>>& sheet, XlsFormImport* out)
      : schema_(schema), schema_lists_(schema_lists), choices_(choices), sheet_(sheet), out_(out) {}

  // Makes sure `list` (as the choices sheet has it, or only choices.json) can be used; `where`
  // is the survey cell naming it. "" or what is wrong.
  std::string Use(const std::string& list, const std::string& where) {
    if (!done_.insert(list).second) return "";
    auto in_sheet = sheet_.find(list);
    bool in_schema = schema_lists_.contains(list);
    if (in_sheet == sheet_.end()) {
      if (!in_schema) {
        return where + ": list '" + list + "' is neither on the choices sheet nor in choices.json";
      }
      out_->notes.push_back("list '" + list +
                            "' is not on the choices sheet: choices.json's is used");
      return "";
    }
    if (!in_schema) {
      ordered_json items = ordered_json::array();
      for (const auto& c : in_sheet->second) {
        ordered_json item = {{"code", c.code}, {"label", c.label}};
        for (const auto& [key, text] : c.translations.items()) item[key] = text;
        items.push_back(std::move(item));
      }
      out_->lists.push_back({list, std::move(items)});
      out_->notes.push_back("list '" + list + "' is new: added to choices.json");
      return "";
    }
    return Merge(list, in_sheet->second, schema_lists_[list]);
  }

  // The rows of a list made of several (bb_choices), split back into those lists.
  std::string UseSeveral(const std::string& combined, const std::vector<std::string>& lists,
                         const std::string& where) {
    std::set<std::string> codes;
    for (const auto& l : lists) {
      if (!schema_lists_.contains(l)) {
        return where + ": bb_choices names list '" + l + "', which is not in choices.json";
      }
      for (const auto& item : schema_lists_[l]) codes.insert(item.value("code", ""));
    }
    auto in_sheet = sheet_.find(combined);
    if (in_sheet == sheet_.end() || !done_.insert(combined).second) return "";
    std::set<std::string> given;
    for (const auto& c : in_sheet->second) given.insert(c.code);
    if (given != codes) {
      return where + ": list '" + combined +
             "' on the choices sheet must hold exactly the codes "
             "of the lists bb_choices names (those are kept in choices.json and shared)";
    }
    for (const auto& l : lists) {
      std::vector<ChoiceRow> part;
      for (const auto& c : in_sheet->second) {
        for (const auto& item : schema_lists_[l]) {
          if (item.value("code", "") == c.code) part.push_back(c);
        }
      }
      // In choices.json's order, which is the order the combined list was written in.
      if (std::string why = Merge(l, part, schema_lists_[l]); !why.empty()) return why;
    }
    return "";
  }

 private:
  std::string Merge(const std::string& list, const std::vector<ChoiceRow>& rows,
                    const json& existing) {
    const std::string shared =
        "list '" + list + "' is shared with other forms (choices.json) and differs here: ";
    const std::string fix = ". Give the changed list a new list_name, or change choices.json";
    std::size_t n = std::min(rows.size(), existing.size());
    for (std::size_t i = 0; i < n; ++i) {
      std::string code = existing[i].value("code", "");
      std::string label = existing[i].value("label", "");
      if (rows[i].code != code) {
        return choices_->Where(rows[i].row, "name") + ": " + shared + "'" + rows[i].code +
               "' where choices.json has '" + code + "'" + fix;
      }
      if (rows[i].label != label) {
        return choices_->Where(rows[i].row, "label") + ": " + shared + "'" + rows[i].label +
               "' where choices.json has '" + label + "'" + fix;
      }
    }
    if (rows.size() != existing.size()) {
      return (rows.empty() ? "sheet '" + choices_->name() + "'"
                           : choices_->Where(rows.back().row, "name")) +
             ": " + shared + std::to_string(rows.size()) + " choices where choices.json has " +
             std::to_string(existing.size()) + fix;
    }
    // Same choices: labels in other languages may be added (or corrected).
    ordered_json merged = ordered_json::parse(existing.dump());
    bool changed = false;
    std::set<std::string> languages;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      for (const auto& [key, text] : rows[i].translations.items()) {
        if (merged[i].value(key, ordered_json()) != text) {
          merged[i][key] = text;
          changed = true;
          languages.insert(key.substr(key.find("::") + 2));
        }
      }
    }
    if (changed) {
      std::string names;
      for (const auto& code : languages) {
        names += (names.empty() ? "" : ", ") + schema_.FindLanguage(code)->name;
      }
      out_->lists.push_back({list, std::move(merged)});
      out_->notes.push_back("list '" + list + "': labels in " + names +
                            " written into choices.json");
    }
    return "";
  }

  const FormSet& schema_;
  const json& schema_lists_;
  const Table* choices_;
  const std::map<std::string, std::vector<ChoiceRow>>& sheet_;
  XlsFormImport* out_;
  std::set<std::string> done_;
};

// ODK's metadata questions: Beatbook records these in every record's envelope.
const std::map<std::string, std::string> kEnvelope = {{"start", "when it happened (occurred_at)"},
                                                      {"end", "when it was saved"},
                                                      {"today", "when it happened (occurred_at)"},
                                                      {"deviceid", "the device"},
                                                      {"username", "the worker (author)"}};

// The question types Beatbook has, as XLSForm names them (lower case).
const std::map<std::string, std::string> kTypes = {{"text", "text"},
                                                   {"integer", "integer"},
                                                   {"decimal", "number"},
                                                   {"datetime", "datetime"},
                                                   {"select_one", "select_one"},
                                                   {"select_multiple", "select_multiple"},
                                                   {"geopoint", "geopoint"},
                                                   {"image", "image"}};

std::string TypeRefusal(const std::string& type) {
  if (type == "date" || type == "time") {
    return "Beatbook records a date and time together: use dateTime";
  }
  if (type == "note") {
    return "a note records nothing: put its text in the next question's hint";
  }
  if (type == "calculate") return Refusal("calculation");
  if (type == "end_repeat") return "Beatbook has no repeats";
  if (type == "begin_repeat" || type == "begin repeat") {
    return "Beatbook has no repeats: one record per thing counted (log each as its own record)";
  }
  return "question type '" + type +
         "' is not one Beatbook has (text, integer, decimal, dateTime, select_one, "
         "select_multiple, geopoint, image; a yes/no question is select_one yes_no)";
}

// A question waiting for its expressions (read once every question's type is known).
struct Question {
  std::size_t row;
  ordered_json field;
  FieldType type;
};

class Importer {
 public:
  Importer(const Workbook& book, const FormSet& schema, const ImportOptions& options,
           XlsFormImport* out)
      : book_(book), schema_(schema), options_(options), schema_doc_(schema.ToJson()), out_(out) {}

  std::string Run(const std::string& fallback_id) {
    const Sheet* survey_sheet = book_.Find("survey");
    if (survey_sheet == nullptr) return "the workbook has no sheet named 'survey'";
    std::optional<Table> survey, choices, settings;
    if (std::string why = Table::Read(*survey_sheet, schema_, &survey); !why.empty()) return why;
    if (survey->Find("type") == kNone || survey->Find("name") == kNone) {
      return "sheet 'survey' needs the columns type and name (in its first row)";
    }
    std::map<std::string, std::vector<ChoiceRow>> lists;
    if (const Sheet* s = book_.Find("choices")) {
      if (std::string why = Table::Read(*s, schema_, &choices); !why.empty()) return why;
      if (std::string why = ReadChoices(*choices, &lists); !why.empty()) return why;
    }
    if (const Sheet* s = book_.Find("settings")) {
      if (std::string why = Table::Read(*s, schema_, &settings); !why.empty()) return why;
    }
    for (const auto& sheet : book_.sheets) {
      const std::string name = Lower(sheet.name);
      if (name == "survey" || name == "choices" || name == "settings") continue;
      bool blank = std::all_of(sheet.rows.begin(), sheet.rows.end(), [](const auto& row) {
        return std::all_of(row.begin(), row.end(),
                           [](const std::string& cell) { return Trim(cell).empty(); });
      });
      if (blank) continue;
      if (name == "external_choices" || name == "entities") {
        return "sheet '" + sheet.name + "': " +
               (name == "entities" ? "Beatbook has no entities (records to look up later)"
                                   : "Beatbook takes choices from the choices sheet only");
      }
      out_->notes.push_back("sheet '" + sheet.name + "' is not part of an XLSForm: not read");
    }
    if (std::string why = ReadSettings(settings ? &*settings : nullptr, fallback_id);
        !why.empty()) {
      return why;
    }
    ListMerger merger(schema_, schema_doc_["choices"]["lists"], choices ? &*choices : nullptr,
                      lists, out_);
    if (std::string why = ReadSurvey(*survey, lists, &merger); !why.empty()) return why;
    for (const auto& [name, rows] : lists) {
      if (!used_lists_.count(name)) {
        out_->notes.push_back("list '" + name +
                              "' on the choices sheet is used by no question: "
                              "not added");
      }
    }
    if (std::string why = Check(); !why.empty()) return why;
    if (std::string dropped = DroppedRules(); !dropped.empty()) {
      const std::string id = out_->form["form"].get<std::string>();
      if (!options_.allow_dropped_rules) {
        return "version " + std::to_string(schema_.Latest(id)->version) + " of form '" + id +
               "' has rules this sheet leaves out: " + dropped +
               ". A sheet made by `sync_server forms export` keeps them in its bb_ columns; to "
               "drop them on purpose, import with --allow-dropped-rules";
      }
      out_->notes.push_back("rules of the previous version dropped, as asked: " + dropped);
    }
    return "";
  }

 private:
  std::string ReadSettings(const Table* t, const std::string& fallback_id) {
    const std::set<std::string> known = {
        "form_id",          "form_title",      "version",      "default_language", "bb_help",
        "bb_writers_roles", "bb_writers_orgs", "bb_owners_of", "bb_natural_key",   "bb_immutable",
        "bb_changes",       "style",           "instance_name"};
    const std::size_t r = 1;
    auto get = [&](const char* base) { return t ? t->Get(r, base) : std::string(); };
    if (t) {
      for (std::size_t more = r + 1; more < t->rows(); ++more) {
        if (!t->Blank(more)) {
          return t->Where(more, "form_id") +
                 ": the settings are one row (row 2); this row would be ignored";
        }
      }
      if (std::size_t c = t->Unknown(r, known, {"form_title", "bb_help"}); c != kNone) {
        const Column& column = t->columns()[c];
        return t->WhereColumn(r, c) + ": " +
               (known.count(column.base)
                    ? "only form_title and bb_help are given in other languages"
                    : Refusal(column.base));
      }
      for (const char* shown : {"style", "instance_name"}) {
        if (!get(shown).empty()) {
          out_->notes.push_back(std::string("settings: ") + shown +
                                " is for ODK's screens; Beatbook's app draws its own");
        }
      }
    }
    std::string id = get("form_id").empty() ? fallback_id : get("form_id");
    if (!IsName(id)) {
      if (get("form_id").empty()) {
        return "the form has no form_id (settings sheet), and the file's name '" + id +
               "' cannot be one: give a form_id of letters, digits and _";
      }
      return t->Where(r, "form_id") + ": form_id '" + id +
             "' must be a name of letters, digits and _ (it is the form's code)";
    }
    std::string language = get("default_language");
    if (!language.empty() && Lower(language) != "default") {
      std::string code;
      std::string why = Table::LanguageOf(language, schema_, &code);
      if (!why.empty()) return t->Where(r, "default_language") + ": " + why;
      if (!code.empty()) {
        const Language& d = schema_.default_language();
        return t->Where(r, "default_language") + ": the plain label and hint columns are in " +
               d.name + " (" + d.code + "), the default of this partnership's forms; give " +
               language + " as label::" + language + " columns";
      }
    }
    const FormDef* latest = schema_.Latest(id);
    int version = latest ? latest->version + 1 : 1;
    if (std::string v = get("version"); !v.empty()) {
      char* end = nullptr;
      long long given = std::strtoll(v.c_str(), &end, 10);
      if (*end != '\0' || given < 1 || given > 2'147'483'646) {
        return t->Where(r, "version") + ": version '" + v + "' must be a whole number from 1";
      }
      if (latest && given <= latest->version) {
        return t->Where(r, "version") + ": form '" + id + "' is already at version " +
               std::to_string(latest->version) +
               ", and versions are kept as they are so records made with them still check; "
               "give a higher version or leave it empty for the next";
      }
      version = static_cast<int>(given);
    }
    auto& form = out_->form;
    form = ordered_json::object();
    form["form"] = id;
    form["version"] = version;
    form["label"] = get("form_title").empty() ? id : get("form_title");
    if (t) t->Translations(r, "form_title", "label", &form);
    if (!get("bb_help").empty()) form["help"] = get("bb_help");
    if (t) t->Translations(r, "bb_help", "help", &form);
    ordered_json writers = ordered_json::object();
    if (auto roles = Words(get("bb_writers_roles")); !roles.empty()) writers["roles"] = roles;
    if (auto orgs = Words(get("bb_writers_orgs")); !orgs.empty()) writers["orgs"] = orgs;
    if (!get("bb_owners_of").empty()) writers["owners_of"] = get("bb_owners_of");
    if (!writers.empty()) form["writers"] = writers;
    if (auto key = Words(get("bb_natural_key")); !key.empty()) form["natural_key"] = key;
    if (auto fixed = Words(get("bb_immutable")); !fixed.empty()) form["immutable"] = fixed;
    if (!get("bb_changes").empty()) form["changes"] = get("bb_changes");
    form["fields"] = ordered_json::array();
    return "";
  }

  std::string ReadSurvey(const Table& t, const std::map<std::string, std::vector<ChoiceRow>>& lists,
                         ListMerger* merger) {
    const std::set<std::string> known = {"type",
                                         "name",
                                         "label",
                                         "hint",
                                         "required",
                                         "relevant",
                                         "constraint",
                                         "appearance",
                                         "bb_choices",
                                         "bb_sensitive",
                                         "bb_safeguarding",
                                         "bb_format",
                                         "bb_not_before",
                                         "bb_choice_orgs",
                                         "bb_in_list",
                                         "bb_places",
                                         "bb_keep_location"};
    std::vector<Question> questions;
    FieldTypes types;
    std::vector<std::size_t> groups;  // rows of the groups open
    for (std::size_t r = 1; r < t.rows(); ++r) {
      if (t.Blank(r)) continue;
      if (std::size_t c = t.Unknown(r, known); c != kNone) {
        const Column& column = t.columns()[c];
        return t.WhereColumn(r, c) + ": " +
               (known.count(column.base) ? "only label and hint are given in other languages"
                                         : Refusal(column.base));
      }
      // The type's keywords compare without case; a list's name keeps its own.
      std::vector<std::string> type = Words(t.Get(r, "type"));
      std::string name = t.Get(r, "name");
      if (type.empty()) return t.Where(r, "type") + ": the row has no type";
      std::string kind = Lower(type[0]);
      if (type.size() == 2 && (kind == "begin" || kind == "end")) kind += "_" + Lower(type[1]);
      if (kind == "begin_group" || kind == "end_group" || kEnvelope.count(kind)) {
        // These rows make no question: anything else said on them would be lost.
        if (!t.Get(r, "relevant").empty() && kind == "begin_group") {
          return t.Where(r, "relevant") +
                 ": a group's relevant cannot be expressed; put it on each question inside";
        }
        std::set<std::string> allowed = {"type", "name"};
        if (kind == "begin_group") allowed.insert({"label", "appearance"});
        if (std::size_t c = t.Unknown(r, allowed, {"label"}); c != kNone) {
          return t.WhereColumn(r, c) + ": a " + kind +
                 " row makes no question, so this cell would be lost; leave it empty";
        }
      }
      if (kind == "begin_group") {
        groups.push_back(r);
        std::string label = t.Get(r, "label");
        out_->notes.push_back("group '" + name + "'" + (label.empty() ? "" : " (" + label + ")") +
                              ", " + t.Where(r, "type") +
                              ": its questions are asked in order, on one page");
        continue;
      }
      if (kind == "end_group") {
        if (groups.empty()) return t.Where(r, "type") + ": end group with no begin group";
        groups.pop_back();
        continue;
      }
      if (kEnvelope.count(kind)) {
        out_->notes.push_back("'" + name + "' (" + kind + ", " + t.Where(r, "type") +
                              "): every Beatbook record has " + kEnvelope.at(kind) +
                              " already; no question made");
        continue;
      }
      auto known_type = kTypes.find(kind);
      bool select = kind == "select_one" || kind == "select_multiple";
      if (known_type == kTypes.end()) return t.Where(r, "type") + ": " + TypeRefusal(kind);
      if (select && type.size() == 3 && Lower(type[2]) == "or_other") {
        return t.Where(r, "type") +
               ": or_other cannot be expressed; add a choice 'other' and a "
               "text question with relevant selected(${" +
               name + "}, 'other')";
      }
      if ((select && type.size() != 2) || (!select && type.size() != 1)) {
        return t.Where(r, "type") + ": '" + t.Get(r, "type") + "' is not a question type" +
               (select ? " (select_one LIST_NAME)" : "");
      }
      if (!IsName(name)) {
        return t.Where(r, "name") + ": '" + name +
               "' must be a name of letters, digits and _ (it is the question's code)";
      }
      if (types.count(name)) return t.Where(r, "name") + ": '" + name + "' is used twice";
      if (t.Get(r, "label").empty())
        return t.Where(r, "label") + ": question '" + name + "' needs a label";
      Question q{r, ordered_json::object(), FieldType::kText};
      q.field["name"] = name;
      std::string bb_type = known_type->second;
      // select_one yes_no (the list of yes and no) is Beatbook's yes/no question.
      if (kind == "select_one" && type[1] == kYesNo) {
        auto it = lists.find(kYesNo);
        bool plain = it == lists.end() || (it->second.size() == 2 && it->second[0].code == "yes" &&
                                           it->second[1].code == "no");
        if (plain) {
          bb_type = "boolean";
          if (it != lists.end() && used_lists_.insert(kYesNo).second) {
            out_->notes.push_back(
                "list 'yes_no' makes yes/no questions; their answers read as choices.json's "
                "languages word them");
          }
        }
      }
      q.field["type"] = bb_type;
      if (select && bb_type != "boolean") {
        used_lists_.insert(type[1]);
        std::vector<std::string> several = Words(t.Get(r, "bb_choices"));
        if (several.size() == 1) {
          return t.Where(r, "bb_choices") +
                 ": bb_choices is for a question offering several lists; name one list in the "
                 "type alone";
        }
        if (several.size() > 1) {
          if (std::string why = merger->UseSeveral(type[1], several, t.Where(r, "bb_choices"));
              !why.empty()) {
            return why;
          }
          q.field["choices"] = several;
        } else {
          if (std::string why = merger->Use(type[1], t.Where(r, "type")); !why.empty()) return why;
          q.field["choices"] = {type[1]};
        }
      }
      bool required = false;
      if (std::string why = RequiredFromXlsForm(t.Get(r, "required"), &required); !why.empty()) {
        return t.Where(r, "required") + ": '" + t.Get(r, "required") + "': " + why;
      }
      q.field["required"] = required;
      q.field["label"] = t.Get(r, "label");
      if (!t.Get(r, "hint").empty()) q.field["help"] = t.Get(r, "hint");
      t.Translations(r, "label", "label", &q.field);
      t.Translations(r, "hint", "help", &q.field);
      if (!t.Get(r, "appearance").empty()) {
        out_->notes.push_back("'" + name + "': appearance '" + t.Get(r, "appearance") +
                              "' is for ODK's screens; Beatbook's app draws its own");
      }
      // The type as the core names it.
      static const std::map<std::string, FieldType> kCore = {
          {"text", FieldType::kText},         {"integer", FieldType::kInteger},
          {"number", FieldType::kNumber},     {"boolean", FieldType::kBoolean},
          {"datetime", FieldType::kDateTime}, {"select_one", FieldType::kSelectOne},
          {"geopoint", FieldType::kGeopoint}, {"select_multiple", FieldType::kSelectMultiple},
          {"image", FieldType::kImage}};
      q.type = kCore.at(bb_type);
      types[name] = q.type;
      question_rows_[name] = r;
      questions.push_back(std::move(q));
    }
    if (!groups.empty()) {
      return t.Where(groups.back(), "type") + ": this begin group has no end group";
    }
    if (questions.empty()) return "sheet 'survey' has no questions";
    for (auto& q : questions) {
      if (std::string why = Rules(t, q, types); !why.empty()) return why;
      out_->form["fields"].push_back(std::move(q.field));
    }
    return "";
  }

  // A question's relevant, constraint and Beatbook's own rules.
  std::string Rules(const Table& t, Question& q, const FieldTypes& types) {
    const std::size_t r = q.row;
    if (std::string text = t.Get(r, "constraint"); !text.empty()) {
      if (std::string why = ConstraintFromXlsForm(text, q.type, &q.field); !why.empty()) {
        return t.Where(r, "constraint") + ": " + why;
      }
    }
    auto yes = [&](const char* base, const char* key) -> std::string {
      bool on = false;
      if (std::string why = RequiredFromXlsForm(t.Get(r, base), &on); !why.empty()) {
        return t.Where(r, base) + ": '" + t.Get(r, base) + "' is not yes or no";
      }
      if (on) q.field[key] = true;
      return "";
    };
    if (std::string why = yes("bb_sensitive", "sensitive"); !why.empty()) return why;
    if (std::string why = yes("bb_safeguarding", "safeguarding"); !why.empty()) return why;
    if (std::string why = yes("bb_places", "places"); !why.empty()) return why;
    if (std::string why = yes("bb_keep_location", "keep_location"); !why.empty()) return why;
    if (!t.Get(r, "bb_format").empty()) q.field["format"] = t.Get(r, "bb_format");
    if (!t.Get(r, "bb_not_before").empty()) q.field["not_before"] = t.Get(r, "bb_not_before");
    if (std::string text = t.Get(r, "relevant"); !text.empty()) {
      json relevant;
      if (std::string why = RelevantFromXlsForm(text, types, &relevant); !why.empty()) {
        return t.Where(r, "relevant") + ": " + why;
      }
      if (std::string list = t.Get(r, "bb_in_list"); !list.empty()) {
        if (std::string why = InList(list, &relevant); !why.empty()) {
          return t.Where(r, "bb_in_list") + ": " + why;
        }
      }
      q.field["relevant"] = ordered_json::parse(relevant.dump());
    } else if (!t.Get(r, "bb_in_list").empty()) {
      return t.Where(r, "bb_in_list") + ": bb_in_list goes with a relevant";
    }
    if (std::string text = t.Get(r, "bb_choice_orgs"); !text.empty()) {
      // "op_fortress: police; other: police csp"
      ordered_json orgs = ordered_json::object();
      std::size_t start = 0;
      while (start <= text.size()) {
        std::size_t end = text.find(';', start);
        std::string part = Trim(text.substr(start, end == std::string::npos ? end : end - start));
        start = end == std::string::npos ? text.size() + 1 : end + 1;
        if (part.empty()) continue;
        std::size_t colon = part.find(':');
        if (colon == std::string::npos || Words(part.substr(colon + 1)).empty()) {
          return t.Where(r, "bb_choice_orgs") + ": write 'code: org org; code: org'";
        }
        std::string code = Trim(part.substr(0, colon));
        if (orgs.contains(code)) {
          return t.Where(r, "bb_choice_orgs") + ": '" + code + "' is given twice";
        }
        orgs[code] = Words(part.substr(colon + 1));
      }
      q.field["choice_orgs"] = orgs;
    }
    return "";
  }

  // A relevant "one of these codes" that bb_in_list says is "one of the list": it must give
  // exactly the list's codes, and becomes {"in_list": list}.
  std::string InList(const std::string& list, json* relevant) {
    json items;
    for (const auto& [name, given] : out_->lists) {
      if (name == list) items = json::parse(given.dump());
    }
    const json& lists = schema_doc_["choices"]["lists"];
    if (items.is_null() && lists.contains(list)) items = lists[list];
    if (items.is_null()) return "list '" + list + "' is neither new here nor in choices.json";
    std::set<std::string> codes, given;
    for (const auto& item : items) codes.insert(item.value("code", ""));
    const json values = relevant->contains("in")       ? (*relevant)["in"]
                        : relevant->contains("equals") ? json::array({(*relevant)["equals"]})
                                                       : json::array();
    for (const auto& v : values) given.insert(v.is_string() ? v.get<std::string>() : v.dump());
    if (given != codes) {
      return "the relevant must give exactly the codes of list '" + list + "' (" +
             std::to_string(codes.size()) +
             " of them) for bb_in_list to keep it following the "
             "list; it gives " +
             std::to_string(given.size());
    }
    *relevant = {{"field", (*relevant)["field"]}, {"in_list", list}};
    return "";
  }

  // The form as loading checks it, with the lists as they will be in choices.json.
  std::string Check() {
    json doc = schema_doc_;
    for (const auto& [name, items] : out_->lists) {
      doc["choices"]["lists"][name] = json::parse(items.dump());
    }
    doc["forms"].push_back(json::parse(out_->form.dump()));
    FormSet checked;
    Status s = FormSet::FromJson(doc, &checked);
    if (s.ok()) return "";
    std::string why = s.message();
    if (why.rfind("form set: ", 0) == 0) why = why.substr(10);
    // The loader names fields by their name: add the row the question is on.
    for (const auto& [name, row] : question_rows_) {
      if (why.find("field '" + name + "'") != std::string::npos) {
        return "sheet 'survey', row " + std::to_string(row + 1) + ": " + why;
      }
    }
    return "the form made from this XLSForm does not check: " + why;
  }

  // The rules of the form's latest version this sheet leaves out (a plain ODK sheet, or one a
  // tool saved without its bb_ columns): "" if none, or it is the form's first version.
  std::string DroppedRules() {
    const FormDef* latest = schema_.Latest(out_->form["form"].get<std::string>());
    if (latest == nullptr) return "";
    std::vector<std::string> dropped;
    const auto& form = out_->form;
    const ordered_json writers = form.value("writers", ordered_json::object());
    if (!latest->writers.roles.empty() && !writers.contains("roles")) {
      dropped.push_back("who may log it (bb_writers_roles)");
    }
    if (!latest->writers.orgs.empty() && !writers.contains("orgs")) {
      dropped.push_back("which orgs log it (bb_writers_orgs)");
    }
    if (!latest->writers.owners_of.empty() && !writers.contains("owners_of")) {
      dropped.push_back("whose returns it holds (bb_owners_of)");
    }
    if (!latest->natural_key.empty() && !form.contains("natural_key")) {
      dropped.push_back("its natural key (bb_natural_key)");
    }
    if (!latest->immutable.empty() && !form.contains("immutable")) {
      dropped.push_back("the answers that cannot be changed (bb_immutable)");
    }
    for (const auto& field : form["fields"]) {
      const FieldDef* before = latest->Find(field["name"].get<std::string>());
      if (before == nullptr) continue;
      const std::string named = "'" + before->name + "' ";
      if (before->sensitive && !field.value("sensitive", false)) {
        dropped.push_back(named + "sensitive (bb_sensitive)");
      }
      if (before->safeguarding && !field.value("safeguarding", false)) {
        dropped.push_back(named + "raising a safeguarding concern (bb_safeguarding)");
      }
      if (!before->format.empty() && !field.contains("format")) {
        dropped.push_back(named + "format " + before->format + " (bb_format)");
      }
      if (!before->choice_orgs.empty() && !field.contains("choice_orgs")) {
        dropped.push_back(named + "choices only some orgs may pick (bb_choice_orgs)");
      }
    }
    std::string list;
    for (const auto& d : dropped) list += (list.empty() ? "" : "; ") + d;
    return list;
  }

  const Workbook& book_;
  const FormSet& schema_;
  const ImportOptions options_;
  json schema_doc_;
  XlsFormImport* out_;
  std::set<std::string> used_lists_;
  std::map<std::string, std::size_t> question_rows_;  // name -> its survey row
};

}  // namespace

Status ImportXlsForm(const Workbook& book, const FormSet& schema, const std::string& fallback_id,
                     XlsFormImport* out, const ImportOptions& options) {
  XlsFormImport imported;
  Importer importer(book, schema, options, &imported);
  if (std::string why = importer.Run(fallback_id); !why.empty()) {
    return Status::InvalidArgument(why);
  }
  *out = std::move(imported);
  return Status::OK();
}

}  // namespace beatbook::server::xlsform
