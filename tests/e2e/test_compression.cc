// Bodies on the wire: field_client and sync_server compress push and pull bodies with gzip
// (docs/protocol.md, "Compression"), so a sync over weak mobile signal moves a quarter of the
// bytes or less; and a compressed request the server cannot take is refused with a clear reason,
// changing nothing.
#include "beatbook/http/gzip.h"
#include "fault_site.h"
#include "raw_http.h"

using namespace beatbook;
using namespace beatbook::test;
using nlohmann::json;

TEST_CASE(
    "push and pull bodies cross the network gzip-compressed, a quarter of their size or less") {
  Site site;
  std::string amy = site.Enrol("amy", "police");
  std::string bob = site.Enrol("bob", "police");
  std::set<std::string> logged = site.LogMany(amy, 1000);

  json pushed = OkJson({"sync", "--data", amy, "--json"});
  INFO("amy's sync: " << pushed.dump());
  CHECK(pushed["pushed"] == 1000);
  const json& up = pushed["wire"];
  CHECK(up["body_sent"].get<std::size_t>() > 100'000);
  // Compressed from the first push: the server said at enrolment that it reads gzip.
  CHECK(up["sent"].get<std::size_t>() * 4 <= up["body_sent"].get<std::size_t>());

  json pulled = OkJson({"sync", "--data", bob, "--json"});
  INFO("bob's sync: " << pulled.dump());
  CHECK(pulled["pulled"] == 1000);
  const json& down = pulled["wire"];
  CHECK(down["body_received"].get<std::size_t>() > 100'000);
  CHECK(down["received"].get<std::size_t>() * 4 <= down["body_received"].get<std::size_t>());

  // Compression changes the bytes, not the records: each is on the server once and on bob's.
  std::multiset<std::string> on_server = site.ServerIds();
  CHECK(on_server.size() == logged.size());
  CHECK(std::set<std::string>(on_server.begin(), on_server.end()) == logged);
  std::set<std::string> on_bob;
  json listed = OkJson({"list", "--data", bob, "--json"});  // kept: the loop reads inside it
  for (const auto& r : listed["records"]) on_bob.insert(r["id"].get<std::string>());
  CHECK(on_bob == logged);
}

TEST_CASE(
    "a compressed request that cannot be taken is refused with the reason, changing nothing") {
  Site site;
  std::string amy = site.Enrol("amy", "police");
  site.LogMany(amy, 1);
  Ok({"sync", "--data", amy});
  const std::string bearer = DeviceBearer(amy);
  const std::string push = site.url + "/v1/push";
  auto expect = [&](const RawReply& r, long status, const std::string& needle) {
    CHECK(r.status == status);
    json body = json::parse(r.body, nullptr, false);
    REQUIRE(body.is_object());
    std::string message = body["error"]["message"].get<std::string>();
    INFO("message: " << message);
    CHECK(message.find(needle) != std::string::npos);
    CHECK(site.ServerIds().size() == 1);
  };
  const std::string gzip = "Content-Encoding: gzip";
  // 20 MiB of spaces is a few KiB of gzip: under the limit on the wire, far over it inflated.
  expect(SendRaw(push, http::Gzip(std::string(20u << 20, ' ')), bearer, {gzip}), 413,
         "inflates past the limit");
  expect(SendRaw(push, "{\"batch_id\": \"b\", \"changes\": []}", bearer, {gzip}), 400,
         "not valid gzip");
  // A good gzip member with bytes after it: refused, not half-read.
  expect(SendRaw(push, http::Gzip(R"({"batch_id": "b", "changes": []})") + "{}", bearer, {gzip}),
         400, "not valid gzip");
  expect(SendRaw(push, R"({"batch_id": "b", "changes": []})", bearer, {"Content-Encoding: br"}),
         415, "'br' is not one this server reads");

  // A well-formed compressed push is read as if it had come plain.
  RawReply ok =
      SendRaw(push, http::Gzip(R"({"batch_id": "empty", "changes": []})"), bearer, {gzip});
  CHECK(ok.status == 200);

  // Replies of a kilobyte or more go compressed to a client that accepts gzip, and only to it.
  RawReply plain = SendRaw(site.url + "/v1/forms", "", bearer, {});
  RawReply packed = SendRaw(site.url + "/v1/forms", "", bearer, {"Accept-Encoding: gzip"});
  REQUIRE(plain.status == 200);
  REQUIRE(packed.status == 200);
  CHECK(plain.content_encoding.empty());
  CHECK(packed.content_encoding == "gzip");
  std::string inflated;
  REQUIRE(http::Gunzip(packed.body, 64u << 20, &inflated) == http::GunzipResult::kOk);
  // The same reply, but for the server's clock (section 2 of docs/protocol.md).
  json a = json::parse(inflated, nullptr, false), b = json::parse(plain.body, nullptr, false);
  REQUIRE(a.is_object());
  REQUIRE(b.is_object());
  a.erase("server_time_ms");
  b.erase("server_time_ms");
  CHECK(a == b);
  CHECK(packed.body.size() * 4 <= plain.body.size());
}
