// Helpers of the photo endpoints (api/attachments.cc) that other parts of the API use.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "beatbook/record_export.h"
#include "sync_server/store/central_store.h"

namespace beatbook::server {

// The endpoint a /v1/attachments/... path is, with its photo's name as NAME
// ("/v1/attachments/NAME/upload" or "/v1/attachments/NAME"); "" for any other path.
std::string AttachmentEndpoint(const std::string& path);

// For the photos `table` names: {"NAME": "stored" | "not_uploaded"} (docs/protocol.md, 8).
nlohmann::json PhotoStates(CentralStore* store, const RecordTable& table);

}  // namespace beatbook::server
