// Realistic records for benchmarks: the data dictionary's forms with typical field sizes, dated
// in the plan's first year (April 2023 to March 2024), from a seeded generator so runs are
// comparable. `may_log` says which forms the logging device's org may use (forms' writers,
// docs/forms.md): a record of another form is given the next form it may.
#pragma once

#include <functional>
#include <random>
#include <string>
#include <vector>

#include "beatbook/local_store.h"

namespace beatbook::bench {

inline std::vector<RecordInput> GenerateRecords(
    std::size_t n, std::uint64_t seed,
    const std::function<bool(const std::string& form)>& may_log = nullptr) {
  static const char* const kForms[] = {"outreach_contact", "street_brief", "patrol",
                                       "satisfaction_survey", "enforcement_action"};
  std::mt19937_64 rng(seed);
  auto pick = [&](std::initializer_list<const char*> options) {
    auto it = options.begin();
    std::advance(it, static_cast<long>(rng() % options.size()));
    return std::string(*it);
  };
  const char* places[] = {"Jewry Street", "The Broadway",       "Station Hill",    "High Street",
                          "Market Lane",  "St George's Street", "Parchment Street"};
  std::vector<RecordInput> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    RecordInput r;
    int month = 1 + static_cast<int>(rng() % 12), day = 1 + static_cast<int>(rng() % 28);
    int year = month >= 4 ? 2023 : 2024;  // the financial year 2023/24
    char when[40];
    std::snprintf(when, sizeof when, "%d-%02d-%02dT%02d:%02d:00Z", year, month, day,
                  static_cast<int>(rng() % 24), static_cast<int>(rng() % 60));
    r.occurred_at = when;
    std::string place = places[rng() % 7];
    std::size_t kind = rng() % 5;
    for (std::size_t tried = 0; may_log && tried < 5 && !may_log(kForms[kind]); ++tried) {
      kind = (kind + 1) % 5;
    }
    switch (kind) {
      case 0:
        r.form = "outreach_contact";
        r.fields = {{"place", place},
                    {"age_band", pick({"under_18", "18_24", "25_34", "35_49", "50_64"})},
                    {"issues", {pick({"street_drinking", "rough_sleeping", "vulnerable_nte"})}},
                    {"support_given", {"conversation", "water"}},
                    {"referrals", {pick({"stop", "trinity", "gp"})}},
                    {"safeguarding_concern", rng() % 4 == 0},
                    {"notes", "Spoke for ten minutes, accepted water and a leaflet."}};
        break;
      case 1:
        r.form = "street_brief";
        r.fields = {{"place", place},
                    {"attendees", static_cast<int>(rng() % 30)},
                    {"topics", {"asb", pick({"nte", "drugs", "begging"})}}};
        break;
      case 2:
        r.form = "patrol";
        r.fields = {{"place", place},
                    {"patrol_type", pick({"high_visibility", "nte", "hotspot"})},
                    {"engagements", static_cast<int>(rng() % 20)}};
        break;
      case 3:
        r.form = "satisfaction_survey";
        r.fields = {{"respondent_type", pick({"resident", "business", "visitor"})},
                    {"satisfaction", 1 + static_cast<int>(rng() % 5)},
                    {"feel_safe_day", 1 + static_cast<int>(rng() % 5)},
                    {"voice_listened", pick({"yes", "no", "unsure"})}};
        break;
      default:
        r.form = "enforcement_action";
        r.fields = {{"action", pick({"cpw", "cpn", "dvpn", "closure_order", "abc"})},
                    {"place", place}};
    }
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace beatbook::bench
