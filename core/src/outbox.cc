#include "outbox.h"

#include <set>

#include "beatbook/crypto.h"
#include "beatbook/fault.h"

namespace beatbook {

Status Outbox::Append(const std::string& record_id, const std::string& change_json) {
  SqliteStmt* st;
  BB_RETURN_IF_ERROR(
      file_->db().Cached("INSERT INTO outbox(change_id, record_id, change) VALUES(?, ?, ?)", &st));
  st->Bind(1, NewUuid());
  st->Bind(2, record_id);
  st->BindBlob(3, file_->Seal(change_json, "change:" + record_id));
  return st->Run();
}

Status Outbox::Read(std::size_t max, std::vector<OutboxEntry>* out, bool parse) {
  SqliteStmt* st;
  BB_RETURN_IF_ERROR(file_->db().Cached(
      "SELECT seq, change_id, record_id, change FROM outbox ORDER BY seq LIMIT ?", &st));
  st->Bind(1, static_cast<std::int64_t>(max));
  SqliteStmt::StepResult r;
  while ((r = st->Step()) == SqliteStmt::kRow) {
    OutboxEntry e;
    e.seq = st->ColumnInt(0);
    e.change_id = st->ColumnText(1);
    e.record_id = st->ColumnText(2);
    Status opened = file_->Unseal(st->ColumnText(3), "change:" + e.record_id, &e.change_json);
    if (!opened.ok()) {
      st->Reset();
      return opened;
    }
    if (e.change_json.size() < 2 || e.change_json.front() != '{' || e.change_json.back() != '}') {
      st->Reset();
      return Status::Corruption("outbox change " + std::to_string(e.seq) + " is unreadable");
    }
    if (parse) {
      try {
        Status s = RecordState::FromJson(json::parse(e.change_json), &e.change);
        if (!s.ok()) {
          st->Reset();
          return s;
        }
      } catch (const json::exception& ex) {
        st->Reset();
        return Status::Corruption(std::string("an outbox change is unreadable: ") + ex.what());
      }
    }
    out->push_back(std::move(e));
  }
  if (r != SqliteStmt::kDone) return st->LastError();
  st->Reset();
  return Status::OK();
}

Status Outbox::Acknowledge(const std::vector<std::int64_t>& seqs,
                           const std::vector<Rejection>& rejected) {
  SqliteTransaction txn(&file_->db());
  BB_RETURN_IF_ERROR(txn.Begin());
  // Records whose change the server took: an earlier rejection of theirs is fixed.
  std::set<std::string> accepted;
  SqliteStmt* which;
  BB_RETURN_IF_ERROR(file_->db().Cached("SELECT record_id FROM outbox WHERE seq = ?", &which));
  SqliteStmt* del;
  BB_RETURN_IF_ERROR(file_->db().Cached("DELETE FROM outbox WHERE seq = ?", &del));
  for (auto seq : seqs) {
    which->Bind(1, seq);
    SqliteStmt::StepResult row = which->Step();
    if (row == SqliteStmt::kError) return which->LastError();
    if (row == SqliteStmt::kRow) accepted.insert(which->ColumnText(0));
    which->Reset();
    del->Bind(1, seq);
    BB_RETURN_IF_ERROR(del->Run());
  }
  for (const auto& r : rejected) accepted.erase(r.record_id);
  SqliteStmt* fixed;
  BB_RETURN_IF_ERROR(file_->db().Cached("DELETE FROM rejections WHERE record_id = ?", &fixed));
  for (const auto& id : accepted) {
    fixed->Bind(1, id);
    BB_RETURN_IF_ERROR(fixed->Run());
  }
  SqliteStmt* ins;
  BB_RETURN_IF_ERROR(file_->db().Cached(
      "INSERT OR REPLACE INTO rejections(change_id, record_id, reason, at_ms) VALUES(?,?,?,?)",
      &ins));
  for (const auto& r : rejected) {
    ins->Bind(1, r.change_id);
    ins->Bind(2, r.record_id);
    ins->BindBlob(3, file_->Seal(r.reason, "rejection:" + r.change_id));
    ins->Bind(4, r.at_ms);
    BB_RETURN_IF_ERROR(ins->Run());
  }
  BB_FAULT_POINT("store.ack.before_commit");
  return txn.Commit();
}

Status Outbox::HasRejections(const std::string& id, bool* any) {
  SqliteStmt* st;
  BB_RETURN_IF_ERROR(
      file_->db().Cached("SELECT 1 FROM rejections WHERE record_id = ? LIMIT 1", &st));
  st->Bind(1, id);
  SqliteStmt::StepResult r = st->Step();
  if (r == SqliteStmt::kError) return st->LastError();
  *any = r == SqliteStmt::kRow;
  st->Reset();
  return Status::OK();
}

Status Outbox::Forget(const std::string& record_id) {
  for (const char* sql :
       {"DELETE FROM outbox WHERE record_id = ?", "DELETE FROM rejections WHERE record_id = ?"}) {
    SqliteStmt* st;
    BB_RETURN_IF_ERROR(file_->db().Cached(sql, &st));
    st->Bind(1, record_id);
    BB_RETURN_IF_ERROR(st->Run());
  }
  return Status::OK();
}

Status Outbox::Rejections(std::vector<Rejection>* out) {
  SqliteStmt st;
  BB_RETURN_IF_ERROR(file_->db().Prepare(
      "SELECT change_id, record_id, reason, at_ms FROM rejections ORDER BY at_ms, change_id", &st));
  SqliteStmt::StepResult r;
  while ((r = st.Step()) == SqliteStmt::kRow) {
    Rejection rejection{st.ColumnText(0), st.ColumnText(1), "", st.ColumnInt(3)};
    BB_RETURN_IF_ERROR(
        file_->Unseal(st.ColumnText(2), "rejection:" + rejection.change_id, &rejection.reason));
    out->push_back(std::move(rejection));
  }
  return r == SqliteStmt::kDone ? Status::OK() : st.LastError();
}

}  // namespace beatbook
