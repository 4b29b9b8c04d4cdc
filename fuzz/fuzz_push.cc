// libFuzzer: the push body decoder and the merge of what it decodes.
#include <cstddef>
#include <cstdint>

#include "fuzz/schema_forms.h"
#include "sync_server/api/push.h"

using namespace beatbook;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  json body = json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) return 0;
  server::PushRequest request;
  if (!server::ParsePushRequest(SchemaForms(), body, &request).ok()) return 0;
  RecordState merged;
  for (const auto& c : request.changes) {
    if (!merged.id.empty() && merged.id != c.state.id) continue;
    RecordState again = merged;
    Merge(&merged, c.state);
    // Merging the same change twice changes nothing the second time.
    Merge(&again, c.state);
    if (Merge(&again, c.state).changed) __builtin_trap();
    (void)merged.ToJson().dump();
  }
  return 0;
}
