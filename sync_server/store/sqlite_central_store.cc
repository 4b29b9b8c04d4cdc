#include "store/sqlite_central_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>

#include "beatbook/clock.h"
#include "beatbook/crypto.h"
#include "beatbook/fault.h"
#include "beatbook/migrations.h"
#include "beatbook/record_rows.h"
#include "store/ledger.h"
#include "store/store_common.h"

namespace beatbook::server {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const std::vector<std::string>& CentralMigrations() {
  static const std::vector<std::string> kMigrations = {
      R"sql(
        CREATE TABLE records(
          id TEXT PRIMARY KEY,
          form TEXT NOT NULL,
          form_version INTEGER NOT NULL,
          org TEXT NOT NULL,
          author TEXT NOT NULL,
          device TEXT NOT NULL,
          occurred_at TEXT NOT NULL,
          deleted INTEGER NOT NULL,
          seq INTEGER NOT NULL UNIQUE,
          state TEXT NOT NULL);
        CREATE INDEX records_by_org_seq ON records(org, seq);
        CREATE TABLE tokens(
          hash TEXT PRIMARY KEY,
          user TEXT NOT NULL, org TEXT NOT NULL, role TEXT NOT NULL,
          created_ms INTEGER NOT NULL, expires_ms INTEGER NOT NULL,
          used_ms INTEGER, used_by TEXT);
        CREATE TABLE devices(
          id TEXT PRIMARY KEY,
          secret_hash TEXT NOT NULL,
          name TEXT NOT NULL,
          user TEXT NOT NULL, org TEXT NOT NULL, role TEXT NOT NULL,
          enrolled_ms INTEGER NOT NULL,
          last_sync_ms INTEGER NOT NULL DEFAULT 0,
          pending_at_last_sync INTEGER NOT NULL DEFAULT 0,
          revoked INTEGER NOT NULL DEFAULT 0);
        CREATE TABLE batches(
          device TEXT NOT NULL, batch_id TEXT NOT NULL, response TEXT NOT NULL,
          at_ms INTEGER NOT NULL, PRIMARY KEY(device, batch_id));
        CREATE TABLE conflicts(
          id INTEGER PRIMARY KEY,
          record_id TEXT NOT NULL, field TEXT NOT NULL,
          winner TEXT NOT NULL, loser TEXT NOT NULL,
          loser_t INTEGER NOT NULL, loser_d TEXT NOT NULL,
          at_ms INTEGER NOT NULL,
          UNIQUE(record_id, field, loser_t, loser_d));
        CREATE TABLE rejections(
          device TEXT NOT NULL, change_id TEXT NOT NULL, record_id TEXT NOT NULL,
          reason TEXT NOT NULL, at_ms INTEGER NOT NULL,
          PRIMARY KEY(device, change_id));
      )sql",
      // 2: indicators kept current as records merge, and approved quarters.
      R"sql(
        CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE contributions(
          record_id TEXT NOT NULL, indicator TEXT NOT NULL,
          fy INTEGER NOT NULL, quarter INTEGER NOT NULL,
          value REAL NOT NULL, n REAL NOT NULL, key TEXT NOT NULL, status TEXT NOT NULL,
          stamp INTEGER NOT NULL, at_ms INTEGER NOT NULL,
          PRIMARY KEY(record_id, indicator));
        CREATE INDEX contributions_by_period ON contributions(indicator, fy, quarter);
        -- Milestone statuses are few: a partial index keeps the report from scanning the rest.
        CREATE INDEX contributions_milestones ON contributions(fy, stamp) WHERE status <> '';
        CREATE TABLE totals(
          indicator TEXT NOT NULL, fy INTEGER NOT NULL, quarter INTEGER NOT NULL,
          value REAL NOT NULL DEFAULT 0, n REAL NOT NULL DEFAULT 0,
          records INTEGER NOT NULL DEFAULT 0,
          PRIMARY KEY(indicator, fy, quarter));
        CREATE TABLE distinct_keys(
          indicator TEXT NOT NULL, fy INTEGER NOT NULL, quarter INTEGER NOT NULL,
          key TEXT NOT NULL, refs INTEGER NOT NULL,
          PRIMARY KEY(indicator, fy, quarter, key));
        CREATE TABLE approvals(
          id INTEGER PRIMARY KEY, fy INTEGER NOT NULL, quarter INTEGER NOT NULL,
          kind TEXT NOT NULL, user TEXT NOT NULL, at_ms INTEGER NOT NULL,
          catalogue_version INTEGER NOT NULL, report TEXT NOT NULL);
      )sql",
      // 3: the append-only audit log.
      R"sql(
        CREATE TABLE audit(
          seq INTEGER PRIMARY KEY AUTOINCREMENT,
          at_ms INTEGER NOT NULL,
          actor TEXT NOT NULL, role TEXT NOT NULL, org TEXT NOT NULL, device TEXT NOT NULL,
          action TEXT NOT NULL, detail TEXT NOT NULL);
        CREATE INDEX audit_by_time ON audit(at_ms);
        CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
          BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
        CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
          BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
      )sql",
      // 4: credential rotation: the new secret's hash waits until the device first uses it.
      R"sql(
        ALTER TABLE devices ADD COLUMN next_secret_hash TEXT NOT NULL DEFAULT '';
        ALTER TABLE devices ADD COLUMN rotated_ms INTEGER NOT NULL DEFAULT 0;
      )sql",
      // 5: which program a device is: a tablet, or a browser signed in to the dashboard.
      R"sql(
        ALTER TABLE devices ADD COLUMN client TEXT NOT NULL DEFAULT 'tablet';
      )sql",
  };
  return kMigrations;
}

}  // namespace

Status InsertAudit(SqliteDb* db, const AuditEvent& e) {
  SqliteStmt* st;
  BB_RETURN_IF_ERROR(
      db->Cached("INSERT INTO audit(at_ms, actor, role, org, device, action, detail) "
                 "VALUES(?, ?, ?, ?, ?, ?, ?)",
                 &st));
  st->Bind(1, e.at_ms);
  st->Bind(2, e.actor);
  st->Bind(3, e.role);
  st->Bind(4, e.org);
  st->Bind(5, e.device_id);
  st->Bind(6, e.action);
  st->Bind(7, e.detail.dump(-1, ' ', false, json::error_handler_t::replace));
  return st->Run();
}

// The ledger's statements on SQLite (store/ledger.h keeps the arithmetic).
class SqliteLedgerStatements final : public LedgerStatements {
 public:
  explicit SqliteLedgerStatements(SqliteDb* db) : db_(db) {}

  Status TakeContributions(const std::string& record_id, std::vector<Contribution>* old) override {
    SqliteStmt* st;
    BB_RETURN_IF_ERROR(
        db_->Cached("DELETE FROM contributions WHERE record_id = ? "
                    "RETURNING indicator, fy, quarter, value, n, key",
                    &st));
    st->Bind(1, record_id);
    return st->ForEachRow([&] {
      Contribution c;
      c.indicator = st->ColumnText(0);
      c.fy = static_cast<int>(st->ColumnInt(1));
      c.quarter = static_cast<int>(st->ColumnInt(2));
      c.value = st->ColumnDouble(3);
      c.n = st->ColumnDouble(4);
      c.key = st->ColumnText(5);
      old->push_back(std::move(c));
      return Status::OK();
    });
  }

  Status InsertContribution(const std::string& record_id, const Contribution& c, HlcStamp stamp,
                            std::int64_t at_ms) override {
    SqliteStmt* ins;
    BB_RETURN_IF_ERROR(db_->Cached(
        "INSERT INTO contributions(record_id, indicator, fy, quarter, value, n, key, status, "
        "stamp, at_ms) VALUES(?,?,?,?,?,?,?,?,?,?)",
        &ins));
    ins->Bind(1, record_id);
    ins->Bind(2, c.indicator);
    ins->Bind(3, std::int64_t{c.fy});
    ins->Bind(4, std::int64_t{c.quarter});
    ins->Bind(5, c.value);
    ins->Bind(6, c.n);
    ins->Bind(7, c.key);
    ins->Bind(8, c.status);
    ins->Bind(9, stamp);
    ins->Bind(10, at_ms);
    return ins->Run();
  }

  Status AddKeyRefs(const std::string& ind, int fy, int q, const std::string& key,
                    std::int64_t delta, std::int64_t* after) override {
    SqliteStmt* up;
    BB_RETURN_IF_ERROR(db_->Cached(
        "INSERT INTO distinct_keys(indicator, fy, quarter, key, refs) VALUES(?1,?2,?3,?4,?5) "
        "ON CONFLICT(indicator, fy, quarter, key) DO UPDATE SET refs = refs + ?5 "
        "RETURNING refs",
        &up));
    up->Bind(1, ind);
    up->Bind(2, std::int64_t{fy});
    up->Bind(3, std::int64_t{q});
    up->Bind(4, key);
    up->Bind(5, delta);
    BB_RETURN_IF_ERROR(up->ForEachRow([&] {
      *after = up->ColumnInt(0);
      return Status::OK();
    }));
    if (*after > 0) return Status::OK();
    SqliteStmt* del;
    BB_RETURN_IF_ERROR(db_->Cached(
        "DELETE FROM distinct_keys WHERE indicator = ? AND fy = ? AND quarter = ? AND key = ?",
        &del));
    del->Bind(1, ind);
    del->Bind(2, std::int64_t{fy});
    del->Bind(3, std::int64_t{q});
    del->Bind(4, key);
    return del->Run();
  }

  Status AddTotals(const std::string& ind, int fy, int q, double value, double n,
                   std::int64_t records) override {
    SqliteStmt* up;
    BB_RETURN_IF_ERROR(db_->Cached(
        "INSERT INTO totals(indicator, fy, quarter, value, n, records) VALUES(?1,?2,?3,?4,?5,?6) "
        "ON CONFLICT(indicator, fy, quarter) DO UPDATE SET value = value + ?4, n = n + ?5, "
        "records = records + ?6",
        &up));
    up->Bind(1, ind);
    up->Bind(2, std::int64_t{fy});
    up->Bind(3, std::int64_t{q});
    up->Bind(4, value);
    up->Bind(5, n);
    up->Bind(6, records);
    return up->Run();
  }

 private:
  SqliteDb* db_;
};

class SqliteCentralStore::Txn final : public WriteTxn {
 public:
  explicit Txn(SqliteDb* db) : db_(db), statements_(db), ledger_(&statements_) {}

  Status SetContributions(const std::string& record_id,
                          const std::vector<Contribution>& contributions, HlcStamp stamp,
                          std::int64_t at_ms) override {
    return ledger_.Set(record_id, contributions, stamp, at_ms);
  }
  // The totals' changes, summed: written just before the commit (store/ledger.h).
  Status FlushTotals() { return ledger_.Flush(); }

  Status Audit(const AuditEvent& event) override { return InsertAudit(db_, event); }

  Status Begin() {
    SqliteStmt* st;
    BB_RETURN_IF_ERROR(db_->Cached("SELECT coalesce(max(seq), 0) FROM records", &st));
    if (st->Step() != SqliteStmt::kRow) return st->LastError();
    next_seq_ = st->ColumnInt(0) + 1;
    st->Reset();
    return Status::OK();
  }

  Status LoadRecord(const std::string& id, RecordState* out, bool* found) override {
    return LoadStoredState(db_, id, out, found);
  }

  Status SaveRecord(const RecordState& s) override {
    SqliteStmt* st;
    BB_RETURN_IF_ERROR(db_->Cached(
        "INSERT OR REPLACE INTO records(id, form, form_version, org, author, device, occurred_at, "
        "deleted, seq, state) VALUES(?,?,?,?,?,?,?,?,?,?)",
        &st));
    st->Bind(1, s.id);
    st->Bind(2, s.form);
    st->Bind(3, std::int64_t{s.form_version});
    st->Bind(4, s.org);
    st->Bind(5, s.author);
    st->Bind(6, s.device);
    st->Bind(7, s.OccurredAt());
    st->Bind(8, std::int64_t{s.IsDeleted() ? 1 : 0});
    st->Bind(9, next_seq_++);
    st->Bind(10, s.ToJson().dump());
    return st->Run();
  }

  Status AddConflict(const Conflict& c, std::int64_t at_ms) override {
    SqliteStmt* st;
    BB_RETURN_IF_ERROR(db_->Cached(
        "INSERT OR IGNORE INTO conflicts(record_id, field, winner, loser, loser_t, loser_d, at_ms) "
        "VALUES(?,?,?,?,?,?,?)",
        &st));
    st->Bind(1, c.record_id);
    st->Bind(2, c.field);
    st->Bind(3, StoredRegisterJson(c.winner).dump());
    st->Bind(4, StoredRegisterJson(c.loser).dump());
    st->Bind(5, c.loser.t);
    st->Bind(6, c.loser.d);
    st->Bind(7, at_ms);
    return st->Run();
  }

  Status AddRejection(const StoredRejection& r) override {
    SqliteStmt* st;
    BB_RETURN_IF_ERROR(db_->Cached(
        "INSERT OR REPLACE INTO rejections(device, change_id, record_id, reason, at_ms) "
        "VALUES(?,?,?,?,?)",
        &st));
    st->Bind(1, r.device_id);
    st->Bind(2, r.change_id);
    st->Bind(3, r.record_id);
    st->Bind(4, r.reason);
    st->Bind(5, r.at_ms);
    return st->Run();
  }

  Status SaveBatch(const std::string& device_id, const std::string& batch_id,
                   const std::string& response, std::int64_t at_ms) override {
    SqliteStmt* st;
    BB_RETURN_IF_ERROR(db_->Cached(
        "INSERT OR REPLACE INTO batches(device, batch_id, response, at_ms) VALUES(?,?,?,?)", &st));
    st->Bind(1, device_id);
    st->Bind(2, batch_id);
    st->Bind(3, response);
    st->Bind(4, at_ms);
    return st->Run();
  }

  Status NoteSync(const std::string& device_id, std::int64_t at_ms, std::int64_t pending) override {
    SqliteStmt* st;
    BB_RETURN_IF_ERROR(db_->Cached(
        "UPDATE devices SET last_sync_ms = ?, pending_at_last_sync = ? WHERE id = ?", &st));
    st->Bind(1, at_ms);
    st->Bind(2, pending);
    st->Bind(3, device_id);
    return st->Run();
  }

 private:
  SqliteDb* db_;
  SqliteLedgerStatements statements_;
  BufferedLedger ledger_;
  std::int64_t next_seq_ = 1;
};

namespace {

// The store holds record content, notes and the person-key secret: its directory is the owner's
// alone (0700) and so are its files (0600). SQLite gives the WAL and shared-memory files the
// database file's mode, so the database file is made 0600 before SQLite first opens it; stores
// made before this rule are narrowed on open.
Status MakePrivate(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::IoError("cannot create data directory " + dir + ": " + ec.message());
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  if (ec) return Status::IoError("cannot make data directory " + dir + " private: " + ec.message());
  std::string db = (fs::path(dir) / "central.db").string();
  int fd = ::open(db.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Status::IoError("cannot open " + db + ": " + std::strerror(errno));
  ::close(fd);
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::string file = db + suffix;
    if (!fs::exists(file, ec)) continue;
    fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace,
                    ec);
    if (ec) return Status::IoError("cannot make " + file + " private: " + ec.message());
  }
  return Status::OK();
}

}  // namespace

Status SqliteCentralStore::Open(const std::string& dir, std::unique_ptr<SqliteCentralStore>* out) {
  BB_RETURN_IF_ERROR(MakePrivate(dir));
  std::unique_ptr<SqliteCentralStore> store(new SqliteCentralStore);
  store->dir_ = dir;
  BB_RETURN_IF_ERROR(store->db_.Open((fs::path(dir) / "central.db").string(), /*create=*/true));
  SqliteStmt st;
  BB_RETURN_IF_ERROR(store->db_.Prepare("PRAGMA user_version", &st));
  st.Step();
  int current = static_cast<int>(st.ColumnInt(0));
  BB_RETURN_IF_ERROR(ApplyMigrations(&store->db_, CentralMigrations(), current, kSchemaVersion,
                                     "central store " + dir));
  if (long pages = FaultSetting("BEATBOOK_FAULT_STORE_MAX_PAGES"); pages > 0) {
    BB_RETURN_IF_ERROR(store->db_.Exec("PRAGMA max_page_count = " + std::to_string(pages)));
  }
  *out = std::move(store);
  return Status::OK();
}

Status SqliteCentralStore::CreateToken(const std::string& token, const TokenGrant& grant,
                                       std::int64_t now_ms, const AuditEvent* audit) {
  std::lock_guard<std::mutex> lock(mu_);
  SqliteTransaction txn(&db_);
  BB_RETURN_IF_ERROR(txn.Begin());
  SqliteStmt st;
  BB_RETURN_IF_ERROR(db_.Prepare(
      "INSERT INTO tokens(hash, user, org, role, created_ms, expires_ms) VALUES(?,?,?,?,?,?)",
      &st));
  st.Bind(1, Sha256Hex(token));
  st.Bind(2, grant.user);
  st.Bind(3, grant.org);
  st.Bind(4, grant.role);
  st.Bind(5, now_ms);
  st.Bind(6, grant.expires_ms);
  BB_RETURN_IF_ERROR(st.Run());
  if (audit != nullptr) BB_RETURN_IF_ERROR(InsertAudit(&db_, *audit));
  return txn.Commit();
}

Status SqliteCentralStore::Enrol(const EnrolRequest& request, std::int64_t now_ms,
                                 DeviceInfo* device) {
  std::lock_guard<std::mutex> lock(mu_);
  SqliteTransaction txn(&db_);
  BB_RETURN_IF_ERROR(txn.Begin());
  SqliteStmt st;
  BB_RETURN_IF_ERROR(db_.Prepare(
      "SELECT user, org, role, expires_ms, used_ms IS NOT NULL FROM tokens WHERE hash = ?", &st));
  std::string hash = Sha256Hex(request.token);
  st.Bind(1, hash);
  auto r = st.Step();
  if (r == SqliteStmt::kError) return st.LastError();
  if (r != SqliteStmt::kRow) return Status::Unauthenticated("the enrolment token is not known");
  if (st.ColumnInt(4)) return Status::Unauthenticated("the enrolment token has already been used");
  if (st.ColumnInt(3) <= now_ms) return Status::Unauthenticated("the enrolment token has expired");
  DeviceInfo d;
  d.id = request.device_id;
  d.name = request.device_name;
  d.client = request.client;
  d.user = st.ColumnText(0);
  d.org = st.ColumnText(1);
  d.role = st.ColumnText(2);
  d.enrolled_ms = now_ms;
  BB_RETURN_IF_ERROR(CheckEnrolRole(request, d.role));
  SqliteStmt use;
  BB_RETURN_IF_ERROR(
      db_.Prepare("UPDATE tokens SET used_ms = ?, used_by = ? WHERE hash = ?", &use));
  use.Bind(1, now_ms);
  use.Bind(2, request.device_id);
  use.Bind(3, hash);
  BB_RETURN_IF_ERROR(use.Run());
  SqliteStmt ins;
  BB_RETURN_IF_ERROR(db_.Prepare(
      "INSERT INTO devices(id, secret_hash, name, user, org, role, enrolled_ms, client) "
      "VALUES(?,?,?,?,?,?,?,?)",
      &ins));
  ins.Bind(1, d.id);
  ins.Bind(2, Sha256Hex(request.secret));
  ins.Bind(3, d.name);
  ins.Bind(4, d.user);
  ins.Bind(5, d.org);
  ins.Bind(6, d.role);
  ins.Bind(7, now_ms);
  ins.Bind(8, d.client);
  BB_RETURN_IF_ERROR(ins.Run());
  BB_RETURN_IF_ERROR(InsertAudit(&db_, {0,
                                        now_ms,
                                        d.user,
                                        d.role,
                                        d.org,
                                        d.id,
                                        "enrol",
                                        {{"device_name", d.name}, {"client", d.client}}}));
  BB_RETURN_IF_ERROR(txn.Commit());
  *device = d;
  return Status::OK();
}

Status SqliteCentralStore::LoadDevice(const std::string& device_id, DeviceInfo* d,
                                      std::string* secret_hash, bool* found) {
  SqliteStmt* st;
  BB_RETURN_IF_ERROR(db_.Cached(
      "SELECT id, name, user, org, role, enrolled_ms, last_sync_ms, pending_at_last_sync, revoked, "
      "secret_hash, client FROM devices WHERE id = ?",
      &st));
  st->Bind(1, device_id);
  auto r = st->Step();
  if (r == SqliteStmt::kError) return st->LastError();
  *found = r == SqliteStmt::kRow;
  if (!*found) return Status::OK();
  d->id = st->ColumnText(0);
  d->name = st->ColumnText(1);
  d->user = st->ColumnText(2);
  d->org = st->ColumnText(3);
  d->role = st->ColumnText(4);
  d->enrolled_ms = st->ColumnInt(5);
  d->last_sync_ms = st->ColumnInt(6);
  d->pending_at_last_sync = st->ColumnInt(7);
  d->revoked = st->ColumnInt(8) != 0;
  *secret_hash = st->ColumnText(9);
  d->client = st->ColumnText(10);
  st->Reset();
  return Status::OK();
}

Status SqliteCentralStore::Authenticate(const std::string& device_id, const std::string& secret,
                                        DeviceInfo* device) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string hash;
  bool found = false;
  BB_RETURN_IF_ERROR(LoadDevice(device_id, device, &hash, &found));
  std::string given = Sha256Hex(secret);  // hashed either way: timing tells no device ids apart
  if (!found) return Status::Unauthenticated("the device credential is not valid");
  if (ConstantTimeEquals(hash, given)) return Status::OK();
  // The first use of a rotated secret retires the old one.
  SqliteStmt* next;
  BB_RETURN_IF_ERROR(db_.Cached("SELECT next_secret_hash FROM devices WHERE id = ?", &next));
  next->Bind(1, device_id);
  SqliteStmt::StepResult row = next->Step();
  if (row == SqliteStmt::kError) return next->LastError();
  std::string pending = row == SqliteStmt::kRow ? next->ColumnText(0) : "";
  next->Reset();
  if (pending.empty() || !ConstantTimeEquals(pending, given)) {
    return Status::Unauthenticated("the device credential is not valid");
  }
  SqliteStmt* promote;
  BB_RETURN_IF_ERROR(db_.Cached(
      "UPDATE devices SET secret_hash = next_secret_hash, next_secret_hash = '' WHERE id = ?",
      &promote));
  promote->Bind(1, device_id);
  return promote->Run();
}

Status SqliteCentralStore::SubjectSecret(std::string* secret) {
  std::lock_guard<std::mutex> lock(mu_);
  // INSERT OR IGNORE: whoever comes first makes it; everyone reads the same one.
  SqliteStmt* make;
  BB_RETURN_IF_ERROR(
      db_.Cached("INSERT OR IGNORE INTO meta(key, value) VALUES('subject_secret', ?)", &make));
  make->Bind(1, RandomSecret(32));
  BB_RETURN_IF_ERROR(make->Run());
  SqliteStmt* read;
  BB_RETURN_IF_ERROR(db_.Cached("SELECT value FROM meta WHERE key = 'subject_secret'", &read));
  if (read->Step() != SqliteStmt::kRow) return read->LastError();
  *secret = read->ColumnText(0);
  read->Reset();
  return Status::OK();
}

Status SqliteCentralStore::StartRotation(const std::string& device_id,
                                         const std::string& new_secret, std::int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  SqliteStmt* st;
  BB_RETURN_IF_ERROR(
      db_.Cached("UPDATE devices SET next_secret_hash = ?, rotated_ms = ? WHERE id = ?", &st));
  st->Bind(1, Sha256Hex(new_secret));
  st->Bind(2, now_ms);
  st->Bind(3, device_id);
  return st->Run();
}

Status SqliteCentralStore::RevokeDevice(const std::string& device_id, DeviceInfo* device,
                                        const AuditEvent* audit) {
  std::lock_guard<std::mutex> lock(mu_);
  SqliteTransaction txn(&db_);
  BB_RETURN_IF_ERROR(txn.Begin());
  std::string hash;
  bool found = false;
  BB_RETURN_IF_ERROR(LoadDevice(device_id, device, &hash, &found));
  if (!found) return Status::NotFound("no device '" + device_id + "' is enrolled");
  SqliteStmt* st;
  BB_RETURN_IF_ERROR(db_.Cached("UPDATE devices SET revoked = 1 WHERE id = ?", &st));
  st->Bind(1, device_id);
  BB_RETURN_IF_ERROR(st->Run());
  if (audit != nullptr) {
    AuditEvent e = *audit;
    e.detail = {{"device", device->id}, {"user", device->user}, {"org", device->org}};
    BB_RETURN_IF_ERROR(InsertAudit(&db_, e));
  }
  BB_RETURN_IF_ERROR(txn.Commit());
  device->revoked = true;
  return Status::OK();
}

Status SqliteCentralStore::PurgeRecords(const std::vector<std::string>& ids,
                                        std::int64_t batch_replies_before_ms,
                                        const AuditEvent& audit) {
  std::lock_guard<std::mutex> lock(mu_);
  BB_RETURN_IF_ERROR(db_.Exec("PRAGMA secure_delete = ON"));
  Status s = [&] {
    SqliteTransaction txn(&db_);
    BB_RETURN_IF_ERROR(txn.Begin());
    Txn t(&db_);
    BB_RETURN_IF_ERROR(t.Begin());
    for (const auto& id : ids) {
      RecordState stored;
      bool found = false;
      BB_RETURN_IF_ERROR(t.LoadRecord(id, &stored, &found));
      if (!found || stored.purged) continue;
      BB_RETURN_IF_ERROR(t.SaveRecord(PurgedTombstone(stored)));
      for (const char* sql : {"DELETE FROM conflicts WHERE record_id = ?",
                              "DELETE FROM rejections WHERE record_id = ?"}) {
        SqliteStmt* st;
        BB_RETURN_IF_ERROR(db_.Cached(sql, &st));
        st->Bind(1, id);
        BB_RETURN_IF_ERROR(st->Run());
      }
    }
    SqliteStmt* old;
    BB_RETURN_IF_ERROR(db_.Cached("DELETE FROM batches WHERE at_ms < ?", &old));
    old->Bind(1, batch_replies_before_ms);
    BB_RETURN_IF_ERROR(old->Run());
    BB_RETURN_IF_ERROR(InsertAudit(&db_, audit));
    return txn.Commit();
  }();
  db_.Exec("PRAGMA secure_delete = OFF").ok();
  if (!s.ok()) return s;
  // Old versions of the purged pages may still be in the WAL: copy back and empty it.
  Status emptied = db_.CheckpointTruncate();
  if (!emptied.ok()) {
    return Status::Unavailable("the records are purged, but " + emptied.message() +
                               "; run purge again when the server is idle to empty it");
  }
  return Status::OK();
}

Status SqliteCentralStore::Audit(const AuditEvent& event) {
  std::lock_guard<std::mutex> lock(mu_);
  return InsertAudit(&db_, event);
}

Status SqliteCentralStore::ReadAudit(const AuditQuery& q, std::vector<AuditEvent>* out) {
  std::lock_guard<std::mutex> lock(mu_);
  SqliteStmt st;
  BB_RETURN_IF_ERROR(db_.Prepare(
      "SELECT seq, at_ms, actor, role, org, device, action, detail FROM ("
      "  SELECT * FROM audit WHERE at_ms >= ?1 AND (?2 = '' OR actor = ?2) "
      "  AND (?3 = '' OR device = ?3) AND (?4 = '' OR action = ?4) ORDER BY seq DESC LIMIT ?5"
      ") ORDER BY seq",
      &st));
  st.Bind(1, q.since_ms);
  st.Bind(2, q.actor);
  st.Bind(3, q.device_id);
  st.Bind(4, q.action);
  st.Bind(5, static_cast<std::int64_t>(q.limit));
  SqliteStmt::StepResult r;
  while ((r = st.Step()) == SqliteStmt::kRow) {
    AuditEvent e;
    e.seq = st.ColumnInt(0);
    e.at_ms = st.ColumnInt(1);
    e.actor = st.ColumnText(2);
    e.role = st.ColumnText(3);
    e.org = st.ColumnText(4);
    e.device_id = st.ColumnText(5);
    e.action = st.ColumnText(6);
    e.detail = json::parse(st.ColumnText(7), nullptr, /*allow_exceptions=*/false);
    out->push_back(std::move(e));
  }
  return r == SqliteStmt::kDone ? Status::OK() : st.LastError();
}

Status SqliteCentralStore::ListDevices(std::vector<DeviceInfo>* out) {
  std::lock_guard<std::mutex> lock(mu_);
  SqliteStmt st;
  BB_RETURN_IF_ERROR(db_.Prepare("SELECT id FROM devices ORDER BY enrolled_ms, id", &st));
  std::vector<std::string> ids;
  BB_RETURN_IF_ERROR(st.ForEachRow([&] {
    ids.push_back(st.ColumnText(0));
    return Status::OK();
  }));
  for (const auto& id : ids) {
    DeviceInfo d;
    std::string hash;
    bool found;
    BB_RETURN_IF_ERROR(LoadDevice(id, &d, &hash, &found));
    out->push_back(d);
  }
  return Status::OK();
}

Status SqliteCentralStore::FindBatch(const std::string& device_id, const std::string& batch_id,
                                     std::string* response, bool* found) {
  std::lock_guard<std::mutex> lock(mu_);
  SqliteStmt* st;
  BB_RETURN_IF_ERROR(
      db_.Cached("SELECT response FROM batches WHERE device = ? AND batch_id = ?", &st));
  st->Bind(1, device_id);
  st->Bind(2, batch_id);
  auto r = st->Step();
  if (r == SqliteStmt::kError) return st->LastError();
  *found = r == SqliteStmt::kRow;
  if (*found) *response = st->ColumnText(0);
  st->Reset();
  return Status::OK();
}

Status SqliteCentralStore::Write(const std::function<Status(WriteTxn&)>& fn) {
  std::lock_guard<std::mutex> lock(mu_);
  SqliteTransaction txn(&db_);
  BB_RETURN_IF_ERROR(txn.Begin());
  Txn t(&db_);
  BB_RETURN_IF_ERROR(t.Begin());
  BB_RETURN_IF_ERROR(fn(t));
  BB_RETURN_IF_ERROR(t.FlushTotals());
  return txn.Commit();
}

Status SqliteCentralStore::ReadChanges(const std::string& cursor, const PullScope& scope,
                                       std::size_t limit, ChangePage* out) {
  std::int64_t after = 0;
  BB_RETURN_IF_ERROR(ParseCursor(cursor, &after));
  std::lock_guard<std::mutex> lock(mu_);
  SqliteStmt* st;
  BB_RETURN_IF_ERROR(
      db_.Cached("SELECT seq, state FROM records WHERE seq > ?1 AND (?2 = '' OR org = ?2 OR "
                 "(org = ?4 AND form = ?5)) ORDER BY seq LIMIT ?3",
                 &st));
  st->Bind(1, after);
  st->Bind(2, scope.org);
  st->Bind(3, static_cast<std::int64_t>(limit + 1));  // one extra tells whether there is more
  st->Bind(4, scope.shared_org);
  st->Bind(5, scope.shared_form);
  out->states.clear();
  out->more = false;
  std::int64_t last = after;
  SqliteStmt::StepResult r;
  while ((r = st->Step()) == SqliteStmt::kRow) {
    if (out->states.size() == limit) {
      out->more = true;
      break;
    }
    last = st->ColumnInt(0);
    out->states.push_back(st->ColumnText(1));
  }
  if (r == SqliteStmt::kError) return st->LastError();
  st->Reset();
  out->cursor = std::to_string(last);
  return Status::OK();
}

Status SqliteCentralStore::NotePull(const std::string& device_id, std::int64_t at_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  SqliteStmt* st;
  BB_RETURN_IF_ERROR(db_.Cached("UPDATE devices SET last_sync_ms = ? WHERE id = ?", &st));
  st->Bind(1, at_ms);
  st->Bind(2, device_id);
  return st->Run();
}

Status SqliteCentralStore::ReadOrgFigures(int fy, const std::string& org,
                                          std::vector<RawFigure>* out) {
  std::lock_guard<std::mutex> lock(mu_);
  // Computed from the contributions of the org's records, the way the totals are kept
  // (store/ledger.h): sums per quarter; distinct keys per quarter and for the year (quarter
  // 0); a milestone's latest status.
  SqliteStmt st;
  BB_RETURN_IF_ERROR(db_.Prepare(
      "SELECT c.indicator, c.quarter, sum(c.value), sum(c.n), count(*) FROM contributions c "
      "JOIN records r ON r.id = c.record_id WHERE c.fy = ?1 AND r.org = ?2 AND c.key = '' "
      "GROUP BY c.indicator, c.quarter "
      "UNION ALL "
      "SELECT indicator, quarter, count(*), sum(refs >= 2), 0 FROM (SELECT c.indicator, "
      "c.quarter, c.key, count(*) AS refs FROM contributions c JOIN records r ON r.id = "
      "c.record_id WHERE c.fy = ?1 AND r.org = ?2 AND c.key <> '' GROUP BY c.indicator, "
      "c.quarter, c.key) GROUP BY indicator, quarter "
      "UNION ALL "
      "SELECT indicator, 0, count(*), sum(refs >= 2), 0 FROM (SELECT c.indicator, c.key, "
      "count(*) AS refs FROM contributions c JOIN records r ON r.id = c.record_id WHERE "
      "c.fy = ?1 AND r.org = ?2 AND c.key <> '' GROUP BY c.indicator, c.key) GROUP BY indicator",
      &st));
  st.Bind(1, std::int64_t{fy});
  st.Bind(2, org);
  SqliteStmt::StepResult r;
  while ((r = st.Step()) == SqliteStmt::kRow) {
    RawFigure f;
    f.indicator = st.ColumnText(0);
    f.fy = fy;
    f.quarter = static_cast<int>(st.ColumnInt(1));
    f.value = st.ColumnDouble(2);
    f.n = st.ColumnDouble(3);
    f.records = st.ColumnInt(4);
    out->push_back(std::move(f));
  }
  if (r != SqliteStmt::kDone) return st.LastError();
  SqliteStmt ms;
  BB_RETURN_IF_ERROR(db_.Prepare(
      "SELECT c.indicator, c.quarter, c.status FROM contributions c JOIN records r "
      "ON r.id = c.record_id WHERE c.fy = ? AND r.org = ? AND c.status <> '' ORDER BY c.stamp",
      &ms));
  ms.Bind(1, std::int64_t{fy});
  ms.Bind(2, org);
  LatestMilestones latest;
  while ((r = ms.Step()) == SqliteStmt::kRow) {
    latest.Add(ms.ColumnText(0), static_cast<int>(ms.ColumnInt(1)), ms.ColumnText(2));
  }
  if (r != SqliteStmt::kDone) return ms.LastError();
  latest.AppendTo(fy, out);
  return Status::OK();
}

Status SqliteCentralStore::ReadFigures(int fy, std::vector<RawFigure>* out) {
  std::lock_guard<std::mutex> lock(mu_);
  SqliteStmt* st;
  BB_RETURN_IF_ERROR(
      db_.Cached("SELECT indicator, quarter, value, n, records FROM totals WHERE fy = ?", &st));
  st->Bind(1, std::int64_t{fy});
  BB_RETURN_IF_ERROR(st->ForEachRow([&] {
    RawFigure f;
    f.indicator = st->ColumnText(0);
    f.fy = fy;
    f.quarter = static_cast<int>(st->ColumnInt(1));
    f.value = st->ColumnDouble(2);
    f.n = st->ColumnDouble(3);
    f.records = st->ColumnInt(4);
    out->push_back(std::move(f));
    return Status::OK();
  }));
  // Milestones: the most recent status written for each quarter.
  SqliteStmt* ms;
  BB_RETURN_IF_ERROR(db_.Cached(
      "SELECT indicator, quarter, status FROM contributions WHERE fy = ? AND status <> '' "
      "ORDER BY stamp",
      &ms));
  ms->Bind(1, std::int64_t{fy});
  LatestMilestones latest;
  BB_RETURN_IF_ERROR(ms->ForEachRow([&] {
    latest.Add(ms->ColumnText(0), static_cast<int>(ms->ColumnInt(1)), ms->ColumnText(2));
    return Status::OK();
  }));
  latest.AppendTo(fy, out);
  return Status::OK();
}

Status SqliteCentralStore::ExplainFigure(const std::string& indicator, int fy, int quarter,
                                         std::vector<FigureSource>* out) {
  std::lock_guard<std::mutex> lock(mu_);
  SqliteStmt st;
  BB_RETURN_IF_ERROR(db_.Prepare(
      "SELECT c.record_id, r.org, r.author, c.value, c.status, c.at_ms, c.quarter, "
      "r.occurred_at FROM "
      "contributions c JOIN records r ON r.id = c.record_id "
      "WHERE c.indicator = ? AND c.fy = ? AND (? = 0 OR c.quarter = ?) ORDER BY c.at_ms, "
      "c.record_id",
      &st));
  st.Bind(1, indicator);
  st.Bind(2, std::int64_t{fy});
  st.Bind(3, std::int64_t{quarter});
  st.Bind(4, std::int64_t{quarter});
  SqliteStmt::StepResult r;
  while ((r = st.Step()) == SqliteStmt::kRow) {
    out->push_back({st.ColumnText(0), st.ColumnText(1), st.ColumnText(2), st.ColumnDouble(3),
                    st.ColumnText(4), st.ColumnInt(5), static_cast<int>(st.ColumnInt(6)),
                    st.ColumnText(7)});
  }
  if (r != SqliteStmt::kDone) return st.LastError();
  return Status::OK();
}

Status SqliteCentralStore::AddApproval(const Approval& a, const AuditEvent& audit) {
  std::lock_guard<std::mutex> lock(mu_);
  SqliteTransaction txn(&db_);
  BB_RETURN_IF_ERROR(txn.Begin());
  SqliteStmt st;
  BB_RETURN_IF_ERROR(db_.Prepare(
      "INSERT INTO approvals(fy, quarter, kind, user, at_ms, catalogue_version, report) "
      "VALUES(?,?,?,?,?,?,?)",
      &st));
  st.Bind(1, std::int64_t{a.fy});
  st.Bind(2, std::int64_t{a.quarter});
  st.Bind(3, a.kind);
  st.Bind(4, a.user);
  st.Bind(5, a.at_ms);
  st.Bind(6, std::int64_t{a.catalogue_version});
  st.Bind(7, a.report.dump());
  BB_RETURN_IF_ERROR(st.Run());
  BB_RETURN_IF_ERROR(InsertAudit(&db_, audit));
  return txn.Commit();
}

Status SqliteCentralStore::Approvals(int fy, std::vector<Approval>* out) {
  std::lock_guard<std::mutex> lock(mu_);
  SqliteStmt st;
  BB_RETURN_IF_ERROR(db_.Prepare(
      "SELECT quarter, kind, user, at_ms, catalogue_version, report FROM approvals WHERE fy = ? "
      "ORDER BY id",
      &st));
  st.Bind(1, std::int64_t{fy});
  return st.ForEachRow([&] {
    Approval a;
    a.fy = fy;
    a.quarter = static_cast<int>(st.ColumnInt(0));
    a.kind = st.ColumnText(1);
    a.user = st.ColumnText(2);
    a.at_ms = st.ColumnInt(3);
    a.catalogue_version = static_cast<int>(st.ColumnInt(4));
    a.report = json::parse(st.ColumnText(5), nullptr, /*allow_exceptions=*/false);
    if (a.report.is_discarded()) return Status::Corruption("an approved return is unreadable");
    out->push_back(std::move(a));
    return Status::OK();
  });
}

Status SqliteCentralStore::ContributionsVersion(int* version) {
  std::lock_guard<std::mutex> lock(mu_);
  SqliteStmt st;
  BB_RETURN_IF_ERROR(db_.Prepare("SELECT value FROM meta WHERE key = 'catalogue_version'", &st));
  *version = 0;
  return st.ForEachRow([&] {
    std::int64_t v = 0;
    BB_RETURN_IF_ERROR(StoredInt(st.ColumnText(0), "catalogue version", &v));
    *version = static_cast<int>(v);
    return Status::OK();
  });
}

Status SqliteCentralStore::RebuildContributions(
    int version, const std::function<std::vector<Contribution>(const RecordState&)>& fn) {
  std::lock_guard<std::mutex> lock(mu_);
  SqliteTransaction txn(&db_);
  BB_RETURN_IF_ERROR(txn.Begin());
  // A purged record's content is gone: it keeps what it contributed when it was counted.
  std::map<std::string, std::pair<std::vector<Contribution>, HlcStamp>> kept;
  {
    SqliteStmt c;
    BB_RETURN_IF_ERROR(db_.Prepare(
        "SELECT c.record_id, c.indicator, c.fy, c.quarter, c.value, c.n, c.key, c.status, c.stamp "
        "FROM contributions c JOIN records r ON r.id = c.record_id WHERE r.deleted = 1",
        &c));
    BB_RETURN_IF_ERROR(c.ForEachRow([&] {
      auto& [list, stamp] = kept[c.ColumnText(0)];
      list.push_back({c.ColumnText(1), static_cast<int>(c.ColumnInt(2)),
                      static_cast<int>(c.ColumnInt(3)), c.ColumnDouble(4), c.ColumnDouble(5),
                      c.ColumnText(6), c.ColumnText(7)});
      stamp = std::max(stamp, static_cast<HlcStamp>(c.ColumnInt(8)));
      return Status::OK();
    }));
  }
  BB_RETURN_IF_ERROR(
      db_.Exec("DELETE FROM contributions; DELETE FROM totals; DELETE FROM distinct_keys;"));
  SqliteStmt st;
  BB_RETURN_IF_ERROR(db_.Prepare("SELECT state FROM records", &st));
  SqliteLedgerStatements statements(&db_);
  BufferedLedger ledger(&statements);
  std::int64_t now = SystemClock::Default()->NowMs();
  // An error mid-scan (a read failing) rolls the whole rebuild back: a partial recount is
  // never committed.
  BB_RETURN_IF_ERROR(st.ForEachRow([&] {
    RecordState s;
    BB_RETURN_IF_ERROR(ParseStoredState(st.ColumnText(0), &s));
    if (s.purged) {
      auto it = kept.find(s.id);
      if (it == kept.end()) return Status::OK();
      return ledger.Set(s.id, it->second.first, it->second.second, now);
    }
    return ledger.Set(s.id, fn(s), s.MaxStamp(), now);
  }));
  BB_RETURN_IF_ERROR(ledger.Flush());
  SqliteStmt meta;
  BB_RETURN_IF_ERROR(
      db_.Prepare("INSERT OR REPLACE INTO meta(key, value) VALUES('catalogue_version', ?)", &meta));
  meta.Bind(1, std::to_string(version));
  BB_RETURN_IF_ERROR(meta.Run());
  return txn.Commit();
}

Status SqliteCentralStore::AllRecords(std::vector<RecordState>* out) {
  std::lock_guard<std::mutex> lock(mu_);
  SqliteStmt st;
  BB_RETURN_IF_ERROR(db_.Prepare("SELECT state FROM records ORDER BY id", &st));
  SqliteStmt::StepResult r;
  while ((r = st.Step()) == SqliteStmt::kRow) {
    RecordState s;
    BB_RETURN_IF_ERROR(ParseStoredState(st.ColumnText(0), &s));
    out->push_back(std::move(s));
  }
  return r == SqliteStmt::kDone ? Status::OK() : st.LastError();
}

Status SqliteCentralStore::Conflicts(std::vector<StoredConflict>* out) {
  std::lock_guard<std::mutex> lock(mu_);
  SqliteStmt st;
  BB_RETURN_IF_ERROR(
      db_.Prepare("SELECT record_id, field, winner, loser, at_ms FROM conflicts ORDER BY id", &st));
  return st.ForEachRow([&] {
    StoredConflict c;
    c.conflict.record_id = st.ColumnText(0);
    c.conflict.field = st.ColumnText(1);
    BB_RETURN_IF_ERROR(StoredRegisterFrom(st.ColumnText(2), &c.conflict.winner));
    BB_RETURN_IF_ERROR(StoredRegisterFrom(st.ColumnText(3), &c.conflict.loser));
    c.at_ms = st.ColumnInt(4);
    out->push_back(std::move(c));
    return Status::OK();
  });
}

Status SqliteCentralStore::Rejections(std::vector<StoredRejection>* out) {
  std::lock_guard<std::mutex> lock(mu_);
  SqliteStmt st;
  BB_RETURN_IF_ERROR(db_.Prepare(
      "SELECT device, change_id, record_id, reason, at_ms FROM rejections ORDER BY at_ms", &st));
  return st.ForEachRow([&] {
    out->push_back(
        {st.ColumnText(0), st.ColumnText(1), st.ColumnText(2), st.ColumnText(3), st.ColumnInt(4)});
    return Status::OK();
  });
}

Status SqliteCentralStore::CheckIntegrity() {
  std::lock_guard<std::mutex> lock(mu_);
  SqliteStmt st;
  BB_RETURN_IF_ERROR(db_.Prepare("PRAGMA integrity_check", &st));
  if (st.Step() != SqliteStmt::kRow) return st.LastError();
  std::string result = st.ColumnText(0);
  if (result != "ok") return Status::Corruption("integrity check of " + dir_ + ": " + result);
  return Status::OK();
}

}  // namespace beatbook::server
