// Applying a push batch: the server's side of docs/protocol.md sections 3 (push), 4 (who may write
// what) and 5 (conflicts).
#pragma once

#include <cstdint>

#include <nlohmann/json.hpp>

#include "beatbook/catalogue.h"
#include "beatbook/form.h"
#include "store/central_store.h"

namespace beatbook::server {

// Applies the push request `body` from `device` in one store transaction and fills `*response`
// with per-change results. Each changed record's indicator contributions are updated in the same
// transaction. Returns InvalidArgument (HTTP 400) when the request itself is malformed
// or names a form version this server does not know; nothing is stored then. Returns a store error
// (HTTP 503) if the transaction could not commit; nothing is stored then either.
Status ApplyPush(CentralStore* store, const FormSet& forms, const Catalogue& catalogue,
                 const DeviceInfo& device, const nlohmann::json& body, std::int64_t now_ms,
                 nlohmann::json* response);

}  // namespace beatbook::server
