// Waiting for any one of several kernel locks on Windows. flock-style sleeping (a thread per
// file blocked in the lock call, interrupted by a signal) has no counterpart: a synchronous
// LockFileEx cannot be interrupted, and Wine does not implement waiting for an overlapped one.
// So every file is tried in turn, with pauses that grow from 1 ms to 16 ms (LockPolling).
#include "os/any_release.h"

#include "os/file_lock.h"
#include "os/windows/interruption.h"
#include "os/windows/native.h"

#include <algorithm>

namespace buildlock::os {

Result<AnyRelease> wait_for_any_release(const std::vector<const Fd*>& files, TimePoint wake_at) {
  LockPolling polling;
  for (;;) {
    for (const Fd* file : files) {
      auto attempt = try_lock(*file, LockType::exclusive);
      if (!attempt) {
        return attempt.error();
      }
      if (*attempt == LockAttempt::acquired) {
        unlock(*file); // the caller owns nothing new and looks again
        return AnyRelease::released;
      }
    }
    const auto now = monotonic_now();
    if (now >= wake_at) {
      return AnyRelease::deadline;
    }
    const auto remaining = std::chrono::ceil<std::chrono::milliseconds>(wake_at - now);
    ::Sleep(static_cast<DWORD>(std::min(polling.next(), remaining).count()));
  }
}

} // namespace buildlock::os
