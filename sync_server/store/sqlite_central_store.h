// SqliteCentralStore: the embedded default CentralStore, one SQLite file (WAL) in a directory.
//
// One connection behind a mutex: SQLite has one writer at a time anyway, and the server's
// transactions are short. Open() creates the directory and store if needed and migrates old ones.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "beatbook/sqlite_db.h"
#include "store/central_store.h"

namespace beatbook::server {

class SqliteCentralStore final : public CentralStore {
 public:
  static constexpr int kSchemaVersion = 5;
  static Status Open(const std::string& dir, std::unique_ptr<SqliteCentralStore>* out);

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
  SqliteCentralStore() = default;
  Status LoadDevice(const std::string& device_id, DeviceInfo* device, std::string* secret_hash,
                    bool* found);

  std::mutex mu_;
  SqliteDb db_;
  std::string dir_;
};

}  // namespace beatbook::server
