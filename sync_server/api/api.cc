#include "sync_server/api/api.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <set>

#include "beatbook/crypto.h"
#include "beatbook/datetime.h"
#include "beatbook/fault.h"
#include "beatbook/indicators.h"
#include "beatbook/permissions.h"
#include "beatbook/report.h"
#include "beatbook/role.h"
#include "beatbook/tunables.h"
#include "beatbook/validation.h"
#include "sync_server/api/attachments.h"
#include "sync_server/api/push.h"
#include "sync_server/api/push_decoder.h"
#include "sync_server/api/query.h"
#include "sync_server/report/coordinator_export.h"
#include "sync_server/report/quarterly_return.h"
#include "sync_server/report/returns_check.h"

namespace beatbook::server {

using nlohmann::json;

namespace {

const char* CodeFor(int status) {
  switch (status) {
    case 400:
      return "bad_request";
    case 401:
      return "unauthorized";
    case 403:
      return "forbidden";
    case 404:
      return "not_found";
    case 405:
      return "method_not_allowed";
    case 413:
      return "too_large";
    case 429:
      return "too_many_requests";
    case 503:
      return "unavailable";
    default:
      return status >= 500 ? "internal" : "error";
  }
}

}  // namespace

int HttpStatusFor(const Status& s) {
  switch (s.code()) {
    case Status::Code::kOk:
      return 200;
    case Status::Code::kInvalidArgument:
      return 400;
    case Status::Code::kUnauthenticated:
      return 401;
    case Status::Code::kPermissionDenied:
      return 403;
    case Status::Code::kNotFound:
      return 404;
    case Status::Code::kUnavailable:
      return 503;
    default:
      return 500;
  }
}

Api::Api(CentralStore* store, const FormSet* forms, const Catalogue* catalogue, const Clock* clock,
         ApiOptions options)
    : store_(store),
      forms_(forms),
      catalogue_(catalogue),
      clock_(clock),
      rate_clock_(options.rate_clock ? options.rate_clock : SteadyClock::Default()),
      device_idle_ms_(options.device_idle_ms),
      on_request_(std::move(options.on_request)) {
  if (options.requests_per_second > 0) {
    limiter_ =
        std::make_unique<RateLimiter>(options.requests_per_second, std::max(options.burst, 1.0));
  }
  if (options.failed_sign_ins_per_second > 0) {
    failed_sign_ins_ = std::make_unique<RateLimiter>(options.failed_sign_ins_per_second,
                                                     std::max(options.failed_sign_in_burst, 1.0));
  }
}

namespace {
ApiResponse TooManyRequests(const std::string& who, std::int64_t retry_ms) {
  int wait_sec = static_cast<int>((retry_ms + 999) / 1000);
  ApiResponse r =
      Api::Error(429, who + "; retry in " + std::to_string(wait_sec) + " s", "too_many_requests");
  r.retry_after_sec = wait_sec;
  return r;
}
}  // namespace

bool Api::SignInsBlocked(const ApiRequest& request, ApiResponse* refused) {
  std::int64_t retry_ms = 0;
  if (!failed_sign_ins_ || request.peer.empty() ||
      failed_sign_ins_->Check(request.peer, rate_clock_->NowMs(), &retry_ms)) {
    return false;
  }
  *refused = TooManyRequests("too many failed sign-ins from " + request.peer, retry_ms);
  return true;
}

void Api::NoteOutcome(const ApiRequest& request, const DeviceInfo& who,
                      const ApiResponse& response) {
  std::string path = request.target.substr(0, request.target.find('?'));
  if (!who.id.empty()) {
    // A recognised device refused (a role not allowed, or revoked): who tried what.
    if (response.status == 403) {
      Audit(who, "refused",
            {{"path", path},
             {"method", request.method},
             {"reason",
              response.body.contains("error") ? response.body["error"]["message"] : json("")}})
          .ok();  // best effort: the refusal stands either way
    }
    return;
  }
  // Unauthenticated and failed (a wrong credential or token, a malformed or unknown request):
  // counted against the address, so a flood of any kind of bad request slows down.
  if (response.status < 400 || response.status >= 500 || response.status == 429) return;
  std::int64_t now = rate_clock_->NowMs(), retry_ms = 0;
  bool counted = failed_sign_ins_ && !request.peer.empty();
  if (counted) failed_sign_ins_->Allow(request.peer, now, &retry_ms);
  AuditEvent event{
      0, clock_->NowMs(), "", "", "", "", "", {{"path", path}, {"peer", request.peer}}};
  if (response.status == 401) {
    // The device id claimed, never the secret.
    const std::string& h = request.authorization;
    std::string claimed = h.rfind("Bearer ", 0) == 0 ? h.substr(7, h.find('.') - 7) : "";
    event.action = "sign_in_failed";
    event.detail["claimed_device"] = TruncateUtf8(claimed, 100);
    store_->Audit(event).ok();  // best effort: the refusal stands either way
  }
  if (counted && !failed_sign_ins_->Check(request.peer, now, &retry_ms)) {
    event.action = "sign_in_blocked";
    event.detail["retry_after_ms"] = retry_ms;
    store_->Audit(event).ok();
  }
}

Status Api::Audit(const DeviceInfo& device, const std::string& action, json detail) {
  return store_->Audit({0, clock_->NowMs(), device.user, RoleName(device.role), device.org,
                        device.id, action, std::move(detail)});
}

ApiResponse Api::AuditFailed(const Status& s) {
  return Error(503, "the audit log could not be written (" + s.message() +
                        "); nothing is shown without it, retry later");
}

ApiResponse Api::Error(int status, const std::string& message, const std::string& code) {
  return {status,
          {{"error", {{"code", code.empty() ? CodeFor(status) : code}, {"message", message}}}}};
}

ApiResponse Api::Handle(const ApiRequest& request) {
  auto started = std::chrono::steady_clock::now();
  ApiResponse response;
  DeviceInfo who;  // the device whose credential Route recognised, if any
  try {
    response = Route(request, &who);
  } catch (const std::exception& e) {
    response = Error(500, std::string("internal error: ") + e.what());
  }
  NoteOutcome(request, who, response);
  if (response.status < 300 && response.content_type.empty()) {
    // Every success carries the server's clock, from which devices learn their offset, and the
    // store's epoch, from which they learn of a restore (docs/protocol.md, "Restores").
    std::int64_t now = clock_->NowMs();
    std::string epoch;
    if (Status s = CachedEpoch(&epoch); !s.ok()) {
      response = Error(503, "the store's epoch could not be read (" + s.message() + ")");
    } else if (response.raw.empty()) {
      response.body["server_time_ms"] = now;
      response.body["epoch"] = epoch;
    } else {  // a raw body is a non-empty object: "{" then its members
      response.raw.insert(
          1, "\"server_time_ms\":" + std::to_string(now) + ",\"epoch\":\"" + epoch + "\",");
    }
  }
  std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
  Record(request, who, took.count(), &response);
  return response;
}

Status Api::CachedEpoch(std::string* epoch) {
  std::lock_guard<std::mutex> lock(epoch_mu_);
  if (epoch_.empty()) BB_RETURN_IF_ERROR(store_->Epoch(&epoch_));
  *epoch = epoch_;
  return Status::OK();
}

namespace {

// A client's X-Request-Id is kept if it is short and plain (it goes into logs); else one is made.
std::string RequestId(const ApiRequest& request) {
  const std::string& given = request.Header("x-request-id");
  bool plain = !given.empty() && given.size() <= 64 &&
               std::all_of(given.begin(), given.end(), [](unsigned char c) {
                 return std::isalnum(c) || c == '-' || c == '_' || c == '.';
               });
  return plain ? given : RandomSecret(8);
}

}  // namespace

void Api::Record(const ApiRequest& request, const DeviceInfo& who, double seconds,
                 ApiResponse* response) {
  std::string path = request.Path();
  metrics_.CountRequest(path, response->status);
  RequestRecord r;
  r.request_id = RequestId(request);
  response->headers.emplace_back("X-Request-Id", r.request_id);
  if (!on_request_) return;
  r.method = request.method;
  r.endpoint = Metrics::EndpointLabel(path);
  r.peer = request.peer;
  r.device = who.id;
  r.user = who.user;
  r.org = who.org;
  r.status = response->status;
  r.seconds = seconds;
  const json& body = response->body;
  if (!response->raw.empty() || !body.is_object()) {
    // a page, a file or a pull: nothing more to say
  } else if (response->status >= 400) {
    auto error = body.find("error");
    if (error != body.end() && error->is_object() && error->contains("code")) {
      r.error = (*error)["code"].is_string() ? (*error)["code"].get<std::string>() : "";
    }
  } else if (r.endpoint == "/v1/push" && body.contains("applied")) {
    r.applied = body["applied"].get<std::int64_t>();
    r.rejected = body["rejected"].get<std::int64_t>();
  }
  on_request_(r);
}

std::size_t Api::BodyLimit(const ApiRequest& header_only) {
  const bool push = header_only.method == "POST" && header_only.Path() == "/v1/push";
  const bool chunk = header_only.method == "PUT" &&
                     AttachmentEndpoint(header_only.Path()) == "/v1/attachments/NAME/upload";
  if (!push && !chunk) return tunables::kMaxSmallBodyBytes;
  DeviceInfo device;
  ApiResponse denied;
  if (!Authenticate(header_only, &device, &denied)) return tunables::kMaxSmallBodyBytes;
  return push ? tunables::kMaxRequestBodyBytes : tunables::kAttachmentChunkBytes;
}

ApiResponse Api::Refuse(const ApiRequest& request, ApiResponse response) {
  // An address that must wait is told so, as for any other request.
  if (ApiResponse refused; SignInsBlocked(request, &refused)) return refused;
  NoteOutcome(request, DeviceInfo{}, response);
  return response;
}

ApiResponse Api::Route(const ApiRequest& request, DeviceInfo* who) {
  std::string path = request.target.substr(0, request.target.find('?'));
  std::string query =
      path.size() < request.target.size() ? request.target.substr(path.size() + 1) : std::string();
  auto expect = [&](const char* method) { return request.method == method; };
  // A photo's path names it; its endpoint is matched by shape. Its chunks are bytes, not JSON.
  const std::string photo_endpoint = AttachmentEndpoint(path);
  const std::string& endpoint_path = photo_endpoint.empty() ? path : photo_endpoint;
  if (photo_endpoint.empty() && !request.body.empty() &&
      JsonDepth(request.body) > tunables::kMaxJsonDepth) {
    return Error(400, "the request body nests arrays and objects deeper than " +
                          std::to_string(tunables::kMaxJsonDepth) + " levels");
  }
  if (path == "/v1/health") {
    if (!expect("GET")) return Error(405, "use GET for /v1/health");
    return {200, {{"status", "ok"}, {"protocol", 1}}};
  }
  if (path == "/" || path == "/dashboard" || path.rfind("/dashboard/", 0) == 0) {
    return DashboardFile(request, path);
  }
  if (path == "/metrics") {
    if (!expect("GET")) return Error(405, "use GET for /metrics");
    return MetricsPage(request, who);
  }
  // Every endpoint behind a credential: its method, the roles that may use it, and its handler.
  // Captureless lambdas here may call the Api's private handlers.
  struct Endpoint {
    const char* path;
    const char* method;
    RoleSet roles;
    ApiResponse (*handle)(Api& api, const DeviceInfo& device, const ApiRequest& request,
                          const std::string& query);
  };
  constexpr RoleSet kAnyone = RoleSet::All();
  constexpr RoleSet kCoordinator = {Role::kCoordinator};
  constexpr RoleSet kReaders = {Role::kCoordinator, Role::kBoard};
  // The safeguarding queue: the coordinator's, and the designated safeguarding lead's.
  constexpr RoleSet kSafeguarding = {Role::kCoordinator, Role::kSafeguardingLead};
  static const Endpoint kEndpoints[] = {
      {"/v1/forms", "GET", kAnyone,
       [](Api& a, const DeviceInfo& d, const ApiRequest&, const std::string&) {
         return a.Forms(d);
       }},
      {"/v1/rotate", "POST", kAnyone,
       [](Api& a, const DeviceInfo& d, const ApiRequest&, const std::string&) {
         return a.Rotate(d);
       }},
      {"/v1/signout", "POST", kAnyone,
       [](Api& a, const DeviceInfo& d, const ApiRequest&, const std::string&) {
         return a.SignOut(d);
       }},
      // Admins see the device list without record content (dashboard.cc).
      {"/v1/devices",
       "GET",
       {Role::kCoordinator, Role::kAdmin},
       [](Api& a, const DeviceInfo& d, const ApiRequest&, const std::string&) {
         return a.Devices(d);
       }},
      {"/v1/push", "POST", kRecordWriters,
       [](Api& a, const DeviceInfo& d, const ApiRequest& r, const std::string&) {
         return a.Push(d, r);
       }},
      {"/v1/pull", "GET", kRecordWriters,
       [](Api& a, const DeviceInfo& d, const ApiRequest&, const std::string& q) {
         return a.Pull(d, q);
       }},
      // What is still owed: a partner lead sees their own org's, the coordinator and board all.
      {"/v1/owed",
       "GET",
       {Role::kPartnerLead, Role::kCoordinator, Role::kBoard},
       [](Api& a, const DeviceInfo& d, const ApiRequest&, const std::string& q) {
         return a.Owed(d, q);
       }},
      // The return, its approvals and downloads: the coordinator's, and the board's to read.
      {"/v1/report", "GET", kReaders,
       [](Api& a, const DeviceInfo& d, const ApiRequest&, const std::string& q) {
         return a.Report(d, q);
       }},
      {"/v1/report.xlsx", "GET", kReaders,
       [](Api& a, const DeviceInfo& d, const ApiRequest&, const std::string& q) {
         return a.ReportWorkbook(d, q);
       }},
      {"/v1/orgs", "GET", kReaders,
       [](Api& a, const DeviceInfo&, const ApiRequest&, const std::string&) { return a.Orgs(); }},
      // Where things happen: counts per place for both, recorded points for the coordinator.
      {"/v1/hotspots", "GET", kReaders,
       [](Api& a, const DeviceInfo& d, const ApiRequest&, const std::string& q) {
         return a.Hotspots(d, q);
       }},
      {"/v1/approvals", "GET", kReaders,
       [](Api& a, const DeviceInfo&, const ApiRequest&, const std::string& q) {
         return a.Approvals(q);
       }},
      // Drill-downs, conflicts, record exports and approving: the coordinator's alone.
      {"/v1/conflicts", "GET", kCoordinator,
       [](Api& a, const DeviceInfo& d, const ApiRequest&, const std::string&) {
         return a.Conflicts(d);
       }},
      {"/v1/records", "GET", kCoordinator,
       [](Api& a, const DeviceInfo& d, const ApiRequest&, const std::string& q) {
         return a.Records(d, q);
       }},
      {"/v1/approve", "POST", kCoordinator,
       [](Api& a, const DeviceInfo& d, const ApiRequest& r, const std::string&) {
         return a.Approve(d, r);
       }},
      {"/v1/explain", "GET", kCoordinator,
       [](Api& a, const DeviceInfo& d, const ApiRequest&, const std::string& q) {
         return a.Explain(d, q);
       }},
      // The safeguarding queue (docs/safeguarding.md): sensitive, so the coordinator's and the
      // safeguarding lead's alone.
      {"/v1/safeguarding", "GET", kSafeguarding,
       [](Api& a, const DeviceInfo& d, const ApiRequest&, const std::string&) {
         return a.Safeguarding(d);
       }},
      {"/v1/safeguarding/acknowledge", "POST", kSafeguarding,
       [](Api& a, const DeviceInfo& d, const ApiRequest& r, const std::string&) {
         return a.FollowUpConcern(d, r, ConcernStep::kAcknowledge);
       }},
      {"/v1/safeguarding/action", "POST", kSafeguarding,
       [](Api& a, const DeviceInfo& d, const ApiRequest& r, const std::string&) {
         return a.FollowUpConcern(d, r, ConcernStep::kRecordAction);
       }},
      // Photos (docs/protocol.md, section 8): devices upload what their records name; the
      // coordinator reads them.
      {"/v1/attachments/NAME/upload", "GET", kRecordWriters,
       [](Api& a, const DeviceInfo& d, const ApiRequest& r, const std::string& q) {
         return a.UploadProgressOf(d, r, q);
       }},
      {"/v1/attachments/NAME/upload", "PUT", kRecordWriters,
       [](Api& a, const DeviceInfo& d, const ApiRequest& r, const std::string& q) {
         return a.UploadChunk(d, r, q);
       }},
      {"/v1/attachments/NAME", "GET", kCoordinator,
       [](Api& a, const DeviceInfo& d, const ApiRequest& r, const std::string& q) {
         return a.AttachmentFile(d, r, q);
       }},
  };
  // The endpoint with this path and method; else one with this path (a 405 names its method).
  const Endpoint* endpoint = nullptr;
  for (const auto& e : kEndpoints) {
    if (endpoint_path == e.path && (endpoint == nullptr || request.method == e.method)) {
      endpoint = &e;
    }
  }
  if (path != "/v1/enrol" && endpoint == nullptr) {
    return Error(404, "no endpoint " + path + " (see docs/protocol.md)");
  }
  // Every endpoint from here on is a sign-in: with a token or a credential.
  if (ApiResponse refused; SignInsBlocked(request, &refused)) return refused;
  if (path == "/v1/enrol") {
    if (!expect("POST")) return Error(405, "use POST for /v1/enrol");
    return Enrol(request);
  }
  if (!expect(endpoint->method)) {
    return Error(405, std::string("use ") + endpoint->method + " for " + path);
  }
  DeviceInfo device;
  if (ApiResponse denied; !SignIn(request, &device, who, &denied)) return denied;
  if (!endpoint->roles.Has(device.role)) {
    if (device.role == Role::kAdmin) return Error(403, "an admin device reads no record content");
    if (device.role == Role::kBoard) {
      return Error(403, "a board member reads the quarterly return only, not " + path);
    }
    return Error(403, "only " + endpoint->roles.Describe() + " may use " + path);
  }
  return endpoint->handle(*this, device, request, query);
}

bool Api::SignIn(const ApiRequest& request, DeviceInfo* device, DeviceInfo* who,
                 ApiResponse* denied) {
  bool signed_in = Authenticate(request, device, denied);
  if (!device->id.empty()) *who = *device;  // recognised, revoked or not
  if (!signed_in) return false;
  std::int64_t retry_ms = 0;
  if (limiter_ && !limiter_->Allow(device->id, rate_clock_->NowMs(), &retry_ms)) {
    *denied = TooManyRequests("device " + device->id + " made too many requests", retry_ms);
    return false;
  }
  return true;
}

ApiResponse Api::MetricsPage(const ApiRequest& request, DeviceInfo* who) {
  // A scraper on the server's own machine needs no credential; from anywhere else, an
  // operator's (coordinator or admin) does.
  if (!http::IsLoopbackHost(request.peer)) {
    if (ApiResponse refused; SignInsBlocked(request, &refused)) return refused;
    DeviceInfo device;
    if (ApiResponse denied; !SignIn(request, &device, who, &denied)) return denied;
    if (device.role != Role::kCoordinator && device.role != Role::kAdmin) {
      return Error(403, "only a coordinator or an admin may read /metrics from another machine");
    }
  }
  StoreGauges gauges;
  gauges.now_ms = clock_->NowMs();
  std::vector<DeviceInfo> devices;
  Status s = store_->ListDevices(&devices);
  if (s.ok()) s = store_->StoreBytes(&gauges.store_bytes);
  if (s.ok()) s = store_->LastBackup(&gauges.last_backup_ms);
  if (!s.ok()) return Error(HttpStatusFor(s), "the store could not be read: " + s.message());
  for (int days : {1, 7, 30}) gauges.quiet_for[days] = 0;
  for (const auto& d : devices) {
    if (d.revoked) continue;
    ++gauges.devices;
    // A device that never synced has been quiet since it was enrolled.
    std::int64_t last = std::max(d.last_sync_ms, d.enrolled_ms);
    for (auto& [days, n] : gauges.quiet_for) {
      if (gauges.now_ms - last >= std::int64_t{days} * 86'400'000) ++n;
    }
  }
  ApiResponse page;
  page.raw = metrics_.Render(gauges);
  page.content_type = "text/plain; version=0.0.4; charset=utf-8";
  page.headers.emplace_back("Cache-Control", "no-store");
  return page;
}

bool Api::Authenticate(const ApiRequest& request, DeviceInfo* device, ApiResponse* denied) {
  const std::string prefix = "Bearer ";
  const std::string& h = request.authorization;
  if (h.compare(0, prefix.size(), prefix) != 0) {
    *denied = Error(401, "missing credential: send 'Authorization: Bearer DEVICE_ID.SECRET'");
    return false;
  }
  std::string cred = h.substr(prefix.size());
  size_t dot = cred.find('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == cred.size()) {
    *denied = Error(401, "malformed credential: expected DEVICE_ID.SECRET");
    return false;
  }
  Status s = store_->Authenticate(cred.substr(0, dot), cred.substr(dot + 1), device);
  if (!s.ok()) {
    *device = DeviceInfo{};  // not recognised: the store may have read the claimed device
    *denied = Error(HttpStatusFor(s), s.message());
    return false;
  }
  if (Expired(*device, denied)) return false;
  if (device->revoked) {
    // A distinct code: the device wipes its data on it (a plain 403 means "not for your role").
    *denied = Error(403,
                    "this device has been revoked by the partnership; its local data must be "
                    "wiped",
                    "device_revoked");
    return false;
  }
  return true;
}

bool Api::Expired(const DeviceInfo& device, ApiResponse* denied) {
  std::int64_t now = clock_->NowMs();
  std::int64_t last_use = std::max(device.last_sync_ms, device.enrolled_ms);
  if (device.client == "dashboard") {
    if (now - device.enrolled_ms > tunables::kDashboardSessionMaxMs ||
        now - last_use > tunables::kDashboardSessionIdleMs) {
      *denied = Error(401, "this dashboard sign-in has expired; sign in again with a new code",
                      "session_expired");
      return true;
    }
    // The sign-in's last use, for the idle limit (written at most once a minute).
    if (now - last_use > tunables::kSessionTouchEveryMs) store_->NotePull(device.id, now).ok();
    return false;
  }
  if (device_idle_ms_ > 0 && now - last_use > device_idle_ms_) {
    *denied = Error(401,
                    "this device's credential expired: it has not synced for " +
                        std::to_string((now - last_use) / 86'400'000) +
                        " days; the coordinator can renew it (sync_server renew --device " +
                        device.id + ")",
                    "credential_expired");
    return true;
  }
  return false;
}

ApiResponse Api::Enrol(const ApiRequest& request) {
  json body;
  try {
    body = json::parse(request.body);
  } catch (const json::parse_error& e) {
    return Error(400, std::string("the enrolment body is not valid JSON: ") + e.what());
  }
  if (!body.is_object() || !body.contains("token") || !body["token"].is_string()) {
    return Error(400, "the enrolment body needs a \"token\" string");
  }
  std::string name = body.contains("device_name") && body["device_name"].is_string()
                         ? body["device_name"].get<std::string>()
                         : "";
  EnrolRequest enrol;
  enrol.token = body["token"].get<std::string>();
  enrol.device_id = "dev-" + NewUuid();
  if (std::string bad = ForbiddenCharacterIn(name, false); !bad.empty()) {
    return Error(400, "\"device_name\" holds a control or text-direction character (" + bad + ")");
  }
  enrol.device_name = TruncateUtf8(name, 100);
  enrol.secret = RandomSecret(32);
  if (body.contains("client")) {
    if (!body["client"].is_string() ||
        (body["client"] != "tablet" && body["client"] != "dashboard")) {
      return Error(400, "\"client\" must be \"tablet\" or \"dashboard\"");
    }
    enrol.client = body["client"].get<std::string>();
  }
  // The dashboard is for those who read the return: other roles' codes are refused unspent.
  if (enrol.client == "dashboard") {
    enrol.roles_allowed = {Role::kCoordinator, Role::kBoard, Role::kSafeguardingLead};
  }
  // Read before enrolling: nothing may fail between using up the token and answering.
  std::string subject_secret;
  if (Status k = store_->SubjectSecret(&subject_secret); !k.ok()) {
    return Error(HttpStatusFor(k), k.message());
  }
  DeviceInfo device;
  Status s = store_->Enrol(enrol, clock_->NowMs(), &device);
  if (!s.ok()) return Error(HttpStatusFor(s), s.message());
  if (!RoleWritesRecords(device.role)) subject_secret.clear();  // only those who log people
  // Every delivery of the person-key secret is logged. The device is enrolled by now: a failed
  // entry does not take its credential back, so it is best effort here.
  if (!subject_secret.empty()) Audit(device, "subject_secret", {{"via", "enrol"}}).ok();
  return {200,
          {{"device_id", device.id},
           {"subject_secret", subject_secret},
           {"secret", enrol.secret},
           {"user", device.user},
           {"org", device.org},
           {"role", RoleName(device.role)},
           {"forms", forms_->ToJson()}}};
}

ApiResponse Api::Rotate(const DeviceInfo& device) {
  std::string secret = RandomSecret(32);
  Status s = store_->StartRotation(device.id, secret, clock_->NowMs());
  if (s.ok()) s = Audit(device, "rotate", json::object());
  if (!s.ok()) return Error(HttpStatusFor(s), s.message());
  return {200, {{"secret", secret}}};
}

ApiResponse Api::Forms(const DeviceInfo& device) {
  json reply = {{"forms", forms_->ToJson()}};
  // Devices enrolled before person keys existed learn the partnership's key here. Only roles that
  // log records need it: not admins, not board members.
  if (RoleWritesRecords(device.role)) {
    std::string subject_secret;
    if (Status k = store_->SubjectSecret(&subject_secret); !k.ok()) {
      return Error(HttpStatusFor(k), k.message());
    }
    reply["subject_secret"] = subject_secret;
    // Every delivery of the person-key secret is logged: no entry, no secret.
    if (Status a = Audit(device, "subject_secret", {{"via", "forms"}}); !a.ok()) {
      return AuditFailed(a);
    }
  }
  return {200, std::move(reply)};
}

ApiResponse Api::Push(const DeviceInfo& device, const ApiRequest& request) {
  PushRequest push;
  if (Status d = DecodePushBody(*forms_, request.body, &push); !d.ok()) {
    return Error(400, d.message());
  }
  json response;
  PushCounts counts;
  auto started = std::chrono::steady_clock::now();
  Status s =
      ApplyPush(store_, *forms_, *catalogue_, device, push, clock_->NowMs(), &response, &counts);
  if (!s.ok()) {
    if (s.IsUnavailable()) {
      return Error(503, "the store could not commit the batch (" + s.message() +
                            "); nothing was applied, retry later");
    }
    return Error(HttpStatusFor(s), s.message());
  }
  std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
  metrics_.CountPush(counts, took.count());
  BB_FAULT_POINT("server.push.after_commit");
  return {200, response};
}

void Api::KeepOwnedReturns(const DeviceInfo& device, ChangePage* page) const {
  const ReturnRules& rules = forms_->returns();
  std::vector<std::string> kept;
  kept.reserve(page->states.size());
  for (auto& text : page->states) {
    RecordState state;
    json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
    bool ok = !j.is_discarded() && RecordState::FromJson(j, &state).ok();
    if (ok && state.org == device.org) {
      kept.push_back(std::move(text));
      continue;
    }
    // The partnership's return: kept if this org owns its indicator (a purged one has no
    // fields left and is kept: it only removes what the device may hold).
    json fields = ok ? state.FieldValues() : json::object();
    const ReturnRule* rule = fields.value("indicator", json()).is_string()
                                 ? rules.Find(fields["indicator"].get<std::string>())
                                 : nullptr;
    if (ok && (state.purged || (rule && rule->owners.count(device.org)))) {
      kept.push_back(std::move(text));
    }
  }
  page->states = std::move(kept);
}

ApiResponse Api::Owed(const DeviceInfo& device, const std::string& query) {
  int fy = 0;
  std::optional<int> quarter;
  std::string message;
  if (!ReadPeriod(QueryParam(query, "fy"), QueryParam(query, "quarter"), &fy, &quarter, &message)) {
    return Error(400, message);
  }
  std::string org = QueryParam(query, "org").value_or("");
  if (!org.empty() && !ValidOrg(org)) return Error(400, "org '" + org + "' is not a partner code");
  if (device.role == Role::kPartnerLead) {
    if (!org.empty() && org != device.org) {
      return Error(403, "a partner lead sees what their own org owes, not " + org + "'s");
    }
    org = device.org;
  }
  json owed;
  Status s = AssembleOwed(store_, forms_->returns(), fy, quarter, clock_->NowMs(), org, &owed);
  if (!s.ok()) return Error(HttpStatusFor(s), s.message());
  // Partners by name, not code, on screens.
  owed["org_labels"] = OrgLabelsOf(*forms_);
  return {200, std::move(owed)};
}

ApiResponse Api::Pull(const DeviceInfo& device, const std::string& query) {
  std::string cursor = QueryParam(query, "cursor").value_or("0");
  std::size_t limit = tunables::kMaxPullLimit;
  if (auto l = QueryParam(query, "limit")) {
    try {
      size_t used = 0;
      long long v = std::stoll(*l, &used);
      if (used != l->size() || v <= 0) throw std::invalid_argument("limit");
      limit = std::min<std::size_t>(static_cast<std::size_t>(v), tunables::kMaxPullLimit);
    } catch (const std::exception&) {
      return Error(400, "limit '" + *l + "' is not a positive whole number");
    }
  }
  // Who sees what: a coordinator pulls every org, everyone else their own org; a partner lead
  // also the partnership's returns of indicators their org owns (one figure that every owner
  // enters and corrects).
  PullScope scope(device.role == Role::kCoordinator ? "" : device.org);
  const ReturnRules& rules = forms_->returns();
  const FormDef* return_form = forms_->ReturnForm();
  bool shares_returns = device.role == Role::kPartnerLead && !rules.empty() && return_form &&
                        device.org != rules.partnership_org();
  if (shares_returns) {
    scope.shared_org = rules.partnership_org();
    scope.shared_form = return_form->name;
  }
  ChangePage page;
  Status s = store_->ReadChanges(cursor, scope, limit, &page);
  if (!s.ok()) return Error(HttpStatusFor(s), s.message());
  if (shares_returns) KeepOwnedReturns(device, &page);
  metrics_.CountPulled(static_cast<std::int64_t>(page.states.size()));
  // The device's last contact (sync health) is noted with the page's audit entry, which must be
  // written before anything is shown. A page with no records has no entry: there, the contact is
  // bookkeeping, and the pull is still served if it cannot be noted.
  std::int64_t now = clock_->NowMs();
  if (page.states.empty()) {
    store_->NotePull(device.id, now).IgnoreError();
  } else {
    Status a = store_->NotePull(
        device.id, now,
        {0,
         now,
         device.user,
         RoleName(device.role),
         device.org,
         device.id,
         "pull",
         {{"after", cursor}, {"to", page.cursor}, {"records", page.states.size()}}});
    if (!a.ok()) return AuditFailed(a);
  }
  // Stored states were validated (UTF-8 included) when merged: they are spliced in as they are.
  std::size_t size = 64;
  for (const auto& state : page.states) size += state.size() + 1;
  ApiResponse response;
  response.raw.reserve(size);
  response.raw += "{\"records\":[";
  for (std::size_t i = 0; i < page.states.size(); ++i) {
    if (i > 0) response.raw += ',';
    response.raw += page.states[i];
  }
  response.raw += "],\"cursor\":" + json(page.cursor).dump() +
                  ",\"more\":" + (page.more ? "true" : "false") + "}";
  return response;
}

bool Api::ReadReport(const std::string& query, json* report, json* period, ApiResponse* error) {
  int fy = 0;
  std::optional<int> quarter;
  std::string message;
  if (!ReadPeriod(QueryParam(query, "fy"), QueryParam(query, "quarter"), &fy, &quarter, &message)) {
    *error = Error(400, message);
    return false;
  }
  std::string org = QueryParam(query, "org").value_or("");
  if (!org.empty() && !ValidOrg(org)) {
    *error = Error(400, "org '" + org + "' is not a partner code");
    return false;
  }
  Status s = AssembleReturn(store_, *catalogue_, fy, quarter, clock_->NowMs(), report, org,
                            OrgLabelsOf(*forms_));
  if (!s.ok()) {
    *error = Error(HttpStatusFor(s), s.message());
    return false;
  }
  *period = {{"fy", fy}};
  if (quarter) (*period)["quarter"] = "Q" + std::to_string(*quarter);
  if (!org.empty()) (*period)["org"] = org;
  return true;
}

ApiResponse Api::Report(const DeviceInfo& device, const std::string& query) {
  json report, period;
  if (ApiResponse error; !ReadReport(query, &report, &period, &error)) return error;
  std::string format = QueryParam(query, "format").value_or("json");
  period["format"] = format;
  if (Status a = Audit(device, "report", period); !a.ok()) return AuditFailed(a);
  if (format == "csv") return {200, {{"text", RenderCsv(report)}, {"report", report}}};
  if (format == "table") {
    return {200, {{"text", RenderTable(*catalogue_, report)}, {"report", report}}};
  }
  if (format != "json") return Error(400, "format '" + format + "' is not json, csv or table");
  return {200, {{"report", report}}};
}

ApiResponse Api::Approve(const DeviceInfo& device, const ApiRequest& request) {
  json body = json::parse(request.body, nullptr, false);
  if (!body.is_object()) return Error(400, "the approval body must be a JSON object");
  auto text = [&](const char* key) -> std::optional<std::string> {
    if (!body.contains(key)) return std::nullopt;
    return body[key].is_string() ? body[key].get<std::string>() : body[key].dump();
  };
  int fy = 0;
  std::optional<int> quarter;
  std::string error;
  if (!ReadPeriod(text("fy"), text("quarter"), &fy, &quarter, &error)) return Error(400, error);
  if (!quarter) return Error(400, "quarter is required to approve");
  std::string kind;
  AuditEvent who{0,          0,         device.user, RoleName(device.role),
                 device.org, device.id, "",          json::object()};
  std::vector<std::string> warnings;
  Status s = ApproveQuarter(store_, *catalogue_, fy, *quarter, device.user, clock_->NowMs(), who,
                            &kind, &warnings, OrgLabelsOf(*forms_));
  if (!s.ok()) return Error(HttpStatusFor(s), s.message());
  return {200,
          {{"kind", kind},
           {"fy", fy},
           {"quarter", "Q" + std::to_string(*quarter)},
           {"warnings", warnings}}};
}

ApiResponse Api::Records(const DeviceInfo& device, const std::string& query) {
  RecordExportRequest req;
  req.form = QueryParam(query, "form").value_or("");
  std::string error;
  if (auto fy = QueryParam(query, "fy")) {
    int year = 0;
    std::optional<int> quarter;
    if (!ReadPeriod(fy, QueryParam(query, "quarter"), &year, &quarter, &error)) {
      return Error(400, error);
    }
    req.fy = year;
    req.quarter = quarter;
  } else if (QueryParam(query, "quarter")) {
    return Error(400, "a quarter needs its year (fy)");
  }
  req.org = QueryParam(query, "org").value_or("");
  req.include_sensitive = QueryParam(query, "include_sensitive").value_or("") == "true";
  req.reason = QueryParam(query, "reason").value_or("");
  RecordTable table;
  AuditEvent who{0,          clock_->NowMs(), device.user, RoleName(device.role),
                 device.org, device.id,       "",          {}};
  Status s = ExportRecords(store_, *forms_, req, who, &table);
  if (!s.ok()) return Error(HttpStatusFor(s), s.message());
  json reply = RecordsJson(table);
  reply["attachments"] =
      PhotoStates(store_, *forms_, req.form, table);  // which photos are not uploaded yet
  return {200, std::move(reply)};
}

ApiResponse Api::Explain(const DeviceInfo& device, const std::string& query) {
  int fy = 0;
  std::optional<int> quarter;
  std::string error;
  if (!ReadPeriod(QueryParam(query, "fy"), QueryParam(query, "quarter"), &fy, &quarter, &error)) {
    return Error(400, error);
  }
  std::string id = QueryParam(query, "indicator").value_or("");
  const Indicator* ind = catalogue_->Find(id);
  if (ind == nullptr) return Error(400, "indicator '" + id + "' is not in the catalogue");
  std::string org = QueryParam(query, "org").value_or("");
  if (!org.empty() && !ValidOrg(org)) return Error(400, "org '" + org + "' is not a partner code");
  std::vector<FigureSource> sources;
  Status s = store_->ExplainFigure(id, fy, quarter.value_or(0), &sources);
  if (!s.ok()) return Error(HttpStatusFor(s), s.message());
  // The dashboard's org filter: the records behind that org's figure.
  if (!org.empty()) {
    sources.erase(std::remove_if(sources.begin(), sources.end(),
                                 [&](const FigureSource& f) { return f.org != org; }),
                  sources.end());
  }
  bool is_return = ind->kind == IndicatorKind::kReturn || ind->kind == IndicatorKind::kMilestone;
  json rows = json::array();
  for (const auto& src : sources) {
    json row = {{"record_id", src.record_id}, {"org", src.org}};
    if (is_return) {
      // For a partner's return: who entered it and when.
      row["entered_by"] = src.author;
      row["at"] = FormatIsoUtc(src.at_ms);
      if (src.status.empty()) {
        row["value"] = src.value;
      } else {
        row["status"] = src.status;
      }
    }
    rows.push_back(std::move(row));
  }
  json seen = {{"indicator", id}, {"fy", fy}, {"records", rows.size()}};
  if (quarter) seen["quarter"] = "Q" + std::to_string(*quarter);
  if (!org.empty()) seen["org"] = org;
  if (Status a = Audit(device, "explain", seen); !a.ok()) return AuditFailed(a);
  json reply = {{"indicator", id}, {"kind", IndicatorKindName(ind->kind)}, {"records", rows}};
  // A derived figure counts records of one form: the dashboard shows them from /v1/records.
  if (!is_return && !ind->definition.form.empty()) reply["form"] = ind->definition.form;
  return {200, std::move(reply)};
}

}  // namespace beatbook::server
