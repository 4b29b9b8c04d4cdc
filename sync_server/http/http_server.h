// HttpServer: serves an Api over HTTP/1.1 with Boost.Beast, in the style of Beast's
// advanced-server example: a Listener accepts connections, one Session object per connection
// reads requests, asks the Api, and writes responses (keep-alive).
//
//   HttpServer server(&api);
//   server.UseTls("server.pem", "server.key");          // optional: HTTPS (TLS 1.2+)
//   std::string bound;
//   Status s = server.Listen("127.0.0.1", 0, &bound);   // bound = "127.0.0.1:43127"
//   server.Run();        // returns after Stop(), SIGINT or SIGTERM
//
// Every read has a timeout (tunables::kRequestReadTimeoutSec), bodies over
// tunables::kMaxRequestBodyBytes get 413. Shutdown stops accepting and lets each request being
// handled finish, so a push is either committed and answered or not applied.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "api/api.h"
#include "beatbook/status.h"

namespace beatbook::server {

class HttpServer {
 public:
  explicit HttpServer(Api* api, int threads = 0);
  ~HttpServer();

  // Serves HTTPS with this PEM certificate chain and private key. Call before Run().
  // InvalidArgument naming the file if either cannot be used.
  Status UseTls(const std::string& cert_file, const std::string& key_file);
  // Binds and starts listening. `port` 0 picks a free port; *bound gets "HOST:PORT".
  Status Listen(const std::string& host, std::uint16_t port, std::string* bound);
  // Serves until Stop() or a SIGINT/SIGTERM.
  void Run();
  // Thread-safe; may be called from any thread.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace beatbook::server
