// A place on the Earth as a geopoint field holds it: "LATITUDE LONGITUDE [ACCURACY]", decimal
// degrees (WGS 84, as a phone's location gives them) and the accuracy in metres when the device
// measured it. Text like ODK's geopoint, so exports, the wire and the stores carry it as any
// other answer:
//
//   Geopoint p;
//   Status s = ParseGeopoint("51.06321 -1.31334 12", &p);  // p.accuracy_m == 12
//   FormatGeopoint(p);  // "51.06321 -1.31334 12"
#pragma once

#include <optional>
#include <string>

#include "beatbook/status.h"

namespace beatbook {

struct Geopoint {
  double latitude = 0;               // -90 to 90
  double longitude = 0;              // -180 to 180
  std::optional<double> accuracy_m;  // none for a place typed in by hand
};

// InvalidArgument saying what is wrong: not two or three numbers, a latitude or longitude out of
// range, a negative or absurd accuracy.
Status ParseGeopoint(const std::string& text, Geopoint* out);

// Up to 6 decimals (about 10 cm): what a phone measures, without noise digits.
std::string FormatGeopoint(const Geopoint& point);

}  // namespace beatbook
