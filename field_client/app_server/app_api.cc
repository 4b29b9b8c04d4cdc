#include "field_client/app_server/app_api.h"

#include <algorithm>

#include "beatbook/crypto.h"
#include "beatbook/datetime.h"
#include "beatbook/shared_tablet.h"
#include "beatbook/tunables.h"
#include "field_client/app_server/app_files.h"
#include "field_client/app_server/app_reply.h"

namespace field_client {

using beatbook::Status;
using nlohmann::json;

const char kAppCsp[] =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

namespace {

constexpr char kSessionCookie[] = "bb_session";
constexpr std::size_t kMaxSessions = 16;

// The value of cookie `name` in a Cookie header, or "".
std::string CookieValue(const std::string& header, const std::string& name) {
  std::size_t at = 0;
  while (at < header.size()) {
    std::size_t end = header.find(';', at);
    if (end == std::string::npos) end = header.size();
    std::string pair = header.substr(at, end - at);
    pair.erase(0, pair.find_first_not_of(' '));
    if (pair.rfind(name + "=", 0) == 0) return pair.substr(name.size() + 1);
    at = end + 1;
  }
  return "";
}

}  // namespace

AppApi::AppApi(AppOptions options)
    : options_(std::move(options)),
      clock_(options_.clock ? options_.clock : beatbook::SystemClock::Default()) {}

AppApi::~AppApi() = default;

Status AppApi::Start() {
  shared_ = beatbook::UsesPins(options_.data);
  if (shared_) return Status::OK();  // locked until a worker signs in
  return beatbook::LocalStore::Open(options_.data, {}, &store_);
}

void AppApi::SetOrigin(const std::string& host_port) { origin_ = host_port; }

std::size_t AppApi::BodyLimit(const Request& request) {
  // A camera's photo is larger than any JSON the page sends; only the app's own page, signed in,
  // may send one (the rest is refused after reading at most the usual limit).
  std::lock_guard<std::mutex> lock(mu_);
  Response refused;
  const bool photo =
      request.Path() == "/app/api/photos" && SameMachine(request, &refused) && HasSession(request);
  return photo ? beatbook::tunables::kMaxAttachmentBytes : beatbook::tunables::kMaxAppBodyBytes;
}

AppApi::Response AppApi::Handle(const Request& request) {
  std::lock_guard<std::mutex> lock(mu_);
  Response r;
  try {
    r = Route(request);
  } catch (const std::exception& e) {
    r = AppError(500, "internal", std::string("internal error: ") + e.what());
  }
  if (r.content_type.empty()) r.headers.push_back({"Cache-Control", "no-store"});
  r.headers.push_back({"X-Content-Type-Options", "nosniff"});
  r.headers.push_back({"Referrer-Policy", "no-referrer"});
  return r;
}

bool AppApi::SameMachine(const Request& request, Response* refused) const {
  // The Host a browser sends names the page's origin: anything but this machine's address and
  // port is a page elsewhere that made a name resolve here (DNS rebinding).
  const std::string& host = request.Header("host");
  std::string port = origin_.substr(origin_.rfind(':') + 1);
  bool host_ok = host == origin_ || host == "localhost:" + port;
  if (!host_ok) {
    *refused = AppError(403, "foreign_host", "this app answers only to " + origin_);
    return false;
  }
  const std::string& origin = request.Header("origin");
  if (!origin.empty() && origin != "http://" + host) {
    *refused = AppError(403, "foreign_origin", "requests from other pages are refused");
    return false;
  }
  return true;
}

bool AppApi::HasSession(const Request& request) const {
  const std::string& key = request.Header("x-beatbook-key");
  if (!key.empty()) return beatbook::ConstantTimeEquals(key, options_.launch_key);
  std::string cookie = CookieValue(request.Header("cookie"), kSessionCookie);
  if (cookie.empty()) return false;
  return std::any_of(sessions_.begin(), sessions_.end(),
                     [&](const std::string& s) { return beatbook::ConstantTimeEquals(s, cookie); });
}

AppApi::Response AppApi::StartSession(const Request& request) {
  json body = json::parse(request.body, nullptr, false);
  if (!body.is_object() || !body.value("key", json()).is_string() ||
      !beatbook::ConstantTimeEquals(body["key"].get<std::string>(), options_.launch_key)) {
    return AppError(401, "wrong_key",
                    "this is not the address field_client printed: open the one it printed");
  }
  std::string token = beatbook::RandomSecret(32);
  sessions_.push_back(token);
  if (sessions_.size() > kMaxSessions) sessions_.pop_front();
  Response r(200, json::object());
  r.headers.push_back({"Set-Cookie", std::string(kSessionCookie) + "=" + token +
                                         "; HttpOnly; SameSite=Strict; Path=/app"});
  return r;
}

AppApi::Response AppApi::StaticFile(const std::string& path) const {
  std::string name = path == "/" ? "index.html" : path.substr(std::string("/app/").size());
  const beatbook::http::StaticFile* file = beatbook::http::FindStaticFile(AppFiles(), name);
  if (file == nullptr) return AppError(404, "not_found", "no page " + path);
  Response r;
  r.status = 200;
  r.raw = std::string(file->content);
  r.content_type = beatbook::http::ContentTypeFor(name);
  r.headers.push_back({"Content-Security-Policy", kAppCsp});
  return r;
}

AppApi::Response AppApi::Route(const Request& request) {
  if (Response refused; !SameMachine(request, &refused)) return refused;
  const std::string path = request.Path();
  const std::string& method = request.method;
  if (method == "GET" &&
      (path == "/" || (path.rfind("/app/", 0) == 0 && path.rfind("/app/api/", 0) != 0))) {
    return StaticFile(path);
  }
  if (path == "/app/session") {
    if (method != "POST") return AppError(405, "method_not_allowed", "use POST");
    return StartSession(request);
  }
  if (path.rfind("/app/api/", 0) != 0) return AppError(404, "not_found", "no page " + path);
  if (!HasSession(request)) {
    return AppError(401, "not_signed_in_to_app",
                    "open the app from the address field_client printed");
  }
  // A shared tablet's worker is signed out after a while without a request.
  std::int64_t now = clock_->NowMs();
  if (shared_ && store_ && now - last_request_ms_ > options_.idle_timeout_ms) store_.reset();
  last_request_ms_ = now;

  const std::string api = path.substr(std::string("/app/api").size());
  if (api == "/state" && method == "GET") return State();
  if (api == "/signin" && method == "POST") return SignIn(request);
  if (api == "/signout" && method == "POST") return SignOut();
  if (!store_) return AppError(401, "locked", "sign in with your PIN first");

  // A photo's body is its bytes, not JSON.
  if (api.rfind("/photos", 0) == 0) {
    if (api == "/photos" && method == "POST") return AddPhoto(request);
    if (api.rfind("/photos/", 0) == 0 && method == "GET") return GetPhoto(api.substr(8));
    return AppError(405, "method_not_allowed", "POST a photo, GET one by name");
  }
  json body;
  if (method == "POST" || method == "PUT") {
    body = json::parse(request.body, nullptr, false);
    if (!body.is_object()) return AppError(400, "bad_request", "the request body is not JSON");
  }
  auto id_after = [&](const std::string& prefix) {
    return api.rfind(prefix, 0) == 0 ? api.substr(prefix.size()) : std::string();
  };
  if (api == "/forms" && method == "GET") return Forms();
  if (api == "/check" && method == "POST") return Check(body);
  if (api == "/records" && method == "GET") return ListRecords(request);
  if (api == "/records" && method == "POST") return CreateRecord(body);
  if (std::string id = id_after("/records/"); !id.empty()) {
    if (method == "GET") return GetRecord(id);
    if (method == "PUT") return EditRecord(id, body);
    if (method == "DELETE") return DeleteRecord(id);
  }
  if (api == "/drafts" && method == "GET") return ListDrafts();
  if (api == "/drafts" && method == "POST") return SaveDraft("", body);
  if (std::string id = id_after("/drafts/"); !id.empty()) {
    if (method == "PUT") return SaveDraft(id, body);
    if (method == "DELETE") return DeleteDraft(id);
  }
  if (api == "/language" && method == "PUT") return SetLanguage(body);
  if (api == "/sync" && method == "POST") return Sync();
  if (api == "/returns" && method == "GET") return Returns(request);
  return AppError(404, "not_found", "no " + method + " " + path + " (see docs/app-api.md)");
}

AppApi::Response AppApi::SignIn(const Request& request) {
  if (!shared_) return State();  // nothing to sign in to: the device's one worker
  json body = json::parse(request.body, nullptr, false);
  if (!body.is_object() || !body.value("pin", json()).is_string()) {
    return AppError(400, "bad_request", "send the PIN as {\"pin\": \"...\"}");
  }
  store_.reset();
  Status s = beatbook::SignInWorker(options_.data, body["pin"].get<std::string>(),
                                    {clock_, nullptr, 0}, &store_);
  if (!s.ok()) {
    store_.reset();
    bool waiting = s.message().find("try again in") != std::string::npos;
    if (s.code() == Status::Code::kPermissionDenied) {
      return AppError(waiting ? 429 : 401, waiting ? "wait" : "wrong_pin", Sentence(s.message()));
    }
    return AppError(400, "bad_request", Sentence(s.message()));
  }
  return State();
}

AppApi::Response AppApi::SignOut() {
  if (shared_) store_.reset();
  return State();
}

AppApi::Response AppApi::State() {
  std::int64_t now = clock_->NowMs();
  std::int64_t local_hour = (now + beatbook::LondonOffsetMs(now)) / 3'600'000 % 24;
  json state = {{"locked", store_ == nullptr},
                {"shared", shared_},
                {"worker", nullptr},
                {"pending", 0},
                {"drafts", 0},
                {"needs_fixing", 0},
                {"last_sync", nullptr},
                {"last_sync_error", last_sync_error_.empty() ? json() : json(last_sync_error_)},
                {"idle_timeout_s", options_.idle_timeout_ms / 1000},
                // After dusk (judgement: 18:00 to 07:00 in Europe/London), dark by default.
                {"dark_hint", local_hour >= 18 || local_hour < 7}};
  if (!store_) return Response(200, state);
  const beatbook::Identity& me = store_->identity();
  std::string org_label = me.org;
  if (const auto* orgs = store_->forms().List("org")) {
    for (const auto& c : *orgs) {
      if (c.code == me.org) org_label = c.label;
    }
  }
  state["worker"] = {{"user", me.user},
                     {"org", me.org},
                     {"org_label", org_label},
                     {"role", beatbook::RoleName(me.role)},
                     {"language", Language()}};
  beatbook::StoreSummary summary;
  std::vector<beatbook::Draft> drafts;
  SyncStates states;
  if (Status s = store_->Summary(&summary); !s.ok()) return StoreError(s);
  if (Status s = store_->ListDrafts(&drafts); !s.ok()) return StoreError(s);
  if (Status s = LoadSyncStates(&states); !s.ok()) return StoreError(s);
  // Records, not changes: a record logged then edited before a sync is one thing not sent yet.
  state["pending"] = states.waiting.size();
  state["drafts"] = drafts.size();
  state["needs_fixing"] = states.refused.size();
  if (summary.last_sync_ms) state["last_sync"] = beatbook::FormatIsoUtc(summary.last_sync_ms);
  return Response(200, state);
}

}  // namespace field_client
