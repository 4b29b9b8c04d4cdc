// The commands that talk to the server: init --server --token (enrolment) and sync.
#include <unistd.h>

#include <iostream>

#include "field_client/cli_support.h"
#include "field_client/commands.h"
#include "field_client/sync/curl_transport.h"
#include "field_client/sync/sync_engine.h"

#include "beatbook/json_text.h"
namespace field_client {

using beatbook::json;
using beatbook::JsonText;
using beatbook::Status;
namespace bsync = beatbook::sync;

int RunEnrol(const InitOptions& o) {
  if (o.server.empty() || o.token.empty()) return Fail("enrolment needs both --server and --token");
  if (!o.user.empty() || !o.org.empty() || !o.role.empty()) {
    return Fail("with --token the identity comes from the token; drop --user, --org and --role");
  }
  // Checked before anything is made or sent: a token over plain HTTP could be taken and used.
  if (Status url = bsync::CheckServerUrl(o.server, o.allow_insecure_http); !url.ok()) {
    return Fail(url);
  }
  std::string pin;
  Status s = PrepareNewStore(o.data, o.pin, &pin);
  if (!s.ok()) return Fail(s);
  std::unique_ptr<beatbook::LocalStore> existing;
  if (pin.empty() && beatbook::LocalStore::Open(o.data, {}, &existing).ok()) {
    return Fail("a device store already exists in " + o.data);
  }
  bsync::CurlTransport transport(o.server, {o.ca, -1, -1, o.allow_insecure_http});
  bsync::Enrolment enrolment;
  s = bsync::Enrol(&transport, o.token, o.device_name, nullptr, &enrolment);
  if (!s.ok()) return Fail(s);
  beatbook::FormSet forms;
  s = beatbook::FormSet::FromJson(enrolment.forms, &forms);
  if (!s.ok()) return Fail("the server's forms are unusable: " + s.message());
  enrolment.identity.server_url = o.server;
  enrolment.identity.ca_file = o.ca;
  enrolment.identity.allow_insecure_http = o.allow_insecure_http;
  // The enrolment's reply says whether the server reads gzip: the first push is compressed too.
  enrolment.identity.server_reads_gzip = transport.server_reads_gzip();
  std::unique_ptr<beatbook::LocalStore> store;
  s = CreateStore(o.data, pin, enrolment.identity, forms, &store);
  if (s.ok()) s = store->SetClockOffset(enrolment.clock_offset_ms);
  if (!s.ok()) return Fail(s);
  const auto& id = enrolment.identity;
  std::cout << "enrolled device " << id.device_id << " for " << id.user << " (" << id.org << ", "
            << beatbook::RoleName(id.role) << ") with " << o.server
            << (pin.empty() ? "" : ", signing in with a PIN") << "\n";
  return kExitOk;
}

// The device's server, with its CA (or --ca) and the command's timeout and retries.
bsync::CurlTransport TransportFor(const beatbook::LocalStore& store, const SyncCommandOptions& o) {
  const auto& id = store.identity();
  return bsync::CurlTransport(
      id.server_url, {o.ca.empty() ? id.ca_file : o.ca, o.retries, o.timeout_sec * 1000L,
                      id.allow_insecure_http || o.allow_insecure_http, id.server_reads_gzip});
}

// Keeps what the sync learnt about the server's gzip, so the next one compresses from the start.
void RememberCompression(beatbook::LocalStore* store, const bsync::CurlTransport& transport) {
  beatbook::Identity id = store->identity();
  if (id.server_reads_gzip == transport.server_reads_gzip()) return;
  id.server_reads_gzip = transport.server_reads_gzip();
  // Only an optimisation: if it cannot be kept, the next sync learns it again.
  store->SetIdentity(id).IgnoreError();
}

int RunSync(const SyncCommandOptions& o) {
  std::unique_ptr<beatbook::LocalStore> store;
  if (Status s = OpenStore(o.data, &store); !s.ok()) return Fail(s);
  const auto& id = store->identity();
  bsync::CurlTransport transport = TransportFor(*store, o);
  bsync::SyncEngine engine(store.get(), &transport);
  bool tty = !o.as_json && ::isatty(STDERR_FILENO);
  bsync::ProgressFn progress;
  if (tty)
    progress = [](const std::string& line) { std::cerr << "\r\033[K" << line << std::flush; };
  bsync::SyncSummary summary;
  Status s = engine.Sync(&summary, progress);
  if (tty) std::cerr << "\r\033[K" << std::flush;
  // Only after a sync that worked: a revoked device's store is wiped and must stay so.
  if (s.ok()) RememberCompression(store.get(), transport);
  if (!s.ok()) {
    if (s.IsUnavailable()) {
      beatbook::StoreSummary left;
      int64_t pending = store->Summary(&left).ok() ? left.pending_changes : -1;
      return Fail(Status::Unavailable(s.message() + "; " + std::to_string(pending) +
                                      " changes kept for the next sync"));
    }
    return Fail(s);
  }
  if (o.as_json) {
    std::cout << json{{"pushed", summary.pushed},
                      {"pulled", summary.pulled},
                      {"rejected", summary.rejected},
                      {"conflicts", summary.conflicts},
                      {"pending", summary.pending},
                      {"server_restored", summary.server_restored},
                      {"resent", summary.resent},
                      {"photos",
                       {{"uploaded", summary.photos_uploaded},
                        {"waiting", summary.photos_waiting},
                        {"damaged", summary.photos_damaged},
                        {"resumed", summary.photos_resumed},
                        {"bytes_sent", summary.photo_bytes_sent},
                        {"problems", summary.photo_problems}}},
                      // Body bytes as they crossed the network (gzip-compressed or not).
                      {"wire",
                       {{"sent", transport.bytes_sent()},
                        {"received", transport.bytes_received()},
                        {"body_sent", transport.body_bytes_sent()},
                        {"body_received", transport.body_bytes_received()}}}}
                     .dump()
              << "\n";
  } else {
    std::cout << "synced with " << id.server_url << ": pushed " << summary.pushed << ", pulled "
              << summary.pulled << ", rejected " << summary.rejected << ", conflicts "
              << summary.conflicts << "\n";
    if (summary.server_restored) {
      std::cout << "the server had been restored from a backup: this device sent again what it "
                   "holds ("
                << summary.resent << " records' writes) and pulled every record again\n";
    }
    if (summary.rejected > 0) std::cout << "see 'field_client status' for the rejection reasons\n";
    if (summary.photos_uploaded > 0 || summary.photos_waiting > 0) {
      std::cout << "photos: " << summary.photos_uploaded << " uploaded"
                << (summary.photos_resumed > 0 ? " (" + std::to_string(summary.photos_resumed) +
                                                     " carried on from an earlier sync)"
                                               : "")
                << ", " << summary.photos_waiting << " not uploaded yet\n";
    }
    for (const auto& problem : summary.photo_problems) std::cout << problem << "\n";
  }
  return kExitOk;
}

int RunRotate(const SyncCommandOptions& o) {
  std::unique_ptr<beatbook::LocalStore> store;
  if (Status s = OpenStore(o.data, &store); !s.ok()) return Fail(s);
  const auto& id = store->identity();
  bsync::CurlTransport transport = TransportFor(*store, o);
  if (Status s = bsync::SyncEngine(store.get(), &transport).RotateCredential(); !s.ok()) {
    return Fail(s);
  }
  std::cout << "device " << id.device_id << " has a new credential; the old one no longer works\n";
  return kExitOk;
}

int RunReport(const ReportCommandOptions& o) {
  if (o.format != "table" && o.format != "csv" && o.format != "json") {
    return Fail("--format '" + o.format + "' is not table, csv or json");
  }
  std::unique_ptr<beatbook::LocalStore> store;
  if (Status s = OpenStore(o.data, &store); !s.ok()) return Fail(s);
  const auto& id = store->identity();
  if (id.server_url.empty())
    return Fail("the report comes from the server; this device is stand-alone");
  bsync::CurlTransport transport(id.server_url, {o.ca.empty() ? id.ca_file : o.ca, -1, -1,
                                                 id.allow_insecure_http || o.allow_insecure_http});
  std::string target = "/v1/report?fy=" + std::to_string(o.fy) + "&format=" + o.format;
  if (!o.quarter.empty()) target += "&quarter=" + o.quarter;
  bsync::HttpResponse response;
  Status s = transport.Send({"GET", target, "", id.device_id + "." + id.secret}, &response);
  if (s.ok() && response.status != 200) s = bsync::StatusFromHttp(response);
  if (!s.ok()) return Fail(s);
  json reply = json::parse(response.body, nullptr, false);
  if (!reply.is_object() || !reply.contains("report"))
    return Fail("the server's report is malformed");
  if (o.format == "json") {
    std::cout << JsonText(reply["report"]) << "\n";
  } else {
    std::cout << reply["text"].get<std::string>();
  }
  return kExitOk;
}

}  // namespace field_client
