// Api: the sync protocol's HTTP endpoints (docs/protocol.md), independent of any transport.
//
//   Api api(store.get(), &forms, SystemClock::Default());
//   ApiResponse r = api.Handle({"POST", "/v1/push", body, "Bearer dev-1.secret"});
//
// The Beast server (beatbook/http/server.h) feeds it parsed requests; tests may call it directly.
// Handle() is thread-safe (the store serialises writes) and never throws.
#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "beatbook/catalogue.h"
#include "beatbook/clock.h"
#include "beatbook/form.h"
#include "beatbook/http/handler.h"
#include "beatbook/tunables.h"
#include "sync_server/api/limits.h"
#include "sync_server/api/metrics.h"
#include "sync_server/store/central_store.h"

namespace beatbook::server {

// The requests and responses the Api handles (beatbook/http/message.h), by their old names.
using ApiRequest = http::Request;
using ApiResponse = http::Response;

// One answered request, as the server's log keeps it: who and what, never record content.
struct RequestRecord {
  std::string request_id;  // the client's X-Request-Id if sane, else one made up; sent back
  std::string method;
  std::string endpoint;   // Metrics::EndpointLabel of the path
  std::string peer;       // the client's address
  std::string device;     // the device whose credential was recognised, if any
  std::string user, org;  // ... its user and org
  int status = 0;
  std::string error;   // the error code of a refusal ("forbidden", "too_large", ...)
  double seconds = 0;  // handling time
  std::int64_t applied = -1, rejected = -1;  // a push's counts (-1: not a push)
};

struct ApiOptions {
  // Per-device request rate limit (429 beyond it); 0 turns it off (in-process simulations that
  // pack days of syncing into seconds).
  double requests_per_second = tunables::kDeviceRequestsPerSecond;
  double burst = tunables::kDeviceRequestBurst;
  // Failed sign-ins per client address (429 beyond them); 0 turns it off.
  double failed_sign_ins_per_second = tunables::kAddressFailedSignInsPerSecond;
  double failed_sign_in_burst = tunables::kAddressFailedSignInBurst;
  // The clock that refills both limits' buckets; nullptr: SteadyClock (a wall clock stepping back
  // would stop buckets refilling). Tests set a ManualClock.
  const Clock* rate_clock = nullptr;
  // A device credential unused for this long is refused (401 credential_expired); 0: never.
  std::int64_t device_idle_ms = tunables::kDeviceCredentialIdleMs;
  // Told of every request once it is answered (sync_server writes it to its log); may be empty.
  std::function<void(const RequestRecord&)> on_request = nullptr;
};

class Api final : public http::Handler {
 public:
  // `store`, `forms`, `catalogue` and `clock` must outlive the Api.
  Api(CentralStore* store, const FormSet* forms, const Catalogue* catalogue, const Clock* clock,
      ApiOptions options = {});
  ApiResponse Handle(const ApiRequest& request) override;
  // The largest body accepted for a request, from its header alone (read before the body): a push
  // from a device whose credential is good may be large; anything else is small
  // (tunables::kMaxSmallBodyBytes).
  std::size_t BodyLimit(const ApiRequest& header_only) override;
  // A response the transport made itself (a body over its limit), noted like any other: an
  // unauthenticated failure counts against the address.
  ApiResponse Refuse(const ApiRequest& request, ApiResponse response) override;

  // An error response: {"error": {"code": ..., "message": ...}}; `code` defaults to the status's
  // (docs/protocol.md, section 3).
  static ApiResponse Error(int status, const std::string& message, const std::string& code = "");

  // What the server has counted (GET /metrics).
  const Metrics& metrics() const { return metrics_; }

 private:
  // Answers `request`; sets *who to the device whose credential it recognised (revoked or not).
  ApiResponse Route(const ApiRequest& request, DeviceInfo* who);
  ApiResponse Enrol(const ApiRequest& request);
  // GET /metrics: to a client on the server's own machine, or with a coordinator's or admin's
  // credential.
  ApiResponse MetricsPage(const ApiRequest& request, DeviceInfo* who);
  // The store's epoch, read once (a restore happens with the server stopped).
  Status CachedEpoch(std::string* epoch);
  ApiResponse Forms(const DeviceInfo& device);
  ApiResponse Rotate(const DeviceInfo& device);
  ApiResponse Push(const DeviceInfo& device, const ApiRequest& request);
  ApiResponse Pull(const DeviceInfo& device, const std::string& query);
  ApiResponse Owed(const DeviceInfo& device, const std::string& query);
  // Drops from a partner lead's pull page the partnership's returns their org does not own.
  void KeepOwnedReturns(const DeviceInfo& device, ChangePage* page) const;
  ApiResponse Report(const DeviceInfo& device, const std::string& query);
  ApiResponse Approve(const DeviceInfo& device, const ApiRequest& request);
  ApiResponse Explain(const DeviceInfo& device, const std::string& query);
  ApiResponse Records(const DeviceInfo& device, const std::string& query);
  // The safeguarding queue and its follow-up (safeguarding.cc), the coordinator's alone.
  ApiResponse Safeguarding(const DeviceInfo& device);
  ApiResponse FollowUpConcern(const DeviceInfo& device, const ApiRequest& request,
                              ConcernStep step);
  // Photos (attachments.cc): a record's photo, checked against the record the query names.
  struct PhotoRef {
    std::string name;
    std::string record_id;
    std::string field;  // the image question of the record that holds `name`
    bool keep_location = false;
  };
  // False with the 400/404 in *error unless NAME of the path is a photo the query's record, one
  // `device` may see, names now.
  bool PhotoOfRecord(const DeviceInfo& device, const ApiRequest& request, const std::string& query,
                     PhotoRef* photo, ApiResponse* error);
  ApiResponse UploadProgressOf(const DeviceInfo& device, const ApiRequest& request,
                               const std::string& query);
  ApiResponse UploadChunk(const DeviceInfo& device, const ApiRequest& request,
                          const std::string& query);
  ApiResponse AttachmentFile(const DeviceInfo& device, const ApiRequest& request,
                             const std::string& query);
  // Checks the whole of `device`'s upload of the photo and stores it (or refuses it, 422).
  ApiResponse FinishUpload(const DeviceInfo& device, const PhotoRef& photo);
  // Records per place per quarter, and recorded points (hotspots.cc).
  ApiResponse Hotspots(const DeviceInfo& device, const std::string& query);
  // The dashboard's (dashboard.cc).
  ApiResponse DashboardFile(const ApiRequest& request, const std::string& path);
  ApiResponse Orgs();
  ApiResponse Devices(const DeviceInfo& device);
  ApiResponse Conflicts(const DeviceInfo& device);
  ApiResponse Approvals(const std::string& query);
  ApiResponse ReportWorkbook(const DeviceInfo& device, const std::string& query);
  ApiResponse SignOut(const DeviceInfo& device);
  bool ValidOrg(const std::string& org) const;
  // The return a report request asks for (fy, quarter, org), and its period for the audit entry;
  // false with the error response otherwise.
  bool ReadReport(const std::string& query, nlohmann::json* report, nlohmann::json* period,
                  ApiResponse* error);
  // True (with a 401 in *denied) if `device`'s credential has expired: a dashboard sign-in idle or
  // too old, or a device credential unused for device_idle_ms_.
  bool Expired(const DeviceInfo& device, ApiResponse* denied);
  // Resolves the Bearer credential to a device; an error response in *denied otherwise.
  bool Authenticate(const ApiRequest& request, DeviceInfo* device, ApiResponse* denied);
  // Authenticate, then the device's request rate: false with the 401/403/429 in *denied. Sets
  // *who to the device whose credential was recognised, revoked or not.
  bool SignIn(const ApiRequest& request, DeviceInfo* device, DeviceInfo* who, ApiResponse* denied);
  // Failed sign-ins per client address: true (with a 429 in *refused) while the address must
  // wait.
  bool SignInsBlocked(const ApiRequest& request, ApiResponse* refused);
  // After every request: an unauthenticated failure (any 4xx but 429) counts against its
  // address; failed and blocked sign-ins and a recognised device's 403s go to the audit log.
  void NoteOutcome(const ApiRequest& request, const DeviceInfo& who, const ApiResponse& response);
  // Counts the request and tells ApiOptions::on_request; adds the X-Request-Id header.
  void Record(const ApiRequest& request, const DeviceInfo& who, double seconds,
              ApiResponse* response);
  // The 503 for a read whose audit entry could not be written.
  static ApiResponse AuditFailed(const Status& s);
  // Appends `action` by `device`'s user to the audit log. Reads check it: what the log cannot
  // show was seen is not shown (503 instead).
  Status Audit(const DeviceInfo& device, const std::string& action, nlohmann::json detail);

  CentralStore* store_;
  const FormSet* forms_;
  const Catalogue* catalogue_;
  const Clock* clock_;
  std::unique_ptr<RateLimiter> limiter_;          // per device; null: no limit
  std::unique_ptr<RateLimiter> failed_sign_ins_;  // per client address; null: no limit
  const Clock* rate_clock_;                       // refills both
  std::int64_t device_idle_ms_;                   // see ApiOptions
  std::function<void(const RequestRecord&)> on_request_;
  Metrics metrics_;
  std::mutex epoch_mu_;
  std::string epoch_;  // "" until read
};

// Maps a Status to the HTTP status the protocol uses for it.
int HttpStatusFor(const Status& s);

}  // namespace beatbook::server
