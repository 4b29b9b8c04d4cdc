#include "beatbook/key_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include <sodium.h>

#include "beatbook/crypto.h"
#include "beatbook/tunables.h"

namespace beatbook {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr char kKdfName[] = "argon2id13";
constexpr char kWrapContext[] = "beatbook pin-wrapped data key";

std::string ToHex(const unsigned char* data, std::size_t n) {
  std::string hex(n * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), data, n);
  hex.pop_back();
  return hex;
}

bool FromHex(const std::string& hex, std::string* out) {
  out->assign(hex.size() / 2, '\0');
  std::size_t written = 0;
  if (sodium_hex2bin(reinterpret_cast<unsigned char*>(out->data()), out->size(), hex.data(),
                     hex.size(), nullptr, &written, nullptr) != 0 ||
      written != out->size()) {
    return false;
  }
  return true;
}

// The key that wraps the data key: Argon2id of the PIN under the file's salt and cost.
Status DeriveWrappingKey(const std::string& pin, const std::string& salt, unsigned long long ops,
                         std::size_t mem, DataKey* out) {
  unsigned char derived[DataKey::kBytes];
  if (crypto_pwhash(derived, sizeof derived, pin.data(), pin.size(),
                    reinterpret_cast<const unsigned char*>(salt.data()), ops, mem,
                    crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return Status::Unavailable("not enough memory to check the PIN (" + std::to_string(mem >> 20) +
                               " MiB needed)");
  }
  Status s = DataKey::FromBytes(
      std::string_view(reinterpret_cast<const char*>(derived), sizeof derived), out);
  sodium_memzero(derived, sizeof derived);
  return s;
}

bool IsSafeStoreId(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-')) return false;
  }
  return true;
}

std::string DeviceKeyPath(const std::string& store_id) {
  return (fs::path(DeviceKeyDir()) / (store_id + ".key")).string();
}

}  // namespace

Status CheckPin(const std::string& pin) {
  if (pin.size() < tunables::kMinPinLength || pin.size() > tunables::kMaxPinLength) {
    return Status::InvalidArgument("a PIN must be " + std::to_string(tunables::kMinPinLength) +
                                   " to " + std::to_string(tunables::kMaxPinLength) +
                                   " characters long, not " + std::to_string(pin.size()));
  }
  return Status::OK();
}

Status WrapKeyWithPin(const DataKey& key, const std::string& pin, json* key_file) {
  BB_RETURN_IF_ERROR(CheckPin(pin));
  EnsureSodium();
  std::string salt(crypto_pwhash_SALTBYTES, '\0');
  randombytes_buf(salt.data(), salt.size());
  DataKey wrapping;
  BB_RETURN_IF_ERROR(DeriveWrappingKey(pin, salt, tunables::kPinKdfOpsLimit,
                                       tunables::kPinKdfMemLimitBytes, &wrapping));
  std::string wrapped = wrapping.Seal(
      std::string_view(reinterpret_cast<const char*>(key.bytes()), DataKey::kBytes), kWrapContext);
  *key_file = {{"version", 1},
               {"kdf", kKdfName},
               {"opslimit", tunables::kPinKdfOpsLimit},
               {"memlimit", tunables::kPinKdfMemLimitBytes},
               {"salt", ToHex(reinterpret_cast<const unsigned char*>(salt.data()), salt.size())},
               {"wrapped_key",
                ToHex(reinterpret_cast<const unsigned char*>(wrapped.data()), wrapped.size())}};
  return Status::OK();
}

Status UnwrapKeyWithPin(const json& key_file, const std::string& pin, DataKey* key) {
  EnsureSodium();
  std::string salt, wrapped;
  unsigned long long ops = 0;
  std::size_t mem = 0;
  try {
    if (key_file.at("kdf").get<std::string>() != kKdfName) {
      return Status::Corruption("the key file uses an unknown key derivation");
    }
    ops = key_file.at("opslimit").get<unsigned long long>();
    mem = key_file.at("memlimit").get<std::size_t>();
    if (!FromHex(key_file.at("salt").get<std::string>(), &salt) ||
        salt.size() != crypto_pwhash_SALTBYTES ||
        !FromHex(key_file.at("wrapped_key").get<std::string>(), &wrapped)) {
      return Status::Corruption("the key file is malformed");
    }
  } catch (const json::exception& e) {
    return Status::Corruption(std::string("the key file is malformed: ") + e.what());
  }
  // A tampered file must not make us spend unbounded memory or time.
  if (ops < crypto_pwhash_OPSLIMIT_MIN || ops > crypto_pwhash_OPSLIMIT_SENSITIVE ||
      mem < crypto_pwhash_MEMLIMIT_MIN || mem > crypto_pwhash_MEMLIMIT_SENSITIVE) {
    return Status::Corruption("the key file asks for an out-of-range key derivation cost");
  }
  DataKey wrapping;
  BB_RETURN_IF_ERROR(DeriveWrappingKey(pin, salt, ops, mem, &wrapping));
  std::string raw;
  if (!wrapping.Open(wrapped, kWrapContext, &raw).ok()) {
    return Status::PermissionDenied("wrong PIN");
  }
  Status s = DataKey::FromBytes(raw, key);
  sodium_memzero(raw.data(), raw.size());
  return s;
}

std::string DeviceKeyDir() {
  if (const char* dir = std::getenv("BEATBOOK_KEY_DIR"); dir && *dir) return dir;
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg) {
    return (fs::path(xdg) / "beatbook" / "keys").string();
  }
  const char* home = std::getenv("HOME");
  return (fs::path(home && *home ? home : ".") / ".local" / "share" / "beatbook" / "keys").string();
}

Status WritePrivateFile(const std::string& path, const std::string& text) {
  // A name of its own per writer: two processes writing the same file do not share a temporary.
  std::string tmp = path + ".tmp." + std::to_string(::getpid()) + "." + RandomSecret(6);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Status::IoError("cannot write " + tmp + ": " + std::strerror(errno));
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
            ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return Status::IoError("cannot write " + path + ": " + std::strerror(errno));
  }
  // The rename itself must survive a power cut: a store sealed under a key whose file vanished
  // is lost. Sync the directory that holds the new name.
  std::string dir = fs::path(path).parent_path().string();
  int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Status::OK();
}

Status SaveDeviceKey(const std::string& store_id, const DataKey& key) {
  if (!IsSafeStoreId(store_id)) return Status::InvalidArgument("bad store id '" + store_id + "'");
  std::error_code ec;
  fs::create_directories(DeviceKeyDir(), ec);
  if (ec) {
    return Status::IoError("cannot create the key directory " + DeviceKeyDir() + ": " +
                           ec.message());
  }
  ::chmod(DeviceKeyDir().c_str(), 0700);
  std::string path = DeviceKeyPath(store_id);
  if (fs::exists(path, ec)) return Status::AlreadyExists("a key file already exists: " + path);
  return WritePrivateFile(path, ToHex(key.bytes(), DataKey::kBytes) + "\n");
}

Status LoadDeviceKey(const std::string& store_id, DataKey* key) {
  if (!IsSafeStoreId(store_id)) return Status::Corruption("bad store id '" + store_id + "'");
  std::string path = DeviceKeyPath(store_id);
  std::FILE* f = std::fopen(path.c_str(), "r");
  if (!f) {
    return Status::NotFound("the device store's key file " + path +
                            " is missing: the store cannot be read without it (was it made "
                            "under another account, or with another BEATBOOK_KEY_DIR?)");
  }
  char buf[2 * DataKey::kBytes + 2] = {};
  std::size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  std::string hex(buf, n), raw;
  while (!hex.empty() && (hex.back() == '\n' || hex.back() == '\r')) hex.pop_back();
  if (!FromHex(hex, &raw) || raw.size() != DataKey::kBytes) {
    return Status::Corruption("the key file " + path + " is malformed");
  }
  Status s = DataKey::FromBytes(raw, key);
  sodium_memzero(raw.data(), raw.size());
  sodium_memzero(buf, sizeof buf);
  return s;
}

void DeleteDeviceKey(const std::string& store_id) {
  if (!IsSafeStoreId(store_id)) return;
  std::error_code ec;
  fs::remove(DeviceKeyPath(store_id), ec);
}

}  // namespace beatbook
