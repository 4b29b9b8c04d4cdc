// ISO 8601 date-times as Beatbook stores them: "2023-06-01T22:15:00+01:00" or "...Z", seconds and
// fractions optional. Values keep the text the user gave; comparisons use the instant.
#pragma once

#include <cstdint>
#include <string>

#include "beatbook/status.h"

namespace beatbook {

// Parses `text` into milliseconds since the epoch (UTC). A UTC offset ("Z" or "+HH:MM") is
// required, since a bare local time is ambiguous across BST. Returns InvalidArgument naming the
// text and what is wrong with it.
Status ParseIsoDateTime(const std::string& text, std::int64_t* epoch_ms);

// Formats an instant as "YYYY-MM-DDTHH:MM:SSZ" (UTC, whole seconds).
std::string FormatIsoUtc(std::int64_t epoch_ms);

// The calendar date of an instant in Europe/London (GMT in winter, BST from 01:00 UTC on the last
// Sunday of March to 01:00 UTC on the last Sunday of October), as year, month (1-12) and day.
void LondonDate(std::int64_t epoch_ms, int* year, int* month, int* day);

// Europe/London's offset from UTC at that instant: 0 (GMT) or 3,600,000 ms (BST).
std::int64_t LondonOffsetMs(std::int64_t epoch_ms);

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
std::int64_t DaysFromCivil(int year, int month, int day);

}  // namespace beatbook
