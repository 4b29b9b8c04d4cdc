// The dashboard's files (sync_server/dashboard/), compiled into the program by
// cmake/embed_files.cmake, and how they are served: GET / and /dashboard redirect to
// /dashboard/, which is index.html; /dashboard/NAME is that file. Nothing is fetched from
// elsewhere, so the page works with no internet, and a strict Content-Security-Policy allows
// nothing but these files and this server's API.
#pragma once

#include <string_view>
#include <vector>

#include "beatbook/http/static_files.h"

namespace beatbook::server {

// Every file of the dashboard, sorted by name (generated source).
const std::vector<http::StaticFile>& DashboardFiles();
// The file called `name`, or nullptr.
inline const http::StaticFile* FindDashboardFile(std::string_view name) {
  return http::FindStaticFile(DashboardFiles(), name);
}
// The Content-Security-Policy sent with every dashboard file.
extern const char kDashboardCsp[];

}  // namespace beatbook::server
