#include "sync_server/store/sql_ledger.h"

#include <map>
#include <tuple>

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

Status SqlLedgerStatements::AddKeyRefs(const std::vector<KeyRefDelta>& deltas,
                                       std::vector<std::int64_t>* after) {
  // One multi-row upsert for the batch (a push of new contacts adds two keys per person: the
  // quarter's and the year's). RETURNING hands rows back in no stated order: they are matched to
  // their deltas by key.
  using KeyOf = std::tuple<std::string, std::int64_t, std::int64_t, std::string>;
  std::map<KeyOf, std::size_t> index_of;
  RowBuffer rows(5);
  for (std::size_t i = 0; i < deltas.size(); ++i) {
    const KeyRefDelta& d = deltas[i];
    index_of[{d.indicator, d.fy, d.quarter, d.key}] = i;
    rows.Add({d.indicator, std::int64_t{d.fy}, std::int64_t{d.quarter}, d.key, d.delta});
  }
  after->assign(deltas.size(), 0);
  std::vector<bool> answered(deltas.size(), false);
  BB_RETURN_IF_ERROR(rows.Write(
      session_, "INSERT INTO distinct_keys(indicator, fy, quarter, key, refs) VALUES",
      " ON CONFLICT(indicator, fy, quarter, key) DO UPDATE SET "
      "refs = distinct_keys.refs + excluded.refs RETURNING indicator, fy, quarter, key, refs",
      [&](const SqlRow& row) {
        auto it = index_of.find({row.Text(0), row.Int(1), row.Int(2), row.Text(3)});
        if (it == index_of.end()) return Status::Corruption("an unasked distinct key came back");
        (*after)[it->second] = row.Int(4);
        answered[it->second] = true;
        return Status::OK();
      }));
  for (std::size_t i = 0; i < deltas.size(); ++i) {
    if (!answered[i]) return Status::Corruption("a distinct key's references were not returned");
    if ((*after)[i] > 0) continue;
    const KeyRefDelta& d = deltas[i];
    BB_RETURN_IF_ERROR(session_->Run(
        "DELETE FROM distinct_keys WHERE indicator = $1 AND fy = $2 AND quarter = $3 AND key = $4",
        {d.indicator, std::int64_t{d.fy}, std::int64_t{d.quarter}, d.key}));
  }
  return Status::OK();
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
