// The real SyncEngine against the real Api and SqlCentralStore (SQLite), in one process.
#include "sync_fixture.h"

using namespace beatbook;
using namespace beatbook::test;

TEST_CASE("records logged offline on three devices reach the server once and the org's devices") {
  SyncFixture f;
  Device a = f.Enrol("amy", "bid", "field_worker");
  Device b = f.Enrol("bob", "bid", "field_worker");
  Device p = f.Enrol("pat", "police", "field_worker");
  for (int i = 0; i < 30; ++i) a.Log("street_brief", {{"place", "A"}, {"attendees", i}});
  for (int i = 0; i < 20; ++i) b.Log("street_brief", {{"place", "B"}, {"attendees", i}});
  for (int i = 0; i < 10; ++i) p.Log("patrol", {{"place", "P"}, {"patrol_type", "nte"}});
  sync::SyncSummary sa, sb, sp;
  REQUIRE(a.Sync(&sa, 7).ok());  // small batches: several pushes and pull pages
  REQUIRE(b.Sync(&sb, 7).ok());
  REQUIRE(p.Sync(&sp, 7).ok());
  CHECK(sa.pushed == 30);
  CHECK(sb.pushed == 20);
  CHECK(sb.pulled == 50);  // its own 20 come back too, plus amy's 30; not the police's
  CHECK(f.ServerRecords().size() == 60);
  REQUIRE(a.Sync().ok());
  CHECK(a.Visible() == f.ServerRecords("bid"));
  CHECK(b.Visible() == f.ServerRecords("bid"));
  CHECK(p.Visible() == f.ServerRecords("police"));
  // A coordinator sees every org.
  Device c = f.Enrol("cat", "csp", "coordinator");
  REQUIRE(c.Sync().ok());
  CHECK(c.Visible() == f.ServerRecords());
  // A rerun is a no-op.
  sync::SyncSummary again;
  REQUIRE(a.Sync(&again).ok());
  CHECK(again.pushed == 0);
  CHECK(again.pulled == 0);
  CHECK(f.ServerRecords().size() == 60);
}

TEST_CASE("edits and deletes on two devices converge, and concurrent edits are kept as conflicts") {
  SyncFixture f;
  Device a = f.Enrol("amy", "police", "field_worker");
  Device b = f.Enrol("bob", "police", "partner_lead");  // a lead: may correct amy's records
  std::string id = a.Log("street_brief", {{"place", "A"}, {"attendees", 1}});
  std::string gone = a.Log("street_brief", {{"place", "G"}, {"attendees", 2}});
  REQUIRE(a.Sync().ok());
  REQUIRE(b.Sync().ok());
  // Both edit the same field offline; b also deletes a record a edits.
  REQUIRE(a.store->Edit(id, {{"attendees", 10}}, std::nullopt).ok());
  REQUIRE(b.store->Edit(id, {{"attendees", 20}, {"topics", {"asb"}}}, std::nullopt).ok());
  REQUIRE(a.store->Edit(gone, {{"place", "still here"}}, std::nullopt).ok());
  REQUIRE(b.store->Delete(gone).ok());
  sync::SyncSummary sa, sb;
  REQUIRE(a.Sync(&sa).ok());
  REQUIRE(b.Sync(&sb).ok());
  REQUIRE(a.Sync().ok());
  CHECK(a.Visible() == b.Visible());
  CHECK(a.Visible() == f.ServerRecords());
  RecordState r;
  REQUIRE(a.store->Get(id, &r).ok());
  CHECK(r.FieldValues()["topics"] == json({"asb"}));  // non-conflicting edits both survive
  CHECK(a.store->Get(gone, &r).IsNotFound());         // the delete holds
  std::vector<server::StoredConflict> conflicts;
  REQUIRE(f.central->Conflicts(&conflicts).ok());
  REQUIRE(conflicts.size() == 1);
  CHECK(conflicts[0].conflict.field == "attendees");
  CHECK(sb.conflicts == 1);
  json both = {conflicts[0].conflict.winner.v, conflicts[0].conflict.loser.v};
  CHECK((both == json({10, 20}) || both == json({20, 10})));
}

TEST_CASE("a record the server finds invalid is rejected with a reason, and the rest lands") {
  SyncFixture f;
  Device a = f.Enrol("amy", "police", "field_worker");
  std::string good = a.Log("street_brief", {{"place", "A"}, {"attendees", 1}});
  // A return from a field worker whose device has out-of-date forms that do not say who may
  // log returns: stored on the device, but only leads may enter returns.
  json doc = a.store->forms().ToJson();
  for (auto& form : doc["forms"]) {
    if (form["form"] == "indicator_return") form.erase("writers");
  }
  FormSet stale;
  REQUIRE(FormSet::FromJson(doc, &stale).ok());
  REQUIRE(a.store->ReplaceForms(stale).ok());
  std::string ret =
      a.Log("indicator_return",
            {{"indicator", "da_op_foundation"}, {"fy", 2023}, {"quarter", "Q1"}, {"value", 3}});
  sync::SyncSummary s;
  REQUIRE(a.Sync(&s).ok());
  CHECK(s.pushed == 1);
  CHECK(s.rejected == 1);
  std::vector<Rejection> rejections;
  REQUIRE(a.store->Rejections(&rejections).ok());
  REQUIRE(rejections.size() == 1);
  CHECK(rejections[0].record_id == ret);
  CHECK(rejections[0].reason.find("partner lead") != std::string::npos);
  auto server = f.ServerRecords();
  CHECK(server.count(good) == 1);
  CHECK(server.count(ret) == 0);
  StoreSummary sum;
  REQUIRE(a.store->Summary(&sum).ok());
  CHECK(sum.pending_changes == 0);
}

TEST_CASE("a device cannot write as another org, author or device") {
  SyncFixture f;
  Device a = f.Enrol("amy", "police", "field_worker");
  Device b = f.Enrol("bob", "police", "field_worker");
  std::string token_b = b.store->identity().device_id + "." + b.store->identity().secret;
  RecordState forged;
  forged.id = "forged-1";
  forged.form = "street_brief";
  forged.form_version = 1;
  forged.org = "stop";
  forged.author = "bob";
  forged.device = b.store->identity().device_id;
  forged.occurred_at = Register{"2023-06-01T10:00:00Z", 10, forged.device, 0};
  forged.fields["place"] = {"x", 10, forged.device, 0};
  forged.fields["attendees"] = {1, 10, forged.device, 0};
  auto push = [&](const RecordState& c) {
    json change = c.ToJson(true);
    change["change_id"] = NewUuid();
    json body = {{"batch_id", NewUuid()}, {"changes", {change}}};
    return f.api->Handle({"POST", "/v1/push", body.dump(), "Bearer " + token_b});
  };
  auto r = push(forged);
  REQUIRE(r.status == 200);
  CHECK(r.body["results"][0]["status"] == "rejected");
  CHECK(r.body["results"][0]["reason"].get<std::string>().find("org 'stop'") != std::string::npos);
  forged.org = "police";
  forged.author = "amy";
  r = push(forged);
  CHECK(r.body["results"][0]["reason"].get<std::string>().find("author 'amy'") !=
        std::string::npos);
  forged.author = "bob";
  forged.fields["place"].d = a.store->identity().device_id;
  r = push(forged);
  CHECK(r.body["results"][0]["reason"].get<std::string>().find("another device") !=
        std::string::npos);
  CHECK(f.ServerRecords().empty());
}

TEST_CASE("a batch replayed days later adds nothing and gets its first answer") {
  SyncFixture f;
  Device a = f.Enrol("amy", "police", "field_worker");
  a.Log("street_brief", {{"place", "A"}, {"attendees", 1}});
  std::vector<OutboxEntry> outbox;
  REQUIRE(a.store->ReadOutbox(10, &outbox).ok());
  json change = outbox[0].change.ToJson(true);
  change["change_id"] = outbox[0].change_id;
  json body = {{"batch_id", "b-1"}, {"changes", {change}}};
  std::string auth = "Bearer " + a.store->identity().device_id + "." + a.store->identity().secret;
  auto first = f.api->Handle({"POST", "/v1/push", body.dump(), auth});
  REQUIRE(first.status == 200);
  auto again = f.api->Handle({"POST", "/v1/push", body.dump(), auth});
  CHECK(again.body["results"] == first.body["results"]);
  // The same change under a new batch id: merge is idempotent, the record's sequence stays put.
  body["batch_id"] = "b-2";
  auto replay = f.api->Handle({"POST", "/v1/push", body.dump(), auth});
  CHECK(replay.body["applied"] == 1);
  json pull = f.api->Handle({"GET", "/v1/pull?cursor=0", "", auth}).Json();
  CHECK(pull["records"].size() == 1);
  CHECK(pull["cursor"] == "1");
}

TEST_CASE("a device whose clock is days fast neither loses its writes nor wins later conflicts") {
  SyncFixture f;
  const std::int64_t now = SystemClock::Default()->NowMs();
  ManualClock fast(now + 3LL * 86'400'000);  // three days ahead
  ManualClock slow(now - 2LL * 86'400'000);  // two days behind
  Device a = f.Enrol("amy", "police", "field_worker", nullptr, &fast);
  Device b = f.Enrol("bob", "police", "partner_lead", nullptr, &slow);  // may correct amy's
  std::string id = a.Log("street_brief", {{"place", "A"}, {"attendees", 1}});
  REQUIRE(a.Sync().ok());
  REQUIRE(b.Sync().ok());
  // amy edits first; bob, two minutes later in real time, edits the same field.
  fast.Advance(1'000);
  slow.Advance(1'000);
  REQUIRE(a.store->Edit(id, {{"attendees", 5}}, std::nullopt).ok());
  fast.Advance(120'000);
  slow.Advance(120'000);
  REQUIRE(b.store->Edit(id, {{"attendees", 9}}, std::nullopt).ok());
  REQUIRE(a.Sync().ok());
  REQUIRE(b.Sync().ok());
  REQUIRE(a.Sync().ok());
  RecordState ra, rb;
  REQUIRE(a.store->Get(id, &ra).ok());
  REQUIRE(b.store->Get(id, &rb).ok());
  // The later edit wins: the fast clock was corrected by the server's time at enrolment.
  CHECK(ra.FieldValues()["attendees"] == 9);
  CHECK(rb.FieldValues()["attendees"] == 9);
  // And the slow device's stamps are near real time, not two days back.
  CHECK(HybridClock::PhysicalMs(rb.fields.at("attendees").t) > now);
  CHECK(HybridClock::PhysicalMs(rb.fields.at("attendees").t) < now + 3'600'000);
}

TEST_CASE("regression (fuzz_http): a request path that is not UTF-8 gets a 404, not a crash") {
  SyncFixture f;
  server::ApiResponse r = f.api->Handle({"POST", "/v1/pu\x92h", "{}", ""});
  CHECK(r.status == 404);
  std::string text = r.Text();  // what the server sends; threw before the fix
  CHECK(text.find("no endpoint") != std::string::npos);
}
