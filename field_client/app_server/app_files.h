// The app's files (field_client/app/), compiled into field_client by cmake/embed_files.cmake:
// GET / is index.html, GET /app/NAME the file NAME. Nothing is fetched from elsewhere.
#pragma once

#include <vector>

#include "beatbook/http/static_files.h"

namespace field_client {

// Every file of the app, sorted by name (generated source).
const std::vector<beatbook::http::StaticFile>& AppFiles();

}  // namespace field_client
