#include "os/windows/interruption.h"

#include "os/windows/native.h"

namespace buildlock::os {
namespace {

// Auto-reset: one interrupt_waits() ends exactly one wait, and one that comes between two waits
// is kept for the next, where EINTR would have been lost (POSIX re-arms an alarm for that).
HANDLE interruption_event() {
  static const HANDLE event = ::CreateEventW(nullptr, FALSE, FALSE, nullptr);
  return event;
}

} // namespace

void interrupt_waits() {
  ::SetEvent(interruption_event());
}

bool wait_uninterrupted(std::chrono::milliseconds timeout) {
  const auto ms = static_cast<DWORD>(std::max<long long>(timeout.count(), 0));
  return ::WaitForSingleObject(interruption_event(), ms) != WAIT_OBJECT_0;
}

} // namespace buildlock::os
