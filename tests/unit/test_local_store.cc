#include <doctest/doctest.h>

#include "beatbook/local_store.h"
#include "support/pseudo_language.h"
#include "support/record_states.h"
#include "support/schema_dir.h"
#include "support/temp_dir.h"

using namespace beatbook;

namespace {

struct Fixture {
  Fixture() : clock(1'700'000'000'000) {
    REQUIRE(FormSet::LoadDir(test::SchemaDir(), &forms).ok());
    Identity id;
    id.user = "amy";
    id.org = "police";
    id.role = Role::kPartnerLead;
    id.device_id = "dev-a";
    LocalStoreOptions options;
    options.clock = &clock;
    Status s = LocalStore::Create(dir.path(), id, forms, options, &store);
    REQUIRE_MESSAGE(s.ok(), s.ToString());
  }
  std::vector<OutboxEntry> Outbox() {
    std::vector<OutboxEntry> out;
    REQUIRE(store->ReadOutbox(1000, &out).ok());
    return out;
  }
  std::size_t Count() {
    std::vector<RecordState> all;
    REQUIRE(store->ListAllStates(&all).ok());
    return all.size();
  }
  test::TempDir dir;
  ManualClock clock;
  FormSet forms;
  std::unique_ptr<LocalStore> store;
};

RecordInput Brief(const std::string& place, int attendees) {
  return {"street_brief", {{"place", place}, {"attendees", attendees}}, {}, {}, {}, {}, {}};
}

}  // namespace

TEST_CASE("logging stores the record and its outbox change together") {
  Fixture f;
  std::string id;
  RecordInput in = Brief("Jewry Street", 12);
  in.occurred_at = "2023-06-01T22:15:00+01:00";
  REQUIRE(f.store->Log(in, &id).ok());
  RecordState r;
  REQUIRE(f.store->Get(id, &r).ok());
  CHECK(r.form == "street_brief");
  CHECK(r.org == "police");
  CHECK(r.author == "amy");
  CHECK(r.device == "dev-a");
  CHECK(r.OccurredAt() == "2023-06-01T22:15:00+01:00");
  CHECK(r.FieldValues() == json({{"place", "Jewry Street"}, {"attendees", 12}}));
  auto outbox = f.Outbox();
  REQUIRE(outbox.size() == 1);
  CHECK(outbox[0].change.id == id);
  CHECK(outbox[0].change.fields.at("attendees").v == 12);
  CHECK(outbox[0].change.fields.at("attendees").d == "dev-a");
  CHECK(outbox[0].change.deleted->v == false);
}

TEST_CASE("occurred_at defaults to now") {
  Fixture f;
  std::string id;
  REQUIRE(f.store->Log(Brief("a", 1), &id).ok());
  RecordState r;
  REQUIRE(f.store->Get(id, &r).ok());
  CHECK(r.OccurredAt() == "2023-11-14T22:13:20Z");
}

TEST_CASE("edit and delete each add one change that names what it replaced") {
  Fixture f;
  std::string id;
  REQUIRE(f.store->Log(Brief("a", 1), &id).ok());
  f.clock.Advance(1000);
  REQUIRE(f.store->Edit(id, {{"attendees", 5}, {"topics", {"asb"}}}, std::nullopt).ok());
  RecordState r;
  REQUIRE(f.store->Get(id, &r).ok());
  CHECK(r.FieldValues()["attendees"] == 5);
  auto outbox = f.Outbox();
  REQUIRE(outbox.size() == 2);
  const RecordState& edit = outbox[1].change;
  CHECK(edit.fields.size() == 2);
  CHECK(edit.fields.at("attendees").b == outbox[0].change.fields.at("attendees").t);
  CHECK(edit.fields.at("topics").b == 0);
  CHECK(edit.fields.at("attendees").t > outbox[0].change.fields.at("attendees").t);
  CHECK_FALSE(edit.deleted.has_value());
  // Clearing a field.
  REQUIRE(f.store->Edit(id, {{"topics", nullptr}}, std::nullopt).ok());
  REQUIRE(f.store->Get(id, &r).ok());
  CHECK_FALSE(r.FieldValues().contains("topics"));

  REQUIRE(f.store->Delete(id).ok());
  CHECK(f.store->Get(id, &r).IsNotFound());
  outbox = f.Outbox();
  REQUIRE(outbox.size() == 4);
  CHECK(outbox[3].change.deleted->v == true);
  std::vector<RecordState> listed;
  REQUIRE(f.store->List("", &listed).ok());
  CHECK(listed.empty());
  // A deleted record can be neither edited nor deleted again.
  CHECK(f.store->Edit(id, {{"attendees", 9}}, std::nullopt).IsNotFound());
  CHECK(f.store->Delete(id).IsNotFound());
  CHECK(f.Outbox().size() == 4);
}

TEST_CASE("bad input changes nothing stored") {
  Fixture f;
  std::string id;
  REQUIRE(f.store->Log(Brief("a", 1), &id).ok());
  auto before_outbox = f.Outbox().size();
  RecordState before;
  REQUIRE(f.store->Get(id, &before).ok());

  std::string other;
  CHECK(f.store->Log({"no_such_form", json::object(), {}, {}, {}, {}, {}}, &other)
            .IsInvalidArgument());
  CHECK(f.store->Log(Brief("a", -1), &other).IsInvalidArgument());
  RecordInput wrong_org = Brief("a", 1);
  wrong_org.org = "stop";
  CHECK(f.store->Log(wrong_org, &other).IsInvalidArgument());
  RecordInput dup = Brief("a", 1);
  dup.id = id;
  CHECK(f.store->Log(dup, &other).code() == Status::Code::kAlreadyExists);
  RecordInput bad_time = Brief("a", 1);
  bad_time.occurred_at = "tuesday";
  CHECK(f.store->Log(bad_time, &other).IsInvalidArgument());
  CHECK(f.store->Edit(id, {{"attendees", "many"}}, std::nullopt).IsInvalidArgument());
  CHECK(f.store->Edit(id, {{"ghost", 1}}, std::nullopt).IsInvalidArgument());
  CHECK(f.store->Edit("no-such-id", {{"attendees", 1}}, std::nullopt).IsNotFound());

  CHECK(f.Outbox().size() == before_outbox);
  CHECK(f.Count() == 1);
  RecordState after;
  REQUIRE(f.store->Get(id, &after).ok());
  CHECK(after.ToJson() == before.ToJson());
}

TEST_CASE("bulk logging is all or nothing, naming each bad record") {
  Fixture f;
  std::vector<RecordInput> inputs;
  for (int i = 0; i < 50; ++i) inputs.push_back(Brief("p" + std::to_string(i), i));
  inputs[7].fields["attendees"] = -7;
  inputs[30].form = "nope";
  std::vector<std::string> ids;
  Status s = f.store->LogAll(inputs, &ids);
  REQUIRE(s.IsInvalidArgument());
  CHECK(s.message().find("2 of 50 records are invalid") != std::string::npos);
  CHECK(s.message().find("record 8:") != std::string::npos);
  CHECK(s.message().find("record 31:") != std::string::npos);
  CHECK(f.Count() == 0);
  CHECK(f.Outbox().empty());
  inputs[7].fields["attendees"] = 7;
  inputs[30].form = "street_brief";
  REQUIRE(f.store->LogAll(inputs, &ids).ok());
  CHECK(ids.size() == 50);
  CHECK(f.Count() == 50);
  CHECK(f.Outbox().size() == 50);
}

TEST_CASE("a partner return's id comes from its natural key, so re-entry updates it") {
  Fixture f;
  RecordInput in{"indicator_return",
                 {{"indicator", "da_op_foundation"}, {"fy", 2023}, {"quarter", "Q1"}, {"value", 4}},
                 {},
                 {},
                 {},
                 {},
                 {}};
  std::string a, b;
  REQUIRE(f.store->Log(in, &a).ok());
  in.fields["value"] = 6;
  f.clock.Advance(10);
  REQUIRE(f.store->Log(in, &b).ok());
  CHECK(a == b);
  CHECK(f.Count() == 1);
  RecordState r;
  REQUIRE(f.store->Get(a, &r).ok());
  CHECK(r.FieldValues()["value"] == 6);
  CHECK(f.Outbox().size() == 2);
  CHECK(f.store->Edit(a, {{"quarter", "Q2"}}, std::nullopt).IsInvalidArgument());
}

TEST_CASE("pulled states merge in and the cursor moves with them") {
  Fixture f;
  RecordState remote;
  remote.id = "r-remote";
  remote.form = "street_brief";
  remote.form_version = 1;
  remote.org = "police";
  remote.author = "bob";
  remote.device = "dev-b";
  // Stamped three hours ahead of this device's clock: within the tolerance for clocks.
  HlcStamp far = HybridClock::FromPhysical(1'700'000'000'000 + 3 * 3'600'000);
  remote.occurred_at = Register{"2023-06-01T10:00:00Z", far, "dev-b", 0};
  remote.deleted = Register{false, far, "dev-b", 0};
  remote.fields["place"] = {"B", far, "dev-b", 0};
  remote.fields["attendees"] = {3, far, "dev-b", 0};
  REQUIRE(f.store->ApplyPulled({remote}, "17").ok());
  StoreSummary sum;
  REQUIRE(f.store->Summary(&sum).ok());
  CHECK(sum.cursor == "17");
  CHECK(sum.records == 1);
  CHECK(sum.pending_changes == 0);  // pulled records are not pushed back
  // An edit made after seeing the remote stamp orders after it, whatever the local clock says.
  REQUIRE(f.store->Edit("r-remote", {{"attendees", 4}}, std::nullopt).ok());
  auto outbox = f.Outbox();
  REQUIRE(outbox.size() == 1);
  CHECK(outbox[0].change.fields.at("attendees").t > far);

  // A state stamped years ahead (a hostile device's, stored before the server refused them) is
  // neither applied nor observed: it would win every later write and overflow the clock.
  RecordState future = remote;
  future.id = "r-future";
  HlcStamp years = HybridClock::FromPhysical(1'900'000'000'000);
  future.occurred_at->t = future.deleted->t = years;
  for (auto& [name, r] : future.fields) r.t = years;
  REQUIRE(f.store->ApplyPulled({future}, "18").ok());
  REQUIRE(f.store->Summary(&sum).ok());
  CHECK(sum.cursor == "18");
  CHECK(sum.records == 1);
  REQUIRE(f.store->Edit("r-remote", {{"attendees", 5}}, std::nullopt).ok());
  outbox = f.Outbox();
  REQUIRE(outbox.size() == 2);
  CHECK(outbox[1].change.fields.at("attendees").t < years);
}

TEST_CASE("a pulled partner return replaces a local record that had taken its id") {
  Fixture f;
  json key = {{"indicator", "da_campaigns_supported"}, {"fy", 2023}, {"quarter", "Q3"}};
  std::string id = *NaturalKeyId(f.forms, "indicator_return", key, "police");
  HlcStamp t = HybridClock::FromPhysical(1'700'000'000'000);
  // A street brief that took the return's id before the server refused such ids.
  RecordState squatter =
      test::NewRecord(test::Envelope(id, "street_brief", "police", "mallory", "dev-m"), t,
                      "2023-10-01T10:00:00Z", {{"place", "X"}, {"attendees", 1}});
  REQUIRE(f.store->ApplyPulled({squatter}, "1").ok());
  // The server cleared it and the real return took the id: the device follows the server.
  json fields = key;
  fields["value"] = 3;
  RecordState ret = test::NewRecord(test::Envelope(id, "indicator_return", "csp", "pat", "dev-p"),
                                    t + 1, "2023-12-20T12:00:00Z", fields);
  REQUIRE(f.store->ApplyPulled({ret}, "2").ok());
  RecordState now;
  REQUIRE(f.store->Get(id, &now).ok());
  CHECK(now.form == "indicator_return");
  CHECK(now.author == "pat");
  CHECK(now.fields.count("place") == 0);
  CHECK(now.FieldValues()["value"] == 3);
}

TEST_CASE("acknowledging removes changes and keeps rejection reasons") {
  Fixture f;
  std::string a, b;
  REQUIRE(f.store->Log(Brief("a", 1), &a).ok());
  REQUIRE(f.store->Log(Brief("b", 2), &b).ok());
  auto outbox = f.Outbox();
  REQUIRE(f.store
              ->Acknowledge({outbox[0].seq, outbox[1].seq},
                            {{outbox[1].change_id, b, "field 'x' is wrong", 5}})
              .ok());
  CHECK(f.Outbox().empty());
  std::vector<Rejection> rejections;
  REQUIRE(f.store->Rejections(&rejections).ok());
  REQUIRE(rejections.size() == 1);
  CHECK(rejections[0].record_id == b);
  CHECK(rejections[0].reason == "field 'x' is wrong");
  CHECK(f.Count() == 2);  // a rejected record stays on the device

  // Fixed and sent again: once the server takes its change, it no longer needs fixing.
  REQUIRE(f.store->Edit(b, {{"attendees", 3}}, std::nullopt).ok());
  outbox = f.Outbox();
  REQUIRE(outbox.size() == 1);
  // The fix carries the whole record: the server may never have taken its first change.
  CHECK(outbox[0].change.occurred_at.has_value());
  CHECK(outbox[0].change.fields.count("place") == 1);
  CHECK(outbox[0].change.fields.at("attendees").v == 3);
  REQUIRE(f.store->Acknowledge({outbox[0].seq}, {}).ok());
  rejections.clear();
  REQUIRE(f.store->Rejections(&rejections).ok());
  CHECK(rejections.empty());
}

TEST_CASE("opening a missing or broken store fails clearly") {
  test::TempDir dir;
  std::unique_ptr<LocalStore> store;
  Status s = LocalStore::Open(dir / "nothing", {}, &store);
  CHECK(s.IsNotFound());
  CHECK(s.message().find("field_client init") != std::string::npos);
  {
    std::filesystem::create_directories(dir / "junk");
    std::FILE* fp = std::fopen((dir / "junk/beatbook.db").c_str(), "w");
    std::fputs("this is not a database, just some text that is long enough to matter......", fp);
    std::fclose(fp);
  }
  s = LocalStore::Open(dir / "junk", {}, &store);
  CHECK_FALSE(s.ok());
  CHECK(s.message().find("junk") != std::string::npos);
}

TEST_CASE("a new server epoch queues again what this device wrote and pulls from the start") {
  Fixture f;
  std::string mine, theirs;
  RecordInput in = Brief("Jewry Street", 12);
  in.occurred_at = "2023-06-01T22:15:00+01:00";
  REQUIRE(f.store->Log(in, &mine).ok());
  REQUIRE(f.store->Edit(mine, {{"attendees", 14}}, std::nullopt).ok());
  // A record another device created and this one never touched, pulled from the server.
  RecordState other =
      test::NewRecord(test::Envelope("rec-other", "street_brief", "police", "ben", "dev-b"), 1000,
                      "2023-06-02T21:00:00Z", {{"place", "Market"}, {"attendees", 3}});
  REQUIRE(f.store->ApplyPulled({other}, "42").ok());
  // Everything was acknowledged: the outbox is empty.
  std::vector<std::int64_t> seqs;
  for (const auto& e : f.Outbox()) seqs.push_back(e.seq);
  REQUIRE(f.store->Acknowledge(seqs, {}).ok());
  REQUIRE(f.Outbox().empty());

  bool changed = true;
  std::int64_t resent = -1;
  // The first epoch a device hears is only kept.
  REQUIRE(f.store->NoteServerEpoch("e1", &changed, &resent).ok());
  CHECK(!changed);
  CHECK(resent == 0);
  REQUIRE(f.store->NoteServerEpoch("e1", &changed, &resent).ok());
  CHECK(!changed);
  CHECK(f.Outbox().empty());

  // A different one: this device's writes go again, with their own stamps; nothing of dev-b's.
  REQUIRE(f.store->NoteServerEpoch("e2", &changed, &resent).ok());
  CHECK(changed);
  CHECK(resent == 1);
  std::vector<OutboxEntry> queued = f.Outbox();
  REQUIRE(queued.size() == 1);
  CHECK(queued[0].record_id == mine);
  RecordState stored;
  REQUIRE(f.store->Get(mine, &stored).ok());
  const RecordState& change = queued[0].change;
  CHECK(change.occurred_at->t == stored.occurred_at->t);
  CHECK(change.fields.at("attendees").v == 14);
  CHECK(change.fields.at("attendees").t == stored.fields.at("attendees").t);
  CHECK(change.fields.at("place").d == "dev-a");
  StoreSummary summary;
  REQUIRE(f.store->Summary(&summary).ok());
  CHECK(summary.cursor == "0");
  std::string epoch;
  REQUIRE(f.store->ServerEpoch(&epoch).ok());
  CHECK(epoch == "e2");
  // Seen again, it changes nothing more.
  REQUIRE(f.store->NoteServerEpoch("e2", &changed, &resent).ok());
  CHECK(!changed);
  CHECK(f.Outbox().size() == 1);
}

TEST_CASE("the worker's language is remembered by their store, and only a declared one") {
  test::TempDir schema;
  test::WritePseudoSchema(schema / "schema");
  test::TempDir dir;
  ManualClock clock(1'700'000'000'000);
  FormSet forms;
  REQUIRE(FormSet::LoadDir(schema / "schema", &forms).ok());
  Identity id;
  id.user = "sam";
  id.org = "street_pastors";
  id.device_id = "dev-s";
  LocalStoreOptions options;
  options.clock = &clock;
  std::unique_ptr<LocalStore> store;
  REQUIRE(LocalStore::Create(dir.path(), id, forms, options, &store).ok());
  std::string language;
  REQUIRE(store->Language(&language).ok());
  CHECK(language == "en");  // not chosen yet: the default

  REQUIRE(store->SetLanguage("en-XA").ok());
  Status s = store->SetLanguage("cy");
  CHECK(s.IsInvalidArgument());
  CHECK(s.message().find("'cy'") != std::string::npos);
  CHECK(s.message().find("en-XA (Pseudo (test))") != std::string::npos);
  store.reset();
  REQUIRE(LocalStore::Open(dir.path(), options, &store).ok());
  REQUIRE(store->Language(&language).ok());
  CHECK(language == "en-XA");  // kept, and the refused one changed nothing

  // Forms from a server that no longer has the language: back to the default, nothing refused.
  FormSet english;
  REQUIRE(FormSet::LoadDir(test::SchemaDir(), &english).ok());
  REQUIRE(store->ReplaceForms(english).ok());
  REQUIRE(store->Language(&language).ok());
  CHECK(language == "en");
}
