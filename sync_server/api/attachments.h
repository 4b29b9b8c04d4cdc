// Helpers of the photo endpoints (api/attachments.cc) that other parts of the API use.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "beatbook/form.h"
#include "beatbook/record_export.h"
#include "sync_server/store/central_store.h"

namespace beatbook::server {

// The endpoint a /v1/attachments/... path is, with its photo's name as NAME
// ("/v1/attachments/NAME/upload" or "/v1/attachments/NAME"); "" for any other path.
std::string AttachmentEndpoint(const std::string& path);

// The photos `table` (records of `form`) names in its image columns, each once. Only those: a
// text answer shaped like a photo's name is not a photo.
std::vector<std::string> PhotosInTable(const FormSet& forms, const std::string& form,
                                       const RecordTable& table);

// For the photos `table` names: {"NAME": "stored" | "not_uploaded"} (docs/protocol.md, 8).
nlohmann::json PhotoStates(CentralStore* store, const FormSet& forms, const std::string& form,
                           const RecordTable& table);

}  // namespace beatbook::server
