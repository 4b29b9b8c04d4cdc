// Validation of a record's fields against its form.
//
// ValidateFields() reports every error at once; each names the field, the value and the rule it
// breaks. ParseFieldText() turns the text a user typed (`--set attendees=12`) into the typed JSON
// value the form expects, with the same kind of error.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "beatbook/form.h"
#include "beatbook/status.h"

namespace beatbook {

struct ValidationError {
  std::string field;  // the field name, or "occurred_at", or "fields" for the object itself
  std::string value;  // the offending value as JSON text ("" when missing)
  std::string rule;   // "required", "type", "min", "max", "max_length", "choices", "unknown_field",
                      // "not_relevant", "not_before", "format"
  std::string message;  // one sentence: "field 'attendees': value -3 is below the minimum 0"
};

// Checks `fields` (a JSON object, field name -> value; null means empty) against `form`.
// `occurred_ms` is the record's occurred_at instant, for `not_before: occurred_at` rules.
std::vector<ValidationError> ValidateFields(const FormDef& form, const json& fields,
                                            std::int64_t occurred_ms);

// Whether a field value counts as empty: null, "" or an empty list. Empty fields are "not set"
// for `required`, relevance and indicator definitions alike.
bool IsEmptyValue(const json& value);

// Whether an occurred_at instant is inside the accepted window: not before 2000-01-01
// (tunables::kEarliestOccurredAtMs) and not more than tunables::kMaxClockAheadMs after `now_ms`.
// InvalidArgument saying which, with the date, otherwise.
Status CheckOccurredAt(std::int64_t occurred_ms, std::int64_t now_ms);
// The same, also refusing dates before 1 April of `first_fy`, the first year the plan reports.
Status CheckOccurredAt(std::int64_t occurred_ms, std::int64_t now_ms, int first_fy);

// The first character of `text` that no stored text may hold, as "U+XXXX", or "" if none: control
// characters (NUL and the rest of C0, DEL, C1) other than tab and, where `line_breaks`, CR and
// LF; and the Unicode bidirectional overrides and isolates (U+202A-U+202E, U+2066-U+2069), which
// make text read differently from what it says. `text` must be valid UTF-8.
std::string ForbiddenCharacterIn(const std::string& text, bool line_breaks);

// `text` cut to at most `max_bytes`, on a character boundary (never inside a UTF-8 sequence).
std::string TruncateUtf8(const std::string& text, std::size_t max_bytes);

// All messages joined with "; ".
std::string JoinErrors(const std::vector<ValidationError>& errors);

// Parses command-line text for `field`: integers, numbers, booleans (true/false/yes/no/1/0),
// date-times (ISO 8601 with offset), a code, or comma-separated codes for select_multiple.
// An empty text means "empty" (JSON null).
Status ParseFieldText(const FieldDef& field, const std::string& text, json* out);

}  // namespace beatbook
