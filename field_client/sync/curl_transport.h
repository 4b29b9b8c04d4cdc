// CurlTransport: the Transport over HTTP(S) with libcurl, as field_client uses it.
//
// Only https:// goes beyond the tablet: plain http:// is refused to any host but loopback unless
// the user said so (CheckServerUrl). Connect and transfer timeouts and retries with exponential
// backoff and full jitter come from beatbook/tunables.h. Network errors, 5xx and 429 responses are
// retried, after the server's Retry-After if it sent one; other responses are returned as they are.
// Replies come gzip-compressed when the server offers it (Accept-Encoding), and request bodies go
// compressed once the server has said it reads them (its replies' Accept-Encoding: gzip, RFC
// 7694), or from the start with CurlOptions::gzip_requests; a compressed request the server turns
// down (400, 415) is sent again as it is, and later ones are not compressed
// (docs/protocol.md, "Compression").
// Not thread-safe: one per thread.
#pragma once

#include <memory>
#include <string>

#include "field_client/sync/transport.h"

namespace beatbook::sync {

struct CurlOptions {
  std::string ca_file;      // trust this CA bundle for HTTPS (empty: the system's)
  int retry_attempts = -1;  // -1: tunables::kRetryAttempts
  long timeout_ms = -1;     // whole request, connect to last byte; -1: tunables::kTransferTimeoutMs
  // Plain http:// to a host beyond loopback is refused (the records are sensitive) unless this is
  // set (`init --allow-insecure-http`, kept with the device's identity).
  bool allow_insecure_http = false;
  // Compress request bodies from the first request: the server has said before that it reads
  // gzip (kept with the device's identity).
  bool gzip_requests = false;
};

// OK if requests to `base_url` may go out: https://, or http:// to a loopback host (127.0.0.0/8,
// ::1, localhost) or with `allow_insecure_http`. InvalidArgument naming the host otherwise.
Status CheckServerUrl(const std::string& base_url, bool allow_insecure_http);

class CurlTransport final : public Transport {
 public:
  // `base_url` like "http://127.0.0.1:8080" (no trailing path).
  CurlTransport(std::string base_url, CurlOptions options);
  ~CurlTransport() override;
  Status Send(const HttpRequest& request, HttpResponse* response) override;

  // Whether the server has said it reads gzip request bodies (so far, or from CurlOptions).
  bool server_reads_gzip() const { return gzip_requests_; }
  // Bytes of request and response bodies as they crossed the network (compressed or not), and
  // the same bodies' own sizes: what compression saved.
  std::size_t bytes_sent() const { return bytes_sent_; }
  std::size_t bytes_received() const { return bytes_received_; }
  std::size_t body_bytes_sent() const { return body_bytes_sent_; }
  std::size_t body_bytes_received() const { return body_bytes_received_; }

 private:
  Status SendOnce(const HttpRequest& request, bool compress, HttpResponse* response);
  Status SendWithRetries(const HttpRequest& request, bool compress, HttpResponse* response);
  std::string base_url_;
  CurlOptions options_;
  bool gzip_requests_ = false;
  bool gzip_refused_ = false;  // a compressed request was answered 400 or 415
  std::size_t bytes_sent_ = 0;
  std::size_t bytes_received_ = 0;
  std::size_t body_bytes_sent_ = 0;
  std::size_t body_bytes_received_ = 0;
  void* curl_ = nullptr;  // CURL*, kept to reuse the connection
};

}  // namespace beatbook::sync
