#include "field_client/sync/sync_engine.h"

#include "beatbook/fault.h"
#include "beatbook/tunables.h"

namespace beatbook::sync {

using nlohmann::json;

namespace {

// The push request, written as text: each change is spliced in as the outbox stored it, with its
// change_id added, instead of being parsed and re-serialised (push is JSON-bound).
std::string PushRequestBody(const std::string& batch_id, std::int64_t pending_after,
                            const std::vector<OutboxEntry>& batch) {
  std::size_t size = 128;
  for (const auto& e : batch) size += e.change_json.size() + e.change_id.size() + 20;
  std::string body;
  body.reserve(size);
  body += "{\"batch_id\":" + json(batch_id).dump();
  body += ",\"pending_after\":" + std::to_string(pending_after) + ",\"changes\":[";
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (i > 0) body += ',';
    body += "{\"change_id\":" + json(batch[i].change_id).dump() + ',';
    body.append(batch[i].change_json, 1, std::string::npos);  // ReadOutbox checked it is {...}
  }
  body += "]}";
  return body;
}

const Clock* OrSystem(const Clock* c) { return c ? c : SystemClock::Default(); }

Status ParseReply(const HttpResponse& response, json* reply) {
  try {
    *reply = json::parse(response.body);
  } catch (const json::parse_error&) {
    return Status::Unavailable("the server sent a reply that is not JSON (HTTP " +
                               std::to_string(response.status) + ")");
  }
  if (!reply->is_object()) return Status::Unavailable("the server's reply is not a JSON object");
  return Status::OK();
}

// Sends and returns the server's clock offset measured around the request.
// The error code of a JSON error reply ({"error": {"code": ...}}), or "".
std::string ErrorCode(const HttpResponse& response) {
  json j = json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("error") || !j["error"].is_object()) return "";
  return j["error"].value("code", "");
}

Status Exchange(Transport* transport, const HttpRequest& request, const Clock* clock, json* reply,
                std::int64_t* offset_ms, bool* revoked) {
  HttpResponse response;
  std::int64_t t0 = clock->NowMs();
  BB_RETURN_IF_ERROR(transport->Send(request, &response));
  std::int64_t t1 = clock->NowMs();
  *revoked = response.status == 403 && ErrorCode(response) == "device_revoked";
  if (response.status < 200 || response.status > 299) return StatusFromHttp(response);
  BB_RETURN_IF_ERROR(ParseReply(response, reply));
  auto it = reply->find("server_time_ms");
  *offset_ms =
      it != reply->end() && it->is_number_integer() ? it->get<std::int64_t>() - (t0 + t1) / 2 : 0;
  return Status::OK();
}

}  // namespace

Status StatusFromHttp(const HttpResponse& response) {
  std::string message = "HTTP " + std::to_string(response.status);
  try {
    json j = json::parse(response.body);
    message = j.at("error").at("message").get<std::string>();
  } catch (const json::exception&) {
  }
  message = "the server refused the request: " + message;
  switch (response.status) {
    case 401:
      return Status::Unauthenticated(message);
    case 403:
      return Status::PermissionDenied(message);
    case 404:
      return Status::NotFound(message);
    default:
      return response.status >= 500 ? Status::Unavailable(message)
                                    : Status::InvalidArgument(message);
  }
}

SyncEngine::SyncEngine(LocalStore* store, Transport* transport, SyncOptions options)
    : store_(store), transport_(transport), options_(options) {
  if (options_.push_batch_size == 0) options_.push_batch_size = tunables::kPushBatchSize;
  if (options_.pull_page_size == 0) options_.pull_page_size = tunables::kPullPageSize;
  if (options_.chunk_bytes == 0) options_.chunk_bytes = tunables::kAttachmentChunkBytes;
  options_.clock = OrSystem(options_.clock);
}

Status SyncEngine::Call(const std::string& method, const std::string& target,
                        const std::string& body, json* reply, const std::string& content_type) {
  const Identity& id = store_->identity();
  if (id.server_url.empty() || id.secret.empty()) {
    return Status::FailedPrecondition(
        "this device is stand-alone; enrol it with 'field_client init --server URL --token T'");
  }
  HttpRequest request{method, target, body, id.device_id + "." + id.secret, content_type};
  std::int64_t offset = 0;
  bool revoked = false;
  Status s = Exchange(transport_, request, options_.clock, reply, &offset, &revoked);
  if (s.IsUnauthenticated() && !store_->previous_secret().empty()) {
    // The server turned down a credential from a rotation (someone rotated again in between):
    // the one it replaced still works there, so go back to it.
    BB_RETURN_IF_ERROR(store_->RestorePreviousSecret());
    request.bearer = id.device_id + "." + store_->identity().secret;
    s = Exchange(transport_, request, options_.clock, reply, &offset, &revoked);
  } else if (s.ok() && !store_->previous_secret().empty()) {
    // The rotated credential works (and has now retired the old one on the server).
    BB_RETURN_IF_ERROR(store_->ForgetPreviousSecret());
  }
  if (revoked) {
    // Remote wipe. The server refused this request, so nothing of it was applied.
    Status wiped = store_->Wipe();
    if (!wiped.ok()) {
      return Status::PermissionDenied("the partnership has revoked this device, but wiping its " +
                                      std::string("data failed (") + wiped.message() +
                                      "); run sync again to finish the wipe");
    }
    return Status::PermissionDenied(
        "the partnership has revoked this device: its records were wiped from it and nothing "
        "more was sent; enrol again with a new token to keep working");
  }
  BB_RETURN_IF_ERROR(s);
  BB_RETURN_IF_ERROR(store_->SetClockOffset(offset));
  auto epoch = reply->find("epoch");
  if (epoch == reply->end() || !epoch->is_string()) return Status::OK();  // an older server
  bool changed = false;
  std::int64_t resent = 0;
  BB_RETURN_IF_ERROR(store_->NoteServerEpoch(epoch->get<std::string>(), &changed, &resent));
  if (!changed) return Status::OK();
  // What this reply answered was done on the restored store; the caller's page or batch
  // bookkeeping would undo the reset, so it stops here and Sync starts over.
  epoch_changed_ = true;
  restored_ = true;
  resent_ += resent;
  return Status::FailedPrecondition(
      "the server's store was restored from a backup: this device queued its " +
      std::to_string(resent) +
      " records' writes to send again and will pull from the start; "
      "sync again");
}

Status SyncEngine::RotateCredential() {
  json reply;
  BB_RETURN_IF_ERROR(Call("POST", "/v1/rotate", "{}", &reply));
  auto secret = reply.find("secret");
  if (secret == reply.end() || !secret->is_string() || secret->get<std::string>().empty()) {
    return Status::Unavailable("the server's reply to a credential rotation has no secret");
  }
  BB_RETURN_IF_ERROR(store_->SetSecret(secret->get<std::string>()));
  BB_FAULT_POINT("sync.rotate.before_first_use");
  json forms;
  return Call("GET", "/v1/forms", "", &forms);  // first use: the old secret stops working
}

Status SyncEngine::RefreshSettings() {
  json reply;
  BB_RETURN_IF_ERROR(Call("GET", "/v1/forms", "", &reply));
  FormSet forms;
  auto forms_json = reply.find("forms");
  if (forms_json == reply.end() || !FormSet::FromJson(*forms_json, &forms).ok()) {
    return Status::Unavailable("the server's forms are malformed");
  }
  if (forms.ToJson() != store_->forms().ToJson()) BB_RETURN_IF_ERROR(store_->ReplaceForms(forms));
  std::string subject_secret = reply.value("subject_secret", "");
  if (!subject_secret.empty() && subject_secret != store_->identity().subject_secret) {
    Identity identity = store_->identity();
    identity.subject_secret = subject_secret;
    BB_RETURN_IF_ERROR(store_->SetIdentity(identity));
  }
  return Status::OK();
}

Status SyncEngine::Push(SyncSummary* summary, const ProgressFn& progress) {
  StoreSummary before;
  BB_RETURN_IF_ERROR(store_->Summary(&before));
  std::int64_t total = before.pending_changes, sent = 0;
  for (;;) {
    std::vector<OutboxEntry> batch;
    BB_RETURN_IF_ERROR(store_->ReadOutbox(options_.push_batch_size, &batch, /*parse=*/false));
    if (batch.empty()) break;
    // The id covers the outbox positions, so a retry of this batch (after a lost reply or a crash)
    // carries the same id and gets the server's stored answer.
    std::string batch_id = store_->identity().device_id + ":" + std::to_string(batch.front().seq) +
                           "-" + std::to_string(batch.back().seq);
    std::int64_t pending_after = total - sent - static_cast<std::int64_t>(batch.size());
    json reply;
    BB_RETURN_IF_ERROR(
        Call("POST", "/v1/push",
             PushRequestBody(batch_id, std::max<std::int64_t>(pending_after, 0), batch), &reply));

    std::vector<std::int64_t> acked;
    std::vector<Rejection> rejected;
    std::map<std::string, const OutboxEntry*> by_change;
    for (const auto& e : batch) by_change[e.change_id] = &e;
    try {
      for (const auto& r : reply.at("results")) {
        auto it = by_change.find(r.at("change_id").get<std::string>());
        if (it == by_change.end()) continue;
        acked.push_back(it->second->seq);
        if (r.at("status") == "rejected") {
          rejected.push_back({it->first, it->second->record_id, r.value("reason", "rejected"),
                              reply.value("server_time_ms", std::int64_t{0})});
        }
      }
      summary->conflicts += reply.value("conflicts", std::int64_t{0});
    } catch (const json::exception& e) {
      return Status::Unavailable(std::string("the server's push reply is malformed: ") + e.what());
    }
    if (acked.size() != batch.size()) {
      return Status::Unavailable("the server answered for " + std::to_string(acked.size()) +
                                 " of " + std::to_string(batch.size()) + " changes; will retry");
    }
    BB_RETURN_IF_ERROR(store_->Acknowledge(acked, rejected));
    sent += static_cast<std::int64_t>(batch.size());
    summary->rejected += static_cast<std::int64_t>(rejected.size());
    summary->pushed += static_cast<std::int64_t>(batch.size() - rejected.size());
    if (progress) {
      progress("pushed " + std::to_string(sent) + " of " + std::to_string(total) + " changes");
    }
  }
  return Status::OK();
}

Status SyncEngine::Pull(SyncSummary* summary, const ProgressFn& progress) {
  for (;;) {
    StoreSummary state;
    BB_RETURN_IF_ERROR(store_->Summary(&state));
    json reply;
    BB_RETURN_IF_ERROR(Call(
        "GET",
        "/v1/pull?cursor=" + state.cursor + "&limit=" + std::to_string(options_.pull_page_size), "",
        &reply));
    std::vector<RecordState> states;
    std::string cursor;
    bool more = false;
    try {
      for (const auto& rj : reply.at("records")) {
        RecordState s;
        Status st = RecordState::FromJson(rj, &s);
        if (!st.ok()) return Status::Unavailable("the server sent a bad record: " + st.message());
        states.push_back(std::move(s));
      }
      cursor = reply.at("cursor").get<std::string>();
      more = reply.at("more").get<bool>();
    } catch (const json::exception& e) {
      return Status::Unavailable(std::string("the server's pull reply is malformed: ") + e.what());
    }
    BB_RETURN_IF_ERROR(store_->ApplyPulled(states, cursor));
    summary->pulled += static_cast<std::int64_t>(states.size());
    if (progress) progress("pulled " + std::to_string(summary->pulled) + " records");
    if (!more) break;
  }
  return Status::OK();
}

Status SyncEngine::PushAndPull(SyncSummary* summary, const ProgressFn& progress) {
  // Twice at most: a restore seen in the first round is dealt with in the second.
  for (int round = 0;; ++round) {
    epoch_changed_ = false;
    Status s = Push(summary, progress);
    if (s.ok()) s = Pull(summary, progress);
    if (!epoch_changed_ || round == 1) {
      summary->server_restored = restored_;
      summary->resent = resent_;
      return s;
    }
    if (progress) {
      progress("the server was restored from a backup: sending again " + std::to_string(resent_) +
               " records' writes and pulling from the start");
    }
  }
}

Status SyncEngine::Sync(SyncSummary* summary, const ProgressFn& progress) {
  std::int64_t since = 0;
  BB_RETURN_IF_ERROR(store_->CredentialSince(&since));
  if (options_.clock->NowMs() - since > tunables::kCredentialMaxAgeMs) {
    // Best effort: a server that cannot rotate now must not stop the records going up. A
    // revocation (and its wipe) does stop everything.
    Status rotated = RotateCredential();
    if (rotated.IsPermissionDenied()) return rotated;
  }
  BB_RETURN_IF_ERROR(PushAndPull(summary, progress));
  BB_RETURN_IF_ERROR(RefreshSettings());
  BB_RETURN_IF_ERROR(UploadPhotos(summary, progress));
  BB_RETURN_IF_ERROR(store_->RecordSync(options_.clock->NowMs()));
  // Photos replaced, or of records deleted or purged, are needed nowhere now.
  BB_RETURN_IF_ERROR(store_->PruneAttachments());
  StoreSummary after;
  BB_RETURN_IF_ERROR(store_->Summary(&after));
  summary->pending = after.pending_changes;
  return Status::OK();
}

Status SyncEngine::UploadPhotos(SyncSummary* summary, const ProgressFn& progress) {
  std::vector<AttachmentUpload> photos;
  std::int64_t not_uploaded = 0;  // those waiting for their record's changes included
  BB_RETURN_IF_ERROR(store_->AttachmentsToUpload(&photos, &not_uploaded));
  const std::int64_t uploaded_before = summary->photos_uploaded;
  std::size_t done = 0;
  for (const auto& photo : photos) {
    Status s = UploadPhoto(photo, summary);
    if (s.IsUnavailable() || s.IsUnauthenticated() || s.IsPermissionDenied() ||
        s.IsFailedPrecondition()) {
      return s;  // no answer, or the server refused this device: the next sync goes on
    }
    if (!s.ok()) {
      const bool damaged = s.code() == Status::Code::kCorruption;
      if (damaged) summary->photos_damaged += 1;
      summary->photo_problems.push_back("the photo in '" + photo.field + "' of record " +
                                        photo.record_id + (damaged ? " was not sent: " : ": ") +
                                        s.message());
    }
    if (progress) {
      progress("photos: " + std::to_string(++done) + " of " + std::to_string(photos.size()));
    }
  }
  summary->photos_waiting = not_uploaded - (summary->photos_uploaded - uploaded_before);
  return Status::OK();
}

Status SyncEngine::UploadPhoto(const AttachmentUpload& photo, SyncSummary* summary) {
  std::string bytes;
  BB_RETURN_IF_ERROR(store_->ReadAttachment(photo.name, &bytes));  // Corruption if damaged
  const std::string target = "/v1/attachments/" + photo.name + "/upload?record=" + photo.record_id;
  json reply;
  BB_RETURN_IF_ERROR(Call("GET", target, "", &reply));
  const auto size = static_cast<std::int64_t>(bytes.size());
  std::int64_t offset = reply.value("received", std::int64_t{0});
  if (offset > 0 && !reply.value("complete", false)) summary->photos_resumed += 1;
  // Each round sends one chunk; a 409 (the server holds another amount) is read again once.
  bool reread = false;
  while (!reply.value("complete", false)) {
    if (offset < 0 || offset >= size) offset = 0;  // not this photo's upload: start again
    const std::size_t n = std::min<std::size_t>(options_.chunk_bytes, bytes.size() - offset);
    Status s =
        Call("PUT", target + "&offset=" + std::to_string(offset) + "&total=" + std::to_string(size),
             bytes.substr(static_cast<std::size_t>(offset), n), &reply, "application/octet-stream");
    if (s.IsInvalidArgument() && !reread &&
        s.message().find("send from byte") != std::string::npos) {
      reread = true;
      BB_RETURN_IF_ERROR(Call("GET", target, "", &reply));
      offset = reply.value("received", std::int64_t{0});
      continue;
    }
    BB_RETURN_IF_ERROR(s);
    summary->photo_bytes_sent += static_cast<std::int64_t>(n);
    BB_FAULT_POINT("sync.upload.after_chunk");
    offset = reply.value("received", offset + static_cast<std::int64_t>(n));
  }
  BB_RETURN_IF_ERROR(store_->MarkAttachmentUploaded(photo.name));
  summary->photos_uploaded += 1;
  return Status::OK();
}

Status Enrol(Transport* transport, const std::string& token, const std::string& device_name,
             const Clock* clock, Enrolment* out) {
  json body = {{"token", token}, {"device_name", device_name}};
  json reply;
  std::int64_t offset = 0;
  bool revoked = false;  // a device not yet enrolled cannot be revoked
  BB_RETURN_IF_ERROR(Exchange(transport, {"POST", "/v1/enrol", body.dump(), ""}, OrSystem(clock),
                              &reply, &offset, &revoked));
  try {
    out->identity.device_id = reply.at("device_id").get<std::string>();
    out->identity.secret = reply.at("secret").get<std::string>();
    out->identity.user = reply.at("user").get<std::string>();
    out->identity.org = reply.at("org").get<std::string>();
    std::optional<Role> role = ParseRole(reply.at("role").get<std::string>());
    if (!role) return Status::Unavailable("the server's enrolment reply names an unknown role");
    out->identity.role = *role;
    out->identity.subject_secret = reply.value("subject_secret", "");
    out->forms = reply.at("forms");
  } catch (const json::exception& e) {
    return Status::Unavailable(std::string("the server's enrolment reply is malformed: ") +
                               e.what());
  }
  out->clock_offset_ms = offset;
  return Status::OK();
}

}  // namespace beatbook::sync
