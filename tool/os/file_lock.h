// Kernel locks (flock(2)) on open files: buildlock's liveness beacon.
//
// A flock belongs to an open file description, so it is shared by every descriptor dup()ed or
// inherited from the one that took it, and released when the last of them closes or when any of
// them calls unlock(). That is what lets a lock outlive a killed wrapper while its command still
// runs, and what lets the wrapper release copies a left-behind daemon inherited.
#pragma once

#include "os/fd.h"
#include "os/result.h"

namespace buildlock::os {

enum class LockAttempt {
  acquired,
  busy,        // someone else holds it (non-blocking attempt)
  interrupted, // a signal arrived while blocking
  unsupported, // the filesystem has no working kernel locks (ENOLCK, EOPNOTSUPP, ...)
  // The filesystem refuses this kind of lock on a descriptor opened read-only: NFS emulates
  // flock with byte-range locks, and an exclusive one needs the file open for writing (EBADF).
  // Only ever for a read-only descriptor, which inspections fall back to for files they may not
  // write (open_regular_file_if_present); a shared lock still works there.
  needs_write_access,
};

// Shared locks are held by any number of open files at once, and by none while someone holds an
// exclusive one. Changing the kind of a lock one already holds is not atomic (flock(2) drops the
// old lock first), so buildlock never converts a lock it needs to keep.
enum class LockType { exclusive, shared };

// Non-blocking.
Result<LockAttempt> try_lock(const Fd& fd, LockType type = LockType::exclusive);
// The same for a descriptor this process does not own (an inherited one).
Result<LockAttempt> try_lock(NativeHandle fd, LockType type = LockType::exclusive);

// Blocking until acquired or until a signal interrupts the wait.
Result<LockAttempt> lock_or_interrupt(const Fd& fd, LockType type = LockType::exclusive);

// Releases the lock for every descriptor that shares this open file description.
void unlock(const Fd& fd);

} // namespace buildlock::os
