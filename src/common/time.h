// Time as the clearance core sees it: milliseconds since the Unix epoch, taken from the command
// log, never from the clock. CEB text times (yyyyMMddHHmmss, yyyyMMdd, yyyyMMddHHmmssSSS) are
// Beijing time (UTC+8, no daylight saving), so conversions use a fixed offset.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cbec {

using TimeMs = int64_t;  // ms since 1970-01-01T00:00:00Z
inline constexpr TimeMs kMsPerSecond = 1000;
inline constexpr TimeMs kMsPerHour = 3600 * kMsPerSecond;
inline constexpr TimeMs kMsPerDay = 24 * kMsPerHour;
inline constexpr TimeMs kBeijingOffsetMs = 8 * kMsPerHour;

// A civil date (Beijing).
struct CivilDate {
  int year = 1970;
  int month = 1;
  int day = 1;
  bool operator==(const CivilDate&) const = default;
  auto operator<=>(const CivilDate&) const = default;
};

// Days since 1970-01-01 of a civil date, and back (proleptic Gregorian).
int64_t days_from_civil(CivilDate d);
CivilDate civil_from_days(int64_t days);
bool is_valid_date(int year, int month, int day);

// Parses "yyyyMMdd" / "yyyyMMddHHmmss" (Beijing) into a date or a TimeMs; nullopt if the text
// is not exactly that form or is not a real calendar time.
std::optional<CivilDate> parse_date8(std::string_view s);
std::optional<TimeMs> parse_datetime14(std::string_view s);
// Parses "yyyy-MM-dd" as used in reference data and configuration files.
std::optional<CivilDate> parse_iso_date(std::string_view s);
// Either of the two forms, as users type a day in queries and on the command line.
std::optional<CivilDate> parse_day(std::string_view s);

CivilDate beijing_date(TimeMs t);
inline int beijing_year(TimeMs t) { return beijing_date(t).year; }
// Start of the Beijing day containing t.
TimeMs beijing_day_start(TimeMs t);
TimeMs beijing_midnight(CivilDate d);

std::string format_return_time(TimeMs t);  // yyyyMMddHHmmssSSS (receipt returnTime)
std::string format_datetime14(TimeMs t);   // yyyyMMddHHmmss
std::string format_date8(CivilDate d);     // yyyyMMdd
std::string format_iso_date(CivilDate d);  // yyyy-MM-dd

}  // namespace cbec
