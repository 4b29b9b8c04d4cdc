// SqlCentralStore: what operations need (docs/operations.md): the store's epoch, the time of the
// last backup, the size on disk. Kept in the meta table, which both engines always had.
#include <mutex>

#include "beatbook/crypto.h"
#include "sync_server/store/sql_central_store.h"

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

Status SqlCentralStore::Epoch(std::string* epoch) {
  std::lock_guard<std::mutex> lock(mu_);
  // Made on first use (stores older than epochs have none): whoever comes first makes it.
  BB_RETURN_IF_ERROR(
      session_->Run("INSERT INTO meta(key, value) VALUES('epoch', $1) ON CONFLICT DO NOTHING",
                    {RandomSecret(8)}));
  BB_RETURN_IF_ERROR(ReadMeta("epoch", epoch));
  if (epoch->empty()) return Status::Corruption("the store's epoch is missing");
  return Status::OK();
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
  try {
    *at_ms = text.empty() ? 0 : std::stoll(text);
  } catch (const std::exception&) {
    return Status::Corruption("the time of the last backup is unreadable: '" + text + "'");
  }
  return Status::OK();
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
