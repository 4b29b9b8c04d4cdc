// What each record contributes to the indicators, and in which quarter.
//
// A record's contributions are a pure function of its current state and the catalogue: a deleted
// record contributes nothing, an edited one contributes what its current state does. The central
// store keeps each record's contributions and running totals, replacing a record's contributions
// whenever its state changes, so a report reads totals instead of rescanning records.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "beatbook/catalogue.h"
#include "beatbook/record.h"

namespace beatbook {

// A quarter of the UK financial year: fy 2023 is 1 April 2023 to 31 March 2024; quarter 1 is
// April-June, 4 is January-March.
struct Period {
  int fy = 0;
  int quarter = 0;
};

// The period of an instant, by its calendar date in Europe/London.
Period PeriodOf(std::int64_t epoch_ms);
// "Q1".."Q4" <-> 1..4; 0 if not a quarter name.
int QuarterNumber(const std::string& name);
// The first instant of a quarter (00:00 London time on its first day), in epoch ms.
std::int64_t QuarterStartMs(int fy, int quarter);

struct Contribution {
  std::string indicator;
  int fy = 0;
  int quarter = 0;
  double value = 0;    // count: 1; sum: the amount; percent: 1 if in the numerator; return: figure
  double n = 0;        // percent: 1 (the record is in the denominator)
  std::string key;     // distinct: the value counted once
  std::string status;  // milestone: the status code
};

// The contributions of one record state (none if deleted or unreadable).
std::vector<Contribution> ContributionsOf(const Catalogue& catalogue, const RecordState& state);

}  // namespace beatbook
