#include "beatbook/crypto.h"

#include <sodium.h>

#include <algorithm>
#include <cstdio>
#include <stdexcept>

namespace beatbook {

namespace {
std::string FormatUuid(const unsigned char b[16]) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += kHex[b[i] >> 4];
    out += kHex[b[i] & 0xf];
  }
  return out;
}

// libsodium: the system's CSPRNG, SHA-256 and HMAC-SHA-256 (the core's only crypto library).
void InitSodium() {
  if (sodium_init() < 0) throw std::runtime_error("libsodium could not be initialised");
}

void RandomBytes(unsigned char* buf, int n) {
  InitSodium();
  randombytes_buf(buf, static_cast<size_t>(n));
}

void Sha256(const std::string& data, unsigned char digest[crypto_hash_sha256_BYTES]) {
  InitSodium();
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(data.data()), data.size());
}
}  // namespace

std::string NewUuid() {
  unsigned char b[16];
  RandomBytes(b, 16);
  b[6] = (b[6] & 0x0f) | 0x40;  // version 4
  b[8] = (b[8] & 0x3f) | 0x80;  // RFC 4122 variant
  return FormatUuid(b);
}

std::string NewTimeOrderedUuid(std::int64_t unix_ms) {
  unsigned char b[16];
  RandomBytes(b, 16);
  auto ms = static_cast<std::uint64_t>(std::max<std::int64_t>(unix_ms, 0));
  for (int i = 0; i < 6; ++i) b[i] = static_cast<unsigned char>(ms >> (8 * (5 - i)));
  b[6] = (b[6] & 0x0f) | 0x70;  // version 7
  b[8] = (b[8] & 0x3f) | 0x80;  // RFC 9562 variant
  return FormatUuid(b);
}

std::string DerivedUuid(const std::string& key) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  Sha256(key, digest);
  digest[6] = (digest[6] & 0x0f) | 0x80;  // version 8 (custom, name-based)
  digest[8] = (digest[8] & 0x3f) | 0x80;
  return FormatUuid(digest);
}

std::string RandomSecret(int bytes) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string raw(static_cast<size_t>(bytes), '\0');
  RandomBytes(reinterpret_cast<unsigned char*>(raw.data()), bytes);
  std::string out;
  unsigned int buffer = 0;
  int bits = 0;
  for (unsigned char c : raw) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kAlphabet[(buffer >> bits) & 0x3f];
    }
  }
  if (bits > 0) out += kAlphabet[(buffer << (6 - bits)) & 0x3f];
  return out;
}

std::string HmacSha256Hex(const std::string& key, const std::string& data) {
  InitSodium();
  unsigned char digest[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(key.data()),
                              key.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(data.data()),
                                data.size());
  crypto_auth_hmacsha256_final(&state, digest);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < crypto_auth_hmacsha256_BYTES; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 15];
  }
  return out;
}

std::string Sha256Hex(const std::string& data) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  Sha256(data, digest);
  std::string out;
  char hex[3];
  for (unsigned char c : digest) {
    std::snprintf(hex, sizeof hex, "%02x", c);
    out += hex;
  }
  return out;
}

bool ConstantTimeEquals(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  InitSodium();
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace beatbook

namespace beatbook {

std::string Base64Encode(const std::string& data) {
  const int variant = sodium_base64_VARIANT_ORIGINAL;
  std::string text(sodium_base64_ENCODED_LEN(data.size(), variant), '\0');
  sodium_bin2base64(text.data(), text.size(), reinterpret_cast<const unsigned char*>(data.data()),
                    data.size(), variant);
  text.resize(text.size() - 1);  // the terminating NUL
  return text;
}

bool Base64Decode(const std::string& text, std::string* data) {
  std::string out(text.size() / 4 * 3 + 3, '\0');
  std::size_t len = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                        text.size(), nullptr, &len, nullptr, sodium_base64_VARIANT_ORIGINAL) != 0) {
    return false;
  }
  out.resize(len);
  *data = std::move(out);
  return true;
}

}  // namespace beatbook
