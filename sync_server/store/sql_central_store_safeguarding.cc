// SqlCentralStore: the safeguarding queue (docs/safeguarding.md). Records join it inside the push
// transaction that merges them (WriteTxn::RaiseConcern); the coordinator's steps are written here,
// each with its audit entry in the same transaction.
#include <map>

#include "beatbook/record_rows.h"
#include "sync_server/store/sql_central_store.h"

namespace beatbook::server {

Status InsertConcern(SqlSession* session, const std::string& record_id, const std::string& org,
                     std::int64_t at_ms) {
  return session->Run(
      "INSERT INTO safeguarding(record_id, org, raised_ms) VALUES($1,$2,$3) "
      "ON CONFLICT(record_id) DO NOTHING",
      {record_id, org, at_ms});
}

Status SqlCentralStore::RaiseEarlierConcerns(const std::function<bool(const RecordState&)>& raises,
                                             std::int64_t now_ms, std::int64_t* raised) {
  std::lock_guard<std::mutex> lock(mu_);
  *raised = 0;
  SqlTransaction txn(session_.get());
  BB_RETURN_IF_ERROR(txn.Begin());
  std::string done;
  BB_RETURN_IF_ERROR(ReadMeta("safeguarding_raised_earlier", &done));
  if (!done.empty()) return Status::OK();
  std::vector<std::pair<std::string, std::string>> concerns;  // record id, org
  BB_RETURN_IF_ERROR(
      session_->Run("SELECT state FROM records WHERE deleted = 0", {}, [&](const SqlRow& row) {
        RecordState s;
        BB_RETURN_IF_ERROR(ParseStoredState(row.Text(0), &s));
        if (raises(s)) concerns.emplace_back(s.id, s.org);
        return Status::OK();
      }));
  for (const auto& [id, org] : concerns) {
    BB_RETURN_IF_ERROR(InsertConcern(session_.get(), id, org, now_ms));
  }
  BB_RETURN_IF_ERROR(WriteMeta("safeguarding_raised_earlier", std::to_string(now_ms)));
  *raised = static_cast<std::int64_t>(concerns.size());
  return txn.Commit();
}

Status SqlCentralStore::Concerns(std::vector<SafeguardingConcern>* out) {
  std::lock_guard<std::mutex> lock(mu_);
  // One snapshot for the queue and its actions.
  SqlTransaction txn(session_.get());
  BB_RETURN_IF_ERROR(txn.Begin(SqlSession::TxnKind::kSnapshot));
  std::map<std::string, std::vector<SafeguardingConcern::Action>> actions;
  BB_RETURN_IF_ERROR(session_->Run(
      "SELECT record_id, action, at_ms, by_user FROM safeguarding_actions ORDER BY id", {},
      [&](const SqlRow& row) {
        actions[row.Text(0)].push_back({row.Text(1), row.Int(2), row.Text(3)});
        return Status::OK();
      }));
  BB_RETURN_IF_ERROR(session_->Run(
      "SELECT s.record_id, s.org, s.raised_ms, s.acknowledged_ms, s.acknowledged_by, r.state "
      "FROM safeguarding s JOIN records r ON r.id = s.record_id ORDER BY s.raised_ms, s.record_id",
      {}, [&](const SqlRow& row) {
        SafeguardingConcern c;
        c.record_id = row.Text(0);
        c.org = row.Text(1);
        c.raised_ms = row.Int(2);
        c.acknowledged_ms = row.Int(3);
        c.acknowledged_by = row.Text(4);
        BB_RETURN_IF_ERROR(ParseStoredState(row.Text(5), &c.record));
        if (auto it = actions.find(c.record_id); it != actions.end()) {
          c.actions = it->second;
          c.action = c.actions.back().text;
          c.action_ms = c.actions.back().at_ms;
          c.action_by = c.actions.back().by;
        }
        out->push_back(std::move(c));
        return Status::OK();
      }));
  return txn.Commit();
}

Status SqlCentralStore::FollowUpConcern(const std::string& record_id, ConcernStep step,
                                        const std::string& user, const std::string& action,
                                        std::int64_t at_ms, const AuditEvent& audit) {
  std::lock_guard<std::mutex> lock(mu_);
  SqlTransaction txn(session_.get());
  BB_RETURN_IF_ERROR(txn.Begin());
  // Either step acknowledges, if nobody had; the first acknowledgement is kept.
  bool found = false;
  BB_RETURN_IF_ERROR(session_->Run(
      "UPDATE safeguarding SET "
      "acknowledged_by = CASE WHEN acknowledged_ms = 0 THEN $3 ELSE acknowledged_by END, "
      "acknowledged_ms = CASE WHEN acknowledged_ms = 0 THEN $2 ELSE acknowledged_ms END "
      "WHERE record_id = $1 RETURNING record_id",
      {record_id, at_ms, user}, [&](const SqlRow&) {
        found = true;
        return Status::OK();
      }));
  if (!found) return Status::NotFound("record " + record_id + " is not on the safeguarding queue");
  if (step == ConcernStep::kRecordAction) {  // kept, whatever is recorded later
    BB_RETURN_IF_ERROR(session_->Run(
        "INSERT INTO safeguarding_actions(record_id, action, at_ms, by_user) VALUES($1,$2,$3,$4)",
        {record_id, action, at_ms, user}));
  }
  BB_RETURN_IF_ERROR(InsertAudit(session_.get(), audit));
  return txn.Commit();
}

}  // namespace beatbook::server
