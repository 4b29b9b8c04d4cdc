#include <doctest/doctest.h>

#include <fstream>

#include "beatbook/form.h"
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
