#include "os/clock.h"

#include <cerrno>
#include <cstdint>
#include <ctime>

namespace buildlock::os {

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
