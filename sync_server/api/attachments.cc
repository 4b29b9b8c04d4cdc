// The photo endpoints (docs/protocol.md, section 8): a device uploads a photo a record of its
// names, in chunks that resume where the server's copy ends; the server checks the whole photo
// against its name before storing it; the coordinator reads it, audited.
//
//   GET /v1/attachments/NAME/upload?record=ID                       how much is here
//   PUT /v1/attachments/NAME/upload?record=ID&offset=N&total=T      the next chunk
//   GET /v1/attachments/NAME?record=ID                              the photo (coordinator)
#include "sync_server/api/attachments.h"

#include <cerrno>
#include <cstdlib>

#include "beatbook/attachment.h"
#include "beatbook/tunables.h"
#include "sync_server/api/api.h"
#include "sync_server/api/query.h"

namespace beatbook::server {

using nlohmann::json;

namespace {

// NAME of /v1/attachments/NAME[/upload].
std::string NameInPath(const std::string& path) {
  static const std::string kPrefix = "/v1/attachments/";
  std::string rest = path.substr(kPrefix.size());
  const std::string kUpload = "/upload";
  if (rest.size() > kUpload.size() &&
      rest.compare(rest.size() - kUpload.size(), kUpload.size(), kUpload) == 0) {
    rest.resize(rest.size() - kUpload.size());
  }
  return rest;
}

bool ReadCount(const std::optional<std::string>& text, std::int64_t* out) {
  if (!text || text->empty() || text->size() > 12) return false;
  for (char c : *text) {
    if (c < '0' || c > '9') return false;
  }
  *out = std::strtoll(text->c_str(), nullptr, 10);
  return true;
}

json ProgressJson(const std::string& name, const UploadProgress& p) {
  return {{"name", name}, {"received", p.received}, {"total", p.total}, {"complete", p.complete}};
}

}  // namespace

std::string AttachmentEndpoint(const std::string& path) {
  static const std::string kPrefix = "/v1/attachments/";
  if (path.rfind(kPrefix, 0) != 0 || path.size() == kPrefix.size()) return "";
  const std::string kUpload = "/upload";
  if (path.size() > kPrefix.size() + kUpload.size() &&
      path.compare(path.size() - kUpload.size(), kUpload.size(), kUpload) == 0) {
    return "/v1/attachments/NAME/upload";
  }
  return "/v1/attachments/NAME";
}

bool Api::PhotoOfRecord(const DeviceInfo& device, const ApiRequest& request,
                        const std::string& query, PhotoRef* photo, ApiResponse* error) {
  photo->name = NameInPath(request.Path());
  if (!IsAttachmentName(photo->name)) {
    *error = Error(400, "'" + photo->name.substr(0, 80) +
                            "' is not a photo's name (64 hex digits of its SHA-256, then .jpg "
                            "or .png)");
    return false;
  }
  photo->record_id = QueryParam(query, "record").value_or("");
  if (photo->record_id.empty()) {
    *error = Error(400, "say which record names the photo: ?record=ID");
    return false;
  }
  RecordState record;
  bool found = false;
  Status s = store_->Write(
      [&](WriteTxn& txn) { return txn.ReadRecord(photo->record_id, &record, &found); });
  if (!s.ok()) {
    *error = Error(HttpStatusFor(s), "the store could not be read: " + s.message());
    return false;
  }
  // Another org's record is answered as if it did not exist.
  if (!found || record.purged || (device.role != Role::kCoordinator && record.org != device.org)) {
    *error = Error(404, "no record " + photo->record_id + " this device may see");
    return false;
  }
  if (record.IsDeleted()) {
    *error = Error(404, "record " + photo->record_id + " was deleted; its photos are not kept");
    return false;
  }
  if (const FormDef* form = forms_->Find(record.form, record.form_version)) {
    for (const auto& [field, name] : form->PhotosIn(record.FieldValues())) {
      if (name != photo->name) continue;
      photo->field = field;
      photo->keep_location = form->Find(field)->keep_location;
      return true;
    }
  }
  *error = Error(404, "record " + photo->record_id + " does not name photo " + photo->name +
                          " (sync the record first, or it was replaced)");
  return false;
}

ApiResponse Api::UploadProgressOf(const DeviceInfo& device, const ApiRequest& request,
                                  const std::string& query) {
  PhotoRef photo;
  if (ApiResponse error; !PhotoOfRecord(device, request, query, &photo, &error)) return error;
  UploadProgress progress;
  Status s = store_->ReadUploadProgress(device.id, photo.name, &progress);
  if (s.ok() && progress.complete) {
    // The same photo is stored already (attached to another record too): note this record.
    s = store_->StoreAttachment(device.id, photo.name, photo.record_id, photo.field, "",
                                clock_->NowMs());
  }
  if (!s.ok()) return Error(HttpStatusFor(s), "the store could not be read: " + s.message());
  // Every byte arrived but the photo was never finished (the server stopped after taking the
  // last chunk): finish it now, or the device would wait for ever.
  if (progress.total > 0 && progress.received == progress.total) {
    return FinishUpload(device, photo);
  }
  return {200, ProgressJson(photo.name, progress)};
}

ApiResponse Api::FinishUpload(const DeviceInfo& device, const PhotoRef& photo) {
  // The whole photo must be what its name says, or nothing of it is kept.
  std::string bytes;
  Status s = store_->ReadUploadParts(device.id, photo.name, &bytes);
  if (!s.ok()) return Error(HttpStatusFor(s), "the upload could not be read: " + s.message());
  if (Status checked = CheckAttachment(photo.name, bytes, photo.keep_location); !checked.ok()) {
    Status dropped = store_->DropUploadParts(device.id, photo.name);
    if (!dropped.ok()) return Error(HttpStatusFor(dropped), dropped.message());
    return Error(422, "photo " + photo.name + " was refused: " + checked.message(),
                 "attachment_rejected");
  }
  s = store_->StoreAttachment(device.id, photo.name, photo.record_id, photo.field, bytes,
                              clock_->NowMs());
  if (!s.ok()) return Error(HttpStatusFor(s), "the photo could not be stored: " + s.message());
  return {200, ProgressJson(photo.name, UploadProgress{true, 0, 0})};
}

ApiResponse Api::UploadChunk(const DeviceInfo& device, const ApiRequest& request,
                             const std::string& query) {
  std::int64_t offset = 0, total = 0;
  if (!ReadCount(QueryParam(query, "offset"), &offset) ||
      !ReadCount(QueryParam(query, "total"), &total)) {
    return Error(400, "an upload chunk needs offset=N and total=T, whole numbers of bytes");
  }
  if (total < 1 || total > static_cast<std::int64_t>(tunables::kMaxAttachmentBytes)) {
    return Error(413, "a photo of " + std::to_string(total) + " bytes: the largest taken is " +
                          std::to_string(tunables::kMaxAttachmentBytes));
  }
  if (request.body.empty()) return Error(400, "the chunk is empty");
  if (request.body.size() > tunables::kAttachmentChunkBytes) {
    return Error(413, "a chunk of " + std::to_string(request.body.size()) +
                          " bytes: the largest taken is " +
                          std::to_string(tunables::kAttachmentChunkBytes));
  }
  const std::int64_t end = offset + static_cast<std::int64_t>(request.body.size());
  if (end > total) {
    return Error(400, "the chunk ends at byte " + std::to_string(end) + ", past the photo's " +
                          std::to_string(total));
  }
  PhotoRef photo;
  if (ApiResponse error; !PhotoOfRecord(device, request, query, &photo, &error)) return error;
  const std::int64_t now = clock_->NowMs();
  UploadProgress progress;
  Status s = store_->ReadUploadProgress(device.id, photo.name, &progress);
  if (s.ok() && progress.complete) {
    s = store_->StoreAttachment(device.id, photo.name, photo.record_id, photo.field, "", now);
    if (s.ok()) return {200, ProgressJson(photo.name, progress)};
  }
  if (s.ok() && progress.total > 0 && progress.received == progress.total) {
    return FinishUpload(device, photo);  // see UploadProgressOf
  }
  if (s.ok()) s = store_->AddUploadPart(device.id, photo.name, offset, total, request.body, now);
  if (s.code() == Status::Code::kResourceExhausted) {
    // Over the device's share of unfinished uploads (tunables::kMaxUnfinishedUploadBytes).
    return Error(413, s.message());
  }
  if (s.IsFailedPrecondition()) {
    UploadProgress held;
    Status read = store_->ReadUploadProgress(device.id, photo.name, &held);
    ApiResponse conflict =
        Error(409, s.message() + "; send from byte " + std::to_string(held.received), "conflict");
    if (read.ok()) conflict.body["received"] = held.received;
    return conflict;
  }
  if (!s.ok()) return Error(HttpStatusFor(s), "the chunk could not be stored: " + s.message());
  progress = {false, end, total};
  if (end < total) return {200, ProgressJson(photo.name, progress)};
  return FinishUpload(device, photo);  // the last chunk
}

ApiResponse Api::AttachmentFile(const DeviceInfo& device, const ApiRequest& request,
                                const std::string& query) {
  PhotoRef photo;
  if (ApiResponse error; !PhotoOfRecord(device, request, query, &photo, &error)) return error;
  std::string bytes;
  bool found = false;
  Status s = store_->ReadAttachment(photo.name, &bytes, &found);
  if (!s.ok()) return Error(HttpStatusFor(s), "the store could not be read: " + s.message());
  if (!found) {
    return Error(404, "photo " + photo.name + " of record " + photo.record_id +
                          " is not uploaded yet: the device that took it has not synced it");
  }
  json seen = {{"record_id", photo.record_id}, {"field", photo.field}, {"name", photo.name}};
  if (Status a = Audit(device, "attachment_view", seen); !a.ok()) return AuditFailed(a);
  ApiResponse reply;
  reply.status = 200;
  reply.raw = std::move(bytes);
  reply.content_type = AttachmentMime(photo.name);
  reply.headers.push_back({"Content-Disposition", "inline; filename=\"" + photo.name + "\""});
  reply.headers.push_back({"X-Content-Type-Options", "nosniff"});
  reply.headers.push_back({"Cache-Control", "no-store"});  // not in a shared office PC's cache
  return reply;
}

std::vector<std::string> PhotosInTable(const FormSet& forms, const std::string& form,
                                       const RecordTable& table) {
  std::set<std::string> image_fields;  // in any version of the form
  for (int v = 1; const FormDef* def = forms.Find(form, v); ++v) {
    for (const auto& f : def->fields) {
      if (f.type == FieldType::kImage) image_fields.insert(f.name);
    }
  }
  std::set<std::string> names;
  for (std::size_t c = 0; c < table.columns.size(); ++c) {
    if (!image_fields.count(table.columns[c])) continue;
    for (const auto& row : table.rows) {
      const json& cell = row[c];
      if (cell.is_string() && IsAttachmentName(cell.get<std::string>())) {
        names.insert(cell.get<std::string>());
      }
    }
  }
  return {names.begin(), names.end()};
}

json PhotoStates(CentralStore* store, const FormSet& forms, const std::string& form,
                 const RecordTable& table) {
  const std::vector<std::string> names = PhotosInTable(forms, form, table);
  json states = json::object();
  if (names.empty()) return states;
  std::set<std::string> stored;
  if (!store->StoredAttachments(names, &stored).ok()) return states;
  for (const auto& name : names) states[name] = stored.count(name) ? "stored" : "not_uploaded";
  return states;
}

}  // namespace beatbook::server
