// Bad requests against the real server: each gets the right 4xx and a clear message, and nothing
// stored changes.
#include <curl/curl.h>

#include "beatbook/local_store.h"
#include "cli.h"
#include "raw_http.h"
#include "support/temp_dir.h"
#include "sync_server/store/sql_central_store.h"

using namespace beatbook;
using namespace beatbook::test;
using nlohmann::json;

namespace {

struct Reply {
  long status = 0;
  json body;
};

Reply Request(const std::string& url, const std::string& method, const std::string& body,
              const std::string& bearer = "") {
  CURL* curl = curl_easy_init();
  std::string text;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, CollectBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &text);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
  struct curl_slist* headers = nullptr;
  std::string auth = "Authorization: Bearer " + bearer;
  if (!bearer.empty()) headers = curl_slist_append(headers, auth.c_str());
  headers = curl_slist_append(headers, "Content-Type: application/json");
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  if (method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  } else if (method != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  }
  Reply r;
  CURLcode rc = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r.status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  if (rc == CURLE_OK) r.body = json::parse(text, nullptr, false);
  return r;
}

}  // namespace

TEST_CASE("bad requests get the right 4xx with a clear message and change nothing") {
  TempDir dir;
  ServerProcess server(dir / "central");
  REQUIRE(server.Start());
  std::string token = SyncServer({"token", "--data", dir / "central", "--user", "amy", "--org",
                                  "police", "--role", "field_worker"})
                          .out;
  token.pop_back();
  Ok({"init", "--data", dir / "amy", "--server", server.url(), "--token", token});
  std::string id = Ok(
      {"log", "--data", dir / "amy", "street_brief", "--set", "place=A", "--set", "attendees=1"});
  Ok({"sync", "--data", dir / "amy"});
  std::string bearer = DeviceBearer(dir / "amy");
  const std::string push = server.url() + "/v1/push";
  auto count_records = [&] {
    std::unique_ptr<server::SqlCentralStore> store;
    REQUIRE(server::SqlCentralStore::OpenSqlite(dir / "central", &store).ok());
    std::vector<RecordState> states;
    REQUIRE(store->AllRecords(&states).ok());
    return states.size();
  };
  REQUIRE(count_records() == 1);

  auto expect = [&](const Reply& r, long status, const std::string& needle) {
    CHECK(r.status == status);
    REQUIRE(r.body.is_object());
    std::string message = r.body["error"]["message"].get<std::string>();
    INFO("message: " << message);
    CHECK(message.find(needle) != std::string::npos);
    CHECK(count_records() == 1);
  };
  expect(Request(push, "POST", "{\"batch_id\": ", bearer), 400, "not valid JSON");
  expect(Request(push, "POST", R"({"batch_id": 7, "changes": []})", bearer), 400, "batch_id");
  expect(Request(push, "POST", R"({"batch_id": "b", "changes": {}})", bearer), 400,
         "\"changes\" must be an array");
  json change = {
      {"change_id", "c"}, {"id", "r"},       {"form", "street_brief"}, {"form_version", 99},
      {"org", "police"},  {"author", "amy"}, {"device", "d"},          {"fields", json::object()}};
  expect(Request(push, "POST", json({{"batch_id", "b"}, {"changes", {change}}}).dump(), bearer),
         400, "form 'street_brief' version 99 is not known");
  change["form_version"] = "one";
  expect(Request(push, "POST", json({{"batch_id", "b"}, {"changes", {change}}}).dump(), bearer),
         400, "form_version");
  expect(Request(push, "POST", std::string(17u << 20, ' '), bearer), 413, "over the limit");
  std::string deep = std::string(40, '[') + std::string(40, ']');
  expect(Request(push, "POST", deep, bearer), 400, "deeper than 32 levels");
  expect(Request(server.url() + "/v1/enrol", "POST", "{\"token\": " + deep + "}"), 400,
         "deeper than 32 levels");
  expect(Request(push, "POST", "{}", ""), 401, "missing credential");
  expect(Request(push, "POST", "{}", "nodot"), 401, "malformed credential");
  expect(Request(push, "POST", "{}", bearer + "x"), 401, "not valid");
  expect(Request(server.url() + "/v1/pull?cursor=abc", "GET", "", bearer), 400, "cursor 'abc'");
  expect(Request(server.url() + "/v1/pull?limit=-5", "GET", "", bearer), 400, "limit '-5'");
  expect(Request(server.url() + "/v1/push", "GET", "", bearer), 405, "use POST");
  expect(Request(server.url() + "/v2/anything", "GET", "", bearer), 404, "no endpoint");
  expect(Request(server.url() + "/v1/enrol", "POST", R"({"token": 5})"), 400, "token");
  Reply health = Request(server.url() + "/v1/health", "GET", "");
  CHECK(health.status == 200);
  CHECK(health.body["status"] == "ok");
  // The device still syncs fine afterwards, and its record is unchanged.
  Ok({"sync", "--data", dir / "amy"});
  CHECK(OkJson({"show", id, "--data", dir / "amy", "--json"})["fields"]["attendees"] == 1);
  CHECK(server.Stop() == 0);
}

TEST_CASE("a device that makes too many requests gets 429, and other devices carry on") {
  TempDir dir;
  ServerProcess server(dir / "central", {}, {"--rate-limit", "1"});  // bursts of 10
  REQUIRE(server.Start());
  std::vector<std::string> bearers;
  for (const char* user : {"amy", "bob"}) {
    std::string token = SyncServer({"token", "--data", dir / "central", "--user", user, "--org",
                                    "police", "--role", "field_worker"})
                            .out;
    token.pop_back();
    Ok({"init", "--data", dir / user, "--server", server.url(), "--token", token});
    bearers.push_back(DeviceBearer(dir / user));
  }
  // Tokens refill in real time here, so how many pass depends on the machine's speed: the exact
  // counts are checked with a clock the test sets (sync/test_credentials.cc). Here: at least the
  // burst passes, then 429 comes.
  int ok = 0;
  Reply refused;
  for (int i = 0; i < 60 && refused.status == 0; ++i) {
    Reply r = Request(server.url() + "/v1/forms", "GET", "", bearers[0]);
    if (r.status == 200) {
      ++ok;
    } else {
      refused = r;
    }
  }
  CHECK(ok >= 10);
  CHECK(refused.status == 429);
  REQUIRE(refused.body.is_object());
  CHECK(refused.body["error"]["code"] == "too_many_requests");
  CHECK(refused.body["error"]["message"].get<std::string>().find("retry in") != std::string::npos);
  CHECK(Request(server.url() + "/v1/forms", "GET", "", bearers[1]).status == 200);
  // field_client waits and retries a 429 rather than failing the sync.
  Ok({"log", "--data", dir / "amy", "street_brief", "--set", "place=A", "--set", "attendees=1"});
  Ok({"sync", "--data", dir / "amy"});
  CHECK(server.Stop() == 0);
}
