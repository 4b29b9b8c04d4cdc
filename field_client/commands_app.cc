// `field_client app`: the worker's touch app, served by the device itself on loopback
// (docs/app-api.md), from the same store the other commands use.
#include <iostream>

#include "beatbook/crypto.h"
#include "beatbook/http/server.h"
#include "field_client/app_server/app_api.h"
#include "field_client/cli_support.h"
#include "field_client/commands.h"

namespace field_client {

using beatbook::Status;

int RunApp(const AppCommandOptions& o) {
  auto colon = o.listen.rfind(':');
  std::string host = colon == std::string::npos ? "" : o.listen.substr(0, colon);
  if (!host.empty() && host.front() == '[') host = host.substr(1, host.size() - 2);
  int port = -1;
  try {
    port = colon == std::string::npos ? -1 : std::stoi(o.listen.substr(colon + 1));
  } catch (const std::exception&) {
  }
  if (port < 0 || port > 65535) {
    return Fail("--listen '" + o.listen + "' must be 127.0.0.1:PORT (0 picks a free port)");
  }
  // The app holds the worker's records: it never listens beyond this machine.
  if (host != "127.0.0.1" && host != "localhost" && host != "::1") {
    return Fail("the app listens on this machine only (127.0.0.1 or ::1), not on '" + host + "'");
  }
  AppOptions options;
  options.data = o.data;
  options.launch_key = beatbook::RandomSecret(32);
  AppApi app(options);
  if (Status s = app.Start(); !s.ok()) return Fail(s);
  // One I/O thread (the app serves one person), and few connections.
  beatbook::http::HttpServer server(&app, 1, {64, 64});
  std::string bound;
  if (Status s = server.Listen(host == "localhost" ? "127.0.0.1" : host,
                               static_cast<std::uint16_t>(port), &bound);
      !s.ok()) {
    return Fail(s);
  }
  app.SetOrigin(bound);
  std::cout << "app at http://" << bound << "/#k=" << options.launch_key << std::endl;
  server.Run();
  std::cerr << "field_client: app stopped\n";
  return kExitOk;
}

}  // namespace field_client
