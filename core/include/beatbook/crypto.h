// Small cryptographic helpers over OpenSSL's libcrypto (no network code).
#pragma once

#include <cstdint>
#include <string>

namespace beatbook {

// A random version-4 UUID, lowercase, e.g. "0f8e6a34-1c2d-4e5f-9a0b-1c2d3e4f5a6b".
std::string NewUuid();
// A version-7 UUID (RFC 9562): the first 48 bits are `unix_ms`, the rest random. Ids made in time
// order sort in time order, so new records append to the id index instead of landing at random
// pages of it (bulk logging is b-tree bound). It reveals when the id was made, which the record's
// own occurred_at already says.
std::string NewTimeOrderedUuid(std::int64_t unix_ms);
// A UUID derived from `key` (SHA-256 of it, formatted as a version-8 UUID): the same key always
// gives the same id. Used for natural keys, e.g. a partner return's (indicator, fy, quarter, org).
std::string DerivedUuid(const std::string& key);
// `bytes` cryptographically random bytes, base64url-encoded without padding.
std::string RandomSecret(int bytes);
// Lowercase hex HMAC-SHA-256 of `data` under `key`.
std::string HmacSha256Hex(const std::string& key, const std::string& data);
// Standard base64 (with padding) of `data`, and back: false if `text` is not base64.
std::string Base64Encode(const std::string& data);
bool Base64Decode(const std::string& text, std::string* data);
// Lowercase hex SHA-256 of `data`.
std::string Sha256Hex(const std::string& data);
// Compares two strings in time that does not depend on where they differ.
bool ConstantTimeEquals(const std::string& a, const std::string& b);

}  // namespace beatbook
