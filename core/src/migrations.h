// Schema migrations for SQLite stores. The schema version lives in PRAGMA user_version; migration
// i (0-based) takes a store from version i to i + 1 in one transaction, so a store updated in the
// field is never left half-migrated and keeps its data.
#pragma once

#include <string>
#include <vector>

#include "beatbook/sqlite_db.h"
#include "beatbook/status.h"

namespace beatbook {

// Applies migrations[current .. target-1]. Fails with FailedPrecondition if the store is newer than
// this program (`current` > migrations.size()). `what` names the store in messages.
Status ApplyMigrations(SqliteDb* db, const std::vector<std::string>& migrations, int current,
                       int target, const std::string& what);

// The device store's migrations (LocalStore::kSchemaVersion of them).
const std::vector<std::string>& DeviceMigrations();

}  // namespace beatbook
