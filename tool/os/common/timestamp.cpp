// The text form of wall-clock times in lock metadata ("2026-11-23T10:37:22.123Z"): the same on
// every OS, so one implementation, on top of each OS's wall_clock_ns().
#include "os/clock.h"

#include <chrono>
#include <cstdio>

namespace buildlock::os {
namespace {

using Days = std::chrono::duration<std::int64_t, std::ratio<86400>>;

} // namespace

std::string utc_timestamp_now() {
  const std::int64_t now_ns = wall_clock_ns();
  const std::int64_t ms = now_ns / 1'000'000;
  const auto day = std::chrono::floor<std::chrono::days>(
      std::chrono::sys_time<std::chrono::milliseconds>(std::chrono::milliseconds(ms)));
  const std::chrono::year_month_day date(day);
  const std::int64_t ms_of_day =
      ms - std::chrono::duration_cast<std::chrono::milliseconds>(day.time_since_epoch()).count();
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02uT%02lld:%02lld:%02lld.%03lldZ",
                static_cast<int>(date.year()), static_cast<unsigned>(date.month()),
                static_cast<unsigned>(date.day()), static_cast<long long>(ms_of_day / 3'600'000),
                static_cast<long long>(ms_of_day / 60'000 % 60),
                static_cast<long long>(ms_of_day / 1000 % 60),
                static_cast<long long>(ms_of_day % 1000));
  return buffer;
}

std::optional<std::int64_t> parse_utc_timestamp_ns(const std::string& text) {
  int year = 0;
  int month = 0;
  int day = 0;
  int hour = 0;
  int minute = 0;
  int second = 0;
  int milliseconds = 0;
  char zone = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3d%c", &year, &month, &day, &hour,
                  &minute, &second, &milliseconds, &zone) != 8 ||
      zone != 'Z') {
    return std::nullopt;
  }
  // The text comes from a lock file anyone may have written: out-of-range fields ("2026-13-45")
  // are not a time rather than normalised into one.
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour < 0 || hour > 23 || minute < 0 ||
      minute > 59 || second < 0 || second > 60 || milliseconds < 0 || milliseconds > 999) {
    return std::nullopt;
  }
  // A day past the end of its month (February 30) counts on into the next, as timegm() does.
  const auto first_of_month =
      std::chrono::sys_days(std::chrono::year(year) / std::chrono::month(unsigned(month)) / 1);
  const std::int64_t seconds = Days(first_of_month.time_since_epoch()).count() * 86400 +
                               std::int64_t(day - 1) * 86400 + std::int64_t(hour) * 3600 +
                               std::int64_t(minute) * 60 + second;
  // Only 1970 to 2262 fit in int64 nanoseconds: a year such as 3000 or 1000 would overflow the
  // multiplication below (undefined behaviour; in practice a wrapped, absurd "held for").
  constexpr std::int64_t max_seconds = INT64_MAX / 1'000'000'000 - 1;
  if (seconds < 0 || seconds > max_seconds) {
    return std::nullopt;
  }
  return seconds * 1'000'000'000 + std::int64_t(milliseconds) * 1'000'000;
}

} // namespace buildlock::os
