#include "store_file.h"

namespace beatbook {

std::string StoreFile::Seal(std::string_view plain, const std::string& context) const {
  return key_ ? key_->Seal(plain, context) : std::string(plain);
}

Status StoreFile::Unseal(const std::string& stored, const std::string& context,
                         std::string* plain) const {
  if (!key_) {
    *plain = stored;
    return Status::OK();
  }
  return key_->Open(stored, context, plain);
}

Status StoreFile::GetMeta(const std::string& key, std::string* value) {
  SqliteStmt* st;
  BB_RETURN_IF_ERROR(db_.Cached("SELECT value FROM meta WHERE key = ?", &st));
  st->Bind(1, key);
  auto r = st->Step();
  if (r == SqliteStmt::kError) return st->LastError();
  if (r != SqliteStmt::kRow)
    return Status::Corruption("device store " + dir_ + " lacks '" + key + "'");
  *value = st->ColumnText(0);
  st->Reset();
  return Status::OK();
}

Status StoreFile::PutMeta(const std::string& key, const std::string& value) {
  SqliteStmt* st;
  BB_RETURN_IF_ERROR(db_.Cached("INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)", &st));
  st->Bind(1, key);
  st->Bind(2, value);
  return st->Run();
}

Status StoreFile::GetSealedMeta(const std::string& key, std::string* value) {
  std::string stored;
  BB_RETURN_IF_ERROR(GetMeta(key, &stored));
  return Unseal(stored, "meta:" + key, value);
}

Status StoreFile::PutSealedMeta(const std::string& key, const std::string& value) {
  SqliteStmt* st;
  BB_RETURN_IF_ERROR(db_.Cached("INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)", &st));
  st->Bind(1, key);
  st->BindBlob(2, Seal(value, "meta:" + key));
  return st->Run();
}

}  // namespace beatbook
