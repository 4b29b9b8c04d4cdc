// LocalStore: a field device's store. Records, the outbox of changes waiting to sync, the device's
// identity and forms, and the rejections the server sent back. One SQLite file (WAL) in a
// directory.
//
//   std::unique_ptr<LocalStore> store;
//   Status s = LocalStore::Open("/data/tablet", {}, &store);
//   std::string id;
//   s = store->Log({"street_brief", {{"place", "Jewry St"}, {"attendees", 12}}}, &id);
//
// Guarantees:
// - Log, LogAll, Edit and Delete each run in one transaction that writes the record and its outbox
//   change together: after a crash at any point the store holds all of it or none of it.
// - A call that returns an error has changed nothing.
// - Stamps are issued by a hybrid logical clock persisted in the store, so they increase across
//   restarts and across processes sharing the store, even if the wall clock goes backwards.
//
// Encryption at rest: record states, outbox changes, rejection reasons and the device's identity
// (its credential and the partnership's person-key secret among them) are sealed with the store's
// DataKey (beatbook/data_key.h). Ids, form names, the deleted flag and occurred_at stay readable,
// for queries: they are metadata, not content. The key comes from LocalStoreOptions::key (a
// worker's PIN unwrapped it, beatbook/shared_tablet.h) or, for a device without PINs, from a key
// file outside the directory (beatbook/key_files.h). A store made before encryption is encrypted
// in place the first time it is opened.
//
// Inside, the store is split by job (core/src/): StoreFile (the SQLite file, its key and
// settings), DraftBox (drafts), Outbox (changes waiting to sync and the server's refusals), and
// LocalStore itself for records and their merge, in local_store_records.cc (logging, editing),
// local_store_sync.cc (pulls), local_store_device.cc (credentials, wipe) and local_store.cc
// (opening, keys). A record and its outbox change are written in one transaction, which is why
// the record job and the outbox share one file rather than each having its own.
//
// Threads: a LocalStore is not thread-safe; use one per thread. Several processes may open the same
// directory; SQLite serialises their writes.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "beatbook/clock.h"
#include "beatbook/data_key.h"
#include "beatbook/form.h"
#include "beatbook/record.h"
#include "beatbook/role.h"
#include "beatbook/sqlite_db.h"
#include "beatbook/status.h"

namespace beatbook {

// Who this device is. `server_url` is empty for a stand-alone device.
struct Identity {
  std::string user;
  std::string org;
  Role role = Role::kFieldWorker;  // stored and sent by name (RoleName): not a board member
  std::string device_id;
  std::string server_url;
  std::string secret;   // device credential from enrolment; empty when stand-alone
  std::string ca_file;  // CA certificate trusted for the server (init --ca), empty for the system's
  std::string subject_secret;  // the partnership's key for person keys (beatbook/subject_key.h)
  bool allow_insecure_http = false;  // init --allow-insecure-http: plain http:// beyond loopback
  // The server has said it reads gzip request bodies: the next sync compresses from the start.
  bool server_reads_gzip = false;
};

struct LocalStoreOptions {
  const Clock* clock = nullptr;  // nullptr: the system clock
  // The store's data key. nullptr: a device without PINs, whose key is in a key file outside the
  // directory, made by Create and found by Open.
  std::shared_ptr<const DataKey> key;
  // Test hook: migrate the schema only up to this version (0 = latest). Below version 3 the store
  // is not encrypted, as stores made before encryption were.
  int max_schema_version = 0;
};

// What a user logs. `form` and `fields` are required. `id`, `occurred_at` optional; `org`,
// `author`, `device`, where given, must be this device's own.
struct RecordInput {
  std::string form;
  json fields = json::object();
  std::optional<std::string> occurred_at;
  std::optional<std::string> id;
  std::optional<std::string> org;
  std::optional<std::string> author;
  std::optional<std::string> device;

  // Reads the interface's RECORD object shape. Errors name `where` (e.g. "record 3").
  static Status FromJson(const json& j, const std::string& where, RecordInput* out);
};

// An incomplete record kept on the device to finish later: never synced, never counted, sealed
// like records. Its fields are not validated (it may lack answers or hold wrong ones).
struct Draft {
  std::string id;
  std::string form;
  json fields = json::object();
  std::optional<std::string> occurred_at;
  std::int64_t updated_ms = 0;  // set by SaveDraft
};

struct OutboxEntry {
  std::int64_t seq = 0;  // position in the outbox, increasing
  std::string change_id;
  std::string record_id;
  std::string change_json;  // the change as stored: a CHANGE of docs/protocol.md without change_id
  RecordState change;       // parsed, unless ReadOutbox was asked for the text only
};

struct Rejection {
  std::string change_id;
  std::string record_id;
  std::string reason;
  std::int64_t at_ms = 0;
};

// A photo this device holds that the server has not confirmed, and the record naming it
// (docs/protocol.md, section 8).
struct AttachmentUpload {
  std::string name;
  std::string record_id;
  std::string field;
};

// Where a photo a record names is, as this device knows it.
enum class AttachmentState {
  kUploaded,  // held here, and the server confirmed it has it
  kWaiting,   // held here, not yet uploaded
  kElsewhere  // not on this device (taken on another; the record came with a pull)
};
// "uploaded", "waiting", "elsewhere".
const char* AttachmentStateName(AttachmentState state);

struct StoreSummary {
  std::int64_t records = 0;  // not deleted
  std::int64_t pending_changes = 0;
  std::int64_t rejections = 0;
  std::int64_t last_sync_ms = 0;  // 0 = never
  std::string cursor;
};

// The store's parts by job (core/src/): its file, key and settings; drafts; the outbox.
class StoreFile;
class DraftBox;
class Outbox;
class AttachmentBox;

class LocalStore {
 public:
  ~LocalStore();
  LocalStore(const LocalStore&) = delete;
  LocalStore& operator=(const LocalStore&) = delete;

  static constexpr int kSchemaVersion = 5;
  static constexpr int kFirstEncryptedVersion = 3;

  // Creates a new store in `dir` (made if missing; must not already hold a store).
  static Status Create(const std::string& dir, const Identity& identity, const FormSet& forms,
                       const LocalStoreOptions& options, std::unique_ptr<LocalStore>* out);
  // Opens an existing store, migrating its schema to the current version. PermissionDenied if the
  // store was wiped because the server revoked the device (see Wipe).
  static Status Open(const std::string& dir, const LocalStoreOptions& options,
                     std::unique_ptr<LocalStore>* out);

  const Identity& identity() const { return identity_; }
  const std::string& dir() const;
  const FormSet& forms() const { return forms_; }

  // Validates and stores one new record with its outbox change. Sets *id.
  Status Log(const RecordInput& input, std::string* id);
  // All records valid and stored in one transaction, or none. Errors name the record's index.
  Status LogAll(const std::vector<RecordInput>& inputs, std::vector<std::string>* ids);
  // Sets fields (null clears one) and optionally occurred_at; validated against the record's form.
  // The change of a record the server refused carries the whole record, so that the fix can be
  // taken even where the first change never was.
  Status Edit(const std::string& id, const json& set_fields,
              const std::optional<std::string>& occurred_at);

  // "" unless `fields`, a partner return filed under `record_org`, has a figure far outside its
  // owner's history on this device (docs/indicators.md, "What looks wrong") and is not
  // confirmed (unusual_confirmed); then why, in plain words. Log and Edit refuse such a figure;
  // the worker's app asks for the tick first.
  std::string WhyFigureNeedsConfirming(const std::string& form, const std::string& record_org,
                                       const json& fields);
  // Marks a record deleted (a tombstone that syncs).
  Status Delete(const std::string& id);

  // --- Drafts (core/src/draft_box.h) ---
  // Saves `draft` (a new one when draft.id is empty: *id gets its id; else it replaces that
  // draft). The form must be one this device has; fields must be an object of this form's fields.
  Status SaveDraft(const Draft& draft, std::string* id);
  // Every draft, the most recently saved first.
  Status ListDrafts(std::vector<Draft>* out);
  // NotFound if there is no such draft.
  Status GetDraft(const std::string& id, Draft* out);
  Status DeleteDraft(const std::string& id);
  // Like Log, and deletes the draft `draft_id` in the same transaction: after a crash the record
  // is stored and the draft gone, or neither (a finished draft is never logged twice).
  Status LogFromDraft(const RecordInput& input, const std::string& draft_id, std::string* id);

  // A record that is not deleted. NotFound otherwise (the message says if it was deleted).
  Status Get(const std::string& id, RecordState* out);
  // Records that are not deleted, optionally of one form, oldest occurred_at first.
  Status List(const std::string& form, std::vector<RecordState>* out);
  // Every record state, deleted ones included (for sync tests and convergence checks).
  Status ListAllStates(std::vector<RecordState>* out);
  Status Summary(StoreSummary* out);
  Status Rejections(std::vector<Rejection>* out);

  // --- Photos (docs/protocol.md, section 8; core/src/attachment_box.h) ---
  // Checks a photo for `field` of `form` (its latest version), takes its location out unless the
  // field keeps it, and keeps it sealed; *name is what the field's answer holds. InvalidArgument
  // naming what is wrong (not an image field, not a JPEG or PNG, too large).
  Status AddAttachment(const std::string& form, const std::string& field, const std::string& bytes,
                       std::string* name);
  // AddAttachment for record `id`'s form version, then an edit setting `field` to the photo.
  Status Attach(const std::string& id, const std::string& field, const std::string& bytes,
                std::string* name);
  // A photo's bytes. NotFound if not held here; Corruption if damaged (see AttachmentBox::Read).
  Status ReadAttachment(const std::string& name, std::string* bytes);
  Status GetAttachmentState(const std::string& name, AttachmentState* state);
  // Where each photo `record` names is, by photo name.
  Status PhotoStates(const RecordState& record, std::map<std::string, AttachmentState>* out);
  // Photos to upload: held here, not confirmed, named by a live record none of whose changes
  // are still in the outbox (the server must have the record first). *not_uploaded (optional)
  // counts every photo held and not confirmed that a live record names, those waiting for
  // their record's changes included.
  Status AttachmentsToUpload(std::vector<AttachmentUpload>* out,
                             std::int64_t* not_uploaded = nullptr);
  Status MarkAttachmentUploaded(const std::string& name);
  // Deletes the photos no record that is not deleted, and no draft, names any more (a photo
  // replaced, a record deleted or purged). *removed (optional) says how many went.
  Status PruneAttachments(std::int64_t* removed = nullptr);

  // --- Sync support (the outbox: core/src/outbox.h) ---
  // The oldest `max` outbox entries. With `parse` false, `change` is left empty: a push sends the
  // stored text as it is.
  Status ReadOutbox(std::size_t max, std::vector<OutboxEntry>* out, bool parse = true);
  // After the server committed a batch: removes the entries `seqs` from the outbox and records
  // `rejected`, in one transaction. A record whose change the server took has its earlier
  // rejections removed (it was fixed).
  Status Acknowledge(const std::vector<std::int64_t>& seqs, const std::vector<Rejection>& rejected);
  // Merges pulled states and stores `cursor`, in one transaction. A record the server purged
  // under the retention policy is removed from this device, with its unsynced changes.
  Status ApplyPulled(const std::vector<RecordState>& states, const std::string& cursor);
  // The server's epoch as this device last saw it ("" before the first sync that told it).
  Status ServerEpoch(std::string* epoch);
  // Notes the epoch a server reply carried. A first one is just kept. A different one means the
  // server's store was restored from a backup and may lack what this device sent since
  // (docs/protocol.md, "Restores"): in one transaction, every register this device wrote that
  // its records still hold is queued again (each record's as one change, the records it created
  // first), the pull cursor goes back to the start and the new epoch is kept. *resent says how
  // many changes were queued (0 and nothing done when the epoch is the one kept).
  Status NoteServerEpoch(const std::string& epoch, bool* changed, std::int64_t* resent);
  // The language this store's worker reads forms in (a code of forms().languages()), or the
  // default language until they choose one, or when the forms no longer have theirs.
  Status Language(std::string* code);
  // Remembers the worker's language. InvalidArgument, naming the languages there are, when the
  // forms do not declare it.
  Status SetLanguage(const std::string& code);
  // Records a completed sync, the server's clock offset and forms.
  Status RecordSync(std::int64_t at_ms);
  Status SetClockOffset(std::int64_t offset_ms);
  Status ReplaceForms(const FormSet& forms);
  Status SetIdentity(const Identity& identity);
  // Keeps a new device credential (after the server issued it) and when it was issued. The
  // credential it replaces is kept too, until ForgetPreviousSecret: if the server turns the new
  // one down (a rotation it never completed), RestorePreviousSecret goes back to it.
  Status SetSecret(const std::string& secret);
  const std::string& previous_secret() const { return previous_secret_; }
  Status ForgetPreviousSecret();
  Status RestorePreviousSecret();
  // When the current credential was issued (device clock, ms); 0 if unknown.
  Status CredentialSince(std::int64_t* at_ms);

  // Remote wipe, when the server says this device is revoked: deletes every record, outbox change
  // (unsynced ones included: they are never uploaded), rejection and the device credential, with
  // the freed pages overwritten (secure_delete), then empties the WAL and compacts the file so
  // no record content stays on disk. Only the device id, user and time of the wipe are kept, to
  // tell whoever opens the store next. A device without PINs also loses its key file. The store
  // is unusable afterwards: close it.
  Status Wipe();

 private:
  // Deletes a record, its outbox changes and rejections (inside the caller's transaction).
  Status ForgetRecord(const std::string& id);
  // LogAll, also deleting the draft `finishing_draft` (if not empty) in its transaction.
  Status LogAllFinishing(const std::vector<RecordInput>& inputs, std::vector<std::string>* ids,
                         const std::string& finishing_draft);
  // Leaves no deleted content in the files: checkpoint and empty the WAL, VACUUM, and again.
  Status ScrubFreedContent();
  LocalStore();
  Status Init(const std::string& dir, const LocalStoreOptions& options, bool create);
  Status Migrate(int max_version);
  Status LoadMeta();
  // Finds the key (Open) or makes it (Create), and checks it opens this store.
  Status SetUpKey(const LocalStoreOptions& options, bool create);
  // A store from before encryption: seals every content row in place, in one transaction.
  Status EncryptPlainContent();
  // Scrubs the plain copies EncryptPlainContent left in free pages and the WAL, then clears the
  // marker that makes the next Open finish it after a crash.
  Status FinishScrub();
  Status LoadState(const std::string& id, RecordState* out, bool* found);
  // Parses the rows (id, sealed state) `st` yields.
  Status ReadStates(SqliteStmt* st, std::vector<RecordState>* out) const;
  Status WriteState(const RecordState& state);
  Status WriteState(const RecordState& state, const std::string& state_json);
  Status AppendOutbox(const RecordState& change);
  Status AppendOutbox(const std::string& record_id, const std::string& change_json);
  // A new record, checked, given its id and first change, and stored with it in the outbox.
  Status PrepareNewRecord(const RecordInput& input, HybridClock* hlc, RecordState* state);
  Status CheckNewRecord(const RecordInput& input, std::int64_t now_ms, const FormDef** form,
                        std::string* record_org, std::string* occurred);
  Status ChooseRecordId(const RecordInput& input, const std::string& record_org,
                        std::int64_t now_ms, std::string* id, bool* derived);
  RecordState NewRecordChange(const FormDef& form, const std::string& id,
                              const std::string& record_org, const std::string& occurred,
                              const json& fields, const RecordState* existing, HlcStamp t) const;
  Status CheckEdit(const RecordState& state, const json& set_fields,
                   const std::optional<std::string>& occurred_at, const FormDef** form, json* set,
                   json* values);
  // A partner return's period and, for a figure far outside its history, its confirmation.
  Status CheckReturn(const FormDef& form, const std::string& record_org, const json& fields,
                     std::int64_t now_ms);
  // Sets *why if the return's figure is unusual against this device's history and unconfirmed.
  Status FigureCheck(const FormDef& form, const std::string& record_org, const json& fields,
                     std::string* why);
  Status ReadHlc(HlcStamp* last);
  // InvalidArgument unless every photo `fields` give an image question is held on this device
  // (attached first: a record never names a photo nobody can upload).
  Status CheckPhotosHeld(const FormDef& form, const json& fields);
  // Checks a photo for `form`'s question `field` (named in errors as `where`), takes its
  // location out unless the question keeps it, and keeps it sealed; *name is its name.
  Status KeepPhoto(const FormDef& form, const std::string& field, const std::string& bytes,
                   const std::string& where, std::string* name);

  // The file, its key and settings (core/src/store_file.h): what every job writes through.
  std::unique_ptr<StoreFile> file_;
  std::unique_ptr<DraftBox> drafts_;            // over file_ and forms_
  std::unique_ptr<Outbox> outbox_;              // over file_
  std::unique_ptr<AttachmentBox> attachments_;  // over file_
  Identity identity_;
  FormSet forms_;
  const Clock* base_clock_ = nullptr;
  std::unique_ptr<OffsetClock> clock_;
  std::string previous_secret_;  // see SetSecret
  std::string store_id_;         // names the key file of a device without PINs; empty otherwise
};

}  // namespace beatbook
