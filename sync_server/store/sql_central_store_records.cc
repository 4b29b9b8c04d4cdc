// SqlCentralStore: the write transaction of a push (records, conflicts, rejections, batch
// replies, the ledger), the change feed devices pull, purges, and the lists a reviewer reads.
#include <algorithm>
#include <set>

#include "beatbook/record_rows.h"
#include "sync_server/store/sql_central_store.h"
#include "sync_server/store/sql_ledger.h"
#include "sync_server/store/store_common.h"

namespace beatbook::server {

class SqlCentralStore::Txn final : public WriteTxn {
 public:
  explicit Txn(SqlSession* session)
      : session_(session), statements_(session), ledger_(&statements_) {}

  Status LockRecords(std::vector<std::string> ids) override {
    if (!session_->ConcurrentWriters()) return Status::OK();  // the transaction is exclusive
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    for (const auto& id : ids) BB_RETURN_IF_ERROR(session_->LockName(id));
    return Status::OK();
  }

  Status ReadRecord(const std::string& id, RecordState* out, bool* found) override {
    return Select("SELECT state FROM records WHERE id = $1", id, out, found);
  }

  Status LoadRecord(const std::string& id, RecordState* out, bool* found) override {
    // Locked for update where servers write concurrently: two merging into one record take
    // turns. With no row to lock yet, two creating the same id (a partner return's natural key)
    // take turns on a lock named by the id, and the second then finds the first's record.
    std::string select =
        std::string("SELECT state FROM records WHERE id = $1") + session_->ForUpdate();
    BB_RETURN_IF_ERROR(Select(select, id, out, found));
    if (*found || !session_->ConcurrentWriters()) return Status::OK();
    BB_RETURN_IF_ERROR(session_->LockName(id));
    return Select(select, id, out, found);
  }

  Status SaveRecord(const RecordState& s) override {
    BB_RETURN_IF_ERROR(session_->Run(
        "INSERT INTO records(id, form, form_version, org, author, device, occurred_at, deleted, "
        "seq, state) VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) "
        "ON CONFLICT(id) DO UPDATE SET form = excluded.form, "
        "form_version = excluded.form_version, org = excluded.org, author = excluded.author, "
        "device = excluded.device, occurred_at = excluded.occurred_at, "
        "deleted = excluded.deleted, seq = excluded.seq, state = excluded.state",
        {s.id, s.form, std::int64_t{s.form_version}, s.org, s.author, s.device, s.OccurredAt(),
         std::int64_t{s.IsDeleted() ? 1 : 0}, session_->NumberOnSave(), s.ToJson().dump()}));
    if (saved_set_.insert(s.id).second) saved_.push_back(s.id);
    return Status::OK();
  }

  Status AddConflict(const Conflict& c, std::int64_t at_ms) override {
    return session_->Run(
        "INSERT INTO conflicts(record_id, field, winner, loser, loser_t, loser_d, at_ms) "
        "VALUES($1,$2,$3,$4,$5,$6,$7) ON CONFLICT DO NOTHING",
        {c.record_id, c.field, StoredRegisterJson(c.winner).dump(),
         StoredRegisterJson(c.loser).dump(), std::int64_t{c.loser.t}, c.loser.d, at_ms});
  }

  Status AddRejection(const StoredRejection& r) override {
    return session_->Run(
        "INSERT INTO rejections(device, change_id, record_id, reason, at_ms) "
        "VALUES($1,$2,$3,$4,$5) ON CONFLICT(device, change_id) DO UPDATE SET "
        "record_id = excluded.record_id, reason = excluded.reason, at_ms = excluded.at_ms",
        {r.device_id, r.change_id, r.record_id, r.reason, r.at_ms});
  }

  Status SaveBatch(const std::string& device_id, const std::string& batch_id,
                   const std::string& response, std::int64_t at_ms) override {
    return session_->Run(
        "INSERT INTO batches(device, batch_id, response, at_ms) VALUES($1,$2,$3,$4) "
        "ON CONFLICT(device, batch_id) DO UPDATE SET response = excluded.response, "
        "at_ms = excluded.at_ms",
        {device_id, batch_id, response, at_ms});
  }

  Status NoteSync(const std::string& device_id, std::int64_t at_ms, std::int64_t pending) override {
    return session_->Run(
        "UPDATE devices SET last_sync_ms = $1, pending_at_last_sync = $2 WHERE id = $3",
        {at_ms, pending, device_id});
  }

  Status SetContributions(const std::string& record_id,
                          const std::vector<Contribution>& contributions, HlcStamp stamp,
                          std::int64_t at_ms) override {
    return ledger_.Set(record_id, contributions, stamp, at_ms);
  }

  Status Audit(const AuditEvent& event) override { return InsertAudit(session_, event); }

  // The totals' changes, summed: written just before the commit (store/ledger.h).
  Status FlushTotals() { return ledger_.Flush(); }
  const std::vector<std::string>& saved() const { return saved_; }

 private:
  // The state of record `id` as `select` (with the id as $1) reads it.
  Status Select(const std::string& select, const std::string& id, RecordState* out, bool* found) {
    std::string text;
    *found = false;
    BB_RETURN_IF_ERROR(session_->Run(select, {id}, [&](const SqlRow& row) {
      *found = true;
      text = row.Text(0);
      return Status::OK();
    }));
    return *found ? ParseStoredState(text, out) : Status::OK();
  }

  SqlSession* session_;
  SqlLedgerStatements statements_;
  BufferedLedger ledger_;
  std::vector<std::string> saved_;  // in the order first saved
  std::set<std::string> saved_set_;
};

Status SqlCentralStore::Finish(Txn* txn, SqlTransaction* sql) {
  BB_RETURN_IF_ERROR(txn->FlushTotals());
  BB_RETURN_IF_ERROR(session_->NumberSaved(txn->saved()));
  return sql->Commit();
}

Status SqlCentralStore::Write(const std::function<Status(WriteTxn&)>& fn) {
  std::lock_guard<std::mutex> lock(mu_);
  SqlTransaction sql(session_.get());
  BB_RETURN_IF_ERROR(sql.Begin());
  BB_RETURN_IF_ERROR(session_->StartNumbering());
  Txn txn(session_.get());
  BB_RETURN_IF_ERROR(fn(txn));
  return Finish(&txn, &sql);
}

Status SqlCentralStore::FindBatch(const std::string& device_id, const std::string& batch_id,
                                  std::string* response, bool* found) {
  std::lock_guard<std::mutex> lock(mu_);
  *found = false;
  return session_->Run("SELECT response FROM batches WHERE device = $1 AND batch_id = $2",
                       {device_id, batch_id}, [&](const SqlRow& row) {
                         *found = true;
                         *response = row.Text(0);
                         return Status::OK();
                       });
}

Status SqlCentralStore::ReadChanges(const std::string& cursor, const PullScope& scope,
                                    std::size_t limit, ChangePage* out) {
  std::int64_t after = 0;
  BB_RETURN_IF_ERROR(ParseCursor(cursor, &after));
  std::lock_guard<std::mutex> lock(mu_);
  out->states.clear();
  out->more = false;
  std::int64_t last = after;
  BB_RETURN_IF_ERROR(session_->Run(
      "SELECT seq, state FROM records WHERE seq > $1 AND ($2 = '' OR org = $2 OR "
      "(org = $4 AND form = $5)) ORDER BY seq LIMIT $3",
      // One row more than the page tells whether there is more.
      {after, scope.org, static_cast<std::int64_t>(limit + 1), scope.shared_org, scope.shared_form},
      [&](const SqlRow& row) {
        if (out->states.size() == limit) {
          out->more = true;
          return Status::OK();
        }
        last = row.Int(0);
        out->states.push_back(row.Text(1));
        return Status::OK();
      }));
  out->cursor = std::to_string(last);
  return Status::OK();
}

Status SqlCentralStore::NotePull(const std::string& device_id, std::int64_t at_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  return session_->Run("UPDATE devices SET last_sync_ms = $1 WHERE id = $2", {at_ms, device_id});
}

Status SqlCentralStore::PurgeRecords(const std::vector<std::string>& ids,
                                     std::int64_t batch_replies_before_ms,
                                     const AuditEvent& audit) {
  std::lock_guard<std::mutex> lock(mu_);
  BB_RETURN_IF_ERROR(session_->BeforePurge());
  Status purged = [&] {
    SqlTransaction sql(session_.get());
    BB_RETURN_IF_ERROR(sql.Begin());
    BB_RETURN_IF_ERROR(session_->StartNumbering());
    Txn txn(session_.get());
    BB_RETURN_IF_ERROR(txn.LockRecords(ids));
    for (const auto& id : ids) {
      RecordState stored;
      bool found = false;
      BB_RETURN_IF_ERROR(txn.LoadRecord(id, &stored, &found));
      if (!found || stored.purged) continue;
      BB_RETURN_IF_ERROR(txn.SaveRecord(PurgedTombstone(stored)));
      BB_RETURN_IF_ERROR(session_->Run("DELETE FROM conflicts WHERE record_id = $1", {id}));
      BB_RETURN_IF_ERROR(session_->Run("DELETE FROM rejections WHERE record_id = $1", {id}));
    }
    BB_RETURN_IF_ERROR(
        session_->Run("DELETE FROM batches WHERE at_ms < $1", {batch_replies_before_ms}));
    BB_RETURN_IF_ERROR(InsertAudit(session_.get(), audit));
    return Finish(&txn, &sql);
  }();
  Status cleared = session_->AfterPurge(purged);
  return purged.ok() ? cleared : purged;
}

Status SqlCentralStore::AllRecords(std::vector<RecordState>* out) {
  std::lock_guard<std::mutex> lock(mu_);
  return session_->Run("SELECT state FROM records ORDER BY id", {}, [&](const SqlRow& row) {
    RecordState s;
    BB_RETURN_IF_ERROR(ParseStoredState(row.Text(0), &s));
    out->push_back(std::move(s));
    return Status::OK();
  });
}

Status SqlCentralStore::Conflicts(std::vector<StoredConflict>* out) {
  std::lock_guard<std::mutex> lock(mu_);
  return session_->Run("SELECT record_id, field, winner, loser, at_ms FROM conflicts ORDER BY id",
                       {}, [&](const SqlRow& row) {
                         StoredConflict c;
                         c.conflict.record_id = row.Text(0);
                         c.conflict.field = row.Text(1);
                         BB_RETURN_IF_ERROR(StoredRegisterFrom(row.Text(2), &c.conflict.winner));
                         BB_RETURN_IF_ERROR(StoredRegisterFrom(row.Text(3), &c.conflict.loser));
                         c.at_ms = row.Int(4);
                         out->push_back(std::move(c));
                         return Status::OK();
                       });
}

Status SqlCentralStore::Rejections(std::vector<StoredRejection>* out) {
  std::lock_guard<std::mutex> lock(mu_);
  return session_->Run(
      "SELECT device, change_id, record_id, reason, at_ms FROM rejections ORDER BY at_ms", {},
      [&](const SqlRow& row) {
        out->push_back({row.Text(0), row.Text(1), row.Text(2), row.Text(3), row.Int(4)});
        return Status::OK();
      });
}

}  // namespace beatbook::server
