#include "sync_server/backup/backup_file.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <memory>
#include <vector>

#include "beatbook/crypto.h"
#include "beatbook/json_text.h"

namespace beatbook::server {

using nlohmann::json;

namespace {

constexpr char kMagic[] = "BEATBOOK-BACKUP1\n";
constexpr std::size_t kMagicSize = sizeof(kMagic) - 1;
constexpr std::size_t kChunk = 64 * 1024;
constexpr std::size_t kSum = 32;  // BLAKE2b-256
constexpr std::uint32_t kMaxHeader = 64 * 1024;
using Stream = crypto_secretstream_xchacha20poly1305_state;
constexpr std::size_t kStreamHeader = crypto_secretstream_xchacha20poly1305_HEADERBYTES;
constexpr std::size_t kTagBytes = crypto_secretstream_xchacha20poly1305_ABYTES;

struct FileCloser {
  void operator()(std::FILE* f) const {
    if (f) std::fclose(f);
  }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

File OpenPrivate(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return nullptr;
  return File(::fdopen(fd, "wb"));
}

void PutU32(std::string* out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8)
    out->push_back(static_cast<char>((v >> shift) & 0xff));
}

bool GetU32(std::FILE* f, std::uint32_t* v) {
  unsigned char b[4];
  if (std::fread(b, 1, 4, f) != 4) return false;
  *v =
      (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) | b[3];
  return true;
}

// Writes `bytes` to `f` and into the running checksum.
bool Put(std::FILE* f, crypto_generichash_state* sum, const void* bytes, std::size_t n) {
  crypto_generichash_update(sum, static_cast<const unsigned char*>(bytes), n);
  return std::fwrite(bytes, 1, n, f) == n;
}

Status Sha256OfFile(const std::string& path, std::string* hex, std::int64_t* size) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IoError("cannot read " + path);
  crypto_hash_sha256_state state;
  crypto_hash_sha256_init(&state);
  std::vector<char> buf(kChunk);
  *size = 0;
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    auto n = static_cast<std::size_t>(in.gcount());
    crypto_hash_sha256_update(&state, reinterpret_cast<unsigned char*>(buf.data()), n);
    *size += static_cast<std::int64_t>(n);
  }
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(&state, digest);
  char text[crypto_hash_sha256_BYTES * 2 + 1];
  sodium_bin2hex(text, sizeof(text), digest, sizeof(digest));
  *hex = text;
  return Status::OK();
}

bool SyncAndClose(File f) {
  if (std::fflush(f.get()) != 0) return false;
  if (::fsync(::fileno(f.get())) != 0) return false;
  return std::fclose(f.release()) == 0;
}

// The directory part of `path`, for syncing a rename.
void SyncDirOf(const std::string& path) {
  std::size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

}  // namespace

Status WriteBackupKey(const std::string& path) {
  if (sodium_init() < 0) return Status::IoError("libsodium could not start");
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) {
      return Status::AlreadyExists(path +
                                   " exists: a backup key is never overwritten (backups "
                                   "sealed with it could not be restored)");
    }
    return Status::IoError("cannot create the backup key " + path);
  }
  BackupKey key;
  randombytes_buf(key.data(), key.size());
  char hex[sizeof(BackupKey) * 2 + 1];
  sodium_bin2hex(hex, sizeof(hex), key.data(), key.size());
  sodium_memzero(key.data(), key.size());
  std::string text = std::string("beatbook-backup-key ") + hex + "\n";
  sodium_memzero(hex, sizeof(hex));
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
            ::fsync(fd) == 0;
  ::close(fd);
  sodium_memzero(text.data(), text.size());
  if (!ok) return Status::IoError("cannot write the backup key " + path);
  SyncDirOf(path);
  return Status::OK();
}

Status ReadBackupKey(const std::string& path, BackupKey* key) {
  std::ifstream in(path);
  if (!in) return Status::NotFound("cannot read the backup key " + path);
  std::string label, hex;
  in >> label >> hex;
  std::size_t used = 0;
  if (label != "beatbook-backup-key" || hex.size() != key->size() * 2 ||
      sodium_hex2bin(key->data(), key->size(), hex.c_str(), hex.size(), nullptr, &used, nullptr) !=
          0 ||
      used != key->size()) {
    return Status::InvalidArgument(path +
                                   " is not a backup key (made by `sync_server backup-key`)");
  }
  return Status::OK();
}

Status SealBackup(const std::string& plain_path, json header, const BackupKey& key,
                  const std::string& out_path) {
  if (sodium_init() < 0) return Status::IoError("libsodium could not start");
  std::string sha;
  std::int64_t size = 0;
  BB_RETURN_IF_ERROR(Sha256OfFile(plain_path, &sha, &size));
  header["format"] = 1;
  header["bytes"] = size;
  header["sha256"] = sha;
  std::string header_text = JsonText(header);

  std::ifstream in(plain_path, std::ios::binary);
  if (!in) return Status::IoError("cannot read " + plain_path);
  std::string partial = out_path + ".partial";
  File out = OpenPrivate(partial);
  if (!out) return Status::IoError("cannot create " + partial);
  crypto_generichash_state sum;
  crypto_generichash_init(&sum, nullptr, 0, kSum);
  std::string prefix(kMagic, kMagicSize);
  PutU32(&prefix, static_cast<std::uint32_t>(header_text.size()));
  prefix += header_text;
  Stream stream;
  unsigned char stream_header[kStreamHeader];
  crypto_secretstream_xchacha20poly1305_init_push(&stream, stream_header, key.data());
  bool ok = Put(out.get(), &sum, prefix.data(), prefix.size()) &&
            Put(out.get(), &sum, stream_header, sizeof(stream_header));
  std::vector<unsigned char> plain(kChunk), sealed(kChunk + kTagBytes);
  bool first = true;
  // Read one chunk ahead, so the last one is known when it is sealed.
  in.read(reinterpret_cast<char*>(plain.data()), kChunk);
  std::size_t n = static_cast<std::size_t>(in.gcount());
  while (ok) {
    std::vector<unsigned char> next(kChunk);
    in.read(reinterpret_cast<char*>(next.data()), kChunk);
    std::size_t next_n = static_cast<std::size_t>(in.gcount());
    bool last = next_n == 0;
    unsigned long long sealed_n = 0;
    crypto_secretstream_xchacha20poly1305_push(
        &stream, sealed.data(), &sealed_n, plain.data(), n,
        first ? reinterpret_cast<const unsigned char*>(header_text.data()) : nullptr,
        first ? header_text.size() : 0, last ? crypto_secretstream_xchacha20poly1305_TAG_FINAL : 0);
    std::string len;
    PutU32(&len, static_cast<std::uint32_t>(sealed_n));
    ok = Put(out.get(), &sum, len.data(), len.size()) &&
         Put(out.get(), &sum, sealed.data(), static_cast<std::size_t>(sealed_n));
    first = false;
    if (last) break;
    plain.swap(next);
    n = next_n;
  }
  sodium_memzero(plain.data(), plain.size());
  unsigned char digest[kSum];
  crypto_generichash_final(&sum, digest, kSum);
  ok = ok && std::fwrite(digest, 1, kSum, out.get()) == kSum && SyncAndClose(std::move(out));
  if (!ok || std::rename(partial.c_str(), out_path.c_str()) != 0) {
    std::remove(partial.c_str());
    return Status::IoError("cannot write the backup " + out_path + " (disk full?)");
  }
  SyncDirOf(out_path);
  return Status::OK();
}

Status CheckBackupChecksum(const std::string& path) {
  if (sodium_init() < 0) return Status::IoError("libsodium could not start");
  File in(std::fopen(path.c_str(), "rb"));
  if (!in) return Status::NotFound("cannot read the backup " + path);
  struct stat st {};
  if (::fstat(::fileno(in.get()), &st) != 0 ||
      st.st_size < static_cast<off_t>(kMagicSize + 4 + kStreamHeader + kSum)) {
    return Status::Corruption(path + " is too short to be a backup");
  }
  auto body = static_cast<std::size_t>(st.st_size) - kSum;
  crypto_generichash_state sum;
  crypto_generichash_init(&sum, nullptr, 0, kSum);
  std::vector<unsigned char> buf(kChunk);
  std::size_t left = body;
  while (left > 0) {
    std::size_t n = std::fread(buf.data(), 1, std::min(left, buf.size()), in.get());
    if (n == 0) return Status::IoError("cannot read the backup " + path);
    crypto_generichash_update(&sum, buf.data(), n);
    left -= n;
  }
  unsigned char digest[kSum], stored[kSum];
  crypto_generichash_final(&sum, digest, kSum);
  if (std::fread(stored, 1, kSum, in.get()) != kSum || sodium_memcmp(digest, stored, kSum) != 0) {
    return Status::Corruption(path +
                              " is damaged: its checksum does not match (cut short or "
                              "changed since it was written)");
  }
  return Status::OK();
}

Status OpenBackup(const std::string& path, const BackupKey& key, const std::string& plain_out,
                  json* header) {
  BB_RETURN_IF_ERROR(CheckBackupChecksum(path));
  File in(std::fopen(path.c_str(), "rb"));
  if (!in) return Status::NotFound("cannot read the backup " + path);
  struct stat st {};
  ::fstat(::fileno(in.get()), &st);
  auto end = static_cast<long>(st.st_size) - static_cast<long>(kSum);
  char magic[kMagicSize];
  std::uint32_t header_size = 0;
  if (std::fread(magic, 1, kMagicSize, in.get()) != kMagicSize ||
      std::string(magic, kMagicSize) != kMagic || !GetU32(in.get(), &header_size) ||
      header_size > kMaxHeader) {
    return Status::Corruption(path + " is not a Beatbook backup (its first bytes are wrong)");
  }
  std::string header_text(header_size, '\0');
  unsigned char stream_header[kStreamHeader];
  if (std::fread(header_text.data(), 1, header_size, in.get()) != header_size ||
      std::fread(stream_header, 1, kStreamHeader, in.get()) != kStreamHeader) {
    return Status::Corruption(path + " is cut short");
  }
  *header = json::parse(header_text, nullptr, /*allow_exceptions=*/false);
  if (!header->is_object() || header->value("format", 0) != 1) {
    return Status::Corruption(path + ": its header is not one this program reads");
  }
  Stream stream;
  if (crypto_secretstream_xchacha20poly1305_init_pull(&stream, stream_header, key.data()) != 0) {
    return Status::Corruption(path + ": its encryption header is damaged");
  }
  File out = OpenPrivate(plain_out);
  if (!out) return Status::IoError("cannot create " + plain_out);
  std::vector<unsigned char> sealed(kChunk + kTagBytes), plain(kChunk);
  bool first = true, final_seen = false;
  while (std::ftell(in.get()) < end) {
    std::uint32_t n = 0;
    if (!GetU32(in.get(), &n) || n < kTagBytes || n > sealed.size() ||
        std::fread(sealed.data(), 1, n, in.get()) != n || final_seen) {
      return Status::Corruption(path + ": a sealed chunk is malformed");
    }
    unsigned long long plain_n = 0;
    unsigned char tag = 0;
    if (crypto_secretstream_xchacha20poly1305_pull(
            &stream, plain.data(), &plain_n, &tag, sealed.data(), n,
            first ? reinterpret_cast<const unsigned char*>(header_text.data()) : nullptr,
            first ? header_text.size() : 0) != 0) {
      std::fclose(out.release());
      std::remove(plain_out.c_str());
      return first ? Status::PermissionDenied(
                         "the backup key does not open " + path +
                         " (it was sealed with another key, or its header was changed)")
                   : Status::Corruption(path + " was altered after it was sealed");
    }
    if (std::fwrite(plain.data(), 1, static_cast<std::size_t>(plain_n), out.get()) != plain_n) {
      return Status::IoError("cannot write " + plain_out + " (disk full?)");
    }
    final_seen = tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL;
    first = false;
  }
  sodium_memzero(plain.data(), plain.size());
  if (!final_seen) return Status::Corruption(path + " is cut short: its last chunk is missing");
  if (!SyncAndClose(std::move(out))) return Status::IoError("cannot write " + plain_out);
  std::string sha;
  std::int64_t size = 0;
  BB_RETURN_IF_ERROR(Sha256OfFile(plain_out, &sha, &size));
  if (sha != header->value("sha256", "") || size != header->value("bytes", std::int64_t{-1})) {
    return Status::Corruption(path + ": the unsealed copy does not match its recorded SHA-256");
  }
  return Status::OK();
}

}  // namespace beatbook::server
