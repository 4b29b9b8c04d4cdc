// Files compiled into a program (cmake/embed_files.cmake) and served by it: the dashboard in
// sync_server, the worker's app in field_client. Nothing is fetched from elsewhere, so the pages
// work with no internet.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace beatbook::http {

struct StaticFile {
  std::string_view name;  // e.g. "app.js"
  std::string_view content;
};

// The file called `name` in `files`, or nullptr.
const StaticFile* FindStaticFile(const std::vector<StaticFile>& files, std::string_view name);
// The Content-Type for a file name, by its extension.
std::string ContentTypeFor(std::string_view name);

}  // namespace beatbook::http
