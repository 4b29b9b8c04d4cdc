// CentralStore: the server's store, behind an interface narrow enough for a second implementation
// (PostgreSQL) without touching the protocol code in api/.
//
// The protocol logic (permissions, merge, validation) lives in api/; a store only keeps things and
// runs a write transaction. Every method is thread-safe. Errors: Unavailable when the store could
// not commit (disk full, locked: retry later, nothing was applied), IoError/Corruption otherwise.
#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "beatbook/indicators.h"
#include "beatbook/record.h"
#include "beatbook/report.h"
#include "beatbook/role.h"
#include "beatbook/status.h"

namespace beatbook::server {

struct TokenGrant {
  std::string user;
  std::string org;
  Role role = Role::kFieldWorker;
  std::int64_t expires_ms = 0;
};

struct DeviceInfo {
  std::string id;
  std::string name;
  std::string user;
  std::string org;
  Role role = Role::kFieldWorker;  // stored by name (RoleName)
  std::string client = "tablet";   // or "dashboard": a browser signed in to the dashboard
  std::int64_t enrolled_ms = 0;
  std::int64_t last_sync_ms = 0;          // 0 = never
  std::int64_t pending_at_last_sync = 0;  // changes the device still held then
  bool revoked = false;
};

// What a device presents to enrol (CentralStore::Enrol).
struct EnrolRequest {
  std::string token;
  std::string device_id;
  std::string device_name;
  std::string secret;  // the credential the device will use; only its hash is kept
  std::string client = "tablet";
  // Roles the token may carry for this client (empty: any). A token for another role is refused
  // with PermissionDenied and stays unused, so it can still enrol the right program.
  RoleSet roles_allowed;
};

struct StoredConflict {
  Conflict conflict;
  std::int64_t at_ms = 0;
};

struct StoredRejection {
  std::string device_id;
  std::string change_id;
  std::string record_id;
  std::string reason;
  std::int64_t at_ms = 0;
};

// One entry of the append-only audit log: who did what, from which device, when.
struct AuditEvent {
  std::int64_t seq = 0;  // position in the log (set when read)
  std::int64_t at_ms = 0;
  std::string actor;  // the device's user, or who ran a sync_server command on the server
  std::string role;   // the actor's role; "operator" for sync_server commands
  std::string org;
  std::string device_id;  // empty for sync_server commands
  std::string action;     // enrol, token, revoke, rotate, push, correct, pull, report, explain,
                          // export, export_records, approve, purge, safeguarding_view,
                          // safeguarding_acknowledge, safeguarding_action, hotspots
                          // (docs/security.md)
  nlohmann::json detail = nlohmann::json::object();  // what: counts, ids, period, format
};

// A record on the safeguarding queue (docs/safeguarding.md): put there when a synced record first
// answers Yes to its form's safeguarding question, then acknowledged, and its action recorded, by
// the coordinator. It stays, with its history, until retention purges the record.
struct SafeguardingConcern {
  std::string record_id;
  std::string org;
  std::int64_t raised_ms = 0;        // server time of the sync that raised it
  std::int64_t acknowledged_ms = 0;  // 0: not yet
  std::string acknowledged_by;
  // The latest of `actions` (read from it): "" and 0 until one is recorded.
  std::string action;
  std::int64_t action_ms = 0;
  std::string action_by;
  struct Action {
    std::string text;
    std::int64_t at_ms = 0;
    std::string by;
  };
  std::vector<Action> actions;  // every action recorded, oldest first (the last is `action`)
  RecordState record;           // as it is now (read with the queue)
};

enum class ConcernStep {
  kAcknowledge,   // seen and being dealt with (a second acknowledgement keeps the first)
  kRecordAction,  // what was done; acknowledges too, if not yet; every one is kept
};

// What the store holds of a photo (docs/protocol.md, section 8).
struct UploadProgress {
  bool complete = false;      // the photo is stored
  std::int64_t received = 0;  // else: bytes of this device's unfinished upload
  std::int64_t total = 0;     // ... of this many (0 before the first chunk)
};

// Which audit entries to read; empty members match everything.
struct AuditQuery {
  std::int64_t since_ms = 0;
  std::string actor;
  std::string device_id;
  std::string action;
  std::size_t limit = 1000;  // the most recent `limit` matching entries, oldest first
};

// The operations allowed inside one write transaction (CentralStore::Write).
class WriteTxn {
 public:
  virtual ~WriteTxn() = default;
  // Takes the locks LoadRecord takes on each of `ids`, all at once and in the one order every
  // server uses (by id), so that two transactions writing some of the same records take turns
  // rather than each holding one the other waits for (a deadlock, where several servers share a
  // store). Call it with every id the transaction will load, before loading any.
  virtual Status LockRecords(std::vector<std::string> ids) = 0;
  // A record to change: locked until the transaction ends where other servers may write.
  virtual Status LoadRecord(const std::string& id, RecordState* out, bool* found) = 0;
  // A record only read (another quarter's return, to compare a figure with): not locked.
  virtual Status ReadRecord(const std::string& id, RecordState* out, bool* found) = 0;
  // Stores the state and gives the record a new sequence number, after every earlier one.
  // `text` is state.ToText(), when the caller worked it out beforehand (outside the write lock).
  virtual Status SaveRecord(const RecordState& state, std::string text) = 0;
  Status SaveRecord(const RecordState& state) { return SaveRecord(state, state.ToText()); }
  // Keeps a conflict once: a second call for the same losing write does nothing.
  virtual Status AddConflict(const Conflict& conflict, std::int64_t at_ms) = 0;
  virtual Status AddRejection(const StoredRejection& rejection) = 0;
  virtual Status SaveBatch(const std::string& device_id, const std::string& batch_id,
                           const std::string& response, std::int64_t at_ms) = 0;
  virtual Status NoteSync(const std::string& device_id, std::int64_t at_ms,
                          std::int64_t pending) = 0;
  // Replaces what record `record_id` contributes to the indicators and updates the running totals
  // by the difference (docs/indicators.md). `stamp` orders milestone statuses.
  virtual Status SetContributions(const std::string& record_id,
                                  const std::vector<Contribution>& contributions, HlcStamp stamp,
                                  std::int64_t at_ms) = 0;
  // Appends to the audit log in this transaction: the entry exists if and only if the write did.
  virtual Status Audit(const AuditEvent& event) = 0;
  // Puts record `record_id` on the safeguarding queue, unless it is there already.
  virtual Status RaiseConcern(const std::string& record_id, const std::string& org,
                              std::int64_t at_ms) = 0;
  // Notes the photos record `record_id` names now, as (field, photo name) pairs, in place of
  // those it named before: a stored photo no record names goes at the next purge.
  virtual Status SetPhotoRefs(const std::string& record_id,
                              const std::vector<std::pair<std::string, std::string>>& photos,
                              std::int64_t at_ms) = 0;
};

// A record behind a figure (for drill-down), and who entered it.
struct FigureSource {
  std::string record_id;
  std::string org;
  std::string author;
  double value = 0;
  std::string status;
  std::int64_t at_ms = 0;  // when its contribution was last written
  int quarter = 0;
  std::string occurred_at;  // the record's (for a return: when it was entered on the device)
};

// Which records a pull reads: one org's (empty: every org), and also the records of
// `shared_form` filed under `shared_org` (the partnership's returns, which every owner's partner
// lead needs; the API keeps only those of indicators the device's org owns).
struct PullScope {
  PullScope(std::string org_code = "") : org(std::move(org_code)) {}  // NOLINT: an org is a scope
  PullScope(const char* org_code) : org(org_code) {}                  // NOLINT
  std::string org;
  std::string shared_org;
  std::string shared_form;
};

// One page of the change feed.
struct ChangePage {
  // Each record's state as stored: the JSON text of a RECORD in docs/protocol.md, so a pull page
  // is sent without parsing and re-serialising every record.
  std::vector<std::string> states;
  std::string cursor;  // resume after this
  bool more = false;
};

class CentralStore {
 public:
  virtual ~CentralStore() = default;

  // --- Enrolment and devices ---
  // Stores a token (only its hash is kept), and `audit` if given, in one transaction.
  virtual Status CreateToken(const std::string& token, const TokenGrant& grant, std::int64_t now_ms,
                             const AuditEvent* audit) = 0;
  // Uses a token once: checks it is known, unused and unexpired, marks it used, creates the
  // device with the hash of `secret` and appends the "enrol" audit entry, all in one transaction.
  // Unauthenticated if the token is bad.
  virtual Status Enrol(const EnrolRequest& request, std::int64_t now_ms, DeviceInfo* device) = 0;
  // Checks a device credential. Unauthenticated if unknown or wrong. A secret given by
  // StartRotation is accepted too, and its first use makes it the only one (the old one stops
  // working): a device that never heard the new secret keeps working with the old.
  virtual Status Authenticate(const std::string& device_id, const std::string& secret,
                              DeviceInfo* device) = 0;
  virtual Status ListDevices(std::vector<DeviceInfo>* out) = 0;
  // Marks a device revoked: every later request with its credential is refused (403
  // device_revoked), which tells the device to wipe its data. NotFound if there is no such device.
  // `audit`, if given, gets the device's id, user and org as its detail and is written in the same
  // transaction.
  virtual Status RevokeDevice(const std::string& device_id, DeviceInfo* device,
                              const AuditEvent* audit) = 0;
  // Rotation, step one: `new_secret` becomes valid beside the current one until first used.
  // Calling it again replaces a new secret never used.
  virtual Status StartRotation(const std::string& device_id, const std::string& new_secret,
                               std::int64_t now_ms) = 0;

  // The partnership's key for person keys (beatbook/subject_key.h), made on first use and then
  // the same for every device: given to each at enrolment.
  virtual Status SubjectSecret(std::string* secret) = 0;

  // --- Sync ---
  // The stored response of a batch already committed, if any.
  virtual Status FindBatch(const std::string& device_id, const std::string& batch_id,
                           std::string* response, bool* found) = 0;
  // Runs `fn` in one write transaction: committed if it returns OK, rolled back otherwise.
  virtual Status Write(const std::function<Status(WriteTxn&)>& fn) = 0;
  // Records changed after `cursor` ("0" at first), oldest change first, within `scope`.
  virtual Status ReadChanges(const std::string& cursor, const PullScope& scope, std::size_t limit,
                             ChangePage* out) = 0;
  // Notes a pull by a device (its last contact).
  virtual Status NotePull(const std::string& device_id, std::int64_t at_ms) = 0;
  // The same and `audit` (the page's audit entry) in one transaction: one commit per pull page,
  // where the two apart took two.
  virtual Status NotePull(const std::string& device_id, std::int64_t at_ms,
                          const AuditEvent& audit) = 0;

  // --- Indicators ---
  // The running totals of financial year `fy` (docs/indicators.md).
  virtual Status ReadFigures(int fy, std::vector<RawFigure>* out) = 0;
  // The same figures counted from one org's records only (the dashboard's org filter).
  virtual Status ReadOrgFigures(int fy, const std::string& org, std::vector<RawFigure>* out) = 0;
  // The records behind one indicator's figure in a quarter.
  virtual Status ExplainFigure(const std::string& indicator, int fy, int quarter,
                               std::vector<FigureSource>* out) = 0;
  // Stores an approval and its audit entry in one transaction.
  virtual Status AddApproval(const Approval& approval, const AuditEvent& audit) = 0;
  virtual Status Approvals(int fy, std::vector<Approval>* out) = 0;
  // The catalogue version the stored contributions were computed with (0 if none).
  virtual Status ContributionsVersion(int* version) = 0;
  // Recomputes every record's contributions with `fn`, and records `version`, in one transaction.
  virtual Status RebuildContributions(
      int version, const std::function<std::vector<Contribution>(const RecordState&)>& fn) = 0;

  // --- Safeguarding (docs/safeguarding.md) ---
  // Once per store, the first time it is called (a store made before the queue existed, or a
  // new one): puts on the queue, raised at `now_ms`, every record stored before that `raises`
  // says raises a concern; *raised says how many. Later calls do nothing.
  virtual Status RaiseEarlierConcerns(const std::function<bool(const RecordState&)>& raises,
                                      std::int64_t now_ms, std::int64_t* raised) = 0;
  // The queue, oldest first, each with its record.
  virtual Status Concerns(std::vector<SafeguardingConcern>* out) = 0;
  // Acknowledges record `record_id`'s concern or records its action (`action`), by `user`, with
  // `audit` in the same transaction. NotFound if the record is not on the queue.
  virtual Status FollowUpConcern(const std::string& record_id, ConcernStep step,
                                 const std::string& user, const std::string& action,
                                 std::int64_t at_ms, const AuditEvent& audit) = 0;

  // --- Photos (docs/protocol.md, section 8) ---
  // Whether photo `name` is stored, and else how much of `device_id`'s upload of it is here.
  virtual Status ReadUploadProgress(const std::string& device_id, const std::string& name,
                                    UploadProgress* out) = 0;
  // Appends `bytes` at `offset` to `device_id`'s upload of `name` (`total` bytes in all).
  // FailedPrecondition if `offset` is not what the store holds, or `total` differs from the
  // earlier chunks'; ResourceExhausted if the device's unfinished uploads would pass
  // tunables::kMaxUnfinishedUploadBytes. Nothing is stored then.
  virtual Status AddUploadPart(const std::string& device_id, const std::string& name,
                               std::int64_t offset, std::int64_t total, const std::string& bytes,
                               std::int64_t at_ms) = 0;
  // The bytes of `device_id`'s upload of `name` so far, in order.
  virtual Status ReadUploadParts(const std::string& device_id, const std::string& name,
                                 std::string* bytes) = 0;
  // In one transaction: stores the photo (unless it is stored already; `bytes` may then be
  // empty), notes that record `record_id` names it in `field`, and drops `device_id`'s parts.
  virtual Status StoreAttachment(const std::string& device_id, const std::string& name,
                                 const std::string& record_id, const std::string& field,
                                 const std::string& bytes, std::int64_t at_ms) = 0;
  // Drops `device_id`'s unfinished upload of `name` (it failed its checks).
  virtual Status DropUploadParts(const std::string& device_id, const std::string& name) = 0;
  // A stored photo's bytes; *found false if it is not stored.
  virtual Status ReadAttachment(const std::string& name, std::string* bytes, bool* found) = 0;
  // Which of `names` are stored.
  virtual Status StoredAttachments(const std::vector<std::string>& names,
                                   std::set<std::string>* out) = 0;
  // Drops unfinished uploads with no chunk since `before_ms`; *dropped says how many uploads.
  virtual Status DropStaleUploads(std::int64_t before_ms, std::int64_t* dropped) = 0;

  // --- Retention ---
  // Purges records `ids` (report/retention.h) in one transaction: each keeps its envelope, loses
  // every register and is marked purged, with a new sequence number so devices pull the removal;
  // its conflicts, rejections (which quote values), place on the safeguarding queue and notes
  // against photos go too, and so does every photo no record names any more, as do stored batch
  // replies older than `batch_replies_before_ms`. Freed pages are overwritten.
  // Indicator contributions are kept: figures already counted, approved or not, do not change.
  // `audit` is appended in the same transaction.
  virtual Status PurgeRecords(const std::vector<std::string>& ids,
                              std::int64_t batch_replies_before_ms, const AuditEvent& audit) = 0;

  // --- Accountability ---
  // Appends one entry to the audit log (its own transaction). The log cannot be changed or
  // shortened through the store: updates and deletes of its rows are refused.
  virtual Status Audit(const AuditEvent& event) = 0;
  virtual Status ReadAudit(const AuditQuery& query, std::vector<AuditEvent>* out) = 0;

  // --- Review ---
  virtual Status AllRecords(std::vector<RecordState>* out) = 0;
  virtual Status Conflicts(std::vector<StoredConflict>* out) = 0;
  virtual Status Rejections(std::vector<StoredRejection>* out) = 0;
  // PRAGMA integrity_check or equivalent.
  virtual Status CheckIntegrity() = 0;

  // --- Operations (docs/operations.md) ---
  // The store's epoch: a random id made on first use and made anew by NewEpoch, which a restore
  // from a backup calls. Every reply carries it; a device that sees it change sends again what
  // it wrote and pulls from the start (docs/protocol.md, "Restores").
  virtual Status Epoch(std::string* epoch) = 0;
  virtual Status NewEpoch(std::string* epoch) = 0;
  // When the last backup of the store was taken (0: none), and noting one.
  virtual Status LastBackup(std::int64_t* at_ms) = 0;
  virtual Status NoteBackup(std::int64_t at_ms) = 0;
  // What the store takes on disk, in bytes.
  virtual Status StoreBytes(std::int64_t* bytes) = 0;
};

}  // namespace beatbook::server
