// A backup file: a copy of the central store, sealed (encrypted and authenticated) under a backup
// key and checksummed, so that a backup copied off the machine reveals nothing without the key,
// and a damaged or altered one is found before it is restored (docs/operations.md).
//
//   BackupKey key;
//   Status s = ReadBackupKey("/etc/beatbook/backup.key", &key);
//   s = SealBackup("/tmp/copy.db", header, key, "/var/backups/beatbook/x.bbk");
//   s = CheckBackupChecksum("x.bbk");                    // no key needed: damage, truncation
//   s = OpenBackup("x.bbk", key, "/tmp/plain.db", &header);   // the key: tampering, wrong key
//
// Layout: the magic line "BEATBOOK-BACKUP1\n"; a 4-byte big-endian length and the header (JSON:
// when, the store's epoch and schema version, the copy's size and SHA-256); libsodium's
// secretstream (XChaCha20-Poly1305) header; the copy in chunks of 64 KiB, each a 4-byte length
// and its ciphertext, the first authenticating the header, the last tagged final (so a file cut
// at a chunk boundary is refused too); and last a BLAKE2b-256 checksum of everything before it.
#pragma once

#include <array>
#include <string>

#include <nlohmann/json.hpp>

#include "beatbook/status.h"

namespace beatbook::server {

using BackupKey = std::array<unsigned char, 32>;

// Writes a new random key to `path` (mode 0600, hex text); AlreadyExists if the file exists: a
// key that sealed backups is never overwritten.
Status WriteBackupKey(const std::string& path);
// InvalidArgument naming the file if it is not a backup key.
Status ReadBackupKey(const std::string& path, BackupKey* key);

// Seals the file `plain_path` with `header` into `out_path`, written whole or not at all
// (a temporary file, synced, then renamed). The header gains "format" and the copy's "bytes"
// and "sha256".
Status SealBackup(const std::string& plain_path, nlohmann::json header, const BackupKey& key,
                  const std::string& out_path);
// Corruption saying what is wrong if the file is not a whole backup with a matching checksum.
Status CheckBackupChecksum(const std::string& path);
// Checks the checksum, then unseals the copy into `plain_out` (mode 0600) and gives the header.
// PermissionDenied if the key is not the one it was sealed with, Corruption if it was altered.
Status OpenBackup(const std::string& path, const BackupKey& key, const std::string& plain_out,
                  nlohmann::json* header);

}  // namespace beatbook::server
