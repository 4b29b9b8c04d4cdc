#include "migrations.h"

namespace beatbook {

Status ApplyMigrations(SqliteDb* db, const std::vector<std::string>& migrations, int current,
                       int target, const std::string& what) {
  int latest = static_cast<int>(migrations.size());
  if (current > latest) {
    return Status::FailedPrecondition(what + " has schema version " + std::to_string(current) +
                                      ", newer than this program's " + std::to_string(latest) +
                                      "; update the program");
  }
  if (target > latest) target = latest;
  for (int v = current; v < target; ++v) {
    SqliteTransaction txn(db);
    BB_RETURN_IF_ERROR(txn.Begin());
    Status s = db->Exec(migrations[static_cast<size_t>(v)]);
    if (!s.ok()) {
      return Status::IoError("migrating " + what + " to version " + std::to_string(v + 1) +
                             " failed: " + s.message());
    }
    BB_RETURN_IF_ERROR(db->Exec("PRAGMA user_version = " + std::to_string(v + 1)));
    BB_RETURN_IF_ERROR(txn.Commit());
  }
  return Status::OK();
}

const std::vector<std::string>& DeviceMigrations() {
  static const std::vector<std::string> kMigrations = {
      // 1: records with their merge state, the outbox, settings.
      R"sql(
        CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE records(
          id TEXT PRIMARY KEY,
          form TEXT NOT NULL,
          deleted INTEGER NOT NULL DEFAULT 0,
          occurred_at TEXT NOT NULL DEFAULT '',
          state TEXT NOT NULL);
        CREATE INDEX records_by_form ON records(form, deleted);
        CREATE TABLE outbox(
          seq INTEGER PRIMARY KEY AUTOINCREMENT,
          change_id TEXT NOT NULL,
          record_id TEXT NOT NULL,
          change TEXT NOT NULL);
      )sql",
      // 2: the server's rejections, and the occurred_at instant for ordering (backfilled).
      R"sql(
        CREATE TABLE rejections(
          change_id TEXT PRIMARY KEY,
          record_id TEXT NOT NULL,
          reason TEXT NOT NULL,
          at_ms INTEGER NOT NULL);
        ALTER TABLE records ADD COLUMN occurred_ms INTEGER NOT NULL DEFAULT 0;
        UPDATE records
           SET occurred_ms = CAST(round((julianday(occurred_at) - 2440587.5) * 86400000) AS INTEGER)
         WHERE occurred_at <> '' AND julianday(occurred_at) IS NOT NULL;
        CREATE INDEX records_by_time ON records(deleted, occurred_ms);
      )sql",
      // 3: content encrypted at rest. LocalStore seals the rows in C++ (EncryptPlainContent);
      // this step only raises the version, so that older programs refuse the store instead of
      // reading sealed bytes as JSON.
      R"sql(
        SELECT 1;
      )sql",
      // 4: drafts, incomplete records kept on the device only (content sealed like records).
      R"sql(
        CREATE TABLE drafts(
          id TEXT PRIMARY KEY,
          form TEXT NOT NULL,
          updated_ms INTEGER NOT NULL,
          content BLOB NOT NULL);
      )sql",
      // 5: photos (docs/protocol.md, section 8), sealed; `uploaded` once the server confirmed.
      R"sql(
        CREATE TABLE attachments(
          name TEXT PRIMARY KEY,
          bytes INTEGER NOT NULL,
          added_ms INTEGER NOT NULL,
          uploaded INTEGER NOT NULL DEFAULT 0,
          content BLOB NOT NULL);
      )sql",
  };
  return kMigrations;
}

}  // namespace beatbook
