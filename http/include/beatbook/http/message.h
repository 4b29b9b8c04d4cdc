// An HTTP request and response as the handlers see them (beatbook/http/handler.h): the parts that
// matter to an API, without the transport. The Beast sessions (beatbook/http/server.h) fill and
// send them; tests build them directly.
//
//   http::Request r{"POST", "/v1/push", body, "Bearer dev-1.secret", "203.0.113.9"};
//   http::Response answer(200, {{"applied", 3}});
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace beatbook::http {

// Whether `host` (an address or name as written in a URL, a --listen option or a peer address)
// is this machine: 127.0.0.0/8, ::1, an IPv4-mapped 127.x address, or "localhost".
bool IsLoopbackHost(const std::string& host);

struct Request {
  Request() = default;
  Request(std::string method_, std::string target_, std::string body_, std::string authorization_,
          std::string peer_ = "")
      : method(std::move(method_)),
        target(std::move(target_)),
        body(std::move(body_)),
        authorization(std::move(authorization_)),
        peer(std::move(peer_)) {}

  std::string method;
  std::string target;  // path and query
  std::string body;
  std::string authorization;  // the Authorization header, as sent
  std::string peer;           // the client's address; empty when unknown (in-process callers)
  // Other headers a handler may check, by lower-case name: host, origin, cookie,
  // x-beatbook-key, content-type, x-request-id.
  std::map<std::string, std::string> headers;

  // The header `name` (lower case), or "" when absent.
  const std::string& Header(const std::string& name) const;
  // The path, without the query.
  std::string Path() const { return target.substr(0, target.find('?')); }
};

struct Response {
  Response() = default;
  Response(int status_code, nlohmann::json json_body)
      : status(status_code), body(std::move(json_body)) {}

  int status = 200;
  nlohmann::json body;
  // A body already serialised (valid UTF-8 JSON), sent instead of `body` when not empty: a pull
  // page is assembled from the stored record texts without a DOM.
  std::string raw;
  // Sent as Retry-After (seconds) when not 0: how long a 429'd client should wait.
  int retry_after_sec = 0;
  // The Content-Type; empty for JSON. A body that is not JSON (a page's file, a workbook) is
  // in `raw`.
  std::string content_type;
  // Further headers: Location, Content-Security-Policy, Content-Disposition, Set-Cookie.
  std::vector<std::pair<std::string, std::string>> headers;
  // The body as sent. Text from the request (a path, a field value) may not be valid UTF-8:
  // such bytes are replaced (U+FFFD) rather than throwing.
  std::string Text() const;
  // The body as JSON, whichever way it was built (parses `raw`).
  nlohmann::json Json() const { return raw.empty() ? body : nlohmann::json::parse(raw); }
};

}  // namespace beatbook::http
