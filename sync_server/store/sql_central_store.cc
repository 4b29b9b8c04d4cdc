// SqlCentralStore: opening and migrating a store; tokens, devices and credentials; the audit log.
// Records and the change feed are in sql_central_store_records.cc, figures and approvals in
// sql_central_store_figures.cc.
#include "sync_server/store/sql_central_store.h"

#include "beatbook/crypto.h"
#include "sync_server/store/pg_session.h"
#include "sync_server/store/sql_schema.h"
#include "sync_server/store/sqlite_session.h"
#include "sync_server/store/store_common.h"

namespace beatbook::server {

using nlohmann::json;

int SqlCentralStore::SchemaVersion() { return CentralSchemaSteps().back().version; }

Status SqlCentralStore::OpenSqlite(const std::string& dir, std::unique_ptr<SqlCentralStore>* out) {
  std::unique_ptr<SqliteSession> session;
  BB_RETURN_IF_ERROR(SqliteSession::Open(dir, &session));
  return Open(std::move(session), out);
}

Status SqlCentralStore::OpenPostgres(const std::string& conninfo,
                                     std::unique_ptr<SqlCentralStore>* out) {
  std::unique_ptr<PgSession> session;
  BB_RETURN_IF_ERROR(PgSession::Connect(conninfo, &session));
  return Open(std::move(session), out);
}

Status SqlCentralStore::Open(std::unique_ptr<SqlSession> session,
                             std::unique_ptr<SqlCentralStore>* out) {
  std::unique_ptr<SqlCentralStore> store(new SqlCentralStore(std::move(session)));
  BB_RETURN_IF_ERROR(store->Migrate());
  *out = std::move(store);
  return Status::OK();
}

Status SqlCentralStore::Migrate() {
  const char* engine = session_->dialect() == SqlDialect::kSqlite ? "SQLite" : "PostgreSQL";
  SqlTransaction txn(session_.get());
  BB_RETURN_IF_ERROR(txn.Begin());
  int current = 0;
  BB_RETURN_IF_ERROR(session_->ReadSchemaVersion(&current));
  if (current > SchemaVersion()) {
    return Status::FailedPrecondition(std::string("the ") + engine + " store has schema version " +
                                      std::to_string(current) + ", newer than this program's " +
                                      std::to_string(SchemaVersion()) + "; update the program");
  }
  if (current == SchemaVersion()) return Status::OK();
  for (const SchemaStep& step : CentralSchemaSteps()) {
    if (step.version <= current) continue;
    Status s = session_->RunScript(SchemaText(step, session_->dialect()));
    if (!s.ok()) {
      return Status::IoError(std::string("migrating the ") + engine + " store to version " +
                             std::to_string(step.version) + " failed: " + s.message());
    }
  }
  BB_RETURN_IF_ERROR(session_->WriteSchemaVersion(SchemaVersion()));
  return txn.Commit();
}

Status InsertAudit(SqlSession* session, const AuditEvent& e) {
  return session->Run(
      "INSERT INTO audit(at_ms, actor, role, org, device, action, detail) "
      "VALUES($1, $2, $3, $4, $5, $6, $7)",
      {e.at_ms, e.actor, e.role, e.org, e.device_id, e.action,
       e.detail.dump(-1, ' ', false, json::error_handler_t::replace)});
}

Status SqlCentralStore::CreateToken(const std::string& token, const TokenGrant& grant,
                                    std::int64_t now_ms, const AuditEvent* audit) {
  std::lock_guard<std::mutex> lock(mu_);
  SqlTransaction txn(session_.get());
  BB_RETURN_IF_ERROR(txn.Begin());
  BB_RETURN_IF_ERROR(session_->Run(
      "INSERT INTO tokens(hash, user_name, org, role, created_ms, expires_ms) "
      "VALUES($1,$2,$3,$4,$5,$6)",
      {Sha256Hex(token), grant.user, grant.org, RoleName(grant.role), now_ms, grant.expires_ms}));
  if (audit != nullptr) BB_RETURN_IF_ERROR(InsertAudit(session_.get(), *audit));
  return txn.Commit();
}

Status SqlCentralStore::Enrol(const EnrolRequest& request, std::int64_t now_ms,
                              DeviceInfo* device) {
  std::lock_guard<std::mutex> lock(mu_);
  SqlTransaction txn(session_.get());
  BB_RETURN_IF_ERROR(txn.Begin());
  std::string hash = Sha256Hex(request.token);
  // Locked for update: two servers given the same token at once cannot both use it.
  bool known = false, used = false;
  std::string role;
  std::int64_t expires_ms = 0;
  DeviceInfo d;
  BB_RETURN_IF_ERROR(session_->Run(
      std::string("SELECT user_name, org, role, expires_ms, "
                  "CASE WHEN used_ms IS NULL THEN 0 ELSE 1 END FROM tokens WHERE hash = $1") +
          session_->ForUpdate(),
      {hash}, [&](const SqlRow& row) {
        known = true;
        d.user = row.Text(0);
        d.org = row.Text(1);
        role = row.Text(2);
        expires_ms = row.Int(3);
        used = row.Int(4) != 0;
        return Status::OK();
      }));
  if (!known) return Status::Unauthenticated("the enrolment token is not known");
  if (used) return Status::Unauthenticated("the enrolment token has already been used");
  if (expires_ms <= now_ms) return Status::Unauthenticated("the enrolment token has expired");
  BB_RETURN_IF_ERROR(StoredRole(role, &d.role));
  d.id = request.device_id;
  d.name = request.device_name;
  d.client = request.client;
  d.enrolled_ms = now_ms;
  BB_RETURN_IF_ERROR(CheckEnrolRole(request, d.role));
  BB_RETURN_IF_ERROR(session_->Run("UPDATE tokens SET used_ms = $1, used_by = $2 WHERE hash = $3",
                                   {now_ms, request.device_id, hash}));
  BB_RETURN_IF_ERROR(session_->Run(
      "INSERT INTO devices(id, secret_hash, name, user_name, org, role, enrolled_ms, client) "
      "VALUES($1,$2,$3,$4,$5,$6,$7,$8)",
      {d.id, Sha256Hex(request.secret), d.name, d.user, d.org, RoleName(d.role), now_ms,
       d.client}));
  BB_RETURN_IF_ERROR(
      InsertAudit(session_.get(), {0,
                                   now_ms,
                                   d.user,
                                   RoleName(d.role),
                                   d.org,
                                   d.id,
                                   "enrol",
                                   {{"device_name", d.name}, {"client", d.client}}}));
  BB_RETURN_IF_ERROR(txn.Commit());
  *device = d;
  return Status::OK();
}

Status SqlCentralStore::LoadDevice(const std::string& device_id, DeviceInfo* d,
                                   std::string* secret_hash, bool* found) {
  *found = false;
  return session_->Run(
      "SELECT id, name, user_name, org, role, enrolled_ms, last_sync_ms, pending_at_last_sync, "
      "revoked, secret_hash, client FROM devices WHERE id = $1",
      {device_id}, [&](const SqlRow& row) {
        *found = true;
        d->id = row.Text(0);
        d->name = row.Text(1);
        d->user = row.Text(2);
        d->org = row.Text(3);
        BB_RETURN_IF_ERROR(StoredRole(row.Text(4), &d->role));
        d->enrolled_ms = row.Int(5);
        d->last_sync_ms = row.Int(6);
        d->pending_at_last_sync = row.Int(7);
        d->revoked = row.Int(8) != 0;
        *secret_hash = row.Text(9);
        d->client = row.Text(10);
        return Status::OK();
      });
}

Status SqlCentralStore::Authenticate(const std::string& device_id, const std::string& secret,
                                     DeviceInfo* device) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string hash;
  bool found = false;
  BB_RETURN_IF_ERROR(LoadDevice(device_id, device, &hash, &found));
  std::string given = Sha256Hex(secret);  // hashed either way: timing tells no device ids apart
  if (!found) return Status::Unauthenticated("the device credential is not valid");
  if (ConstantTimeEquals(hash, given)) return Status::OK();
  // Both hashes read in one statement: another server may be promoting the new secret right now,
  // and a device must not be turned away between the two reads (it would fall back to the
  // secret that promotion retires).
  bool current = false;
  std::string pending;
  BB_RETURN_IF_ERROR(
      session_->Run("SELECT secret_hash, next_secret_hash FROM devices WHERE id = $1", {device_id},
                    [&](const SqlRow& row) {
                      current = ConstantTimeEquals(row.Text(0), given);
                      pending = row.Text(1);
                      return Status::OK();
                    }));
  if (current) return Status::OK();
  if (pending.empty() || !ConstantTimeEquals(pending, given)) {
    return Status::Unauthenticated("the device credential is not valid");
  }
  // The first use of a rotated secret retires the old one (only if it is still the pending one).
  return session_->Run(
      "UPDATE devices SET secret_hash = next_secret_hash, next_secret_hash = '' "
      "WHERE id = $1 AND next_secret_hash = $2",
      {device_id, pending});
}

Status SqlCentralStore::SubjectSecret(std::string* secret) {
  std::lock_guard<std::mutex> lock(mu_);
  return MetaMadeOnce("subject_secret", RandomSecret(32), secret);
}

Status SqlCentralStore::StartRotation(const std::string& device_id, const std::string& new_secret,
                                      std::int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  return session_->Run("UPDATE devices SET next_secret_hash = $1, rotated_ms = $2 WHERE id = $3",
                       {Sha256Hex(new_secret), now_ms, device_id});
}

Status SqlCentralStore::RevokeDevice(const std::string& device_id, DeviceInfo* device,
                                     const AuditEvent* audit) {
  std::lock_guard<std::mutex> lock(mu_);
  SqlTransaction txn(session_.get());
  BB_RETURN_IF_ERROR(txn.Begin());
  std::string hash;
  bool found = false;
  BB_RETURN_IF_ERROR(LoadDevice(device_id, device, &hash, &found));
  if (!found) return Status::NotFound("no device '" + device_id + "' is enrolled");
  BB_RETURN_IF_ERROR(session_->Run("UPDATE devices SET revoked = 1 WHERE id = $1", {device_id}));
  if (audit != nullptr) {
    AuditEvent e = *audit;
    e.detail = {{"device", device->id}, {"user", device->user}, {"org", device->org}};
    BB_RETURN_IF_ERROR(InsertAudit(session_.get(), e));
  }
  BB_RETURN_IF_ERROR(txn.Commit());
  device->revoked = true;
  return Status::OK();
}

Status SqlCentralStore::ListDevices(std::vector<DeviceInfo>* out) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> ids;
  BB_RETURN_IF_ERROR(
      session_->Run("SELECT id FROM devices ORDER BY enrolled_ms, id", {}, [&](const SqlRow& row) {
        ids.push_back(row.Text(0));
        return Status::OK();
      }));
  for (const auto& id : ids) {
    DeviceInfo d;
    std::string hash;
    bool found = false;
    BB_RETURN_IF_ERROR(LoadDevice(id, &d, &hash, &found));
    if (found) out->push_back(d);
  }
  return Status::OK();
}

Status SqlCentralStore::Audit(const AuditEvent& event) {
  std::lock_guard<std::mutex> lock(mu_);
  return InsertAudit(session_.get(), event);
}

Status SqlCentralStore::ReadAudit(const AuditQuery& q, std::vector<AuditEvent>* out) {
  std::lock_guard<std::mutex> lock(mu_);
  return session_->Run(
      "SELECT seq, at_ms, actor, role, org, device, action, detail FROM ("
      "  SELECT * FROM audit WHERE at_ms >= $1 AND ($2 = '' OR actor = $2) "
      "  AND ($3 = '' OR device = $3) AND ($4 = '' OR action = $4) ORDER BY seq DESC LIMIT $5"
      ") recent ORDER BY seq",
      {q.since_ms, q.actor, q.device_id, q.action, static_cast<std::int64_t>(q.limit)},
      [&](const SqlRow& row) {
        AuditEvent e;
        e.seq = row.Int(0);
        e.at_ms = row.Int(1);
        e.actor = row.Text(2);
        e.role = row.Text(3);
        e.org = row.Text(4);
        e.device_id = row.Text(5);
        e.action = row.Text(6);
        e.detail = json::parse(row.Text(7), nullptr, /*allow_exceptions=*/false);
        out->push_back(std::move(e));
        return Status::OK();
      });
}

Status SqlCentralStore::CheckIntegrity() {
  std::lock_guard<std::mutex> lock(mu_);
  BB_RETURN_IF_ERROR(session_->CheckPages());
  // What an engine cannot know is our invariant that every committed record has its number.
  std::int64_t unnumbered = 0;
  BB_RETURN_IF_ERROR(
      session_->Run("SELECT count(*) FROM records WHERE seq IS NULL", {}, [&](const SqlRow& row) {
        unnumbered = row.Int(0);
        return Status::OK();
      }));
  if (unnumbered != 0) {
    return Status::Corruption(std::to_string(unnumbered) + " records have no sequence number");
  }
  return Status::OK();
}

}  // namespace beatbook::server
