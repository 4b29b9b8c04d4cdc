// LocalStore, the device side of sync: the outbox, what the server acknowledged or refused, and the
// states pulled from it.
#include "beatbook/local_store.h"

#include <filesystem>
#include <set>

#include "beatbook/crypto.h"
#include "beatbook/datetime.h"
#include "beatbook/fault.h"
#include "beatbook/key_files.h"
#include "beatbook/permissions.h"
#include "beatbook/record_rows.h"
#include "beatbook/return_checks.h"
#include "beatbook/tunables.h"
#include "beatbook/validation.h"
#include "local_store_internal.h"

namespace beatbook {

namespace fs = std::filesystem;
using local_store_internal::IdentityToJson;
using local_store_internal::MetaInt;

Status LocalStore::ReadOutbox(std::size_t max, std::vector<OutboxEntry>* out, bool parse) {
  SqliteStmt* st;
  BB_RETURN_IF_ERROR(
      db_.Cached("SELECT seq, change_id, record_id, change FROM outbox ORDER BY seq LIMIT ?", &st));
  st->Bind(1, static_cast<std::int64_t>(max));
  SqliteStmt::StepResult r;
  while ((r = st->Step()) == SqliteStmt::kRow) {
    OutboxEntry e;
    e.seq = st->ColumnInt(0);
    e.change_id = st->ColumnText(1);
    e.record_id = st->ColumnText(2);
    Status opened = Unseal(st->ColumnText(3), "change:" + e.record_id, &e.change_json);
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

Status LocalStore::Acknowledge(const std::vector<std::int64_t>& seqs,
                               const std::vector<Rejection>& rejected) {
  SqliteTransaction txn(&db_);
  BB_RETURN_IF_ERROR(txn.Begin());
  // Records whose change the server took: an earlier rejection of theirs is fixed.
  std::set<std::string> accepted;
  SqliteStmt* which;
  BB_RETURN_IF_ERROR(db_.Cached("SELECT record_id FROM outbox WHERE seq = ?", &which));
  SqliteStmt* del;
  BB_RETURN_IF_ERROR(db_.Cached("DELETE FROM outbox WHERE seq = ?", &del));
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
  BB_RETURN_IF_ERROR(db_.Cached("DELETE FROM rejections WHERE record_id = ?", &fixed));
  for (const auto& id : accepted) {
    fixed->Bind(1, id);
    BB_RETURN_IF_ERROR(fixed->Run());
  }
  SqliteStmt* ins;
  BB_RETURN_IF_ERROR(db_.Cached(
      "INSERT OR REPLACE INTO rejections(change_id, record_id, reason, at_ms) VALUES(?,?,?,?)",
      &ins));
  for (const auto& r : rejected) {
    ins->Bind(1, r.change_id);
    ins->Bind(2, r.record_id);
    ins->BindBlob(3, Seal(r.reason, "rejection:" + r.change_id));
    ins->Bind(4, r.at_ms);
    BB_RETURN_IF_ERROR(ins->Run());
  }
  BB_FAULT_POINT("store.ack.before_commit");
  return txn.Commit();
}

Status LocalStore::HasRejections(const std::string& id, bool* any) {
  SqliteStmt* st;
  BB_RETURN_IF_ERROR(db_.Cached("SELECT 1 FROM rejections WHERE record_id = ? LIMIT 1", &st));
  st->Bind(1, id);
  SqliteStmt::StepResult r = st->Step();
  if (r == SqliteStmt::kError) return st->LastError();
  *any = r == SqliteStmt::kRow;
  st->Reset();
  return Status::OK();
}

Status LocalStore::ForgetRecord(const std::string& id) {
  // Its unsynced changes go too: the server would refuse them, and they hold the expired content.
  for (const char* sql :
       {"DELETE FROM records WHERE id = ?", "DELETE FROM outbox WHERE record_id = ?",
        "DELETE FROM rejections WHERE record_id = ?"}) {
    SqliteStmt* st;
    BB_RETURN_IF_ERROR(db_.Cached(sql, &st));
    st->Bind(1, id);
    BB_RETURN_IF_ERROR(st->Run());
  }
  return Status::OK();
}

Status LocalStore::ApplyPulled(const std::vector<RecordState>& states, const std::string& cursor) {
  SqliteTransaction txn(&db_);
  BB_RETURN_IF_ERROR(txn.Begin());
  HlcStamp last;
  BB_RETURN_IF_ERROR(ReadHlc(&last));
  HybridClock hlc(clock_.get(), last);
  const HlcStamp horizon = hlc.Horizon();
  bool purged_any = false;
  for (const auto& incoming : states) {
    // A stamp far ahead of this device's (server-corrected) clock is not trusted: applying it
    // would let it win every later write. The server refuses such changes; one stored before it
    // did is left out here (docs/protocol.md, section 2).
    if (incoming.MaxStamp() > horizon) continue;
    RecordState local;
    bool found = false;
    BB_RETURN_IF_ERROR(LoadState(incoming.id, &local, &found));
    if (found && (local.form != incoming.form || local.org != incoming.org)) {
      // The server cleared a record that had taken a partner return's id (sync_server unblock),
      // and the return now has it: the server's record wins, the local one goes with any change
      // to it not yet synced (the server would refuse those).
      BB_RETURN_IF_ERROR(ForgetRecord(local.id));
      local = RecordState{};
    }
    if (Merge(&local, incoming).changed) {
      BB_RETURN_IF_ERROR(local.purged ? ForgetRecord(local.id) : WriteState(local));
      purged_any |= local.purged;
    }
    hlc.Observe(incoming.MaxStamp());
  }
  BB_RETURN_IF_ERROR(PutMeta("hlc_last", std::to_string(hlc.last())));
  BB_RETURN_IF_ERROR(PutMeta("cursor", cursor));
  BB_FAULT_POINT("store.pull.before_commit");
  BB_RETURN_IF_ERROR(txn.Commit());
  // Older copies of purged records' pages may sit in the WAL: copy back and empty it.
  // Best effort (the pull is committed): the next purge or automatic checkpoint does it otherwise.
  if (purged_any) db_.CheckpointTruncate().ok();
  return Status::OK();
}

}  // namespace beatbook
