#include <doctest/doctest.h>

#include "beatbook/geopoint.h"
#include "beatbook/validation.h"
#include "support/schema_dir.h"

using namespace beatbook;

namespace {

// A form with one field per rule, independent of the real schema.
FormSet RuleForms() {
  json doc = R"({
    "choices": {"lists": {"colour": [{"code": "red"}, {"code": "blue"}],
                          "shade": [{"code": "dark"}]}},
    "forms": [{"form": "rules", "version": 1, "fields": [
      {"name": "name", "type": "text", "required": true, "max_length": 5},
      {"name": "count", "type": "integer", "min": 0, "max": 10},
      {"name": "ratio", "type": "number", "min": 0.5},
      {"name": "flag", "type": "boolean"},
      {"name": "start", "type": "datetime"},
      {"name": "end", "type": "datetime", "not_before": "start"},
      {"name": "colour", "type": "select_one", "choices": ["colour", "shade"]},
      {"name": "colours", "type": "select_multiple", "choices": ["colour"]},
      {"name": "why_red", "type": "text", "required": true,
       "relevant": {"field": "colour", "equals": "red"}},
      {"name": "blue_note", "type": "text", "relevant": {"field": "colours", "includes": "blue"}},
      {"name": "after", "type": "datetime", "not_before": "occurred_at"},
      {"name": "where", "type": "geopoint"}
    ]}]})"_json;
  FormSet forms;
  Status s = FormSet::FromJson(doc, &forms);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  return forms;
}

std::vector<ValidationError> Check(const json& fields) {
  static FormSet forms = RuleForms();
  return ValidateFields(*forms.Latest("rules"), fields, /*occurred_ms=*/1'000'000'000'000);
}

bool Has(const std::vector<ValidationError>& errors, const std::string& field,
         const std::string& rule) {
  for (const auto& e : errors) {
    if (e.field == field && e.rule == rule) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("a record that keeps every rule has no errors") {
  auto errors = Check({{"name", "abc"},
                       {"count", 10},
                       {"ratio", 0.5},
                       {"flag", false},
                       {"start", "2023-01-01T10:00:00Z"},
                       {"end", "2023-01-01T11:00:00+01:00"},
                       {"colour", "dark"},
                       {"colours", {"red", "blue"}},
                       {"blue_note", "ok"},
                       {"after", "2023-01-01T00:00:00Z"}});
  CHECK_MESSAGE(errors.empty(), JoinErrors(errors));
}

TEST_CASE("each rule is enforced and named") {
  CHECK(Has(Check(json::object()), "name", "required"));
  CHECK(Has(Check({{"name", ""}}), "name", "required"));
  CHECK(Has(Check({{"name", "toolong"}}), "name", "max_length"));
  CHECK(Has(Check({{"name", 5}}), "name", "type"));
  CHECK(Has(Check({{"name", "a"}, {"count", -1}}), "count", "min"));
  CHECK(Has(Check({{"name", "a"}, {"count", 11}}), "count", "max"));
  CHECK(Has(Check({{"name", "a"}, {"count", 1.5}}), "count", "type"));
  CHECK(Has(Check({{"name", "a"}, {"count", "3"}}), "count", "type"));
  CHECK(Has(Check({{"name", "a"}, {"ratio", 0.4}}), "ratio", "min"));
  CHECK(Has(Check({{"name", "a"}, {"ratio", "x"}}), "ratio", "type"));
  CHECK(Has(Check({{"name", "a"}, {"flag", "yes"}}), "flag", "type"));
  CHECK(Has(Check({{"name", "a"}, {"start", "2023-01-01"}}), "start", "type"));
  CHECK(Has(
      Check({{"name", "a"}, {"start", "2023-01-01T10:00:00Z"}, {"end", "2023-01-01T09:59:00Z"}}),
      "end", "not_before"));
  CHECK(Has(Check({{"name", "a"}, {"after", "1990-01-01T00:00:00Z"}}), "after", "not_before"));
  CHECK(Has(Check({{"name", "a"}, {"colour", "green"}}), "colour", "choices"));
  CHECK(Has(Check({{"name", "a"}, {"colour", {"red"}}}), "colour", "type"));
  CHECK(Has(Check({{"name", "a"}, {"colours", {"red", "pink"}}}), "colours", "choices"));
  CHECK(Has(Check({{"name", "a"}, {"colours", {"red", "red"}}}), "colours", "choices"));
  CHECK(Has(Check({{"name", "a"}, {"colours", "red"}}), "colours", "type"));
  CHECK(Has(Check({{"name", "a"}, {"shape", "round"}}), "shape", "unknown_field"));
  CHECK(Has(Check({{"name", "a\x92"}}), "name", "type"));  // not UTF-8
  CHECK(Check({{"name", "caf\xc3\xa9"}}).empty());         // UTF-8 is fine
}

TEST_CASE("relevance: required only when relevant, and empty when not") {
  CHECK(Has(Check({{"name", "a"}, {"colour", "red"}}), "why_red", "required"));
  CHECK(Check({{"name", "a"}, {"colour", "red"}, {"why_red", "because"}}).empty());
  CHECK(Check({{"name", "a"}, {"colour", "blue"}}).empty());
  CHECK(
      Has(Check({{"name", "a"}, {"colour", "blue"}, {"why_red", "x"}}), "why_red", "not_relevant"));
  CHECK(Has(Check({{"name", "a"}, {"colours", {"red"}}, {"blue_note", "x"}}), "blue_note",
            "not_relevant"));
}

TEST_CASE("every error is reported at once, each naming field, value and rule") {
  auto errors = Check({{"count", -3}, {"colour", "green"}, {"shape", 1}});
  CHECK(errors.size() == 4);
  CHECK(Has(errors, "name", "required"));
  std::string all = JoinErrors(errors);
  CHECK(all.find("field 'count': value -3 is below the minimum 0") != std::string::npos);
  CHECK(all.find("field 'colour': value \"green\" is not one of the choices") != std::string::npos);
}

TEST_CASE("command-line text is parsed by field type") {
  FormSet forms = RuleForms();
  const FormDef& f = *forms.Latest("rules");
  json v;
  REQUIRE(ParseFieldText(*f.Find("count"), "12", &v).ok());
  CHECK(v == 12);
  CHECK(ParseFieldText(*f.Find("count"), "12x", &v).IsInvalidArgument());
  REQUIRE(ParseFieldText(*f.Find("ratio"), "2.5", &v).ok());
  CHECK(v == 2.5);
  REQUIRE(ParseFieldText(*f.Find("flag"), "yes", &v).ok());
  CHECK(v == true);
  CHECK(ParseFieldText(*f.Find("flag"), "maybe", &v).IsInvalidArgument());
  REQUIRE(ParseFieldText(*f.Find("colours"), "red,blue", &v).ok());
  CHECK(v == json({"red", "blue"}));
  REQUIRE(ParseFieldText(*f.Find("name"), "", &v).ok());
  CHECK(v.is_null());
}

TEST_CASE("the real forms: the data dictionary's rules hold") {
  FormSet forms;
  REQUIRE(FormSet::LoadDir(test::SchemaDir(), &forms).ok());
  const FormDef& oc = *forms.Latest("outreach_contact");
  CHECK(ValidateFields(oc,
                       {{"place", "Jewry St"},
                        {"age_band", "18_24"},
                        {"safeguarding_concern", true},
                        {"referrals", {"stop", "gp"}}},
                       0)
            .empty());
  CHECK(Has(ValidateFields(oc, {{"place", "x"}, {"age_band", "18_24"}}, 0), "safeguarding_concern",
            "required"));
  const FormDef& ss = *forms.Latest("satisfaction_survey");
  CHECK(Has(ValidateFields(ss, {{"respondent_type", "resident"}, {"satisfaction", 6}}, 0),
            "satisfaction", "max"));
  const FormDef& ir = *forms.Latest("indicator_return");
  json ret = {{"indicator", "da_op_foundation"}, {"fy", 2023}, {"quarter", "Q1"}};
  CHECK(Has(ValidateFields(ir, ret, 0), "value", "required"));
  ret["value"] = 4;
  CHECK(ValidateFields(ir, ret, 0).empty());
  ret["status"] = "complete";
  CHECK(Has(ValidateFields(ir, ret, 0), "status", "not_relevant"));
  json ms = {{"indicator", "pc_service_gaps"}, {"fy", 2023}, {"quarter", "Q2"}};
  CHECK(Has(ValidateFields(ir, ms, 0), "status", "required"));
  ms["status"] = "in_progress";
  CHECK(ValidateFields(ir, ms, 0).empty());
}

TEST_CASE("a place is latitude and longitude, with the accuracy the device measured") {
  for (std::string good :
       {"51.06321 -1.31334 12", "51.06321 -1.31334", "-90 180 0", "  51.1   -1.3  "}) {
    CAPTURE(good);
    CHECK(Check({{"name", "abc"}, {"where", good}}).empty());
  }
  struct Bad {
    json value;
    const char* says;
  };
  for (const Bad& bad :
       {Bad{"51.06321", "give latitude and longitude"},
        Bad{"51.1 -1.3 12 4", "give latitude and longitude"}, Bad{"north 1", "must be numbers"},
        Bad{"91 0", "latitude outside -90 to 90"}, Bad{"0 -180.5", "longitude outside -180 to 180"},
        Bad{"51 -1 -3", "accuracy outside 0 to 100000 metres"}, Bad{"51 -1 nan", "must be numbers"},
        Bad{"1e999 0", "must be numbers"}, Bad{"0x1p5 1", "must be numbers"},
        Bad{json::array({51, -1}), "is not a place"}}) {
    CAPTURE(bad.value.dump());
    auto errors = Check({{"name", "abc"}, {"where", bad.value}});
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].field == "where");
    CHECK(errors[0].rule == "type");
    CHECK_MESSAGE(errors[0].message.find(bad.says) != std::string::npos, errors[0].message);
  }
  Geopoint p;
  REQUIRE(ParseGeopoint("51.063214999 -1.3133 12.34", &p).ok());
  CHECK(p.accuracy_m == 12.34);
  CHECK(FormatGeopoint(p) == "51.063215 -1.3133 12.3");
  REQUIRE(ParseGeopoint("0 0", &p).ok());
  CHECK(!p.accuracy_m);
  CHECK(FormatGeopoint(p) == "0 0");
}
