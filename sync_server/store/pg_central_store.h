// PgCentralStore: the CentralStore on PostgreSQL, for deployments where several stateless
// sync_server instances share one database (docs/deployment.md).
//
//   std::unique_ptr<PgCentralStore> store;
//   Status s = PgCentralStore::Open("postgresql://beatbook@db.internal/beatbook", &store);
//
// Each instance holds one connection behind a mutex; instances run their transactions
// concurrently in the database. The schema is migrated on Open under an advisory lock, so
// instances starting together do not race.
//
// The pull cursor with concurrent writers (docs/protocol.md, section 3b): a record's sequence
// number is not taken when it is saved, but at the very end of its transaction, under a
// transaction-scoped advisory lock that is held until the commit. Transactions therefore take
// sequence numbers in the order they commit, and a reader can never see a number while a
// smaller one is still to become visible: the device that pulled up to N misses nothing later.
// Only the few milliseconds from numbering to commit are serialised; merging and validating a
// push run in parallel.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "store/central_store.h"
#include "store/pg_db.h"

namespace beatbook::server {

class PgCentralStore final : public CentralStore {
 public:
  static constexpr int kSchemaVersion = 1;
  // `conninfo`: a libpq URI (postgresql://...) or key=value string.
  static Status Open(const std::string& conninfo, std::unique_ptr<PgCentralStore>* out);

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
  Status Audit(const AuditEvent& event) override;
  Status ReadAudit(const AuditQuery& query, std::vector<AuditEvent>* out) override;
  Status CheckIntegrity() override;

 private:
  class Txn;
  PgCentralStore() = default;
  Status LoadDevice(const std::string& device_id, DeviceInfo* device, std::string* secret_hash,
                    bool* found);
  // Numbers the records `txn` saved (see the top of this file), then commits.
  Status Commit(Txn* txn, PgTransaction* pg);

  std::mutex mu_;
  PgDb db_;
};

}  // namespace beatbook::server
