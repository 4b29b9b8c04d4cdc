// The app API's languages (docs/app-api.md, "Languages"): which language this worker reads forms
// in, kept in their store so it follows them, and forms shown in it. Records hold codes only, so
// nothing the worker saves depends on the language they read.
#include "field_client/app_server/app_api.h"
#include "field_client/app_server/app_reply.h"

namespace field_client {

using nlohmann::json;

std::string AppApi::Language() {
  std::string code;
  // The worker reads forms all the same if the choice cannot be read: in the default language.
  if (!store_->Language(&code).ok()) code = store_->forms().default_language().code;
  return code;
}

json AppApi::LanguagesJson(const std::vector<std::string>& codes) const {
  json list = json::array();
  for (const auto& code : codes) {
    if (const beatbook::Language* l = store_->forms().FindLanguage(code)) {
      list.push_back({{"code", l->code}, {"name", l->name}});
    }
  }
  return list;
}

AppApi::Response AppApi::SetLanguage(const json& body) {
  const json chosen = body.value("language", json());
  if (!chosen.is_string()) {
    return AppError(400, "bad_request", "send the language as {\"language\": \"CODE\"}");
  }
  beatbook::Status s = store_->SetLanguage(chosen.get<std::string>());
  if (s.code() == beatbook::Status::Code::kInvalidArgument) {
    return AppError(400, "bad_language", Sentence(s.message()));
  }
  if (!s.ok()) return StoreError(s);
  return State();
}

}  // namespace field_client
