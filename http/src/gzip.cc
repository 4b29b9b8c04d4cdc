#include "beatbook/http/gzip.h"

#include <zlib.h>

#include <algorithm>
#include <cctype>

#include "beatbook/tunables.h"

namespace beatbook::http {

namespace {

constexpr int kGzipWindowBits = 15 + 16;  // 15: the largest window; +16: a gzip wrapper
constexpr std::size_t kChunk = 64 * 1024;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Without the spaces, tabs and line ends around it (a header line as libcurl hands it over).
std::string_view Trim(std::string_view s) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string Gzip(std::string_view plain) {
  z_stream z{};
  if (deflateInit2(&z, tunables::kGzipLevel, Z_DEFLATED, kGzipWindowBits, 8, Z_DEFAULT_STRATEGY) !=
      Z_OK) {
    return std::string();
  }
  std::string out;
  out.resize(deflateBound(&z, static_cast<uLong>(plain.size())));
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(plain.data()));
  z.avail_in = static_cast<uInt>(plain.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  // deflateBound leaves room for the whole output: one call finishes.
  int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return rc == Z_STREAM_END ? out : std::string();
}

GunzipResult Gunzip(std::string_view compressed, std::size_t max_plain, std::string* plain) {
  plain->clear();
  z_stream z{};
  if (inflateInit2(&z, kGzipWindowBits) != Z_OK) return GunzipResult::kCorrupt;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  z.avail_in = static_cast<uInt>(compressed.size());
  GunzipResult result = GunzipResult::kCorrupt;
  char buf[kChunk];
  for (;;) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    int rc = inflate(&z, Z_NO_FLUSH);
    std::size_t got = sizeof buf - z.avail_out;
    if (plain->size() + got > max_plain) {
      result = GunzipResult::kTooLarge;
      break;
    }
    plain->append(buf, got);
    if (rc == Z_STREAM_END) {
      // One member and nothing after it: trailing bytes would be smuggled past the parser.
      result = z.avail_in == 0 ? GunzipResult::kOk : GunzipResult::kCorrupt;
      break;
    }
    if (rc != Z_OK) break;                   // a data error, or truncated input
    if (got == 0 && z.avail_in == 0) break;  // input ended before the stream did
  }
  inflateEnd(&z);
  if (result != GunzipResult::kOk) plain->clear();
  return result;
}

bool AcceptsGzip(std::string_view accept_encoding) {
  std::string value = Lower(accept_encoding);
  std::string_view rest = value;
  while (!rest.empty()) {
    std::size_t comma = rest.find(',');
    std::string_view item = Trim(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    std::size_t semi = item.find(';');
    std::string_view coding = Trim(item.substr(0, semi));
    if (coding != "gzip" && coding != "x-gzip" && coding != "*") continue;
    if (semi == std::string_view::npos) return true;
    // "q=0", "q=0.0", "q=0.000": refused; any other weight accepts.
    std::string_view param = Trim(item.substr(semi + 1));
    if (param.rfind("q=", 0) != 0) return true;
    std::string_view q = param.substr(2);
    bool zero =
        !q.empty() && std::all_of(q.begin(), q.end(), [](char c) { return c == '0' || c == '.'; });
    if (!zero) return true;
  }
  return false;
}

}  // namespace beatbook::http
