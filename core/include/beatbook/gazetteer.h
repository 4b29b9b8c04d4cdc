// The partnership's named places (schema/places.json): the hotspots, streets and venues its plan
// and its patrols name, as codes with labels, so that a place question can be answered by
// picking rather than typing, and places counted together however they were typed.
//
//   {"places": [{"code": "jewry_street", "label": "Jewry Street", "kind": "street"}, ...]}
//
// A text field with "places": true offers them (docs/forms.md, "Places"); what is stored is the
// label picked or the text typed, so free text stays allowed. Labels may be given in other
// languages ("label::cy"), as choices are.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "beatbook/status.h"

namespace beatbook {

struct Language;  // beatbook/form.h
using Translations = std::map<std::string, std::string>;

struct Place {
  std::string code;
  std::string label;
  std::string kind;  // "street", "venue", "area" or "hotspot"
  Translations labels;
};

class Gazetteer {
 public:
  // Reads {"places": [...]}, checked: codes unique and made of a-z, 0-9 and _, a label for each,
  // a known kind, translations only in `languages`. InvalidArgument names the place at fault.
  static Status FromJson(const nlohmann::json& doc, const std::vector<Language>& languages,
                         Gazetteer* out);
  const nlohmann::json& ToJson() const { return doc_; }
  const std::vector<Place>& places() const { return places_; }
  bool empty() const { return places_.empty(); }
  // The place whose label, in any language, is `text` (without case, spaces at either end
  // ignored); nullptr for a place typed that is not in the list.
  const Place* Match(const std::string& text) const;

 private:
  nlohmann::json doc_;
  std::vector<Place> places_;
};

}  // namespace beatbook
