// Running the real binaries from tests: a command with its output and exit code, and a
// sync_server started on 127.0.0.1 with a free port.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

#include "support/schema_dir.h"

namespace beatbook::test {

struct CommandResult {
  int exit_code = -1;  // 128 + signal if killed
  std::string out;
  std::string err;
};

// Runs `argv` (argv[0] is the program path) to completion, feeding `input` on stdin, with extra
// environment variables `env`. Gives up (and kills it) after `timeout_sec`.
CommandResult Run(const std::vector<std::string>& argv, const std::string& input = "",
                  const std::map<std::string, std::string>& env = {}, int timeout_sec = 120);

// Starts a program in the background with stdout to a pipe; returns its pid. Its stderr goes to
// `stderr_path` when given (appended), else where the test's goes.
pid_t Spawn(const std::vector<std::string>& argv, int* stdout_fd,
            const std::map<std::string, std::string>& env = {},
            const std::string& stderr_path = "");

// A real sync_server serving `data_dir` on 127.0.0.1 with a port the OS picked.
class ServerProcess {
 public:
  // `args` are added to `serve --data DIR --listen ...`, e.g. {"--rate-limit", "1"}. The request
  // log is at "warn" unless `args` set --log-level.
  explicit ServerProcess(std::string data_dir, std::map<std::string, std::string> env = {},
                         std::vector<std::string> args = {});
  ~ServerProcess();  // stops it (SIGTERM, then SIGKILL)
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // Sends its stderr (the log) to `path` from the next Start on.
  void CaptureStderr(const std::string& path) { stderr_path_ = path; }
  // Starts it and waits (bounded) for "listening on HOST:PORT". False if it did not come up.
  bool Start(int port = 0);
  // SIGTERM and wait; returns the exit status (0 for a clean stop).
  int Stop();
  // SIGKILL and wait: a crash.
  void Kill();
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  const std::string& url() const { return url_; }
  int port() const { return port_; }

 private:
  std::string data_dir_;
  std::map<std::string, std::string> env_;
  std::vector<std::string> args_;
  std::string stderr_path_;
  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::string url_;
  int port_ = 0;
};

// Paths of the built programs (set by CMake).
std::string FieldClientBin();
std::string SyncServerBin();

}  // namespace beatbook::test
