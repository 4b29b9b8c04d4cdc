// Transports for tests that run the real SyncEngine against the real Api in one process: no
// sockets, same code paths above HTTP. FaultyTransport wraps one to drop requests, lose
// responses, duplicate requests and replay old pushes, driven by a seeded generator.
#pragma once

#include <memory>
#include <random>
#include <vector>

#include "field_client/sync/transport.h"
#include "sync_server/api/api.h"

namespace beatbook::test {

class InProcessTransport : public sync::Transport {
 public:
  explicit InProcessTransport(server::Api* api) : api_(api) {}
  Status Send(const sync::HttpRequest& request, sync::HttpResponse* response) override {
    server::ApiResponse r =
        api_->Handle({request.method, request.target, request.body,
                      request.bearer.empty() ? "" : "Bearer " + request.bearer});
    response->status = r.status;
    response->body = r.Text();
    return Status::OK();
  }

 private:
  server::Api* api_;
};

struct FaultRates {
  double drop_request = 0;   // never reaches the server
  double lose_response = 0;  // applied by the server, but the device never hears back
  double duplicate = 0;      // delivered twice
  double replay_old = 0;     // an earlier push is delivered again first (reordering)
};

class FaultyTransport : public sync::Transport {
 public:
  FaultyTransport(std::unique_ptr<sync::Transport> inner, std::mt19937_64* rng, FaultRates rates)
      : inner_(std::move(inner)), rng_(rng), rates_(rates) {}

  Status Send(const sync::HttpRequest& request, sync::HttpResponse* response) override {
    if (request.method == "POST" && request.target == "/v1/push") sent_pushes_.push_back(request);
    if (Chance(rates_.replay_old) && !sent_pushes_.empty()) {
      std::uniform_int_distribution<size_t> pick(0, sent_pushes_.size() - 1);
      sync::HttpResponse ignored;
      // An old push replayed behind the device's back: what the server says to it is not heard.
      inner_->Send(sent_pushes_[pick(*rng_)], &ignored).IgnoreError();
    }
    if (Chance(rates_.drop_request)) return Status::Unavailable("injected: request dropped");
    BB_RETURN_IF_ERROR(inner_->Send(request, response));
    if (Chance(rates_.duplicate)) BB_RETURN_IF_ERROR(inner_->Send(request, response));
    if (Chance(rates_.lose_response)) return Status::Unavailable("injected: response lost");
    return Status::OK();
  }

 private:
  bool Chance(double p) { return p > 0 && std::uniform_real_distribution<double>(0, 1)(*rng_) < p; }
  std::unique_ptr<sync::Transport> inner_;
  std::mt19937_64* rng_;
  FaultRates rates_;
  std::vector<sync::HttpRequest> sent_pushes_;
};

}  // namespace beatbook::test
