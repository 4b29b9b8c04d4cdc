// Many rows in few statements: a push batch's records and contributions are written with
// multi-row INSERTs, one round trip per up to 64 rows instead of one per row (on PostgreSQL each
// statement is a round trip to the database server).
//
//   RowBuffer rows(10);                        // 10 parameters per row
//   rows.Add({id, form, ...});
//   Status s = rows.Write(session, "INSERT INTO records(...) VALUES", " ON CONFLICT(id) ...");
#pragma once

#include <string>
#include <vector>

#include "sync_server/store/sql_session.h"

namespace beatbook::server {

class RowBuffer {
 public:
  explicit RowBuffer(std::size_t width) : width_(width) {}

  // Appends a row of exactly `width` parameters; returns its index.
  std::size_t Add(std::vector<SqlParam> row);
  // Replaces row `index` (a later write of the same key).
  void Replace(std::size_t index, std::vector<SqlParam> row) { rows_[index] = std::move(row); }
  bool empty() const { return rows_.empty(); }
  std::size_t size() const { return rows_.size(); }

  // Runs `head` VALUES-lists `tail` for every row, in statements of 64, 8 or 1 rows (fixed sizes:
  // an engine that keeps prepared statements by text keeps three), then empties the buffer.
  // `row` (if given) sees what each statement returns (a `tail` with RETURNING).
  Status Write(SqlSession* session, const std::string& head, const std::string& tail,
               const SqlRowFn& row = nullptr);

 private:
  std::size_t width_;
  std::vector<std::vector<SqlParam>> rows_;
};

}  // namespace beatbook::server
