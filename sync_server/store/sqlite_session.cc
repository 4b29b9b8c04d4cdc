#include "sync_server/store/sqlite_session.h"

#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "beatbook/fault.h"

namespace beatbook::server {

namespace fs = std::filesystem;

namespace {

// The store holds record content, notes and the person-key secret: its directory is the owner's
// alone (0700) and so are its files (0600). SQLite gives the WAL and shared-memory files the
// database file's mode, so the database file is made 0600 before SQLite first opens it; stores
// made before this rule are narrowed on open.
Status MakePrivate(const std::string& dir, const std::string& db) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::IoError("cannot create data directory " + dir + ": " + ec.message());
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  if (ec) return Status::IoError("cannot make data directory " + dir + " private: " + ec.message());
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

// "$12" becomes "?12": SQLite numbers "?NNN" parameters as PostgreSQL numbers "$NNN" (SQLite
// would take "$12" for a parameter named "12", numbered by where it first appears).
std::string NumberedParameters(const std::string& sql) {
  std::string out = sql;
  for (std::size_t i = 0; i + 1 < out.size(); ++i) {
    if (out[i] == '$' && std::isdigit(static_cast<unsigned char>(out[i + 1]))) out[i] = '?';
  }
  return out;
}

void Bind(SqliteStmt* st, int index, const SqlParam& p) {
  if (const auto* text = std::get_if<std::string>(&p)) {
    st->Bind(index, *text);
  } else if (const auto* whole = std::get_if<std::int64_t>(&p)) {
    st->Bind(index, *whole);
  } else if (const auto* real = std::get_if<double>(&p)) {
    st->Bind(index, *real);
  } else {
    st->BindNull(index);
  }
}

class SqliteRow final : public SqlRow {
 public:
  explicit SqliteRow(const SqliteStmt* st) : st_(st) {}
  std::string Text(int col) const override { return st_->ColumnText(col); }
  std::int64_t Int(int col) const override { return st_->ColumnInt(col); }
  double Double(int col) const override { return st_->ColumnDouble(col); }

 private:
  const SqliteStmt* st_;
};

}  // namespace

Status SqliteSession::Open(const std::string& dir, std::unique_ptr<SqliteSession>* out) {
  std::string path = (fs::path(dir) / "central.db").string();
  BB_RETURN_IF_ERROR(MakePrivate(dir, path));
  std::unique_ptr<SqliteSession> session(new SqliteSession);
  session->dir_ = dir;
  BB_RETURN_IF_ERROR(session->db_.Open(path, /*create=*/true));
  if (long pages = FaultSetting("BEATBOOK_FAULT_STORE_MAX_PAGES"); pages > 0) {
    BB_RETURN_IF_ERROR(session->db_.Exec("PRAGMA max_page_count = " + std::to_string(pages)));
  }
  *out = std::move(session);
  return Status::OK();
}

Status SqliteSession::Statement(const std::string& sql, SqliteStmt* spare, SqliteStmt** out) {
  auto it = statements_.find(sql);
  if (it == statements_.end()) {
    auto st = std::make_unique<SqliteStmt>();
    BB_RETURN_IF_ERROR(db_.Prepare(NumberedParameters(sql), st.get()));
    it = statements_.emplace(sql, std::move(st)).first;
  }
  if (stepping_.count(it->second.get()) != 0) {
    BB_RETURN_IF_ERROR(db_.Prepare(NumberedParameters(sql), spare));
    *out = spare;
    return Status::OK();
  }
  *out = it->second.get();
  (*out)->Reset();
  return Status::OK();
}

Status SqliteSession::Run(const std::string& sql, const std::vector<SqlParam>& params,
                          const SqlRowFn& row) {
  SqliteStmt spare;
  SqliteStmt* st;
  BB_RETURN_IF_ERROR(Statement(sql, &spare, &st));
  for (std::size_t i = 0; i < params.size(); ++i) Bind(st, static_cast<int>(i + 1), params[i]);
  if (!row) return st->Run();
  stepping_.insert(st);
  SqliteRow current(st);
  Status s = st->ForEachRow([&] { return row(current); });
  stepping_.erase(st);
  return s;
}

Status SqliteSession::RunScript(const std::string& sql) { return db_.Exec(sql); }

Status SqliteSession::Begin(TxnKind kind) {
  if (kind == TxnKind::kWrite) return db_.Begin();
  return db_.Exec("BEGIN");  // deferred: a read transaction, one snapshot until it ends
}

Status SqliteSession::Commit() { return db_.Commit(); }

void SqliteSession::Rollback() { db_.Rollback(); }

Status SqliteSession::ReadSchemaVersion(int* version) {
  // The write transaction the migration runs in already keeps every other writer out.
  return Run("PRAGMA user_version", {}, [&](const SqlRow& row) {
    *version = static_cast<int>(row.Int(0));
    return Status::OK();
  });
}

Status SqliteSession::WriteSchemaVersion(int version) {
  return db_.Exec("PRAGMA user_version = " + std::to_string(version));
}

Status SqliteSession::StartNumbering() {
  return Run("SELECT coalesce(max(seq), 0) FROM records", {}, [&](const SqlRow& row) {
    next_seq_ = row.Int(0) + 1;
    return Status::OK();
  });
}

Status SqliteSession::BeforePurge() { return db_.Exec("PRAGMA secure_delete = ON"); }

Status SqliteSession::AfterPurge(const Status& purged) {
  db_.Exec("PRAGMA secure_delete = OFF").IgnoreError();  // only slows later deletes if left on
  if (!purged.ok()) return Status::OK();
  // Old versions of the purged pages may still be in the WAL: copy back and empty it.
  Status emptied = db_.CheckpointTruncate();
  if (!emptied.ok()) {
    return Status::Unavailable("the records are purged, but " + emptied.message() +
                               "; run purge again when the server is idle to empty it");
  }
  return Status::OK();
}

Status SqliteSession::CheckPages() {
  std::string result;
  BB_RETURN_IF_ERROR(Run("PRAGMA integrity_check", {}, [&](const SqlRow& row) {
    if (result.empty()) result = row.Text(0);
    return Status::OK();
  }));
  if (result != "ok") return Status::Corruption("integrity check of " + dir_ + ": " + result);
  return Status::OK();
}

Status SqliteSession::StoreBytes(std::int64_t* bytes) {
  // The database's pages; the WAL beside it is emptied at every checkpoint.
  return Run("SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()", {},
             [&](const SqlRow& row) {
               *bytes = row.Int(0);
               return Status::OK();
             });
}

}  // namespace beatbook::server
