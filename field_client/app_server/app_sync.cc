// The app API's Sync button and a partner lead's returns grid (docs/app-api.md).
#include <map>

#include "beatbook/datetime.h"
#include "beatbook/indicators.h"
#include "beatbook/return_rules.h"
#include "field_client/app_server/app_api.h"
#include "field_client/app_server/app_reply.h"
#include "field_client/sync/curl_transport.h"
#include "field_client/sync/sync_engine.h"

namespace field_client {

using beatbook::Status;
using nlohmann::json;

namespace {

// "22:14" in Europe/London: when the worker last tried.
std::string LondonTime(std::int64_t ms) {
  std::int64_t local = (ms + beatbook::LondonOffsetMs(ms)) / 60'000;
  char buf[8];
  std::snprintf(buf, sizeof buf, "%02d:%02d", static_cast<int>(local / 60 % 24),
                static_cast<int>(local % 60));
  return buf;
}

}  // namespace

AppApi::Response AppApi::Sync() {
  const beatbook::Identity& id = store_->identity();
  if (id.server_url.empty()) {
    return AppError(409, "stand_alone", "this tablet has no server to send to");
  }
  // A short timeout and one retry: a person is waiting, and the records stay safe on the tablet.
  beatbook::sync::CurlTransport transport(
      id.server_url, {id.ca_file, 1, beatbook::tunables::kAppSyncTimeoutMs, id.allow_insecure_http,
                      id.server_reads_gzip});
  beatbook::sync::SyncEngine engine(store_.get(), &transport);
  beatbook::sync::SyncSummary summary;
  Status s = engine.Sync(&summary);
  if (s.ok() && transport.server_reads_gzip() != id.server_reads_gzip) {
    // Kept so the next sync compresses from the start; only an optimisation if it fails. Only
    // after a sync that worked: a revoked device's store is wiped and must stay so.
    beatbook::Identity learnt = store_->identity();
    learnt.server_reads_gzip = transport.server_reads_gzip();
    store_->SetIdentity(learnt).IgnoreError();
  }
  if (s.IsUnavailable()) {
    last_sync_error_ = "No signal at " + LondonTime(clock_->NowMs());
    return AppError(503, "no_signal",
                    "No signal: nothing was lost; try again when you have signal");
  }
  if (!s.ok()) {
    last_sync_error_ = Sentence(s.message());
    if (s.message().find("wiped") != std::string::npos) store_.reset();  // revoked: wiped
    int status = s.code() == Status::Code::kPermissionDenied  ? 403
                 : s.code() == Status::Code::kUnauthenticated ? 401
                                                              : 500;
    return AppError(status, "sync_failed", s.message());
  }
  last_sync_error_.clear();
  json problems = json::array();
  for (const auto& p : summary.photo_problems) problems.push_back(Sentence(p));
  return Response(200, {{"pushed", summary.pushed},
                        {"pulled", summary.pulled},
                        {"rejected", summary.rejected},
                        {"pending", summary.pending},
                        {"server_restored", summary.server_restored},
                        {"photos_uploaded", summary.photos_uploaded},
                        {"photos_waiting", summary.photos_waiting},
                        {"photo_problems", problems}});
}

AppApi::Response AppApi::Returns(const Request& request) {
  const beatbook::Identity& me = store_->identity();
  if (me.role != beatbook::Role::kPartnerLead && me.role != beatbook::Role::kCoordinator) {
    return AppError(403, "forbidden", "returns are entered by partner leads");
  }
  int fy = beatbook::PeriodOf(clock_->NowMs()).fy;
  std::string query = request.target.find('?') == std::string::npos
                          ? ""
                          : request.target.substr(request.target.find('?') + 1);
  if (query.rfind("fy=", 0) == 0) {
    try {
      fy = std::stoi(query.substr(3));
    } catch (const std::exception&) {
      return AppError(400, "bad_request", "fy must be a year such as 2023");
    }
  }
  const beatbook::FormDef* form = store_->forms().ReturnForm();
  if (form == nullptr) return AppError(409, "no_form", "this tablet has no returns form");
  std::set<std::string> milestones;
  if (const auto* list = store_->forms().List("milestone_indicators")) {
    for (const auto& c : *list) milestones.insert(c.code);
  }
  // Only the indicators this org owns (the coordinator sees every one).
  const beatbook::ReturnRules& rules = store_->forms().returns();
  auto owns = [&](const std::string& indicator) {
    const beatbook::ReturnRule* rule = rules.Find(indicator);
    return me.role == beatbook::Role::kCoordinator || rule == nullptr || rule->owners.empty() ||
           rule->owners.count(me.org) > 0;
  };
  json indicators = json::array(), statuses = json::array(), quarters = json::array();
  for (const auto& f : form->fields) {
    for (const auto& c : f.choices) {
      if (f.name == "indicator" && !owns(c.code)) continue;
      if (f.name == "indicator") {
        indicators.push_back({{"id", c.code},
                              {"label", c.label},
                              {"kind", milestones.count(c.code) ? "milestone" : "return"}});
      } else if (f.name == "status") {
        statuses.push_back({{"code", c.code}, {"label", c.label}});
      } else if (f.name == "quarter") {
        quarters.push_back(c.code);
      }
    }
  }
  std::vector<beatbook::RecordState> returns;
  if (Status s = store_->List(form->name, &returns); !s.ok()) return StoreError(s);
  SyncStates states;
  if (Status s = LoadSyncStates(&states); !s.ok()) return StoreError(s);
  json cells = json::object();
  const std::string language = Language();
  for (const auto& r : returns) {
    json values = r.FieldValues();
    // The org's own returns, and the partnership's figures it shares with other owners.
    bool shared =
        r.org == rules.partnership_org() && owns(values.value("indicator", json("")).is_string()
                                                     ? values["indicator"].get<std::string>()
                                                     : std::string());
    if ((r.org != me.org && !shared) || values.value("fy", 0) != fy) continue;
    json shown = RecordJson(r, states, language);
    json cell = {{"record_id", r.id}, {"state", shown["state"]}};
    if (values.contains("value")) cell["value"] = values["value"];
    if (values.contains("status")) cell["status"] = values["status"];
    cells[values.value("indicator", "")][values.value("quarter", "")] = std::move(cell);
  }
  // What is still owed: due (before its due date) or owed (after), with the date.
  std::vector<beatbook::EnteredReturn> entered;
  for (const auto& r : returns) {
    json values = r.FieldValues();
    if (values.value("fy", 0) != fy || !values.value("indicator", json()).is_string()) continue;
    std::int64_t at = 0;
    if (!beatbook::ParseIsoDateTime(r.OccurredAt(), &at).ok()) continue;
    entered.push_back({values["indicator"].get<std::string>(), r.org,
                       beatbook::QuarterNumber(values.value("quarter", "")), at});
  }
  json owed = json::object();
  json owed_doc =
      beatbook::OwedJson(fy,
                         beatbook::OwedItems(rules, fy, std::nullopt, entered, clock_->NowMs(),
                                             me.role == beatbook::Role::kCoordinator ? "" : me.org),
                         clock_->NowMs());
  for (const auto& item : owed_doc["items"]) {
    if (item["state"] == "entered") continue;
    owed[item["indicator"].get<std::string>()][item["quarter"].get<std::string>()] = {
        {"state", item["state"]}, {"due", item["due"]}};
  }
  return Response(200, {{"fy", fy},
                        {"org", me.org},
                        {"owed", std::move(owed)},
                        {"quarters", std::move(quarters)},
                        {"indicators", std::move(indicators)},
                        {"statuses", std::move(statuses)},
                        {"cells", std::move(cells)}});
}

}  // namespace field_client
