#include "beatbook/record_rows.h"

namespace beatbook {

Status ParseStoredState(const std::string& text, RecordState* out) {
  try {
    return RecordState::FromJson(json::parse(text), out);
  } catch (const json::exception& e) {
    return Status::Corruption(std::string("a stored record is unreadable: ") + e.what());
  }
}

Status LoadStoredState(SqliteDb* db, const std::string& id, RecordState* out, bool* found) {
  SqliteStmt* st;
  BB_RETURN_IF_ERROR(db->Cached("SELECT state FROM records WHERE id = ?", &st));
  st->Bind(1, id);
  auto r = st->Step();
  if (r == SqliteStmt::kError) return st->LastError();
  *found = r == SqliteStmt::kRow;
  if (!*found) return Status::OK();
  std::string text = st->ColumnText(0);
  st->Reset();
  return ParseStoredState(text, out);
}

}  // namespace beatbook
