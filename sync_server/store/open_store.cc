#include "store/open_store.h"

#include "store/pg_central_store.h"
#include "store/sqlite_central_store.h"

namespace beatbook::server {

bool IsPostgresUrl(const std::string& store) {
  return store.rfind("postgresql://", 0) == 0 || store.rfind("postgres://", 0) == 0;
}

Status OpenCentralStore(const std::string& data_dir, const std::string& store,
                        std::unique_ptr<CentralStore>* out) {
  if (!store.empty()) {
    if (!IsPostgresUrl(store)) {
      return Status::InvalidArgument("--store '" + store +
                                     "' is not a PostgreSQL URI (postgresql://USER@HOST/DB)");
    }
    std::unique_ptr<PgCentralStore> pg;
    BB_RETURN_IF_ERROR(PgCentralStore::Open(store, &pg));
    *out = std::move(pg);
    return Status::OK();
  }
  if (data_dir.empty()) {
    return Status::InvalidArgument(
        "give --data DIR (the embedded store) or --store "
        "postgresql://... (a PostgreSQL store)");
  }
  std::unique_ptr<SqliteCentralStore> sqlite;
  BB_RETURN_IF_ERROR(SqliteCentralStore::Open(data_dir, &sqlite));
  *out = std::move(sqlite);
  return Status::OK();
}

}  // namespace beatbook::server
