// PgSession: the central store's statements on PostgreSQL, for deployments where several
// stateless sync_server instances share one database (docs/deployment.md).
//
//   std::unique_ptr<PgSession> session;
//   Status s = PgSession::Connect("postgresql://beatbook@db.internal/beatbook", &session);
//
// Several servers write at once, so this session locks what the SQLite one need not: rows read
// to be changed (FOR UPDATE), record ids not yet stored (a transaction-scoped advisory lock on
// the id), the schema while one server migrates it, the ledger's tables during a rebuild.
//
// The pull cursor with concurrent writers (docs/protocol.md, section 3b): a record's sequence
// number is not taken when it is saved, but at the very end of its transaction, under a
// transaction-scoped advisory lock that is held until the commit. Transactions therefore take
// sequence numbers in the order they commit, and a reader can never see a number while a
// smaller one is still to become visible: the device that pulled up to N misses nothing later.
// Only the few milliseconds from numbering to commit are serialised; merging and validating a
// push run in parallel.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "sync_server/store/pg_db.h"
#include "sync_server/store/sql_session.h"

namespace beatbook::server {

class PgSession final : public SqlSession {
 public:
  // `conninfo`: a libpq URI (postgresql://...) or key=value string. Unavailable if the server
  // cannot be reached.
  static Status Connect(const std::string& conninfo, std::unique_ptr<PgSession>* out);

  Status Run(const std::string& sql, const std::vector<SqlParam>& params,
             const SqlRowFn& row) override;
  Status RunScript(const std::string& sql) override;
  Status Begin(TxnKind kind) override;
  Status Commit() override;
  void Rollback() override;

  SqlDialect dialect() const override { return SqlDialect::kPostgres; }
  bool ConcurrentWriters() const override { return true; }
  Status ReadSchemaVersion(int* version) override;
  Status WriteSchemaVersion(int version) override;
  const char* ForUpdate() const override { return " FOR UPDATE"; }
  Status LockName(const std::string& name) override;
  Status LockNames(const std::vector<std::string>& names) override;
  const char* InJsonArray() const override {
    return " = ANY(ARRAY(SELECT json_array_elements_text($1::json)))";
  }
  Status LockLedger() override;
  Status StartNumbering() override { return Status::OK(); }
  SqlParam NumberOnSave() override { return nullptr; }
  Status NumberSaved(const std::vector<std::string>& ids) override;
  Status BeforePurge() override { return Status::OK(); }
  Status AfterPurge(const Status& purged) override;
  Status CheckPages() override { return Status::OK(); }
  Status StoreBytes(std::int64_t* bytes) override;

 private:
  PgSession() = default;

  PgDb db_;
  std::optional<PgTransaction> txn_;
};

}  // namespace beatbook::server
