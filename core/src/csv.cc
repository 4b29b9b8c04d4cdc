#include "beatbook/csv.h"

namespace beatbook {

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string CsvText(const std::string& s) {
  if (!s.empty() && std::string("=+-@\t\r").find(s.front()) != std::string::npos) {
    return CsvField("'" + s);
  }
  return CsvField(s);
}

}  // namespace beatbook
