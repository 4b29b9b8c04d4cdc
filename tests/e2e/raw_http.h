// Requests to the real server below field_client: raw bodies and headers, for the tests of what
// the server does with requests no well-behaved client sends.
#pragma once

#include <curl/curl.h>

#include <cctype>
#include <memory>
#include <string>
#include <vector>

#include "beatbook/local_store.h"

namespace beatbook::test {

// libcurl's write callback: appends to the std::string `out`.
inline size_t CollectBody(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

// The credential a device keeps, read through the device's own store.
inline std::string DeviceBearer(const std::string& device_dir) {
  std::unique_ptr<LocalStore> store;
  if (!LocalStore::Open(device_dir, {}, &store).ok()) return "";
  return store->identity().device_id + "." + store->identity().secret;
}

struct RawReply {
  long status = 0;
  std::string body;              // as it came: not inflated
  std::string content_encoding;  // of the reply
};

namespace raw_http_internal {
inline size_t NoteContentEncoding(char* data, size_t size, size_t n, void* out) {
  std::string line(data, size * n);
  for (char& c : line) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const std::string name = "content-encoding:";
  if (line.rfind(name, 0) == 0) {
    std::string value = line.substr(name.size());
    value.erase(0, value.find_first_not_of(' '));
    value.erase(value.find_last_not_of(" \r\n") + 1);
    *static_cast<std::string*>(out) = value;
  }
  return size * n;
}
}  // namespace raw_http_internal

// One request: POST with `body` when it is not empty, else GET; `extra` headers as sent.
inline RawReply SendRaw(const std::string& url, const std::string& body, const std::string& bearer,
                        const std::vector<std::string>& extra) {
  CURL* curl = curl_easy_init();
  RawReply r;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, CollectBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, raw_http_internal::NoteContentEncoding);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &r.content_encoding);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
  struct curl_slist* headers = nullptr;
  std::string auth = "Authorization: Bearer " + bearer;
  headers = curl_slist_append(headers, auth.c_str());
  for (const auto& h : extra) headers = curl_slist_append(headers, h.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  if (!body.empty()) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  }
  curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r.status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return r;
}

}  // namespace beatbook::test
