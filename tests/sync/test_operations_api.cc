// The operator's endpoint and the store's epoch, in process (the e2e tests scrape the real
// server from loopback): who may read /metrics from another machine, and a restore's new epoch
// seen by a device mid-sync.
#include "sync_fixture.h"

using namespace beatbook;
using namespace beatbook::test;

TEST_CASE("/metrics from another machine needs an operator's credential") {
  SyncFixture f;
  Device amy = f.Enrol("amy", "police", "field_worker");
  Device ops = f.Enrol("ops", "csp", "admin");
  Device cat = f.Enrol("cat", "csp", "coordinator");
  auto scrape = [&](const std::string& bearer, const std::string& peer) {
    return f.api->Handle({"GET", "/metrics", "", bearer, peer});
  };
  CHECK(scrape("", "203.0.113.9").status == 401);
  CHECK(scrape("Bearer nobody.wrong", "203.0.113.9").status == 401);
  server::ApiResponse worker = scrape(amy.Bearer(), "203.0.113.9");
  CHECK(worker.status == 403);
  CHECK(worker.Text().find("coordinator or an admin") != std::string::npos);
  for (const Device* d : {&ops, &cat}) {
    server::ApiResponse page = scrape(d->Bearer(), "203.0.113.9");
    CHECK(page.status == 200);
    CHECK(page.content_type.rfind("text/plain", 0) == 0);
    CHECK(page.raw.find("beatbook_devices 3") != std::string::npos);
  }
  // From the machine itself no credential is needed; only GET.
  CHECK(scrape("", "127.0.0.1").status == 200);
  CHECK(scrape("", "::1").status == 200);
  CHECK(f.api->Handle({"POST", "/metrics", "{}", "", "127.0.0.1"}).status == 405);
  // Every success says the store's epoch; every answer has a request id.
  server::ApiResponse health = f.api->Handle({"GET", "/v1/health", "", "", "127.0.0.1"});
  CHECK(health.body["epoch"].is_string());
  bool has_id = false;
  for (const auto& [name, value] : health.headers)
    has_id |= name == "X-Request-Id" && !value.empty();
  CHECK(has_id);
}

TEST_CASE("a device that meets a new epoch mid-sync sends its writes again and pulls everything") {
  SyncFixture f;
  Device amy = f.Enrol("amy", "police", "field_worker");
  Device ben = f.Enrol("ben", "police", "field_worker");
  std::string a1 = amy.Log("street_brief", {{"place", "A"}, {"attendees", 1}});
  std::string b1 = ben.Log("street_brief", {{"place", "B"}, {"attendees", 2}});
  REQUIRE(amy.Sync().ok());
  REQUIRE(ben.Sync().ok());
  REQUIRE(amy.Sync().ok());
  // The store "goes back in time": here only its epoch changes (the e2e test restores a backup).
  std::string epoch;
  REQUIRE(f.central->NewEpoch(&epoch).ok());
  // A server started on the restored store (the Api reads the epoch once).
  f.UseServerClock(SystemClock::Default());
  amy.transport = std::make_unique<InProcessTransport>(f.api.get());
  sync::SyncSummary summary;
  Status s = amy.Sync(&summary);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  CHECK(summary.server_restored);
  CHECK(summary.resent == 1);  // a1: ben's record is ben's to send
  CHECK(summary.pulled >= 2);  // from the start
  CHECK(summary.rejected == 0);
  sync::SyncSummary next;
  REQUIRE(amy.Sync(&next).ok());
  CHECK(!next.server_restored);
  CHECK(next.pushed == 0);
  CHECK(f.ServerRecords().size() == 2);
}
