#include "sync_server/report/hotspots.h"

#include <algorithm>
#include <cctype>
#include <map>

#include "beatbook/datetime.h"
#include "beatbook/geopoint.h"
#include "beatbook/indicators.h"
#include "beatbook/tunables.h"

namespace beatbook::server {

namespace {

// The form's place question and geopoint question, as its latest version names them (records of
// earlier versions are read by the same names).
void PlaceFields(const FormDef& form, std::string* place, std::string* point) {
  for (const auto& f : form.fields) {
    if (f.places && place->empty()) *place = f.name;
    if (f.type == FieldType::kGeopoint && point->empty()) *point = f.name;
  }
}

std::string Trimmed(const std::string& text) {
  std::size_t b = text.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  return text.substr(b, text.find_last_not_of(" \t\r\n") - b + 1);
}

}  // namespace

void CoarsenForReaders(Hotspots* h) {
  h->points.clear();
  PlaceCount others;
  others.place = "Places not on the list";
  std::vector<PlaceCount> kept;
  for (auto& p : h->places) {
    if (!p.code.empty()) {
      kept.push_back(std::move(p));
      continue;
    }
    for (int q = 0; q < 4; ++q) others.quarters[q] += p.quarters[q];
    others.year += p.year;
  }
  if (others.year > 0) kept.push_back(std::move(others));
  auto hide = [](std::int64_t n) { return n > 0 && n < tunables::kMinPlaceCountShown ? -1 : n; };
  for (auto& p : kept) {
    for (auto& n : p.quarters) n = hide(n);
    p.year = hide(p.year);
  }
  h->places = std::move(kept);
}

std::vector<std::string> FormsWithPlaces(const FormSet& forms) {
  std::vector<std::string> names;
  for (const auto& name : forms.FormNames()) {
    std::string place, point;
    PlaceFields(*forms.Latest(name), &place, &point);
    if (!place.empty() || !point.empty()) names.push_back(name);
  }
  return names;
}

Status CountHotspots(CentralStore* store, const FormSet& forms, const std::string& form, int fy,
                     Hotspots* out) {
  const FormDef* latest = forms.Latest(form);
  Hotspots h;
  h.form = form;
  h.fy = fy;
  if (latest) PlaceFields(*latest, &h.place_field, &h.point_field);
  if (h.place_field.empty() && h.point_field.empty()) {
    std::string known;
    for (const auto& n : FormsWithPlaces(forms)) known += (known.empty() ? "" : ", ") + n;
    return Status::InvalidArgument("form '" + form + "' records no place (forms that do: " + known +
                                   ")");
  }
  std::vector<RecordState> all;
  BB_RETURN_IF_ERROR(store->AllRecords(&all));
  std::map<std::string, PlaceCount> by_place;  // keyed by code, or by the text typed
  // Text not on the list is shown as it was typed on the earliest record (records come in id
  // order, which is not the order they were typed in).
  std::map<std::string, std::int64_t> typed_ms;
  for (const auto& r : all) {
    if (r.form != form || r.IsDeleted()) continue;
    std::int64_t ms = 0;
    if (!ParseIsoDateTime(r.OccurredAt(), &ms).ok()) continue;
    Period period = PeriodOf(ms);
    if (period.fy != fy) continue;
    ++h.records;
    json values = r.FieldValues();
    if (!h.place_field.empty()) {
      std::string text = values.value(h.place_field, json()).is_string()
                             ? Trimmed(values[h.place_field].get<std::string>())
                             : "";
      if (text.empty()) {
        ++h.without_place;
      } else {
        const Place* named = forms.places().Match(text);
        // Text not on the list counts together however it was capitalised.
        std::string folded = text;
        std::transform(folded.begin(), folded.end(), folded.begin(),
                       [](unsigned char c) { return std::tolower(c); });
        std::string key = named ? "code:" + named->code : "text:" + folded;
        PlaceCount& c = by_place[key];
        if (c.place.empty()) {
          c.place = named ? named->label : text;
          c.code = named ? named->code : "";
          c.kind = named ? named->kind : "";
          typed_ms[key] = ms;
        } else if (!named && ms < typed_ms[key]) {
          c.place = text;
          typed_ms[key] = ms;
        }
        ++c.quarters[period.quarter - 1];
        ++c.year;
      }
    }
    if (!h.point_field.empty() && values.value(h.point_field, json()).is_string()) {
      Geopoint p;
      if (ParseGeopoint(values[h.point_field].get<std::string>(), &p).ok()) {
        h.points.push_back({p.latitude, p.longitude, p.accuracy_m, period.quarter});
      }
    }
  }
  for (auto& [key, c] : by_place) h.places.push_back(std::move(c));
  std::stable_sort(h.places.begin(), h.places.end(), [](const PlaceCount& a, const PlaceCount& b) {
    return a.year != b.year ? a.year > b.year : a.place < b.place;
  });
  *out = std::move(h);
  return Status::OK();
}

}  // namespace beatbook::server
