// Reading an API request's query string and period parameters.
#pragma once

#include <optional>
#include <string>

namespace beatbook::server {

// Decodes %XX escapes and '+' (a space) of a query value; a malformed escape stays as it is.
std::string PercentDecode(const std::string& in);

// "a=1&b=2" -> the decoded value of `key`, or nullopt.
std::optional<std::string> QueryParam(const std::string& query, const std::string& key);

// Reads "fy" (required) and "quarter" (optional, "Q1".."Q4") from a query or a JSON body. False
// with a message in *error if either is malformed.
bool ReadPeriod(const std::optional<std::string>& fy_text, const std::optional<std::string>& q_text,
                int* fy, std::optional<int>* quarter, std::string* error);

}  // namespace beatbook::server
