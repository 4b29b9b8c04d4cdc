#include "beatbook/http/static_files.h"

#include <algorithm>

namespace beatbook::http {

const StaticFile* FindStaticFile(const std::vector<StaticFile>& files, std::string_view name) {
  auto it =
      std::find_if(files.begin(), files.end(), [&](const StaticFile& f) { return f.name == name; });
  return it == files.end() ? nullptr : &*it;
}

std::string ContentTypeFor(std::string_view name) {
  auto ends_with = [&](std::string_view ext) {
    return name.size() >= ext.size() && name.substr(name.size() - ext.size()) == ext;
  };
  if (ends_with(".html")) return "text/html; charset=utf-8";
  // Browsers run module scripts only with a JavaScript type.
  if (ends_with(".js")) return "text/javascript; charset=utf-8";
  if (ends_with(".css")) return "text/css; charset=utf-8";
  if (ends_with(".svg")) return "image/svg+xml";
  if (ends_with(".png")) return "image/png";
  if (ends_with(".ico")) return "image/x-icon";
  return "application/octet-stream";
}

}  // namespace beatbook::http
