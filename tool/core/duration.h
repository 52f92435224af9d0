// Parsing user-given durations ("2", "0.5", "1e-3" seconds).
#pragma once

#include "os/result.h"

#include <chrono>
#include <string_view>

namespace buildlock::core {

using Seconds = std::chrono::duration<double>;

// A non-negative, finite number of seconds, at most a year. `what` names the source in errors
// ("--timeout", "$BUILDLOCK_TIMEOUT").
Result<Seconds> parse_seconds(std::string_view text, std::string_view what);

// "3.2s", "4m05s", "2h10m": how long a lock has been held, for people.
std::string format_duration(Seconds duration);

} // namespace buildlock::core
