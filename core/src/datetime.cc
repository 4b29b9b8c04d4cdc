#include "beatbook/datetime.h"

#include <cctype>
#include <cstdio>

namespace beatbook {

namespace {

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int y, int m) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

// Reads exactly `n` digits at text[*pos].
bool Digits(const std::string& text, size_t* pos, int n, int* value) {
  int v = 0;
  for (int i = 0; i < n; ++i) {
    if (*pos >= text.size() || !std::isdigit(static_cast<unsigned char>(text[*pos]))) return false;
    v = v * 10 + (text[(*pos)++] - '0');
  }
  *value = v;
  return true;
}

bool Expect(const std::string& text, size_t* pos, char c) {
  if (*pos < text.size() && text[*pos] == c) {
    ++*pos;
    return true;
  }
  return false;
}

void CivilFromDays(std::int64_t z, int* y, int* m, int* d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t yy = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  *m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  *y = static_cast<int>(yy + (*m <= 2));
}

// Epoch ms of 01:00 UTC on the last Sunday of `month` in `year` (when UK clocks change).
std::int64_t LastSundayOneAmUtc(int year, int month) {
  std::int64_t last_day = DaysFromCivil(year, month, DaysInMonth(year, month));
  int weekday = static_cast<int>(((last_day % 7) + 7 + 4) % 7);  // 0 = Sunday; 1970-01-01 = Thu
  return ((last_day - weekday) * 86400 + 3600) * 1000;
}

}  // namespace

std::int64_t DaysFromCivil(int y, int m, int d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

Status ParseIsoDateTime(const std::string& text, std::int64_t* epoch_ms) {
  auto bad = [&](const char* why) {
    return Status::InvalidArgument("'" + text +
                                   "' is not an ISO 8601 date-time with a UTC offset (" + why +
                                   "; e.g. 2023-06-01T22:15:00+01:00)");
  };
  size_t pos = 0;
  int year, month, day, hour, minute, second = 0, millis = 0;
  if (!Digits(text, &pos, 4, &year) || !Expect(text, &pos, '-') || !Digits(text, &pos, 2, &month) ||
      !Expect(text, &pos, '-') || !Digits(text, &pos, 2, &day)) {
    return bad("expected YYYY-MM-DD");
  }
  if (!Expect(text, &pos, 'T') && !Expect(text, &pos, ' ')) return bad("expected 'T' and a time");
  if (!Digits(text, &pos, 2, &hour) || !Expect(text, &pos, ':') ||
      !Digits(text, &pos, 2, &minute)) {
    return bad("expected HH:MM");
  }
  if (Expect(text, &pos, ':')) {
    if (!Digits(text, &pos, 2, &second)) return bad("expected seconds as SS");
    if (Expect(text, &pos, '.') || Expect(text, &pos, ',')) {
      int scale = 100, ndigits = 0;
      while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
        millis += (text[pos++] - '0') * scale;
        scale /= 10;
        ++ndigits;
      }
      if (ndigits == 0) return bad("expected digits after the decimal point");
    }
  }
  if (month < 1 || month > 12) return bad("month out of range");
  if (day < 1 || day > DaysInMonth(year, month)) return bad("day out of range for the month");
  if (hour > 23 || minute > 59 || second > 59) return bad("time out of range");
  int offset_min = 0;
  if (Expect(text, &pos, 'Z') || Expect(text, &pos, 'z')) {
    offset_min = 0;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int sign = text[pos++] == '-' ? -1 : 1;
    int oh, om;
    if (!Digits(text, &pos, 2, &oh)) return bad("expected the offset as +HH:MM");
    Expect(text, &pos, ':');
    if (!Digits(text, &pos, 2, &om)) return bad("expected the offset as +HH:MM");
    if (oh > 18 || om > 59) return bad("offset out of range");
    offset_min = sign * (oh * 60 + om);
  } else {
    return bad("missing UTC offset such as Z or +01:00");
  }
  if (pos != text.size()) return bad("unexpected characters at the end");
  std::int64_t days = DaysFromCivil(year, month, day);
  std::int64_t secs = days * 86400 + hour * 3600 + minute * 60 + second - offset_min * 60;
  *epoch_ms = secs * 1000 + millis;
  return Status::OK();
}

std::string FormatIsoUtc(std::int64_t epoch_ms) {
  std::int64_t secs = epoch_ms >= 0 ? epoch_ms / 1000 : (epoch_ms - 999) / 1000;
  std::int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
  int rem = static_cast<int>(secs - days * 86400);
  int y, m, d;
  CivilFromDays(days, &y, &m, &d);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", y, m, d, rem / 3600,
                (rem / 60) % 60, rem % 60);
  return buf;
}

std::int64_t LondonOffsetMs(std::int64_t epoch_ms) {
  std::int64_t days = epoch_ms >= 0 ? epoch_ms / 86400000 : (epoch_ms - 86399999) / 86400000;
  int y, m, d;
  CivilFromDays(days, &y, &m, &d);
  bool bst = epoch_ms >= LastSundayOneAmUtc(y, 3) && epoch_ms < LastSundayOneAmUtc(y, 10);
  return bst ? 3600000 : 0;
}

void LondonDate(std::int64_t epoch_ms, int* year, int* month, int* day) {
  std::int64_t local_ms = epoch_ms + LondonOffsetMs(epoch_ms);
  std::int64_t days;
  days = local_ms >= 0 ? local_ms / 86400000 : (local_ms - 86399999) / 86400000;
  CivilFromDays(days, year, month, day);
}

}  // namespace beatbook
