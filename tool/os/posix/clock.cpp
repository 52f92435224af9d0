#include "os/clock.h"

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <ctime>

namespace buildlock::os {

std::string utc_timestamp_now() {
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  std::tm parts{};
  ::gmtime_r(&now.tv_sec, &parts);
  char buffer[40];
  const auto length = std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S", &parts);
  std::string text(buffer, length);
  char fraction[24];
  std::snprintf(fraction, sizeof fraction, ".%03ldZ", now.tv_nsec / 1'000'000);
  return text + fraction;
}

std::optional<std::int64_t> parse_utc_timestamp_ns(const std::string& text) {
  std::tm parts{};
  int milliseconds = 0;
  char zone = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3d%c", &parts.tm_year, &parts.tm_mon,
                  &parts.tm_mday, &parts.tm_hour, &parts.tm_min, &parts.tm_sec, &milliseconds,
                  &zone) != 8 ||
      zone != 'Z') {
    return std::nullopt;
  }
  // The text comes from a lock file anyone may have written: out-of-range fields ("2026-13-45")
  // are not a time rather than normalised into one.
  if (parts.tm_mon < 1 || parts.tm_mon > 12 || parts.tm_mday < 1 || parts.tm_mday > 31 ||
      parts.tm_hour < 0 || parts.tm_hour > 23 || parts.tm_min < 0 || parts.tm_min > 59 ||
      parts.tm_sec < 0 || parts.tm_sec > 60 || milliseconds < 0 || milliseconds > 999) {
    return std::nullopt;
  }
  parts.tm_year -= 1900;
  parts.tm_mon -= 1;
  const time_t seconds = ::timegm(&parts);
  // Only 1970 to 2262 fit in int64 nanoseconds: a year such as 3000 or 1000 would overflow the
  // multiplication below (undefined behaviour; in practice a wrapped, absurd "held for").
  constexpr std::int64_t max_seconds = INT64_MAX / 1'000'000'000 - 1;
  if (seconds == static_cast<time_t>(-1) || seconds < 0 || seconds > max_seconds) {
    return std::nullopt;
  }
  return std::int64_t(seconds) * 1'000'000'000 + std::int64_t(milliseconds) * 1'000'000;
}

std::int64_t wall_clock_ns() {
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  return std::int64_t(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}

bool sleep_until(TimePoint deadline) {
  const auto remaining = deadline - monotonic_now();
  if (remaining <= std::chrono::nanoseconds::zero()) {
    return true;
  }
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(remaining).count();
  timespec request{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
  return ::nanosleep(&request, nullptr) == 0 || errno != EINTR;
}

} // namespace buildlock::os

#if defined(__APPLE__)
#include <sys/sysctl.h>
#endif

namespace buildlock::os {

std::chrono::nanoseconds uptime() {
#if defined(__linux__)
  timespec now{};
  ::clock_gettime(CLOCK_BOOTTIME, &now);
  return std::chrono::seconds(now.tv_sec) + std::chrono::nanoseconds(now.tv_nsec);
#else
  timeval boot{};
  size_t size = sizeof boot;
  int mib[2] = {CTL_KERN, KERN_BOOTTIME};
  if (::sysctl(mib, 2, &boot, &size, nullptr, 0) != 0) {
    return std::chrono::nanoseconds::zero();
  }
  const auto boot_ns =
      std::int64_t(boot.tv_sec) * 1'000'000'000 + std::int64_t(boot.tv_usec) * 1000;
  return std::chrono::nanoseconds(wall_clock_ns() - boot_ns);
#endif
}

} // namespace buildlock::os
