// sync_server's backup commands: backup-key, backup, verify-backup, restore, new-epoch
// (docs/operations.md, "Back up and restore").
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <vector>

#include "beatbook/clock.h"
#include "beatbook/crypto.h"
#include "beatbook/datetime.h"
#include "sync_server/backup/backup_file.h"
#include "sync_server/backup/data_dir_lock.h"
#include "sync_server/backup/sqlite_copy.h"
#include "sync_server/commands.h"
#include "sync_server/store/central_store.h"
#include "sync_server/store/open_store.h"

namespace beatbook::server {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kBackupPrefix = "beatbook-";
constexpr const char* kBackupSuffix = ".bbk";

// "20261129T031500.123Z": names made of it sort in time order.
std::string CompactUtc(std::int64_t ms) {
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32], with_ms[40];
  std::strftime(text, sizeof(text), "%Y%m%dT%H%M%S", &tm);
  std::snprintf(with_ms, sizeof(with_ms), "%s.%03dZ", text, static_cast<int>(ms % 1000));
  return with_ms;
}

// A new file name in `dir` for a backup taken at `ms` (a later millisecond if it is taken).
std::string NewBackupPath(const std::string& dir, std::int64_t ms) {
  std::string path;
  do {
    path = dir + "/" + kBackupPrefix + CompactUtc(ms++) + kBackupSuffix;
  } while (fs::exists(path));
  return path;
}

// Removes all but the newest `keep` backups in `dir`; says which went.
Status KeepNewest(const std::string& dir, int keep) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::string name = entry.path().filename().string();
    if (name.rfind(kBackupPrefix, 0) == 0 && name.size() > 4 &&
        name.compare(name.size() - 4, 4, kBackupSuffix) == 0) {
      names.push_back(name);
    }
  }
  if (ec) return Status::IoError("cannot list " + dir + ": " + ec.message());
  std::sort(names.begin(), names.end());
  for (std::size_t i = 0; i + keep < names.size(); ++i) {
    if (!fs::remove(dir + "/" + names[i], ec) || ec) {
      return Status::IoError("cannot remove the old backup " + names[i] + ": " + ec.message());
    }
    std::cout << "removed old backup " << dir << "/" << names[i] << "\n";
  }
  return Status::OK();
}

std::string Describe(const json& header, const StoreFacts& facts) {
  return "taken " + header.value("created", std::string("?")) + ", epoch " + facts.epoch +
         ", schema version " + std::to_string(facts.schema_version) + ", " +
         std::to_string(facts.records) + " records, " + std::to_string(facts.devices) +
         " devices, " + std::to_string(facts.audit_entries) + " audit entries";
}

// A private scratch file name in `dir`, for a plain copy that exists only briefly.
std::string ScratchPath(const std::string& dir, const std::string& what) {
  return dir + "/." + what + "-" + RandomSecret(6) + ".db";
}

}  // namespace

int RunBackupKey(const std::string& out) {
  if (Status s = WriteBackupKey(out); !s.ok()) return Fail(s.message());
  std::cout << "wrote a new backup key to " << out
            << ": keep a copy away from this machine; without it no backup can be restored\n";
  return 0;
}

int RunBackup(const BackupOptions& o) {
  if (!o.store_url.empty()) {
    return Fail(
        "a PostgreSQL store is backed up with pg_dump or continuous archiving "
        "(docs/operations.md); after restoring one, run `sync_server new-epoch --store URL`");
  }
  if (o.data.empty()) return Fail("--data DIR: which store to back up");
  if (o.key.empty()) return Fail("--key FILE: the backup key (made by `sync_server backup-key`)");
  if (o.out.empty() == o.out_dir.empty()) return Fail("give one of --out FILE or --out-dir DIR");
  if (o.keep < 0) return Fail("--keep must be 1 or more (0: keep every backup)");
  BackupKey key;
  if (Status s = ReadBackupKey(o.key, &key); !s.ok()) return Fail(s.message());
  std::unique_ptr<CentralStore> store;
  if (Status s = OpenCommandStore({o.data, ""}, &store); !s.ok()) return Fail(s.message());
  std::string epoch;  // made now if the store has none, so the copy carries it
  if (Status s = store->Epoch(&epoch); !s.ok()) return Fail(s.message());

  std::int64_t now = SystemClock::Default()->NowMs();
  std::string out = o.out;
  if (!o.out_dir.empty()) {
    std::error_code ec;
    fs::create_directories(o.out_dir, ec);
    ::chmod(o.out_dir.c_str(), 0700);
    out = NewBackupPath(o.out_dir, now);
  }
  std::string scratch = ScratchPath(o.data, "backup");
  StoreFacts facts;
  Status s = CopyLiveStore(o.data, scratch);
  if (s.ok()) s = CheckStoreCopy(scratch, &facts);
  json header = {{"created_ms", now},        {"created", FormatIsoUtc(now)},
                 {"epoch", facts.epoch},     {"schema_version", facts.schema_version},
                 {"records", facts.records}, {"devices", facts.devices}};
  if (s.ok()) s = SealBackup(scratch, header, key, out);
  std::remove(scratch.c_str());
  if (!s.ok()) return Fail("no backup written: " + s.message());
  // Noted in the live store (the backup age metric) and audited.
  s = store->NoteBackup(now);
  if (s.ok()) s = AuditOperator(store.get(), "backup", {{"file", out}, {"records", facts.records}});
  if (!s.ok()) {
    return Fail("the backup " + out +
                " was written, but the store could not note it: " + s.message());
  }
  std::cout << out << "\n";
  if (!o.out_dir.empty() && o.keep > 0) {
    if (Status k = KeepNewest(o.out_dir, o.keep); !k.ok()) return Fail(k.message());
  }
  return 0;
}

int RunVerifyBackup(const std::string& key_file, const std::string& file) {
  if (Status s = CheckBackupChecksum(file); !s.ok()) return Fail(s.message());
  BackupKey key;
  if (Status s = ReadBackupKey(key_file, &key); !s.ok()) return Fail(s.message());
  // The plain copy goes beside the backup (a folder only the server's account reads), briefly.
  std::string dir = fs::path(file).parent_path().string();
  std::string scratch = ScratchPath(dir.empty() ? "." : dir, "verify");
  json header;
  StoreFacts facts;
  Status s = OpenBackup(file, key, scratch, &header);
  if (s.ok()) s = CheckStoreCopy(scratch, &facts);
  std::remove(scratch.c_str());
  if (!s.ok()) return Fail(s.message());
  std::cout << file << ": sound; " << Describe(header, facts) << "\n";
  return 0;
}

int RunRestore(const RestoreOptions& o) {
  if (o.data.empty() || o.key.empty() || o.from.empty()) {
    return Fail("restore needs --data DIR, --key FILE and --from BACKUP");
  }
  BackupKey key;
  if (Status s = ReadBackupKey(o.key, &key); !s.ok()) return Fail(s.message());
  std::error_code ec;
  fs::create_directories(o.data, ec);
  ::chmod(o.data.c_str(), 0700);
  DataDirLock lock;
  if (Status s = lock.Lock(o.data, /*exclusive=*/true); !s.ok()) {
    return Fail("nothing restored: " + s.message());
  }
  std::string restoring = o.data + "/central.db.restoring";
  json header;
  StoreFacts facts;
  Status s = OpenBackup(o.from, key, restoring, &header);
  if (s.ok()) s = CheckStoreCopy(restoring, &facts);
  if (!s.ok()) {
    std::remove(restoring.c_str());
    return Fail("nothing restored: " + s.message());
  }
  // The store being replaced is kept beside it, renamed, never deleted.
  std::string live = o.data + "/central.db";
  std::string kept;
  if (fs::exists(live)) {
    kept = live + ".replaced-" + CompactUtc(SystemClock::Default()->NowMs());
    for (const char* suffix : {"", "-wal"}) {
      if (fs::exists(live + suffix)) fs::rename(live + suffix, kept + suffix, ec);
      if (ec) return Fail("nothing restored: cannot move " + live + suffix + ": " + ec.message());
    }
    fs::remove(live + "-shm", ec);
  }
  fs::rename(restoring, live, ec);
  if (ec) return Fail("cannot put the restored store in place: " + ec.message());

  // A new epoch: every device learns at its next sync that the store went back in time, sends
  // again what it holds and pulls from the start (docs/protocol.md, "Restores").
  std::unique_ptr<CentralStore> store;
  if (Status open = OpenCommandStore({o.data, ""}, &store); !open.ok()) return Fail(open.message());
  std::string epoch;
  s = store->NewEpoch(&epoch);
  if (s.ok()) {
    s = AuditOperator(store.get(), "restore",
                      {{"file", o.from},
                       {"taken", header.value("created", "")},
                       {"old_epoch", facts.epoch},
                       {"epoch", epoch}});
  }
  if (!s.ok()) return Fail("the store was restored, but its new epoch failed: " + s.message());
  std::cout << "restored " << o.from << " (" << Describe(header, facts) << ") into " << o.data
            << "\nnew epoch " << epoch
            << ": each device sends again what it holds at its next sync\n";
  if (!kept.empty()) std::cout << "the store it replaced is kept as " << kept << "\n";
  return 0;
}

int RunNewEpoch(const StoreLocation& at) {
  std::unique_ptr<CentralStore> store;
  if (Status s = OpenCommandStore(at, &store); !s.ok()) return Fail(s.message());
  std::string old_epoch, epoch;
  Status s = store->Epoch(&old_epoch);
  if (s.ok()) s = store->NewEpoch(&epoch);
  if (s.ok())
    s = AuditOperator(store.get(), "new_epoch", {{"old_epoch", old_epoch}, {"epoch", epoch}});
  if (!s.ok()) return Fail(s.message());
  std::cout << "new epoch " << epoch << " (was " << old_epoch
            << "): each device sends again what it holds at its next sync\n";
  return 0;
}

}  // namespace beatbook::server
