// Retention: `sync_server purge` removes records older than the policy from the server at once and
// from devices at their next sync (unsynced edits to them included), while the figures already
// counted, and approved returns, stay as they were.
#include <filesystem>
#include <fstream>

#include "beatbook/clock.h"
#include "beatbook/datetime.h"
#include "beatbook/indicators.h"
#include "fault_site.h"

using namespace beatbook;
using namespace beatbook::test;
using nlohmann::json;

namespace {

std::set<std::string> Listed(const std::string& device) {
  json listed = OkJson({"list", "--data", device, "--json"});  // kept: members of a temporary
  std::set<std::string> ids;                                   // would dangle in the loop
  for (const auto& r : listed["records"]) ids.insert(r["id"].get<std::string>());
  return ids;
}

json Figure(const std::string& coordinator, int fy, const std::string& indicator) {
  json report =
      OkJson({"report", "--data", coordinator, "--fy", std::to_string(fy), "--format", "json"});
  for (const auto& row : report["indicators"]) {
    if (row["id"] == indicator) return row["values"];
  }
  return nullptr;
}

}  // namespace

TEST_CASE("purge removes expired records everywhere and leaves the figures alone") {
  Site site;
  std::string amy = site.Enrol("amy", "street_pastors");
  std::string ben = site.Enrol("ben", "street_pastors", "", "partner_lead");  // may correct amy's
  std::string cleo = site.Enrol("cleo", "csp", "", "coordinator");
  // Records more than three years old (outreach contacts are kept three; nothing is older than
  // the plan's first year, 2023/24) and recent ones.
  std::int64_t now = SystemClock::Default()->NowMs();
  std::string old_when = FormatIsoUtc(now - (3LL * 365 + 30) * 86'400'000);
  std::string recent_when = FormatIsoUtc(now - 30LL * 86'400'000);
  auto contact = [&](const std::string& when, const std::string& note) {
    return Ok({"log", "--data", amy, "outreach_contact", "--occurred-at", when, "--set",
               "place=Jewry Street", "--set", "age_band=18_24", "--set", "safeguarding_concern=no",
               "--set", "referrals=stop", "--set", "notes=" + note});
  };
  std::string old_id = contact(old_when, "Old private note");
  std::string kept_id = contact(recent_when, "Recent note");
  for (const auto& dev : {amy, ben, cleo}) Ok({"sync", "--data", dev});
  REQUIRE(Listed(ben).count(old_id) == 1);

  // The old record's quarter is approved; its figures are read before the purge.
  std::int64_t old_ms = 0;
  REQUIRE(ParseIsoDateTime(old_when, &old_ms).ok());
  Period old_period = PeriodOf(old_ms);
  std::string quarter = "Q" + std::to_string(old_period.quarter);
  REQUIRE(SyncServer({"approve", "--data", site.dir / "central", "--fy",
                      std::to_string(old_period.fy), "--quarter", quarter, "--user", "cleo"})
              .exit_code == 0);
  json before = Figure(cleo, old_period.fy, "ql_referrals_support");
  REQUIRE(before[quarter] == 1);

  // Ben edits the old record offline: a change the purge makes moot.
  Ok({"edit", old_id, "--data", ben, "--set", "place=The Broadway"});
  // Each device holds the old note (decrypted: their files are encrypted at rest).
  for (const auto& dev : {amy, ben, cleo}) {
    CAPTURE(dev);
    REQUIRE(DecryptedDeviceContent(dev).find("Old private note") != std::string::npos);
  }

  CommandResult dry = SyncServer({"purge", "--data", site.dir / "central", "--dry-run"});
  REQUIRE(dry.exit_code == 0);
  CHECK(dry.out.find("outreach_contact: 1 record occurred before") != std::string::npos);
  CHECK(dry.out.find("would be removed") != std::string::npos);
  CHECK(AllFileBytes(site.dir / "central").find("Old private note") != std::string::npos);

  CommandResult purge = SyncServer({"purge", "--data", site.dir / "central"});
  INFO("purge: " << purge.out << purge.err);
  REQUIRE(purge.exit_code == 0);
  CHECK(purge.out.find("removed 1 record;") != std::string::npos);
  // Nothing of it is left in the server's files; the recent record is untouched.
  std::string server_bytes = AllFileBytes(site.dir / "central");
  CHECK(server_bytes.find("Old private note") == std::string::npos);
  CHECK(server_bytes.find("Recent note") != std::string::npos);
  // A second purge finds nothing more.
  CHECK(SyncServer({"purge", "--data", site.dir / "central"}).out.find("removed 0 records;") !=
        std::string::npos);

  // Devices drop it at their next sync; ben's offline edit is refused, not resurrected.
  for (const auto& dev : {amy, ben, cleo}) Ok({"sync", "--data", dev});
  for (const auto& dev : {amy, ben, cleo}) {
    CAPTURE(dev);
    std::set<std::string> ids = Listed(dev);
    CHECK(ids.count(old_id) == 0);
    CHECK(ids.count(kept_id) == 1);
    CHECK(OkJson({"status", "--data", dev, "--json"})["pending_changes"] == 0);
    std::string content = DecryptedDeviceContent(dev);
    CHECK(content.find("Old private note") == std::string::npos);
    CHECK(content.find("Recent note") != std::string::npos);
  }
  CommandResult show = FieldClient({"show", old_id, "--data", ben});
  CHECK(show.exit_code != 0);

  // The figures, approved and running, are as they were.
  CHECK(Figure(cleo, old_period.fy, "ql_referrals_support") == before);
  json audit = json::parse(
      SyncServer({"audit", "--data", site.dir / "central", "--action", "purge", "--json"}).out);
  REQUIRE(audit["events"].size() == 2);
  CHECK(audit["events"][0]["detail"]["by_form"]["outreach_contact"] == 1);
}

TEST_CASE("a bad retention policy is refused with the entry that is wrong") {
  Site site;
  std::string policy = site.dir / "policy.json";
  for (auto [text, needle] : std::vector<std::pair<std::string, std::string>>{
           {R"({"retention": [{"form": "nope", "keep_years": 3}]})", "unknown form 'nope'"},
           {R"({"retention": [{"form": "patrol", "keep_years": 0}]})", "keep_years"},
           {R"({"retention": [{"form": "patrol", "keep_years": 2}, {"form": "patrol",
              "keep_years": 3}]})",
            "twice"},
           {R"([1, 2])", "expected"}}) {
    CAPTURE(needle);
    std::ofstream(policy) << text;
    CommandResult r = SyncServer({"purge", "--data", site.dir / "central", "--policy", policy});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find(needle) != std::string::npos);
  }
}
