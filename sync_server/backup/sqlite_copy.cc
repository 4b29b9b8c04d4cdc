#include "sync_server/backup/sqlite_copy.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <cstdio>
#include <thread>

#include "sync_server/store/sql_schema.h"

namespace beatbook::server {

namespace {

// A step that finds the store locked is tried again this many times, 20 ms apart.
constexpr int kBusyRetries = 1500;

struct Db {
  sqlite3* db = nullptr;
  ~Db() { sqlite3_close_v2(db); }
};

Status OpenDb(const std::string& path, int flags, Db* out) {
  if (sqlite3_open_v2(path.c_str(), &out->db, flags, nullptr) != SQLITE_OK) {
    return Status::IoError("cannot open " + path + ": " +
                           (out->db ? sqlite3_errmsg(out->db) : "out of memory"));
  }
  sqlite3_busy_timeout(out->db, 5000);
  return Status::OK();
}

// The first column of the first row of `sql`, as text ("" if no row).
Status Scalar(sqlite3* db, const std::string& sql, std::string* out) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    return Status::Corruption(std::string("not a central store: ") + sqlite3_errmsg(db));
  }
  out->clear();
  int rc = sqlite3_step(stmt);
  if (rc == SQLITE_ROW) {
    const unsigned char* text = sqlite3_column_text(stmt, 0);
    *out = text ? reinterpret_cast<const char*>(text) : "";
  }
  std::string error = rc == SQLITE_ROW || rc == SQLITE_DONE ? "" : sqlite3_errmsg(db);
  sqlite3_finalize(stmt);
  if (!error.empty()) return Status::Corruption("cannot read the copy: " + error);
  return Status::OK();
}

}  // namespace

Status CopyLiveStore(const std::string& data_dir, const std::string& out_path) {
  std::string source_path = data_dir + "/central.db";
  struct stat st {};
  if (::stat(source_path.c_str(), &st) != 0) {
    return Status::NotFound("no central store in " + data_dir + " (no central.db)");
  }
  Db source, target;
  BB_RETURN_IF_ERROR(OpenDb(source_path, SQLITE_OPEN_READONLY, &source));
  std::remove(out_path.c_str());
  BB_RETURN_IF_ERROR(OpenDb(out_path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &target));
  ::chmod(out_path.c_str(), 0600);
  sqlite3_backup* backup = sqlite3_backup_init(target.db, "main", source.db, "main");
  if (backup == nullptr) {
    return Status::IoError("cannot start copying the store: " +
                           std::string(sqlite3_errmsg(target.db)));
  }
  // The whole copy in one step, so in one read transaction: in WAL mode a reader never blocks
  // the servers' writes, and a copy taken in several steps would start again after each write.
  int rc = SQLITE_OK;
  int busy = 0;
  do {
    rc = sqlite3_backup_step(backup, -1);
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
      if (++busy > kBusyRetries) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  } while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
  sqlite3_backup_finish(backup);
  if (rc != SQLITE_DONE) {
    std::remove(out_path.c_str());
    return Status::Unavailable("the store could not be copied (" + std::string(sqlite3_errstr(rc)) +
                               "); nothing was written, try again");
  }
  // One file, no WAL beside it: what gets sealed is the whole copy.
  char* error = nullptr;
  sqlite3_exec(target.db, "PRAGMA journal_mode = DELETE", nullptr, nullptr, &error);
  sqlite3_free(error);
  return Status::OK();
}

Status CheckStoreCopy(const std::string& path, StoreFacts* facts) {
  Db db;
  BB_RETURN_IF_ERROR(OpenDb(path, SQLITE_OPEN_READONLY, &db));
  std::string text;
  BB_RETURN_IF_ERROR(Scalar(db.db, "PRAGMA integrity_check", &text));
  if (text != "ok") return Status::Corruption("the copy fails SQLite's integrity check: " + text);
  BB_RETURN_IF_ERROR(Scalar(db.db, "PRAGMA user_version", &text));
  facts->schema_version = std::atoi(text.c_str());
  if (facts->schema_version <= 0) return Status::Corruption("the copy is not a central store");
  // A store from a later version of the program would be refused once in place: refused here,
  // before anything is replaced.
  int newest = CentralSchemaSteps().back().version;
  if (facts->schema_version > newest) {
    return Status::FailedPrecondition(
        "the copy is a store of schema version " + std::to_string(facts->schema_version) +
        ", newer than this program's " + std::to_string(newest) +
        ": restore it with the sync_server that took it, or a later one");
  }
  BB_RETURN_IF_ERROR(Scalar(db.db, "SELECT value FROM meta WHERE key = 'epoch'", &facts->epoch));
  BB_RETURN_IF_ERROR(Scalar(db.db, "SELECT count(*) FROM records", &text));
  facts->records = std::atoll(text.c_str());
  BB_RETURN_IF_ERROR(Scalar(db.db, "SELECT count(*) FROM devices", &text));
  facts->devices = std::atoll(text.c_str());
  BB_RETURN_IF_ERROR(Scalar(db.db, "SELECT count(*) FROM audit", &text));
  facts->audit_entries = std::atoll(text.c_str());
  return Status::OK();
}

}  // namespace beatbook::server
