#include "beatbook/shared_tablet.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "beatbook/crypto.h"
#include "beatbook/key_files.h"
#include "beatbook/tunables.h"

namespace beatbook {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr char kWorkersDir[] = "workers";
constexpr char kKeyFile[] = "key.json";
constexpr char kLegacySignInFile[] = "signin.json";  // the tablet-wide count of old
constexpr char kSignInLockFile[] = "signin.lock";
constexpr char kSingleStoreFile[] = "beatbook.db";  // a device without PINs (LocalStore's file)

Status ReadJsonFile(const fs::path& path, json* out) {
  std::ifstream in(path);
  if (!in) return Status::NotFound("cannot read " + path.string());
  try {
    *out = json::parse(in);
  } catch (const json::exception& e) {
    return Status::Corruption(path.string() + " is unreadable: " + e.what());
  }
  return Status::OK();
}

// The workers' store directories, each with its key file, in a stable order.
std::vector<fs::path> WorkerDirs(const std::string& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(fs::path(dir) / kWorkersDir, ec)) {
    if (fs::exists(entry.path() / kKeyFile, ec)) out.push_back(entry.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Which worker `pin` belongs to, and their data key; NotFound if nobody's.
Status FindWorker(const std::string& dir, const std::string& pin, fs::path* worker_dir,
                  DataKey* key) {
  for (const fs::path& w : WorkerDirs(dir)) {
    json key_file;
    BB_RETURN_IF_ERROR(ReadJsonFile(w / kKeyFile, &key_file));
    Status s = UnwrapKeyWithPin(key_file, pin, key);
    if (s.ok()) {
      *worker_dir = w;
      return Status::OK();
    }
    if (s.code() != Status::Code::kPermissionDenied) return s;
  }
  return Status::NotFound("no worker on this tablet has that PIN");
}

// Wrong-PIN bookkeeping, kept per worker in their key file ("attempts"): a wrong PIN is a failed
// attempt at every worker's store, and a right one clears only its own worker's count. So
// signing in as oneself does not reset the count against a colleague, and there is no separate
// file whose deletion would: a worker's key file is the worker.
struct SignInState {
  int failures = 0;
  std::int64_t last_failure_ms = 0;
};

SignInState ReadSignInState(const json& key_file) {
  SignInState st;
  if (key_file.contains("attempts") && key_file["attempts"].is_object()) {
    st.failures = key_file["attempts"].value("failures", 0);
    st.last_failure_ms = key_file["attempts"].value("last_failure_ms", std::int64_t{0});
  }
  return st;
}

Status WriteSignInState(const fs::path& worker, json key_file, const SignInState& st) {
  key_file["attempts"] = {{"failures", st.failures}, {"last_failure_ms", st.last_failure_ms}};
  return WritePrivateFile((worker / kKeyFile).string(), key_file.dump(2) + "\n");
}

// How long from now attempts at this worker are still refused, in ms (0: one may be made).
std::int64_t WaitBeforeAttempt(const SignInState& st, std::int64_t now_ms) {
  int over = st.failures - tunables::kPinFreeAttempts;
  if (over < 0) return 0;
  std::int64_t wait = tunables::kPinBackoffBaseMs;
  for (int i = 0; i < over && wait < tunables::kPinBackoffCapMs; ++i) wait *= 2;
  wait = std::min(wait, tunables::kPinBackoffCapMs);
  return std::max<std::int64_t>(0, st.last_failure_ms + wait - now_ms);
}

const Clock* ClockOf(const LocalStoreOptions& options) {
  return options.clock ? options.clock : SystemClock::Default();
}

// Holds an exclusive lock on the tablet's attempt counts while it lives (flock: released if the
// process dies), so processes trying PINs at once each count.
class AttemptLock {
 public:
  explicit AttemptLock(const std::string& dir)
      : fd_(::open((fs::path(dir) / kSignInLockFile).c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600)) {
    if (fd_ >= 0) ::flock(fd_, LOCK_EX);
  }
  ~AttemptLock() {
    if (fd_ >= 0) ::close(fd_);  // closing releases the lock
  }
  bool ok() const { return fd_ >= 0; }

 private:
  int fd_;
};

// What BeginAttempt counted at each worker: their count before it, and when it counted.
struct Attempt {
  std::int64_t at_ms = 0;
  std::vector<std::pair<fs::path, SignInState>> before;
};

// Counts an attempt at every worker before the work of checking the PIN (Argon2id takes a
// while): a process killed meanwhile has still spent its try. PermissionDenied while any worker's
// count makes the tablet wait (a guess could be at any of them). Sets *failures to the highest
// count including this attempt; SettleAttempt takes it back from workers the PIN turns out not to
// have been aimed at.
Status BeginAttempt(const std::string& dir, const Clock* clock, int* failures, Attempt* attempt) {
  AttemptLock lock(dir);
  if (!lock.ok()) return Status::IoError("cannot lock the sign-in counts in " + dir);
  std::int64_t now = clock->NowMs();
  // A tablet from before counts were kept per worker: its count applies to every worker.
  SignInState legacy;
  json old;
  if (ReadJsonFile(fs::path(dir) / kLegacySignInFile, &old).ok() && old.is_object()) {
    legacy.failures = old.value("failures", 0);
    legacy.last_failure_ms = old.value("last_failure_ms", std::int64_t{0});
  }
  std::vector<std::pair<fs::path, json>> workers;
  std::int64_t wait = WaitBeforeAttempt(legacy, now);
  for (const fs::path& w : WorkerDirs(dir)) {
    json key_file;
    BB_RETURN_IF_ERROR(ReadJsonFile(w / kKeyFile, &key_file));
    SignInState st = ReadSignInState(key_file);
    wait = std::max(wait, WaitBeforeAttempt(st, now));
    workers.emplace_back(w, std::move(key_file));
  }
  if (wait > 0) {
    return Status::PermissionDenied("too many wrong PINs on this tablet: try again in " +
                                    std::to_string((wait + 999) / 1000) + " s");
  }
  *failures = 0;
  attempt->at_ms = now;
  for (auto& [w, key_file] : workers) {
    SignInState st = ReadSignInState(key_file);
    attempt->before.emplace_back(w, st);
    st.failures = std::max(st.failures, legacy.failures) + 1;
    st.last_failure_ms = now;
    *failures = std::max(*failures, st.failures);
    BB_RETURN_IF_ERROR(WriteSignInState(w, key_file, st));
  }
  std::error_code ec;
  fs::remove(fs::path(dir) / kLegacySignInFile, ec);
  return Status::OK();
}

// The PIN was right (it opened `matched`'s key), or an enrolment went through with a free PIN (a
// spent token; `matched` is the new worker): it was no guess at anyone else. Their counts go
// back to what they were before the attempt, unless another attempt has counted since; the
// matched worker's count starts again.
void SettleAttempt(const std::string& dir, const fs::path& matched, const Attempt& attempt) {
  AttemptLock lock(dir);
  json key_file;
  if (ReadJsonFile(matched / kKeyFile, &key_file).ok()) {
    WriteSignInState(matched, key_file, SignInState{}).ok();
  }
  for (const auto& [w, before] : attempt.before) {
    if (w == matched || !ReadJsonFile(w / kKeyFile, &key_file).ok()) continue;
    SignInState now = ReadSignInState(key_file);
    if (now.last_failure_ms != attempt.at_ms) continue;  // counted again since: keep
    WriteSignInState(w, key_file, before).ok();
  }
}

// CheckNewWorker, counting its probe of the PIN in *attempt (for AddWorker to settle).
Status CheckNewWorkerCounted(const std::string& dir, const std::string& pin,
                             const LocalStoreOptions& options, Attempt* attempt) {
  BB_RETURN_IF_ERROR(CheckPin(pin));
  std::error_code ec;
  if (fs::exists(fs::path(dir) / kSingleStoreFile, ec)) {
    return Status::AlreadyExists("the device in " + dir +
                                 " was set up without PINs and holds one worker's store; a "
                                 "shared tablet needs a new --data directory");
  }
  if (WorkerDirs(dir).empty()) return Status::OK();
  // Whether a PIN is taken says whose it could be: it is an attempt like a sign-in, and counts
  // (until an enrolment with it goes through).
  int failures = 0;
  BB_RETURN_IF_ERROR(BeginAttempt(dir, ClockOf(options), &failures, attempt));
  fs::path existing;
  DataKey key;
  Status s = FindWorker(dir, pin, &existing, &key);
  if (s.ok()) {
    return Status::AlreadyExists(
        "another worker on this tablet already uses that PIN; choose "
        "a different one");
  }
  return s.code() == Status::Code::kNotFound ? Status::OK() : s;
}

}  // namespace

bool UsesPins(const std::string& dir) { return !WorkerDirs(dir).empty(); }

Status CheckNewWorker(const std::string& dir, const std::string& pin,
                      const LocalStoreOptions& options) {
  Attempt counted;
  return CheckNewWorkerCounted(dir, pin, options, &counted);
}

Status AddWorker(const std::string& dir, const std::string& pin, const Identity& identity,
                 const FormSet& forms, const LocalStoreOptions& options,
                 std::unique_ptr<LocalStore>* out) {
  Attempt attempt;
  BB_RETURN_IF_ERROR(CheckNewWorkerCounted(dir, pin, options, &attempt));
  fs::path worker = fs::path(dir) / kWorkersDir / ("w-" + RandomSecret(9));
  std::error_code ec;
  fs::create_directories(worker, ec);
  if (ec) return Status::IoError("cannot create " + worker.string() + ": " + ec.message());
  ::chmod(worker.c_str(), 0700);

  // The store first, its key file last: a directory is a worker only once its key file is there,
  // so a crash in between leaves no worker that a PIN would pick and fail to open.
  auto key = std::make_shared<DataKey>(DataKey::Generate());
  json key_file;
  Status s = WrapKeyWithPin(*key, pin, &key_file);
  LocalStoreOptions with_key = options;
  with_key.key = key;
  if (s.ok()) s = LocalStore::Create(worker.string(), identity, forms, with_key, out);
  if (s.ok()) s = WritePrivateFile((worker / kKeyFile).string(), key_file.dump(2) + "\n");
  if (!s.ok()) {
    out->reset();
    fs::remove_all(worker, ec);
    return s;
  }
  SettleAttempt(dir, worker, attempt);
  return Status::OK();
}

Status SignInWorker(const std::string& dir, const std::string& pin,
                    const LocalStoreOptions& options, std::unique_ptr<LocalStore>* out) {
  int failures = 0;
  Attempt attempt;
  BB_RETURN_IF_ERROR(BeginAttempt(dir, ClockOf(options), &failures, &attempt));
  fs::path worker;
  auto key = std::make_shared<DataKey>();
  Status s = FindWorker(dir, pin, &worker, key.get());
  if (s.code() == Status::Code::kNotFound) {
    int left = tunables::kPinFreeAttempts - failures;
    return Status::PermissionDenied(
        "wrong PIN: no worker on this tablet has it" +
        (left > 0 ? " (" + std::to_string(left) + (left == 1 ? " more try" : " more tries") +
                        " before the tablet makes you wait)"
                  : std::string(" (the tablet now makes you wait before the next try)")));
  }
  BB_RETURN_IF_ERROR(s);
  SettleAttempt(dir, worker, attempt);
  LocalStoreOptions with_key = options;
  with_key.key = std::move(key);
  return LocalStore::Open(worker.string(), with_key, out);
}

}  // namespace beatbook
