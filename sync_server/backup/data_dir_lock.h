// DataDirLock: who is using an embedded store's directory. Every `serve` holds a shared lock on
// DIR/server.lock while it runs; a restore takes it exclusively, so it never replaces a store
// under a running server. The kernel drops the lock when the process ends, however it ends.
#pragma once

#include <string>

#include "beatbook/status.h"

namespace beatbook::server {

class DataDirLock {
 public:
  DataDirLock() = default;
  ~DataDirLock();
  DataDirLock(const DataDirLock&) = delete;
  DataDirLock& operator=(const DataDirLock&) = delete;

  // Shared (servers) or exclusive (restore), without waiting: FailedPrecondition saying who
  // holds it otherwise.
  Status Lock(const std::string& data_dir, bool exclusive);

 private:
  int fd_ = -1;
};

}  // namespace beatbook::server
