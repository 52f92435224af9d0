#include "os/clock.h"

#include "os/windows/interruption.h"
#include "os/windows/native.h"

namespace buildlock::os {

std::int64_t wall_clock_ns() {
  FILETIME now{};
  ::GetSystemTimePreciseAsFileTime(&now);
  // 100-ns ticks since 1601-01-01; 11644473600 s from then to 1970-01-01.
  const std::int64_t ticks =
      static_cast<std::int64_t>((std::uint64_t(now.dwHighDateTime) << 32) | now.dwLowDateTime);
  return (ticks - 116'444'736'000'000'000) * 100;
}

bool sleep_until(TimePoint deadline) {
  const auto remaining = deadline - monotonic_now();
  if (remaining <= std::chrono::nanoseconds::zero()) {
    return true;
  }
  // Rounded up: waking a little late is harmless, waking early makes the caller sleep again.
  return wait_uninterrupted(std::chrono::ceil<std::chrono::milliseconds>(remaining));
}

std::chrono::nanoseconds uptime() {
  // GetTickCount64 counts since boot with sleep and hibernation included, as CLOCK_BOOTTIME does.
  return std::chrono::milliseconds(::GetTickCount64());
}

} // namespace buildlock::os
