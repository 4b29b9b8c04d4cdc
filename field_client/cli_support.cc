#include "cli_support.h"

#include <algorithm>
#include <cstdlib>

#include "beatbook/datetime.h"

namespace field_client {

int Fail(const beatbook::Status& s) {
  std::cerr << "field_client: " << s.message() << "\n";
  switch (s.code()) {
    case beatbook::Status::Code::kUnavailable:
      return kExitUnavailable;
    case beatbook::Status::Code::kUnauthenticated:
    case beatbook::Status::Code::kPermissionDenied:
      return kExitRefused;
    default:
      return kExitError;
  }
}

int Fail(const std::string& message) { return Fail(beatbook::Status::InvalidArgument(message)); }

beatbook::Status OpenStore(const std::string& dir, std::unique_ptr<beatbook::LocalStore>* out) {
  return beatbook::LocalStore::Open(dir, {}, out);
}

std::string SchemaDir(const std::string& flag) {
  if (!flag.empty()) return flag;
  if (const char* env = std::getenv("BEATBOOK_SCHEMA"); env && *env) return env;
  return BEATBOOK_SCHEMA_DIR;
}

void PrintTable(std::ostream& out, const std::vector<std::string>& header,
                const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(header.size());
  for (size_t c = 0; c < header.size(); ++c) width[c] = header[c].size();
  for (const auto& row : rows) {
    for (size_t c = 0; c < row.size() && c < width.size(); ++c) {
      width[c] = std::max(width[c], row[c].size());
    }
  }
  auto line = [&](const std::vector<std::string>& cells) {
    for (size_t c = 0; c < cells.size(); ++c) {
      out << cells[c];
      if (c + 1 < cells.size()) out << std::string(width[c] - cells[c].size() + 2, ' ');
    }
    out << "\n";
  };
  line(header);
  for (const auto& row : rows) line(row);
}

std::string HumanTime(std::int64_t epoch_ms) {
  if (epoch_ms == 0) return "never";
  std::string iso = beatbook::FormatIsoUtc(epoch_ms);  // 2023-06-01T21:15:00Z
  return iso.substr(0, 10) + " " + iso.substr(11, 5) + " UTC";
}

}  // namespace field_client
