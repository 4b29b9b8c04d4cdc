// Catalogue version 2 gives most partner returns one figure for the partnership (combine `one`):
// one record per (indicator, fy, quarter), filed under the partnership's org, where version 1
// kept one per org and added them up. This moves the version-1 records of such indicators to the
// partnership's record, once, when the server first starts with the new catalogue
// (docs/indicators.md, "Version 2").
//
// - Every live per-org return of a `one` indicator is merged into the partnership's record for
//   its quarter (the latest write of each field wins, as in any merge) and then deleted, with a
//   delete stamped by the server, so devices drop it when they next pull.
// - Where two orgs had entered different figures or statuses for one quarter, the losing entry
//   is kept as a conflict for the coordinator to resolve.
// - Approved quarters keep the figures they were approved with (approvals are frozen).
// - Idempotent: a second run finds nothing to move. Each move is in the audit log.
#pragma once

#include <cstdint>

#include "beatbook/form.h"
#include "sync_server/store/central_store.h"

namespace beatbook::server {

struct MigrationResult {
  int moved = 0;      // per-org records moved
  int merged_to = 0;  // partnership records written
  int conflicts = 0;  // quarters where owners disagreed
};

// Runs the move in one write transaction. Contributions are not updated here: the caller rebuilds
// them for the new catalogue version right after.
Status MigrateSharedReturns(CentralStore* store, const FormSet& forms, std::int64_t now_ms,
                            MigrationResult* result);

}  // namespace beatbook::server
