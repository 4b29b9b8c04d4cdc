#include "sync_server/store/pg_session.h"

#include <nlohmann/json.hpp>

namespace beatbook::server {

namespace {

// Advisory lock keys (any 64-bit numbers, the same in every instance).
constexpr std::int64_t kMigrationLock = 0x6265617462001;  // "beatb" + 1
constexpr std::int64_t kSequenceLock = 0x6265617462002;

// PostgreSQL stores were first numbered on their own, with the whole schema as their version 1:
// that is the shared list's version 6 (store/sql_schema.h). The shared list never leaves a store
// at its version 1 (a store is migrated to the program's last version in one transaction), so
// a 1 found here is always the old numbering.
constexpr int kFirstPostgresVersion = 6;

PgParam ToPg(const SqlParam& p) {
  if (const auto* text = std::get_if<std::string>(&p)) return *text;
  if (const auto* whole = std::get_if<std::int64_t>(&p)) return PgInt(*whole);
  if (const auto* real = std::get_if<double>(&p)) return PgDouble(*real);
  return std::nullopt;
}

class PgRow final : public SqlRow {
 public:
  PgRow(const PgResult* result, int row) : result_(result), row_(row) {}
  std::string Text(int col) const override { return result_->Text(row_, col); }
  std::int64_t Int(int col) const override { return result_->Int(row_, col); }
  double Double(int col) const override { return result_->Double(row_, col); }

 private:
  const PgResult* result_;
  int row_;
};

// A text[] literal for ANY($1::text[]): every element quoted, '"' and '\' escaped.
std::string TextArray(const std::vector<std::string>& items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    out += i ? ",\"" : "\"";
    for (char c : items[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

}  // namespace

Status PgSession::Connect(const std::string& conninfo, std::unique_ptr<PgSession>* out) {
  std::unique_ptr<PgSession> session(new PgSession);
  BB_RETURN_IF_ERROR(PgDb::Connect(conninfo, &session->db_));
  *out = std::move(session);
  return Status::OK();
}

Status PgSession::Run(const std::string& sql, const std::vector<SqlParam>& params,
                      const SqlRowFn& row) {
  std::vector<PgParam> pg;
  pg.reserve(params.size());
  for (const auto& p : params) pg.push_back(ToPg(p));
  PgResult result;
  BB_RETURN_IF_ERROR(db_.Exec(sql, pg, &result));
  if (!row) return Status::OK();
  for (int i = 0; i < result.rows(); ++i) BB_RETURN_IF_ERROR(row(PgRow(&result, i)));
  return Status::OK();
}

Status PgSession::RunScript(const std::string& sql) { return db_.ExecScript(sql); }

Status PgSession::Begin(TxnKind kind) {
  txn_.emplace(&db_);
  Status s = txn_->Begin();
  if (s.ok() && kind == TxnKind::kSnapshot) {
    s = db_.ExecScript("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
  }
  if (!s.ok()) txn_.reset();
  return s;
}

Status PgSession::Commit() {
  if (!txn_) return Status::FailedPrecondition("no transaction is open to commit");
  Status s = txn_->Commit();
  txn_.reset();
  return s;
}

void PgSession::Rollback() { txn_.reset(); }  // PgTransaction rolls back when destroyed

Status PgSession::ReadSchemaVersion(int* version) {
  // One instance migrates at a time; the others wait here, then find it done.
  BB_RETURN_IF_ERROR(db_.Exec("SELECT pg_advisory_xact_lock($1)", {PgInt(kMigrationLock)}));
  BB_RETURN_IF_ERROR(db_.ExecScript("CREATE TABLE IF NOT EXISTS beatbook_schema(version INTEGER)"));
  PgResult v;
  BB_RETURN_IF_ERROR(db_.Exec("SELECT coalesce(max(version), 0) FROM beatbook_schema", {}, &v));
  *version = static_cast<int>(v.Int(0, 0));
  if (*version == 1) *version = kFirstPostgresVersion;
  return Status::OK();
}

Status PgSession::WriteSchemaVersion(int version) {
  BB_RETURN_IF_ERROR(db_.ExecScript("DELETE FROM beatbook_schema"));
  return db_.Exec("INSERT INTO beatbook_schema(version) VALUES($1)", {PgInt(version)});
}

Status PgSession::LockName(const std::string& name) {
  return db_.Exec("SELECT pg_advisory_xact_lock(hashtext($1))", {name});
}

Status PgSession::LockNames(const std::vector<std::string>& names) {
  if (names.empty()) return Status::OK();
  // The array's elements come in its order, so the locks are taken in it.
  return db_.Exec(
      "SELECT pg_advisory_xact_lock(hashtext(n)) FROM json_array_elements_text($1::json) AS u(n)",
      {nlohmann::json(names).dump()});
}

Status PgSession::LockLedger() {
  return db_.ExecScript("LOCK TABLE contributions, totals, distinct_keys");
}

Status PgSession::NumberSaved(const std::vector<std::string>& ids) {
  if (ids.empty()) return Status::OK();
  // Numbered last, in commit order: see the top of pg_session.h.
  BB_RETURN_IF_ERROR(db_.Exec("SELECT pg_advisory_xact_lock($1)", {PgInt(kSequenceLock)}));
  return db_.Exec("UPDATE records SET seq = nextval('record_seq') WHERE id = ANY($1::text[])",
                  {TextArray(ids)});
}

Status PgSession::AfterPurge(const Status& purged) {
  if (!purged.ok()) return Status::OK();
  // The purged content's old row versions stay in the tables' pages until VACUUM reclaims them;
  // best effort now (the WAL and any archive keep them until recycled: docs/deployment.md).
  db_.ExecScript("VACUUM records, conflicts, rejections, attachments, attachment_refs")
      .IgnoreError();
  return Status::OK();
}

Status PgSession::StoreBytes(std::int64_t* bytes) {
  return Run("SELECT pg_database_size(current_database())", {}, [&](const SqlRow& row) {
    *bytes = row.Int(0);
    return Status::OK();
  });
}

}  // namespace beatbook::server
