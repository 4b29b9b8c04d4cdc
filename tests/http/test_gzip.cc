// gzip of bodies on the wire (beatbook/http/gzip.h): what inflates comes back the same, a body
// that would inflate past its limit stops there, anything that is not exactly one gzip member is
// refused, and Accept-Encoding is read as RFC 9110 says.
#include <doctest/doctest.h>

#include <random>

#include "beatbook/http/gzip.h"
#include "support/seed.h"

using namespace beatbook::http;

TEST_CASE("gzip: what is compressed inflates to the same bytes, within its limit") {
  std::uint64_t seed = beatbook::test::Seed();
  INFO("seed " << seed << " (replay with BEATBOOK_SEED=" << seed << ")");
  std::mt19937_64 rng(seed);
  for (std::size_t size :
       {std::size_t{0}, std::size_t{1}, std::size_t{1000}, std::size_t{200'000}}) {
    std::string plain(size, '\0');
    for (char& c : plain) c = static_cast<char>(rng() % 7 + 'a');  // compressible, not trivial
    std::string packed = Gzip(plain);
    REQUIRE(!packed.empty());
    std::string back;
    CHECK(Gunzip(packed, size, &back) == GunzipResult::kOk);
    CHECK(back == plain);
    if (size > 0) {
      // One byte short of the limit it needs: stopped, and nothing half-inflated handed back.
      CHECK(Gunzip(packed, size - 1, &back) == GunzipResult::kTooLarge);
      CHECK(back.empty());
    }
  }
}

TEST_CASE("gzip: a bomb stops at the limit, and what is not one gzip member is refused") {
  std::string bomb = Gzip(std::string(50u << 20, ' '));
  CHECK(bomb.size() < (50u << 20) / 100);  // a hundredth of what it inflates to, or less
  std::string out;
  CHECK(Gunzip(bomb, 1u << 20, &out) == GunzipResult::kTooLarge);
  CHECK(out.empty());

  std::string good = Gzip("{\"batch_id\": \"b\"}");
  CHECK(Gunzip("{\"batch_id\": \"b\"}", 1000, &out) == GunzipResult::kCorrupt);
  CHECK(Gunzip(good.substr(0, good.size() - 4), 1000, &out) == GunzipResult::kCorrupt);  // cut
  CHECK(Gunzip(good + "{}", 1000, &out) == GunzipResult::kCorrupt);  // bytes after the member
  CHECK(Gunzip("", 1000, &out) == GunzipResult::kCorrupt);
  std::string flipped = good;
  flipped[good.size() - 6] ^= 0x55;  // the CRC no longer matches
  CHECK(Gunzip(flipped, 1000, &out) == GunzipResult::kCorrupt);
}

TEST_CASE("Accept-Encoding: gzip is accepted unless its weight is zero") {
  CHECK(AcceptsGzip("gzip"));
  CHECK(AcceptsGzip("deflate, gzip;q=0.5"));
  CHECK(AcceptsGzip("GZIP"));
  CHECK(AcceptsGzip("br, *"));
  CHECK(AcceptsGzip(" x-gzip "));
  CHECK(AcceptsGzip(" gzip\r\n"));  // the rest of a header line, as libcurl hands it over
  CHECK_FALSE(AcceptsGzip(""));
  CHECK_FALSE(AcceptsGzip("identity"));
  CHECK_FALSE(AcceptsGzip("gzip;q=0"));
  CHECK_FALSE(AcceptsGzip("gzip; q=0.000, br"));
  CHECK_FALSE(AcceptsGzip("gzipped"));
}
