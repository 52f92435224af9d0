// The mark that the processes of a command run under a lock of a lock directory carry
// (os/process_mark.h): BUILDLOCK_HELD naming the lock file, and a descriptor named after it. What
// tells a waiter that a holder whose buildlock is dead still has a command running, when no
// kernel lock can tell (--kernel-locks off, or a holder on NFS without them).
#pragma once

#include "os/filesystem.h"
#include "os/process_mark.h"

#include <string>

namespace buildlock::core {

// The name of the descriptor a command run under the lock file `identity` inherits besides
// BUILDLOCK_HELD: "buildlock-lock-DEVICE-INODE", in decimal like BUILDLOCK_HELD's.
std::string lock_mark_name(os::FileIdentity identity);

// How the processes of a command run under the lock file `identity` are found.
os::ProcessMark command_mark(os::FileIdentity identity);

} // namespace buildlock::core
