// SqlSession: one connection to the SQL engine under the central store, and the few places where
// the engines really differ. SqlCentralStore (store/sql_central_store.h) owns every statement, the
// row mapping and the ledger, written once; an engine supplies a session:
//   SqliteSession (store/sqlite_session.h): the embedded store, one writer at a time;
//   PgSession (store/pg_session.h): PostgreSQL, where several servers write at once.
//
// Statements are written once, in SQL both engines accept (upserts with ON CONFLICT, RETURNING,
// CASE rather than booleans), with PostgreSQL's numbered parameters: $1, $2, ... (a parameter may
// appear more than once).
//
//   session->Run("SELECT state FROM records WHERE id = $1", {id}, [&](const SqlRow& row) {
//     text = row.Text(0);
//     return Status::OK();
//   });
//
// A session is not thread-safe: the store holds a mutex around it.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <variant>
#include <vector>

#include "beatbook/status.h"

namespace beatbook::server {

// A statement parameter: SQL NULL, a whole number, a real number or text.
using SqlParam = std::variant<std::nullptr_t, std::int64_t, double, std::string>;

// One row of a result, read by column (0-based).
class SqlRow {
 public:
  virtual ~SqlRow() = default;
  virtual std::string Text(int col) const = 0;
  virtual std::int64_t Int(int col) const = 0;
  virtual double Double(int col) const = 0;
};

// Called for each row; an error stops the statement and is returned by Run.
using SqlRowFn = std::function<Status(const SqlRow&)>;

// Which engine's text a migration step runs (store/sql_schema.h).
enum class SqlDialect { kSqlite, kPostgres };

class SqlSession {
 public:
  enum class TxnKind {
    kWrite,     // may write; SQLite takes its write lock at once
    kSnapshot,  // reads only, every statement seeing the same committed state
  };

  virtual ~SqlSession() = default;

  // --- Running statements ---
  // Runs one statement with its parameters, calling `row` (if given) for each row it returns.
  // Errors: Unavailable when the engine cannot take it now (disk full, connection lost: nothing
  // was applied, retry later), IoError otherwise, with the engine's message.
  virtual Status Run(const std::string& sql, const std::vector<SqlParam>& params = {},
                     const SqlRowFn& row = nullptr) = 0;
  // Runs statements without parameters, separated by ';' (a schema step).
  virtual Status RunScript(const std::string& sql) = 0;
  virtual Status Begin(TxnKind kind) = 0;
  virtual Status Commit() = 0;
  // Undoes the open transaction, if any.
  virtual void Rollback() = 0;

  // --- Where the engines differ ---
  virtual SqlDialect dialect() const = 0;
  // Whether other servers may write to the store while this session does (PostgreSQL), or a
  // write transaction is exclusive (SQLite).
  virtual bool ConcurrentWriters() const = 0;
  // The schema version the store has (0: a new store), read inside the migration transaction,
  // holding whatever keeps two servers from migrating one store at once.
  virtual Status ReadSchemaVersion(int* version) = 0;
  virtual Status WriteSchemaVersion(int version) = 0;

  // Appended to a SELECT that reads a row the transaction will change: " FOR UPDATE" where
  // another server may change it meanwhile; "" where the write transaction is exclusive anyway.
  virtual const char* ForUpdate() const = 0;
  // Holds a lock named `name` until the transaction ends (two servers creating the same record
  // id take turns). Nothing to do where the write transaction is exclusive.
  virtual Status LockName(const std::string& name) = 0;
  // Holds the locks named `names` (sorted, no repeats) until the transaction ends, taken in that
  // order in one round trip: a push locks every record it touches at once.
  virtual Status LockNames(const std::vector<std::string>& names) = 0;
  // The condition that a column is one of the strings of the JSON array given as $1, to follow
  // the column's name: one statement reads a whole batch's records.
  virtual const char* InJsonArray() const = 0;
  // Keeps every other writer of the indicator ledger waiting until the transaction ends (a
  // rebuild of the totals).
  virtual Status LockLedger() = 0;

  // Sequence numbers of saved records (docs/protocol.md, section 3b). StartNumbering is called
  // when a write transaction begins; NumberOnSave gives the number SaveRecord writes: the next
  // one where there is one writer, or NULL where numbers are given at commit; NumberSaved is
  // called just before the commit with the ids saved, in order, to give them their numbers.
  virtual Status StartNumbering() = 0;
  virtual SqlParam NumberOnSave() = 0;
  virtual Status NumberSaved(const std::vector<std::string>& ids) = 0;

  // Around a purge: before it, make deleted content unrecoverable from the store's pages; after
  // it (`purged` says whether it committed), clear the old page images the engine still keeps.
  virtual Status BeforePurge() = 0;
  virtual Status AfterPurge(const Status& purged) = 0;

  // The engine's own check of its pages (SQLite's integrity_check); OK where the database
  // server checks them itself.
  virtual Status CheckPages() = 0;
  // What the store takes on disk, in bytes (its file, or its database).
  virtual Status StoreBytes(std::int64_t* bytes) = 0;
};

// Begins on Begin(), commits on Commit(), rolls back if destroyed before committing.
class SqlTransaction {
 public:
  explicit SqlTransaction(SqlSession* session) : session_(session) {}
  ~SqlTransaction() {
    if (open_) session_->Rollback();
  }
  SqlTransaction(const SqlTransaction&) = delete;
  SqlTransaction& operator=(const SqlTransaction&) = delete;

  Status Begin(SqlSession::TxnKind kind = SqlSession::TxnKind::kWrite) {
    Status s = session_->Begin(kind);
    open_ = s.ok();
    return s;
  }
  Status Commit() {
    Status s = session_->Commit();
    if (s.ok()) open_ = false;
    return s;
  }

 private:
  SqlSession* session_;
  bool open_ = false;
};

}  // namespace beatbook::server
