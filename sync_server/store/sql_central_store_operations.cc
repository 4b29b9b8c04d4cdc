// SqlCentralStore: what operations need (docs/operations.md): the store's epoch, the time of the
// last backup, the size on disk. Kept in the meta table, which both engines always had.
#include <mutex>

#include "beatbook/crypto.h"
#include "sync_server/store/sql_central_store.h"
#include "sync_server/store/store_common.h"

namespace beatbook::server {

Status SqlCentralStore::ReadMeta(const std::string& key, std::string* value) {
  value->clear();
  return session_->Run("SELECT value FROM meta WHERE key = $1", {key}, [&](const SqlRow& row) {
    *value = row.Text(0);
    return Status::OK();
  });
}

Status SqlCentralStore::WriteMeta(const std::string& key, const std::string& value) {
  return session_->Run(
      "INSERT INTO meta(key, value) VALUES($1, $2) "
      "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
      {key, value});
}

Status SqlCentralStore::MetaMadeOnce(const std::string& key, const std::string& made,
                                     std::string* value) {
  // Whoever comes first makes it; everyone reads the same one.
  BB_RETURN_IF_ERROR(session_->Run(
      "INSERT INTO meta(key, value) VALUES($1, $2) ON CONFLICT DO NOTHING", {key, made}));
  BB_RETURN_IF_ERROR(ReadMeta(key, value));
  if (value->empty()) return Status::Corruption("the store's " + key + " is missing");
  return Status::OK();
}

Status SqlCentralStore::Epoch(std::string* epoch) {
  std::lock_guard<std::mutex> lock(mu_);
  // Made on first use: stores older than epochs have none.
  return MetaMadeOnce("epoch", RandomSecret(8), epoch);
}

Status SqlCentralStore::NewEpoch(std::string* epoch) {
  std::lock_guard<std::mutex> lock(mu_);
  *epoch = RandomSecret(8);
  return WriteMeta("epoch", *epoch);
}

Status SqlCentralStore::LastBackup(std::int64_t* at_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string text;
  BB_RETURN_IF_ERROR(ReadMeta("last_backup_ms", &text));
  *at_ms = 0;
  return text.empty() ? Status::OK() : StoredInt(text, "time of the last backup", at_ms);
}

Status SqlCentralStore::NoteBackup(std::int64_t at_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  return WriteMeta("last_backup_ms", std::to_string(at_ms));
}

Status SqlCentralStore::StoreBytes(std::int64_t* bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  return session_->StoreBytes(bytes);
}

}  // namespace beatbook::server
