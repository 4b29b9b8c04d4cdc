#include "csv.h"

namespace beatbook {

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string CsvText(const std::string& s) {
  bool formula = !s.empty() && std::string("=+-@\t\r").find(s.front()) != std::string::npos;
  // Spreadsheets also take the full-width forms (U+FF1D = U+FF0B + U+FF0D - U+FF20 @).
  for (const char* wide : {"\xEF\xBC\x9D", "\xEF\xBC\x8B", "\xEF\xBC\x8D", "\xEF\xBC\xA0"}) {
    formula |= s.rfind(wide, 0) == 0;
  }
  return CsvField(formula ? "'" + s : s);
}

}  // namespace beatbook
