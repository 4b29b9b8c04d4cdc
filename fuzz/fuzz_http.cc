// libFuzzer: raw bytes through Beast's HTTP request parser (with the server's body limit) and, when
// they make a request, through the API against a real central store.
//
// The store has a device enrolled for each role, so that inputs get past authentication to every
// route: placeholders in the parsed request are replaced by real credentials ("@FW@" by a
// field worker's "ID.SECRET", "@FWID@" by its id alone; PL partner lead, CO coordinator, BD board
// member on the dashboard, AD admin). fuzz/http.dict holds the placeholders and paths, and the
// seed corpus (fuzz/corpus/http) a request of each kind. A credential that a request signs out
// (or a rotation replaces) is enrolled anew, so later inputs still reach the routes behind it.
#include <boost/beast/http.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

#include "beatbook/crypto.h"
#include "beatbook/tunables.h"
#include "sync_server/api/api.h"
#include "sync_server/store/sql_central_store.h"

using namespace beatbook;
namespace bhttp = boost::beast::http;

namespace {

// One device of each role, and the placeholder its credential replaces in inputs.
struct Enrollee {
  const char* tag;  // the placeholder's letters
  const char* user;
  const char* org;
  Role role;
  const char* client;
};
constexpr Enrollee kEnrollees[] = {
    {"FW", "amy", "police", Role::kFieldWorker, "tablet"},
    {"PL", "pat", "police", Role::kPartnerLead, "tablet"},
    {"CO", "cleo", "csp", Role::kCoordinator, "tablet"},
    {"BD", "bea", "csp", Role::kBoard, "dashboard"},
    {"AD", "root", "council", Role::kAdmin, "tablet"},
};

struct World {
  World() {
    char dir[] = "/tmp/beatbook-fuzz-XXXXXX";
    if (!::mkdtemp(dir)) __builtin_trap();
    if (!server::SqlCentralStore::OpenSqlite(dir, &store).ok()) __builtin_trap();
    if (!FormSet::LoadDir(BEATBOOK_SCHEMA_DIR, &forms).ok()) __builtin_trap();
    if (!Catalogue::LoadFile(std::string(BEATBOOK_SCHEMA_DIR) + "/indicators.json", &catalogue)
             .ok()) {
      __builtin_trap();
    }
    // No per-device rate limit: every input would be a 429 after the first few. The limiters
    // have tests of their own.
    api = std::make_unique<server::Api>(store.get(), &forms, &catalogue, SystemClock::Default(),
                                        server::ApiOptions{0, 0, 0, 0});
    for (const Enrollee& r : kEnrollees) Enrol(r);
  }

  // Enrols a device for `r` through the API, as a tablet or the dashboard would.
  void Enrol(const Enrollee& r) {
    std::string token = RandomSecret(16);
    std::int64_t now = SystemClock::Default()->NowMs();
    if (!store->CreateToken(token, {r.user, r.org, r.role, now + 60'000}, now, nullptr).ok()) {
      __builtin_trap();
    }
    nlohmann::json body = {{"token", token}, {"client", r.client}};
    server::ApiResponse e = api->Handle({"POST", "/v1/enrol", body.dump(), ""});
    if (e.status != 200) __builtin_trap();
    std::string id = e.body["device_id"];
    credentials[std::string("@") + r.tag + "ID@"] = id;
    credentials[std::string("@") + r.tag + "@"] = id + "." + e.body["secret"].get<std::string>();
  }

  // `input` with every placeholder replaced by its credential.
  std::string Splice(std::string input) const {
    for (auto at = input.find('@'); at != std::string::npos; at = input.find('@', at + 1)) {
      for (const auto& [placeholder, value] : credentials) {
        if (input.compare(at, placeholder.size(), placeholder) == 0) {
          input.replace(at, placeholder.size(), value);
          at += value.size() - 1;
          break;
        }
      }
    }
    return input;
  }

  // After a request that may have ended a credential (sign-out revokes it; rotation starts
  // replacing it), the roles it named are enrolled again.
  void Renew(const std::string& input, const std::string& target) {
    if (target.find("signout") == std::string::npos && target.find("rotate") == std::string::npos) {
      return;
    }
    for (const Enrollee& r : kEnrollees) {
      if (input.find(std::string("@") + r.tag + "@") != std::string::npos) Enrol(r);
    }
  }

  std::unique_ptr<server::SqlCentralStore> store;
  FormSet forms;
  Catalogue catalogue;
  std::unique_ptr<server::Api> api;
  std::map<std::string, std::string> credentials;  // placeholder -> its text
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World* world = new World;
  std::string raw(reinterpret_cast<const char*>(data), size);
  bhttp::request_parser<bhttp::string_body> parser;
  parser.body_limit(tunables::kMaxRequestBodyBytes);
  parser.eager(true);
  boost::beast::error_code ec;
  parser.put(boost::asio::buffer(raw.data(), raw.size()), ec);
  if (ec || !parser.is_done()) return 0;
  const auto& req = parser.get();
  // Placeholders are replaced after parsing, so that Content-Length stays the input's own.
  std::string target = world->Splice(std::string(req.target()));
  server::ApiResponse r =
      world->api->Handle({std::string(req.method_string()), target, world->Splice(req.body()),
                          world->Splice(std::string(req[bhttp::field::authorization]))});
  if (r.status < 200 || r.status > 599) __builtin_trap();
  std::string text = r.Text();
  // FUZZ_HTTP_VERBOSE=1 prints each answer: for checking what the seed inputs reach.
  static const bool verbose = std::getenv("FUZZ_HTTP_VERBOSE") != nullptr;
  if (verbose) std::fprintf(stderr, "%s -> %d %.300s\n", target.c_str(), r.status, text.c_str());
  world->Renew(raw, target);
  return 0;
}
