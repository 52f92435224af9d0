// Nested holds: `buildlock run X -- cmake --build b` whose build runs `buildlock run X -- cmd`.
//
// The outer run passes its lock to the command twice: as an inherited descriptor (which shares
// the kernel lock) and as the environment variable BUILDLOCK_HELD naming that descriptor and the
// lock file's identity. An inner run of the same lock proceeds without waiting only if all three
// still agree: the name points at that file, the inherited descriptor is that file, and the
// descriptor's kernel lock is ours. A process that outlives the outer hold fails the first test
// (the outer run removed the name when it released) and waits like anyone else.
#pragma once

#include "os/filesystem.h"

#include <optional>
#include <string>

namespace buildlock::core {

inline constexpr const char* held_locks_variable = "BUILDLOCK_HELD";

// The BUILDLOCK_HELD value for a command run under the lock file `identity` open as `fd`:
// `inherited` (this process's own BUILDLOCK_HELD) plus "fd:device:inode".
std::string held_locks_value(const char* inherited, int fd, os::FileIdentity identity);

// True when this process already holds the lock at `lock_path` through an ancestor.
bool held_by_ancestor(const char* held_locks, const std::string& lock_path);

} // namespace buildlock::core
