#include "sync_server/store/sql_rows.h"

namespace beatbook::server {

std::size_t RowBuffer::Add(std::vector<SqlParam> row) {
  rows_.push_back(std::move(row));
  return rows_.size() - 1;
}

Status RowBuffer::Write(SqlSession* session, const std::string& head, const std::string& tail,
                        const SqlRowFn& row_fn) {
  std::size_t done = 0;
  std::vector<SqlParam> params;
  while (done < rows_.size()) {
    std::size_t left = rows_.size() - done;
    std::size_t n = left >= 64 ? 64 : left >= 8 ? 8 : 1;
    std::string sql = head;
    params.clear();
    for (std::size_t r = 0; r < n; ++r) {
      sql += r == 0 ? " (" : ", (";
      for (std::size_t c = 0; c < width_; ++c) {
        if (c > 0) sql += ',';
        sql += '$' + std::to_string(r * width_ + c + 1);
      }
      sql += ')';
      const auto& row = rows_[done + r];
      params.insert(params.end(), row.begin(), row.end());
    }
    sql += tail;
    BB_RETURN_IF_ERROR(session->Run(sql, params, row_fn));
    done += n;
  }
  rows_.clear();
  return Status::OK();
}

}  // namespace beatbook::server
