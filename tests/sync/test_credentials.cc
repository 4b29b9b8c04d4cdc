// Device credentials: rotation on demand and by age, with the old secret retired only once the
// new one is in use, so no lost reply or crash can lock a device out.
#include <random>

#include "beatbook/sqlite_db.h"
#include "sync_fixture.h"

using namespace beatbook;
using namespace beatbook::test;

namespace {

int FormsStatus(SyncFixture& f, const std::string& bearer) {
  return f.api->Handle({"GET", "/v1/forms", "", bearer}).status;
}

}  // namespace

TEST_CASE("a rotated credential replaces the old one as soon as it is used") {
  SyncFixture f;
  Device d = f.Enrol("amy", "police", "field_worker");
  std::string old_bearer = d.Bearer();
  REQUIRE(sync::SyncEngine(d.store.get(), d.transport.get()).RotateCredential().ok());
  std::string new_bearer = d.Bearer();
  CHECK(new_bearer != old_bearer);
  CHECK(FormsStatus(f, new_bearer) == 200);
  CHECK(FormsStatus(f, old_bearer) == 401);
  // It survives reopening the store.
  std::string dir = d.store->dir();
  d.store.reset();
  REQUIRE(LocalStore::Open(dir, {}, &d.store).ok());
  CHECK(d.Bearer() == new_bearer);
  d.Log("street_brief", {{"place", "A"}, {"attendees", 1}});
  CHECK(d.Sync().ok());
  std::vector<server::AuditEvent> events;
  REQUIRE(f.central->ReadAudit({0, "amy", "", "rotate", 10}, &events).ok());
  CHECK(events.size() == 1);
}

TEST_CASE("a rotation whose reply is lost leaves the old credential working") {
  SyncFixture f;
  Device d = f.Enrol("amy", "police", "field_worker");
  std::string old_bearer = d.Bearer();
  std::mt19937_64 rng(1);
  FaultRates lose_all;
  lose_all.lose_response = 1.0;
  FaultyTransport lossy(std::make_unique<InProcessTransport>(f.api.get()), &rng, lose_all);
  CHECK(sync::SyncEngine(d.store.get(), &lossy).RotateCredential().IsUnavailable());
  CHECK(d.Bearer() == old_bearer);  // it never heard the new secret
  CHECK(FormsStatus(f, old_bearer) == 200);
  CHECK(d.Sync().ok());
  // Trying again works, and only then is the old secret retired.
  REQUIRE(sync::SyncEngine(d.store.get(), d.transport.get()).RotateCredential().ok());
  CHECK(FormsStatus(f, old_bearer) == 401);
}

TEST_CASE("a device stopped between keeping a new secret and using it carries on with it") {
  SyncFixture f;
  Device d = f.Enrol("amy", "police", "field_worker");
  std::string old_bearer = d.Bearer();
  // The server issued a secret and the device kept it, then the tablet died.
  REQUIRE(f.central->StartRotation(d.store->identity().device_id, "the-new-secret", 0).ok());
  REQUIRE(d.store->SetSecret("the-new-secret").ok());
  CHECK(FormsStatus(f, old_bearer) == 200);  // still valid until the new one is used
  CHECK(d.Sync().ok());                      // the first use
  CHECK(FormsStatus(f, old_bearer) == 401);
  CHECK(FormsStatus(f, d.Bearer()) == 200);
}

TEST_CASE("a credential older than 30 days is rotated by the next sync") {
  SyncFixture f;
  ManualClock clock(SystemClock::Default()->NowMs());
  Device d = f.Enrol("amy", "police", "field_worker", nullptr, &clock);
  std::string first = d.Bearer();
  clock.Advance(29LL * 86'400'000);
  REQUIRE(d.Sync().ok());
  CHECK(d.Bearer() == first);  // not yet
  clock.Advance(2LL * 86'400'000);
  REQUIRE(d.Sync().ok());
  CHECK(d.Bearer() != first);
  CHECK(FormsStatus(f, first) == 401);
  CHECK(FormsStatus(f, d.Bearer()) == 200);
}

TEST_CASE("an enrolment token works once, and not after it expires") {
  SyncFixture f;
  std::int64_t now = SystemClock::Default()->NowMs();
  REQUIRE(f.central
              ->CreateToken("expired-token", {"amy", "police", Role::kFieldWorker, now - 1},
                            now - 60'000, nullptr)
              .ok());
  sync::Enrolment e;
  Status s = sync::Enrol(f.inprocess.get(), "expired-token", "tablet", nullptr, &e);
  CHECK(s.code() == Status::Code::kUnauthenticated);
  CHECK(s.message().find("has expired") != std::string::npos);

  REQUIRE(f.central
              ->CreateToken("good-token", {"amy", "police", Role::kFieldWorker, now + 60'000}, now,
                            nullptr)
              .ok());
  REQUIRE(sync::Enrol(f.inprocess.get(), "good-token", "tablet", nullptr, &e).ok());
  s = sync::Enrol(f.inprocess.get(), "good-token", "tablet 2", nullptr, &e);
  CHECK(s.message().find("already been used") != std::string::npos);
  CHECK(sync::Enrol(f.inprocess.get(), "made-up", "tablet", nullptr, &e)
            .message()
            .find("not known") != std::string::npos);
  // Tokens are kept only as hashes.
  SqliteDb db;
  REQUIRE(db.Open(f.dir / "server/central.db", false).ok());
  SqliteStmt st;
  REQUIRE(db.Prepare("SELECT count(*) FROM tokens WHERE hash = 'good-token'", &st).ok());
  REQUIRE(st.Step() == SqliteStmt::kRow);
  CHECK(st.ColumnInt(0) == 0);
}

TEST_CASE("a device whose new secret was replaced by another rotation falls back to the old one") {
  SyncFixture f;
  Device d = f.Enrol("amy", "police", "field_worker");
  std::string old_bearer = d.Bearer();
  // The device kept a new secret, but before it used it another rotation replaced it on the
  // server (a second tablet process, or someone holding the old secret).
  REQUIRE(f.central->StartRotation(d.store->identity().device_id, "secret-one", 0).ok());
  REQUIRE(d.store->SetSecret("secret-one").ok());
  REQUIRE(f.central->StartRotation(d.store->identity().device_id, "secret-two", 0).ok());
  d.Log("street_brief", {{"place", "A"}, {"attendees", 1}});
  REQUIRE(d.Sync().ok());  // refused with secret-one, then fine with the old one
  CHECK(d.Bearer() == old_bearer);
  CHECK(d.store->previous_secret().empty());
  CHECK(f.ServerRecords().size() == 1);
}

TEST_CASE("a failed automatic rotation does not stop the records going up") {
  SyncFixture f;
  // A month passes for the server as for the device (the server refuses stamps from a device
  // whose clock runs far ahead of its own).
  ManualClock clock(SystemClock::Default()->NowMs());
  f.UseServerClock(&clock);
  Device d = f.Enrol("amy", "police", "field_worker", nullptr, &clock);
  clock.Advance(31LL * 86'400'000);
  d.Log("street_brief", {{"place", "A"}, {"attendees", 1}});
  // A transport that fails only the rotation request.
  class NoRotate : public sync::Transport {
   public:
    explicit NoRotate(server::Api* api) : inner_(api) {}
    Status Send(const sync::HttpRequest& r, sync::HttpResponse* out) override {
      if (r.target == "/v1/rotate") return Status::Unavailable("injected: rotation unreachable");
      return inner_.Send(r, out);
    }

   private:
    InProcessTransport inner_;
  };
  NoRotate transport(f.api.get());
  std::string before = d.Bearer();
  sync::SyncSummary summary;
  sync::SyncOptions options;
  options.clock = &clock;
  REQUIRE(sync::SyncEngine(d.store.get(), &transport, options).Sync(&summary).ok());
  CHECK(summary.pushed == 1);
  CHECK(d.Bearer() == before);  // tried again at the next sync
}

TEST_CASE("sync brings a device the person-key secret it lacks, and the server's newer forms") {
  SyncFixture f;
  Device amy = f.Enrol("amy", "street_pastors", "field_worker");
  const std::string partnership_secret = amy.store->identity().subject_secret;
  REQUIRE_FALSE(partnership_secret.empty());
  // As a device enrolled before person keys existed, on forms from before outreach_contact v2.
  Identity old = amy.store->identity();
  old.subject_secret.clear();
  REQUIRE(amy.store->SetIdentity(old).ok());
  FormSet older;
  json forms_json = f.forms.ToJson();
  auto& list = forms_json["forms"];
  list.erase(std::remove_if(list.begin(), list.end(),
                            [](const json& form) {
                              return form["form"] == "outreach_contact" && form["version"] == 2;
                            }),
             list.end());
  REQUIRE(FormSet::FromJson(forms_json, &older).ok());
  REQUIRE(amy.store->ReplaceForms(older).ok());
  REQUIRE(amy.store->forms().Latest("outreach_contact")->version == 1);

  REQUIRE(amy.Sync().ok());
  CHECK(amy.store->identity().subject_secret == partnership_secret);
  CHECK(amy.store->forms().Latest("outreach_contact")->version == 2);

  // An admin's device is never given it.
  Device root = f.Enrol("root", "council", "admin");
  auto r = f.api->Handle({"GET", "/v1/forms", "", root.Bearer()});
  CHECK(r.status == 200);
  CHECK_FALSE(r.body.contains("subject_secret"));
}

TEST_CASE("an address that keeps failing to sign in is slowed down, right ones elsewhere are not") {
  SyncFixture f;
  Device amy = f.Enrol("amy", "street_pastors", "field_worker");
  const std::string guesser = "203.0.113.9", office = "198.51.100.20";
  auto forms_from = [&](const std::string& peer, const std::string& bearer) {
    return f.api->Handle({"GET", "/v1/forms", "", bearer, peer});
  };
  int burst = static_cast<int>(tunables::kAddressFailedSignInBurst);
  for (int i = 0; i < burst / 2; ++i) {
    CHECK(forms_from(guesser,
                     "Bearer " + amy.store->identity().device_id + ".guess" + std::to_string(i))
              .status == 401);
    CHECK(
        f.api->Handle({"POST", "/v1/enrol", R"({"token": "guessed-token"})", "", guesser}).status ==
        401);
  }
  server::ApiResponse slowed = forms_from(guesser, "Bearer dev-x.guess");
  CHECK(slowed.status == 429);
  CHECK(slowed.retry_after_sec >= 1);
  CHECK(slowed.Json()["error"]["message"].get<std::string>().find(guesser) != std::string::npos);
  // The address is refused even with a right credential until it has waited.
  CHECK(forms_from(guesser, amy.Bearer()).status == 429);
  CHECK(f.api->Handle({"POST", "/v1/enrol", R"({"token": "x"})", "", guesser}).status == 429);
  // Other addresses, and callers without one (in-process), are not affected.
  CHECK(forms_from(office, amy.Bearer()).status == 200);
  CHECK(forms_from("", amy.Bearer()).status == 200);
  // Right credentials never count as failures.
  for (int i = 0; i < burst * 2; ++i) REQUIRE(forms_from(office, amy.Bearer()).status == 200);
}

TEST_CASE("a device gets its burst of requests, then one per refill, on the server's clock") {
  SyncFixture f;
  Device amy = f.Enrol("amy", "police", "field_worker");
  Device bob = f.Enrol("bob", "police", "field_worker");
  ManualClock clock(1'700'000'000'000);
  server::ApiOptions limits{/*requests_per_second=*/1, /*burst=*/10};
  limits.rate_clock = &clock;
  server::Api api(f.central.get(), &f.forms, &f.catalogue, &clock, limits);
  auto forms = [&](const Device& d) { return api.Handle({"GET", "/v1/forms", "", d.Bearer()}); };
  for (int i = 0; i < 10; ++i) REQUIRE(forms(amy).status == 200);
  server::ApiResponse refused = forms(amy);
  CHECK(refused.status == 429);
  CHECK(refused.retry_after_sec == 1);
  CHECK(refused.Json()["error"]["code"] == "too_many_requests");
  CHECK(forms(bob).status == 200);  // another device is not affected
  clock.Advance(500);
  CHECK(forms(amy).status == 429);  // not yet a whole token
  clock.Advance(500);
  CHECK(forms(amy).status == 200);  // one token, one request
  CHECK(forms(amy).status == 429);
  clock.Advance(60'000);  // a long pause refills the burst, not beyond
  for (int i = 0; i < 10; ++i) CHECK(forms(amy).status == 200);
  CHECK(forms(amy).status == 429);
}
