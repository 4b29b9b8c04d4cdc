// SqlCentralStore: the indicator figures (kept totals, one org's figures, the records behind a
// figure), approvals, and rebuilding the ledger when the catalogue changes.
#include <map>

#include "beatbook/clock.h"
#include "beatbook/record_rows.h"
#include "sync_server/store/sql_central_store.h"
#include "sync_server/store/sql_ledger.h"
#include "sync_server/store/store_common.h"

namespace beatbook::server {

using nlohmann::json;

namespace {

// Rows of (indicator, quarter, value, n, records) as figures of year `fy`.
SqlRowFn AppendSums(int fy, std::vector<RawFigure>* out) {
  return [fy, out](const SqlRow& row) {
    RawFigure f;
    f.indicator = row.Text(0);
    f.fy = fy;
    f.quarter = static_cast<int>(row.Int(1));
    f.value = row.Double(2);
    f.n = row.Double(3);
    f.records = row.Int(4);
    out->push_back(std::move(f));
    return Status::OK();
  };
}

// Rows of (indicator, quarter, status), ordered by stamp: the latest status of each milestone.
SqlRowFn AddMilestones(LatestMilestones* latest) {
  return [latest](const SqlRow& row) {
    latest->Add(row.Text(0), static_cast<int>(row.Int(1)), row.Text(2));
    return Status::OK();
  };
}

}  // namespace

Status SqlCentralStore::ReadFigures(int fy, std::vector<RawFigure>* out) {
  std::lock_guard<std::mutex> lock(mu_);
  // Totals and milestones from one snapshot, whatever commits meanwhile.
  SqlTransaction snapshot(session_.get());
  BB_RETURN_IF_ERROR(snapshot.Begin(SqlSession::TxnKind::kSnapshot));
  BB_RETURN_IF_ERROR(
      session_->Run("SELECT indicator, quarter, value, n, records FROM totals WHERE fy = $1",
                    {std::int64_t{fy}}, AppendSums(fy, out)));
  LatestMilestones latest;
  BB_RETURN_IF_ERROR(session_->Run(
      "SELECT indicator, quarter, status FROM contributions WHERE fy = $1 AND status <> '' "
      "ORDER BY stamp",
      {std::int64_t{fy}}, AddMilestones(&latest)));
  BB_RETURN_IF_ERROR(snapshot.Commit());
  latest.AppendTo(fy, out);
  return Status::OK();
}

Status SqlCentralStore::ReadOrgFigures(int fy, const std::string& org,
                                       std::vector<RawFigure>* out) {
  std::lock_guard<std::mutex> lock(mu_);
  // Computed from the contributions of the org's records, the way the totals are kept
  // (store/ledger.h): sums per quarter; distinct keys per quarter and for the year (quarter
  // 0); a milestone's latest status. From one snapshot, whatever commits meanwhile.
  SqlTransaction snapshot(session_.get());
  BB_RETURN_IF_ERROR(snapshot.Begin(SqlSession::TxnKind::kSnapshot));
  BB_RETURN_IF_ERROR(session_->Run(
      "SELECT c.indicator, c.quarter, sum(c.value), sum(c.n), count(*) FROM contributions c "
      "JOIN records r ON r.id = c.record_id WHERE c.fy = $1 AND r.org = $2 AND c.key = '' "
      "GROUP BY c.indicator, c.quarter "
      "UNION ALL "
      "SELECT indicator, quarter, count(*), sum(CASE WHEN refs >= 2 THEN 1 ELSE 0 END), 0 "
      "FROM (SELECT c.indicator, c.quarter, c.key, count(*) AS refs FROM contributions c "
      "JOIN records r ON r.id = c.record_id WHERE c.fy = $1 AND r.org = $2 AND c.key <> '' "
      "GROUP BY c.indicator, c.quarter, c.key) k GROUP BY indicator, quarter "
      "UNION ALL "
      "SELECT indicator, 0, count(*), sum(CASE WHEN refs >= 2 THEN 1 ELSE 0 END), 0 "
      "FROM (SELECT c.indicator, c.key, count(*) AS refs FROM contributions c "
      "JOIN records r ON r.id = c.record_id WHERE c.fy = $1 AND r.org = $2 AND c.key <> '' "
      "GROUP BY c.indicator, c.key) y GROUP BY indicator",
      {std::int64_t{fy}, org}, AppendSums(fy, out)));
  LatestMilestones latest;
  BB_RETURN_IF_ERROR(session_->Run(
      "SELECT c.indicator, c.quarter, c.status FROM contributions c JOIN records r "
      "ON r.id = c.record_id WHERE c.fy = $1 AND r.org = $2 AND c.status <> '' ORDER BY c.stamp",
      {std::int64_t{fy}, org}, AddMilestones(&latest)));
  BB_RETURN_IF_ERROR(snapshot.Commit());
  latest.AppendTo(fy, out);
  return Status::OK();
}

Status SqlCentralStore::ExplainFigure(const std::string& indicator, int fy, int quarter,
                                      std::vector<FigureSource>* out) {
  std::lock_guard<std::mutex> lock(mu_);
  return session_->Run(
      "SELECT c.record_id, r.org, r.author, c.value, c.status, c.at_ms, c.quarter, "
      "r.occurred_at FROM contributions c JOIN records r ON r.id = c.record_id "
      "WHERE c.indicator = $1 AND c.fy = $2 AND ($3 = 0 OR c.quarter = $3) "
      "ORDER BY c.at_ms, c.record_id",
      {indicator, std::int64_t{fy}, std::int64_t{quarter}}, [&](const SqlRow& row) {
        out->push_back({row.Text(0), row.Text(1), row.Text(2), row.Double(3), row.Text(4),
                        row.Int(5), static_cast<int>(row.Int(6)), row.Text(7)});
        return Status::OK();
      });
}

Status SqlCentralStore::AddApproval(const Approval& a, const AuditEvent& audit) {
  std::lock_guard<std::mutex> lock(mu_);
  SqlTransaction txn(session_.get());
  BB_RETURN_IF_ERROR(txn.Begin());
  BB_RETURN_IF_ERROR(session_->Run(
      "INSERT INTO approvals(fy, quarter, kind, user_name, at_ms, catalogue_version, report) "
      "VALUES($1,$2,$3,$4,$5,$6,$7)",
      {std::int64_t{a.fy}, std::int64_t{a.quarter}, a.kind, a.user, a.at_ms,
       std::int64_t{a.catalogue_version}, a.report.dump()}));
  BB_RETURN_IF_ERROR(InsertAudit(session_.get(), audit));
  return txn.Commit();
}

Status SqlCentralStore::Approvals(int fy, std::vector<Approval>* out) {
  std::lock_guard<std::mutex> lock(mu_);
  return session_->Run(
      "SELECT quarter, kind, user_name, at_ms, catalogue_version, report FROM approvals "
      "WHERE fy = $1 ORDER BY id",
      {std::int64_t{fy}}, [&](const SqlRow& row) {
        Approval a;
        a.fy = fy;
        a.quarter = static_cast<int>(row.Int(0));
        a.kind = row.Text(1);
        a.user = row.Text(2);
        a.at_ms = row.Int(3);
        a.catalogue_version = static_cast<int>(row.Int(4));
        a.report = json::parse(row.Text(5), nullptr, /*allow_exceptions=*/false);
        if (a.report.is_discarded()) return Status::Corruption("an approved return is unreadable");
        out->push_back(std::move(a));
        return Status::OK();
      });
}

Status SqlCentralStore::ContributionsVersion(int* version) {
  std::lock_guard<std::mutex> lock(mu_);
  *version = 0;
  std::string text;
  BB_RETURN_IF_ERROR(ReadMeta("catalogue_version", &text));
  if (text.empty()) return Status::OK();
  std::int64_t v = 0;
  BB_RETURN_IF_ERROR(StoredInt(text, "catalogue version", &v));
  *version = static_cast<int>(v);
  return Status::OK();
}

Status SqlCentralStore::RebuildContributions(
    int version, const std::function<std::vector<Contribution>(const RecordState&)>& fn) {
  std::lock_guard<std::mutex> lock(mu_);
  SqlTransaction txn(session_.get());
  BB_RETURN_IF_ERROR(txn.Begin());
  // Writers of contributions wait: the totals are rebuilt as one.
  BB_RETURN_IF_ERROR(session_->LockLedger());
  // A purged record's content is gone: it keeps what it contributed when it was counted.
  std::map<std::string, std::pair<std::vector<Contribution>, HlcStamp>> kept;
  BB_RETURN_IF_ERROR(session_->Run(
      "SELECT c.record_id, c.indicator, c.fy, c.quarter, c.value, c.n, c.key, c.status, c.stamp "
      "FROM contributions c JOIN records r ON r.id = c.record_id WHERE r.deleted = 1",
      {}, [&](const SqlRow& row) {
        auto& [list, stamp] = kept[row.Text(0)];
        list.push_back({row.Text(1), static_cast<int>(row.Int(2)), static_cast<int>(row.Int(3)),
                        row.Double(4), row.Double(5), row.Text(6), row.Text(7)});
        stamp = std::max(stamp, static_cast<HlcStamp>(row.Int(8)));
        return Status::OK();
      }));
  BB_RETURN_IF_ERROR(session_->RunScript(
      "DELETE FROM contributions; DELETE FROM totals; DELETE FROM distinct_keys"));
  SqlLedgerStatements statements(session_.get());
  BufferedLedger ledger(&statements);
  std::int64_t now = SystemClock::Default()->NowMs();
  // An error mid-scan (a read failing) rolls the whole rebuild back: a partial recount is
  // never committed.
  BB_RETURN_IF_ERROR(session_->Run("SELECT state FROM records", {}, [&](const SqlRow& row) {
    RecordState s;
    BB_RETURN_IF_ERROR(ParseStoredState(row.Text(0), &s));
    if (s.purged) {
      auto it = kept.find(s.id);
      if (it == kept.end()) return Status::OK();
      return ledger.Set(s.id, it->second.first, it->second.second, now, /*stored_before=*/false);
    }
    // Every contribution was deleted above: none to look up.
    return ledger.Set(s.id, fn(s), s.MaxStamp(), now, /*stored_before=*/false);
  }));
  BB_RETURN_IF_ERROR(ledger.Flush());
  BB_RETURN_IF_ERROR(WriteMeta("catalogue_version", std::to_string(version)));
  return txn.Commit();
}

}  // namespace beatbook::server
