// Reading a push body's text into a PushRequest (api/push.h) without building its JSON tree.
//
//   PushRequest request;
//   Status s = DecodePushBody(forms, http_body, &request);   // InvalidArgument names what and
//   where
//
// A push is read as a stream of JSON events (nlohmann's SAX interface) straight into registers:
// building the whole body as a tree and then copying it into registers was a quarter of the
// server's cost of a push (docs/performance.md). The tree path (json::parse + ParsePushRequest)
// stays the reference: whatever the stream reader is not sure of (a member of the wrong type, a
// duplicate member, a record its checks refuse, broken JSON) is read again that way, so both
// paths accept exactly the same bodies, decode them alike and word every refusal the same.
// fuzz/fuzz_push_decoder.cc checks that on arbitrary input.
#pragma once

#include <string_view>

#include "beatbook/form.h"
#include "beatbook/status.h"
#include "sync_server/api/push.h"

namespace beatbook::server {

// The stream reader alone: kDecoded with *out filled, or kNeedsTree (then *out is unspecified).
// Never accepts a body the tree path refuses. Bodies as field_client writes them take kDecoded.
enum class StreamDecode { kDecoded, kNeedsTree };
StreamDecode DecodePushStream(const FormSet& forms, std::string_view text, PushRequest* out);

// The tree path alone: json::parse, then ParsePushRequest.
Status DecodePushTree(const FormSet& forms, std::string_view text, PushRequest* out);

// The stream reader, then the tree path if it is not sure.
Status DecodePushBody(const FormSet& forms, std::string_view text, PushRequest* out);

}  // namespace beatbook::server
