// Interruptible waits on Windows, the counterpart of EINTR.
//
// On POSIX a signal handler that runs makes a blocking call return early (EINTR), and that is how
// lock_or_interrupt() and sleep_until() let the caller act on a signal, an alarm or a deadline.
// Windows has no signals: whatever plays their part (the console control handler, the alarm of
// os/signals.h) calls interrupt_waits(), and every wait the interface calls interruptible waits
// on this process's interruption event as well.
#pragma once

#include <algorithm>
#include <chrono>

namespace buildlock::os {

// Wakes the interruptible wait in progress, or else the next one. Safe from any thread,
// including a console control handler.
void interrupt_waits();

// Waits for up to `timeout`; false when interrupt_waits() was called during the wait or since
// the last wait it ended. Each call of interrupt_waits() ends one wait.
bool wait_uninterrupted(std::chrono::milliseconds timeout);

// The pauses between two attempts of a kernel lock that is busy (file_lock.cpp, any_release.cpp):
// short at first, so that a lock released at once is taken at once, then longer, so that a long
// wait costs next to nothing. A blocking LockFileEx cannot be interrupted (a synchronous one ends
// only when granted; Wine does not implement waiting for an overlapped one), so waits poll.
class LockPolling {
public:
  std::chrono::milliseconds next() {
    const auto pause = pause_;
    pause_ = std::min(pause_ * 2, std::chrono::milliseconds(16));
    return pause;
  }

private:
  std::chrono::milliseconds pause_{1};
};

} // namespace buildlock::os
