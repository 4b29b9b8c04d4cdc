// A tablet shared by shift: each worker enrols on it with their own token and PIN, signs in with
// the PIN, and logs and syncs records that are theirs; the tablet's files show none of it; a
// revoked worker's store is wiped and the others carry on.
#include "fault_site.h"

using namespace beatbook;
using namespace beatbook::test;

namespace {

std::string TabletToken(Site& site, const std::string& user) {
  CommandResult t = SyncServer({"token", "--data", site.dir / "central", "--user", user, "--org",
                                "csp", "--role", "field_worker"});
  REQUIRE(t.exit_code == 0);
  return t.out.substr(0, t.out.find('\n'));
}

std::string PinOk(const std::string& pin, const std::vector<std::string>& args) {
  CommandResult r = FieldClientWithPin(pin, args);
  INFO("field_client " << args[0] << " stderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  return r.out;
}

}  // namespace

TEST_CASE("workers share a tablet by shift, each signing in with a PIN to records of their own") {
  Site site;
  std::string tablet = site.dir / "tablet";
  PinOk("2468",
        {"init", "--data", tablet, "--server", site.url, "--token", TabletToken(site, "bob")});

  // A PIN another worker has is refused before the token is spent: the token still works.
  std::string cat_token = TabletToken(site, "cat");
  CommandResult taken = FieldClientWithPin(
      "2468", {"init", "--data", tablet, "--server", site.url, "--token", cat_token});
  CHECK(taken.exit_code != 0);
  CHECK(taken.err.find("already uses that PIN") != std::string::npos);
  CommandResult short_pin = FieldClientWithPin(
      "12", {"init", "--data", tablet, "--server", site.url, "--token", cat_token});
  CHECK(short_pin.exit_code != 0);
  CHECK(short_pin.err.find("PIN must be") != std::string::npos);
  PinOk("1357", {"init", "--data", tablet, "--server", site.url, "--token", cat_token});

  // Without a PIN nothing opens; a device without PINs cannot join this tablet.
  CommandResult no_pin = FieldClient({"list", "--data", tablet});
  CHECK(no_pin.exit_code != 0);
  CHECK(no_pin.err.find("FIELD_CLIENT_PIN") != std::string::npos);
  CommandResult unattended = FieldClient(
      {"init", "--data", tablet, "--server", site.url, "--token", TabletToken(site, "dan")});
  CHECK(unattended.exit_code != 0);
  CHECK(unattended.err.find("PINs") != std::string::npos);
  CommandResult wrong = FieldClientWithPin("9999", {"list", "--data", tablet});
  CHECK(wrong.exit_code == 4);
  CHECK(wrong.err.find("wrong PIN") != std::string::npos);

  std::string bobs = PinOk("2468", {"log", "--data", tablet, "street_brief", "--set",
                                    "place=Bobs Beat Lane", "--set", "attendees=3"});
  std::string cats = PinOk("1357", {"log", "--data", tablet, "street_brief", "--set",
                                    "place=Cats Beat Close", "--set", "attendees=5"});
  auto list = [&](const std::string& pin) {
    return nlohmann::json::parse(PinOk(pin, {"list", "--data", tablet, "--json"}))["records"];
  };
  REQUIRE(list("2468").size() == 1);
  CHECK(list("2468")[0]["author"] == "bob");
  REQUIRE(list("1357").size() == 1);
  CHECK(list("1357")[0]["author"] == "cat");

  std::string files = AllFileBytes(tablet);
  CHECK(files.find("Bobs Beat Lane") == std::string::npos);
  CHECK(files.find("Cats Beat Close") == std::string::npos);
  CHECK(files.find("2468") == std::string::npos);

  PinOk("2468", {"sync", "--data", tablet});
  PinOk("1357", {"sync", "--data", tablet});
  std::unique_ptr<server::SqlCentralStore> central;
  REQUIRE(server::SqlCentralStore::OpenSqlite(site.dir / "central", &central).ok());
  std::vector<RecordState> states;
  REQUIRE(central->AllRecords(&states).ok());
  std::map<std::string, std::string> author_of;
  for (const auto& s : states) author_of[s.id] = s.author;
  CHECK(author_of.size() == 2);
  CHECK(author_of[bobs.substr(0, bobs.find('\n'))] == "bob");
  CHECK(author_of[cats.substr(0, cats.find('\n'))] == "cat");
  central.reset();

  // Bob leaves: his enrolment is revoked; his store on the tablet is wiped, Cat's is not.
  nlohmann::json bob_status =
      nlohmann::json::parse(PinOk("2468", {"status", "--data", tablet, "--json"}));
  REQUIRE(SyncServer({"revoke", "--data", site.dir / "central", "--device",
                      bob_status["device"].get<std::string>()})
              .exit_code == 0);
  CommandResult revoked = FieldClientWithPin("2468", {"sync", "--data", tablet});
  CHECK(revoked.exit_code == 4);
  CHECK(revoked.err.find("wiped") != std::string::npos);
  CommandResult after = FieldClientWithPin("2468", {"list", "--data", tablet});
  CHECK(after.err.find("wiped") != std::string::npos);
  PinOk("1357", {"sync", "--data", tablet});
  CHECK(list("1357").size() == 2);  // Cat's own, and Bob's pulled as her org's
}
