#include "sync_server/api/query.h"

#include <cctype>

#include "beatbook/indicators.h"

namespace beatbook::server {

std::string PercentDecode(const std::string& in) {
  std::string out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+') {
      out += ' ';
    } else if (in[i] == '%' && i + 2 < in.size() &&
               std::isxdigit(static_cast<unsigned char>(in[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(in[i + 2]))) {
      out += static_cast<char>(std::stoi(in.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += in[i];
    }
  }
  return out;
}

std::optional<std::string> QueryParam(const std::string& query, const std::string& key) {
  size_t pos = 0;
  while (pos <= query.size()) {
    size_t amp = query.find('&', pos);
    std::string part = query.substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
    size_t eq = part.find('=');
    if (part.substr(0, eq) == key) {
      return eq == std::string::npos ? "" : PercentDecode(part.substr(eq + 1));
    }
    if (amp == std::string::npos) break;
    pos = amp + 1;
  }
  return std::nullopt;
}

bool ReadPeriod(const std::optional<std::string>& fy_text, const std::optional<std::string>& q_text,
                int* fy, std::optional<int>* quarter, std::string* error) {
  if (!fy_text) {
    *error = "fy is required, e.g. fy=2023 for 2023/24";
    return false;
  }
  try {
    size_t used = 0;
    *fy = std::stoi(*fy_text, &used);
    if (used != fy_text->size()) throw std::invalid_argument("fy");
  } catch (const std::exception&) {
    *error = "fy '" + *fy_text + "' is not a year";
    return false;
  }
  if (q_text) {
    int q = QuarterNumber(*q_text);
    if (q == 0) {
      *error = "quarter '" + *q_text + "' is not one of Q1, Q2, Q3, Q4";
      return false;
    }
    *quarter = q;
  }
  return true;
}

}  // namespace beatbook::server
