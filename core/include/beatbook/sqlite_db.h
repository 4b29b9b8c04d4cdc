// A thin RAII layer over the SQLite C API, shared by the device store and the central store.
//
//   SqliteDb db;
//   BB_RETURN_IF_ERROR(db.Open(path));
//   SqliteStmt st;
//   BB_RETURN_IF_ERROR(db.Prepare("SELECT state FROM records WHERE id = ?", &st));
//   st.Bind(1, id);
//   if (st.Step() == SqliteStmt::kRow) use(st.ColumnText(0));
//
// Errors come back as Status with SQLite's message and the statement that failed. Not thread-safe:
// one SqliteDb per thread, or a lock around it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "beatbook/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace beatbook {

class SqliteStmt {
 public:
  enum StepResult { kRow, kDone, kError };

  SqliteStmt() = default;
  ~SqliteStmt();
  SqliteStmt(const SqliteStmt&) = delete;
  SqliteStmt& operator=(const SqliteStmt&) = delete;
  SqliteStmt(SqliteStmt&& other) noexcept;
  SqliteStmt& operator=(SqliteStmt&& other) noexcept;

  // Parameters are 1-based, as in SQLite.
  void Bind(int index, const std::string& text);
  // Bytes that are not text (sealed values). ColumnText reads them back.
  void BindBlob(int index, std::string_view bytes);
  void Bind(int index, std::int64_t value);
  void Bind(int index, double value);
  void BindNull(int index);
  StepResult Step();
  // Runs the statement to completion, then resets it for reuse.
  Status Run();
  // Steps through every row, calling `row` on each, then resets the statement. Stops at the
  // first error, SQLite's or `row`'s, and returns it: an error is never taken for the last row.
  Status ForEachRow(const std::function<Status()>& row);
  void Reset();

  std::string ColumnText(int col) const;
  std::int64_t ColumnInt(int col) const;
  double ColumnDouble(int col) const;
  bool ColumnIsNull(int col) const;
  // The error of the last Step() that returned kError.
  Status LastError() const;

 private:
  friend class SqliteDb;
  sqlite3_stmt* stmt_ = nullptr;
  sqlite3* db_ = nullptr;
};

class SqliteDb {
 public:
  SqliteDb() = default;
  ~SqliteDb();
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  // Opens (creating if `create`) the database at `path`, in WAL mode with synchronous=FULL so a
  // committed transaction survives a power cut, foreign keys on and a busy timeout.
  Status Open(const std::string& path, bool create);
  Status Exec(const std::string& sql);
  // Copies the WAL back into the database and empties it, so no old page image stays in the
  // -wal file. Unavailable if another connection's reader kept it from finishing.
  Status CheckpointTruncate();
  Status Prepare(const std::string& sql, SqliteStmt* out);
  // A statement prepared once and kept for the life of the connection (reset before it is
  // returned). For hot paths such as bulk logging and merging pushes.
  Status Cached(const std::string& sql, SqliteStmt** out);
  // BEGIN IMMEDIATE: takes the write lock now, so a transaction never fails half-way on a lock.
  Status Begin();
  Status Commit();
  void Rollback();
  std::int64_t ChangesCount() const;
  sqlite3* raw() { return db_; }

 private:
  sqlite3* db_ = nullptr;
  std::string path_;
  std::unordered_map<std::string, std::unique_ptr<SqliteStmt>> cache_;
};

// Rolls back on destruction unless Commit() succeeded.
class SqliteTransaction {
 public:
  explicit SqliteTransaction(SqliteDb* db) : db_(db) {}
  ~SqliteTransaction() {
    if (active_) db_->Rollback();
  }
  Status Begin() {
    Status s = db_->Begin();
    active_ = s.ok();
    return s;
  }
  Status Commit() {
    Status s = db_->Commit();
    if (s.ok()) active_ = false;
    return s;
  }

 private:
  SqliteDb* db_;
  bool active_ = false;
};

}  // namespace beatbook
