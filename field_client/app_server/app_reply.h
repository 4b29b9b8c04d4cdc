// The app API's answers in the shape docs/app-api.md gives them: errors as
// {"error": {"code", "message"}}, validation errors with one entry per field at fault, messages
// as sentences a worker reads (capital first letter, full stop).
#pragma once

#include <string>
#include <vector>

#include "beatbook/http/message.h"
#include "beatbook/status.h"
#include "beatbook/validation.h"

namespace field_client {

// "field 'x': value 3 is below ..." -> "Field 'x': value 3 is below ... ." as a sentence.
std::string Sentence(std::string text);

beatbook::http::Response AppError(int status, const std::string& code, const std::string& message);

// A store error: 404 for NotFound, 400 for bad input, 409 for a change this worker may not make,
// 500 otherwise.
beatbook::http::Response StoreError(const beatbook::Status& s);

// 400 with "errors": one per field, in words under each field. `also` are errors that name no
// single field (the time, the person, the record as a whole).
beatbook::http::Response ValidationFailed(
    const std::vector<beatbook::ValidationError>& errors,
    const std::vector<std::pair<std::string, std::string>>& also = {});

}  // namespace field_client
