#include "beatbook/local_store.h"

#include <cstdlib>
#include <filesystem>
#include <set>

#include "attachment_box.h"
#include "beatbook/crypto.h"
#include "beatbook/datetime.h"
#include "beatbook/fault.h"
#include "beatbook/key_files.h"
#include "beatbook/permissions.h"
#include "beatbook/record_rows.h"
#include "beatbook/return_checks.h"
#include "beatbook/tunables.h"
#include "beatbook/validation.h"
#include "draft_box.h"
#include "local_store_internal.h"
#include "migrations.h"
#include "outbox.h"
#include "store_file.h"

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
  SqliteTransaction txn(&store->file_->db());
  BB_RETURN_IF_ERROR(txn.Begin());
  if (!store->store_id_.empty())
    BB_RETURN_IF_ERROR(store->file_->PutMeta("store_id", store->store_id_));
  if (store->file_->key()) {
    BB_RETURN_IF_ERROR(store->file_->PutSealedMeta("key_check", "beatbook"));
  }
  BB_RETURN_IF_ERROR(store->file_->PutSealedMeta("identity", IdentityToJson(identity).dump()));
  BB_RETURN_IF_ERROR(store->file_->PutMeta("forms", forms.ToJson().dump()));
  BB_RETURN_IF_ERROR(store->file_->PutMeta("hlc_last", "0"));
  BB_RETURN_IF_ERROR(store->file_->PutMeta("clock_offset_ms", "0"));
  BB_RETURN_IF_ERROR(store->file_->PutMeta("cursor", "0"));
  BB_RETURN_IF_ERROR(store->file_->PutMeta("last_sync_ms", "0"));
  BB_RETURN_IF_ERROR(
      store->file_->PutMeta("credential_ms", std::to_string(store->base_clock_->NowMs())));
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
  if (store->file_->GetMeta("wiped", &wiped).ok()) {
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

LocalStore::LocalStore() = default;
LocalStore::~LocalStore() = default;

const std::string& LocalStore::dir() const { return file_->dir(); }

Status LocalStore::Init(const std::string& dir, const LocalStoreOptions& options, bool create) {
  file_ = std::make_unique<StoreFile>(dir);
  drafts_ = std::make_unique<DraftBox>(file_.get(), &forms_);
  attachments_ = std::make_unique<AttachmentBox>(file_.get());
  outbox_ = std::make_unique<Outbox>(file_.get());
  base_clock_ = options.clock ? options.clock : SystemClock::Default();
  clock_ = std::make_unique<OffsetClock>(base_clock_, 0);
  BB_RETURN_IF_ERROR(file_->db().Open((fs::path(dir) / kDbFile).string(), create));
  // Deleted content (acknowledged changes, purged records) is overwritten, not left in free pages.
  BB_RETURN_IF_ERROR(file_->db().Exec("PRAGMA secure_delete = ON"));
  return Migrate(options.max_schema_version ? options.max_schema_version : kSchemaVersion);
}

Status LocalStore::Migrate(int max_version) {
  SqliteStmt st;
  BB_RETURN_IF_ERROR(file_->db().Prepare("PRAGMA user_version", &st));
  st.Step();
  int current = static_cast<int>(st.ColumnInt(0));
  return ApplyMigrations(&file_->db(), DeviceMigrations(), current, max_version,
                         "device store " + file_->dir());
}

Status LocalStore::SetUpKey(const LocalStoreOptions& options, bool create) {
  std::int64_t version = 0;
  {
    SqliteStmt st;  // finalised here: VACUUM, in EncryptPlainContent, needs no open statements
    BB_RETURN_IF_ERROR(file_->db().Prepare("PRAGMA user_version", &st));
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
    BB_RETURN_IF_ERROR(file_->db().Cached("SELECT value FROM meta WHERE key = 'key_check'", &st));
    auto r = st->Step();
    if (r == SqliteStmt::kError) return st->LastError();
    encrypted = r == SqliteStmt::kRow;
    if (encrypted) check = st->ColumnText(0);
    st->Reset();
  }
  if (options.key) {
    file_->set_key(options.key);
  } else if (encrypted) {
    BB_RETURN_IF_ERROR(file_->GetMeta("store_id", &store_id_));
    auto key = std::make_shared<DataKey>();
    BB_RETURN_IF_ERROR(LoadDeviceKey(store_id_, key.get()));
    file_->set_key(std::move(key));
  } else {
    // A new store, or one from before encryption, on a device without PINs: a new key, kept
    // outside the directory.
    store_id_ = NewUuid();
    auto key = std::make_shared<DataKey>(DataKey::Generate());
    BB_RETURN_IF_ERROR(SaveDeviceKey(store_id_, *key));
    file_->set_key(std::move(key));
  }
  if (create) return Status::OK();
  if (!encrypted) return EncryptPlainContent();
  std::string plain;
  if (!file_->key()->Open(check, "meta:key_check", &plain).ok()) {
    return Status::PermissionDenied("the key given does not open the device store in " +
                                    file_->dir());
  }
  std::string pending;
  if (file_->GetMeta("scrub_pending", &pending).ok()) return FinishScrub();
  return Status::OK();
}

Status LocalStore::EncryptPlainContent() {
  {
    SqliteTransaction txn(&file_->db());
    BB_RETURN_IF_ERROR(txn.Begin());
    // Each table's rows are read first, then rewritten: SQLite must not update a table while a
    // statement is still reading it.
    struct Row {
      std::string key, context_id, text;
    };
    auto reseal = [&](const char* select, const char* update, const char* context) -> Status {
      std::vector<Row> rows;
      SqliteStmt read;
      BB_RETURN_IF_ERROR(file_->db().Prepare(select, &read));
      SqliteStmt::StepResult r;
      while ((r = read.Step()) == SqliteStmt::kRow) {
        rows.push_back({read.ColumnText(0), read.ColumnText(1), read.ColumnText(2)});
      }
      if (r != SqliteStmt::kDone) return read.LastError();
      SqliteStmt write;
      BB_RETURN_IF_ERROR(file_->db().Prepare(update, &write));
      for (const Row& row : rows) {
        write.BindBlob(1, file_->Seal(row.text, context + row.context_id));
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
    if (!store_id_.empty()) BB_RETURN_IF_ERROR(file_->PutMeta("store_id", store_id_));
    BB_RETURN_IF_ERROR(file_->PutSealedMeta("key_check", "beatbook"));
    // Cleared once the plain copies are scrubbed; a crash before that finishes it at next Open.
    BB_RETURN_IF_ERROR(file_->PutMeta("scrub_pending", "1"));
    BB_FAULT_POINT("store.encrypt.before_commit");
    BB_RETURN_IF_ERROR(txn.Commit());
  }
  return FinishScrub();
}

Status LocalStore::FinishScrub() {
  // The plain copies are now free pages (overwritten: secure_delete) and WAL frames: empty it.
  BB_RETURN_IF_ERROR(ScrubFreedContent());
  SqliteStmt* st;
  BB_RETURN_IF_ERROR(file_->db().Cached("DELETE FROM meta WHERE key = 'scrub_pending'", &st));
  return st->Run();
}

Status LocalStore::LoadMeta() {
  std::string text;
  BB_RETURN_IF_ERROR(file_->GetSealedMeta("identity", &text));
  try {
    BB_RETURN_IF_ERROR(IdentityFromJson(json::parse(text), &identity_));
    BB_RETURN_IF_ERROR(file_->GetMeta("forms", &text));
    BB_RETURN_IF_ERROR(FormSet::FromJson(json::parse(text), &forms_));
    previous_secret_ = file_->GetSealedMeta("previous_secret", &text).ok() ? text : "";
    BB_RETURN_IF_ERROR(file_->GetMeta("clock_offset_ms", &text));
    clock_ = std::make_unique<OffsetClock>(base_clock_, std::stoll(text));
  } catch (const std::exception& e) {
    return Status::Corruption("device store " + file_->dir() +
                              " has unreadable settings: " + e.what());
  }
  return Status::OK();
}

Status LocalStore::ReadHlc(HlcStamp* last) {
  std::string text;
  BB_RETURN_IF_ERROR(file_->GetMeta("hlc_last", &text));
  return MetaInt(text, "hlc_last", last);
}

Status LocalStore::LoadState(const std::string& id, RecordState* out, bool* found) {
  SqliteStmt* st;
  BB_RETURN_IF_ERROR(file_->db().Cached("SELECT state FROM records WHERE id = ?", &st));
  st->Bind(1, id);
  auto r = st->Step();
  if (r == SqliteStmt::kError) return st->LastError();
  *found = r == SqliteStmt::kRow;
  if (!*found) return Status::OK();
  std::string stored = st->ColumnText(0), text;
  st->Reset();
  BB_RETURN_IF_ERROR(file_->Unseal(stored, "record:" + id, &text));
  return ParseStoredState(text, out);
}

Status LocalStore::WriteState(const RecordState& state) {
  return WriteState(state, state.ToText());
}

Status LocalStore::WriteState(const RecordState& state, const std::string& state_json) {
  SqliteStmt* st;
  BB_RETURN_IF_ERROR(file_->db().Cached(
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
  st->BindBlob(6, file_->Seal(state_json, "record:" + state.id));
  return st->Run();
}

Status LocalStore::AppendOutbox(const RecordState& change) {
  return AppendOutbox(change.id, change.ToText(/*with_base=*/true));
}

Status LocalStore::AppendOutbox(const std::string& record_id, const std::string& change_json) {
  return outbox_->Append(record_id, change_json);
}

}  // namespace beatbook
