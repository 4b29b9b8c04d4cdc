// GET /v1/hotspots?fy=YEAR&form=FORM (docs/protocol.md, 3a): the dashboard's Places tab. How many
// records each place has per quarter, and where exactly those with a recorded point were, for
// the coordinator; for the board, the named places only, the rest as one row, small counts
// withheld and no points, since a typed place or a point can show where a person was
// (CoarsenForReaders). Each view is audited.
#include "sync_server/report/hotspots.h"
#include "beatbook/form.h"
#include "beatbook/tunables.h"
#include "sync_server/api/api.h"
#include "sync_server/api/query.h"

namespace beatbook::server {

using nlohmann::json;

ApiResponse Api::Hotspots(const DeviceInfo& device, const std::string& query) {
  int fy = 0;
  std::optional<int> quarter;
  std::string error;
  if (!ReadPeriod(QueryParam(query, "fy"), std::nullopt, &fy, &quarter, &error)) {
    return Error(400, error);
  }
  const std::vector<std::string> offered = FormsWithPlaces(*forms_);
  std::string form = QueryParam(query, "form").value_or("");
  if (form.empty() && !offered.empty()) form = offered.front();
  server::Hotspots counted;
  Status s = CountHotspots(store_, *forms_, form, fy, &counted);
  if (!s.ok()) return Error(HttpStatusFor(s), s.message());
  const bool coordinator = device.role == Role::kCoordinator;
  const std::size_t points_recorded = counted.points.size();
  if (!coordinator) CoarsenForReaders(&counted);
  auto count = [](std::int64_t n) { return n < 0 ? json() : json(n); };

  json forms = json::array();
  for (const auto& name : offered) {
    forms.push_back({{"form", name}, {"label", forms_->Latest(name)->label}});
  }
  json places = json::array();
  for (const auto& p : counted.places) {
    json row = {{"place", p.place},
                {"quarters",
                 {{"Q1", count(p.quarters[0])},
                  {"Q2", count(p.quarters[1])},
                  {"Q3", count(p.quarters[2])},
                  {"Q4", count(p.quarters[3])}}},
                {"year", count(p.year)}};
    if (!p.code.empty()) {
      row["code"] = p.code;
      row["kind"] = p.kind;
    }
    places.push_back(std::move(row));
  }
  const bool show_points = coordinator;
  json reply = {{"fy", fy},
                {"form", form},
                {"forms", forms},
                {"records", counted.records},
                {"without_place", counted.without_place},
                {"places", places},
                {"points_recorded", points_recorded}};
  if (!coordinator) reply["fewer_than"] = tunables::kMinPlaceCountShown;
  if (show_points) {
    json points = json::array();
    for (const auto& p : counted.points) {
      json point = {
          {"lat", p.latitude}, {"lon", p.longitude}, {"quarter", "Q" + std::to_string(p.quarter)}};
      if (p.accuracy_m) point["accuracy_m"] = *p.accuracy_m;
      points.push_back(std::move(point));
    }
    reply["points"] = std::move(points);
  }
  if (Status a =
          Audit(device, "hotspots", {{"form", form}, {"fy", fy}, {"points_shown", show_points}});
      !a.ok()) {
    return AuditFailed(a);
  }
  return {200, std::move(reply)};
}

}  // namespace beatbook::server
