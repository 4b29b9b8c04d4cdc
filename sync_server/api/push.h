// Applying a push batch: the server's side of docs/protocol.md sections 3 (push), 4 (who may write
// what) and 5 (conflicts).
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "beatbook/catalogue.h"
#include "beatbook/form.h"
#include "sync_server/store/central_store.h"

namespace beatbook::server {

// A push request's parts, checked for shape (docs/protocol.md, POST /v1/push).
struct PushChange {
  std::string change_id;
  RecordState state;
};
struct PushRequest {
  std::string batch_id;
  std::int64_t pending_after = 0;
  std::vector<PushChange> changes;
};

// Decodes and checks a push body: InvalidArgument naming the change and member that is wrong,
// or a form version this server does not know.
Status ParsePushRequest(const FormSet& forms, const nlohmann::json& body, PushRequest* out);

// What a push did, for the server's metrics (api/metrics.h). A replayed batch applied nothing.
struct PushCounts {
  std::int64_t applied = 0;
  bool replayed = false;
  // Refused changes by kind: "permission" (who may write what, stamps), "invalid" (the merged
  // record breaks its form's rules: values, dates, ids, return periods and figures).
  std::map<std::string, std::int64_t> rejected;
};

// Applies the decoded push `request` (api/push_decoder.h reads it from the body's text) from
// `device` in one store transaction and fills `*response` with per-change results. Each changed
// record's indicator contributions are updated in the same transaction. Returns a store error
// (HTTP 503) if the transaction could not commit; nothing is stored then.
Status ApplyPush(CentralStore* store, const FormSet& forms, const Catalogue& catalogue,
                 const DeviceInfo& device, const PushRequest& request, std::int64_t now_ms,
                 nlohmann::json* response, PushCounts* counts = nullptr);

// The same for a body already parsed as JSON: InvalidArgument (HTTP 400), with nothing stored,
// when the request is malformed or names a form version this server does not know.
Status ApplyPush(CentralStore* store, const FormSet& forms, const Catalogue& catalogue,
                 const DeviceInfo& device, const nlohmann::json& body, std::int64_t now_ms,
                 nlohmann::json* response, PushCounts* counts = nullptr);

}  // namespace beatbook::server
