// HttpServer: serves a Handler (beatbook/http/handler.h) over HTTP/1.1 with Boost.Beast, in the
// style of Beast's advanced-server example: a Listener accepts connections, one Session object per
// connection reads requests, asks the handler, and writes responses (keep-alive).
//
//   HttpServer server(&api);                           // sync_server's Api, or the app's AppApi
//   server.UseTls("server.pem", "server.key");          // optional: HTTPS (TLS 1.2+)
//   std::string bound;
//   Status s = server.Listen("127.0.0.1", 0, &bound);   // bound = "127.0.0.1:43127"
//   server.Run();        // returns after Stop(), SIGINT or SIGTERM (SIGHUP: ReloadTls)
//
// Every read has a timeout (tunables::kRequestReadTimeoutSec). The header is read first and the
// handler says how large the body may be (Handler::BodyLimit: for sync_server a push from a
// recognised device may be large, everything else small); bodies over it get 413. Connections are
// capped in total (below the open-file limit) and per client address (HttpLimits); at the total cap
// the connection idle longest makes room, and an accept that fails backs off instead of spinning.
// Shutdown (Stop, SIGTERM, SIGINT) stops accepting, closes the connections waiting for a request
// and lets each request in flight be read, handled and answered, for at most
// tunables::kShutdownGraceSec; so a push is either committed and answered or not applied.
// SIGHUP reloads the TLS certificate and key from their files: new connections get the new
// certificate, open ones keep theirs, none is dropped; a file that cannot be used leaves the old
// certificate serving.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "beatbook/http/handler.h"
#include "beatbook/status.h"
#include "beatbook/tunables.h"

namespace beatbook::http {

struct HttpLimits {
  std::size_t max_connections = tunables::kMaxConnections;
  std::size_t max_connections_per_address = tunables::kMaxConnectionsPerAddress;
};

class HttpServer {
 public:
  // `handler` must outlive the server.
  explicit HttpServer(Handler* handler, int threads = 0, HttpLimits limits = {});
  ~HttpServer();

  // Serves HTTPS with this PEM certificate chain and private key. Call before Run().
  // InvalidArgument naming the file if either cannot be used.
  Status UseTls(const std::string& cert_file, const std::string& key_file);
  // Reads UseTls's files again (what SIGHUP does). Thread-safe. InvalidArgument, and the old
  // certificate kept, if they cannot be used; FailedPrecondition when serving plain HTTP.
  Status ReloadTls();
  // Told of what happened without a caller to tell: a SIGHUP's reload ("tls_reload") and the
  // start of a shutdown ("shutdown"), with its outcome. Set before Run().
  void OnEvent(std::function<void(const std::string& event, const Status& outcome)> listener);
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

}  // namespace beatbook::http
