// Where things happen (the dashboard's Places tab, GET /v1/hotspots): for one form and year, how
// many live records each place has per quarter, and where exactly those with a recorded point
// (a geopoint answer) were. Places are the answers to the form's place question ("places":
// true): one from the partnership's named places (beatbook/gazetteer.h) counts under its label
// however it was typed (case, spaces); any other text counts as itself.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "beatbook/form.h"
#include "beatbook/status.h"
#include "sync_server/store/central_store.h"

namespace beatbook::server {

struct PlaceCount {
  std::string place;                       // the named place's label, or the text typed
  std::string code;                        // the named place's code; "" for a place not on the list
  std::string kind;                        // its kind (street, venue, area, hotspot); ""
  std::array<std::int64_t, 4> quarters{};  // Q1..Q4 of the financial year; -1: "fewer than"
  std::int64_t year = 0;                   // -1: "fewer than" (CoarsenForReaders)
};

struct PlacePoint {
  double latitude = 0;
  double longitude = 0;
  std::optional<double> accuracy_m;
  int quarter = 0;  // 1..4
};

struct Hotspots {
  std::string form;
  int fy = 0;
  std::string place_field;         // the form's place question ("" if it has none)
  std::string point_field;         // its geopoint question ("" if none)
  std::vector<PlaceCount> places;  // most records first
  std::vector<PlacePoint> points;
  std::int64_t records = 0;        // live records of the form in the year
  std::int64_t without_place = 0;  // of them, with the place question unanswered
};

// What the board may see of `h` (the coordinator sees it whole): no points; the places not on the
// partnership's list, whose text a worker typed ("tent behind the shop"), together as one row;
// and each count below tunables::kMinPlaceCountShown, other than none, as -1 ("fewer than").
void CoarsenForReaders(Hotspots* h);

// The forms whose records can be counted by place: those with a place question or a geopoint.
std::vector<std::string> FormsWithPlaces(const FormSet& forms);

// Counts `form`'s records of financial year `fy`. InvalidArgument for a form without a place
// question or a geopoint (naming those that have one).
Status CountHotspots(CentralStore* store, const FormSet& forms, const std::string& form, int fy,
                     Hotspots* out);

}  // namespace beatbook::server
