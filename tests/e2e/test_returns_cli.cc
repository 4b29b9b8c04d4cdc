// Catalogue version 2 from the command line, as a partner lead, a Street Pastor and the
// coordinator would use it against a real sync_server: who may enter what, unusual figures that
// need confirming, what is still owed (on the device, offline, and on the server), the warnings
// before approval, a return entered on an owner's behalf, and "seen before".
#include <set>

#include "fault_site.h"

using namespace beatbook;
using namespace beatbook::test;
using nlohmann::json;

namespace {

std::vector<std::string> Return(const std::string& data, const std::string& indicator,
                                const std::string& quarter, const std::string& value) {
  return {"log",   "--data",  data,    "indicator_return",   "--set", "indicator=" + indicator,
          "--set", "fy=2023", "--set", "quarter=" + quarter, "--set", "value=" + value};
}

json Item(const json& owed, const std::string& indicator, const std::string& org,
          const std::string& quarter) {
  for (const auto& i : owed["items"]) {
    if (i["indicator"] == indicator && i["org"] == org && i["quarter"] == quarter) return i;
  }
  return json();
}

}  // namespace

TEST_CASE("returns from the command line: owners, unusual figures, what is owed, approval") {
  Site site;
  std::string pat = site.Enrol("pat", "police", "", "partner_lead");
  std::string cleo = site.Enrol("cleo", "csp", "", "coordinator");
  std::string sam = site.Enrol("sam", "street_pastors");
  const std::string central = site.dir / "central";

  // A Street Pastor's tablet offers the forms Street Pastors log, and not Op Fortress.
  json offered = OkJson({"forms", "--data", sam, "--json"});
  std::set<std::string> names;
  for (const auto& form : offered["forms"]) {
    names.insert(form["form"].get<std::string>());
    for (const auto& field : form["fields"]) {
      for (const auto& c : field.value("choices", json::array())) CHECK(c["code"] != "op_fortress");
    }
  }
  CHECK(names == std::set<std::string>{"outreach_contact", "patrol", "satisfaction_survey"});

  // A code only the police record, and a figure the police do not own: refused on the device.
  CommandResult r = FieldClient({"log", "--data", sam, "patrol", "--set", "place=Stanmore", "--set",
                                 "patrol_type=op_fortress"});
  CHECK(r.exit_code != 0);
  CHECK(r.err.find("may be recorded by Police only") != std::string::npos);
  r = FieldClient(Return(pat, "pc_channel_referrals", "Q3", "5"));
  CHECK(r.exit_code != 0);
  CHECK(r.err.find("Police is not an owner") != std::string::npos);

  // An absurd figure is stored only when confirmed.
  Ok(Return(pat, "pc_cpi_forms", "Q1", "10"));
  r = FieldClient(Return(pat, "pc_cpi_forms", "Q2", "99999999"));
  CHECK(r.exit_code != 0);
  CHECK(r.err.find("--confirm-unusual") != std::string::npos);
  std::vector<std::string> confirmed = Return(pat, "pc_cpi_forms", "Q2", "99999999");
  confirmed.push_back("--confirm-unusual");
  Ok(confirmed);

  // What the police still owe, from the device alone (it has not synced).
  json mine = OkJson({"owed", "--data", pat, "--fy", "2023", "--json"});
  CHECK(Item(mine, "pc_cpi_forms", "police", "Q1")["state"] == "entered");
  CHECK(Item(mine, "pc_fat_violence_injury", "police", "Q1")["state"] == "owed");
  CHECK(Item(mine, "pc_fat_violence_injury", "police", "Q1")["due"] == "2023-07-20");
  for (const auto& i : mine["items"]) CHECK(i["org"] == "police");
  CHECK(FieldClient({"owed", "--data", sam}).exit_code != 0);  // not a field worker's
  Ok({"sync", "--data", pat});

  // The same on the server, for every owner, and readable.
  CommandResult s =
      SyncServer({"owed", "--data", central, "--fy", "2023", "--quarter", "Q1", "--json"});
  REQUIRE(s.exit_code == 0);
  json all = json::parse(s.out);
  CHECK(Item(all, "pc_cpi_forms", "police", "Q1")["state"] == "entered");
  CHECK(Item(all, "pc_housing_drug_interventions", "wcc_housing", "Q1")["state"] == "owed");
  CHECK(all["rates"]["Q1"]["expected"].get<int>() > 20);
  s = SyncServer({"owed", "--data", central, "--fy", "2023", "--org", "police"});
  REQUIRE(s.exit_code == 0);
  CHECK(s.out.find("OWED Q1 2023/24") != std::string::npos);
  s = SyncServer({"owed", "--data", central, "--fy", "2023", "--quarter", "Q5"});
  CHECK(s.exit_code != 0);
  CHECK(s.err.find("Q5") != std::string::npos);
  s = SyncServer({"owed", "--data", central, "--fy", "2023", "--org", "nowhere"});
  CHECK(s.exit_code != 0);

  // Approving says who still owes what and which figures look wrong.
  s = SyncServer(
      {"approve", "--data", central, "--fy", "2023", "--quarter", "Q2", "--user", "cleo"});
  REQUIRE(s.exit_code == 0);
  INFO("approve said: " << s.err);
  CHECK(s.err.find("unusual figure: Number of CPIs forms (Drug intel) Q2 from Community Safety") !=
        std::string::npos);
  CHECK(s.err.find("Police still owes") != std::string::npos);

  // The coordinator enters WCC Housing's own figure on its behalf: filed under WCC Housing.
  std::vector<std::string> for_housing = Return(cleo, "pc_housing_drug_interventions", "Q1", "3");
  for_housing.insert(for_housing.end(), {"--for", "wcc_housing"});
  std::string id = Ok(for_housing);
  json shown = OkJson({"show", "--data", cleo, id, "--json"});
  CHECK(shown["org"] == "wcc_housing");
  CHECK(shown["fields"]["entered_for"] == "wcc_housing");

  // Seen before: the second contact with one person this year says so (a count, nothing else).
  std::vector<std::string> contact = {"log",
                                      "--data",
                                      sam,
                                      "outreach_contact",
                                      "--set",
                                      "place=Jewry St",
                                      "--set",
                                      "age_band=18_24",
                                      "--set",
                                      "safeguarding_concern=no",
                                      "--subject-name",
                                      "Jane Doe",
                                      "--subject-dob",
                                      "1990-02-03"};
  r = FieldClient(contact);
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.find("first contact with this person this year") != std::string::npos);
  r = FieldClient(contact);
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.find("seen before: 1 earlier contact with this person this year") !=
        std::string::npos);
  CHECK(r.err.find("Jane") == std::string::npos);

  // A draft finished with the answer it lacked (finish --set), checked as log checks it.
  std::string draft = Ok({"log", "--data", sam, "patrol", "--draft", "--set", "place=Stanmore"});
  r = FieldClient({"finish", "--data", sam, draft});
  CHECK(r.exit_code != 0);  // no patrol type yet: it stays a draft
  r = FieldClient({"finish", "--data", sam, draft, "--set", "patrol_type=op_fortress"});
  CHECK(r.exit_code != 0);  // a code the police record
  std::string patrol = Ok({"finish", "--data", sam, draft, "--set", "patrol_type=nte"});
  CHECK(OkJson({"show", "--data", sam, patrol, "--json"})["fields"]["patrol_type"] == "nte");
  CHECK(OkJson({"drafts", "--data", sam, "--json"})["drafts"].empty());
}
