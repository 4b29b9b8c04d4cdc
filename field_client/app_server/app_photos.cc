// The app API's photos (docs/app-api.md): the camera's picture comes in as bytes, is checked,
// loses its location and is kept sealed (LocalStore::AddAttachment); the page shows it back from
// the store, never from the file the browser picked.
#include "beatbook/attachment.h"
#include "field_client/app_server/app_api.h"
#include "field_client/app_server/app_reply.h"

namespace field_client {

using beatbook::Status;
using nlohmann::json;

namespace {

std::string QueryValue(const std::string& target, const std::string& key) {
  std::size_t q = target.find('?');
  if (q == std::string::npos) return "";
  std::string query = "&" + target.substr(q + 1);
  std::size_t at = query.find("&" + key + "=");
  if (at == std::string::npos) return "";
  std::size_t start = at + key.size() + 2;
  return query.substr(start, query.find('&', start) - start);
}

}  // namespace

AppApi::Response AppApi::AddPhoto(const Request& request) {
  const std::string form = QueryValue(request.target, "form");
  const std::string field = QueryValue(request.target, "field");
  if (form.empty() || field.empty()) {
    return AppError(400, "bad_request", "say which question the photo answers: ?form=F&field=Q");
  }
  if (!MayUseForm(form)) return AppError(403, "forbidden", "you do not fill in this form");
  std::string name;
  Status s = store_->AddAttachment(form, field, request.body, &name);
  if (s.IsInvalidArgument()) {
    // "field 'photo': the file is not a JPEG or PNG photo ..." -> the words after the field.
    std::string why = s.message();
    if (std::size_t colon = why.find("': "); colon != std::string::npos)
      why = why.substr(colon + 3);
    return AppError(400, "bad_photo", Sentence("This photo cannot be used: " + why));
  }
  if (!s.ok()) return StoreError(s);
  beatbook::ImageInfo info;
  std::string bytes;
  if (store_->ReadAttachment(name, &bytes).ok()) beatbook::InspectImage(bytes, &info).IgnoreError();
  return Response(200, {{"name", name},
                        {"bytes", bytes.size()},
                        {"width", info.width},
                        {"height", info.height},
                        {"state", "waiting"}});
}

AppApi::Response AppApi::GetPhoto(const std::string& name) {
  if (!beatbook::IsAttachmentName(name)) {
    return AppError(400, "bad_request", "that is not a photo's name");
  }
  std::string bytes;
  Status s = store_->ReadAttachment(name, &bytes);
  if (s.IsNotFound()) {
    return AppError(404, "not_here",
                    "This photo was taken on another tablet; it is not on this one.");
  }
  if (s.code() == Status::Code::kCorruption) {
    return AppError(409, "damaged", "This photo was changed on the tablet after it was taken.");
  }
  if (!s.ok()) return StoreError(s);
  Response r;
  r.status = 200;
  r.raw = std::move(bytes);
  r.content_type = beatbook::AttachmentMime(name);
  r.headers.push_back({"X-Content-Type-Options", "nosniff"});
  r.headers.push_back({"Cache-Control", "no-store"});
  return r;
}

json AppApi::PhotoStates(const beatbook::RecordState& record) {
  std::map<std::string, beatbook::AttachmentState> states;
  json out = json::object();
  if (!store_->PhotoStates(record, &states).ok()) return out;  // the record shows without them
  for (const auto& [name, state] : states) out[name] = beatbook::AttachmentStateName(state);
  return out;
}

}  // namespace field_client
