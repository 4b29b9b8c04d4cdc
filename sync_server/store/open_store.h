// Which CentralStore a sync_server command uses: the embedded SQLite store in --data DIR (the
// default), or PostgreSQL with --store postgresql://... (docs/deployment.md).
#pragma once

#include <memory>
#include <string>

#include "sync_server/store/central_store.h"

namespace beatbook::server {

// True for a libpq URI: postgresql://... or postgres://...
bool IsPostgresUrl(const std::string& store);

// Opens `store` if given (a PostgreSQL URI), else the SQLite store in `data_dir`. InvalidArgument
// naming the options if neither is given, or `store` is not a PostgreSQL URI.
Status OpenCentralStore(const std::string& data_dir, const std::string& store,
                        std::unique_ptr<CentralStore>* out);

}  // namespace beatbook::server
