// The dashboard's files (sync_server/dashboard/), compiled into the program by
// cmake/embed_files.cmake, and how they are served: GET / and /dashboard redirect to
// /dashboard/, which is index.html; /dashboard/NAME is that file. Nothing is fetched from
// elsewhere, so the page works with no internet, and a strict Content-Security-Policy allows
// nothing but these files and this server's API.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace beatbook::server {

struct StaticFile {
  std::string_view name;  // e.g. "app.js"
  std::string_view content;
};

// Every file of the dashboard, sorted by name (generated source).
const std::vector<StaticFile>& DashboardFiles();
// The file called `name`, or nullptr.
const StaticFile* FindDashboardFile(std::string_view name);
// The Content-Type for a file name, by its extension.
std::string ContentTypeFor(std::string_view name);
// The Content-Security-Policy sent with every dashboard file.
extern const char kDashboardCsp[];

}  // namespace beatbook::server
