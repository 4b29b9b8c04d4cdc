// LocalStore, the device itself: its credential, clock offset, forms and identity, and the remote
// wipe.
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
#include "store_file.h"

namespace beatbook {

namespace fs = std::filesystem;
using local_store_internal::IdentityToJson;
using local_store_internal::MetaInt;

Status LocalStore::RecordSync(std::int64_t at_ms) {
  return file_->PutMeta("last_sync_ms", std::to_string(at_ms));
}

Status LocalStore::SetClockOffset(std::int64_t offset_ms) {
  BB_RETURN_IF_ERROR(file_->PutMeta("clock_offset_ms", std::to_string(offset_ms)));
  clock_ = std::make_unique<OffsetClock>(base_clock_, offset_ms);
  return Status::OK();
}

Status LocalStore::ReplaceForms(const FormSet& forms) {
  BB_RETURN_IF_ERROR(file_->PutMeta("forms", forms.ToJson().dump()));
  forms_ = forms;
  return Status::OK();
}

Status LocalStore::SetSecret(const std::string& secret) {
  SqliteTransaction txn(&file_->db());
  BB_RETURN_IF_ERROR(txn.Begin());
  Identity updated = identity_;
  updated.secret = secret;
  BB_RETURN_IF_ERROR(file_->PutSealedMeta("identity", IdentityToJson(updated).dump()));
  BB_RETURN_IF_ERROR(file_->PutSealedMeta("previous_secret", identity_.secret));
  BB_RETURN_IF_ERROR(file_->PutMeta("credential_ms", std::to_string(base_clock_->NowMs())));
  BB_RETURN_IF_ERROR(txn.Commit());
  previous_secret_ = identity_.secret;
  identity_ = std::move(updated);
  return Status::OK();
}

Status LocalStore::ForgetPreviousSecret() {
  SqliteStmt* st;
  BB_RETURN_IF_ERROR(file_->db().Cached("DELETE FROM meta WHERE key = 'previous_secret'", &st));
  BB_RETURN_IF_ERROR(st->Run());
  previous_secret_.clear();
  return Status::OK();
}

Status LocalStore::RestorePreviousSecret() {
  if (previous_secret_.empty()) return Status::FailedPrecondition("no previous credential");
  SqliteTransaction txn(&file_->db());
  BB_RETURN_IF_ERROR(txn.Begin());
  Identity restored = identity_;
  restored.secret = previous_secret_;
  BB_RETURN_IF_ERROR(file_->PutSealedMeta("identity", IdentityToJson(restored).dump()));
  SqliteStmt* st;
  BB_RETURN_IF_ERROR(file_->db().Cached("DELETE FROM meta WHERE key = 'previous_secret'", &st));
  BB_RETURN_IF_ERROR(st->Run());
  BB_RETURN_IF_ERROR(txn.Commit());
  identity_ = std::move(restored);
  previous_secret_.clear();
  return Status::OK();
}

Status LocalStore::CredentialSince(std::int64_t* at_ms) {
  std::string text;
  // Stores made before rotation existed have no date: their credential counts as old.
  *at_ms = 0;
  if (!file_->GetMeta("credential_ms", &text).ok()) return Status::OK();
  return MetaInt(text, "credential_ms", at_ms);
}

Status LocalStore::Language(std::string* code) {
  std::string chosen;
  // A store from before languages has no such row: its worker has not chosen.
  if (file_->GetMeta("language", &chosen).ok() && forms_.FindLanguage(chosen)) {
    *code = chosen;
  } else {
    *code = forms_.default_language().code;
  }
  return Status::OK();
}

Status LocalStore::SetLanguage(const std::string& code) {
  if (!forms_.FindLanguage(code)) {
    std::string known;
    for (const auto& l : forms_.languages()) {
      known += (known.empty() ? "" : ", ") + l.code + " (" + l.name + ")";
    }
    return Status::InvalidArgument("no forms are written in '" + code + "'; the languages are " +
                                   known);
  }
  return file_->PutMeta("language", code);
}

Status LocalStore::SetIdentity(const Identity& identity) {
  BB_RETURN_IF_ERROR(file_->PutSealedMeta("identity", IdentityToJson(identity).dump()));
  identity_ = identity;
  return Status::OK();
}

Status LocalStore::Wipe() {
  json marker = {{"device_id", identity_.device_id},
                 {"user", identity_.user},
                 {"at_ms", base_clock_->NowMs()},
                 {"store_id", store_id_}};
  {
    SqliteTransaction txn(&file_->db());
    BB_RETURN_IF_ERROR(txn.Begin());
    BB_RETURN_IF_ERROR(
        file_->db().Exec("DELETE FROM records; DELETE FROM outbox; DELETE FROM rejections; "
                         "DELETE FROM drafts; DELETE FROM attachments; DELETE FROM meta;"));
    BB_RETURN_IF_ERROR(file_->PutMeta("wiped", marker.dump()));
    BB_FAULT_POINT("store.wipe.before_commit");
    BB_RETURN_IF_ERROR(txn.Commit());
  }
  identity_.secret.clear();
  // Nothing is left for the key to open; without it, no copy of the old files opens either.
  if (!store_id_.empty()) DeleteDeviceKey(store_id_);
  return ScrubFreedContent();
}

Status LocalStore::ScrubFreedContent() {
  // Deleted rows' old pages may still sit in the WAL: copy back, empty it, then rewrite the
  // database file without free pages, and empty the WAL VACUUM wrote.
  BB_RETURN_IF_ERROR(file_->db().CheckpointTruncate());
  BB_RETURN_IF_ERROR(file_->db().Exec("VACUUM"));
  return file_->db().CheckpointTruncate();
}

}  // namespace beatbook
