// gzip for bodies on the wire (Content-Encoding: gzip, RFC 9110 section 8.4): field tablets sync
// over weak mobile signal, where bytes cost more than CPU, and records are JSON that shrinks
// several times over. zlib does the work.
//
//   std::string wire = Gzip(body);
//   std::string plain;
//   switch (Gunzip(wire, limit, &plain)) { ... }
//
// Both the server (requests in, replies out) and field_client (the reverse) use it; the rules
// for when each side compresses are in docs/protocol.md, "Compression".
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace beatbook::http {

// `plain` compressed as a gzip member, at tunables::kGzipLevel.
std::string Gzip(std::string_view plain);

enum class GunzipResult {
  kOk,
  kTooLarge,  // would inflate past `max_plain`: decompression stopped there (a "zip bomb")
  kCorrupt,   // not gzip, truncated, or followed by bytes that are not
};
// Inflates `compressed` into *plain, never holding more than `max_plain` bytes.
GunzipResult Gunzip(std::string_view compressed, std::size_t max_plain, std::string* plain);

// Whether an Accept-Encoding value accepts gzip: "gzip" or "*" listed without q=0.
bool AcceptsGzip(std::string_view accept_encoding);

}  // namespace beatbook::http
