// SqliteSession: the central store's statements on the embedded SQLite store, one file
// (central.db, WAL) in a data directory that only its owner may read.
//
//   std::unique_ptr<SqliteSession> session;
//   Status s = SqliteSession::Open("/var/lib/beatbook", &session);
//
// One connection, one writer at a time: a write transaction (BEGIN IMMEDIATE) is exclusive, so
// records are numbered as they are saved and no row or name needs locking. Statements are
// prepared once and kept (by their text).
#pragma once

#include <memory>
#include <set>
#include <string>
#include <unordered_map>

#include "beatbook/sqlite_db.h"
#include "sync_server/store/sql_session.h"

namespace beatbook::server {

class SqliteSession final : public SqlSession {
 public:
  // Creates the directory and the database file if needed, private to their owner.
  static Status Open(const std::string& dir, std::unique_ptr<SqliteSession>* out);

  Status Run(const std::string& sql, const std::vector<SqlParam>& params,
             const SqlRowFn& row) override;
  Status RunScript(const std::string& sql) override;
  Status Begin(TxnKind kind) override;
  Status Commit() override;
  void Rollback() override;

  SqlDialect dialect() const override { return SqlDialect::kSqlite; }
  bool ConcurrentWriters() const override { return false; }
  Status ReadSchemaVersion(int* version) override;
  Status WriteSchemaVersion(int version) override;
  const char* ForUpdate() const override { return ""; }
  Status LockName(const std::string&) override { return Status::OK(); }
  Status LockNames(const std::vector<std::string>&) override { return Status::OK(); }
  const char* InJsonArray() const override { return " IN (SELECT value FROM json_each($1))"; }
  Status LockLedger() override { return Status::OK(); }
  Status StartNumbering() override;
  SqlParam NumberOnSave() override { return next_seq_++; }
  Status NumberSaved(const std::vector<std::string>&) override { return Status::OK(); }
  Status BeforePurge() override;
  Status AfterPurge(const Status& purged) override;
  Status CheckPages() override;
  Status StoreBytes(std::int64_t* bytes) override;

 private:
  SqliteSession() = default;
  // The kept statement for `sql` ($n rewritten as SQLite's ?n), or a fresh one in `spare` when
  // the kept one is being stepped through (a statement run again from inside its own rows).
  Status Statement(const std::string& sql, SqliteStmt* spare, SqliteStmt** out);

  SqliteDb db_;
  std::string dir_;
  std::int64_t next_seq_ = 1;
  // Prepared once, by the statement's text; finalized before db_ closes (declared after it).
  std::unordered_map<std::string, std::unique_ptr<SqliteStmt>> statements_;
  std::set<const SqliteStmt*> stepping_;  // statements whose rows are being read
};

}  // namespace beatbook::server
