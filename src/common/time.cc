#include "common/time.h"

#include <cstdio>

namespace cbec {

// Howard Hinnant's days_from_civil / civil_from_days.
int64_t days_from_civil(CivilDate d) {
  int64_t y = d.year - (d.month <= 2);
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t mp = (d.month + 9) % 12;
  int64_t doy = (153 * mp + 2) / 5 + d.day - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

CivilDate civil_from_days(int64_t z) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = yoe + era * 400;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  int m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  return CivilDate{static_cast<int>(y + (m <= 2)), m, d};
}

bool is_valid_date(int y, int m, int d) {
  if (y < 1900 || y > 9999 || m < 1 || m > 12 || d < 1) return false;
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  int max = kDays[m - 1] + (m == 2 && leap ? 1 : 0);
  return d <= max;
}

namespace {
bool digits(std::string_view s, size_t pos, size_t n, int* out) {
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    char c = s[i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}
}  // namespace

std::optional<CivilDate> parse_date8(std::string_view s) {
  int y, m, d;
  if (s.size() != 8 || !digits(s, 0, 4, &y) || !digits(s, 4, 2, &m) || !digits(s, 6, 2, &d))
    return std::nullopt;
  if (!is_valid_date(y, m, d)) return std::nullopt;
  return CivilDate{y, m, d};
}

std::optional<TimeMs> parse_datetime14(std::string_view s) {
  if (s.size() != 14) return std::nullopt;
  auto date = parse_date8(s.substr(0, 8));
  int hh, mm, ss;
  if (!date || !digits(s, 8, 2, &hh) || !digits(s, 10, 2, &mm) || !digits(s, 12, 2, &ss))
    return std::nullopt;
  if (hh > 23 || mm > 59 || ss > 59) return std::nullopt;
  return beijing_midnight(*date) + (hh * 3600 + mm * 60 + ss) * kMsPerSecond;
}

std::optional<CivilDate> parse_iso_date(std::string_view s) {
  int y, m, d;
  if (s.size() != 10 || s[4] != '-' || s[7] != '-' || !digits(s, 0, 4, &y) ||
      !digits(s, 5, 2, &m) || !digits(s, 8, 2, &d) || !is_valid_date(y, m, d))
    return std::nullopt;
  return CivilDate{y, m, d};
}

namespace {
int64_t floor_div_i64(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }
}  // namespace

CivilDate beijing_date(TimeMs t) {
  return civil_from_days(floor_div_i64(t + kBeijingOffsetMs, kMsPerDay));
}

TimeMs beijing_midnight(CivilDate d) { return days_from_civil(d) * kMsPerDay - kBeijingOffsetMs; }

// The same as beijing_midnight(beijing_date(t)) (days_from_civil inverts civil_from_days), without
// the round trip through the calendar: the statistics bucket every list by its day.
TimeMs beijing_day_start(TimeMs t) {
  return floor_div_i64(t + kBeijingOffsetMs, kMsPerDay) * kMsPerDay - kBeijingOffsetMs;
}

std::string format_datetime14(TimeMs t) { return format_return_time(t).substr(0, 14); }

namespace {
// Writes v as exactly n decimal digits. REQUIRES 0 <= v < 10^n.
char* put_digits(char* p, int64_t v, int n) {
  for (int i = n - 1; i >= 0; --i) {
    p[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  return p + n;
}
}  // namespace

std::string format_return_time(TimeMs t) {
  TimeMs local = t + kBeijingOffsetMs;
  int64_t days = floor_div_i64(local, kMsPerDay);
  int64_t ms_of_day = local - days * kMsPerDay;
  CivilDate d = civil_from_days(days);
  if (d.year < 0 || d.year > 9999) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%04d%02d%02d%02d%02d%02d%03d", d.year, d.month, d.day,
                  static_cast<int>(ms_of_day / kMsPerHour),
                  static_cast<int>(ms_of_day / 60000 % 60),
                  static_cast<int>(ms_of_day / 1000 % 60), static_cast<int>(ms_of_day % 1000));
    return buf;
  }
  // Every receipt carries one (snprintf was 6 % of the receipt store's thread).
  char buf[17];
  char* p = put_digits(buf, d.year, 4);
  p = put_digits(p, d.month, 2);
  p = put_digits(p, d.day, 2);
  p = put_digits(p, ms_of_day / kMsPerHour, 2);
  p = put_digits(p, ms_of_day / 60000 % 60, 2);
  p = put_digits(p, ms_of_day / 1000 % 60, 2);
  put_digits(p, ms_of_day % 1000, 3);
  return std::string(buf, sizeof buf);
}

std::string format_date8(CivilDate d) {
  // Every pre-assigned list number carries the date, so this avoids snprintf for the dates that
  // occur (years 0..9999); other values keep printf's form.
  if (d.year < 0 || d.year > 9999 || d.month < 1 || d.month > 12 || d.day < 1 || d.day > 31) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04d%02d%02d", d.year, d.month, d.day);
    return buf;
  }
  char buf[8];
  char* p = put_digits(buf, d.year, 4);
  p = put_digits(p, d.month, 2);
  put_digits(p, d.day, 2);
  return std::string(buf, sizeof buf);
}

std::string format_iso_date(CivilDate d) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", d.year, d.month, d.day);
  return buf;
}

std::optional<CivilDate> parse_day(std::string_view s) {
  if (auto d = parse_date8(s)) return d;
  return parse_iso_date(s);
}

}  // namespace cbec
