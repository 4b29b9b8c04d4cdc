// libFuzzer: raw bytes through Beast's HTTP request parser (with the server's body limit) and, when
// they make a request, through the API against a real central store.
#include <boost/beast/http.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "api/api.h"
#include "beatbook/tunables.h"
#include "store/sqlite_central_store.h"

using namespace beatbook;
namespace http = boost::beast::http;

namespace {
struct World {
  World() {
    char dir[] = "/tmp/beatbook-fuzz-XXXXXX";
    if (!::mkdtemp(dir)) __builtin_trap();
    if (!server::SqliteCentralStore::Open(dir, &store).ok()) __builtin_trap();
    if (!FormSet::LoadDir(BEATBOOK_SCHEMA_DIR, &forms).ok()) __builtin_trap();
    if (!Catalogue::LoadFile(std::string(BEATBOOK_SCHEMA_DIR) + "/indicators.json", &catalogue)
             .ok()) {
      __builtin_trap();
    }
    api = std::make_unique<server::Api>(store.get(), &forms, &catalogue, SystemClock::Default());
  }
  std::unique_ptr<server::SqliteCentralStore> store;
  FormSet forms;
  Catalogue catalogue;
  std::unique_ptr<server::Api> api;
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World* world = new World;
  http::request_parser<http::string_body> parser;
  parser.body_limit(tunables::kMaxRequestBodyBytes);
  parser.eager(true);
  boost::beast::error_code ec;
  parser.put(boost::asio::buffer(data, size), ec);
  if (ec || !parser.is_done()) return 0;
  const auto& req = parser.get();
  server::ApiResponse r =
      world->api->Handle({std::string(req.method_string()), std::string(req.target()), req.body(),
                          std::string(req[http::field::authorization])});
  if (r.status < 200 || r.status > 599) __builtin_trap();
  (void)r.Text();
  return 0;
}
