// Before the board meets: which partner returns are still owed, and which figures look wrong,
// read from the central store (docs/indicators.md, "What is still owed" and "What looks wrong").
// Used by `sync_server owed`, GET /v1/owed (the dashboard's "Still owed" view and a partner lead's
// `field_client owed`), the return's warnings and the warnings shown before an approval.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "beatbook/form.h"
#include "beatbook/return_rules.h"
#include "sync_server/store/central_store.h"

namespace beatbook::server {

// The returns of `fy` the store holds, for OwedItems.
Status EnteredReturns(CentralStore* store, const ReturnRules& rules, int fy,
                      std::vector<EnteredReturn>* out);

// The `owed --json` document (beatbook/return_rules.h, OwedJson) for `fy`, one quarter if given,
// one owner org if `org` is not empty.
Status AssembleOwed(CentralStore* store, const ReturnRules& rules, int fy,
                    std::optional<int> quarter, std::int64_t now_ms, const std::string& org,
                    nlohmann::json* out);

// Return figures of `fy` (one quarter if given) far outside their owner's own history
// (WhyUnusual), confirmed or not: [{"indicator", "label", "org", "quarter", "value", "reason"}].
Status UnusualFigures(CentralStore* store, const ReturnRules& rules, int fy,
                      std::optional<int> quarter, nlohmann::json* out);

// Partners' names by code (the "org" list of the forms): screens and messages name partners.
using OrgLabels = std::map<std::string, std::string>;
OrgLabels OrgLabelsOf(const FormSet& forms);

// Plain sentences for the return's warnings: what is owed for the quarter (or the year's ended
// quarters), and the unusual figures, naming partners by `org_labels` (by code where a label is
// missing) and indicators by their labels.
std::vector<std::string> ReturnWarnings(const nlohmann::json& owed, const nlohmann::json& unusual,
                                        const OrgLabels& org_labels = {});

}  // namespace beatbook::server
