// Handler: what answers the requests a Server (beatbook/http/server.h) reads. sync_server's Api
// is one (the sync protocol and the dashboard), field_client's AppApi another (the worker's app).
//
// Handle() is called from the server's I/O threads and must be thread-safe and never throw.
#pragma once

#include <cstddef>

#include "beatbook/http/message.h"

namespace beatbook::http {

class Handler {
 public:
  virtual ~Handler() = default;

  // The answer to `request`.
  virtual Response Handle(const Request& request) = 0;
  // The largest body accepted for a request, from its header alone (read before the body).
  virtual std::size_t BodyLimit(const Request& header_only) = 0;
  // A response the transport made itself (a body over the limit): the handler may note it (count
  // it against the address) or replace it; by default it is sent as it is.
  virtual Response Refuse(const Request& request, Response response) {
    (void)request;
    return response;
  }
};

}  // namespace beatbook::http
