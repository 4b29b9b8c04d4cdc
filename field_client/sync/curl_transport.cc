#include "field_client/sync/curl_transport.h"

#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <thread>

#include "beatbook/tunables.h"

namespace beatbook::sync {

namespace {
size_t Collect(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

struct CurlGlobal {
  CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
  ~CurlGlobal() { curl_global_cleanup(); }
};
}  // namespace

CurlTransport::CurlTransport(std::string base_url, CurlOptions options)
    : base_url_(std::move(base_url)), options_(std::move(options)) {
  static CurlGlobal global;
  while (!base_url_.empty() && base_url_.back() == '/') base_url_.pop_back();
  curl_ = curl_easy_init();
}

CurlTransport::~CurlTransport() { curl_easy_cleanup(static_cast<CURL*>(curl_)); }

Status CurlTransport::SendOnce(const HttpRequest& request, HttpResponse* response) {
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
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!options_.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, options_.ca_file.c_str());
  struct curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Content-Type: application/json");
  headers = curl_slist_append(headers, "Accept: application/json");
  std::string auth;
  if (!request.bearer.empty()) {
    auth = "Authorization: Bearer " + request.bearer;
    headers = curl_slist_append(headers, auth.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  if (request.method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
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
  bool loopback = host.rfind("127.", 0) == 0 || host == "::1" || host == "localhost";
  if (loopback || allow_insecure_http) return Status::OK();
  return Status::InvalidArgument(
      "refusing plain http:// to " + host +
      ": the records are sensitive and would cross the network unencrypted; use https:// (with "
      "--ca for the partnership's certificate authority), or pass --allow-insecure-http");
}

Status CurlTransport::Send(const HttpRequest& request, HttpResponse* response) {
  BB_RETURN_IF_ERROR(CheckServerUrl(base_url_, options_.allow_insecure_http));
  int attempts = options_.retry_attempts >= 0 ? options_.retry_attempts : tunables::kRetryAttempts;
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  Status last;
  for (int attempt = 0;; ++attempt) {
    last = SendOnce(request, response);
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
