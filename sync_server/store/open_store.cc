#include "sync_server/store/open_store.h"

#include "sync_server/store/sql_central_store.h"

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
    std::unique_ptr<SqlCentralStore> pg;
    BB_RETURN_IF_ERROR(SqlCentralStore::OpenPostgres(store, &pg));
    *out = std::move(pg);
    return Status::OK();
  }
  if (data_dir.empty()) {
    return Status::InvalidArgument(
        "give --data DIR (the embedded store) or --store "
        "postgresql://... (a PostgreSQL store)");
  }
  std::unique_ptr<SqlCentralStore> sqlite;
  BB_RETURN_IF_ERROR(SqlCentralStore::OpenSqlite(data_dir, &sqlite));
  *out = std::move(sqlite);
  return Status::OK();
}

}  // namespace beatbook::server
