// `sync_server forms export` and `forms import` as a partnership would use them: a form out to a
// spreadsheet and back as its next version, which a real server then hands to a tablet.
#include <filesystem>
#include <fstream>

#include "fault_site.h"

using namespace beatbook;
using namespace beatbook::test;
using nlohmann::json;

namespace {

std::set<std::string> Files(const std::filesystem::path& dir) {
  std::set<std::string> names;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    names.insert(entry.path().string());
  }
  return names;
}

}  // namespace

TEST_CASE("a form goes out to a spreadsheet and comes back as its next version, to the tablets") {
  TempDir work;
  const std::string schema = work / "schema";
  std::filesystem::copy(SchemaDir(), schema, std::filesystem::copy_options::recursive);
  const std::string sheet = work / "outreach_contact.xlsx";

  CommandResult r =
      SyncServer({"forms", "export", "outreach_contact", "--schema", schema, "--out", sheet});
  INFO("stderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("outreach_contact version 2 written to") != std::string::npos);
  CHECK(std::filesystem::file_size(sheet) > 1000);

  // Refusals change nothing in the directory.
  const std::set<std::string> before = Files(schema);
  r = SyncServer({"forms", "export", "no_such_form", "--schema", schema, "--out", sheet});
  CHECK(r.exit_code != 0);
  CHECK(r.err.find("no form 'no_such_form' (the forms: enforcement_action") != std::string::npos);
  const std::string junk = work / "junk.xlsx";
  std::ofstream(junk) << "not a spreadsheet";
  r = SyncServer({"forms", "import", junk, "--schema", schema});
  CHECK(r.exit_code != 0);
  CHECK(r.err.find("junk.xlsx is not an .xlsx workbook") != std::string::npos);
  r = SyncServer({"forms", "import", sheet, "--schema", schema, "--dry-run"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("outreach_contact version 3 (10 questions): checked; nothing written") !=
        std::string::npos);
  CHECK(Files(schema) == before);

  r = SyncServer({"forms", "import", sheet, "--schema", schema, "--json"});
  REQUIRE(r.exit_code == 0);
  json done = json::parse(r.out);
  CHECK(done["form"] == "outreach_contact");
  CHECK(done["version"] == 3);
  CHECK(done["lists"].empty());  // the shared lists as they were
  const std::string written = done["file"];
  CHECK(written == schema + "/forms/outreach_contact.v3.json");
  std::ifstream in(written);
  std::string first, second;
  std::getline(in, first);
  std::getline(in, second);
  CHECK(first == "{");
  CHECK(second == R"(  "form": "outreach_contact",)");  // laid out as the shipped files are

  // A server on that directory offers version 3; a tablet logs with it and syncs.
  Site site({}, {"--schema", schema});
  std::string sam = site.Enrol("sam", "street_pastors");
  json forms = OkJson({"forms", "--data", sam, "--json"});
  bool offered = false;
  for (const auto& form : forms["forms"]) {
    if (form["form"] == "outreach_contact") offered = form["version"] == 3;
  }
  CHECK(offered);
  Ok({"log", "--data", sam, "outreach_contact", "--set", "place=Jewry Street", "--set",
      "age_band=18_24", "--set", "safeguarding_concern=no"});
  Ok({"sync", "--data", sam});
  CHECK(site.ServerIds().size() == 1);
}
