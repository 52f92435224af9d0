// The one clock of the benchmark: CLOCK_MONOTONIC in nanoseconds, shared by the driver and by
// the commands it runs under a lock, so that timestamps from different processes compare.
#pragma once

#include <cstdint>
#include <ctime>

namespace buildlock::bench {

inline std::int64_t monotonic_ns() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return std::int64_t(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}

} // namespace buildlock::bench
