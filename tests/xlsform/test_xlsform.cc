// XLSForm to Beatbook and back (sync_server/xlsform/, docs/xlsform.md): a form written the way
// ODK's documentation writes one (made here with libxlsxwriter, as a spreadsheet program would:
// numbers, booleans and formatted text in cells), what Beatbook cannot express refused where it
// stands, every shipped form through a spreadsheet and back unchanged, and hostile files.
#include <xlsxwriter.h>
#include <zip.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "beatbook/form.h"
#include "support/pseudo_language.h"
#include "support/schema_dir.h"
#include "support/temp_dir.h"
#include "sync_server/xlsform/schema_files.h"
#include "sync_server/xlsform/xlsform.h"

using namespace beatbook;
using namespace beatbook::server::xlsform;
using nlohmann::json;

namespace {

// The shipped schema with a second language, Spanish, as a partnership would declare it.
std::string SchemaWithSpanish(const test::TempDir& dir) {
  std::filesystem::path to = dir / "schema";
  std::filesystem::copy(test::SchemaDir(), to, std::filesystem::copy_options::recursive);
  json choices = json::parse(std::ifstream(to / "choices.json"));
  choices["languages"].push_back(
      {{"code", "es"}, {"name", "Español"}, {"yes", "Sí"}, {"no", "No"}});
  std::ofstream(to / "choices.json", std::ios::trunc) << choices.dump(1);
  return to.string();
}

FormSet Load(const std::string& dir) {
  FormSet forms;
  Status s = FormSet::LoadDir(dir, &forms);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  return forms;
}

// A street count as ODK's XLSForm documentation lays a form out: metadata first, a group, a
// yes/no list, translated labels and hints, a relevant, constraints, appearance. Written cell by
// cell with libxlsxwriter: the version as a number, one required as a boolean cell, one label in
// formatted runs.
void WriteOdkStyleForm(const std::string& path) {
  lxw_workbook* wb = workbook_new(path.c_str());
  REQUIRE(wb != nullptr);
  lxw_worksheet* survey = workbook_add_worksheet(wb, "survey");
  const std::vector<std::vector<std::string>> rows = {
      {"type", "name", "label", "label::Español (es)", "hint", "hint::Español (es)", "required",
       "relevant", "constraint", "appearance"},
      {"start", "start"},
      {"end", "end"},
      {"begin group", "contact", "Contact", "Contacto"},
      {"text", "place", "Where?", "¿Dónde?", "A street or venue", "Una calle o lugar", "yes"},
      {"integer", "people", "", "¿Cuántas personas?", "", "", "", "", ". >= 1 and . <= 50"},
      {"select_one yes_no", "helped", "Did you help?", "¿Ayudaste?", "", "", ""},
      {"select_multiple needs", "needs", "Needs", "Necesidades", "", "", "no", "${helped} = 'yes'",
       "", "minimal"},
      {"text", "needs_other", "Other need", "Otra necesidad", "", "", "",
       "selected(${needs}, 'other')", "string-length(.) <= 100"},
      {"dateTime", "seen_at", "When seen", "Cuándo"},
      {"decimal", "hours", "Hours", "Horas", "", "", "", "", ". >= 0"},
      {"geopoint", "location", "Where exactly", "Dónde exactamente"},
      {"image", "damage", "Photo of the damage", "Foto del daño"},
      {"end group"},
  };
  for (std::size_t r = 0; r < rows.size(); ++r) {
    for (std::size_t c = 0; c < rows[r].size(); ++c) {
      if (rows[r][c].empty()) continue;
      worksheet_write_string(survey, r, c, rows[r][c].c_str(), nullptr);
    }
  }
  // "How many people?" in two runs, the first bold: a shared string with rich text.
  lxw_format* bold = workbook_add_format(wb);
  format_set_bold(bold);
  lxw_rich_string_tuple first = {bold, const_cast<char*>("How many")};
  lxw_rich_string_tuple second = {nullptr, const_cast<char*>(" people?")};
  lxw_rich_string_tuple* runs[] = {&first, &second, nullptr};
  worksheet_write_rich_string(survey, 5, 2, runs, nullptr);
  worksheet_write_boolean(survey, 6, 6, 1, nullptr);  // required: TRUE

  lxw_worksheet* choices = workbook_add_worksheet(wb, "choices");
  const std::vector<std::vector<std::string>> items = {
      {"list_name", "name", "label", "label::Español (es)"},
      {"yes_no", "yes", "Yes", "Sí"},
      {"yes_no", "no", "No", "No"},
      {"needs", "food", "Food", "Comida"},
      {"needs", "shelter", "Shelter", "Refugio"},
      {"needs", "other", "Other", "Otro"},
  };
  for (std::size_t r = 0; r < items.size(); ++r) {
    for (std::size_t c = 0; c < items[r].size(); ++c) {
      worksheet_write_string(choices, r, c, items[r][c].c_str(), nullptr);
    }
  }
  lxw_worksheet* settings = workbook_add_worksheet(wb, "settings");
  worksheet_write_string(settings, 0, 0, "form_title", nullptr);
  worksheet_write_string(settings, 0, 1, "form_title::Español (es)", nullptr);
  worksheet_write_string(settings, 0, 2, "form_id", nullptr);
  worksheet_write_string(settings, 0, 3, "version", nullptr);
  worksheet_write_string(settings, 0, 4, "default_language", nullptr);
  worksheet_write_string(settings, 1, 0, "Street count", nullptr);
  worksheet_write_string(settings, 1, 1, "Recuento en la calle", nullptr);
  worksheet_write_string(settings, 1, 2, "street_count", nullptr);
  worksheet_write_number(settings, 1, 3, 2023061501, nullptr);
  worksheet_write_string(settings, 1, 4, "English (en)", nullptr);
  REQUIRE(workbook_close(wb) == LXW_NO_ERROR);
}

bool HasNote(const XlsFormImport& imported, const std::string& part) {
  for (const auto& note : imported.notes) {
    if (note.find(part) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("an XLSForm written as ODK's documentation writes one becomes a Beatbook form") {
  test::TempDir dir;
  const std::string schema_dir = SchemaWithSpanish(dir);
  const FormSet schema = Load(schema_dir);
  const std::string file = dir / "street_count.xlsx";
  WriteOdkStyleForm(file);
  Workbook book;
  Status s = ReadWorkbook(file, &book);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  REQUIRE(book.Find("Survey") != nullptr);  // sheet names without case
  CHECK(book.Find("survey")->Cell(5, 2) == "How many people?");
  CHECK(book.Find("settings")->Cell(1, 3) == "2023061501");
  CHECK(book.Find("survey")->Cell(6, 6) == "TRUE");

  XlsFormImport imported;
  s = ImportXlsForm(book, schema, "fallback", &imported);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  const nlohmann::ordered_json& form = imported.form;
  CHECK(form["form"] == "street_count");
  CHECK(form["version"] == 2023061501);
  CHECK(form["label"] == "Street count");
  CHECK(form["label::es"] == "Recuento en la calle");
  REQUIRE(form["fields"].size() == 9);  // start, end and the group make no questions
  auto field = [&](const std::string& name) {
    for (const auto& f : form["fields"]) {
      if (f["name"] == name) return json::parse(f.dump());
    }
    FAIL("no field " << name);
    return json();
  };
  CHECK(field("place") == json::parse(R"({"name": "place", "type": "text", "required": true,
      "label": "Where?", "help": "A street or venue", "label::es": "¿Dónde?",
      "help::es": "Una calle o lugar"})"));
  CHECK(field("people")["min"] == 1);
  CHECK(field("people")["max"] == 50);
  CHECK(field("helped")["type"] == "boolean");
  CHECK(field("helped")["required"] == true);
  CHECK(field("needs")["relevant"] == json({{"field", "helped"}, {"equals", true}}));
  CHECK(field("needs")["choices"] == json({"needs"}));
  CHECK(field("needs_other")["relevant"] == json({{"field", "needs"}, {"includes", "other"}}));
  CHECK(field("needs_other")["max_length"] == 100);
  CHECK(field("seen_at")["type"] == "datetime");
  CHECK(field("hours")["type"] == "number");
  CHECK(field("hours")["min"] == 0);
  CHECK(field("location")["type"] == "geopoint");
  CHECK(field("damage")["type"] == "image");
  CHECK_FALSE(field("damage").contains("keep_location"));  // a photo's location goes by default
  // Nothing taken in another way goes unsaid.
  CHECK(HasNote(imported, "'start' (start"));
  CHECK(HasNote(imported, "group 'contact'"));
  CHECK(HasNote(imported, "appearance 'minimal'"));
  CHECK(HasNote(imported, "list 'needs' is new"));
  REQUIRE(imported.lists.size() == 1);
  CHECK(imported.lists[0].first == "needs");

  // Written into the schema directory: it loads, in both languages, with the list added and
  // every list it had before kept.
  std::string written;
  REQUIRE(WriteImport(schema_dir, imported, &written).ok());
  CHECK(written == schema_dir + "/forms/street_count.v2023061501.json");
  FormSet after = Load(schema_dir);
  const FormDef* loaded = after.Latest("street_count");
  REQUIRE(loaded != nullptr);
  CHECK(loaded->languages == std::vector<std::string>{"en", "es"});
  CHECK(loaded->InLanguage("es").Find("needs")->choices[0].label == "Comida");
  for (const auto& name : schema.FormNames()) CHECK(after.Latest(name) != nullptr);
  CHECK(after.List("age_band")->size() == schema.List("age_band")->size());
  // A version is never written twice.
  CHECK(WriteImport(schema_dir, imported, &written).code() == Status::Code::kAlreadyExists);
}

namespace {

// A small form to break one way at a time: survey rows under the header row.
Workbook Book(std::vector<std::vector<std::string>> survey,
              std::vector<std::vector<std::string>> choices = {},
              std::vector<std::vector<std::string>> settings = {}) {
  Workbook book;
  book.sheets.push_back({"survey", std::move(survey)});
  if (!choices.empty()) book.sheets.push_back({"choices", std::move(choices)});
  if (!settings.empty()) book.sheets.push_back({"settings", std::move(settings)});
  return book;
}

}  // namespace

TEST_CASE("what Beatbook cannot express is refused, naming the sheet, row and column") {
  const FormSet schema = Load(test::SchemaDir());
  const std::vector<std::string> header = {"type",     "name",     "label",
                                           "required", "relevant", "constraint"};
  const std::vector<std::string> place = {"text", "place", "Place", "yes"};
  Workbook book;
  std::vector<std::string> expected;  // parts of the message
  SUBCASE("a calculation") {
    book = Book({header, place, {"calculate", "total", "Total"}});
    expected = {"sheet 'survey', row 3, column A (type)", "do not calculate"};
  }
  SUBCASE("a choice filter") {
    book = Book({{"type", "name", "label", "choice_filter"},
                 {"text", "place", "Place"},
                 {"select_one age_band", "age", "Age", "${place} = 'x'"}});
    expected = {"row 3, column D (choice_filter)", "does not narrow"};
  }
  SUBCASE("a repeat") {
    book = Book({header, {"begin repeat", "people", "People"}, place, {"end repeat"}});
    expected = {"row 2, column A (type)", "no repeats"};
  }
  SUBCASE("two conditions joined by and") {
    book = Book({header, place, {"integer", "n", "N", "", "${place} = 'a' and ${place} = 'b'"}});
    expected = {"row 3, column E (relevant)", "'and' joins two conditions"};
  }
  SUBCASE("a comparison Beatbook's relevant cannot hold") {
    book = Book({header, {"integer", "n", "N"}, {"text", "why", "Why", "", "${n} > 3"}});
    expected = {"row 3, column E (relevant)", "one question"};
  }
  SUBCASE("a relevant naming no question") {
    book = Book({header, place, {"text", "why", "Why", "", "${ghost} = 'x'"}});
    expected = {"row 3, column E (relevant)", "${ghost} is not a question of this form"};
  }
  SUBCASE("a regular expression constraint") {
    book = Book({header, {"text", "code", "Code", "", "", "regex(., '^[A-Z]+$')"}});
    expected = {"row 2, column F (constraint)", "string-length(.) <= N"};
  }
  SUBCASE("a custom message") {
    book = Book({{"type", "name", "label", "constraint_message"}, {"text", "a", "A", "Too long"}});
    expected = {"row 2, column D (constraint_message)", "words its own messages"};
  }
  SUBCASE("a language the partnership has not declared") {
    book = Book({{"type", "name", "label", "label::Cymraeg (cy)"}, {"text", "a", "A", "A"}});
    expected = {"sheet 'survey', column D ('label::Cymraeg (cy)')", "'Cymraeg (cy)'",
                "add it to choices.json"};
  }
  SUBCASE("or_other") {
    book = Book({header, {"select_one age_band or_other", "age", "Age"}});
    expected = {"row 2, column A (type)", "or_other"};
  }
  SUBCASE("a date without a time") {
    book = Book({header, {"date", "day", "Day"}});
    expected = {"row 2, column A (type)", "use dateTime"};
  }
  SUBCASE("a type Beatbook does not have") {
    book = Book({header, {"geotrace", "route", "Route"}});
    expected = {"row 2, column A (type)", "'geotrace' is not one Beatbook has"};
  }
  SUBCASE("a group's relevant") {
    book = Book({header, {"begin group", "g", "G", "", "${x} = 'y'"}, place, {"end group"}});
    expected = {"row 2, column E (relevant)", "put it on each question inside"};
  }
  SUBCASE("a shared list changed") {
    book = Book({header, {"select_one age_band", "age", "Age"}},
                {{"list_name", "name", "label"},
                 {"age_band", "under_18", "Under 18"},
                 {"age_band", "18_24", "Eighteen to 24"}});
    expected = {"sheet 'choices', row 3, column C (label)", "shared with other forms",
                "'Eighteen to 24' where choices.json has '18-24'"};
  }
  SUBCASE("a version not above the form's latest") {
    book = Book({header, place}, {}, {{"form_id", "version"}, {"outreach_contact", "2"}});
    expected = {"sheet 'settings', row 2, column B (version)", "already at version 2"};
  }
  SUBCASE("a question without a label") {
    book = Book({header, {"text", "a", ""}});
    expected = {"row 2, column C (label)", "needs a label"};
  }
  SUBCASE("a name used twice") {
    book = Book({header, place, place});
    expected = {"row 3, column B (name)", "'place' is used twice"};
  }
  SUBCASE("a list that is nowhere") {
    book = Book({header, {"select_one colours", "c", "Colour"}});
    expected = {"row 2, column A (type)", "neither on the choices sheet nor in choices.json"};
  }
  SUBCASE("a choice listed twice") {
    book = Book(
        {header, {"select_one colours", "c", "Colour"}},
        {{"list_name", "name", "label"}, {"colours", "red", "Red"}, {"colours", "red", "Crimson"}});
    expected = {"sheet 'choices', row 3, column B (name)", "'red' twice (also row 2)"};
  }
  SUBCASE("a required that is a condition") {
    book = Book({header, {"text", "a", "A", "${b} = 'x'"}});
    expected = {"row 2, column D (required)", "yes or no"};
  }
  SUBCASE("an unclosed group") {
    book = Book({header, {"begin group", "g", "G"}, place});
    expected = {"row 2, column A (type)", "no end group"};
  }
  SUBCASE("a rule the form set refuses once converted, placed on its row") {
    book = Book({{"type", "name", "label", "bb_safeguarding"},
                 {"text", "place", "Place"},
                 {"text", "a", "A", "yes"}});
    expected = {"sheet 'survey', row 3: form 'broken' field 'a'",
                "\"safeguarding\" marks a yes/no (boolean) field only"};
  }
  SUBCASE("one column given twice") {
    book = Book({{"type", "name", "label", "label::English (en)"}, {"text", "a", "A", "A"}});
    expected = {"columns C ('label') and D ('label::English (en)') are the same column"};
  }
  SUBCASE("a language's name and code disagreeing") {
    book = Book({{"type", "name", "label::Welsh (en)"}, {"text", "a", "A"}});
    expected = {"column C ('label::Welsh (en)')", "names Welsh but gives the code of English"};
  }
  SUBCASE("a second settings row") {
    book = Book({header, place}, {}, {{"form_id"}, {"a"}, {"b"}});
    expected = {"sheet 'settings', row 3", "the settings are one row"};
  }
  SUBCASE("two lower bounds") {
    book = Book({header, {"integer", "n", "N", "", "", ". >= 1 and . >= 5"}});
    expected = {"row 2, column F (constraint)", "two lower bounds"};
  }
  SUBCASE("something said on a row that makes no question") {
    book = Book({{"type", "name", "label", "hint"},
                 {"begin group", "g", "G", "Said once for the group"},
                 {"text", "place", "Place"},
                 {"end group"}});
    expected = {"row 2, column D (hint)", "begin_group row makes no question"};
  }
  SUBCASE("an entities sheet") {
    book = Book({header, place});
    book.sheets.push_back({"entities", {{"list_name", "label"}, {"people", "${place}"}}});
    expected = {"sheet 'entities'", "no entities"};
  }
  SUBCASE("bb_choices naming one list") {
    book =
        Book({{"type", "name", "label", "bb_choices"}, {"select_one age_band", "a", "A", "org"}});
    expected = {"row 2, column D (bb_choices)", "name one list in the type alone"};
  }
  SUBCASE("a code given twice in bb_choice_orgs") {
    book = Book({{"type", "name", "label", "bb_choice_orgs"},
                 {"select_one patrol_type", "a", "A", "op_fortress: police; op_fortress: csp"}});
    expected = {"row 2, column D (bb_choice_orgs)", "'op_fortress' is given twice"};
  }
  SUBCASE("bb_in_list with values that are not the list's") {
    book = Book({{"type", "name", "label", "relevant", "bb_in_list"},
                 {"select_one age_band", "age", "Age"},
                 {"text", "why", "Why", "${age} = 'under_18'", "age_band"}});
    expected = {"row 3, column E (bb_in_list)", "exactly the codes of list 'age_band' (7 of them)"};
  }
  XlsFormImport imported;
  Status s = ImportXlsForm(book, schema, "broken", &imported);
  REQUIRE(s.IsInvalidArgument());
  for (const auto& part : expected) {
    CAPTURE(part);
    CHECK_MESSAGE(s.message().find(part) != std::string::npos, s.message());
  }
  CHECK(imported.form.is_null());  // nothing half made
}

namespace {

// A relevant as the values that make it hold, so "one of the list" and "one of these" compare.
std::string Meaning(const std::optional<Relevance>& r) {
  if (!r) return "";
  using Op = Relevance::Op;
  json values;
  switch (r->op) {
    case Op::kInList:
      values = r->operand;  // the list's name: it must still follow the list
      break;
    case Op::kIn: {
      std::set<std::string> sorted;
      for (const auto& v : r->operand)
        sorted.insert(v.is_string() ? v.get<std::string>() : v.dump());
      values = json(std::vector<std::string>(sorted.begin(), sorted.end()));
      break;
    }
    default:
      values = r->operand;
  }
  return r->field + " " + std::to_string(static_cast<int>(r->op)) + " " + values.dump();
}

void CheckSame(const FormDef& a, const FormDef& b) {
  CHECK(a.label == b.label);
  CHECK(a.help == b.help);
  CHECK(a.labels == b.labels);
  CHECK(a.helps == b.helps);
  CHECK(a.languages == b.languages);
  CHECK(a.writers.roles.Describe() == b.writers.roles.Describe());
  CHECK(a.writers.orgs == b.writers.orgs);
  CHECK(a.writers.owners_of == b.writers.owners_of);
  CHECK(a.natural_key == b.natural_key);
  CHECK(a.immutable == b.immutable);
  REQUIRE(a.fields.size() == b.fields.size());
  for (std::size_t i = 0; i < a.fields.size(); ++i) {
    const FieldDef& x = a.fields[i];
    const FieldDef& y = b.fields[i];
    CAPTURE(x.name);
    CHECK(x.name == y.name);
    CHECK(x.type == y.type);
    CHECK(x.label == y.label);
    CHECK(x.help == y.help);
    CHECK(x.labels == y.labels);
    CHECK(x.helps == y.helps);
    CHECK(x.required == y.required);
    CHECK(x.min == y.min);
    CHECK(x.max == y.max);
    CHECK(x.max_length == y.max_length);
    CHECK(x.choice_lists == y.choice_lists);
    CHECK(x.choice_codes == y.choice_codes);
    CHECK(x.sensitive == y.sensitive);
    CHECK(x.places == y.places);
    CHECK(x.safeguarding == y.safeguarding);
    CHECK(x.format == y.format);
    CHECK(x.not_before == y.not_before);
    CHECK(x.choice_orgs == y.choice_orgs);
    CHECK(x.keep_location == y.keep_location);
    CHECK(Meaning(x.relevant) == Meaning(y.relevant));
  }
}

}  // namespace

TEST_CASE("every form goes to a spreadsheet and back unchanged, in every language it has") {
  test::TempDir dir;
  std::string schema_dir = test::SchemaDir();
  SUBCASE("the shipped forms") {}
  SUBCASE("the forms in the test language too") {
    test::WritePseudoSchema(dir / "pseudo");
    schema_dir = dir / "pseudo";
  }
  SUBCASE("a photo question that keeps where photos were taken (bb_keep_location)") {
    schema_dir = dir / "keep";
    std::filesystem::copy(test::SchemaDir(), schema_dir, std::filesystem::copy_options::recursive);
    const std::string file = schema_dir + "/forms/patrol.v2.json";
    json patrol = json::parse(std::ifstream(file));
    for (auto& f : patrol["fields"]) {
      if (f["type"] == "image") f["keep_location"] = true;
    }
    std::ofstream(file) << patrol.dump();
    REQUIRE(Load(schema_dir).Latest("patrol")->Find("photo")->keep_location);
  }
  const FormSet schema = Load(schema_dir);
  for (const auto& name : schema.FormNames()) {
    CAPTURE(name);
    const FormDef* form = schema.Latest(name);
    const std::string file = dir / (name + ".xlsx");
    REQUIRE(WriteWorkbook(ExportXlsForm(*form, schema), file).ok());
    Workbook book;
    REQUIRE(ReadWorkbook(file, &book).ok());
    XlsFormImport imported;
    Status s = ImportXlsForm(book, schema, "unused", &imported);
    REQUIRE_MESSAGE(s.ok(), s.ToString());
    CHECK(imported.form["version"] == form->version + 1);  // the next version
    CHECK(imported.lists.empty());                         // the shared lists exactly as they were
    json doc = schema.ToJson();
    doc["forms"].push_back(json::parse(imported.form.dump()));
    FormSet with;
    REQUIRE(FormSet::FromJson(doc, &with).ok());
    CheckSame(*form, *with.Latest(name));
  }
}

TEST_CASE("a file that is not a workbook, or would unpack past the limits, is refused") {
  test::TempDir dir;
  Workbook book;
  const std::string junk = dir / "junk.xlsx";
  std::ofstream(junk) << "type,name,label\ntext,place,Place\n";  // a CSV named .xlsx
  Status s = ReadWorkbook(junk, &book);
  CHECK(s.IsInvalidArgument());
  CHECK(s.message().find("is not an .xlsx workbook") != std::string::npos);
  CHECK(ReadWorkbook(dir / "missing.xlsx", &book).code() == Status::Code::kIoError);

  // A zip whose shared strings unpack to more than the limit (a few kilobytes packed).
  auto write_zip = [&](const std::string& path, const std::map<std::string, std::string>& parts) {
    int error = 0;
    zip_t* z = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &error);
    REQUIRE(z != nullptr);
    for (const auto& [name, text] : parts) {
      zip_source_t* source = zip_source_buffer(z, text.data(), text.size(), 0);
      REQUIRE(zip_file_add(z, name.c_str(), source, ZIP_FL_OVERWRITE) >= 0);
    }
    REQUIRE(zip_close(z) == 0);
  };
  const std::string workbook =
      R"(<workbook xmlns:r="r"><sheets><sheet name="survey" r:id="rId1"/></sheets></workbook>)";
  const std::string rels =
      R"(<Relationships><Relationship Id="rId1" Target="worksheets/sheet1.xml"/></Relationships>)";
  const std::string bomb_path = dir / "bomb.xlsx";
  std::string bomb = "<sst><si><t>" + std::string(17u << 20, 'a') + "</t></si></sst>";
  write_zip(bomb_path, {{"xl/workbook.xml", workbook},
                        {"xl/_rels/workbook.xml.rels", rels},
                        {"xl/sharedStrings.xml", bomb},
                        {"xl/worksheets/sheet1.xml", "<worksheet/>"}});
  s = ReadWorkbook(bomb_path, &book);
  CHECK(s.IsInvalidArgument());
  CHECK(s.message().find("xl/sharedStrings.xml unpacks to more than 16 MiB") != std::string::npos);

  // Broken XML, and a cell pointing at a shared text that is not there.
  const std::string broken = dir / "broken.xlsx";
  write_zip(broken, {{"xl/workbook.xml", workbook},
                     {"xl/_rels/workbook.xml.rels", rels},
                     {"xl/worksheets/sheet1.xml", "<worksheet><sheetData><row r=\"1\">"}});
  s = ReadWorkbook(broken, &book);
  CHECK(s.message().find("xl/worksheets/sheet1.xml is not well-formed XML") != std::string::npos);
  write_zip(broken, {{"xl/workbook.xml", workbook},
                     {"xl/_rels/workbook.xml.rels", rels},
                     {"xl/worksheets/sheet1.xml",
                      R"(<worksheet><sheetData><row r="1"><c r="B1" t="s"><v>7</v></c></row>)"
                      R"(</sheetData></worksheet>)"}});
  s = ReadWorkbook(broken, &book);
  CHECK(s.message().find("cell B1 points to a shared text that is not there") != std::string::npos);
  // Rows numbered past the limit.
  write_zip(broken, {{"xl/workbook.xml", workbook},
                     {"xl/_rels/workbook.xml.rels", rels},
                     {"xl/worksheets/sheet1.xml",
                      R"(<worksheet><sheetData><row r="999999"><c r="A999999" t="inlineStr">)"
                      R"(<is><t>x</t></is></c></row></sheetData></worksheet>)"}});
  s = ReadWorkbook(broken, &book);
  CHECK(s.message().find("has more than 10000 rows") != std::string::npos);
  // A formula whose value was never saved, an error cell, a DTD, too many sheets.
  auto sheet_with = [&](const std::string& cells) {
    write_zip(broken, {{"xl/workbook.xml", workbook},
                       {"xl/_rels/workbook.xml.rels", rels},
                       {"xl/worksheets/sheet1.xml", "<worksheet><sheetData><row r=\"1\">" + cells +
                                                        "</row></sheetData></worksheet>"}});
    return ReadWorkbook(broken, &book);
  };
  s = sheet_with(R"(<c r="E1" t="str"><f>CONCAT(A1,B1)</f></c>)");
  CHECK(s.message().find("cell E1 holds a formula whose value was not saved") != std::string::npos);
  s = sheet_with(R"(<c r="B1" t="e"><v>#REF!</v></c>)");
  CHECK(s.message().find("cell B1 holds an error (#REF!)") != std::string::npos);
  REQUIRE(sheet_with(R"(<c r="A1" t="str"><f>UPPER("text")</f><v>TEXT</v></c>)").ok());
  CHECK(book.Find("survey")->Cell(0, 0) == "TEXT");  // a formula with its saved value is read
  write_zip(broken, {{"xl/workbook.xml", workbook},
                     {"xl/_rels/workbook.xml.rels", rels},
                     {"xl/worksheets/sheet1.xml",
                      R"(<!DOCTYPE w [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>)"
                      R"(<worksheet><sheetData/></worksheet>)"}});
  s = ReadWorkbook(broken, &book);
  CHECK(s.message().find("declares a DTD") != std::string::npos);
  std::string many = R"(<workbook xmlns:r="r"><sheets>)";
  for (int i = 0; i < 51; ++i) {
    many += R"(<sheet name="s)" + std::to_string(i) + R"(" r:id="rId1"/>)";
  }
  write_zip(broken, {{"xl/workbook.xml", many + "</sheets></workbook>"},
                     {"xl/_rels/workbook.xml.rels", rels},
                     {"xl/worksheets/sheet1.xml", "<worksheet/>"}});
  s = ReadWorkbook(broken, &book);
  CHECK(s.message().find("more than 50 sheets") != std::string::npos);

  // Inline strings and prefixed element names, as some writers make them, are read.
  write_zip(broken, {{"xl/workbook.xml", workbook},
                     {"xl/_rels/workbook.xml.rels", rels},
                     {"xl/worksheets/sheet1.xml",
                      R"(<x:worksheet xmlns:x="x"><x:sheetData><x:row r="2"><x:c r="C2" )"
                      R"(t="inlineStr"><x:is><x:t>Place</x:t></x:is></x:c></x:row>)"
                      R"(</x:sheetData></x:worksheet>)"}});
  REQUIRE(ReadWorkbook(broken, &book).ok());
  CHECK(book.Find("survey")->Cell(1, 2) == "Place");
}

TEST_CASE("a new version that leaves out its predecessor's rules is refused unless meant") {
  const FormSet schema = Load(test::SchemaDir());
  // As a tool that keeps only XLSForm's own columns would save it: no bb_ columns.
  Workbook book = ExportXlsForm(*schema.Latest("outreach_contact"), schema);
  for (auto& sheet : book.sheets) {
    std::vector<std::size_t> keep;
    for (std::size_t c = 0; c < sheet.rows[0].size(); ++c) {
      if (sheet.rows[0][c].rfind("bb_", 0) != 0) keep.push_back(c);
    }
    for (auto& row : sheet.rows) {
      std::vector<std::string> kept;
      for (std::size_t c : keep) kept.push_back(c < row.size() ? row[c] : "");
      row = kept;
    }
  }
  XlsFormImport imported;
  Status s = ImportXlsForm(book, schema, "x", &imported);
  REQUIRE(s.IsInvalidArgument());
  for (const char* part : {"version 2 of form 'outreach_contact' has rules this sheet leaves out",
                           "which orgs log it (bb_writers_orgs)", "'notes' sensitive",
                           "'safeguarding_concern' raising a safeguarding concern",
                           "'subject_key' format keyed_hash", "--allow-dropped-rules"}) {
    CAPTURE(part);
    CHECK_MESSAGE(s.message().find(part) != std::string::npos, s.message());
  }
  ImportOptions meant;
  meant.allow_dropped_rules = true;
  REQUIRE(ImportXlsForm(book, schema, "x", &imported, meant).ok());
  CHECK(HasNote(imported, "rules of the previous version dropped, as asked"));
  CHECK(!imported.form.contains("writers"));
}

TEST_CASE("a yes/no question is read in the ways XLSForm writes conditions on it") {
  const FormSet schema = Load(test::SchemaDir());
  for (const char* condition : {"${helped} = 'yes'", "selected(${helped}, 'yes')"}) {
    CAPTURE(condition);
    Workbook book = Book({{"type", "name", "label", "relevant"},
                          {"select_one yes_no", "helped", "Helped?"},
                          {"text", "how", "How", condition}});
    XlsFormImport imported;
    Status s = ImportXlsForm(book, schema, "yes_no_form", &imported);
    REQUIRE_MESSAGE(s.ok(), s.ToString());
    CHECK(imported.form["fields"][0]["type"] == "boolean");
    CHECK(json::parse(imported.form["fields"][1]["relevant"].dump()) ==
          json({{"field", "helped"}, {"equals", true}}));
  }
}
