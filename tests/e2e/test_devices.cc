// Devices from the command line: revoking one (lost, stolen, or its worker left) makes the server
// refuse it, its unsynced changes are never uploaded, and it wipes its own store so that nothing
// of the records is left in its files; rotating a device's credential.
#include <filesystem>
#include <fstream>

#include "fault_site.h"

using namespace beatbook;
using namespace beatbook::test;
TEST_CASE("a revoked device is refused, uploads nothing more and wipes its records") {
  Site site;
  std::string amy = site.Enrol("amy", "police");
  std::string bob = site.Enrol("bob", "police");
  Ok({"log", "--data", amy, "street_brief", "--set", "place=Synced Lane", "--set", "attendees=4"});
  Ok({"sync", "--data", amy});
  for (int i = 0; i < 2; ++i) {
    Ok({"log", "--data", amy, "street_brief", "--set", "place=Unsynced Alley", "--set",
        "attendees=2"});
  }
  std::string amy_device = OkJson({"status", "--data", amy, "--json"})["device"];
  // Content is encrypted at rest, but records' form names are readable metadata until the wipe:
  // the checks below can fail.
  REQUIRE(AllFileBytes(amy).find("street_brief") != std::string::npos);

  CommandResult revoke =
      SyncServer({"revoke", "--data", site.dir / "central", "--device", amy_device});
  INFO("revoke stderr: " << revoke.err);
  REQUIRE(revoke.exit_code == 0);
  CHECK(revoke.out.find("revoked device " + amy_device) != std::string::npos);
  auto devices =
      nlohmann::json::parse(SyncServer({"devices", "--data", site.dir / "central", "--json"}).out);
  for (const auto& d : devices["devices"]) CHECK(d["revoked"] == (d["id"] == amy_device));

  // The next sync is refused (exit 4) and wipes the device.
  CommandResult sync = FieldClient({"sync", "--data", amy});
  CHECK(sync.exit_code == 4);
  CHECK(sync.err.find("revoked") != std::string::npos);
  CHECK(sync.err.find("wiped") != std::string::npos);
  CHECK(site.ServerIds().size() == 1);  // the two unsynced records never left the tablet

  std::string files = AllFileBytes(amy);
  CHECK(files.find("Unsynced Alley") == std::string::npos);
  CHECK(files.find("Synced Lane") == std::string::npos);
  CHECK(files.find("street_brief") == std::string::npos);

  // Whoever picks the tablet up next is told what happened, and nothing works.
  for (std::vector<std::string> args :
       {std::vector<std::string>{"list", "--data", amy},
        {"sync", "--data", amy},
        {"log", "--data", amy, "street_brief", "--set", "place=X"}}) {
    CommandResult r = FieldClient(args);
    CAPTURE(args[0]);
    CHECK(r.exit_code == 4);
    CHECK(r.err.find("wiped") != std::string::npos);
    CHECK(r.err.find("amy") != std::string::npos);
  }

  // Other devices carry on.
  Ok({"sync", "--data", bob});
  CHECK(OkJson({"list", "--data", bob, "--json"})["records"].size() == 1);
}

TEST_CASE("a refusal that is not a revocation wipes nothing") {
  Site site;
  std::string amy = site.Enrol("amy", "police");
  Ok({"log", "--data", amy, "street_brief", "--set", "place=Jewry Street", "--set", "attendees=3"});
  // A field worker may not read the quarterly return: 403, but the device stays as it was.
  CommandResult r = FieldClient({"report", "--data", amy, "--fy", "2023"});
  CHECK(r.exit_code == 4);
  CHECK(OkJson({"list", "--data", amy, "--json"})["records"].size() == 1);
  Ok({"sync", "--data", amy});
}

TEST_CASE("revoking a device that does not exist fails clearly and changes nothing") {
  Site site;
  std::string amy = site.Enrol("amy", "police");
  CommandResult r = SyncServer({"revoke", "--data", site.dir / "central", "--device", "dev-nope"});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("no device 'dev-nope' is enrolled") != std::string::npos);
  Ok({"sync", "--data", amy});
}

TEST_CASE("field_client rotate gives the device a new credential and retires the old one") {
  Site site;
  std::string amy = site.Enrol("amy", "police");
  CommandResult r = FieldClient({"rotate", "--data", amy});
  INFO("rotate stderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("has a new credential") != std::string::npos);
  Ok({"log", "--data", amy, "street_brief", "--set", "place=Jewry Street", "--set", "attendees=1"});
  CHECK(OkJson({"sync", "--data", amy, "--json"})["pushed"] == 1);
  auto audit = nlohmann::json::parse(
      SyncServer({"audit", "--data", site.dir / "central", "--action", "rotate", "--json"}).out);
  CHECK(audit["events"].size() == 1);
  // A stand-alone device has nothing to rotate.
  Ok({"init", "--data", site.dir / "solo", "--user", "sam", "--org", "police", "--role",
      "field_worker"});
  CommandResult solo = FieldClient({"rotate", "--data", site.dir / "solo"});
  CHECK(solo.exit_code == 1);
  CHECK(solo.err.find("stand-alone") != std::string::npos);
}
