#include "beatbook/local_store.h"

#include <cstdlib>
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
#include "migrations.h"

namespace beatbook {

namespace fs = std::filesystem;

namespace {

constexpr char kDbFile[] = "beatbook.db";

// Ids are UUIDs in practice; anything else a user passes must at least be a safe token.
// What opening a wiped store says: whose device it was, when it was wiped, and what to do.
Status WipedStoreError(const std::string& dir, const std::string& wiped_json) {
  std::string who, when;
  try {
    json w = json::parse(wiped_json);
    who = w.value("user", "") + "'s device " + w.value("device_id", "");
    when = FormatIsoUtc(w.value("at_ms", std::int64_t{0}));
  } catch (const json::exception&) {
    who = "this device";
  }
  return Status::PermissionDenied("the device store in " + dir + " (" + who + ") was wiped on " +
                                  when +
                                  " because the partnership revoked the device; enrol again "
                                  "with a new token into a new --data directory");
}

Status IdentityFromJson(const json& j, Identity* out) {
  Identity id;
  id.user = j.value("user", "");
  id.org = j.value("org", "");
  std::optional<Role> role = ParseRole(j.value("role", ""));
  if (!role) return Status::Corruption("the device's identity names no role this program knows");
  id.role = *role;
  id.device_id = j.value("device_id", "");
  id.server_url = j.value("server_url", "");
  id.secret = j.value("secret", "");
  id.ca_file = j.value("ca_file", "");
  id.subject_secret = j.value("subject_secret", "");
  id.allow_insecure_http = j.value("allow_insecure_http", false);
  id.server_reads_gzip = j.value("server_reads_gzip", false);
  *out = std::move(id);
  return Status::OK();
}

}  // namespace

using local_store_internal::IdentityToJson;
using local_store_internal::MetaInt;

Status LocalStore::Create(const std::string& dir, const Identity& identity, const FormSet& forms,
                          const LocalStoreOptions& options, std::unique_ptr<LocalStore>* out) {
  std::error_code ec;
  if (fs::exists(fs::path(dir) / kDbFile, ec)) {
    return Status::AlreadyExists("a device store already exists in " + dir);
  }
  fs::create_directories(dir, ec);
  if (ec) return Status::IoError("cannot create directory " + dir + ": " + ec.message());
  std::unique_ptr<LocalStore> store(new LocalStore);
  BB_RETURN_IF_ERROR(store->Init(dir, options, /*create=*/true));
  BB_RETURN_IF_ERROR(store->SetUpKey(options, /*create=*/true));
  SqliteTransaction txn(&store->db_);
  BB_RETURN_IF_ERROR(txn.Begin());
  if (!store->store_id_.empty()) BB_RETURN_IF_ERROR(store->PutMeta("store_id", store->store_id_));
  if (store->key_) {
    BB_RETURN_IF_ERROR(store->PutSealedMeta("key_check", "beatbook"));
  }
  BB_RETURN_IF_ERROR(store->PutSealedMeta("identity", IdentityToJson(identity).dump()));
  BB_RETURN_IF_ERROR(store->PutMeta("forms", forms.ToJson().dump()));
  BB_RETURN_IF_ERROR(store->PutMeta("hlc_last", "0"));
  BB_RETURN_IF_ERROR(store->PutMeta("clock_offset_ms", "0"));
  BB_RETURN_IF_ERROR(store->PutMeta("cursor", "0"));
  BB_RETURN_IF_ERROR(store->PutMeta("last_sync_ms", "0"));
  BB_RETURN_IF_ERROR(store->PutMeta("credential_ms", std::to_string(store->base_clock_->NowMs())));
  BB_RETURN_IF_ERROR(txn.Commit());
  BB_RETURN_IF_ERROR(store->LoadMeta());
  *out = std::move(store);
  return Status::OK();
}

Status LocalStore::Open(const std::string& dir, const LocalStoreOptions& options,
                        std::unique_ptr<LocalStore>* out) {
  std::error_code ec;
  if (!fs::exists(fs::path(dir) / kDbFile, ec)) {
    return Status::NotFound("no device store in " + dir + " (run 'field_client init' first)");
  }
  std::unique_ptr<LocalStore> store(new LocalStore);
  BB_RETURN_IF_ERROR(store->Init(dir, options, /*create=*/false));
  std::string wiped;
  if (store->GetMeta("wiped", &wiped).ok()) {
    // A wipe interrupted after its commit finishes here: whoever opens the store next scrubs it.
    store->ScrubFreedContent().ok();
    // And its key file, if the wipe stopped before deleting it.
    try {
      std::string id = json::parse(wiped).value("store_id", "");
      if (!id.empty()) DeleteDeviceKey(id);
    } catch (const json::exception&) {
    }
    return WipedStoreError(dir, wiped);
  }
  BB_RETURN_IF_ERROR(store->SetUpKey(options, /*create=*/false));
  BB_RETURN_IF_ERROR(store->LoadMeta());
  *out = std::move(store);
  return Status::OK();
}

Status LocalStore::Init(const std::string& dir, const LocalStoreOptions& options, bool create) {
  dir_ = dir;
  base_clock_ = options.clock ? options.clock : SystemClock::Default();
  clock_ = std::make_unique<OffsetClock>(base_clock_, 0);
  BB_RETURN_IF_ERROR(db_.Open((fs::path(dir) / kDbFile).string(), create));
  // Deleted content (acknowledged changes, purged records) is overwritten, not left in free pages.
  BB_RETURN_IF_ERROR(db_.Exec("PRAGMA secure_delete = ON"));
  return Migrate(options.max_schema_version ? options.max_schema_version : kSchemaVersion);
}

Status LocalStore::Migrate(int max_version) {
  SqliteStmt st;
  BB_RETURN_IF_ERROR(db_.Prepare("PRAGMA user_version", &st));
  st.Step();
  int current = static_cast<int>(st.ColumnInt(0));
  return ApplyMigrations(&db_, DeviceMigrations(), current, max_version, "device store " + dir_);
}

Status LocalStore::SetUpKey(const LocalStoreOptions& options, bool create) {
  std::int64_t version = 0;
  {
    SqliteStmt st;  // finalised here: VACUUM, in EncryptPlainContent, needs no open statements
    BB_RETURN_IF_ERROR(db_.Prepare("PRAGMA user_version", &st));
    st.Step();
    version = st.ColumnInt(0);
  }
  if (version < kFirstEncryptedVersion) return Status::OK();  // test hook: a plain store
  // Whether the store is sealed already: only a missing row says no. Any other error (busy, I/O)
  // must stop here, not lead to sealing sealed rows again under a new key.
  std::string check;
  bool encrypted = false;
  if (!create) {
    SqliteStmt* st;
    BB_RETURN_IF_ERROR(db_.Cached("SELECT value FROM meta WHERE key = 'key_check'", &st));
    auto r = st->Step();
    if (r == SqliteStmt::kError) return st->LastError();
    encrypted = r == SqliteStmt::kRow;
    if (encrypted) check = st->ColumnText(0);
    st->Reset();
  }
  if (options.key) {
    key_ = options.key;
  } else if (encrypted) {
    BB_RETURN_IF_ERROR(GetMeta("store_id", &store_id_));
    auto key = std::make_shared<DataKey>();
    BB_RETURN_IF_ERROR(LoadDeviceKey(store_id_, key.get()));
    key_ = std::move(key);
  } else {
    // A new store, or one from before encryption, on a device without PINs: a new key, kept
    // outside the directory.
    store_id_ = NewUuid();
    auto key = std::make_shared<DataKey>(DataKey::Generate());
    BB_RETURN_IF_ERROR(SaveDeviceKey(store_id_, *key));
    key_ = std::move(key);
  }
  if (create) return Status::OK();
  if (!encrypted) return EncryptPlainContent();
  std::string plain;
  if (!key_->Open(check, "meta:key_check", &plain).ok()) {
    return Status::PermissionDenied("the key given does not open the device store in " + dir_);
  }
  std::string pending;
  if (GetMeta("scrub_pending", &pending).ok()) return FinishScrub();
  return Status::OK();
}

Status LocalStore::EncryptPlainContent() {
  {
    SqliteTransaction txn(&db_);
    BB_RETURN_IF_ERROR(txn.Begin());
    // Each table's rows are read first, then rewritten: SQLite must not update a table while a
    // statement is still reading it.
    struct Row {
      std::string key, context_id, text;
    };
    auto reseal = [&](const char* select, const char* update, const char* context) -> Status {
      std::vector<Row> rows;
      SqliteStmt read;
      BB_RETURN_IF_ERROR(db_.Prepare(select, &read));
      SqliteStmt::StepResult r;
      while ((r = read.Step()) == SqliteStmt::kRow) {
        rows.push_back({read.ColumnText(0), read.ColumnText(1), read.ColumnText(2)});
      }
      if (r != SqliteStmt::kDone) return read.LastError();
      SqliteStmt write;
      BB_RETURN_IF_ERROR(db_.Prepare(update, &write));
      for (const Row& row : rows) {
        write.BindBlob(1, Seal(row.text, context + row.context_id));
        write.Bind(2, row.key);
        BB_RETURN_IF_ERROR(write.Run());
      }
      return Status::OK();
    };
    BB_RETURN_IF_ERROR(reseal("SELECT id, id, state FROM records",
                              "UPDATE records SET state = ? WHERE id = ?", "record:"));
    BB_RETURN_IF_ERROR(reseal("SELECT seq, record_id, change FROM outbox",
                              "UPDATE outbox SET change = ? WHERE seq = ?", "change:"));
    BB_RETURN_IF_ERROR(reseal("SELECT change_id, change_id, reason FROM rejections",
                              "UPDATE rejections SET reason = ? WHERE change_id = ?",
                              "rejection:"));
    BB_RETURN_IF_ERROR(
        reseal("SELECT key, key, value FROM meta WHERE key IN "
               "('identity', 'previous_secret')",
               "UPDATE meta SET value = ? WHERE key = ?", "meta:"));
    if (!store_id_.empty()) BB_RETURN_IF_ERROR(PutMeta("store_id", store_id_));
    BB_RETURN_IF_ERROR(PutSealedMeta("key_check", "beatbook"));
    // Cleared once the plain copies are scrubbed; a crash before that finishes it at next Open.
    BB_RETURN_IF_ERROR(PutMeta("scrub_pending", "1"));
    BB_FAULT_POINT("store.encrypt.before_commit");
    BB_RETURN_IF_ERROR(txn.Commit());
  }
  return FinishScrub();
}

Status LocalStore::FinishScrub() {
  // The plain copies are now free pages (overwritten: secure_delete) and WAL frames: empty it.
  BB_RETURN_IF_ERROR(ScrubFreedContent());
  SqliteStmt* st;
  BB_RETURN_IF_ERROR(db_.Cached("DELETE FROM meta WHERE key = 'scrub_pending'", &st));
  return st->Run();
}

std::string LocalStore::Seal(std::string_view plain, const std::string& context) const {
  return key_ ? key_->Seal(plain, context) : std::string(plain);
}

Status LocalStore::Unseal(const std::string& stored, const std::string& context,
                          std::string* plain) const {
  if (!key_) {
    *plain = stored;
    return Status::OK();
  }
  return key_->Open(stored, context, plain);
}

Status LocalStore::GetSealedMeta(const std::string& key, std::string* value) {
  std::string stored;
  BB_RETURN_IF_ERROR(GetMeta(key, &stored));
  return Unseal(stored, "meta:" + key, value);
}

Status LocalStore::PutSealedMeta(const std::string& key, const std::string& value) {
  SqliteStmt* st;
  BB_RETURN_IF_ERROR(db_.Cached("INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)", &st));
  st->Bind(1, key);
  st->BindBlob(2, Seal(value, "meta:" + key));
  return st->Run();
}

Status LocalStore::LoadMeta() {
  std::string text;
  BB_RETURN_IF_ERROR(GetSealedMeta("identity", &text));
  try {
    BB_RETURN_IF_ERROR(IdentityFromJson(json::parse(text), &identity_));
    BB_RETURN_IF_ERROR(GetMeta("forms", &text));
    BB_RETURN_IF_ERROR(FormSet::FromJson(json::parse(text), &forms_));
    previous_secret_ = GetSealedMeta("previous_secret", &text).ok() ? text : "";
    BB_RETURN_IF_ERROR(GetMeta("clock_offset_ms", &text));
    clock_ = std::make_unique<OffsetClock>(base_clock_, std::stoll(text));
  } catch (const std::exception& e) {
    return Status::Corruption("device store " + dir_ + " has unreadable settings: " + e.what());
  }
  return Status::OK();
}

Status LocalStore::GetMeta(const std::string& key, std::string* value) {
  SqliteStmt* st;
  BB_RETURN_IF_ERROR(db_.Cached("SELECT value FROM meta WHERE key = ?", &st));
  st->Bind(1, key);
  auto r = st->Step();
  if (r == SqliteStmt::kError) return st->LastError();
  if (r != SqliteStmt::kRow)
    return Status::Corruption("device store " + dir_ + " lacks '" + key + "'");
  *value = st->ColumnText(0);
  st->Reset();
  return Status::OK();
}

Status LocalStore::PutMeta(const std::string& key, const std::string& value) {
  SqliteStmt* st;
  BB_RETURN_IF_ERROR(db_.Cached("INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)", &st));
  st->Bind(1, key);
  st->Bind(2, value);
  return st->Run();
}

Status LocalStore::ReadHlc(HlcStamp* last) {
  std::string text;
  BB_RETURN_IF_ERROR(GetMeta("hlc_last", &text));
  return MetaInt(text, "hlc_last", last);
}

Status LocalStore::LoadState(const std::string& id, RecordState* out, bool* found) {
  SqliteStmt* st;
  BB_RETURN_IF_ERROR(db_.Cached("SELECT state FROM records WHERE id = ?", &st));
  st->Bind(1, id);
  auto r = st->Step();
  if (r == SqliteStmt::kError) return st->LastError();
  *found = r == SqliteStmt::kRow;
  if (!*found) return Status::OK();
  std::string stored = st->ColumnText(0), text;
  st->Reset();
  BB_RETURN_IF_ERROR(Unseal(stored, "record:" + id, &text));
  return ParseStoredState(text, out);
}

Status LocalStore::WriteState(const RecordState& state) {
  return WriteState(state, state.ToJson().dump());
}

Status LocalStore::WriteState(const RecordState& state, const std::string& state_json) {
  SqliteStmt* st;
  BB_RETURN_IF_ERROR(db_.Cached(
      "INSERT OR REPLACE INTO records(id, form, deleted, occurred_at, occurred_ms, state) "
      "VALUES(?, ?, ?, ?, ?, ?)",
      &st));
  std::int64_t occurred_ms = 0;
  ParseIsoDateTime(state.OccurredAt(), &occurred_ms).ok();
  st->Bind(1, state.id);
  st->Bind(2, state.form);
  st->Bind(3, std::int64_t{state.IsDeleted() ? 1 : 0});
  st->Bind(4, state.OccurredAt());
  st->Bind(5, occurred_ms);
  st->BindBlob(6, Seal(state_json, "record:" + state.id));
  return st->Run();
}

Status LocalStore::AppendOutbox(const RecordState& change) {
  return AppendOutbox(change.id, change.ToJson(/*with_base=*/true).dump());
}

Status LocalStore::AppendOutbox(const std::string& record_id, const std::string& change_json) {
  SqliteStmt* st;
  BB_RETURN_IF_ERROR(
      db_.Cached("INSERT INTO outbox(change_id, record_id, change) VALUES(?, ?, ?)", &st));
  st->Bind(1, NewUuid());
  st->Bind(2, record_id);
  st->BindBlob(3, Seal(change_json, "change:" + record_id));
  return st->Run();
}

}  // namespace beatbook
