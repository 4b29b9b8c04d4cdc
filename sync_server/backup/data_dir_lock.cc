#include "sync_server/backup/data_dir_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace beatbook::server {

DataDirLock::~DataDirLock() {
  if (fd_ >= 0) ::close(fd_);
}

Status DataDirLock::Lock(const std::string& data_dir, bool exclusive) {
  std::string path = data_dir + "/server.lock";
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) return Status::IoError("cannot open " + path);
  if (::flock(fd_, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) != 0) {
    ::close(fd_);
    fd_ = -1;
    return Status::FailedPrecondition(
        exclusive ? "a sync_server is serving " + data_dir +
                        ": stop it first (systemctl stop beatbook-server)"
                  : "a restore is replacing the store in " + data_dir + ": start when it is done");
  }
  return Status::OK();
}

}  // namespace beatbook::server
