// One conformance suite for the CentralStore interface (store/central_store.h), run against the
// embedded SQLite store and the PostgreSQL store alike: what every implementation must do.
#include <map>
#include <set>
#include <utility>

#include "beatbook/clock.h"
#include "beatbook/tunables.h"
#include "store_fixture.h"

using namespace beatbook;
using namespace beatbook::server;
using nlohmann::json;

namespace {

constexpr std::int64_t kNow = 1'700'000'000'000;

RecordState Brief(const std::string& id, const std::string& org, HlcStamp t, int attendees) {
  RecordState s;
  s.id = id;
  s.form = "street_brief";
  s.form_version = 1;
  s.org = org;
  s.author = "amy";
  s.device = "dev-a";
  s.occurred_at = Register{"2023-06-01T21:00:00Z", t, "dev-a", 0};
  s.deleted = Register{false, t, "dev-a", 0};
  s.fields["place"] = Register{"Jewry Street", t, "dev-a", 0};
  s.fields["attendees"] = Register{attendees, t, "dev-a", 0};
  return s;
}

Status SaveAll(CentralStore& store, const std::vector<RecordState>& states) {
  return store.Write([&](WriteTxn& txn) {
    for (const auto& s : states) BB_RETURN_IF_ERROR(txn.SaveRecord(s));
    return Status::OK();
  });
}

// Every state the change feed returns for `scope`, following the cursor page by page.
std::vector<std::string> PullAll(CentralStore& store, const PullScope& scope, std::size_t page) {
  std::vector<std::string> ids;
  std::string cursor = "0";
  for (int guard = 0; guard < 1000; ++guard) {
    ChangePage p;
    REQUIRE(store.ReadChanges(cursor, scope, page, &p).ok());
    for (const auto& text : p.states) ids.push_back(json::parse(text)["id"]);
    cursor = p.cursor;
    if (!p.more) break;
  }
  return ids;
}

EnrolRequest Request(const std::string& token, const std::string& device_id) {
  EnrolRequest r;
  r.token = token;
  r.device_id = device_id;
  r.device_name = "tablet";
  r.secret = "secret-of-" + device_id;
  return r;
}

}  // namespace

STORE_TEST("a token enrols one device once, before it expires, for the roles allowed") {
  REQUIRE(
      store.CreateToken("tok-1", {"amy", "police", Role::kFieldWorker, kNow + 1000}, kNow, nullptr)
          .ok());
  REQUIRE(store
              .CreateToken("tok-old", {"bob", "police", Role::kFieldWorker, kNow - 1}, kNow - 10,
                           nullptr)
              .ok());
  EnrolRequest dashboard = Request("tok-1", "dev-dash");
  dashboard.client = "dashboard";
  dashboard.roles_allowed = {Role::kCoordinator, Role::kBoard};
  CHECK(store.Enrol(dashboard, kNow, nullptr).code() == Status::Code::kPermissionDenied);

  DeviceInfo d;
  REQUIRE(store.Enrol(Request("tok-1", "dev-1"), kNow, &d).ok());  // still unused
  CHECK(d.user == "amy");
  CHECK(d.role == Role::kFieldWorker);
  CHECK(store.Enrol(Request("tok-1", "dev-2"), kNow, &d).code() == Status::Code::kUnauthenticated);
  CHECK(store.Enrol(Request("tok-old", "dev-3"), kNow, &d).code() ==
        Status::Code::kUnauthenticated);
  CHECK(store.Enrol(Request("tok-none", "dev-4"), kNow, &d).code() ==
        Status::Code::kUnauthenticated);

  DeviceInfo who;
  REQUIRE(store.Authenticate("dev-1", "secret-of-dev-1", &who).ok());
  CHECK(who.org == "police");
  CHECK(who.client == "tablet");
  CHECK(store.Authenticate("dev-1", "wrong", &who).code() == Status::Code::kUnauthenticated);
  CHECK(store.Authenticate("dev-9", "secret-of-dev-1", &who).code() ==
        Status::Code::kUnauthenticated);

  std::vector<DeviceInfo> devices;
  REQUIRE(store.ListDevices(&devices).ok());
  REQUIRE(devices.size() == 1);
  CHECK(devices[0].id == "dev-1");
  std::vector<AuditEvent> audit;
  REQUIRE(store.ReadAudit({}, &audit).ok());
  REQUIRE(audit.size() == 1);
  CHECK(audit[0].action == "enrol");
}

STORE_TEST("a rotated secret works beside the old one until first used, then alone") {
  REQUIRE(store.CreateToken("t", {"amy", "police", Role::kFieldWorker, kNow + 1000}, kNow, nullptr)
              .ok());
  DeviceInfo d;
  REQUIRE(store.Enrol(Request("t", "dev-1"), kNow, &d).ok());
  REQUIRE(store.StartRotation("dev-1", "new-secret", kNow).ok());
  CHECK(store.Authenticate("dev-1", "secret-of-dev-1", &d).ok());
  CHECK(store.Authenticate("dev-1", "new-secret", &d).ok());
  CHECK(store.Authenticate("dev-1", "secret-of-dev-1", &d).code() ==
        Status::Code::kUnauthenticated);
  CHECK(store.Authenticate("dev-1", "new-secret", &d).ok());

  AuditEvent revoke{0, kNow, "admin", "operator", "", "", "revoke", json::object()};
  REQUIRE(store.RevokeDevice("dev-1", &d, &revoke).ok());
  CHECK(d.revoked);
  REQUIRE(store.Authenticate("dev-1", "new-secret", &d).ok());
  CHECK(d.revoked);
  CHECK(store.RevokeDevice("dev-404", &d, nullptr).code() == Status::Code::kNotFound);
}

STORE_TEST("the change feed pages by cursor, filters by org, and sends a changed record again") {
  std::vector<RecordState> first;
  for (int i = 0; i < 7; ++i) {
    first.push_back(Brief("r" + std::to_string(i), i % 2 ? "stop" : "police", 10 + i, i));
  }
  REQUIRE(SaveAll(store, first).ok());
  CHECK(PullAll(store, "", 3).size() == 7);
  CHECK(PullAll(store, "police", 2) == std::vector<std::string>({"r0", "r2", "r4", "r6"}));

  ChangePage page;
  REQUIRE(store.ReadChanges("0", "", 100, &page).ok());
  std::string cursor = page.cursor;
  CHECK_FALSE(page.more);
  REQUIRE(SaveAll(store, {Brief("r2", "police", 50, 99)}).ok());  // changed again: comes again
  REQUIRE(store.ReadChanges(cursor, "", 100, &page).ok());
  REQUIRE(page.states.size() == 1);
  CHECK(json::parse(page.states[0])["fields"]["attendees"]["v"] == 99);
  REQUIRE(store.ReadChanges(page.cursor, "", 100, &page).ok());
  CHECK(page.states.empty());

  CHECK(store.ReadChanges("nonsense", "", 10, &page).code() == Status::Code::kInvalidArgument);
  CHECK(store.ReadChanges("-4", "", 10, &page).code() == Status::Code::kInvalidArgument);
  REQUIRE(store.CheckIntegrity().ok());
}

STORE_TEST("a write that fails leaves nothing behind") {
  Status s = store.Write([&](WriteTxn& txn) {
    BB_RETURN_IF_ERROR(txn.SaveRecord(Brief("r1", "police", 10, 1)));
    BB_RETURN_IF_ERROR(txn.SaveBatch("dev-a", "b1", "{}", kNow));
    BB_RETURN_IF_ERROR(txn.Audit({0, kNow, "amy", "field_worker", "police", "dev-a", "push", {}}));
    return Status::InvalidArgument("the batch is malformed");
  });
  CHECK(s.code() == Status::Code::kInvalidArgument);
  CHECK(PullAll(store, "", 10).empty());
  std::string response;
  bool found = true;
  REQUIRE(store.FindBatch("dev-a", "b1", &response, &found).ok());
  CHECK_FALSE(found);
  std::vector<AuditEvent> audit;
  REQUIRE(store.ReadAudit({}, &audit).ok());
  CHECK(audit.empty());
}

STORE_TEST("the safeguarding queue: raised once, acknowledged once, its action recorded, purged") {
  RecordState r1 = Brief("r1", "police", 10, 4);
  auto raise = [&](std::int64_t at) {
    return store.Write([&](WriteTxn& txn) {
      BB_RETURN_IF_ERROR(txn.SaveRecord(r1));
      return txn.RaiseConcern("r1", "police", at);
    });
  };
  REQUIRE(raise(kNow).ok());
  REQUIRE(raise(kNow + 5).ok());  // already there: kept as first raised
  std::vector<SafeguardingConcern> queue;
  REQUIRE(store.Concerns(&queue).ok());
  REQUIRE(queue.size() == 1);
  CHECK(queue[0].record_id == "r1");
  CHECK(queue[0].raised_ms == kNow);
  CHECK(queue[0].acknowledged_ms == 0);
  CHECK(queue[0].record.fields["attendees"].v == 4);

  AuditEvent audit{0,
                   kNow,
                   "cleo",
                   "coordinator",
                   "csp",
                   "dev-c",
                   "safeguarding_acknowledge",
                   {{"record", "r1"}}};
  REQUIRE(
      store.FollowUpConcern("r1", ConcernStep::kAcknowledge, "cleo", "", kNow + 10, audit).ok());
  REQUIRE(store.FollowUpConcern("r1", ConcernStep::kAcknowledge, "dan", "", kNow + 20, audit).ok());
  audit.action = "safeguarding_action";
  REQUIRE(
      store.FollowUpConcern("r1", ConcernStep::kRecordAction, "dan", "Referred.", kNow + 30, audit)
          .ok());
  REQUIRE(store
              .FollowUpConcern("r1", ConcernStep::kRecordAction, "eve", "In a refuge.", kNow + 35,
                               audit)
              .ok());
  Status missing =
      store.FollowUpConcern("r2", ConcernStep::kAcknowledge, "cleo", "", kNow + 40, audit);
  CHECK(missing.code() == Status::Code::kNotFound);
  queue.clear();
  REQUIRE(store.Concerns(&queue).ok());
  REQUIRE(queue.size() == 1);
  CHECK(queue[0].acknowledged_ms == kNow + 10);  // the first acknowledgement stands
  CHECK(queue[0].acknowledged_by == "cleo");
  CHECK(queue[0].action == "In a refuge.");  // the latest on the queue's row
  CHECK(queue[0].action_ms == kNow + 35);
  CHECK(queue[0].action_by == "eve");
  REQUIRE(queue[0].actions.size() == 2);  // and every one kept, oldest first
  CHECK(queue[0].actions[0].text == "Referred.");
  CHECK(queue[0].actions[0].at_ms == kNow + 30);
  CHECK(queue[0].actions[0].by == "dan");
  CHECK(queue[0].actions[1].text == "In a refuge.");
  // Each step that happened is in the audit log; the refused one is not.
  std::vector<AuditEvent> events;
  REQUIRE(store.ReadAudit({}, &events).ok());
  CHECK(events.size() == 4);

  AuditEvent purge{0, kNow, "op", "operator", "", "", "purge", json::object()};
  REQUIRE(store.PurgeRecords({"r1"}, 0, purge).ok());
  queue.clear();
  REQUIRE(store.Concerns(&queue).ok());
  CHECK(queue.empty());
  // Raised again after the purge, nothing of the old actions comes back with it.
  REQUIRE(raise(kNow + 50).ok());
  queue.clear();
  REQUIRE(store.Concerns(&queue).ok());
  REQUIRE(queue.size() == 1);
  CHECK(queue[0].actions.empty());
}

STORE_TEST("records stored before the safeguarding queue join it once, when first asked") {
  RecordState yes = Brief("r-yes", "police", 10, 9);
  RecordState no = Brief("r-no", "police", 10, 1);
  RecordState gone = Brief("r-gone", "police", 10, 9);
  gone.deleted = Register{true, 11, "dev-a", 0};
  REQUIRE(SaveAll(store, {yes, no, gone}).ok());
  auto nine = [](const RecordState& r) { return r.fields.at("attendees").v == 9; };
  std::int64_t raised = -1;
  REQUIRE(store.RaiseEarlierConcerns(nine, kNow, &raised).ok());
  CHECK(raised == 1);  // not the deleted one
  std::vector<SafeguardingConcern> queue;
  REQUIRE(store.Concerns(&queue).ok());
  REQUIRE(queue.size() == 1);
  CHECK(queue[0].record_id == "r-yes");
  CHECK(queue[0].raised_ms == kNow);
  // Once only: a record stored later is raised by its push, not by this.
  REQUIRE(SaveAll(store, {Brief("r-later", "police", 12, 9)}).ok());
  REQUIRE(store.RaiseEarlierConcerns(nine, kNow + 1, &raised).ok());
  CHECK(raised == 0);
  queue.clear();
  REQUIRE(store.Concerns(&queue).ok());
  CHECK(queue.size() == 1);
}

STORE_TEST("records, batches, conflicts and rejections written in one transaction read back") {
  Conflict c{"r1", "attendees", Register{5, 20, "dev-b", 0}, Register{4, 15, "dev-a", 0}};
  REQUIRE(
      store
          .Write([&](WriteTxn& txn) {
            bool found = true;
            RecordState none;
            BB_RETURN_IF_ERROR(txn.LoadRecord("r1", &none, &found));
            if (found) return Status::Corruption("r1 exists before it was saved");
            BB_RETURN_IF_ERROR(txn.SaveRecord(Brief("r1", "police", 10, 4)));
            RecordState back;
            BB_RETURN_IF_ERROR(txn.LoadRecord("r1", &back, &found));
            if (!found || back.fields["attendees"].v != 4) {
              return Status::Corruption("a saved record does not read back in its txn");
            }
            BB_RETURN_IF_ERROR(txn.AddConflict(c, kNow));
            BB_RETURN_IF_ERROR(txn.AddConflict(c, kNow + 1));  // kept once
            BB_RETURN_IF_ERROR(txn.AddRejection({"dev-a", "ch-1", "r9", "field 'x': no", kNow}));
            BB_RETURN_IF_ERROR(txn.SaveBatch("dev-a", "b1", R"({"applied": 1})", kNow));
            return txn.NoteSync("dev-a", kNow, 3);
          })
          .ok());
  std::string response;
  bool found = false;
  REQUIRE(store.FindBatch("dev-a", "b1", &response, &found).ok());
  CHECK(found);
  CHECK(response == R"({"applied": 1})");
  std::vector<StoredConflict> conflicts;
  REQUIRE(store.Conflicts(&conflicts).ok());
  REQUIRE(conflicts.size() == 1);
  CHECK(conflicts[0].conflict.winner.v == 5);
  CHECK(conflicts[0].conflict.loser.d == "dev-a");
  std::vector<StoredRejection> rejections;
  REQUIRE(store.Rejections(&rejections).ok());
  REQUIRE(rejections.size() == 1);
  CHECK(rejections[0].reason == "field 'x': no");
  std::vector<RecordState> all;
  REQUIRE(store.AllRecords(&all).ok());
  REQUIRE(all.size() == 1);
  CHECK(all[0].ToJson() == Brief("r1", "police", 10, 4).ToJson());
}

STORE_TEST("running totals follow contributions: sums, distinct keys, milestones, one org") {
  REQUIRE(SaveAll(store, {Brief("a", "police", 10, 1), Brief("b", "stop", 11, 1),
                          Brief("c", "police", 12, 1)})
              .ok());
  REQUIRE(store
              .Write([&](WriteTxn& txn) {
                BB_RETURN_IF_ERROR(txn.SetContributions(
                    "a", {{"count_x", 2023, 1, 1, 0, "", ""}, {"people", 2023, 1, 1, 0, "k1", ""}},
                    10, kNow));
                BB_RETURN_IF_ERROR(txn.SetContributions(
                    "b", {{"count_x", 2023, 1, 1, 0, "", ""}, {"people", 2023, 2, 1, 0, "k1", ""}},
                    11, kNow));
                BB_RETURN_IF_ERROR(txn.SetContributions(
                    "c", {{"people", 2023, 1, 1, 0, "k2", ""}, {"plan", 2023, 1, 0, 0, "", "done"}},
                    12, kNow));
                return Status::OK();
              })
              .ok());
  auto figures = [&](const std::string& org) {
    std::vector<RawFigure> raw;
    REQUIRE(
        (org.empty() ? store.ReadFigures(2023, &raw) : store.ReadOrgFigures(2023, org, &raw)).ok());
    std::map<std::string, std::string> out;
    for (const auto& f : raw) {
      std::string key = f.indicator + "/Q" + std::to_string(f.quarter);
      out[key] += f.status.empty() ? std::to_string(static_cast<int>(f.value)) : f.status;
    }
    return out;
  };
  auto all = figures("");
  CHECK(all["count_x/Q1"] == "2");
  CHECK(all["people/Q1"] == "2");  // k1 and k2
  CHECK(all["people/Q2"] == "1");
  CHECK(all["people/Q0"] == "2");  // the year: k1 once
  CHECK(all["plan/Q1"] == "0done");
  auto police = figures("police");
  CHECK(police["count_x/Q1"] == "1");
  CHECK(police["people/Q1"] == "2");
  CHECK(police.count("people/Q2") == 0);
  CHECK(police["plan/Q1"] == "0done");

  // Replacing a record's contributions moves the totals by the difference.
  REQUIRE(store
              .Write([&](WriteTxn& txn) {
                return txn.SetContributions("a", {{"people", 2023, 1, 1, 0, "k2", ""}}, 13, kNow);
              })
              .ok());
  all = figures("");
  CHECK(all["count_x/Q1"] == "1");
  CHECK(all["people/Q1"] == "1");  // k2 only
  CHECK(all["people/Q0"] == "2");  // k1 (b, Q2) and k2

  std::vector<FigureSource> sources;
  REQUIRE(store.ExplainFigure("people", 2023, 1, &sources).ok());
  std::set<std::string> ids;
  for (const auto& s : sources) ids.insert(s.record_id);
  CHECK(ids == std::set<std::string>({"a", "c"}));

  // A rebuild recomputes every record with the catalogue's function, and keeps its version.
  REQUIRE(store
              .RebuildContributions(
                  7,
                  [](const RecordState&) {
                    return std::vector<Contribution>{{"count_x", 2023, 3, 1, 0, "", ""}};
                  })
              .ok());
  int version = 0;
  REQUIRE(store.ContributionsVersion(&version).ok());
  CHECK(version == 7);
  all = figures("");
  CHECK(all["count_x/Q3"] == "3");
  CHECK(all.count("people/Q1") == 0);
}

STORE_TEST("keys seen in two or more records are counted apart, for the quarter and the year") {
  // "repeat" figures (people seen twice or more) read RawFigure::n of a distinct indicator.
  REQUIRE(SaveAll(store, {Brief("a", "police", 10, 1), Brief("b", "police", 11, 1),
                          Brief("c", "police", 12, 1), Brief("d", "stop", 13, 1)})
              .ok());
  auto set = [&](const std::string& id, int quarter, const std::string& key) {
    REQUIRE(
        store
            .Write([&](WriteTxn& txn) {
              return txn.SetContributions(id, {{"seen", 2023, quarter, 1, 0, key, ""}}, 20, kNow);
            })
            .ok());
  };
  // k1 twice in Q1 and once in Q2; k2 once in Q1 (from another org).
  set("a", 1, "k1");
  set("b", 1, "k1");
  set("c", 2, "k1");
  set("d", 1, "k2");
  auto repeated = [&](const std::string& org) {
    std::vector<RawFigure> raw;
    REQUIRE(
        (org.empty() ? store.ReadFigures(2023, &raw) : store.ReadOrgFigures(2023, org, &raw)).ok());
    std::map<int, std::pair<int, int>> out;  // quarter -> (distinct keys, keys seen twice+)
    for (const auto& f : raw) {
      if (f.indicator == "seen")
        out[f.quarter] = {static_cast<int>(f.value), static_cast<int>(f.n)};
    }
    return out;
  };
  auto all = repeated("");
  CHECK(all[1] == std::make_pair(2, 1));  // k1 (twice) and k2
  CHECK(all[2] == std::make_pair(1, 0));
  CHECK(all[0] == std::make_pair(2, 1));  // the year: k1 three times
  auto police = repeated("police");
  CHECK(police[1] == std::make_pair(1, 1));
  CHECK(police[0] == std::make_pair(1, 1));
  // Moving b's contact to Q3: k1 is no longer repeated in Q1, still in the year.
  set("b", 3, "k1");
  all = repeated("");
  CHECK(all[1] == std::make_pair(2, 0));
  CHECK(all[3] == std::make_pair(1, 0));
  CHECK(all[0] == std::make_pair(2, 1));
  // Several changes in one transaction are summed before they are written.
  REQUIRE(store
              .Write([&](WriteTxn& txn) {
                BB_RETURN_IF_ERROR(
                    txn.SetContributions("d", {{"seen", 2023, 2, 1, 0, "k1", ""}}, 21, kNow));
                return txn.SetContributions("c", {}, 21, kNow);
              })
              .ok());
  all = repeated("");
  CHECK(all[1] == std::make_pair(1, 0));  // a's k1
  CHECK(all[2] == std::make_pair(1, 0));  // d's k1 (c's is gone)
  CHECK(all[0] == std::make_pair(1, 1));  // k1 in a, b and d; k2 gone
}

STORE_TEST("a purge leaves the envelope, numbers it anew, drops quotes of values, keeps figures") {
  REQUIRE(SaveAll(store, {Brief("old", "police", 10, 3), Brief("new", "police", 11, 4)}).ok());
  REQUIRE(store
              .Write([&](WriteTxn& txn) {
                BB_RETURN_IF_ERROR(
                    txn.SetContributions("old", {{"count_x", 2020, 1, 1, 0, "", ""}}, 10, kNow));
                BB_RETURN_IF_ERROR(txn.AddConflict(
                    {"old", "place", Register{"A", 20, "dev-b", 0}, Register{"B", 15, "dev-a", 0}},
                    kNow));
                BB_RETURN_IF_ERROR(txn.AddRejection({"dev-a", "ch", "old", "'B' is wrong", kNow}));
                return txn.SaveBatch("dev-a", "ancient", "{}", kNow - 1000);
              })
              .ok());
  ChangePage page;
  REQUIRE(store.ReadChanges("0", "", 100, &page).ok());
  std::string cursor = page.cursor;
  REQUIRE(store
              .PurgeRecords({"old", "missing"}, kNow,
                            {0, kNow, "op", "operator", "", "", "purge", json::object()})
              .ok());
  REQUIRE(store.ReadChanges(cursor, "", 100, &page).ok());
  REQUIRE(page.states.size() == 1);  // the purge is a change devices pull
  json purged = json::parse(page.states[0]);
  CHECK(purged["id"] == "old");
  CHECK(purged["purged"] == true);
  CHECK(page.states[0].find("Jewry Street") == std::string::npos);
  std::vector<StoredConflict> conflicts;
  REQUIRE(store.Conflicts(&conflicts).ok());
  CHECK(conflicts.empty());
  std::vector<StoredRejection> rejections;
  REQUIRE(store.Rejections(&rejections).ok());
  CHECK(rejections.empty());
  bool found = true;
  std::string response;
  REQUIRE(store.FindBatch("dev-a", "ancient", &response, &found).ok());
  CHECK_FALSE(found);
  std::vector<RawFigure> figures;
  REQUIRE(store.ReadFigures(2020, &figures).ok());
  REQUIRE(figures.size() == 1);
  CHECK(figures[0].value == 1);  // counted before, still counted
  REQUIRE(store.CheckIntegrity().ok());
}

STORE_TEST("approvals and their audit entries, the subject secret, audit queries") {
  Approval a;
  a.fy = 2023;
  a.quarter = 1;
  a.kind = "approval";
  a.user = "cleo";
  a.at_ms = kNow;
  a.catalogue_version = 3;
  a.report = {{"fy", 2023}, {"indicators", json::array()}};
  REQUIRE(
      store.AddApproval(a, {0, kNow, "cleo", "coordinator", "csp", "dev-c", "approve", {}}).ok());
  a.kind = "restatement";
  REQUIRE(store.AddApproval(a, {0, kNow + 5, "cleo", "coordinator", "csp", "dev-c", "approve", {}})
              .ok());
  std::vector<Approval> approvals;
  REQUIRE(store.Approvals(2023, &approvals).ok());
  REQUIRE(approvals.size() == 2);
  CHECK(approvals[0].kind == "approval");
  CHECK(approvals[1].kind == "restatement");
  CHECK(approvals[1].report == a.report);
  approvals.clear();
  REQUIRE(store.Approvals(2024, &approvals).ok());
  CHECK(approvals.empty());

  std::string secret, again;
  REQUIRE(store.SubjectSecret(&secret).ok());
  REQUIRE(store.SubjectSecret(&again).ok());
  CHECK(secret.size() >= 32);
  CHECK(secret == again);

  REQUIRE(store.Audit({0, kNow + 10, "amy", "field_worker", "police", "dev-a", "pull", {}}).ok());
  std::vector<AuditEvent> events;
  REQUIRE(store.ReadAudit({}, &events).ok());
  REQUIRE(events.size() == 3);
  CHECK(events[0].seq < events[1].seq);
  events.clear();
  AuditQuery q;
  q.actor = "cleo";
  q.limit = 1;
  REQUIRE(store.ReadAudit(q, &events).ok());
  REQUIRE(events.size() == 1);
  CHECK(events[0].at_ms == kNow + 5);  // the most recent one
}

STORE_TEST("the epoch is made once and changed only by NewEpoch, and backups and size are noted") {
  std::string epoch, again, fresh, after;
  REQUIRE(store.Epoch(&epoch).ok());
  REQUIRE(store.Epoch(&again).ok());
  CHECK(!epoch.empty());
  CHECK(epoch == again);
  REQUIRE(store.NewEpoch(&fresh).ok());
  CHECK(fresh != epoch);
  REQUIRE(store.Epoch(&after).ok());
  CHECK(after == fresh);

  std::int64_t at = -1;
  REQUIRE(store.LastBackup(&at).ok());
  CHECK(at == 0);
  REQUIRE(store.NoteBackup(kNow).ok());
  REQUIRE(store.NoteBackup(kNow + 1000).ok());
  REQUIRE(store.LastBackup(&at).ok());
  CHECK(at == kNow + 1000);

  // (How it grows is engine-specific; on PostgreSQL other tests share the database.)
  std::int64_t bytes = 0;
  REQUIRE(store.StoreBytes(&bytes).ok());
  CHECK(bytes > 0);
}

STORE_TEST("a batch locked and read at once, saved twice and counted twice, is written once") {
  REQUIRE(SaveAll(store, {Brief("old", "police", 10, 1)}).ok());
  REQUIRE(store
              .Write([&](WriteTxn& txn) {
                return txn.SetContributions("old", {{"count_x", 2023, 1, 1, 0, "", ""}}, 10, kNow);
              })
              .ok());
  REQUIRE(store
              .Write([&](WriteTxn& txn) {
                // Ids out of order and repeated, some stored and some not.
                BB_RETURN_IF_ERROR(txn.LockRecords({"new", "old", "new", "other"}));
                RecordState s;
                bool found = true;
                BB_RETURN_IF_ERROR(txn.LoadRecord("new", &s, &found));
                CHECK(!found);
                BB_RETURN_IF_ERROR(txn.LoadRecord("old", &s, &found));
                CHECK(found);
                CHECK(s.FieldValues()["attendees"] == 1);
                // A new record saved, read back, changed and saved again in the same batch.
                BB_RETURN_IF_ERROR(txn.SaveRecord(Brief("new", "police", 20, 5)));
                BB_RETURN_IF_ERROR(
                    txn.SetContributions("new", {{"count_x", 2023, 1, 5, 0, "", ""}}, 20, kNow));
                BB_RETURN_IF_ERROR(txn.LoadRecord("new", &s, &found));
                CHECK(found);
                CHECK(s.FieldValues()["attendees"] == 5);
                BB_RETURN_IF_ERROR(txn.ReadRecord("new", &s, &found));
                CHECK(found);
                BB_RETURN_IF_ERROR(txn.SaveRecord(Brief("new", "police", 21, 6)));
                BB_RETURN_IF_ERROR(
                    txn.SetContributions("new", {{"count_x", 2023, 1, 6, 0, "", ""}}, 21, kNow));
                // The stored one changed: its old contribution leaves the total.
                BB_RETURN_IF_ERROR(txn.SaveRecord(Brief("old", "police", 22, 2)));
                BB_RETURN_IF_ERROR(
                    txn.SetContributions("old", {{"count_x", 2023, 1, 2, 0, "", ""}}, 22, kNow));
                // Locked again: what this transaction saved stays what it reads.
                BB_RETURN_IF_ERROR(txn.LockRecords({"old", "new"}));
                BB_RETURN_IF_ERROR(txn.LoadRecord("old", &s, &found));
                CHECK(s.FieldValues()["attendees"] == 2);
                return Status::OK();
              })
              .ok());
  std::vector<RecordState> all;
  REQUIRE(store.AllRecords(&all).ok());
  REQUIRE(all.size() == 2);
  std::map<std::string, json> values;
  for (const auto& s : all) values[s.id] = s.FieldValues();
  CHECK(values["new"]["attendees"] == 6);
  CHECK(values["old"]["attendees"] == 2);
  std::vector<RawFigure> raw;
  REQUIRE(store.ReadFigures(2023, &raw).ok());
  double q1 = -1;
  for (const auto& f : raw) {
    if (f.indicator == "count_x" && f.quarter == 1) q1 = f.value;
  }
  CHECK(q1 == 8);  // 6 + 2: each record counted once, with its last contribution
  std::vector<FigureSource> sources;
  REQUIRE(store.ExplainFigure("count_x", 2023, 1, &sources).ok());
  CHECK(sources.size() == 2);
  // Both are in the change feed, once each.
  ChangePage page;
  REQUIRE(store.ReadChanges("0", PullScope("police"), 100, &page).ok());
  CHECK(page.states.size() == 2);
}

STORE_TEST("change feed: each scope reads its own records in the order they were saved") {
  // Saved one by one, so each has the next number: police, the partnership's (one of them a
  // return, the form it shares with partner leads) and housing's, interleaved.
  auto in = [](const std::string& id, const std::string& org, const std::string& form) {
    RecordState s = Brief(id, org, 10, 1);
    s.form = form;
    return s;
  };
  for (const RecordState& s :
       {in("p1", "police", "street_brief"), in("c1", "csp", "street_brief"),
        in("r1", "csp", "partner_return"), in("w1", "wcc", "street_brief"),
        in("p2", "police", "street_brief"), in("r2", "csp", "partner_return"),
        in("p3", "police", "street_brief")}) {
    REQUIRE(SaveAll(store, {s}).ok());
  }
  PullScope lead("police");
  lead.shared_org = "csp";
  lead.shared_form = "partner_return";
  using Ids = std::vector<std::string>;
  for (std::size_t page : {1, 2, 3, 100}) {
    CAPTURE(page);
    CHECK(PullAll(store, "", page) == Ids{"p1", "c1", "r1", "w1", "p2", "r2", "p3"});
    CHECK(PullAll(store, "police", page) == Ids{"p1", "p2", "p3"});
    CHECK(PullAll(store, "csp", page) == Ids{"c1", "r1", "r2"});
    CHECK(PullAll(store, lead, page) == Ids{"p1", "r1", "p2", "r2", "p3"});
    CHECK(PullAll(store, "nobody", page).empty());
  }
}

STORE_TEST("photos: chunks in order from each device, stored once, noted per record, purged") {
  const std::string name = std::string(64, 'a') + ".png";
  const std::string bytes = "0123456789abcdefghij";
  UploadProgress p;
  REQUIRE(store.ReadUploadProgress("dev-a", name, &p).ok());
  CHECK_FALSE(p.complete);
  CHECK(p.received == 0);
  CHECK(p.total == 0);

  REQUIRE(store.AddUploadPart("dev-a", name, 0, 20, bytes.substr(0, 8), kNow).ok());
  // Out of order, or a different total: refused, nothing stored.
  CHECK(store.AddUploadPart("dev-a", name, 4, 20, "xxxx", kNow).IsFailedPrecondition());
  CHECK(store.AddUploadPart("dev-a", name, 8, 21, bytes.substr(8), kNow).IsFailedPrecondition());
  // Another device's upload of the same photo is its own.
  REQUIRE(store.AddUploadPart("dev-b", name, 0, 20, "zz", kNow).ok());
  REQUIRE(store.ReadUploadProgress("dev-a", name, &p).ok());
  CHECK(p.received == 8);
  CHECK(p.total == 20);
  REQUIRE(store.AddUploadPart("dev-a", name, 8, 20, bytes.substr(8), kNow + 1).ok());
  std::string joined;
  REQUIRE(store.ReadUploadParts("dev-a", name, &joined).ok());
  CHECK(joined == bytes);

  REQUIRE(store.StoreAttachment("dev-a", name, "r1", "photo", joined, kNow + 2).ok());
  REQUIRE(store.ReadUploadProgress("dev-a", name, &p).ok());
  CHECK(p.complete);
  std::string read;
  bool found = false;
  REQUIRE(store.ReadAttachment(name, &read, &found).ok());
  CHECK(found);
  CHECK(read == bytes);
  // A second record with the same photo is noted without its bytes.
  REQUIRE(store.StoreAttachment("dev-c", name, "r2", "photo", "", kNow + 3).ok());
  std::set<std::string> stored;
  REQUIRE(store.StoredAttachments({name, std::string(64, 'b') + ".jpg"}, &stored).ok());
  CHECK(stored == std::set<std::string>{name});

  // An unfinished upload untouched for long is dropped; a recent one is not.
  std::int64_t dropped = -1;
  REQUIRE(store.DropStaleUploads(kNow + 1, &dropped).ok());
  CHECK(dropped == 1);  // dev-b's
  REQUIRE(store.ReadUploadProgress("dev-b", name, &p).ok());
  CHECK(p.received == 0);

  // The photo goes when the last record naming it is purged.
  REQUIRE(SaveAll(store, {Brief("r1", "police", 10, 1), Brief("r2", "police", 10, 2)}).ok());
  AuditEvent audit{0, kNow, "operator", "operator", "", "", "purge", {}};
  REQUIRE(store.PurgeRecords({"r1"}, 0, audit).ok());
  REQUIRE(store.ReadAttachment(name, &read, &found).ok());
  CHECK(found);
  REQUIRE(store.PurgeRecords({"r2"}, 0, audit).ok());
  REQUIRE(store.ReadAttachment(name, &read, &found).ok());
  CHECK_FALSE(found);
}

STORE_TEST("photos: a device's unfinished uploads together are bounded") {
  const std::string big(tunables::kMaxAttachmentBytes, 'x');
  const auto total = static_cast<std::int64_t>(big.size());
  const std::string a = std::string(64, '1') + ".jpg", b = std::string(64, '2') + ".jpg",
                    c = std::string(64, '3') + ".jpg";
  REQUIRE(store.AddUploadPart("dev-a", a, 0, total, big, kNow).ok());
  REQUIRE(store.AddUploadPart("dev-a", b, 0, total, big, kNow).ok());
  Status s = store.AddUploadPart("dev-a", c, 0, 10, "0123456789", kNow);
  CHECK(s.code() == Status::Code::kResourceExhausted);
  CHECK(s.message().find("not finished sending") != std::string::npos);
  UploadProgress p;
  REQUIRE(store.ReadUploadProgress("dev-a", c, &p).ok());
  CHECK(p.received == 0);
  // Another device is not held up by this one.
  REQUIRE(store.AddUploadPart("dev-b", c, 0, 10, "0123456789", kNow).ok());
}
