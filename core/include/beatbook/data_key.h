// DataKey: the secret key that encrypts a device store's content at rest (libsodium).
//
//   DataKey key = DataKey::Generate();
//   std::string sealed = key.Seal(state_json, "record:" + id);
//   std::string back;
//   Status s = key.Open(sealed, "record:" + id, &back);  // Corruption if tampered or misplaced
//
// Each sealed text is XChaCha20-Poly1305 (IETF) with a fresh random 24-byte nonce, so the same
// key may seal billions of texts without a nonce ever repeating. `context` is authenticated but
// not stored: a text opens only under the context it was sealed with, so a row copied onto
// another record's id fails to open instead of silently showing the wrong record.
//
// How the key itself is kept (wrapped by a worker's PIN, or in a key file outside the store) is
// in beatbook/key_files.h.
#pragma once

#include <array>
#include <string>
#include <string_view>

#include "beatbook/status.h"

namespace beatbook {

class DataKey {
 public:
  static constexpr std::size_t kBytes = 32;

  // A new random key.
  static DataKey Generate();
  // The key with these raw bytes; InvalidArgument unless there are kBytes of them.
  static Status FromBytes(std::string_view raw, DataKey* out);

  DataKey() = default;
  DataKey(const DataKey& other) = default;
  DataKey& operator=(const DataKey& other) = default;
  ~DataKey();  // overwrites the key bytes

  // Version byte, nonce, then ciphertext with its 16-byte tag: 41 bytes more than `plain`.
  std::string Seal(std::string_view plain, std::string_view context) const;
  // Corruption if `sealed` was not sealed by this key under `context`, or was altered.
  Status Open(std::string_view sealed, std::string_view context, std::string* plain) const;

  const unsigned char* bytes() const { return bytes_.data(); }

 private:
  std::array<unsigned char, kBytes> bytes_{};
};

// Initialises libsodium once (thread-safe, idempotent). Every libsodium user calls it first.
void EnsureSodium();

}  // namespace beatbook
