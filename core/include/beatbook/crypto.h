// Small cryptographic helpers over OpenSSL's libcrypto (no network code).
#pragma once

#include <string>

namespace beatbook {

// A random version-4 UUID, lowercase, e.g. "0f8e6a34-1c2d-4e5f-9a0b-1c2d3e4f5a6b".
std::string NewUuid();
// A UUID derived from `key` (SHA-256 of it, formatted as a version-8 UUID): the same key always
// gives the same id. Used for natural keys, e.g. a partner return's (indicator, fy, quarter, org).
std::string DerivedUuid(const std::string& key);
// `bytes` cryptographically random bytes, base64url-encoded without padding.
std::string RandomSecret(int bytes);
// Lowercase hex SHA-256 of `data`.
std::string Sha256Hex(const std::string& data);
// Compares two strings in time that does not depend on where they differ.
bool ConstantTimeEquals(const std::string& a, const std::string& b);

}  // namespace beatbook
