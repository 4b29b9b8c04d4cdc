// libFuzzer: the streaming push decoder against the tree path it stands in for. On any input:
// when the stream reader decodes a body, the tree path accepts it too and decodes the same
// request; and DecodePushBody answers exactly what the tree path answers (the same refusal, word
// for word).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/schema_forms.h"
#include "sync_server/api/push_decoder.h"

using namespace beatbook;

static bool Same(const server::PushRequest& a, const server::PushRequest& b) {
  if (a.batch_id != b.batch_id || a.pending_after != b.pending_after ||
      a.changes.size() != b.changes.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.changes.size(); ++i) {
    if (a.changes[i].change_id != b.changes[i].change_id) return false;
    if (a.changes[i].state.ToJson(true) != b.changes[i].state.ToJson(true)) return false;
  }
  return true;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  server::PushRequest streamed, tree, body;
  auto stream = server::DecodePushStream(SchemaForms(), text, &streamed);
  Status tree_status = server::DecodePushTree(SchemaForms(), text, &tree);
  if (stream == server::StreamDecode::kDecoded && (!tree_status.ok() || !Same(streamed, tree))) {
    __builtin_trap();
  }
  Status body_status = server::DecodePushBody(SchemaForms(), text, &body);
  if (body_status.ok() != tree_status.ok() || body_status.message() != tree_status.message()) {
    __builtin_trap();
  }
  if (body_status.ok() && !Same(body, tree)) __builtin_trap();
  return 0;
}
