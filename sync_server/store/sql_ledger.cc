#include "sync_server/store/sql_ledger.h"

namespace beatbook::server {

namespace {
// Buffered contributions are written when this many wait (a rebuild goes through every record).
constexpr std::size_t kMaxBufferedContributions = 512;
}  // namespace

Status SqlLedgerStatements::TakeContributions(const std::string& record_id,
                                              std::vector<Contribution>* old) {
  // The record's own still-buffered rows are written first, so the DELETE hands them back too.
  if (buffered_for_.count(record_id)) BB_RETURN_IF_ERROR(FlushContributions());
  return session_->Run(
      "DELETE FROM contributions WHERE record_id = $1 "
      "RETURNING indicator, fy, quarter, value, n, key",
      {record_id}, [&](const SqlRow& row) {
        Contribution c;
        c.indicator = row.Text(0);
        c.fy = static_cast<int>(row.Int(1));
        c.quarter = static_cast<int>(row.Int(2));
        c.value = row.Double(3);
        c.n = row.Double(4);
        c.key = row.Text(5);
        old->push_back(std::move(c));
        return Status::OK();
      });
}

Status SqlLedgerStatements::InsertContribution(const std::string& record_id, const Contribution& c,
                                               HlcStamp stamp, std::int64_t at_ms) {
  inserts_.Add({record_id, c.indicator, std::int64_t{c.fy}, std::int64_t{c.quarter}, c.value, c.n,
                c.key, c.status, std::int64_t{stamp}, at_ms});
  buffered_for_.insert(record_id);
  if (inserts_.size() >= kMaxBufferedContributions) return FlushContributions();
  return Status::OK();
}

Status SqlLedgerStatements::FlushContributions() {
  buffered_for_.clear();
  return inserts_.Write(session_,
                        "INSERT INTO contributions(record_id, indicator, fy, quarter, value, n, "
                        "key, status, stamp, at_ms) VALUES",
                        "");
}

Status SqlLedgerStatements::AddKeyRefs(const std::string& indicator, int fy, int quarter,
                                       const std::string& key, std::int64_t delta,
                                       std::int64_t* after) {
  *after = 0;
  BB_RETURN_IF_ERROR(session_->Run(
      "INSERT INTO distinct_keys(indicator, fy, quarter, key, refs) VALUES($1,$2,$3,$4,$5) "
      "ON CONFLICT(indicator, fy, quarter, key) DO UPDATE SET refs = distinct_keys.refs + $5 "
      "RETURNING refs",
      {indicator, std::int64_t{fy}, std::int64_t{quarter}, key, delta}, [&](const SqlRow& row) {
        *after = row.Int(0);
        return Status::OK();
      }));
  if (*after > 0) return Status::OK();
  return session_->Run(
      "DELETE FROM distinct_keys WHERE indicator = $1 AND fy = $2 AND quarter = $3 AND key = $4",
      {indicator, std::int64_t{fy}, std::int64_t{quarter}, key});
}

Status SqlLedgerStatements::AddTotals(const std::string& indicator, int fy, int quarter,
                                      double value, double n, std::int64_t records) {
  return session_->Run(
      "INSERT INTO totals(indicator, fy, quarter, value, n, records) VALUES($1,$2,$3,$4,$5,$6) "
      "ON CONFLICT(indicator, fy, quarter) DO UPDATE SET value = totals.value + $4, "
      "n = totals.n + $5, records = totals.records + $6",
      {indicator, std::int64_t{fy}, std::int64_t{quarter}, value, n, records});
}

}  // namespace beatbook::server
