// Forms in another language from the command line, against a real sync_server whose forms carry
// one: the device gets the translations at enrolment, the worker chooses a language once, and
// what they log and sync is codes, counted the same whatever language it was entered in.
#include "fault_site.h"
#include "support/pseudo_language.h"

using namespace beatbook;
using namespace beatbook::test;
using nlohmann::json;

namespace {

json FormNamed(const json& forms, const std::string& name) {
  for (const auto& form : forms["forms"]) {
    if (form["form"] == name) return form;
  }
  FAIL("no form " << name);
  return json();
}

json FieldNamed(const json& form, const std::string& name) {
  for (const auto& field : form["fields"]) {
    if (field["name"] == name) return field;
  }
  FAIL("no field " << name);
  return json();
}

}  // namespace

TEST_CASE("a worker reads forms in their language and logs codes the server counts") {
  TempDir schema;
  WritePseudoSchema(schema / "schema", {"patrol"});
  Site site({}, {"--schema", schema / "schema"});
  std::string sam = site.Enrol("sam", "street_pastors");

  // Before choosing: English, with the other language listed.
  json languages = OkJson({"language", "--data", sam, "--json"});
  CHECK(languages["language"] == "en");
  CHECK(languages["languages"].size() == 2);
  json english = OkJson({"forms", "--data", sam, "--json"});
  CHECK(FormNamed(english, "outreach_contact")["label"] == "Outreach contact");

  // A language no form is in: refused, naming those there are, and nothing changes.
  CommandResult r = FieldClient({"language", "--data", sam, "cy"});
  CHECK(r.exit_code != 0);
  CHECK(r.err.find("'cy'") != std::string::npos);
  CHECK(r.err.find("en-XA (Pseudo (test))") != std::string::npos);
  r = FieldClient({"forms", "--data", sam, "--language", "xx"});
  CHECK(r.exit_code != 0);
  CHECK(r.err.find("--language") != std::string::npos);
  CHECK(OkJson({"language", "--data", sam, "--json"})["language"] == "en");

  // One look in the language without choosing it, then the choice, which stays.
  json looked = OkJson({"forms", "--data", sam, "--json", "--language", "en-XA"});
  CHECK(FormNamed(looked, "outreach_contact")["label"] == Pseudo("Outreach contact"));
  CHECK(OkJson({"language", "--data", sam, "--json"})["language"] == "en");
  std::string listed = Ok({"language", "--data", sam, "en-XA"});
  CHECK(listed.find("* en-XA  Pseudo (test)") != std::string::npos);
  json forms = OkJson({"forms", "--data", sam, "--json"});
  json contact = FormNamed(forms, "outreach_contact");
  CHECK(contact["language"] == "en-XA");
  json age = FieldNamed(contact, "age_band");
  CHECK(age["label"] == Pseudo("Age band"));
  CHECK(age["choices"][0]["code"] == "under_18");
  CHECK(age["choices"][0]["label"] == Pseudo("Under 18"));
  CHECK(FormNamed(forms, "patrol")["language"] == "en");  // not written in it: English
  std::string text = Ok({"forms", "--data", sam});
  CHECK(text.find(Pseudo("Outreach contact") + "  [Pseudo (test); also English (en)]") !=
        std::string::npos);
  CHECK(text.find("Patrol or operation  [English]") != std::string::npos);

  // Logged and synced as codes: the server's central store holds exactly what English would.
  Ok({"log", "--data", sam, "outreach_contact", "--set", "place=Jewry Street", "--set",
      "age_band=18_24", "--set", "safeguarding_concern=no", "--occurred-at",
      "2023-06-01T22:00:00+01:00"});
  Ok({"sync", "--data", sam});
  std::unique_ptr<server::SqlCentralStore> store;
  REQUIRE(server::SqlCentralStore::OpenSqlite(site.dir / "central", &store).ok());
  std::vector<RecordState> states;
  REQUIRE(store->AllRecords(&states).ok());
  REQUIRE(states.size() == 1);
  CHECK(states[0].FieldValues() ==
        json({{"place", "Jewry Street"}, {"age_band", "18_24"}, {"safeguarding_concern", false}}));
}

TEST_CASE("the partnership's named places are listed on the device, to log a place by") {
  TempDir dir;
  const std::string data = dir / "tablet";
  Ok({"init", "--data", data, "--user", "amy", "--org", "police", "--role", "field_worker"});
  json places = OkJson({"places", "--data", data, "--json"})["places"];
  REQUIRE(places.size() > 10);
  bool jewry = false;
  for (const auto& p : places)
    jewry |= p == json({{"code", "jewry_street"}, {"label", "Jewry Street"}, {"kind", "street"}});
  CHECK(jewry);
  CHECK(Ok({"places", "--data", data}).find("Winchester Bus Station  (venue)") !=
        std::string::npos);
  // A place picked from the list, and one that is not on it: both kept as given.
  Ok({"log", "--data", data, "street_brief", "--set", "place=Jewry Street", "--set",
      "attendees=4"});
  Ok({"log", "--data", data, "street_brief", "--set", "place=Behind the library", "--set",
      "attendees=2"});
  json listed = OkJson({"list", "--data", data, "--json"})["records"];
  std::set<std::string> given;
  for (const auto& r : listed) given.insert(r["fields"]["place"].get<std::string>());
  CHECK(given == std::set<std::string>{"Jewry Street", "Behind the library"});
}
