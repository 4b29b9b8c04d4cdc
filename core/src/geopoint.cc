#include "beatbook/geopoint.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <vector>

#include "beatbook/tunables.h"

namespace beatbook {

namespace {

// A plain decimal: digits, one point, a sign (not hex, exponents, "nan" or "inf", which strtod
// would read).
bool ReadNumber(const std::string& word, double* out) {
  if (word.find_first_not_of("0123456789.-+") != std::string::npos) return false;
  char* end = nullptr;
  errno = 0;
  *out = std::strtod(word.c_str(), &end);
  return !word.empty() && *end == '\0' && errno == 0 && std::isfinite(*out);
}

std::string Trimmed(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.6f", value);
  std::string text = buffer;
  while (text.back() == '0') text.pop_back();
  if (text.back() == '.') text.pop_back();
  return text == "-0" ? "0" : text;
}

}  // namespace

Status ParseGeopoint(const std::string& text, Geopoint* out) {
  std::istringstream in(text);
  std::vector<std::string> words;
  for (std::string word; in >> word;) words.push_back(word);
  if (words.size() < 2 || words.size() > 3) {
    return Status::InvalidArgument(
        "is not a place: give latitude and longitude in decimal degrees, and the accuracy in "
        "metres if known, e.g. '51.06321 -1.31334 12'");
  }
  Geopoint p;
  double accuracy = 0;
  if (!ReadNumber(words[0], &p.latitude) || !ReadNumber(words[1], &p.longitude) ||
      (words.size() == 3 && !ReadNumber(words[2], &accuracy))) {
    return Status::InvalidArgument(
        "is not a place: latitude, longitude and accuracy must be "
        "numbers, e.g. '51.06321 -1.31334 12'");
  }
  if (p.latitude < -90 || p.latitude > 90) {
    return Status::InvalidArgument("has a latitude outside -90 to 90");
  }
  if (p.longitude < -180 || p.longitude > 180) {
    return Status::InvalidArgument("has a longitude outside -180 to 180");
  }
  if (words.size() == 3) {
    if (accuracy < 0 || accuracy > tunables::kMaxGeopointAccuracyM) {
      return Status::InvalidArgument("has an accuracy outside 0 to " +
                                     Trimmed(tunables::kMaxGeopointAccuracyM) + " metres");
    }
    p.accuracy_m = accuracy;
  }
  *out = p;
  return Status::OK();
}

std::string FormatGeopoint(const Geopoint& point) {
  std::string text = Trimmed(point.latitude) + " " + Trimmed(point.longitude);
  if (point.accuracy_m) text += " " + Trimmed(std::round(*point.accuracy_m * 10) / 10);
  return text;
}

}  // namespace beatbook
