// Transport: how the sync engine reaches the server. Swappable so tests can run the engine against
// the real server's API in-process, or through a transport that drops, duplicates and replays
// requests.
#pragma once

#include <string>

#include "beatbook/status.h"

namespace beatbook::sync {

struct HttpRequest {
  std::string method;  // "GET", "POST" or "PUT"
  std::string target;  // path and query, e.g. "/v1/pull?cursor=0&limit=1000"
  std::string body;    // JSON, empty for GET; bytes for a photo's chunk
  std::string bearer;  // "DEVICE_ID.SECRET", empty for enrolment
  // Empty for JSON. A body of another type (a photo's chunk: application/octet-stream) is sent
  // as it is, never compressed.
  std::string content_type = "";
};

struct HttpResponse {
  int status = 0;
  std::string body;
  long retry_after_sec = 0;  // the server's Retry-After, if it sent one (429, 503)
};

class Transport {
 public:
  virtual ~Transport() = default;
  // Sends one request and waits for its response. Returns Unavailable if no response arrived
  // (network down, server gone, timeout); an HTTP error status is a response, not an error.
  // Implementations may retry internally; the request must then be idempotent (all of ours are).
  virtual Status Send(const HttpRequest& request, HttpResponse* response) = 0;
};

}  // namespace beatbook::sync
