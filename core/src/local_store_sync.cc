// LocalStore, the device side of sync: the outbox, what the server acknowledged or refused, and the
// states pulled from it.
#include "beatbook/local_store.h"

#include <algorithm>
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
#include "outbox.h"
#include "store_file.h"

namespace beatbook {

namespace fs = std::filesystem;
using local_store_internal::IdentityToJson;
using local_store_internal::MetaInt;

Status LocalStore::ReadOutbox(std::size_t max, std::vector<OutboxEntry>* out, bool parse) {
  return outbox_->Read(max, out, parse);
}

Status LocalStore::Acknowledge(const std::vector<std::int64_t>& seqs,
                               const std::vector<Rejection>& rejected) {
  return outbox_->Acknowledge(seqs, rejected);
}

Status LocalStore::ForgetRecord(const std::string& id) {
  // Its unsynced changes go too: the server would refuse them, and they hold the expired content.
  SqliteStmt* st;
  BB_RETURN_IF_ERROR(file_->db().Cached("DELETE FROM records WHERE id = ?", &st));
  st->Bind(1, id);
  BB_RETURN_IF_ERROR(st->Run());
  return outbox_->Forget(id);
}

Status LocalStore::ApplyPulled(const std::vector<RecordState>& states, const std::string& cursor) {
  SqliteTransaction txn(&file_->db());
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
  BB_RETURN_IF_ERROR(file_->PutMeta("hlc_last", std::to_string(hlc.last())));
  BB_RETURN_IF_ERROR(file_->PutMeta("cursor", cursor));
  BB_FAULT_POINT("store.pull.before_commit");
  BB_RETURN_IF_ERROR(txn.Commit());
  // A purged record's photos go with it. Older copies of purged records' pages may sit in the
  // WAL: copy back and empty it. Best effort (the pull is committed): the next purge or
  // automatic checkpoint does both otherwise.
  if (purged_any) {
    PruneAttachments().ok();
    file_->db().CheckpointTruncate().ok();
  }
  return Status::OK();
}

Status LocalStore::ServerEpoch(std::string* epoch) {
  epoch->clear();
  if (!file_->GetMeta("server_epoch", epoch).ok()) epoch->clear();  // none kept yet
  return Status::OK();
}

Status LocalStore::NoteServerEpoch(const std::string& epoch, bool* changed, std::int64_t* resent) {
  *changed = false;
  *resent = 0;
  std::string kept;
  BB_RETURN_IF_ERROR(ServerEpoch(&kept));
  if (epoch.empty() || epoch == kept) return Status::OK();
  SqliteTransaction txn(&file_->db());
  BB_RETURN_IF_ERROR(txn.Begin());
  if (!kept.empty()) {
    // The server went back in time. What this device wrote is in its records' registers stamped
    // with its id (a write another device's later one replaced is that device's to send again).
    // Each goes as it is, with its own stamp: where the server still has it, it merges as a
    // no-op; where not, it is taken as it was first. Records this device created go first, so
    // that its own edits to them find them there.
    std::vector<RecordState> states;
    BB_RETURN_IF_ERROR(ListAllStates(&states));
    const std::string& me = identity_.device_id;
    std::stable_partition(states.begin(), states.end(),
                          [&](const RecordState& r) { return r.device == me; });
    for (const RecordState& state : states) {
      if (state.purged) continue;
      RecordState change = state;
      change.occurred_at.reset();
      change.deleted.reset();
      change.fields.clear();
      if (state.occurred_at && state.occurred_at->d == me) change.occurred_at = state.occurred_at;
      if (state.deleted && state.deleted->d == me) change.deleted = state.deleted;
      for (const auto& [name, reg] : state.fields) {
        if (reg.d == me) change.fields.emplace(name, reg);
      }
      if (!change.occurred_at && !change.deleted && change.fields.empty()) continue;
      BB_RETURN_IF_ERROR(AppendOutbox(change));
      ++*resent;
    }
    BB_RETURN_IF_ERROR(file_->PutMeta("cursor", "0"));
    // The restored server may lack photos it had confirmed: ask again about each (one that it
    // still holds completes at once, nothing sent).
    BB_RETURN_IF_ERROR(file_->db().Exec("UPDATE attachments SET uploaded = 0"));
    *changed = true;
  }
  BB_RETURN_IF_ERROR(file_->PutMeta("server_epoch", epoch));
  BB_FAULT_POINT("store.epoch.before_commit");
  return txn.Commit();
}

}  // namespace beatbook
