#include "sync_server/store/pg_db.h"

#include <cstdio>
#include <cstdlib>

#include <libpq-fe.h>

namespace beatbook::server {

namespace {

Status ErrorOf(PGconn* conn, PGresult* result, const std::string& sql) {
  std::string message = result ? PQresultErrorMessage(result) : PQerrorMessage(conn);
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  std::string code = state ? state : "";
  // Class 08: connection exceptions; 57P: the server is shutting down; 40001/40P01: retry.
  if (PQstatus(conn) != CONNECTION_OK || code.rfind("08", 0) == 0 || code.rfind("57P", 0) == 0 ||
      code == "40001" || code == "40P01" || code == "53100" || code == "53200") {
    return Status::Unavailable("the PostgreSQL store is unavailable: " + message);
  }
  std::string what = sql.substr(0, sql.find_first_of("(\n"));
  return Status::IoError("the PostgreSQL store refused '" + what + "': " + message);
}

}  // namespace

PgParam PgDouble(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return std::string(buf);
}

int PgResult::rows() const { return result_ ? PQntuples(result_.get()) : 0; }

std::string PgResult::Text(int row, int col) const {
  return std::string(PQgetvalue(result_.get(), row, col),
                     static_cast<std::size_t>(PQgetlength(result_.get(), row, col)));
}

std::int64_t PgResult::Int(int row, int col) const {
  return std::strtoll(PQgetvalue(result_.get(), row, col), nullptr, 10);
}

double PgResult::Double(int row, int col) const {
  return std::strtod(PQgetvalue(result_.get(), row, col), nullptr);
}

bool PgResult::IsNull(int row, int col) const { return PQgetisnull(result_.get(), row, col) != 0; }

Status PgDb::Connect(const std::string& conninfo, PgDb* out) {
  std::shared_ptr<PGconn> conn(PQconnectdb(conninfo.c_str()), PQfinish);
  if (!conn || PQstatus(conn.get()) != CONNECTION_OK) {
    std::string message = conn ? PQerrorMessage(conn.get()) : "out of memory";
    while (!message.empty() && message.back() == '\n') message.pop_back();
    return Status::Unavailable("cannot connect to the PostgreSQL store: " + message);
  }
  out->conn_ = std::move(conn);
  // Quiet: NOTICEs (e.g. "relation already exists, skipping") are not errors.
  PQsetNoticeProcessor(
      out->conn_.get(), [](void*, const char*) {}, nullptr);
  return Status::OK();
}

Status PgDb::EnsureConnected() {
  if (PQstatus(conn_.get()) == CONNECTION_OK) return Status::OK();
  if (in_transaction_) {
    return Status::Unavailable("the connection to the PostgreSQL store was lost mid-transaction");
  }
  PQreset(conn_.get());
  if (PQstatus(conn_.get()) != CONNECTION_OK) {
    return Status::Unavailable(std::string("the PostgreSQL store is unreachable: ") +
                               PQerrorMessage(conn_.get()));
  }
  return Status::OK();
}

Status PgDb::Exec(const std::string& sql, const std::vector<PgParam>& params, PgResult* out) {
  BB_RETURN_IF_ERROR(EnsureConnected());
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  PGresult* raw = PQexecParams(conn_.get(), sql.c_str(), static_cast<int>(values.size()), nullptr,
                               values.data(), nullptr, nullptr, /*resultFormat=*/0);
  std::shared_ptr<PGresult> result(raw, PQclear);
  ExecStatusType status = raw ? PQresultStatus(raw) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    return ErrorOf(conn_.get(), raw, sql);
  }
  if (out) out->result_ = std::move(result);
  return Status::OK();
}

Status PgDb::ExecScript(const std::string& sql) {
  BB_RETURN_IF_ERROR(EnsureConnected());
  std::shared_ptr<PGresult> result(PQexec(conn_.get(), sql.c_str()), PQclear);
  ExecStatusType status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    return ErrorOf(conn_.get(), result.get(), sql);
  }
  return Status::OK();
}

PgTransaction::~PgTransaction() {
  if (!open_) return;
  if (PQstatus(db_->conn_.get()) == CONNECTION_OK) db_->ExecScript("ROLLBACK").ok();
  db_->in_transaction_ = false;
}

Status PgTransaction::Begin() {
  BB_RETURN_IF_ERROR(db_->ExecScript("BEGIN"));
  open_ = true;
  db_->in_transaction_ = true;
  return Status::OK();
}

Status PgTransaction::Commit() {
  open_ = false;
  db_->in_transaction_ = false;
  // COMMIT of a transaction that already failed answers ROLLBACK, not an error: say so.
  std::shared_ptr<PGresult> result(PQexec(db_->conn_.get(), "COMMIT"), PQclear);
  ExecStatusType status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK) return ErrorOf(db_->conn_.get(), result.get(), "COMMIT");
  if (std::string(PQcmdStatus(result.get())) != "COMMIT") {
    return Status::Unavailable("the PostgreSQL store rolled the transaction back");
  }
  return Status::OK();
}

}  // namespace beatbook::server
