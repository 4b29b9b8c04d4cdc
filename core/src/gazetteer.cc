#include "beatbook/gazetteer.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "beatbook/form.h"
#include "form_languages.h"

namespace beatbook {

namespace {

const std::set<std::string> kKinds = {"street", "venue", "area", "hotspot"};

// A label as compared: spaces at either end dropped, letters in lower case, and a phone's curly
// apostrophes (’ ‘) as the straight one, so "St George’s Street" is "St George's Street".
std::string Folded(const std::string& text) {
  std::size_t b = text.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  std::string t = text.substr(b, text.find_last_not_of(" \t") - b + 1);
  for (const char* curly : {"\xE2\x80\x99", "\xE2\x80\x98"}) {
    for (std::size_t at = t.find(curly); at != std::string::npos; at = t.find(curly, at)) {
      t.replace(at, 3, "'");
    }
  }
  std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return std::tolower(c); });
  return t;
}

bool IsCode(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

}  // namespace

Status Gazetteer::FromJson(const nlohmann::json& doc, const std::vector<Language>& languages,
                           Gazetteer* out) {
  if (!doc.is_object() || !doc.contains("places") || !doc["places"].is_array()) {
    return Status::InvalidArgument("needs {\"places\": [{\"code\", \"label\", \"kind\"}, ...]}");
  }
  Gazetteer g;
  std::set<std::string> codes;
  std::map<std::string, std::string> labels;  // folded label -> the place that has it
  for (const auto& item : doc["places"]) {
    if (!item.is_object()) return Status::InvalidArgument("each place must be an object");
    Place p;
    p.code =
        item.value("code", nlohmann::json()).is_string() ? item["code"].get<std::string>() : "";
    std::string at = "place '" + p.code + "'";
    if (!IsCode(p.code)) {
      return Status::InvalidArgument(at + ": a code is made of a-z, 0-9 and _ (e.g. jewry_street)");
    }
    if (!codes.insert(p.code).second) return Status::InvalidArgument(at + " is listed twice");
    p.label =
        item.value("label", nlohmann::json()).is_string() ? item["label"].get<std::string>() : "";
    if (p.label.empty()) return Status::InvalidArgument(at + " needs a label");
    p.kind =
        item.value("kind", nlohmann::json()).is_string() ? item["kind"].get<std::string>() : "";
    if (!kKinds.count(p.kind)) {
      return Status::InvalidArgument(at + ": kind '" + p.kind +
                                     "' is not one of street, venue, area, hotspot");
    }
    std::string why = form_languages::ReadTranslations(item, languages, &p.labels, nullptr);
    if (!why.empty()) return Status::InvalidArgument(at + ": " + why);
    // One label, one place: otherwise a place typed could be either.
    std::vector<std::string> all = {p.label};
    for (const auto& [code, label] : p.labels) all.push_back(label);
    for (const auto& label : all) {
      auto [it, fresh] = labels.emplace(Folded(label), p.code);
      if (!fresh && it->second != p.code) {
        return Status::InvalidArgument(at + ": its label '" + label + "' is place '" + it->second +
                                       "''s too");
      }
    }
    g.places_.push_back(std::move(p));
  }
  g.doc_ = doc;
  *out = std::move(g);
  return Status::OK();
}

const Place* Gazetteer::Match(const std::string& text) const {
  const std::string wanted = Folded(text);
  if (wanted.empty()) return nullptr;
  for (const auto& p : places_) {
    if (Folded(p.label) == wanted) return &p;
    for (const auto& [code, label] : p.labels) {
      if (Folded(label) == wanted) return &p;
    }
  }
  return nullptr;
}

}  // namespace beatbook
