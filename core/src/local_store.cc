#include "beatbook/local_store.h"

#include <cstdlib>
#include <filesystem>
#include <set>

#include "beatbook/crypto.h"
#include "beatbook/datetime.h"
#include "beatbook/fault.h"
#include "beatbook/key_files.h"
#include "beatbook/migrations.h"
#include "beatbook/permissions.h"
#include "beatbook/record_rows.h"
#include "beatbook/return_checks.h"
#include "beatbook/tunables.h"
#include "beatbook/validation.h"

namespace beatbook {

namespace fs = std::filesystem;

namespace {

// A whole number this store wrote into its meta table, read without exceptions.
template <typename Int>
Status MetaInt(const std::string& text, const char* key, Int* out) {
  char* end = nullptr;
  long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0') {
    return Status::Corruption(std::string("the device store's ") + key + " '" + text +
                              "' is not a number");
  }
  *out = static_cast<Int>(v);
  return Status::OK();
}

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

bool IsValidId(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) return false;
  }
  return true;
}

json IdentityToJson(const Identity& id) {
  return {{"user", id.user},
          {"org", id.org},
          {"role", id.role},
          {"device_id", id.device_id},
          {"server_url", id.server_url},
          {"secret", id.secret},
          {"ca_file", id.ca_file},
          {"subject_secret", id.subject_secret},
          {"allow_insecure_http", id.allow_insecure_http}};
}

Identity IdentityFromJson(const json& j) {
  Identity id;
  id.user = j.value("user", "");
  id.org = j.value("org", "");
  id.role = j.value("role", "");
  id.device_id = j.value("device_id", "");
  id.server_url = j.value("server_url", "");
  id.secret = j.value("secret", "");
  id.ca_file = j.value("ca_file", "");
  id.subject_secret = j.value("subject_secret", "");
  id.allow_insecure_http = j.value("allow_insecure_http", false);
  return id;
}

std::string Summarise(const std::vector<std::string>& errors) {
  std::string msg;
  const size_t kShown = 5;
  for (size_t i = 0; i < errors.size() && i < kShown; ++i) msg += (i ? "; " : "") + errors[i];
  if (errors.size() > kShown) msg += "; and " + std::to_string(errors.size() - kShown) + " more";
  return msg;
}

}  // namespace

Status RecordInput::FromJson(const json& j, const std::string& where, RecordInput* out) {
  if (!j.is_object()) return Status::InvalidArgument(where + ": a record must be a JSON object");
  RecordInput in;
  auto opt_str = [&](const char* key, std::optional<std::string>* dst) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return Status::OK();
    if (!it->is_string()) {
      return Status::InvalidArgument(where + ": \"" + key + "\" must be a string, not " +
                                     it->dump());
    }
    *dst = it->get<std::string>();
    return Status::OK();
  };
  auto form = j.find("form");
  if (form == j.end() || !form->is_string()) {
    return Status::InvalidArgument(where + ": \"form\" is required and must be a string");
  }
  in.form = form->get<std::string>();
  auto fields = j.find("fields");
  if (fields == j.end() || !fields->is_object()) {
    return Status::InvalidArgument(where + ": \"fields\" is required and must be an object");
  }
  in.fields = *fields;
  BB_RETURN_IF_ERROR(opt_str("occurred_at", &in.occurred_at));
  BB_RETURN_IF_ERROR(opt_str("id", &in.id));
  BB_RETURN_IF_ERROR(opt_str("org", &in.org));
  BB_RETURN_IF_ERROR(opt_str("author", &in.author));
  BB_RETURN_IF_ERROR(opt_str("device", &in.device));
  static const std::set<std::string> kKnown = {"id",     "form",   "form_version", "org",
                                               "author", "device", "occurred_at",  "fields"};
  for (const auto& [key, value] : j.items()) {
    if (!kKnown.count(key))
      return Status::InvalidArgument(where + ": unknown member \"" + key + "\"");
  }
  *out = std::move(in);
  return Status::OK();
}

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
    identity_ = IdentityFromJson(json::parse(text));
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

Status LocalStore::CheckReturn(const FormDef& form, const std::string& record_org,
                               const json& fields, std::int64_t now_ms) {
  if (std::string why = WhyReturnPeriodRefused(forms_, form.name, form.version, fields, now_ms);
      !why.empty()) {
    return Status::InvalidArgument(why);
  }
  std::string why;
  BB_RETURN_IF_ERROR(FigureCheck(form, record_org, fields, &why));
  if (why.empty()) return Status::OK();
  return Status::InvalidArgument(
      why + ": check it, and if it is right confirm it (--confirm-unusual, or tick 'I have " +
      "checked this figure')");
}

Status LocalStore::FigureCheck(const FormDef& form, const std::string& record_org,
                               const json& fields, std::string* why) {
  Status read = Status::OK();
  auto figure_of = [&](const std::string& id, double* value) {
    RecordState earlier;
    bool found = false;
    if (Status s = LoadState(id, &earlier, &found); !s.ok()) {
      read = s;
      return false;
    }
    if (!found || earlier.IsDeleted()) return false;
    json v = earlier.FieldValues().value("value", json());
    if (!v.is_number()) return false;
    *value = v.get<double>();
    return true;
  };
  json checked = fields;
  auto confirmed = checked.find("unusual_confirmed");
  if (confirmed != checked.end() && *confirmed == true) {
    *why = "";
    return Status::OK();
  }
  *why = WhyReturnUnusual(forms_, form.name, form.version, record_org, checked, figure_of);
  return read;
}

std::string LocalStore::WhyFigureNeedsConfirming(const std::string& form_name,
                                                 const std::string& record_org,
                                                 const json& fields) {
  const FormDef* form = forms_.Latest(form_name);
  std::string why;
  if (form == nullptr || !FigureCheck(*form, record_org, fields, &why).ok()) return "";
  return why;
}

Status LocalStore::PrepareNewRecord(const RecordInput& in, HybridClock* hlc, RecordState* state) {
  const FormDef* form = forms_.Latest(in.form);
  if (form == nullptr) {
    std::string known;
    for (const auto& n : forms_.FormNames()) known += (known.empty() ? "" : ", ") + n;
    return Status::InvalidArgument("unknown form '" + in.form + "' (this device has: " + known +
                                   ")");
  }
  auto own = [&](const std::optional<std::string>& given, const std::string& mine,
                 const char* what) {
    if (given && *given != mine) {
      return Status::InvalidArgument(std::string("\"") + what + "\" is '" + *given +
                                     "' but this device's is '" + mine + "'");
    }
    return Status::OK();
  };
  // The org the record is filed under: the device's own, except for partner returns (the
  // partnership's for a figure it shares, the owner's when the coordinator enters it for them).
  std::string entered_for;
  if (auto it = in.fields.find("entered_for"); it != in.fields.end() && it->is_string()) {
    entered_for = it->get<std::string>();
  }
  std::string record_org = FilingOrg(forms_, in.form, in.fields, identity_.org, entered_for);
  if (in.org && *in.org != record_org) BB_RETURN_IF_ERROR(own(in.org, identity_.org, "org"));
  BB_RETURN_IF_ERROR(own(in.author, identity_.user, "author"));
  BB_RETURN_IF_ERROR(own(in.device, identity_.device_id, "device"));
  std::int64_t now_ms = clock_->NowMs();
  std::string occurred = in.occurred_at ? *in.occurred_at : FormatIsoUtc(now_ms);
  std::int64_t occurred_ms = 0;
  Status s = ParseIsoDateTime(occurred, &occurred_ms);
  if (!s.ok()) return Status::InvalidArgument("occurred_at: " + s.message());
  BB_RETURN_IF_ERROR(CheckOccurredAt(occurred_ms, now_ms, forms_.returns().first_fy()));
  auto errors = ValidateFields(*form, in.fields, occurred_ms);
  if (!errors.empty()) return Status::InvalidArgument(JoinErrors(errors));
  if (std::string why = WhyMayNotWrite(forms_, identity_.role, identity_.org, form->name,
                                       form->version, record_org, in.fields);
      !why.empty()) {
    return Status::InvalidArgument(why);
  }
  BB_RETURN_IF_ERROR(CheckReturn(*form, record_org, in.fields, now_ms));

  std::optional<std::string> derived = NaturalKeyId(forms_, in.form, in.fields, record_org);
  if (in.id && !IsValidId(*in.id)) {
    return Status::InvalidArgument("id '" + *in.id + "' is not a valid record id (use a UUID)");
  }
  if (in.id && !derived && IsNaturalKeyShapedId(*in.id)) {
    return Status::InvalidArgument("id '" + *in.id + "' has the shape kept for partner returns; " +
                                   "a " + in.form + " record may not take it");
  }
  if (in.id && derived && *in.id != *derived) {
    return Status::InvalidArgument("id '" + *in.id + "' does not match the id derived from the " +
                                   "return's indicator, fy, quarter and org (" + *derived + ")");
  }
  std::string id = derived ? *derived : in.id ? *in.id : NewTimeOrderedUuid(now_ms);
  RecordState existing;
  bool found = false;
  // A fresh random id cannot be taken yet: only given and derived ids need looking up.
  if (in.id || derived) BB_RETURN_IF_ERROR(LoadState(id, &existing, &found));
  if (found && !derived)
    return Status::AlreadyExists("record " + id + " is already on this device");
  if (found && existing.IsDeleted()) {
    return Status::AlreadyExists("this return (record " + id + ") was deleted on this device");
  }

  HlcStamp t = hlc->Now();
  const std::string& d = identity_.device_id;
  RecordState change;
  change.id = id;
  change.form = form->name;
  change.form_version = form->version;
  change.org = record_org;
  change.author = identity_.user;
  change.device = d;
  auto base = [&](const std::optional<Register>& r) { return found && r ? r->t : 0; };
  change.occurred_at = Register{occurred, t, d, base(existing.occurred_at)};
  change.deleted = Register{false, t, d, base(existing.deleted)};
  for (const auto& f : form->fields) {
    auto it = in.fields.find(f.name);
    json v = it == in.fields.end() ? json(nullptr) : *it;
    auto old = existing.fields.find(f.name);
    bool had = found && old != existing.fields.end();
    if (v.is_null() && !had) continue;  // nothing to say about a field that was never set
    change.fields[f.name] = Register{v, t, d, had ? old->second.t : 0};
  }
  std::string change_json = change.ToJson(/*with_base=*/true).dump();
  if (found) {
    // A second entry of the same partner return: it merges into the first.
    Merge(&existing, change);
    BB_RETURN_IF_ERROR(WriteState(existing, existing.ToJson().dump()));
  } else {
    // A new record's state is its first change (every base is 0), so one serialisation serves both.
    BB_RETURN_IF_ERROR(WriteState(change, change_json));
  }
  BB_RETURN_IF_ERROR(AppendOutbox(change.id, change_json));
  *state = std::move(change);
  return Status::OK();
}

Status LocalStore::Log(const RecordInput& input, std::string* id) {
  return LogFromDraft(input, "", id);
}

Status LocalStore::LogFromDraft(const RecordInput& input, const std::string& draft_id,
                                std::string* id) {
  std::vector<std::string> ids;
  Status s = LogAllFinishing({input}, &ids, draft_id);
  if (!s.ok()) {
    // One record: drop the "record 1: " prefix LogAll adds.
    const std::string prefix = "record 1: ";
    std::string msg = s.message();
    if (msg.rfind(prefix, 0) == 0) msg = msg.substr(prefix.size());
    return s.IsInvalidArgument() ? Status::InvalidArgument(msg) : s;
  }
  *id = ids.front();
  return Status::OK();
}

Status LocalStore::LogAll(const std::vector<RecordInput>& inputs, std::vector<std::string>* ids) {
  return LogAllFinishing(inputs, ids, "");
}

Status LocalStore::LogAllFinishing(const std::vector<RecordInput>& inputs,
                                   std::vector<std::string>* ids,
                                   const std::string& finishing_draft) {
  if (inputs.size() > tunables::kBulkLogMaxRecords) {
    return Status::InvalidArgument("a bulk log holds at most " +
                                   std::to_string(tunables::kBulkLogMaxRecords) + " records");
  }
  SqliteTransaction txn(&db_);
  BB_RETURN_IF_ERROR(txn.Begin());
  HlcStamp last;
  BB_RETURN_IF_ERROR(ReadHlc(&last));
  HybridClock hlc(clock_.get(), last);
  std::vector<std::string> errors;
  std::vector<std::string> out;
  out.reserve(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    RecordState state;
    Status s = PrepareNewRecord(inputs[i], &hlc, &state);
    if (s.IsInvalidArgument() || s.code() == Status::Code::kAlreadyExists) {
      errors.push_back("record " + std::to_string(i + 1) + ": " + s.message());
      continue;
    }
    BB_RETURN_IF_ERROR(s);
    out.push_back(state.id);
  }
  if (!errors.empty()) {
    std::string msg = Summarise(errors);
    if (inputs.size() > 1)
      msg = std::to_string(errors.size()) + " of " + std::to_string(inputs.size()) +
            " records are invalid, none " + "stored: " + msg;
    return errors.size() == 1 && inputs.size() == 1 && msg.find("already") != std::string::npos
               ? Status::AlreadyExists(msg)
               : Status::InvalidArgument(msg);
  }
  BB_RETURN_IF_ERROR(PutMeta("hlc_last", std::to_string(hlc.last())));
  if (!finishing_draft.empty()) BB_RETURN_IF_ERROR(DeleteDraft(finishing_draft));
  BB_FAULT_POINT("store.log.before_commit");
  BB_RETURN_IF_ERROR(txn.Commit());
  *ids = std::move(out);
  return Status::OK();
}

Status LocalStore::Edit(const std::string& id, const json& set_fields,
                        const std::optional<std::string>& occurred_at) {
  if (!set_fields.is_object()) return Status::InvalidArgument("fields to set must be an object");
  if (set_fields.empty() && !occurred_at) return Status::InvalidArgument("nothing to change");
  SqliteTransaction txn(&db_);
  BB_RETURN_IF_ERROR(txn.Begin());
  RecordState state;
  BB_RETURN_IF_ERROR(Get(id, &state));
  if (std::string why =
          WhyMayNotChange(forms_, identity_.role, identity_.user, identity_.org, state);
      !why.empty()) {
    return Status::FailedPrecondition(why);
  }
  const FormDef* form = forms_.Find(state.form, state.form_version);
  if (form == nullptr) {
    return Status::FailedPrecondition("record " + id + " uses form '" + state.form + "' version " +
                                      std::to_string(state.form_version) +
                                      ", which this device does not have");
  }
  for (const auto& key : form->immutable) {
    if (set_fields.contains(key)) {
      return Status::InvalidArgument("field '" + key + "' is part of the " + form->name +
                                     "'s natural key and cannot be edited; delete the record " +
                                     "and log a new one");
    }
  }
  json values = state.FieldValues();
  // A confirmation of an unusual figure stands for that figure only: changing the figure
  // withdraws it unless it is given again.
  json set = set_fields;
  if (set.contains("value") && !set.contains("unusual_confirmed") &&
      values.contains("unusual_confirmed")) {
    set["unusual_confirmed"] = nullptr;
  }
  for (const auto& [name, v] : set.items()) {
    if (v.is_null()) {
      values.erase(name);
    } else {
      values[name] = v;
    }
  }
  std::string occurred = occurred_at ? *occurred_at : state.OccurredAt();
  std::int64_t occurred_ms = 0;
  Status s = ParseIsoDateTime(occurred, &occurred_ms);
  if (!s.ok()) return Status::InvalidArgument("occurred_at: " + s.message());
  if (occurred_at) {
    BB_RETURN_IF_ERROR(CheckOccurredAt(occurred_ms, clock_->NowMs(), forms_.returns().first_fy()));
  }
  auto errors = ValidateFields(*form, values, occurred_ms);
  for (const auto& [name, v] : set_fields.items()) {
    if (!form->Find(name) && v.is_null()) {
      errors.push_back({name, "", "unknown_field",
                        "field '" + name + "' is not a field of form '" + form->name + "'"});
    }
  }
  if (!errors.empty()) return Status::InvalidArgument(JoinErrors(errors));
  if (std::string why = WhyMayNotWrite(forms_, identity_.role, identity_.org, form->name,
                                       form->version, state.org, values);
      !why.empty()) {
    return Status::InvalidArgument(why);
  }
  if (set_fields.contains("value") || set_fields.contains("unusual_confirmed")) {
    BB_RETURN_IF_ERROR(CheckReturn(*form, state.org, values, clock_->NowMs()));
  }

  HlcStamp last;
  BB_RETURN_IF_ERROR(ReadHlc(&last));
  HybridClock hlc(clock_.get(), std::max(last, state.MaxStamp()));
  HlcStamp t = hlc.Now();
  const std::string& d = identity_.device_id;
  RecordState change = state;
  change.occurred_at.reset();
  change.deleted.reset();
  change.fields.clear();
  if (occurred_at) change.occurred_at = Register{*occurred_at, t, d, state.occurred_at->t};
  for (const auto& [name, v] : set.items()) {
    auto old = state.fields.find(name);
    change.fields[name] = Register{v, t, d, old == state.fields.end() ? 0 : old->second.t};
  }
  Merge(&state, change);
  // A record the server refused (it may never have taken the record at all) is fixed by sending
  // it whole: every register, the unchanged ones with their own stamps, which merge as no-ops
  // wherever they are already known.
  bool refused = false;
  BB_RETURN_IF_ERROR(HasRejections(id, &refused));
  if (refused) {
    if (!change.occurred_at) change.occurred_at = state.occurred_at;
    if (!change.deleted) change.deleted = state.deleted;
    for (const auto& [name, reg] : state.fields) change.fields.emplace(name, reg);
  }
  BB_RETURN_IF_ERROR(WriteState(state));
  BB_RETURN_IF_ERROR(AppendOutbox(change));
  BB_RETURN_IF_ERROR(PutMeta("hlc_last", std::to_string(hlc.last())));
  return txn.Commit();
}

Status LocalStore::Delete(const std::string& id) {
  SqliteTransaction txn(&db_);
  BB_RETURN_IF_ERROR(txn.Begin());
  RecordState state;
  BB_RETURN_IF_ERROR(Get(id, &state));
  if (std::string why =
          WhyMayNotChange(forms_, identity_.role, identity_.user, identity_.org, state);
      !why.empty()) {
    return Status::FailedPrecondition(why);
  }
  HlcStamp last;
  BB_RETURN_IF_ERROR(ReadHlc(&last));
  HybridClock hlc(clock_.get(), std::max(last, state.MaxStamp()));
  RecordState change = state;
  change.occurred_at.reset();
  change.fields.clear();
  change.deleted =
      Register{true, hlc.Now(), identity_.device_id, state.deleted ? state.deleted->t : 0};
  Merge(&state, change);
  BB_RETURN_IF_ERROR(WriteState(state));
  BB_RETURN_IF_ERROR(AppendOutbox(change));
  BB_RETURN_IF_ERROR(PutMeta("hlc_last", std::to_string(hlc.last())));
  return txn.Commit();
}

Status LocalStore::Get(const std::string& id, RecordState* out) {
  bool found = false;
  BB_RETURN_IF_ERROR(LoadState(id, out, &found));
  if (!found) return Status::NotFound("no record with id '" + id + "' on this device");
  if (out->IsDeleted()) return Status::NotFound("record '" + id + "' was deleted");
  return Status::OK();
}

Status LocalStore::ReadStates(SqliteStmt* st, std::vector<RecordState>* out) const {
  SqliteStmt::StepResult r;
  std::string text;
  while ((r = st->Step()) == SqliteStmt::kRow) {
    RecordState state;
    BB_RETURN_IF_ERROR(Unseal(st->ColumnText(1), "record:" + st->ColumnText(0), &text));
    BB_RETURN_IF_ERROR(ParseStoredState(text, &state));
    out->push_back(std::move(state));
  }
  return r == SqliteStmt::kDone ? Status::OK() : st->LastError();
}

Status LocalStore::List(const std::string& form, std::vector<RecordState>* out) {
  SqliteStmt st;
  BB_RETURN_IF_ERROR(
      db_.Prepare("SELECT id, state FROM records WHERE deleted = 0 AND (?1 = '' OR form = ?1) "
                  "ORDER BY occurred_ms, id",
                  &st));
  st.Bind(1, form);
  return ReadStates(&st, out);
}

Status LocalStore::ListAllStates(std::vector<RecordState>* out) {
  SqliteStmt st;
  BB_RETURN_IF_ERROR(db_.Prepare("SELECT id, state FROM records ORDER BY id", &st));
  return ReadStates(&st, out);
}

Status LocalStore::Summary(StoreSummary* out) {
  SqliteStmt st;
  BB_RETURN_IF_ERROR(db_.Prepare(
      "SELECT (SELECT count(*) FROM records WHERE deleted = 0), (SELECT count(*) FROM outbox), "
      "(SELECT count(*) FROM rejections)",
      &st));
  if (st.Step() != SqliteStmt::kRow) return st.LastError();
  out->records = st.ColumnInt(0);
  out->pending_changes = st.ColumnInt(1);
  out->rejections = st.ColumnInt(2);
  std::string text;
  BB_RETURN_IF_ERROR(GetMeta("last_sync_ms", &text));
  BB_RETURN_IF_ERROR(MetaInt(text, "last_sync_ms", &out->last_sync_ms));
  return GetMeta("cursor", &out->cursor);
}

Status LocalStore::Rejections(std::vector<Rejection>* out) {
  SqliteStmt st;
  BB_RETURN_IF_ERROR(db_.Prepare(
      "SELECT change_id, record_id, reason, at_ms FROM rejections ORDER BY at_ms, change_id", &st));
  SqliteStmt::StepResult r;
  while ((r = st.Step()) == SqliteStmt::kRow) {
    Rejection rejection{st.ColumnText(0), st.ColumnText(1), "", st.ColumnInt(3)};
    BB_RETURN_IF_ERROR(
        Unseal(st.ColumnText(2), "rejection:" + rejection.change_id, &rejection.reason));
    out->push_back(std::move(rejection));
  }
  return r == SqliteStmt::kDone ? Status::OK() : st.LastError();
}

Status LocalStore::Wipe() {
  json marker = {{"device_id", identity_.device_id},
                 {"user", identity_.user},
                 {"at_ms", base_clock_->NowMs()},
                 {"store_id", store_id_}};
  {
    SqliteTransaction txn(&db_);
    BB_RETURN_IF_ERROR(txn.Begin());
    BB_RETURN_IF_ERROR(
        db_.Exec("DELETE FROM records; DELETE FROM outbox; DELETE FROM rejections; "
                 "DELETE FROM drafts; DELETE FROM meta;"));
    BB_RETURN_IF_ERROR(PutMeta("wiped", marker.dump()));
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
  BB_RETURN_IF_ERROR(db_.CheckpointTruncate());
  BB_RETURN_IF_ERROR(db_.Exec("VACUUM"));
  return db_.CheckpointTruncate();
}

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

Status LocalStore::RecordSync(std::int64_t at_ms) {
  return PutMeta("last_sync_ms", std::to_string(at_ms));
}

Status LocalStore::SetClockOffset(std::int64_t offset_ms) {
  BB_RETURN_IF_ERROR(PutMeta("clock_offset_ms", std::to_string(offset_ms)));
  clock_ = std::make_unique<OffsetClock>(base_clock_, offset_ms);
  return Status::OK();
}

Status LocalStore::ReplaceForms(const FormSet& forms) {
  BB_RETURN_IF_ERROR(PutMeta("forms", forms.ToJson().dump()));
  forms_ = forms;
  return Status::OK();
}

Status LocalStore::SetSecret(const std::string& secret) {
  SqliteTransaction txn(&db_);
  BB_RETURN_IF_ERROR(txn.Begin());
  Identity updated = identity_;
  updated.secret = secret;
  BB_RETURN_IF_ERROR(PutSealedMeta("identity", IdentityToJson(updated).dump()));
  BB_RETURN_IF_ERROR(PutSealedMeta("previous_secret", identity_.secret));
  BB_RETURN_IF_ERROR(PutMeta("credential_ms", std::to_string(base_clock_->NowMs())));
  BB_RETURN_IF_ERROR(txn.Commit());
  previous_secret_ = identity_.secret;
  identity_ = std::move(updated);
  return Status::OK();
}

Status LocalStore::ForgetPreviousSecret() {
  SqliteStmt* st;
  BB_RETURN_IF_ERROR(db_.Cached("DELETE FROM meta WHERE key = 'previous_secret'", &st));
  BB_RETURN_IF_ERROR(st->Run());
  previous_secret_.clear();
  return Status::OK();
}

Status LocalStore::RestorePreviousSecret() {
  if (previous_secret_.empty()) return Status::FailedPrecondition("no previous credential");
  SqliteTransaction txn(&db_);
  BB_RETURN_IF_ERROR(txn.Begin());
  Identity restored = identity_;
  restored.secret = previous_secret_;
  BB_RETURN_IF_ERROR(PutSealedMeta("identity", IdentityToJson(restored).dump()));
  SqliteStmt* st;
  BB_RETURN_IF_ERROR(db_.Cached("DELETE FROM meta WHERE key = 'previous_secret'", &st));
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
  if (!GetMeta("credential_ms", &text).ok()) return Status::OK();
  return MetaInt(text, "credential_ms", at_ms);
}

Status LocalStore::SetIdentity(const Identity& identity) {
  BB_RETURN_IF_ERROR(PutSealedMeta("identity", IdentityToJson(identity).dump()));
  identity_ = identity;
  return Status::OK();
}

}  // namespace beatbook
