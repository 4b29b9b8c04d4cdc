#include "sync_server/api/dashboard_files.h"

namespace beatbook::server {

const char kDashboardCsp[] =
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

}  // namespace beatbook::server
