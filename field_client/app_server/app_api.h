// AppApi: the worker's app served by the device itself (`field_client app`), as a handler for the
// shared HTTP server (beatbook/http/server.h). It serves the page's files (field_client/app/,
// compiled in) and the local JSON API of docs/app-api.md over the device's own store: forms,
// records, drafts, sync, and a partner lead's returns.
//
//   AppApi app({"/data/tablet", RandomSecret(32)});
//   http::HttpServer server(&app, 1);
//   server.Listen("127.0.0.1", 0, &bound);
//   app.SetOrigin(bound);                     // requests must name this host and port
//   server.Run();
//
// Who may call it: only the page opened with the launch key (a cookie it gets for the key, or
// the X-Beatbook-Key header), only with this machine's own Host and Origin (no DNS rebinding, no
// CORS). A shared tablet's worker signs in with their PIN; the app signs them out after
// `idle_timeout_ms` without a request. Requests are handled one at a time (the store is not
// thread-safe), so the command line can use the store at the same time through SQLite.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "beatbook/clock.h"
#include "beatbook/http/handler.h"
#include "beatbook/local_store.h"
#include "beatbook/tunables.h"

namespace field_client {

struct AppOptions {
  std::string data;                        // the device's store directory
  std::string launch_key;                  // the secret printed with the app's address
  const beatbook::Clock* clock = nullptr;  // nullptr: the system clock
  std::int64_t idle_timeout_ms = beatbook::tunables::kAppIdleTimeoutMs;
};

class AppApi final : public beatbook::http::Handler {
 public:
  explicit AppApi(AppOptions options);
  ~AppApi() override;

  // Opens the store of a device without PINs (a shared tablet starts locked). Errors as
  // LocalStore::Open's.
  beatbook::Status Start();
  // The "HOST:PORT" the server listens on: every request's Host (and Origin) must name it.
  void SetOrigin(const std::string& host_port);

  beatbook::http::Response Handle(const beatbook::http::Request& request) override;
  std::size_t BodyLimit(const beatbook::http::Request& header_only) override;

 private:
  using Request = beatbook::http::Request;
  using Response = beatbook::http::Response;

  // Routing and who may call (app_api.cc).
  Response Route(const Request& request);
  bool SameMachine(const Request& request, Response* refused) const;
  bool HasSession(const Request& request) const;
  Response StartSession(const Request& request);
  Response StaticFile(const std::string& path) const;
  Response SignIn(const Request& request);
  Response SignOut();
  Response State();

  // Records, drafts and forms (app_records.cc).
  Response Forms();
  Response Check(const nlohmann::json& body);
  Response UnusualFigure(const std::string& form, const std::string& org,
                         const nlohmann::json& fields);
  Response CreateRecord(const nlohmann::json& body);
  Response ListRecords(const Request& request);
  Response GetRecord(const std::string& id);
  Response EditRecord(const std::string& id, const nlohmann::json& body);
  Response DeleteRecord(const std::string& id);
  Response ListDrafts();
  Response SaveDraft(const std::string& id, const nlohmann::json& body);
  Response DeleteDraft(const std::string& id);
  // Languages (app_language.cc).
  // The language the worker chose (the default until they choose).
  std::string Language();
  // [{"code", "name"}] of the given language codes.
  nlohmann::json LanguagesJson(const std::vector<std::string>& codes) const;
  Response SetLanguage(const nlohmann::json& body);
  // Photos (app_photos.cc): a picture for a question, kept sealed; and shown back.
  Response AddPhoto(const Request& request);
  Response GetPhoto(const std::string& name);
  // {"NAME": "uploaded" | "waiting" | "elsewhere"} for the photos `record` names.
  nlohmann::json PhotoStates(const beatbook::RecordState& record);
  // Sync and returns (app_sync.cc).
  Response Sync();
  Response Returns(const Request& request);

  // Which records wait to be sent, and why the server refused those it refused: read once per
  // request (the outbox is sealed: reading it per record would unseal it once per record).
  struct SyncStates {
    std::set<std::string> waiting;
    std::map<std::string, std::string> refused;  // record id -> the latest reason
  };
  beatbook::Status LoadSyncStates(SyncStates* out);
  // The record as the page shows it, with its sync state, its form's name in `language`.
  nlohmann::json RecordJson(const beatbook::RecordState& record, const SyncStates& states,
                            const std::string& language);
  // Whether this worker may use the form at all (partner returns: leads and the coordinator).
  bool MayUseForm(const std::string& form) const;

  AppOptions options_;
  const beatbook::Clock* clock_;
  std::string origin_;                           // "127.0.0.1:PORT"
  std::mutex mu_;                                // one request at a time
  bool shared_ = false;                          // a tablet whose workers sign in with PINs
  std::unique_ptr<beatbook::LocalStore> store_;  // null while locked
  std::deque<std::string> sessions_;             // the page's session cookies, newest last
  std::int64_t last_request_ms_ = 0;
  std::string last_sync_error_;
};

// The Content-Security-Policy of the app's files (docs/app-api.md).
extern const char kAppCsp[];

}  // namespace field_client
