#include "field_client/cli_support.h"

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "beatbook/datetime.h"
#include "beatbook/install_paths.h"
#include "beatbook/shared_tablet.h"
#include "beatbook/validation.h"

namespace field_client {

using beatbook::json;
using beatbook::Status;

int Fail(const beatbook::Status& s) {
  std::cerr << "field_client: " << s.message() << "\n";
  switch (s.code()) {
    case beatbook::Status::Code::kUnavailable:
      return kExitUnavailable;
    case beatbook::Status::Code::kUnauthenticated:
    case beatbook::Status::Code::kPermissionDenied:
      return kExitRefused;
    default:
      return kExitError;
  }
}

int Fail(const std::string& message) { return Fail(beatbook::Status::InvalidArgument(message)); }

namespace {

const char* PinFromEnvironment() {
  const char* pin = std::getenv("FIELD_CLIENT_PIN");
  return pin && *pin ? pin : nullptr;
}

// Reads one line from the terminal with echo off. False if there is no terminal.
bool AskTerminal(const std::string& prompt, std::string* answer) {
  int fd = ::open("/dev/tty", O_RDWR | O_CLOEXEC);
  if (fd < 0) return false;
  termios old{};
  bool restore = ::tcgetattr(fd, &old) == 0;
  if (restore) {
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(fd, TCSAFLUSH, &quiet);
  }
  ssize_t ignored = ::write(fd, prompt.data(), prompt.size());
  answer->clear();
  char c;
  while (::read(fd, &c, 1) == 1 && c != '\n') answer->push_back(c);
  if (restore) ::tcsetattr(fd, TCSAFLUSH, &old);
  ignored = ::write(fd, "\n", 1);
  (void)ignored;
  ::close(fd);
  return true;
}

}  // namespace

bool InitWantsPin(bool pin_flag) { return pin_flag || PinFromEnvironment() != nullptr; }

beatbook::Status ReadPin(const std::string& prompt, bool confirm, std::string* pin) {
  if (const char* env = PinFromEnvironment()) {
    *pin = env;
    return beatbook::Status::OK();
  }
  if (!AskTerminal(prompt, pin)) {
    return beatbook::Status::FailedPrecondition(
        "this tablet signs workers in with a PIN: set FIELD_CLIENT_PIN, or run on a terminal");
  }
  std::string again;
  if (confirm && (!AskTerminal("same PIN again: ", &again) || again != *pin)) {
    return beatbook::Status::InvalidArgument("the two PINs typed differ; nothing was changed");
  }
  return beatbook::Status::OK();
}

beatbook::Status OpenStore(const std::string& dir, std::unique_ptr<beatbook::LocalStore>* out) {
  if (!beatbook::UsesPins(dir)) return beatbook::LocalStore::Open(dir, {}, out);
  std::string pin;
  BB_RETURN_IF_ERROR(ReadPin("PIN: ", /*confirm=*/false, &pin));
  return beatbook::SignInWorker(dir, pin, {}, out);
}

beatbook::Status PrepareNewStore(const std::string& dir, bool pin_flag, std::string* pin) {
  pin->clear();
  if (!InitWantsPin(pin_flag)) {
    if (beatbook::UsesPins(dir)) {
      return beatbook::Status::AlreadyExists(
          "the tablet in " + dir +
          " signs workers in with PINs: add this worker with --pin (or FIELD_CLIENT_PIN)");
    }
    return beatbook::Status::OK();
  }
  BB_RETURN_IF_ERROR(ReadPin("new worker's PIN: ", /*confirm=*/true, pin));
  return beatbook::CheckNewWorker(dir, *pin, {});
}

beatbook::Status CreateStore(const std::string& dir, const std::string& pin,
                             const beatbook::Identity& identity, const beatbook::FormSet& forms,
                             std::unique_ptr<beatbook::LocalStore>* out) {
  if (pin.empty()) return beatbook::LocalStore::Create(dir, identity, forms, {}, out);
  return beatbook::AddWorker(dir, pin, identity, forms, {}, out);
}

std::string SchemaDir(const std::string& flag) {
  return beatbook::SchemaDirFor(flag, BEATBOOK_SCHEMA_DIR);
}

void PrintTable(std::ostream& out, const std::vector<std::string>& header,
                const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(header.size());
  for (size_t c = 0; c < header.size(); ++c) width[c] = header[c].size();
  for (const auto& row : rows) {
    for (size_t c = 0; c < row.size() && c < width.size(); ++c) {
      width[c] = std::max(width[c], row[c].size());
    }
  }
  auto line = [&](const std::vector<std::string>& cells) {
    for (size_t c = 0; c < cells.size(); ++c) {
      out << cells[c];
      if (c + 1 < cells.size()) out << std::string(width[c] - cells[c].size() + 2, ' ');
    }
    out << "\n";
  };
  line(header);
  for (const auto& row : rows) line(row);
}

std::string HumanTime(std::int64_t epoch_ms) {
  if (epoch_ms == 0) return "never";
  std::string iso = beatbook::FormatIsoUtc(epoch_ms);  // 2023-06-01T21:15:00Z
  return iso.substr(0, 10) + " " + iso.substr(11, 5) + " UTC";
}

// Turns --set FIELD=VALUE arguments into typed values for `form`.
Status ParseSets(const beatbook::FormDef& form, const std::vector<std::string>& sets, json* out) {
  *out = json::object();
  for (const auto& s : sets) {
    auto eq = s.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Status::InvalidArgument("--set '" + s + "' is not FIELD=VALUE");
    }
    std::string name = s.substr(0, eq);
    const beatbook::FieldDef* field = form.Find(name);
    if (field == nullptr) {
      return Status::InvalidArgument("field '" + name + "' is not a field of form '" + form.name +
                                     "'");
    }
    if (out->contains(name)) return Status::InvalidArgument("field '" + name + "' is set twice");
    json value;
    BB_RETURN_IF_ERROR(beatbook::ParseFieldText(*field, s.substr(eq + 1), &value));
    (*out)[name] = value;
  }
  return Status::OK();
}

}  // namespace field_client
