// StoreFile: the device store's file as every part of LocalStore uses it: one SQLite connection
// (db()), the key that seals content at rest (Seal, Unseal: docs/security.md), and the store's
// settings as rows of its meta table, plain or sealed. LocalStore's jobs (records, drafts, the
// outbox) each write through it. Not thread-safe, like LocalStore.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "beatbook/data_key.h"
#include "beatbook/sqlite_db.h"
#include "beatbook/status.h"

namespace beatbook {

class StoreFile {
 public:
  explicit StoreFile(std::string dir) : dir_(std::move(dir)) {}

  SqliteDb& db() { return db_; }
  const std::string& dir() const { return dir_; }

  // The key; null only for a store from before encryption (the max_schema_version test hook),
  // whose texts are stored as they are.
  const std::shared_ptr<const DataKey>& key() const { return key_; }
  void set_key(std::shared_ptr<const DataKey> key) { key_ = std::move(key); }
  // `plain` sealed for the place it is stored (`context`, e.g. "record:ID"), and back.
  std::string Seal(std::string_view plain, const std::string& context) const;
  Status Unseal(const std::string& stored, const std::string& context, std::string* plain) const;

  // A setting; Corruption if the store lacks it.
  Status GetMeta(const std::string& key, std::string* value);
  Status PutMeta(const std::string& key, const std::string& value);
  // Settings that are secrets (the identity holds the credential), sealed like records.
  Status GetSealedMeta(const std::string& key, std::string* value);
  Status PutSealedMeta(const std::string& key, const std::string& value);

 private:
  SqliteDb db_;
  std::string dir_;
  std::shared_ptr<const DataKey> key_;
};

}  // namespace beatbook
