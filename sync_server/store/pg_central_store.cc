#include "store/pg_central_store.h"

#include <map>
#include <set>
#include <tuple>

#include "beatbook/clock.h"
#include "beatbook/crypto.h"
#include "beatbook/record_rows.h"
#include "store/ledger.h"
#include "store/store_common.h"

namespace beatbook::server {

using nlohmann::json;

namespace {

// Advisory lock keys (any 64-bit numbers, the same in every instance).
constexpr std::int64_t kMigrationLock = 0x6265617462001;  // "beatb" + 1
constexpr std::int64_t kSequenceLock = 0x6265617462002;

// The same tables as the SQLite store's (sqlite_central_store.cc), in PostgreSQL's dialect.
// "user" is a reserved word here: those columns are user_name.
const std::vector<std::string>& PgMigrations() {
  static const std::vector<std::string> kMigrations = {
      R"sql(
        CREATE SEQUENCE record_seq;
        CREATE TABLE records(
          id TEXT PRIMARY KEY,
          form TEXT NOT NULL,
          form_version INTEGER NOT NULL,
          org TEXT NOT NULL,
          author TEXT NOT NULL,
          device TEXT NOT NULL,
          occurred_at TEXT NOT NULL,
          deleted INTEGER NOT NULL,
          seq BIGINT UNIQUE,  -- NULL only inside the transaction that saved it (see the header)
          state TEXT NOT NULL);
        CREATE INDEX records_by_org_seq ON records(org, seq);
        CREATE TABLE tokens(
          hash TEXT PRIMARY KEY,
          user_name TEXT NOT NULL, org TEXT NOT NULL, role TEXT NOT NULL,
          created_ms BIGINT NOT NULL, expires_ms BIGINT NOT NULL,
          used_ms BIGINT, used_by TEXT);
        CREATE TABLE devices(
          id TEXT PRIMARY KEY,
          secret_hash TEXT NOT NULL,
          name TEXT NOT NULL,
          user_name TEXT NOT NULL, org TEXT NOT NULL, role TEXT NOT NULL,
          enrolled_ms BIGINT NOT NULL,
          last_sync_ms BIGINT NOT NULL DEFAULT 0,
          pending_at_last_sync BIGINT NOT NULL DEFAULT 0,
          revoked INTEGER NOT NULL DEFAULT 0,
          next_secret_hash TEXT NOT NULL DEFAULT '',
          rotated_ms BIGINT NOT NULL DEFAULT 0,
          client TEXT NOT NULL DEFAULT 'tablet');
        CREATE TABLE batches(
          device TEXT NOT NULL, batch_id TEXT NOT NULL, response TEXT NOT NULL,
          at_ms BIGINT NOT NULL, PRIMARY KEY(device, batch_id));
        CREATE TABLE conflicts(
          id BIGSERIAL PRIMARY KEY,
          record_id TEXT NOT NULL, field TEXT NOT NULL,
          winner TEXT NOT NULL, loser TEXT NOT NULL,
          loser_t BIGINT NOT NULL, loser_d TEXT NOT NULL,
          at_ms BIGINT NOT NULL,
          UNIQUE(record_id, field, loser_t, loser_d));
        CREATE TABLE rejections(
          device TEXT NOT NULL, change_id TEXT NOT NULL, record_id TEXT NOT NULL,
          reason TEXT NOT NULL, at_ms BIGINT NOT NULL,
          PRIMARY KEY(device, change_id));
        CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE contributions(
          record_id TEXT NOT NULL, indicator TEXT NOT NULL,
          fy INTEGER NOT NULL, quarter INTEGER NOT NULL,
          value DOUBLE PRECISION NOT NULL, n DOUBLE PRECISION NOT NULL, key TEXT NOT NULL,
          status TEXT NOT NULL, stamp BIGINT NOT NULL, at_ms BIGINT NOT NULL,
          PRIMARY KEY(record_id, indicator));
        CREATE INDEX contributions_by_period ON contributions(indicator, fy, quarter);
        CREATE INDEX contributions_milestones ON contributions(fy, stamp) WHERE status <> '';
        CREATE TABLE totals(
          indicator TEXT NOT NULL, fy INTEGER NOT NULL, quarter INTEGER NOT NULL,
          value DOUBLE PRECISION NOT NULL DEFAULT 0, n DOUBLE PRECISION NOT NULL DEFAULT 0,
          records BIGINT NOT NULL DEFAULT 0,
          PRIMARY KEY(indicator, fy, quarter));
        CREATE TABLE distinct_keys(
          indicator TEXT NOT NULL, fy INTEGER NOT NULL, quarter INTEGER NOT NULL,
          key TEXT NOT NULL, refs BIGINT NOT NULL,
          PRIMARY KEY(indicator, fy, quarter, key));
        CREATE TABLE approvals(
          id BIGSERIAL PRIMARY KEY, fy INTEGER NOT NULL, quarter INTEGER NOT NULL,
          kind TEXT NOT NULL, user_name TEXT NOT NULL, at_ms BIGINT NOT NULL,
          catalogue_version INTEGER NOT NULL, report TEXT NOT NULL);
        CREATE TABLE audit(
          seq BIGSERIAL PRIMARY KEY,
          at_ms BIGINT NOT NULL,
          actor TEXT NOT NULL, role TEXT NOT NULL, org TEXT NOT NULL, device TEXT NOT NULL,
          action TEXT NOT NULL, detail TEXT NOT NULL);
        CREATE INDEX audit_by_time ON audit(at_ms);
        CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$;
        CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON audit
          FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
        CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
          FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
      )sql",
  };
  return kMigrations;
}

Status InsertAudit(PgDb* db, const AuditEvent& e) {
  return db->Exec(
      "INSERT INTO audit(at_ms, actor, role, org, device, action, detail) "
      "VALUES($1, $2, $3, $4, $5, $6, $7)",
      {PgInt(e.at_ms), e.actor, e.role, e.org, e.device_id, e.action, e.detail.dump()});
}

// A text[] literal for ANY($1::text[]): every element quoted, '"' and '\' escaped.
std::string TextArray(const std::vector<std::string>& items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    out += i ? ",\"" : "\"";
    for (char c : items[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

}  // namespace

// Used by PgCentralStore::Txn (so not in an anonymous namespace).
// The ledger's statements on PostgreSQL (store/ledger.h keeps the arithmetic).
class PgLedgerStatements final : public LedgerStatements {
 public:
  explicit PgLedgerStatements(PgDb* db) : db_(db) {}

  Status TakeContributions(const std::string& record_id, std::vector<Contribution>* old) override {
    PgResult r;
    BB_RETURN_IF_ERROR(
        db_->Exec("DELETE FROM contributions WHERE record_id = $1 "
                  "RETURNING indicator, fy, quarter, value, n, key",
                  {record_id}, &r));
    for (int i = 0; i < r.rows(); ++i) {
      Contribution c;
      c.indicator = r.Text(i, 0);
      c.fy = static_cast<int>(r.Int(i, 1));
      c.quarter = static_cast<int>(r.Int(i, 2));
      c.value = r.Double(i, 3);
      c.n = r.Double(i, 4);
      c.key = r.Text(i, 5);
      old->push_back(std::move(c));
    }
    return Status::OK();
  }

  Status InsertContribution(const std::string& record_id, const Contribution& c, HlcStamp stamp,
                            std::int64_t at_ms) override {
    return db_->Exec(
        "INSERT INTO contributions(record_id, indicator, fy, quarter, value, n, key, status, "
        "stamp, at_ms) VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)",
        {record_id, c.indicator, PgInt(c.fy), PgInt(c.quarter), PgDouble(c.value), PgDouble(c.n),
         c.key, c.status, PgInt(stamp), PgInt(at_ms)});
  }

  Status AddKeyRefs(const std::string& ind, int fy, int q, const std::string& key,
                    std::int64_t delta, std::int64_t* after) override {
    PgResult r;
    BB_RETURN_IF_ERROR(db_->Exec(
        "INSERT INTO distinct_keys(indicator, fy, quarter, key, refs) VALUES($1,$2,$3,$4,$5) "
        "ON CONFLICT(indicator, fy, quarter, key) DO UPDATE SET refs = distinct_keys.refs + $5 "
        "RETURNING refs",
        {ind, PgInt(fy), PgInt(q), key, PgInt(delta)}, &r));
    *after = r.Int(0, 0);
    if (*after > 0) return Status::OK();
    return db_->Exec(
        "DELETE FROM distinct_keys WHERE indicator = $1 AND fy = $2 AND quarter = $3 AND key = $4",
        {ind, PgInt(fy), PgInt(q), key});
  }

  Status AddTotals(const std::string& ind, int fy, int q, double value, double n,
                   std::int64_t records) override {
    return db_->Exec(
        "INSERT INTO totals(indicator, fy, quarter, value, n, records) "
        "VALUES($1,$2,$3,$4,$5,$6) ON CONFLICT(indicator, fy, quarter) DO UPDATE SET "
        "value = totals.value + $4, n = totals.n + $5, records = totals.records + $6",
        {ind, PgInt(fy), PgInt(q), PgDouble(value), PgDouble(n), PgInt(records)});
  }

 private:
  PgDb* db_;
};

class PgCentralStore::Txn final : public WriteTxn {
 public:
  explicit Txn(PgDb* db) : db_(db), statements_(db), ledger_(&statements_) {}

  Status LoadRecord(const std::string& id, RecordState* out, bool* found) override {
    // FOR UPDATE: two instances merging into the same record take turns.
    PgResult r;
    BB_RETURN_IF_ERROR(db_->Exec("SELECT state FROM records WHERE id = $1 FOR UPDATE", {id}, &r));
    if (r.rows() == 0) {
      // No row to lock yet: two instances creating the same id (a partner return's natural key)
      // take turns on a lock named by the id, and the second then finds the first's record.
      BB_RETURN_IF_ERROR(db_->Exec("SELECT pg_advisory_xact_lock(hashtext($1))", {id}));
      BB_RETURN_IF_ERROR(db_->Exec("SELECT state FROM records WHERE id = $1 FOR UPDATE", {id}, &r));
    }
    *found = r.rows() == 1;
    return *found ? ParseStoredState(r.Text(0, 0), out) : Status::OK();
  }

  Status SaveRecord(const RecordState& s) override {
    BB_RETURN_IF_ERROR(db_->Exec(
        "INSERT INTO records(id, form, form_version, org, author, device, occurred_at, deleted, "
        "seq, state) VALUES($1,$2,$3,$4,$5,$6,$7,$8,NULL,$9) "
        "ON CONFLICT(id) DO UPDATE SET form = $2, form_version = $3, org = $4, author = $5, "
        "device = $6, occurred_at = $7, deleted = $8, seq = NULL, state = $9",
        {s.id, s.form, PgInt(s.form_version), s.org, s.author, s.device, s.OccurredAt(),
         PgInt(s.IsDeleted() ? 1 : 0), s.ToJson().dump()}));
    if (saved_set_.insert(s.id).second) saved_.push_back(s.id);
    return Status::OK();
  }

  Status AddConflict(const Conflict& c, std::int64_t at_ms) override {
    return db_->Exec(
        "INSERT INTO conflicts(record_id, field, winner, loser, loser_t, loser_d, at_ms) "
        "VALUES($1,$2,$3,$4,$5,$6,$7) ON CONFLICT DO NOTHING",
        {c.record_id, c.field, StoredRegisterJson(c.winner).dump(),
         StoredRegisterJson(c.loser).dump(), PgInt(c.loser.t), c.loser.d, PgInt(at_ms)});
  }

  Status AddRejection(const StoredRejection& r) override {
    return db_->Exec(
        "INSERT INTO rejections(device, change_id, record_id, reason, at_ms) "
        "VALUES($1,$2,$3,$4,$5) ON CONFLICT(device, change_id) DO UPDATE SET "
        "record_id = $3, reason = $4, at_ms = $5",
        {r.device_id, r.change_id, r.record_id, r.reason, PgInt(r.at_ms)});
  }

  Status SaveBatch(const std::string& device_id, const std::string& batch_id,
                   const std::string& response, std::int64_t at_ms) override {
    return db_->Exec(
        "INSERT INTO batches(device, batch_id, response, at_ms) VALUES($1,$2,$3,$4) "
        "ON CONFLICT(device, batch_id) DO UPDATE SET response = $3, at_ms = $4",
        {device_id, batch_id, response, PgInt(at_ms)});
  }

  Status NoteSync(const std::string& device_id, std::int64_t at_ms, std::int64_t pending) override {
    return db_->Exec(
        "UPDATE devices SET last_sync_ms = $1, pending_at_last_sync = $2 WHERE id = $3",
        {PgInt(at_ms), PgInt(pending), device_id});
  }

  Status SetContributions(const std::string& record_id,
                          const std::vector<Contribution>& contributions, HlcStamp stamp,
                          std::int64_t at_ms) override {
    return ledger_.Set(record_id, contributions, stamp, at_ms);
  }

  Status Audit(const AuditEvent& event) override { return InsertAudit(db_, event); }

  const std::vector<std::string>& saved() const { return saved_; }
  // The totals' changes, summed: written just before the commit (store/ledger.h).
  Status FlushTotals() { return ledger_.Flush(); }

 private:
  PgDb* db_;
  PgLedgerStatements statements_;
  BufferedLedger ledger_;
  std::vector<std::string> saved_;  // in the order first saved
  std::set<std::string> saved_set_;
};

Status PgCentralStore::Open(const std::string& conninfo, std::unique_ptr<PgCentralStore>* out) {
  std::unique_ptr<PgCentralStore> store(new PgCentralStore);
  BB_RETURN_IF_ERROR(PgDb::Connect(conninfo, &store->db_));
  PgDb& db = store->db_;
  PgTransaction txn(&db);
  BB_RETURN_IF_ERROR(txn.Begin());
  // One instance migrates at a time; the others wait, then find it done.
  BB_RETURN_IF_ERROR(db.Exec("SELECT pg_advisory_xact_lock($1)", {PgInt(kMigrationLock)}));
  BB_RETURN_IF_ERROR(db.ExecScript("CREATE TABLE IF NOT EXISTS beatbook_schema(version INTEGER)"));
  PgResult v;
  BB_RETURN_IF_ERROR(db.Exec("SELECT coalesce(max(version), 0) FROM beatbook_schema", {}, &v));
  int current = static_cast<int>(v.Int(0, 0));
  const auto& migrations = PgMigrations();
  if (current > static_cast<int>(migrations.size())) {
    return Status::FailedPrecondition("the PostgreSQL store has schema version " +
                                      std::to_string(current) + ", newer than this program's " +
                                      std::to_string(migrations.size()) + "; update the program");
  }
  for (int i = current; i < static_cast<int>(migrations.size()); ++i) {
    Status s = db.ExecScript(migrations[static_cast<std::size_t>(i)]);
    if (!s.ok()) {
      return Status::IoError("migrating the PostgreSQL store to version " + std::to_string(i + 1) +
                             " failed: " + s.message());
    }
  }
  BB_RETURN_IF_ERROR(db.ExecScript("DELETE FROM beatbook_schema"));
  BB_RETURN_IF_ERROR(db.Exec("INSERT INTO beatbook_schema(version) VALUES($1)",
                             {PgInt(static_cast<std::int64_t>(migrations.size()))}));
  BB_RETURN_IF_ERROR(txn.Commit());
  *out = std::move(store);
  return Status::OK();
}

Status PgCentralStore::Commit(Txn* txn, PgTransaction* pg) {
  BB_RETURN_IF_ERROR(txn->FlushTotals());
  if (!txn->saved().empty()) {
    // Numbered last, in commit order: see the top of pg_central_store.h.
    BB_RETURN_IF_ERROR(db_.Exec("SELECT pg_advisory_xact_lock($1)", {PgInt(kSequenceLock)}));
    BB_RETURN_IF_ERROR(
        db_.Exec("UPDATE records SET seq = nextval('record_seq') WHERE id = ANY($1::text[])",
                 {TextArray(txn->saved())}));
  }
  return pg->Commit();
}

Status PgCentralStore::CreateToken(const std::string& token, const TokenGrant& grant,
                                   std::int64_t now_ms, const AuditEvent* audit) {
  std::lock_guard<std::mutex> lock(mu_);
  PgTransaction txn(&db_);
  BB_RETURN_IF_ERROR(txn.Begin());
  BB_RETURN_IF_ERROR(
      db_.Exec("INSERT INTO tokens(hash, user_name, org, role, created_ms, expires_ms) "
               "VALUES($1,$2,$3,$4,$5,$6)",
               {Sha256Hex(token), grant.user, grant.org, grant.role, PgInt(now_ms),
                PgInt(grant.expires_ms)}));
  if (audit != nullptr) BB_RETURN_IF_ERROR(InsertAudit(&db_, *audit));
  return txn.Commit();
}

Status PgCentralStore::Enrol(const EnrolRequest& request, std::int64_t now_ms, DeviceInfo* device) {
  std::lock_guard<std::mutex> lock(mu_);
  PgTransaction txn(&db_);
  BB_RETURN_IF_ERROR(txn.Begin());
  std::string hash = Sha256Hex(request.token);
  PgResult t;
  // FOR UPDATE: two instances given the same token at once cannot both use it.
  BB_RETURN_IF_ERROR(db_.Exec(
      "SELECT user_name, org, role, expires_ms, used_ms IS NOT NULL FROM tokens WHERE hash = $1 "
      "FOR UPDATE",
      {hash}, &t));
  if (t.rows() != 1) return Status::Unauthenticated("the enrolment token is not known");
  if (t.Text(0, 4) == "t")
    return Status::Unauthenticated("the enrolment token has already been used");
  if (t.Int(0, 3) <= now_ms) return Status::Unauthenticated("the enrolment token has expired");
  DeviceInfo d;
  d.id = request.device_id;
  d.name = request.device_name;
  d.client = request.client;
  d.user = t.Text(0, 0);
  d.org = t.Text(0, 1);
  d.role = t.Text(0, 2);
  d.enrolled_ms = now_ms;
  BB_RETURN_IF_ERROR(CheckEnrolRole(request, d.role));
  BB_RETURN_IF_ERROR(db_.Exec("UPDATE tokens SET used_ms = $1, used_by = $2 WHERE hash = $3",
                              {PgInt(now_ms), request.device_id, hash}));
  BB_RETURN_IF_ERROR(db_.Exec(
      "INSERT INTO devices(id, secret_hash, name, user_name, org, role, enrolled_ms, client) "
      "VALUES($1,$2,$3,$4,$5,$6,$7,$8)",
      {d.id, Sha256Hex(request.secret), d.name, d.user, d.org, d.role, PgInt(now_ms), d.client}));
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

Status PgCentralStore::LoadDevice(const std::string& device_id, DeviceInfo* d,
                                  std::string* secret_hash, bool* found) {
  PgResult r;
  BB_RETURN_IF_ERROR(db_.Exec(
      "SELECT id, name, user_name, org, role, enrolled_ms, last_sync_ms, pending_at_last_sync, "
      "revoked, secret_hash, client FROM devices WHERE id = $1",
      {device_id}, &r));
  *found = r.rows() == 1;
  if (!*found) return Status::OK();
  d->id = r.Text(0, 0);
  d->name = r.Text(0, 1);
  d->user = r.Text(0, 2);
  d->org = r.Text(0, 3);
  d->role = r.Text(0, 4);
  d->enrolled_ms = r.Int(0, 5);
  d->last_sync_ms = r.Int(0, 6);
  d->pending_at_last_sync = r.Int(0, 7);
  d->revoked = r.Int(0, 8) != 0;
  *secret_hash = r.Text(0, 9);
  d->client = r.Text(0, 10);
  return Status::OK();
}

Status PgCentralStore::Authenticate(const std::string& device_id, const std::string& secret,
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
  PgResult both;
  BB_RETURN_IF_ERROR(db_.Exec("SELECT secret_hash, next_secret_hash FROM devices WHERE id = $1",
                              {device_id}, &both));
  if (both.rows() == 1 && ConstantTimeEquals(both.Text(0, 0), given)) return Status::OK();
  std::string pending = both.rows() == 1 ? both.Text(0, 1) : "";
  if (pending.empty() || !ConstantTimeEquals(pending, given)) {
    return Status::Unauthenticated("the device credential is not valid");
  }
  // The first use of a rotated secret retires the old one (only if it is still the pending one).
  return db_.Exec(
      "UPDATE devices SET secret_hash = next_secret_hash, next_secret_hash = '' "
      "WHERE id = $1 AND next_secret_hash = $2",
      {device_id, pending});
}

Status PgCentralStore::SubjectSecret(std::string* secret) {
  std::lock_guard<std::mutex> lock(mu_);
  BB_RETURN_IF_ERROR(
      db_.Exec("INSERT INTO meta(key, value) VALUES('subject_secret', $1) ON CONFLICT DO NOTHING",
               {RandomSecret(32)}));
  PgResult r;
  BB_RETURN_IF_ERROR(db_.Exec("SELECT value FROM meta WHERE key = 'subject_secret'", {}, &r));
  if (r.rows() != 1) return Status::Corruption("the subject secret is missing");
  *secret = r.Text(0, 0);
  return Status::OK();
}

Status PgCentralStore::StartRotation(const std::string& device_id, const std::string& new_secret,
                                     std::int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  return db_.Exec("UPDATE devices SET next_secret_hash = $1, rotated_ms = $2 WHERE id = $3",
                  {Sha256Hex(new_secret), PgInt(now_ms), device_id});
}

Status PgCentralStore::RevokeDevice(const std::string& device_id, DeviceInfo* device,
                                    const AuditEvent* audit) {
  std::lock_guard<std::mutex> lock(mu_);
  PgTransaction txn(&db_);
  BB_RETURN_IF_ERROR(txn.Begin());
  std::string hash;
  bool found = false;
  BB_RETURN_IF_ERROR(LoadDevice(device_id, device, &hash, &found));
  if (!found) return Status::NotFound("no device '" + device_id + "' is enrolled");
  BB_RETURN_IF_ERROR(db_.Exec("UPDATE devices SET revoked = 1 WHERE id = $1", {device_id}));
  if (audit != nullptr) {
    AuditEvent e = *audit;
    e.detail = {{"device", device->id}, {"user", device->user}, {"org", device->org}};
    BB_RETURN_IF_ERROR(InsertAudit(&db_, e));
  }
  BB_RETURN_IF_ERROR(txn.Commit());
  device->revoked = true;
  return Status::OK();
}

Status PgCentralStore::ListDevices(std::vector<DeviceInfo>* out) {
  std::lock_guard<std::mutex> lock(mu_);
  PgResult r;
  BB_RETURN_IF_ERROR(db_.Exec("SELECT id FROM devices ORDER BY enrolled_ms, id", {}, &r));
  for (int i = 0; i < r.rows(); ++i) {
    DeviceInfo d;
    std::string hash;
    bool found = false;
    BB_RETURN_IF_ERROR(LoadDevice(r.Text(i, 0), &d, &hash, &found));
    if (found) out->push_back(d);
  }
  return Status::OK();
}

Status PgCentralStore::FindBatch(const std::string& device_id, const std::string& batch_id,
                                 std::string* response, bool* found) {
  std::lock_guard<std::mutex> lock(mu_);
  PgResult r;
  BB_RETURN_IF_ERROR(db_.Exec("SELECT response FROM batches WHERE device = $1 AND batch_id = $2",
                              {device_id, batch_id}, &r));
  *found = r.rows() == 1;
  if (*found) *response = r.Text(0, 0);
  return Status::OK();
}

Status PgCentralStore::Write(const std::function<Status(WriteTxn&)>& fn) {
  std::lock_guard<std::mutex> lock(mu_);
  PgTransaction pg(&db_);
  BB_RETURN_IF_ERROR(pg.Begin());
  Txn txn(&db_);
  BB_RETURN_IF_ERROR(fn(txn));
  return Commit(&txn, &pg);
}

Status PgCentralStore::ReadChanges(const std::string& cursor, const PullScope& scope,
                                   std::size_t limit, ChangePage* out) {
  std::int64_t after = 0;
  BB_RETURN_IF_ERROR(ParseCursor(cursor, &after));
  std::lock_guard<std::mutex> lock(mu_);
  PgResult r;
  BB_RETURN_IF_ERROR(
      db_.Exec("SELECT seq, state FROM records WHERE seq > $1 AND ($2 = '' OR org = $2 OR "
               "(org = $4 AND form = $5)) ORDER BY seq LIMIT $3",
               {PgInt(after), scope.org, PgInt(static_cast<std::int64_t>(limit + 1)),
                scope.shared_org, scope.shared_form},
               &r));
  out->states.clear();
  out->more = r.rows() > static_cast<int>(limit);
  std::int64_t last = after;
  for (int i = 0; i < r.rows() && out->states.size() < limit; ++i) {
    last = r.Int(i, 0);
    out->states.push_back(r.Text(i, 1));
  }
  out->cursor = std::to_string(last);
  return Status::OK();
}

Status PgCentralStore::NotePull(const std::string& device_id, std::int64_t at_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  return db_.Exec("UPDATE devices SET last_sync_ms = $1 WHERE id = $2", {PgInt(at_ms), device_id});
}

namespace {

// Milestones: the most recent status written for each (indicator, quarter), from rows of
// (indicator, quarter, status) ordered by stamp.
void AddMilestones(const PgResult& r, int fy, std::vector<RawFigure>* out) {
  LatestMilestones latest;
  for (int i = 0; i < r.rows(); ++i)
    latest.Add(r.Text(i, 0), static_cast<int>(r.Int(i, 1)), r.Text(i, 2));
  latest.AppendTo(fy, out);
}

void AddSums(const PgResult& r, int fy, std::vector<RawFigure>* out) {
  for (int i = 0; i < r.rows(); ++i) {
    RawFigure f;
    f.indicator = r.Text(i, 0);
    f.fy = fy;
    f.quarter = static_cast<int>(r.Int(i, 1));
    f.value = r.Double(i, 2);
    f.n = r.Double(i, 3);
    f.records = r.Int(i, 4);
    out->push_back(std::move(f));
  }
}

}  // namespace

Status PgCentralStore::ReadFigures(int fy, std::vector<RawFigure>* out) {
  std::lock_guard<std::mutex> lock(mu_);
  // Totals and milestones from one snapshot, whatever commits meanwhile.
  PgTransaction txn(&db_);
  BB_RETURN_IF_ERROR(txn.Begin());
  BB_RETURN_IF_ERROR(db_.ExecScript("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"));
  PgResult sums, milestones;
  BB_RETURN_IF_ERROR(
      db_.Exec("SELECT indicator, quarter, value, n, records FROM totals WHERE fy = $1",
               {PgInt(fy)}, &sums));
  BB_RETURN_IF_ERROR(db_.Exec(
      "SELECT indicator, quarter, status FROM contributions WHERE fy = $1 AND status <> '' "
      "ORDER BY stamp",
      {PgInt(fy)}, &milestones));
  BB_RETURN_IF_ERROR(txn.Commit());
  AddSums(sums, fy, out);
  AddMilestones(milestones, fy, out);
  return Status::OK();
}

Status PgCentralStore::ReadOrgFigures(int fy, const std::string& org, std::vector<RawFigure>* out) {
  std::lock_guard<std::mutex> lock(mu_);
  // Totals and milestones from one snapshot, whatever commits meanwhile.
  PgTransaction txn(&db_);
  BB_RETURN_IF_ERROR(txn.Begin());
  BB_RETURN_IF_ERROR(db_.ExecScript("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"));
  PgResult sums, milestones;
  BB_RETURN_IF_ERROR(db_.Exec(
      "SELECT c.indicator, c.quarter, sum(c.value), sum(c.n), count(*) FROM contributions c "
      "JOIN records r ON r.id = c.record_id WHERE c.fy = $1 AND r.org = $2 AND c.key = '' "
      "GROUP BY c.indicator, c.quarter "
      "UNION ALL "
      "SELECT indicator, quarter, count(*), sum(CASE WHEN refs >= 2 THEN 1 ELSE 0 END), 0 "
      "FROM (SELECT c.indicator, c.quarter, c.key, count(*) AS refs FROM contributions c "
      "JOIN records r ON r.id = c.record_id WHERE c.fy = $1 AND r.org = $2 AND c.key <> '' "
      "GROUP BY c.indicator, c.quarter, c.key) k GROUP BY indicator, quarter "
      "UNION ALL "
      "SELECT indicator, 0, count(*), sum(CASE WHEN refs >= 2 THEN 1 ELSE 0 END), 0 "
      "FROM (SELECT c.indicator, c.key, count(*) AS refs FROM contributions c "
      "JOIN records r ON r.id = c.record_id WHERE c.fy = $1 AND r.org = $2 AND c.key <> '' "
      "GROUP BY c.indicator, c.key) y GROUP BY indicator",
      {PgInt(fy), org}, &sums));
  BB_RETURN_IF_ERROR(db_.Exec(
      "SELECT c.indicator, c.quarter, c.status FROM contributions c JOIN records r "
      "ON r.id = c.record_id WHERE c.fy = $1 AND r.org = $2 AND c.status <> '' ORDER BY c.stamp",
      {PgInt(fy), org}, &milestones));
  BB_RETURN_IF_ERROR(txn.Commit());
  AddSums(sums, fy, out);
  AddMilestones(milestones, fy, out);
  return Status::OK();
}

Status PgCentralStore::ExplainFigure(const std::string& indicator, int fy, int quarter,
                                     std::vector<FigureSource>* out) {
  std::lock_guard<std::mutex> lock(mu_);
  PgResult r;
  BB_RETURN_IF_ERROR(
      db_.Exec("SELECT c.record_id, r.org, r.author, c.value, c.status, c.at_ms, c.quarter, "
               "r.occurred_at FROM "
               "contributions c JOIN records r ON r.id = c.record_id "
               "WHERE c.indicator = $1 AND c.fy = $2 AND ($3 = 0 OR c.quarter = $3) "
               "ORDER BY c.at_ms, c.record_id",
               {indicator, PgInt(fy), PgInt(quarter)}, &r));
  for (int i = 0; i < r.rows(); ++i) {
    out->push_back({r.Text(i, 0), r.Text(i, 1), r.Text(i, 2), r.Double(i, 3), r.Text(i, 4),
                    r.Int(i, 5), static_cast<int>(r.Int(i, 6)), r.Text(i, 7)});
  }
  return Status::OK();
}

Status PgCentralStore::AddApproval(const Approval& a, const AuditEvent& audit) {
  std::lock_guard<std::mutex> lock(mu_);
  PgTransaction txn(&db_);
  BB_RETURN_IF_ERROR(txn.Begin());
  BB_RETURN_IF_ERROR(db_.Exec(
      "INSERT INTO approvals(fy, quarter, kind, user_name, at_ms, catalogue_version, report) "
      "VALUES($1,$2,$3,$4,$5,$6,$7)",
      {PgInt(a.fy), PgInt(a.quarter), a.kind, a.user, PgInt(a.at_ms), PgInt(a.catalogue_version),
       a.report.dump()}));
  BB_RETURN_IF_ERROR(InsertAudit(&db_, audit));
  return txn.Commit();
}

Status PgCentralStore::Approvals(int fy, std::vector<Approval>* out) {
  std::lock_guard<std::mutex> lock(mu_);
  PgResult r;
  BB_RETURN_IF_ERROR(
      db_.Exec("SELECT quarter, kind, user_name, at_ms, catalogue_version, report FROM approvals "
               "WHERE fy = $1 ORDER BY id",
               {PgInt(fy)}, &r));
  for (int i = 0; i < r.rows(); ++i) {
    Approval a;
    a.fy = fy;
    a.quarter = static_cast<int>(r.Int(i, 0));
    a.kind = r.Text(i, 1);
    a.user = r.Text(i, 2);
    a.at_ms = r.Int(i, 3);
    a.catalogue_version = static_cast<int>(r.Int(i, 4));
    try {
      a.report = json::parse(r.Text(i, 5));
    } catch (const json::exception& e) {
      return Status::Corruption(std::string("an approved return is unreadable: ") + e.what());
    }
    out->push_back(std::move(a));
  }
  return Status::OK();
}

Status PgCentralStore::ContributionsVersion(int* version) {
  std::lock_guard<std::mutex> lock(mu_);
  PgResult r;
  BB_RETURN_IF_ERROR(db_.Exec("SELECT value FROM meta WHERE key = 'catalogue_version'", {}, &r));
  *version = 0;
  if (r.rows() == 1) {
    std::int64_t v = 0;
    BB_RETURN_IF_ERROR(StoredInt(r.Text(0, 0), "catalogue version", &v));
    *version = static_cast<int>(v);
  }
  return Status::OK();
}

Status PgCentralStore::RebuildContributions(
    int version, const std::function<std::vector<Contribution>(const RecordState&)>& fn) {
  std::lock_guard<std::mutex> lock(mu_);
  PgTransaction txn(&db_);
  BB_RETURN_IF_ERROR(txn.Begin());
  // Writers of contributions wait: the totals are rebuilt as one.
  BB_RETURN_IF_ERROR(db_.ExecScript("LOCK TABLE contributions, totals, distinct_keys"));
  // A purged record's content is gone: it keeps what it contributed when it was counted.
  std::map<std::string, std::pair<std::vector<Contribution>, HlcStamp>> kept;
  PgResult c;
  BB_RETURN_IF_ERROR(db_.Exec(
      "SELECT c.record_id, c.indicator, c.fy, c.quarter, c.value, c.n, c.key, c.status, c.stamp "
      "FROM contributions c JOIN records r ON r.id = c.record_id WHERE r.deleted = 1",
      {}, &c));
  for (int i = 0; i < c.rows(); ++i) {
    auto& [list, stamp] = kept[c.Text(i, 0)];
    list.push_back({c.Text(i, 1), static_cast<int>(c.Int(i, 2)), static_cast<int>(c.Int(i, 3)),
                    c.Double(i, 4), c.Double(i, 5), c.Text(i, 6), c.Text(i, 7)});
    stamp = std::max(stamp, static_cast<HlcStamp>(c.Int(i, 8)));
  }
  BB_RETURN_IF_ERROR(
      db_.ExecScript("DELETE FROM contributions; DELETE FROM totals; DELETE FROM distinct_keys"));
  PgResult records;
  BB_RETURN_IF_ERROR(db_.Exec("SELECT state FROM records", {}, &records));
  PgLedgerStatements statements(&db_);
  BufferedLedger ledger(&statements);
  std::int64_t now = SystemClock::Default()->NowMs();
  for (int i = 0; i < records.rows(); ++i) {
    RecordState s;
    BB_RETURN_IF_ERROR(ParseStoredState(records.Text(i, 0), &s));
    if (s.purged) {
      auto it = kept.find(s.id);
      if (it != kept.end()) {
        BB_RETURN_IF_ERROR(ledger.Set(s.id, it->second.first, it->second.second, now));
      }
      continue;
    }
    BB_RETURN_IF_ERROR(ledger.Set(s.id, fn(s), s.MaxStamp(), now));
  }
  BB_RETURN_IF_ERROR(ledger.Flush());
  BB_RETURN_IF_ERROR(
      db_.Exec("INSERT INTO meta(key, value) VALUES('catalogue_version', $1) "
               "ON CONFLICT(key) DO UPDATE SET value = $1",
               {std::to_string(version)}));
  return txn.Commit();
}

Status PgCentralStore::AllRecords(std::vector<RecordState>* out) {
  std::lock_guard<std::mutex> lock(mu_);
  PgResult r;
  BB_RETURN_IF_ERROR(db_.Exec("SELECT state FROM records ORDER BY id", {}, &r));
  for (int i = 0; i < r.rows(); ++i) {
    RecordState s;
    BB_RETURN_IF_ERROR(ParseStoredState(r.Text(i, 0), &s));
    out->push_back(std::move(s));
  }
  return Status::OK();
}

Status PgCentralStore::Conflicts(std::vector<StoredConflict>* out) {
  std::lock_guard<std::mutex> lock(mu_);
  PgResult r;
  BB_RETURN_IF_ERROR(
      db_.Exec("SELECT record_id, field, winner, loser, at_ms FROM conflicts ORDER BY id", {}, &r));
  for (int i = 0; i < r.rows(); ++i) {
    StoredConflict c;
    c.conflict.record_id = r.Text(i, 0);
    c.conflict.field = r.Text(i, 1);
    BB_RETURN_IF_ERROR(StoredRegisterFrom(r.Text(i, 2), &c.conflict.winner));
    BB_RETURN_IF_ERROR(StoredRegisterFrom(r.Text(i, 3), &c.conflict.loser));
    c.at_ms = r.Int(i, 4);
    out->push_back(std::move(c));
  }
  return Status::OK();
}

Status PgCentralStore::Rejections(std::vector<StoredRejection>* out) {
  std::lock_guard<std::mutex> lock(mu_);
  PgResult r;
  BB_RETURN_IF_ERROR(db_.Exec(
      "SELECT device, change_id, record_id, reason, at_ms FROM rejections ORDER BY at_ms", {}, &r));
  for (int i = 0; i < r.rows(); ++i) {
    out->push_back({r.Text(i, 0), r.Text(i, 1), r.Text(i, 2), r.Text(i, 3), r.Int(i, 4)});
  }
  return Status::OK();
}

Status PgCentralStore::PurgeRecords(const std::vector<std::string>& ids,
                                    std::int64_t batch_replies_before_ms, const AuditEvent& audit) {
  std::lock_guard<std::mutex> lock(mu_);
  PgTransaction pg(&db_);
  BB_RETURN_IF_ERROR(pg.Begin());
  Txn t(&db_);
  for (const auto& id : ids) {
    RecordState stored;
    bool found = false;
    BB_RETURN_IF_ERROR(t.LoadRecord(id, &stored, &found));
    if (!found || stored.purged) continue;
    BB_RETURN_IF_ERROR(t.SaveRecord(PurgedTombstone(stored)));
    BB_RETURN_IF_ERROR(db_.Exec("DELETE FROM conflicts WHERE record_id = $1", {id}));
    BB_RETURN_IF_ERROR(db_.Exec("DELETE FROM rejections WHERE record_id = $1", {id}));
  }
  BB_RETURN_IF_ERROR(
      db_.Exec("DELETE FROM batches WHERE at_ms < $1", {PgInt(batch_replies_before_ms)}));
  BB_RETURN_IF_ERROR(InsertAudit(&db_, audit));
  BB_RETURN_IF_ERROR(Commit(&t, &pg));
  // The purged content's old row versions stay in the tables' pages until VACUUM reclaims them;
  // best effort now (the WAL and any archive keep them until recycled: docs/deployment.md).
  db_.ExecScript("VACUUM records, conflicts, rejections").ok();
  return Status::OK();
}

Status PgCentralStore::Audit(const AuditEvent& event) {
  std::lock_guard<std::mutex> lock(mu_);
  return InsertAudit(&db_, event);
}

Status PgCentralStore::ReadAudit(const AuditQuery& q, std::vector<AuditEvent>* out) {
  std::lock_guard<std::mutex> lock(mu_);
  PgResult r;
  BB_RETURN_IF_ERROR(db_.Exec(
      "SELECT seq, at_ms, actor, role, org, device, action, detail FROM ("
      "  SELECT * FROM audit WHERE at_ms >= $1 AND ($2 = '' OR actor = $2) "
      "  AND ($3 = '' OR device = $3) AND ($4 = '' OR action = $4) ORDER BY seq DESC LIMIT $5"
      ") recent ORDER BY seq",
      {PgInt(q.since_ms), q.actor, q.device_id, q.action,
       PgInt(static_cast<std::int64_t>(q.limit))},
      &r));
  for (int i = 0; i < r.rows(); ++i) {
    AuditEvent e;
    e.seq = r.Int(i, 0);
    e.at_ms = r.Int(i, 1);
    e.actor = r.Text(i, 2);
    e.role = r.Text(i, 3);
    e.org = r.Text(i, 4);
    e.device_id = r.Text(i, 5);
    e.action = r.Text(i, 6);
    e.detail = json::parse(r.Text(i, 7), nullptr, /*allow_exceptions=*/false);
    out->push_back(std::move(e));
  }
  return Status::OK();
}

Status PgCentralStore::CheckIntegrity() {
  std::lock_guard<std::mutex> lock(mu_);
  // The database checks its own pages; what it cannot know is our invariant that every committed
  // record has its sequence number.
  PgResult r;
  BB_RETURN_IF_ERROR(db_.Exec("SELECT count(*) FROM records WHERE seq IS NULL", {}, &r));
  if (r.Int(0, 0) != 0) {
    return Status::Corruption(std::to_string(r.Int(0, 0)) + " records have no sequence number");
  }
  return Status::OK();
}

}  // namespace beatbook::server
