// SqlCentralStore: the write transaction of a push (records, conflicts, rejections, batch
// replies, the ledger), the change feed devices pull, purges, and the lists a reviewer reads.
#include <algorithm>
#include <optional>
#include <set>
#include <unordered_map>

#include "beatbook/record_rows.h"
#include "sync_server/store/sql_central_store.h"
#include "sync_server/store/sql_ledger.h"
#include "sync_server/store/sql_rows.h"
#include "sync_server/store/store_common.h"

namespace beatbook::server {

// A push's write transaction. Round trips are what a push costs on PostgreSQL, so a batch is read
// and written in few statements: LockRecords locks every record the batch touches and reads them
// in one statement each; saves and contributions are buffered and written as multi-row INSERTs
// before the commit; a record read back after it was saved is answered from memory.
class SqlCentralStore::Txn final : public WriteTxn {
 public:
  explicit Txn(SqlSession* session)
      : session_(session), statements_(session), ledger_(&statements_), saves_(10) {}

  Status LockRecords(std::vector<std::string> ids) override {
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    if (ids.empty()) return Status::OK();
    // In id order: another server's push of some of the same records, in another order, waits
    // instead of deadlocking. An id with no record yet is locked too (two devices creating a
    // partner return's natural-key id take turns).
    if (session_->ConcurrentWriters()) BB_RETURN_IF_ERROR(session_->LockNames(ids));
    // Read only what this transaction has not read or saved already (what it saved is newer than
    // the table, which gets it at Flush).
    std::vector<std::string> unread;
    for (const auto& id : ids) {
      if (known_.emplace(id, std::nullopt).second) {
        unread.push_back(id);
        fresh_.insert(id);
      }
    }
    if (unread.empty()) return Status::OK();
    return session_->Run(std::string("SELECT id, state FROM records WHERE id") +
                             session_->InJsonArray() + session_->ForUpdate(),
                         {nlohmann::json(unread).dump()}, [&](const SqlRow& row) {
                           std::string id = row.Text(0);
                           known_[id] = row.Text(1);
                           fresh_.erase(id);
                           return Status::OK();
                         });
  }

  Status ReadRecord(const std::string& id, RecordState* out, bool* found) override {
    bool answered = false;
    BB_RETURN_IF_ERROR(Known(id, out, found, &answered));
    if (answered) return Status::OK();
    return Select("SELECT state FROM records WHERE id = $1", id, out, found);
  }

  Status LoadRecord(const std::string& id, RecordState* out, bool* found) override {
    bool answered = false;
    BB_RETURN_IF_ERROR(Known(id, out, found, &answered));
    if (answered) return Status::OK();
    // Not locked by LockRecords: locked for update where servers write concurrently, so two
    // merging into one record take turns. With no row to lock yet, two creating the same id
    // take turns on a lock named by the id, and the second then finds the first's record.
    std::string select =
        std::string("SELECT state FROM records WHERE id = $1") + session_->ForUpdate();
    BB_RETURN_IF_ERROR(Select(select, id, out, found));
    if (*found || !session_->ConcurrentWriters()) return Status::OK();
    BB_RETURN_IF_ERROR(session_->LockName(id));
    return Select(select, id, out, found);
  }

  using WriteTxn::SaveRecord;
  Status SaveRecord(const RecordState& s, std::string state) override {
    std::vector<SqlParam> row = {s.id,
                                 s.form,
                                 std::int64_t{s.form_version},
                                 s.org,
                                 s.author,
                                 s.device,
                                 s.OccurredAt(),
                                 std::int64_t{s.IsDeleted() ? 1 : 0},
                                 session_->NumberOnSave(),
                                 state};
    // One row per record in the buffer: a record saved twice in a batch is written once, as it
    // was last saved (an upsert may not touch one row twice in a statement).
    auto buffered = save_row_.find(s.id);
    if (buffered != save_row_.end()) {
      saves_.Replace(buffered->second, std::move(row));
    } else {
      save_row_[s.id] = saves_.Add(std::move(row));
      saved_.push_back(s.id);
    }
    known_[s.id] = std::move(state);
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
    // A record LockRecords found missing has no contributions stored: none to look up.
    bool stored_before = fresh_.erase(record_id) == 0;
    return ledger_.Set(record_id, contributions, stamp, at_ms, stored_before);
  }

  Status Audit(const AuditEvent& event) override { return InsertAudit(session_, event); }

  Status RaiseConcern(const std::string& record_id, const std::string& org,
                      std::int64_t at_ms) override {
    return InsertConcern(session_, record_id, org, at_ms);
  }

  Status SetPhotoRefs(const std::string& record_id,
                      const std::vector<std::pair<std::string, std::string>>& photos,
                      std::int64_t at_ms) override {
    return ReplacePhotoRefs(session_, record_id, photos, at_ms);
  }

  // What is buffered, written: the records, then the contributions and the totals' changes,
  // summed (store/ledger.h). Once, just before the commit.
  Status Flush() {
    BB_RETURN_IF_ERROR(saves_.Write(
        session_,
        "INSERT INTO records(id, form, form_version, org, author, device, occurred_at, deleted, "
        "seq, state) VALUES",
        " ON CONFLICT(id) DO UPDATE SET form = excluded.form, "
        "form_version = excluded.form_version, org = excluded.org, author = excluded.author, "
        "device = excluded.device, occurred_at = excluded.occurred_at, "
        "deleted = excluded.deleted, seq = excluded.seq, state = excluded.state"));
    return ledger_.Flush();
  }
  const std::vector<std::string>& saved() const { return saved_; }

 private:
  // Answers from what this transaction read or saved; *answered false if `id` is not among them.
  Status Known(const std::string& id, RecordState* out, bool* found, bool* answered) {
    auto it = known_.find(id);
    *answered = it != known_.end();
    if (!*answered) return Status::OK();
    *found = it->second.has_value();
    return *found ? ParseStoredState(*it->second, out) : Status::OK();
  }

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
  // Records this transaction locked and read (nullopt: none stored) or saved, as stored text.
  std::unordered_map<std::string, std::optional<std::string>> known_;
  std::set<std::string> fresh_;  // locked, and not stored before this transaction
  RowBuffer saves_;
  std::unordered_map<std::string, std::size_t> save_row_;  // record id -> its row in saves_
  std::vector<std::string> saved_;                         // in the order first saved
};

Status SqlCentralStore::Finish(Txn* txn, SqlTransaction* sql) {
  BB_RETURN_IF_ERROR(txn->Flush());
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

namespace {

// The statement reading one pull page after seq `after`, `rows` rows at most, with its
// parameters. Each shape walks an index in seq order and stops after `rows` rows: one statement
// with `$2 = '' OR org = $2 OR ...` in it walked every org's records from the cursor on and threw
// the others' away, so every device pulling its own org's records read every org's
// (docs/performance.md, "The 500-device burst").
std::pair<const char*, std::vector<SqlParam>> PullStatement(const PullScope& scope,
                                                            std::int64_t after, std::int64_t rows) {
  if (scope.org.empty()) {
    return {"SELECT seq, state FROM records WHERE seq > $1 ORDER BY seq LIMIT $2", {after, rows}};
  }
  if (scope.shared_org.empty()) {
    return {"SELECT seq, state FROM records WHERE org = $2 AND seq > $1 ORDER BY seq LIMIT $3",
            {after, scope.org, rows}};
  }
  // The two sets are apart (the shared org is never the device's own: api.cc) and each comes in
  // seq order, so at most twice `rows` rows are sorted.
  return {
      "SELECT seq, state FROM ("
      "SELECT seq, state FROM records WHERE org = $2 AND seq > $1 ORDER BY seq LIMIT $3) a "
      "UNION ALL SELECT seq, state FROM ("
      "SELECT seq, state FROM records WHERE org = $4 AND form = $5 AND seq > $1 "
      "ORDER BY seq LIMIT $3) b ORDER BY seq LIMIT $3",
      {after, scope.org, rows, scope.shared_org, scope.shared_form}};
}

}  // namespace

Status SqlCentralStore::ReadChanges(const std::string& cursor, const PullScope& scope,
                                    std::size_t limit, ChangePage* out) {
  std::int64_t after = 0;
  BB_RETURN_IF_ERROR(ParseCursor(cursor, &after));
  std::lock_guard<std::mutex> lock(mu_);
  out->states.clear();
  out->more = false;
  std::int64_t last = after;
  // One row more than the page tells whether there is more.
  auto [sql, params] = PullStatement(scope, after, static_cast<std::int64_t>(limit + 1));
  BB_RETURN_IF_ERROR(session_->Run(sql, params, [&](const SqlRow& row) {
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

Status SqlCentralStore::NotePull(const std::string& device_id, std::int64_t at_ms,
                                 const AuditEvent& audit) {
  std::lock_guard<std::mutex> lock(mu_);
  SqlTransaction sql(session_.get());
  BB_RETURN_IF_ERROR(sql.Begin());
  BB_RETURN_IF_ERROR(
      session_->Run("UPDATE devices SET last_sync_ms = $1 WHERE id = $2", {at_ms, device_id}));
  BB_RETURN_IF_ERROR(InsertAudit(session_.get(), audit));
  return sql.Commit();
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
      BB_RETURN_IF_ERROR(session_->Run("DELETE FROM safeguarding WHERE record_id = $1", {id}));
      BB_RETURN_IF_ERROR(
          session_->Run("DELETE FROM safeguarding_actions WHERE record_id = $1", {id}));
      BB_RETURN_IF_ERROR(session_->Run("DELETE FROM attachment_refs WHERE record_id = $1", {id}));
    }
    BB_RETURN_IF_ERROR(session_->Run(
        "DELETE FROM attachments WHERE name NOT IN (SELECT name FROM attachment_refs)"));
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
