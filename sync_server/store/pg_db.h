// A thin layer over libpq for the PostgreSQL store: a connection, parameterised statements with
// text parameters, results read by row and column, and a transaction guard.
//
//   PgDb db;
//   Status s = PgDb::Connect("postgresql://beatbook@127.0.0.1:5432/beatbook", &db);
//   PgResult r;
//   s = db.Exec("SELECT state FROM records WHERE id = $1", {id}, &r);
//   if (s.ok() && r.rows() == 1) use(r.Text(0, 0));
//
// Errors become Status: a lost connection or a server that is shutting down is Unavailable (the
// API answers 503 and devices retry); anything else is IoError with the server's message. A PgDb
// is not thread-safe: one per thread, or a mutex around it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "beatbook/status.h"

struct pg_conn;
struct pg_result;

namespace beatbook::server {

// One statement parameter, sent as text; nullopt is SQL NULL.
using PgParam = std::optional<std::string>;
inline PgParam PgInt(std::int64_t v) { return std::to_string(v); }
PgParam PgDouble(double v);  // every digit needed to read the same double back

class PgResult {
 public:
  PgResult() = default;
  int rows() const;
  std::string Text(int row, int col) const;
  std::int64_t Int(int row, int col) const;
  double Double(int row, int col) const;
  bool IsNull(int row, int col) const;

 private:
  friend class PgDb;
  std::shared_ptr<pg_result> result_;
};

class PgDb {
 public:
  // Connects with a libpq connection URI or key=value string. Unavailable if the server cannot
  // be reached.
  static Status Connect(const std::string& conninfo, PgDb* out);

  // Runs one statement with parameters $1, $2, ...; `out` may be null.
  Status Exec(const std::string& sql, const std::vector<PgParam>& params = {},
              PgResult* out = nullptr);
  // Runs statements without parameters (several, separated by ';').
  Status ExecScript(const std::string& sql);

 private:
  friend class PgTransaction;
  // Reconnects a connection the server dropped (a restart, a failover), unless a transaction was
  // open on it: that one is lost, and its caller must see the error, not carry on outside it.
  Status EnsureConnected();

  std::shared_ptr<pg_conn> conn_;
  bool in_transaction_ = false;
};

// BEGIN on Begin(), COMMIT on Commit(), ROLLBACK if destroyed before committing.
class PgTransaction {
 public:
  explicit PgTransaction(PgDb* db) : db_(db) {}
  ~PgTransaction();
  PgTransaction(const PgTransaction&) = delete;
  PgTransaction& operator=(const PgTransaction&) = delete;
  Status Begin();
  Status Commit();

 private:
  PgDb* db_;
  bool open_ = false;
};

}  // namespace beatbook::server
