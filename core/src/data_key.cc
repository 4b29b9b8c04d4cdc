#include "beatbook/data_key.h"

#include <cstdlib>
#include <iostream>

#include <sodium.h>

namespace beatbook {

namespace {
constexpr unsigned char kFormatVersion = 1;
constexpr std::size_t kNonceBytes = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr std::size_t kTagBytes = crypto_aead_xchacha20poly1305_ietf_ABYTES;
static_assert(DataKey::kBytes == crypto_aead_xchacha20poly1305_ietf_KEYBYTES);
}  // namespace

void EnsureSodium() {
  // sodium_init is safe to call from several threads and more than once; it fails only if the
  // system has no usable random source, and nothing secret can be made without one.
  static const int kReady = sodium_init();
  if (kReady < 0) {
    std::cerr << "beatbook: libsodium could not initialise (no random source)\n";
    std::abort();
  }
}

DataKey DataKey::Generate() {
  EnsureSodium();
  DataKey key;
  crypto_aead_xchacha20poly1305_ietf_keygen(key.bytes_.data());
  return key;
}

Status DataKey::FromBytes(std::string_view raw, DataKey* out) {
  if (raw.size() != kBytes) {
    return Status::InvalidArgument("a data key is " + std::to_string(kBytes) + " bytes, not " +
                                   std::to_string(raw.size()));
  }
  std::copy(raw.begin(), raw.end(), out->bytes_.begin());
  return Status::OK();
}

DataKey::~DataKey() { sodium_memzero(bytes_.data(), bytes_.size()); }

std::string DataKey::Seal(std::string_view plain, std::string_view context) const {
  EnsureSodium();
  std::string out(1 + kNonceBytes + plain.size() + kTagBytes, '\0');
  auto* p = reinterpret_cast<unsigned char*>(out.data());
  p[0] = kFormatVersion;
  randombytes_buf(p + 1, kNonceBytes);
  unsigned long long written = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      p + 1 + kNonceBytes, &written, reinterpret_cast<const unsigned char*>(plain.data()),
      plain.size(), reinterpret_cast<const unsigned char*>(context.data()), context.size(), nullptr,
      p + 1, bytes_.data());
  out.resize(1 + kNonceBytes + static_cast<std::size_t>(written));
  return out;
}

Status DataKey::Open(std::string_view sealed, std::string_view context, std::string* plain) const {
  EnsureSodium();
  if (sealed.size() < 1 + kNonceBytes + kTagBytes ||
      static_cast<unsigned char>(sealed[0]) != kFormatVersion) {
    return Status::Corruption("an encrypted value is not in a format this program reads");
  }
  const auto* p = reinterpret_cast<const unsigned char*>(sealed.data());
  std::string out(sealed.size() - 1 - kNonceBytes - kTagBytes, '\0');
  unsigned long long written = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          reinterpret_cast<unsigned char*>(out.data()), &written, nullptr, p + 1 + kNonceBytes,
          sealed.size() - 1 - kNonceBytes, reinterpret_cast<const unsigned char*>(context.data()),
          context.size(), p + 1, bytes_.data()) != 0) {
    return Status::Corruption("an encrypted value does not open with this store's key (" +
                              std::string(context.substr(0, context.find(':'))) +
                              "): altered, moved, or a different key");
  }
  out.resize(static_cast<std::size_t>(written));
  *plain = std::move(out);
  return Status::OK();
}

}  // namespace beatbook
