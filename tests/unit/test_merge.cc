#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <random>

#include "beatbook/record.h"
#include "support/seed.h"

using namespace beatbook;

namespace {

RecordState Envelope() {
  RecordState s;
  s.id = "r1";
  s.form = "street_brief";
  s.form_version = 1;
  s.org = "police";
  s.author = "amy";
  s.device = "dev-a";
  return s;
}

// A random change: some registers with small stamps, so ties and collisions are frequent.
RecordState RandomChange(std::mt19937_64& rng) {
  RecordState c = Envelope();
  std::uniform_int_distribution<int> stamp(1, 6), dev(0, 2), val(0, 3), coin(0, 1);
  const char* devices[] = {"dev-a", "dev-b", "dev-c"};
  // As when a natural-key record is created on several devices.
  c.device = devices[dev(rng)];
  c.author = "user-" + c.device;
  auto reg = [&] {
    std::string d = devices[dev(rng)];
    HlcStamp t = stamp(rng);
    // The value is a function of (t, d): one write never carries two values.
    return Register{json(d + "@" + std::to_string(t)), t, d, 0};
  };
  if (coin(rng)) c.occurred_at = reg();
  if (coin(rng)) c.deleted = Register{json(true), stamp(rng), devices[dev(rng)], 0};
  for (const char* f : {"place", "attendees", "topics"}) {
    if (coin(rng)) c.fields[f] = reg();
  }
  if (rng() % 8 == 0) {  // the server's retention purge: absorbs everything else
    c.occurred_at.reset();
    c.deleted.reset();
    c.fields.clear();
    c.purged = true;
  }
  (void)val;
  return c;
}

RecordState Apply(std::vector<RecordState> changes) {
  RecordState s;
  for (const auto& c : changes) Merge(&s, c);
  return s;
}

}  // namespace

TEST_CASE("merge is commutative, associative and idempotent, purges included (seeded, 500 cases)") {
  std::uint64_t seed = test::Seed();
  INFO("seed " << seed << " (replay with BEATBOOK_SEED=" << seed << ")");
  std::mt19937_64 rng(seed);
  for (int i = 0; i < 500; ++i) {
    std::vector<RecordState> changes;
    int n = 1 + static_cast<int>(rng() % 6);
    for (int k = 0; k < n; ++k) changes.push_back(RandomChange(rng));
    json expected = Apply(changes).ToJson();
    // Any order.
    auto shuffled = changes;
    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    CHECK(Apply(shuffled).ToJson() == expected);
    // Any duplication.
    auto doubled = changes;
    doubled.insert(doubled.end(), changes.begin(), changes.end());
    std::shuffle(doubled.begin(), doubled.end(), rng);
    CHECK(Apply(doubled).ToJson() == expected);
    // Any grouping: merge two halves separately, then merge the results.
    size_t cut = rng() % changes.size();
    RecordState left = Apply({changes.begin(), changes.begin() + static_cast<long>(cut)});
    RecordState right = Apply({changes.begin() + static_cast<long>(cut), changes.end()});
    RecordState joined = right;
    if (!left.id.empty()) Merge(&joined, left);
    CHECK(joined.ToJson() == expected);
  }
}

TEST_CASE("the later stamp wins per field, and ties go to the larger device id") {
  RecordState s = Envelope();
  s.fields["place"] = {"old", 10, "dev-a", 0};
  RecordState c = Envelope();
  c.fields["place"] = {"new", 11, "dev-a", 10};
  CHECK(Merge(&s, c).changed);
  CHECK(s.fields["place"].v == "new");
  RecordState tie = Envelope();
  tie.fields["place"] = {"tie", 11, "dev-b", 0};
  Merge(&s, tie);
  CHECK(s.fields["place"].v == "tie");
  RecordState older = Envelope();
  older.fields["place"] = {"stale", 5, "dev-z", 0};
  CHECK_FALSE(Merge(&s, older).changed);
  CHECK(s.fields["place"].v == "tie");
}

TEST_CASE("a delete is a tombstone that later edits do not undo") {
  RecordState s = Envelope();
  s.deleted = Register{false, 1, "dev-a", 0};
  s.fields["place"] = {"x", 1, "dev-a", 0};
  RecordState del = Envelope();
  del.deleted = Register{true, 5, "dev-b", 1};
  Merge(&s, del);
  RecordState edit = Envelope();
  edit.fields["place"] = {"y", 9, "dev-a", 1};
  Merge(&s, edit);
  CHECK(s.IsDeleted());
  CHECK(s.fields["place"].v == "y");  // the edit is kept, but the record stays deleted
}

TEST_CASE("concurrent writes are reported once as conflicts, sequential ones not at all") {
  RecordState s = Envelope();
  s.fields["attendees"] = {json(10), 100, "dev-a", 0};
  // dev-b saw stamp 100 and changed it: sequential.
  RecordState seq = Envelope();
  seq.fields["attendees"] = {json(12), 200, "dev-b", 100};
  MergeResult r = Merge(&s, seq);
  CHECK(r.conflicts.empty());
  // dev-c never saw 200 (its base is 100): concurrent, and it loses.
  RecordState conc = Envelope();
  conc.fields["attendees"] = {json(15), 150, "dev-c", 100};
  r = Merge(&s, conc);
  REQUIRE(r.conflicts.size() == 1);
  CHECK(r.conflicts[0].field == "attendees");
  CHECK(r.conflicts[0].winner.v == 12);
  CHECK(r.conflicts[0].loser.v == 15);
  CHECK(s.fields["attendees"].v == 12);
  // dev-d never saw 200 either but writes later: concurrent, and it wins.
  RecordState later = Envelope();
  later.fields["attendees"] = {json(20), 300, "dev-d", 100};
  r = Merge(&s, later);
  REQUIRE(r.conflicts.size() == 1);
  CHECK(r.conflicts[0].loser.v == 12);
  CHECK(s.fields["attendees"].v == 20);
  // The same change again: nothing new.
  CHECK(Merge(&s, later).conflicts.empty());
}

TEST_CASE("record states round-trip through JSON, and bad ones are refused") {
  RecordState s = Envelope();
  s.occurred_at = Register{"2023-06-01T10:00:00Z", 7, "dev-a", 0};
  s.fields["topics"] = {json({"asb", "nte"}), 7, "dev-a", 3};
  RecordState back;
  REQUIRE(RecordState::FromJson(s.ToJson(true), &back).ok());
  CHECK(back.ToJson(true) == s.ToJson(true));
  CHECK(back.fields["topics"].b == 3);
  json bad = s.ToJson();
  bad["fields"]["topics"]["t"] = "soon";
  CHECK(RecordState::FromJson(bad, &back).IsInvalidArgument());
  bad = s.ToJson();
  bad.erase("org");
  CHECK(RecordState::FromJson(bad, &back).IsInvalidArgument());
}
