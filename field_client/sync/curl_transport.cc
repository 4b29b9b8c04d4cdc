#include "field_client/sync/curl_transport.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <random>
#include <thread>

#include "beatbook/http/gzip.h"
#include "beatbook/http/message.h"
#include "beatbook/tunables.h"

namespace beatbook::sync {

namespace {
size_t Collect(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

// Notes whether a reply says the server reads gzip request bodies (Accept-Encoding: gzip).
size_t NoteHeader(char* data, size_t size, size_t n, void* user) {
  std::string_view line(data, size * n);
  const std::string_view name = "accept-encoding:";
  if (line.size() > name.size()) {
    std::string head(line.substr(0, name.size()));
    for (char& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (head == name && http::AcceptsGzip(line.substr(name.size()))) {
      *static_cast<bool*>(user) = true;
    }
  }
  return size * n;
}

struct CurlGlobal {
  CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
  ~CurlGlobal() { curl_global_cleanup(); }
};
}  // namespace

CurlTransport::CurlTransport(std::string base_url, CurlOptions options)
    : base_url_(std::move(base_url)),
      options_(std::move(options)),
      gzip_requests_(options_.gzip_requests) {
  static CurlGlobal global;
  while (!base_url_.empty() && base_url_.back() == '/') base_url_.pop_back();
  curl_ = curl_easy_init();
}

CurlTransport::~CurlTransport() { curl_easy_cleanup(static_cast<CURL*>(curl_)); }

Status CurlTransport::SendOnce(const HttpRequest& request, bool compress, HttpResponse* response) {
  CURL* curl = static_cast<CURL*>(curl_);
  if (curl == nullptr) return Status::Unavailable("libcurl could not be initialised");
  curl_easy_reset(curl);
  std::string url = base_url_ + request.target;
  std::string body;
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  long timeout_ms = options_.timeout_ms > 0 ? options_.timeout_ms : tunables::kTransferTimeoutMs;
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   std::min(tunables::kConnectTimeoutMs, timeout_ms));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  // libcurl inflates a gzip reply itself; what it read off the wire is counted below.
  curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "gzip");
  bool reads_gzip = false;
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, NoteHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &reads_gzip);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!options_.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, options_.ca_file.c_str());
  struct curl_slist* headers = nullptr;
  const bool json_body = request.content_type.empty();
  const std::string content_type =
      "Content-Type: " + (json_body ? std::string("application/json") : request.content_type);
  headers = curl_slist_append(headers, content_type.c_str());
  headers = curl_slist_append(headers, "Accept: application/json");
  std::string auth;
  if (!request.bearer.empty()) {
    auth = "Authorization: Bearer " + request.bearer;
    headers = curl_slist_append(headers, auth.c_str());
  }
  std::string compressed;
  const std::string* sent = &request.body;
  if (compress && json_body && request.body.size() >= tunables::kGzipMinBytes) {
    compressed = http::Gzip(request.body);
    if (!compressed.empty()) {
      sent = &compressed;
      headers = curl_slist_append(headers, "Content-Encoding: gzip");
    }
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  if (request.method == "POST" || request.method == "PUT") {
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    if (request.method == "PUT") curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, "PUT");
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, sent->data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(sent->size()));
    bytes_sent_ += sent->size();
    body_bytes_sent_ += request.body.size();
  }
  CURLcode rc = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  if (rc != CURLE_OK) {
    std::string detail = errbuf[0] ? errbuf : curl_easy_strerror(rc);
    return Status::Unavailable("cannot reach the server at " + base_url_ + ": " + detail);
  }
  long code = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
  response->status = static_cast<int>(code);
  response->body = std::move(body);
  curl_off_t wire_bytes = 0;
  curl_easy_getinfo(curl, CURLINFO_SIZE_DOWNLOAD_T, &wire_bytes);
  bytes_received_ += static_cast<std::size_t>(wire_bytes);
  body_bytes_received_ += response->body.size();
  // Once a compressed request was turned down, a reply's say-so is not believed again (a proxy
  // in front may refuse what the server behind it advertises).
  if (reads_gzip && !gzip_refused_) gzip_requests_ = true;
  curl_off_t retry_after = 0;
  curl_easy_getinfo(curl, CURLINFO_RETRY_AFTER, &retry_after);
  response->retry_after_sec = static_cast<long>(retry_after);
  return Status::OK();
}

Status CheckServerUrl(const std::string& base_url, bool allow_insecure_http) {
  const std::string http = "http://", https = "https://";
  if (base_url.rfind(https, 0) == 0) return Status::OK();
  if (base_url.rfind(http, 0) != 0) {
    return Status::InvalidArgument("server URL '" + base_url +
                                   "' must start with https:// (or http:// on this machine)");
  }
  std::string rest = base_url.substr(http.size());
  std::string host = rest[0] == '[' ? rest.substr(1, rest.find(']') - 1)
                                    : rest.substr(0, rest.find_first_of(":/"));
  if (http::IsLoopbackHost(host) || allow_insecure_http) return Status::OK();
  return Status::InvalidArgument(
      "refusing plain http:// to " + host +
      ": the records are sensitive and would cross the network unencrypted; use https:// (with "
      "--ca for the partnership's certificate authority), or pass --allow-insecure-http");
}

Status CurlTransport::Send(const HttpRequest& request, HttpResponse* response) {
  BB_RETURN_IF_ERROR(CheckServerUrl(base_url_, options_.allow_insecure_http));
  bool compress = gzip_requests_ && request.content_type.empty() &&
                  request.body.size() >= tunables::kGzipMinBytes;
  Status s = SendWithRetries(request, compress, response);
  if (s.ok() && compress && (response->status == 400 || response->status == 415)) {
    // A server that does not read gzip after all (an older one behind the same address): the
    // same request as it is, and no more compressed ones.
    gzip_requests_ = false;
    gzip_refused_ = true;
    s = SendWithRetries(request, /*compress=*/false, response);
  }
  return s;
}

Status CurlTransport::SendWithRetries(const HttpRequest& request, bool compress,
                                      HttpResponse* response) {
  int attempts = options_.retry_attempts >= 0 ? options_.retry_attempts : tunables::kRetryAttempts;
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  Status last;
  for (int attempt = 0;; ++attempt) {
    last = SendOnce(request, compress, response);
    // 429: the server's per-device rate limit; waiting and retrying is what it asks for.
    bool retryable = !last.ok() || response->status >= 500 || response->status == 429;
    if (!retryable || attempt >= attempts) break;
    // Full jitter: spreads the retries of many devices after an outage.
    long cap = std::min(tunables::kRetryCapMs, tunables::kRetryBaseMs << attempt);
    std::uniform_int_distribution<long> wait(0, cap);
    long wait_ms = wait(rng);
    if (last.ok() && response->retry_after_sec > 0) {
      // The server said how long: wait that (bounded), plus the jitter.
      wait_ms += std::min(tunables::kRetryAfterCapMs, response->retry_after_sec * 1000);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms));
  }
  return last;
}

}  // namespace beatbook::sync
