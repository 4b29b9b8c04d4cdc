// Reading record states stored as JSON in a SQLite table `records(id, ..., state)`, the layout
// both the device store and the central store use.
#pragma once

#include <string>

#include "beatbook/record.h"
#include "beatbook/sqlite_db.h"

namespace beatbook {

// Parses a stored state; Corruption if it is unreadable.
Status ParseStoredState(const std::string& text, RecordState* out);

// Loads the state of record `id`; *found says whether there is one.
Status LoadStoredState(SqliteDb* db, const std::string& id, RecordState* out, bool* found);

}  // namespace beatbook
