// field_client's commands (docs/interfaces.md). Each returns the process exit code and
// prints errors itself; main.cc only parses the command line.
#pragma once

#include <string>
#include <vector>

namespace field_client {

struct InitOptions {
  std::string data;
  std::string user, org, role;  // stand-alone
  std::string schema;           // stand-alone: forms directory
  std::string server, token;    // enrolment
  std::string ca;
  std::string device_name;
  bool pin = false;  // sign this worker in with a PIN (also when FIELD_CLIENT_PIN is set)
  bool allow_insecure_http = false;  // plain http:// to a server beyond loopback (kept)
};
int RunInit(const InitOptions& o);
// init --server --token: enrolment (commands_sync.cc).
int RunEnrol(const InitOptions& o);

// The forms this worker may log, in `language` ("": the language they chose, `language`).
int RunForms(const std::string& data, bool as_json, const std::string& language);
// The partnership's named places (schema/places.json), in the worker's language.
int RunPlaces(const std::string& data, bool as_json);
// Shows the languages forms may be in, the worker's marked; with `language`, chooses it first.
int RunLanguage(const std::string& data, const std::string& language, bool as_json);

struct LogOptions {
  std::string data;
  std::string form;
  std::vector<std::string> sets;  // FIELD=VALUE
  std::string occurred_at;
  std::string json_file;  // "-" for stdin
  // A person, turned into the form's person key on the device (never stored or sent).
  std::string subject_name, subject_dob;
  bool confirm_unusual = false;  // a return figure far outside its history is meant
  std::string entered_for;       // the coordinator enters a return on this owner's behalf
  bool draft = false;  // keep as a draft (not validated, never synced) instead of a record
};
int RunLog(const LogOptions& o);

int RunList(const std::string& data, const std::string& form, bool as_json);
int RunShow(const std::string& data, const std::string& id, bool as_json);
int RunEdit(const std::string& data, const std::string& id, const std::vector<std::string>& sets,
            const std::string& occurred_at, bool confirm_unusual = false);
// What this device's org still owes (partner leads), from the returns on the device.
int RunOwed(const std::string& data, int fy, const std::string& quarter, bool as_json);
int RunDelete(const std::string& data, const std::string& id);
// Attaches the photo in `file` to record `id`'s image question `field` (commands_photos.cc).
int RunAttach(const std::string& data, const std::string& id, const std::string& field,
              const std::string& file);
int RunStatus(const std::string& data, bool as_json);

struct SyncCommandOptions {
  std::string data;
  bool as_json = false;
  std::string ca;
  int timeout_sec = 0;  // per request; 0: tunables::kTransferTimeoutMs
  int retries = -1;     // per request after a network error or 5xx; -1: tunables::kRetryAttempts
  bool allow_insecure_http = false;  // this once, besides what init kept
};
int RunSync(const SyncCommandOptions& o);
// Replaces the device's credential now (sync also does it every 30 days).
int RunRotate(const SyncCommandOptions& o);

struct ReportCommandOptions {
  std::string data;
  int fy = 0;
  std::string quarter;
  std::string format = "table";
  std::string ca;
  bool allow_insecure_http = false;  // this once, besides what init kept
};
int RunReport(const ReportCommandOptions& o);

struct AppCommandOptions {
  std::string data;
  std::string listen = "127.0.0.1:0";  // loopback only
};
// Serves the worker's app on loopback until SIGINT/SIGTERM (commands_app.cc).
int RunApp(const AppCommandOptions& o);

// Drafts from the command line: list, finish (store as a record) or discard.
int RunDrafts(const std::string& data, bool as_json);
int RunFinishDraft(const std::string& data, const std::string& id,
                   const std::vector<std::string>& sets = {});
int RunDiscardDraft(const std::string& data, const std::string& id);

}  // namespace field_client
