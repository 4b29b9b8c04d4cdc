#include "beatbook/install_paths.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

namespace beatbook {

std::string ProgramDir() {
  char path[4096];
  ssize_t n = ::readlink("/proc/self/exe", path, sizeof(path) - 1);
  if (n <= 0) return "";
  std::string exe(path, static_cast<std::size_t>(n));
  std::size_t slash = exe.rfind('/');
  return slash == std::string::npos ? "" : exe.substr(0, slash);
}

std::string SchemaDirFor(const std::string& flag, const std::string& built_from) {
  if (!flag.empty()) return flag;
  if (const char* env = std::getenv("BEATBOOK_SCHEMA"); env && *env) return env;
  if (std::string dir = ProgramDir(); !dir.empty()) {
    std::string installed = dir + "/../share/beatbook/schema";
    struct stat st {};
    if (::stat((installed + "/indicators.json").c_str(), &st) == 0) return installed;
  }
  return built_from;
}

}  // namespace beatbook
