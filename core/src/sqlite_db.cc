#include "beatbook/sqlite_db.h"

#include <sqlite3.h>

#include "beatbook/tunables.h"

namespace beatbook {

namespace {
Status SqliteError(sqlite3* db, const std::string& what) {
  int code = db ? sqlite3_errcode(db) : SQLITE_ERROR;
  std::string msg = what + ": " + (db ? sqlite3_errmsg(db) : "no database");
  // A full disk or a busy database may succeed later; the caller should retry, nothing was applied.
  if (code == SQLITE_FULL || code == SQLITE_BUSY || code == SQLITE_LOCKED) {
    return Status::Unavailable(msg);
  }
  if (code == SQLITE_CORRUPT || code == SQLITE_NOTADB) return Status::Corruption(msg);
  return Status::IoError(msg);
}
}  // namespace

SqliteStmt::~SqliteStmt() { sqlite3_finalize(stmt_); }

SqliteStmt::SqliteStmt(SqliteStmt&& other) noexcept : stmt_(other.stmt_), db_(other.db_) {
  other.stmt_ = nullptr;
}

SqliteStmt& SqliteStmt::operator=(SqliteStmt&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    stmt_ = other.stmt_;
    db_ = other.db_;
    other.stmt_ = nullptr;
  }
  return *this;
}

void SqliteStmt::Bind(int index, const std::string& text) {
  sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
}
void SqliteStmt::BindBlob(int index, std::string_view bytes) {
  sqlite3_bind_blob(stmt_, index, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
}
void SqliteStmt::Bind(int index, std::int64_t value) { sqlite3_bind_int64(stmt_, index, value); }
void SqliteStmt::Bind(int index, double value) { sqlite3_bind_double(stmt_, index, value); }
void SqliteStmt::BindNull(int index) { sqlite3_bind_null(stmt_, index); }

SqliteStmt::StepResult SqliteStmt::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return kRow;
  if (rc == SQLITE_DONE) return kDone;
  return kError;
}

Status SqliteStmt::Run() {
  StepResult r;
  while ((r = Step()) == kRow) {
  }
  Status s = r == kDone ? Status::OK() : LastError();
  Reset();
  return s;
}

Status SqliteStmt::ForEachRow(const std::function<Status()>& row) {
  StepResult r = kDone;
  Status s = Status::OK();
  while (s.ok() && (r = Step()) == kRow) s = row();
  if (s.ok() && r == kError) s = LastError();
  Reset();
  return s;
}

void SqliteStmt::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::string SqliteStmt::ColumnText(int col) const {
  const unsigned char* p = sqlite3_column_text(stmt_, col);
  int n = sqlite3_column_bytes(stmt_, col);
  return p ? std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(n)) : std::string();
}
std::int64_t SqliteStmt::ColumnInt(int col) const { return sqlite3_column_int64(stmt_, col); }
double SqliteStmt::ColumnDouble(int col) const { return sqlite3_column_double(stmt_, col); }
bool SqliteStmt::ColumnIsNull(int col) const {
  return sqlite3_column_type(stmt_, col) == SQLITE_NULL;
}
Status SqliteStmt::LastError() const {
  return SqliteError(db_, std::string("statement failed (") + sqlite3_sql(stmt_) + ")");
}

SqliteDb::~SqliteDb() {
  cache_.clear();  // statements must be finalized before the connection closes
  sqlite3_close_v2(db_);
}

Status SqliteDb::Cached(const std::string& sql, SqliteStmt** out) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    auto stmt = std::make_unique<SqliteStmt>();
    BB_RETURN_IF_ERROR(Prepare(sql, stmt.get()));
    it = cache_.emplace(sql, std::move(stmt)).first;
  }
  it->second->Reset();
  *out = it->second.get();
  return Status::OK();
}

Status SqliteDb::Open(const std::string& path, bool create) {
  path_ = path;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
  if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
    Status s = SqliteError(db_, "cannot open database " + path);
    sqlite3_close_v2(db_);
    db_ = nullptr;
    return s;
  }
  sqlite3_busy_timeout(db_, tunables::kSqliteBusyTimeoutMs);
  sqlite3_extended_result_codes(db_, 0);
  // Reading the schema first fails early, with a clear message, on a file that is not a database.
  BB_RETURN_IF_ERROR(Exec("SELECT count(*) FROM sqlite_master"));
  BB_RETURN_IF_ERROR(Exec("PRAGMA journal_mode=WAL"));
  BB_RETURN_IF_ERROR(Exec("PRAGMA synchronous=FULL"));
  BB_RETURN_IF_ERROR(Exec("PRAGMA foreign_keys=ON"));
  // A bulk transaction that outgrows the page cache spills pages to the WAL and reads them back.
  BB_RETURN_IF_ERROR(Exec("PRAGMA cache_size=" + std::to_string(-tunables::kSqliteCacheKiB)));
  return Status::OK();
}

Status SqliteDb::Exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    Status s = SqliteError(db_, "on " + path_);
    return s.IsUnavailable() ? s : Status::IoError("on " + path_ + ": " + msg);
  }
  return Status::OK();
}

Status SqliteDb::CheckpointTruncate() {
  int log = 0, done = 0;
  int rc = sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_TRUNCATE, &log, &done);
  if (rc == SQLITE_BUSY) {
    return Status::Unavailable("on " + path_ + ": another reader kept the WAL from being emptied");
  }
  if (rc != SQLITE_OK) return SqliteError(db_, "checkpointing " + path_);
  return Status::OK();
}

Status SqliteDb::Prepare(const std::string& sql, SqliteStmt* out) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &stmt, nullptr) !=
      SQLITE_OK) {
    return SqliteError(db_, "cannot prepare (" + sql + ")");
  }
  SqliteStmt s;
  s.stmt_ = stmt;
  s.db_ = db_;
  *out = std::move(s);
  return Status::OK();
}

Status SqliteDb::Begin() { return Exec("BEGIN IMMEDIATE"); }
Status SqliteDb::Commit() { return Exec("COMMIT"); }
void SqliteDb::Rollback() {
  if (!sqlite3_get_autocommit(db_)) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
}
std::int64_t SqliteDb::ChangesCount() const { return sqlite3_changes64(db_); }

}  // namespace beatbook
