// SqlCentralStore: the CentralStore, written once over an SQL engine's session
// (store/sql_session.h). It owns every statement, the mapping of rows to records, devices and
// figures, the schema steps (store/sql_schema.h) and the indicator ledger (store/ledger.h); the
// session supplies the engine and the few behaviours that really differ between engines.
//
//   std::unique_ptr<SqlCentralStore> store;
//   Status s = SqlCentralStore::OpenSqlite("/var/lib/beatbook", &store);      // embedded
//   Status s = SqlCentralStore::OpenPostgres("postgresql://db/beatbook", &store);  // shared
//
// One session behind a mutex: SQLite has one writer at a time anyway; on PostgreSQL each server
// holds its own store, and the servers' transactions run concurrently in the database. Opening
// a store creates and migrates its schema as needed.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "sync_server/store/central_store.h"
#include "sync_server/store/sql_session.h"

namespace beatbook::server {

class SqlCentralStore final : public CentralStore {
 public:
  // The version of the schema this program writes (the last of CentralSchemaSteps()).
  static int SchemaVersion();

  // The embedded store: central.db in `dir` (created, private to its owner).
  static Status OpenSqlite(const std::string& dir, std::unique_ptr<SqlCentralStore>* out);
  // A PostgreSQL store; `conninfo` is a libpq URI (postgresql://...) or key=value string.
  static Status OpenPostgres(const std::string& conninfo, std::unique_ptr<SqlCentralStore>* out);
  // Over any session (the two above are this with their engine's).
  static Status Open(std::unique_ptr<SqlSession> session, std::unique_ptr<SqlCentralStore>* out);

  Status CreateToken(const std::string& token, const TokenGrant& grant, std::int64_t now_ms,
                     const AuditEvent* audit) override;
  Status Enrol(const EnrolRequest& request, std::int64_t now_ms, DeviceInfo* device) override;
  Status Authenticate(const std::string& device_id, const std::string& secret,
                      DeviceInfo* device) override;
  Status StartRotation(const std::string& device_id, const std::string& new_secret,
                       std::int64_t now_ms) override;
  Status SubjectSecret(std::string* secret) override;
  Status RevokeDevice(const std::string& device_id, DeviceInfo* device,
                      const AuditEvent* audit) override;
  Status ListDevices(std::vector<DeviceInfo>* out) override;
  Status FindBatch(const std::string& device_id, const std::string& batch_id, std::string* response,
                   bool* found) override;
  Status Write(const std::function<Status(WriteTxn&)>& fn) override;
  Status ReadChanges(const std::string& cursor, const PullScope& scope, std::size_t limit,
                     ChangePage* out) override;
  Status NotePull(const std::string& device_id, std::int64_t at_ms) override;
  Status NotePull(const std::string& device_id, std::int64_t at_ms,
                  const AuditEvent& audit) override;
  Status ReadFigures(int fy, std::vector<RawFigure>* out) override;
  Status ReadOrgFigures(int fy, const std::string& org, std::vector<RawFigure>* out) override;
  Status ExplainFigure(const std::string& indicator, int fy, int quarter,
                       std::vector<FigureSource>* out) override;
  Status AddApproval(const Approval& approval, const AuditEvent& audit) override;
  Status Approvals(int fy, std::vector<Approval>* out) override;
  Status ContributionsVersion(int* version) override;
  Status RebuildContributions(
      int version, const std::function<std::vector<Contribution>(const RecordState&)>& fn) override;
  Status AllRecords(std::vector<RecordState>* out) override;
  Status Conflicts(std::vector<StoredConflict>* out) override;
  Status Rejections(std::vector<StoredRejection>* out) override;
  Status PurgeRecords(const std::vector<std::string>& ids, std::int64_t batch_replies_before_ms,
                      const AuditEvent& audit) override;
  Status ReadUploadProgress(const std::string& device_id, const std::string& name,
                            UploadProgress* out) override;
  Status AddUploadPart(const std::string& device_id, const std::string& name, std::int64_t offset,
                       std::int64_t total, const std::string& bytes, std::int64_t at_ms) override;
  Status ReadUploadParts(const std::string& device_id, const std::string& name,
                         std::string* bytes) override;
  Status StoreAttachment(const std::string& device_id, const std::string& name,
                         const std::string& record_id, const std::string& field,
                         const std::string& bytes, std::int64_t at_ms) override;
  Status DropUploadParts(const std::string& device_id, const std::string& name) override;
  Status ReadAttachment(const std::string& name, std::string* bytes, bool* found) override;
  Status StoredAttachments(const std::vector<std::string>& names,
                           std::set<std::string>* out) override;
  Status DropStaleUploads(std::int64_t before_ms, std::int64_t* dropped) override;
  Status RaiseEarlierConcerns(const std::function<bool(const RecordState&)>& raises,
                              std::int64_t now_ms, std::int64_t* raised) override;
  Status Concerns(std::vector<SafeguardingConcern>* out) override;
  Status FollowUpConcern(const std::string& record_id, ConcernStep step, const std::string& user,
                         const std::string& action, std::int64_t at_ms,
                         const AuditEvent& audit) override;
  Status Audit(const AuditEvent& event) override;
  Status ReadAudit(const AuditQuery& query, std::vector<AuditEvent>* out) override;
  Status CheckIntegrity() override;
  Status Epoch(std::string* epoch) override;
  Status NewEpoch(std::string* epoch) override;
  Status LastBackup(std::int64_t* at_ms) override;
  Status NoteBackup(std::int64_t at_ms) override;
  Status StoreBytes(std::int64_t* bytes) override;

 private:
  class Txn;
  explicit SqlCentralStore(std::unique_ptr<SqlSession> session) : session_(std::move(session)) {}
  // Runs the schema steps the store lacks (store/sql_schema.h), in one transaction.
  Status Migrate();
  // The meta table's value for `key` ("" if none), and setting one.
  Status ReadMeta(const std::string& key, std::string* value);
  Status WriteMeta(const std::string& key, const std::string& value);
  // The value of `key`, which the first caller sets to `made` (servers racing agree on one).
  Status MetaMadeOnce(const std::string& key, const std::string& made, std::string* value);
  Status LoadDevice(const std::string& device_id, DeviceInfo* device, std::string* secret_hash,
                    bool* found);
  // Every statement of the write transaction `txn` done: the ledger's totals, the records'
  // numbers, the commit.
  Status Finish(Txn* txn, SqlTransaction* sql);

  std::mutex mu_;  // one session, one statement at a time
  std::unique_ptr<SqlSession> session_;
};

// Appends `event` to the audit log, in the session's open transaction if there is one.
Status InsertAudit(SqlSession* session, const AuditEvent& event);
// Replaces the photos a record is noted as naming (sql_central_store_attachments.cc).
Status ReplacePhotoRefs(SqlSession* session, const std::string& record_id,
                        const std::vector<std::pair<std::string, std::string>>& photos,
                        std::int64_t at_ms);
// Puts a record on the safeguarding queue unless it is there (sql_central_store_safeguarding.cc).
Status InsertConcern(SqlSession* session, const std::string& record_id, const std::string& org,
                     std::int64_t at_ms);

}  // namespace beatbook::server
