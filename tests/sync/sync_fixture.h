// A server (real Api + SqlCentralStore on SQLite in a temp dir) and devices enrolled with it,
// talking through the in-process transport. For sync tests that need no sockets.
#pragma once

#include <doctest/doctest.h>

#include <map>
#include <memory>

#include "beatbook/crypto.h"
#include "beatbook/local_store.h"
#include "field_client/sync/sync_engine.h"
#include "support/inprocess_transport.h"
#include "support/process.h"
#include "support/temp_dir.h"
#include "sync_server/api/api.h"
#include "sync_server/store/sql_central_store.h"

namespace beatbook::test {

struct Device {
  std::unique_ptr<LocalStore> store;
  std::unique_ptr<sync::Transport> transport;
  const Clock* clock = nullptr;  // the device's own (possibly wrong) clock; nullptr: the system's
  std::string Log(const std::string& form, const json& fields,
                  const std::string& occurred_at = "2023-06-01T12:00:00Z") {
    std::string id;
    Status s = store->Log({form, fields, occurred_at, {}, {}, {}, {}}, &id);
    REQUIRE_MESSAGE(s.ok(), s.ToString());
    return id;
  }
  Status Sync(sync::SyncSummary* summary = nullptr, std::size_t batch = 0) {
    sync::SyncSummary local;
    sync::SyncOptions options;
    options.push_batch_size = batch;
    options.pull_page_size = batch;
    options.clock = clock;
    sync::SyncEngine engine(store.get(), transport.get(), options);
    return engine.Sync(summary ? summary : &local);
  }
  // The Authorization header this device sends.
  std::string Bearer() const {
    return "Bearer " + store->identity().device_id + "." + store->identity().secret;
  }
  std::map<std::string, json> Visible() {
    std::vector<RecordState> states;
    REQUIRE(store->ListAllStates(&states).ok());
    std::map<std::string, json> out;
    for (const auto& s : states) out[s.id] = s.ToJson();
    return out;
  }
};

struct SyncFixture {
  SyncFixture() {
    REQUIRE(FormSet::LoadDir(SchemaDir(), &forms).ok());
    REQUIRE(server::SqlCentralStore::OpenSqlite(dir / "server", &central).ok());
    REQUIRE(Catalogue::LoadFile(SchemaDir() + "/indicators.json", &catalogue).ok());
    // No rate limit: the simulations pack days of syncing into seconds.
    api = std::make_unique<server::Api>(central.get(), &forms, &catalogue, SystemClock::Default(),
                                        server::ApiOptions{0, 0});
    inprocess = std::make_unique<InProcessTransport>(api.get());
  }

  // Serves from now on with the server's clock at `clock` (which must outlive the fixture):
  // for tests that move the server's time. Devices enrolled after this use the new Api.
  void UseServerClock(const Clock* clock) {
    api = std::make_unique<server::Api>(central.get(), &forms, &catalogue, clock,
                                        server::ApiOptions{0, 0});
    inprocess = std::make_unique<InProcessTransport>(api.get());
  }

  // Enrols a device through the real /v1/enrol; `transport` defaults to the in-process one.
  Device Enrol(const std::string& user, const std::string& org, const std::string& role,
               std::unique_ptr<sync::Transport> transport = nullptr, const Clock* clock = nullptr) {
    std::string token = RandomSecret(16);
    REQUIRE(central
                ->CreateToken(
                    token, {user, org, *ParseRole(role), SystemClock::Default()->NowMs() + 60000},
                    SystemClock::Default()->NowMs(), nullptr)
                .ok());
    sync::Enrolment e;
    Status s = sync::Enrol(inprocess.get(), token, user + "-tablet", clock, &e);
    REQUIRE_MESSAGE(s.ok(), s.ToString());
    e.identity.server_url = "inprocess://";
    Device d;
    FormSet device_forms;
    REQUIRE(FormSet::FromJson(e.forms, &device_forms).ok());
    LocalStoreOptions options;
    options.clock = clock;
    s = LocalStore::Create(dir / ("dev-" + std::to_string(++devices)), e.identity, device_forms,
                           options, &d.store);
    REQUIRE_MESSAGE(s.ok(), s.ToString());
    REQUIRE(d.store->SetClockOffset(e.clock_offset_ms).ok());
    d.clock = clock;
    d.transport =
        transport ? std::move(transport) : std::make_unique<InProcessTransport>(api.get());
    return d;
  }

  // A dashboard sign-in for `role` through the real /v1/enrol, as a bearer credential. `clock`
  // is the server's.
  std::string DashboardSignIn(const std::string& user, const std::string& org,
                              const std::string& role,
                              const Clock& clock = *SystemClock::Default()) {
    std::string token = RandomSecret(16);
    REQUIRE(central
                ->CreateToken(token, {user, org, *ParseRole(role), clock.NowMs() + 60000},
                              clock.NowMs(), nullptr)
                .ok());
    json body = {{"token", token}, {"device_name", "dashboard (test)"}, {"client", "dashboard"}};
    server::ApiResponse r = api->Handle({"POST", "/v1/enrol", body.dump(), ""});
    REQUIRE(r.status == 200);
    return "Bearer " + r.body["device_id"].get<std::string>() + "." +
           r.body["secret"].get<std::string>();
  }

  std::map<std::string, json> ServerRecords(const std::string& org = "") {
    std::vector<RecordState> states;
    REQUIRE(central->AllRecords(&states).ok());
    std::map<std::string, json> out;
    for (const auto& s : states) {
      if (org.empty() || s.org == org) out[s.id] = s.ToJson();
    }
    return out;
  }

  TempDir dir;
  FormSet forms;
  Catalogue catalogue;
  std::unique_ptr<server::SqlCentralStore> central;
  std::unique_ptr<server::Api> api;
  std::unique_ptr<InProcessTransport> inprocess;
  int devices = 0;
};

}  // namespace beatbook::test
