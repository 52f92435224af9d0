// Nested holds: `buildlock run X -- cmake --build b` whose build runs `buildlock run X -- cmd`.
//
// The outer run passes its lock to the command twice: as an inherited descriptor (which shares
// the kernel lock) and as the environment variable BUILDLOCK_HELD naming that descriptor and the
// lock file's identity. An inner run of the same lock proceeds without waiting only if all three
// still agree: the name points at that file, the inherited descriptor is that file, and the
// descriptor's kernel lock is ours. A process that outlives the outer hold fails the first test
// (the outer run removed the name when it released) and waits like anyone else. When the
// descriptor did not reach us (closed on the way, as Python's subprocess does by default), the
// hold is proven instead by the pid chain: the file's recorded holder, with its start time, is
// one of our ancestors (and so is still waiting for us).
#pragma once

#include "core/metadata.h"
#include "os/filesystem.h"

#include <optional>
#include <string>
#include <string_view>

namespace buildlock::core {

inline constexpr const char* held_locks_variable = "BUILDLOCK_HELD";

// The BUILDLOCK_HELD value for a command run under the lock file `identity` open as `fd`:
// `inherited` (this process's own BUILDLOCK_HELD) plus "fd:device:inode".
std::string held_locks_value(const char* inherited, os::NativeHandle fd, os::FileIdentity identity);

// True when the BUILDLOCK_HELD value `held_locks` names the lock file `identity`: it was set by
// the holder of that file for its command, and every process the command started inherits it.
bool held_locks_name(std::string_view held_locks, os::FileIdentity identity);

// True when this process already holds the file at `lock_path` through an ancestor.
// Without `kernel_locks` (or for a holder that took none) the holder must be an ancestor process:
// its pid on our chain of parents, with the recorded start time.
bool held_by_ancestor(const char* held_locks, const std::string& lock_path,
                      bool kernel_locks = true);

enum class AncestorHold {
  none,        // no ancestor holds lock NAME: acquire it
  covering,    // an ancestor's hold covers this request: run without taking it again
  conflicting, // an ancestor holds it shared or in a slot, and this request could only wait for
               // that ancestor to finish, which waits for us: a deadlock to refuse
};

// How an ancestor holds lock `name` of `directory`, for a request of `mode`. An exclusive hold
// covers every request; a shared hold covers `--shared`, a slot covers `--slots`.
AncestorHold ancestor_hold(const char* held_locks, const std::string& directory,
                           const std::string& name, LockMode mode, bool kernel_locks);

} // namespace buildlock::core
