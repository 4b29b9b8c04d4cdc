#include "beatbook/fault.h"

#include <unistd.h>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <string>

namespace beatbook {

namespace {
struct FaultConfig {
  std::string name;
  long hits_left = 0;  // dies when this reaches 0
};

FaultConfig* Config() {
  static FaultConfig* config = [] {
    const char* env = std::getenv("BEATBOOK_FAULT");
    if (env == nullptr || *env == '\0') return static_cast<FaultConfig*>(nullptr);
    auto* c = new FaultConfig;
    std::string spec(env);
    auto colon = spec.find(':');
    c->name = spec.substr(0, colon);
    c->hits_left =
        colon == std::string::npos ? 1 : std::strtol(spec.c_str() + colon + 1, nullptr, 10);
    return c;
  }();
  return config;
}
}  // namespace

void HitFaultPoint(const char* name) {
  FaultConfig* c = Config();
  if (c == nullptr || c->name != name) return;
  if (--c->hits_left <= 0) {
    // SIGKILL, like a power cut: no destructors, no flushing, no atexit handlers.
    ::kill(::getpid(), SIGKILL);
    ::_exit(137);
  }
}

long FaultSetting(const char* env_name) {
  const char* v = std::getenv(env_name);
  return v ? std::strtol(v, nullptr, 10) : 0;
}

std::vector<std::string> FaultHookWarnings() {
  std::vector<std::string> warnings;
  if (const FaultConfig* c = Config()) {
    bool known = false;
    for (const char* point : kFaultPoints) known = known || c->name == point;
    warnings.push_back(known ? "BEATBOOK_FAULT=" + std::string(std::getenv("BEATBOOK_FAULT")) +
                                   " is set: this process will kill itself at fault point '" +
                                   c->name + "' (a test hook; unset it outside tests)"
                             : "BEATBOOK_FAULT names no known fault point ('" + c->name +
                                   "'): it does nothing (a test hook; unset it outside tests)");
  }
  if (long pages = FaultSetting("BEATBOOK_FAULT_STORE_MAX_PAGES"); pages > 0) {
    warnings.push_back("BEATBOOK_FAULT_STORE_MAX_PAGES=" + std::to_string(pages) +
                       " is set: the central store will refuse to grow past " +
                       std::to_string(pages) +
                       " pages, as if the disk were full (a test hook; unset it outside tests)");
  }
  return warnings;
}

}  // namespace beatbook
