#include "field_client/app_server/app_reply.h"

#include <cctype>

namespace field_client {

using beatbook::Status;
using beatbook::http::Response;
using nlohmann::json;

std::string Sentence(std::string text) {
  if (text.empty()) return text;
  text[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(text[0])));
  if (text.back() != '.' && text.back() != ')' && text.back() != '?') text += '.';
  return text;
}

Response AppError(int status, const std::string& code, const std::string& message) {
  return Response(status, {{"error", {{"code", code}, {"message", Sentence(message)}}}});
}

Response StoreError(const Status& s) {
  switch (s.code()) {
    case Status::Code::kNotFound:
      return AppError(404, "not_found", s.message());
    case Status::Code::kInvalidArgument:
    case Status::Code::kAlreadyExists:
      return AppError(400, "bad_request", s.message());
    case Status::Code::kFailedPrecondition:
      return AppError(409, "not_yours", s.message());
    default:
      return AppError(500, "store", s.message());
  }
}

Response ValidationFailed(const std::vector<beatbook::ValidationError>& errors,
                          const std::vector<std::pair<std::string, std::string>>& also) {
  json list = json::array();
  for (const auto& [field, message] : also)
    list.push_back({{"field", field}, {"message", Sentence(message)}});
  for (const auto& e : errors)
    list.push_back({{"field", e.field}, {"message", Sentence(e.message)}});
  std::size_t n = list.size();
  Response r = AppError(
      400, "invalid",
      n == 1 ? "There is a problem with one answer: nothing was saved"
             : "There are problems with " + std::to_string(n) + " answers: nothing was saved");
  r.body["errors"] = std::move(list);
  return r;
}

}  // namespace field_client
