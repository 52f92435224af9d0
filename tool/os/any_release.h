// Sleeping until any one of several kernel locks is released: what a `--slots N` waiter needs
// when all N slots are taken. flock(2) can only sleep on one file, and polling would either waste
// time or wake late, so one thread per file sleeps in flock() and the first to get through wakes
// the caller (docs/protocol.md, "Wait for a slot").
#pragma once

#include "os/clock.h"
#include "os/fd.h"
#include "os/result.h"

#include <vector>

namespace buildlock::os {

enum class AnyRelease {
  released, // some file's kernel lock was free for an instant: look again
  deadline, // `wake_at` came first
};

// Sleeps until nobody holds the kernel lock of at least one of `files`, or until `wake_at`.
// Every kernel lock taken while watching is dropped again before returning, so the caller owns
// nothing new and must look again. Errors: a file's lock failed (ErrorKind::lock_directory).
Result<AnyRelease> wait_for_any_release(const std::vector<const Fd*>& files, TimePoint wake_at);

} // namespace buildlock::os
