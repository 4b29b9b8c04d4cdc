// Checks on a partner return's figure and period that need more than its form: whether the
// quarter it names can be reported yet, and whether its figure is far outside the owner's own
// history (then it is stored only when confirmed). Run by the device before it stores a return
// and by the server on every change it merges (docs/indicators.md, "What looks wrong").
//
//   std::string why = WhyReturnPeriodRefused(forms, form, version, fields, now_ms);
//   std::string check = WhyReturnNeedsConfirming(forms, form, version, org, fields, figure_of);
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "beatbook/form.h"

namespace beatbook {

// "" unless the record is a partner return naming a financial year before the catalogue's first
// (forms.returns().first_fy()) or a quarter that has not started by `now_ms`; then why.
std::string WhyReturnPeriodRefused(const FormSet& forms, const std::string& form, int version,
                                   const json& fields, std::int64_t now_ms);

// The stored figure of the record with id `id`, if there is one that is not deleted.
using FigureOf = std::function<bool(const std::string& id, double* value)>;

// "" if the record is not a return figure, its figure is usual for its owner (WhyUnusual over the
// four quarters before, read through `figure_of`), or it is confirmed (unusual_confirmed true);
// otherwise why it needs confirming, in plain words.
std::string WhyReturnNeedsConfirming(const FormSet& forms, const std::string& form, int version,
                                     const std::string& org, const json& fields,
                                     const FigureOf& figure_of);

// Whether a figure of `fields` is far outside the history read through `figure_of`, confirmed
// or not: "" if usual (used to list confirmed unusual figures for the coordinator).
std::string WhyReturnUnusual(const FormSet& forms, const std::string& form, int version,
                             const std::string& org, const json& fields, const FigureOf& figure_of);

}  // namespace beatbook
