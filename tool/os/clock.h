// Clocks. Deadlines use the monotonic clock; lock ages use the filesystem's clock (file mtimes,
// see core/acquire.cpp); wall-clock time is only ever shown to people.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace buildlock::os {

using MonotonicClock = std::chrono::steady_clock;
using TimePoint = MonotonicClock::time_point;

inline TimePoint monotonic_now() {
  return MonotonicClock::now();
}

// Now, as "2026-11-23T10:37:22.123Z".
std::string utc_timestamp_now();

// Parses utc_timestamp_now()'s format back to nanoseconds since the epoch; nullopt for any other
// text, out-of-range fields, and times outside 1970-2262 (which int64 nanoseconds cannot hold).
std::optional<std::int64_t> parse_utc_timestamp_ns(const std::string& text);

// Nanoseconds since the epoch on this machine's wall clock.
std::int64_t wall_clock_ns();

// Sleeps until `deadline`; returns early (false) when a signal handler ran.
bool sleep_until(TimePoint deadline);

} // namespace buildlock::os

namespace buildlock::os {

// Time since this machine booted, suspend included.
std::chrono::nanoseconds uptime();

} // namespace buildlock::os
