// Copies of the embedded central store (DIR/central.db) for backups and restores.
//
//   Status s = CopyLiveStore("/var/lib/beatbook", "/var/lib/beatbook/.backup.db");
//   StoreFacts facts;
//   s = CheckStoreCopy("/var/lib/beatbook/.backup.db", &facts);
#pragma once

#include <cstdint>
#include <string>

#include "beatbook/status.h"

namespace beatbook::server {

// A consistent copy of the store in `data_dir` while servers keep serving from it (SQLite's
// online backup API, in one read transaction: a snapshot of one moment that writers never wait
// for).
// `out_path` (mode 0600) is replaced.
Status CopyLiveStore(const std::string& data_dir, const std::string& out_path);

// What a copy holds, read after SQLite's integrity check passed.
struct StoreFacts {
  int schema_version = 0;
  std::string epoch;  // "" for a store older than epochs
  std::int64_t records = 0, devices = 0, audit_entries = 0;
};
// Corruption saying what is wrong if the copy is not a sound central store; FailedPrecondition
// if it is a store of a schema newer than this program's (it could not be opened once restored).
Status CheckStoreCopy(const std::string& path, StoreFacts* facts);

}  // namespace beatbook::server
