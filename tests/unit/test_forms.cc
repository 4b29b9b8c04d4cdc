#include <doctest/doctest.h>

#include <fstream>

#include "beatbook/form.h"
#include "beatbook/validation.h"
#include "support/pseudo_language.h"
#include "support/schema_dir.h"
#include "support/temp_dir.h"

using namespace beatbook;

TEST_CASE("the schema directory holds every form of the data dictionary") {
  FormSet forms;
  Status s = FormSet::LoadDir(test::SchemaDir(), &forms);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  for (const char* name : {"outreach_contact", "street_brief", "patrol", "satisfaction_survey",
                           "enforcement_action", "indicator_return"}) {
    CAPTURE(name);
    const FormDef* f = forms.Latest(name);
    REQUIRE(f != nullptr);
    CHECK(f->version >= 1);
    CHECK(!f->label.empty());
  }
  const FormDef* oc = forms.Latest("outreach_contact");
  CHECK(oc->Find("notes")->sensitive);
  CHECK(oc->Find("age_band")->choice_codes.count("65_plus") == 1);
  CHECK(oc->Find("referrals")->type == FieldType::kSelectMultiple);
  const FormDef* ir = forms.Latest("indicator_return");
  CHECK(ir->Find("indicator")->choice_codes.count("da_op_foundation") == 1);
  CHECK(ir->Find("indicator")->choice_codes.count("ql_implementation_plan") == 1);
  // The set survives a round trip through JSON (how a server hands forms to devices).
  FormSet copy;
  REQUIRE(FormSet::FromJson(forms.ToJson(), &copy).ok());
  CHECK(copy.FormNames() == forms.FormNames());
}

TEST_CASE("a broken form definition is refused with the file and field named") {
  test::TempDir dir;
  std::filesystem::create_directories(dir / "forms");
  std::ofstream(dir / "choices.json") << R"({"lists": {"yn": [{"code": "y"}]}})";
  SUBCASE("unknown type") {
    std::ofstream(dir / "forms/a.json")
        << R"({"form": "a", "version": 1, "fields": [{"name": "x", "type": "colour"}]})";
  }
  SUBCASE("unknown choice list") {
    std::ofstream(dir / "forms/a.json") << R"({"form": "a", "version": 1, "fields":
        [{"name": "x", "type": "select_one", "choices": ["nope"]}]})";
  }
  SUBCASE("relevance on a missing field") {
    std::ofstream(dir / "forms/a.json") << R"({"form": "a", "version": 1, "fields":
        [{"name": "x", "type": "text", "relevant": {"field": "ghost", "present": true}}]})";
  }
  SUBCASE("not JSON") { std::ofstream(dir / "forms/a.json") << "{form: a"; }
  std::string names;  // what the message must also name, where the case says
  SUBCASE("writers naming a role that is not one") {
    std::ofstream(dir / "forms/a.json") << R"({"form": "a", "version": 1,
        "writers": {"roles": ["field_worker", "street_pastor"]},
        "fields": [{"name": "x", "type": "text"}]})";
    names = "street_pastor";
  }
  FormSet forms;
  Status s = FormSet::LoadDir(dir.path(), &forms);
  CHECK(s.IsInvalidArgument());
  CHECK(s.message().find("a.json") != std::string::npos);
  CHECK(s.message().find(names) != std::string::npos);
}

// --- languages (docs/forms.md, "Languages") --------------------------------------------------

TEST_CASE("forms are offered in every language all their texts are in, and keep their codes") {
  test::TempDir dir;
  test::WritePseudoSchema(dir / "schema", {"patrol"});
  FormSet forms;
  Status s = FormSet::LoadDir(dir / "schema", &forms);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  REQUIRE(forms.languages().size() == 2);
  CHECK(forms.default_language().code == "en");
  CHECK(forms.FindLanguage("en-XA")->yes == test::Pseudo("Yes"));
  CHECK(forms.FindLanguage("cy") == nullptr);

  const FormDef* oc = forms.Latest("outreach_contact");
  CHECK(oc->languages == std::vector<std::string>{"en", "en-XA"});
  CHECK(oc->HasLanguage("en-XA"));
  FormDef shown = oc->InLanguage("en-XA");
  CHECK(shown.label == test::Pseudo("Outreach contact"));
  CHECK(shown.help == test::Pseudo(oc->help));
  CHECK(shown.Find("place")->label == test::Pseudo("Place"));
  const FieldDef* age = shown.Find("age_band");
  CHECK(age->choices.front().code == "under_18");
  CHECK(age->choices.front().label == test::Pseudo("Under 18"));
  // Only texts change: the names, codes and rules a record is checked by are the form's own.
  CHECK(age->choice_codes == oc->Find("age_band")->choice_codes);
  json answers = {
      {"place", "Jewry Street"}, {"age_band", "over_100"}, {"safeguarding_concern", false}};
  CHECK(ValidateFields(shown, answers, 0).size() == ValidateFields(*oc, answers, 0).size());
  CHECK(ValidateFields(shown, answers, 0).front().field == "age_band");
  // The default language gives the form as written.
  CHECK(oc->InLanguage("en").label == "Outreach contact");

  // A form left in English is offered in English only, whatever the worker chose.
  const FormDef* patrol = forms.Latest("patrol");
  CHECK(patrol->languages == std::vector<std::string>{"en"});
  CHECK(patrol->InLanguage("en-XA").label == patrol->label);

  // The set keeps its languages through JSON: how the server hands forms to devices.
  FormSet copy;
  REQUIRE(FormSet::FromJson(forms.ToJson(), &copy).ok());
  CHECK(copy.languages().size() == 2);
  CHECK(copy.Latest("outreach_contact")->InLanguage("en-XA").Find("age_band")->choices[0].label ==
        test::Pseudo("Under 18"));

  // The shipped schema is in English, declared as such.
  FormSet shipped;
  REQUIRE(FormSet::LoadDir(test::SchemaDir(), &shipped).ok());
  REQUIRE(shipped.languages().size() == 1);
  CHECK(shipped.default_language().name == "English");
  CHECK(shipped.Latest("outreach_contact")->languages == std::vector<std::string>{"en"});
}

TEST_CASE("a translation that is incomplete, undeclared or misnamed is refused, naming it") {
  test::TempDir dir;
  test::WritePseudoSchema(dir / "schema");
  const std::filesystem::path form_file = dir / "schema/forms/satisfaction_survey.v2.json";
  const std::filesystem::path choices_file = dir / "schema/choices.json";
  auto edit = [](const std::filesystem::path& path, auto change) {
    json j = json::parse(std::ifstream(path));
    change(j);
    std::ofstream(path, std::ios::trunc) << j.dump();
  };
  auto field = [](json& form, const std::string& name) -> json& {
    for (auto& f : form["fields"]) {
      if (f["name"] == name) return f;
    }
    FAIL("no field " << name);
    return form;
  };
  std::vector<std::string> names;  // what the message must name
  SUBCASE("a field's help left untranslated") {
    edit(form_file, [&](json& f) { field(f, "feel_safe_night").erase("help::en-XA"); });
    names = {"satisfaction_survey.v2.json", "partly in Pseudo (test) (en-XA)", "feel_safe_night",
             "help::en-XA"};
  }
  SUBCASE("a choice the form offers left untranslated") {
    edit(choices_file, [](json& c) { c["lists"]["respondent_type"][1].erase("label::en-XA"); });
    names = {"satisfaction_survey", "respondent_type", "business", "label::en-XA"};
  }
  SUBCASE("a language choices.json does not declare") {
    edit(form_file, [&](json& f) { field(f, "place")["label::cy"] = "Lle"; });
    names = {"field 'place'", "label::cy", "'cy' is not one of the languages", "en, en-XA"};
  }
  SUBCASE("XLSForm's hint where Beatbook says help") {
    edit(form_file, [&](json& f) { field(f, "place")["hint::en-XA"] = "x"; });
    names = {"hint::en-XA", "only \"label\" and \"help\""};
  }
  SUBCASE("the default language given again") {
    edit(form_file, [](json& f) { f["label::en"] = "Survey"; });
    names = {"label::en", "already in English (en)"};
  }
  SUBCASE("an empty translation") {
    edit(form_file, [](json& f) { f["label::en-XA"] = ""; });
    names = {"label::en-XA", "non-empty"};
  }
  SUBCASE("a language declared twice") {
    edit(choices_file, [](json& c) { c["languages"].push_back(c["languages"][1]); });
    names = {"choices.json", "'en-XA' is declared twice"};
  }
  SUBCASE("a language code that is not a tag") {
    edit(choices_file, [](json& c) { c["languages"][1]["code"] = "Welsh"; });
    names = {"choices.json", "'Welsh' is not a language tag"};
  }
  SUBCASE("a language without the words for yes and no") {
    edit(choices_file, [](json& c) { c["languages"][1].erase("no"); });
    names = {"choices.json", "needs a non-empty \"no\""};
  }
  SUBCASE("a choice with help") {
    edit(choices_file, [](json& c) { c["lists"]["age_band"][0]["help::en-XA"] = "x"; });
    names = {"list 'age_band' code 'under_18'", "only \"label\" is"};
  }
  FormSet forms;
  Status s = FormSet::LoadDir(dir / "schema", &forms);
  REQUIRE(s.IsInvalidArgument());
  for (const auto& name : names) {
    CAPTURE(name);
    CHECK_MESSAGE(s.message().find(name) != std::string::npos, s.message());
  }
  CHECK(forms.empty());  // nothing half-loaded
}

// --- places (docs/forms.md, "Places") ---------------------------------------------------------

TEST_CASE("the partnership's named places load with the forms and travel with them") {
  FormSet forms;
  REQUIRE(FormSet::LoadDir(test::SchemaDir(), &forms).ok());
  const Gazetteer& places = forms.places();
  REQUIRE(!places.empty());
  const Place* jewry = places.Match("  jewry STREET ");
  REQUIRE(jewry != nullptr);
  CHECK(jewry->code == "jewry_street");
  CHECK(jewry->kind == "street");
  CHECK(places.Match("Somewhere else") == nullptr);
  CHECK(places.Match("St George\u2019s Street")->code == "st_georges_street");  // a phone's ’
  CHECK(places.Match("") == nullptr);
  // Each form's place question offers them; nothing else does.
  for (const auto& name : forms.FormNames()) {
    for (const auto& f : forms.Latest(name)->fields) {
      CAPTURE(name);
      CAPTURE(f.name);
      CHECK(f.places == (f.name == "place"));
    }
  }
  FormSet copy;
  REQUIRE(FormSet::FromJson(forms.ToJson(), &copy).ok());  // as a device receives them
  CHECK(copy.places().places().size() == places.places().size());
}

TEST_CASE("a places file with a mistake is refused, naming the place") {
  FormSet forms;
  REQUIRE(FormSet::LoadDir(test::SchemaDir(), &forms).ok());
  json doc = forms.ToJson();
  std::string says;
  SUBCASE("a code twice") {
    doc["places"]["places"].push_back(doc["places"]["places"][0]);
    says = "place 'city_centre' is listed twice";
  }
  SUBCASE("one label for two places") {
    doc["places"]["places"][2]["label"] = "high street";
    says = "place 'the_broadway': its label 'high street' is place 'high_street''s too";
  }
  SUBCASE("a kind that is not one") {
    doc["places"]["places"][1]["kind"] = "pub";
    says = "kind 'pub' is not one of street, venue, area, hotspot";
  }
  SUBCASE("a code with capitals and spaces") {
    doc["places"]["places"][1]["code"] = "High Street";
    says = "a code is made of a-z, 0-9 and _";
  }
  SUBCASE("a label in a language not declared") {
    doc["places"]["places"][1]["label::cy"] = "Stryd Fawr";
    says = "'cy' is not one of the languages";
  }
  SUBCASE("places offered on a number") {
    doc["places"] = forms.ToJson()["places"];
    for (auto& form : doc["forms"]) {
      for (auto& field : form["fields"]) {
        if (field["name"] == "attendees") field["places"] = true;
      }
    }
    says = "\"places\" offers the partnership's named places on a text field only";
  }
  FormSet broken;
  Status s = FormSet::FromJson(doc, &broken);
  REQUIRE(s.IsInvalidArgument());
  CHECK_MESSAGE(s.message().find(says) != std::string::npos, s.message());
}
