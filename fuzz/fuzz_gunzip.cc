// libFuzzer: inflating a request body (Content-Encoding: gzip). Never more than the limit, never
// a crash, and whatever inflates compresses and inflates back to the same bytes.
#include <cstddef>
#include <cstdint>
#include <string>

#include "beatbook/http/gzip.h"

using namespace beatbook::http;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  constexpr std::size_t kLimit = 1u << 20;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string plain;
  GunzipResult r = Gunzip(in, kLimit, &plain);
  if (plain.size() > kLimit) __builtin_trap();
  if (r != GunzipResult::kOk) {
    if (!plain.empty()) __builtin_trap();  // a refused body hands nothing on
    return 0;
  }
  std::string again;
  if (Gunzip(Gzip(plain), kLimit, &again) != GunzipResult::kOk || again != plain) __builtin_trap();
  return 0;
}
