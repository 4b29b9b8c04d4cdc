// SyncEngine: runs the device side of docs/protocol.md over a Transport.
//
//   CurlTransport transport(store->identity().server_url, {});
//   SyncEngine engine(store.get(), &transport);
//   SyncSummary summary;
//   Status s = engine.Sync(&summary, [](const std::string& p) { std::cerr << p; });
//
// Guarantees: a change leaves the outbox only after the server has committed it; a pulled page and
// its cursor are committed together. So Sync() may be interrupted at any point (network lost,
// process killed) and simply run again. Errors: Unavailable (no response: retry later),
// Unauthenticated / PermissionDenied (the server refused this device), InvalidArgument (the server
// rejected a request as malformed, with its message).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "beatbook/clock.h"
#include "beatbook/local_store.h"
#include "field_client/sync/transport.h"

namespace beatbook::sync {

struct SyncSummary {
  std::int64_t pushed = 0;     // changes the server applied
  std::int64_t rejected = 0;   // changes the server rejected (kept in the store with reasons)
  std::int64_t pulled = 0;     // record states received
  std::int64_t conflicts = 0;  // concurrent writes the server recorded for review
  std::int64_t pending = 0;    // changes still waiting afterwards
  // The server's store was restored from a backup (a new epoch): this many changes were queued
  // again and the records pulled from the start.
  bool server_restored = false;
  std::int64_t resent = 0;
  // Photos (docs/protocol.md, section 8).
  std::int64_t photos_uploaded = 0;  // the server confirmed it holds them, in this sync
  std::int64_t photos_waiting = 0;   // still not uploaded afterwards (damaged ones included)
  std::int64_t photos_damaged = 0;   // changed on this device since they were taken: not sent
  std::int64_t photos_resumed = 0;   // uploads that went on from where an earlier one stopped
  std::int64_t photo_bytes_sent = 0;
  std::vector<std::string> photo_problems;  // one plain sentence per photo not uploaded
};

struct SyncOptions {
  std::size_t push_batch_size = 0;  // 0: tunables::kPushBatchSize
  std::size_t pull_page_size = 0;   // 0: tunables::kPullPageSize
  const Clock* clock = nullptr;     // for the clock-offset measurement; nullptr: system clock
  std::size_t chunk_bytes = 0;      // 0: tunables::kAttachmentChunkBytes
};

// Called with a short progress line ("pushed 500 of 1200 changes").
using ProgressFn = std::function<void(const std::string&)>;

class SyncEngine {
 public:
  SyncEngine(LocalStore* store, Transport* transport, SyncOptions options = {});

  // Push, then pull, then RefreshSettings, then UploadPhotos. Stops at the first error; what was
  // committed before it stays committed. A reply with a new server epoch (a restored server) queues
  // this device's writes again and resets the pull cursor (LocalStore::NoteServerEpoch); Sync then
  // pushes and pulls again from there, while Push and Pull alone stop with FailedPrecondition
  // saying so.
  Status Sync(SyncSummary* summary, const ProgressFn& progress = nullptr);
  Status Push(SyncSummary* summary, const ProgressFn& progress = nullptr);
  Status Pull(SyncSummary* summary, const ProgressFn& progress = nullptr);
  // Replaces this device's credential: the server issues a new secret, the device keeps it, then
  // uses it once, which retires the old one on the server. Safe to interrupt anywhere: until the
  // new secret is first used, the old one still works. Sync() does it by itself when the
  // credential is older than tunables::kCredentialMaxAgeMs.
  Status RotateCredential();
  // Takes the server's current forms (new form versions) and the partnership's person-key secret
  // (devices enrolled before it existed have none) from GET /v1/forms.
  Status RefreshSettings();
  // Uploads the photos this device holds that the server has not confirmed, each from where the
  // server's copy ends, in chunks (docs/protocol.md, section 8). A photo the server cannot take
  // now (its record not there yet, the photo refused) or that is damaged here is counted and
  // described in the summary, and the others go on; no reply (Unavailable) stops it.
  Status UploadPhotos(SyncSummary* summary, const ProgressFn& progress = nullptr);

 private:
  // Sends a request with this device's credential and parses the JSON reply, mapping HTTP errors
  // to Status. Learns the server's clock offset from every reply.
  Status Call(const std::string& method, const std::string& target, const std::string& body,
              nlohmann::json* reply, const std::string& content_type = "");
  // One photo: asks how much the server holds, then sends the rest.
  Status UploadPhoto(const AttachmentUpload& photo, SyncSummary* summary);

  Status PushAndPull(SyncSummary* summary, const ProgressFn& progress);

  LocalStore* store_;
  Transport* transport_;
  SyncOptions options_;
  // Set by Call when a reply carried a new epoch; how many changes that queued again.
  bool epoch_changed_ = false;
  bool restored_ = false;  // ... in any call of this engine's life
  std::int64_t resent_ = 0;
};

// Enrolment result: the identity and credential the server issued, and its forms.
struct Enrolment {
  Identity identity;
  nlohmann::json forms;
  std::int64_t clock_offset_ms = 0;
};

// POST /v1/enrol with a one-time token.
Status Enrol(Transport* transport, const std::string& token, const std::string& device_name,
             const Clock* clock, Enrolment* out);

// Maps a non-2xx HTTP response to a Status carrying the server's message.
Status StatusFromHttp(const HttpResponse& response);

}  // namespace beatbook::sync
