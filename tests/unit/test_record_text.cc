// RecordState::ToText must write exactly what ToJson().dump() writes: stored states are compared
// and spliced as text, so the fast writer and the library may never disagree on a byte.
#include <doctest/doctest.h>

#include <random>
#include <string>

#include "beatbook/record.h"
#include "support/seed.h"

namespace beatbook {
namespace {

// Strings that take every path of the writer: plain ASCII, escapes, control characters, DEL,
// non-ASCII text, right-to-left marks.
const std::vector<std::string> kTexts = {
    "",
    "plain",
    "Jewry Street",
    "say \"hello\"",
    "back\\slash",
    "tab\there",
    "line\nbreak",
    std::string("nul\0byte", 8),
    "\x01\x1f control",
    "del\x7f",
    "caf\xc3\xa9",
    "\xe2\x80\x8f rtl mark",
    "\xf0\x9f\x98\x80 emoji",
    "Cymraeg: Caerffili \xc5\xb5",
};

json RandomValue(std::mt19937_64& rng, int depth = 0) {
  switch (rng() % (depth > 1 ? 7 : 9)) {
    case 0:
      return nullptr;
    case 1:
      return rng() % 2 == 0;
    case 2:
      return static_cast<std::int64_t>(rng()) >> (rng() % 64);
    case 3:
      return static_cast<std::uint64_t>(rng());
    case 4:
      return static_cast<double>(static_cast<std::int64_t>(rng() % 2'000'001) - 1'000'000) / 7.0;
    case 5:
      return json::parse(std::to_string(rng() % 1'000'000));  // parsed: an unsigned number
    case 6:
      return kTexts[rng() % kTexts.size()];
    case 7: {
      json a = json::array();
      for (std::uint64_t i = rng() % 4; i > 0; --i) a.push_back(RandomValue(rng, depth + 1));
      return a;
    }
    default: {
      json o = json::object();
      for (std::uint64_t i = rng() % 4; i > 0; --i) {
        o[kTexts[rng() % kTexts.size()]] = RandomValue(rng, depth + 1);
      }
      return o;
    }
  }
}

Register RandomRegister(std::mt19937_64& rng) {
  Register r;
  r.v = RandomValue(rng);
  r.t = static_cast<HlcStamp>(rng() >> 1);
  r.d = rng() % 4 == 0 ? kTexts[rng() % kTexts.size()] : "device-" + std::to_string(rng() % 100);
  r.b = rng() % 2 == 0 ? 0 : static_cast<HlcStamp>(rng() >> 1);
  return r;
}

RecordState RandomState(std::mt19937_64& rng) {
  RecordState s;
  auto text = [&] { return kTexts[rng() % kTexts.size()]; };
  s.id = rng() % 3 == 0 ? text() : "0190a0b2-" + std::to_string(rng());
  s.form = rng() % 3 == 0 ? text() : "outreach_contact";
  s.form_version = static_cast<int>(rng() % 1'000'000) - (rng() % 10 == 0 ? 500'000 : 0);
  s.org = text();
  s.author = text();
  s.device = text();
  if (rng() % 4 != 0) s.occurred_at = RandomRegister(rng);
  if (rng() % 2 == 0) s.deleted = RandomRegister(rng);
  for (std::uint64_t i = rng() % 8; i > 0; --i) {
    s.fields[rng() % 2 == 0 ? text() : "field_" + std::to_string(rng() % 20)] = RandomRegister(rng);
  }
  s.purged = rng() % 10 == 0;
  return s;
}

TEST_CASE("ToText writes exactly ToJson().dump() (seeded, 3,000 records)") {
  std::uint64_t seed = test::Seed();
  INFO("seed " << seed << " (replay with BEATBOOK_SEED=" << seed << ")");
  std::mt19937_64 rng(seed);
  for (int i = 0; i < 3000; ++i) {
    RecordState s = RandomState(rng);
    for (bool with_base : {false, true}) {
      INFO("record " << i << (with_base ? ", with bases" : ""));
      REQUIRE(s.ToText(with_base) == s.ToJson(with_base).dump());
    }
  }
}

TEST_CASE("ToText refuses invalid UTF-8 as the library does") {
  RecordState s;
  s.id = "r1";
  s.form = "outreach_contact";
  s.form_version = 1;
  s.org = "org";
  s.author = "worker";
  s.device = "dev";
  s.fields["notes"] = Register{std::string("bad \xff byte"), 5, "dev", 0};
  CHECK_THROWS_AS(s.ToJson().dump(), json::type_error);
  CHECK_THROWS_AS(s.ToText(), json::type_error);
  s.fields["notes"].v = "good";
  CHECK(s.ToText() == s.ToJson().dump());
}

}  // namespace
}  // namespace beatbook
