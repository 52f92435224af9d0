// --kernel-locks auto|on|off (and $BUILDLOCK_KERNEL_LOCKS): whether buildlock relies on flock(2).
//
// Kernel locks are what make a dead holder's lock free at once on one kernel. Some filesystems
// have none (flock fails with ENOLCK or EOPNOTSUPP: NFS without a lock daemon, some FUSE
// filesystems), and on some they hang or are local to one client (NFS mounted with
// `local_lock=all`). docs/shared-filesystems.md says which to choose where.
#pragma once

#include "os/result.h"

#include <string_view>

namespace buildlock::core {

enum class KernelLockUse {
  automatic, // use them where they work; elsewhere fall back to pid and heartbeat, with a warning
  required,  // use them; a filesystem without them is an error (exit 74)
  never,     // never call flock: every lock is judged by its metadata and heartbeat
};

// "auto", "on", "off"; anything else is a usage error naming `where` (the option or variable).
Result<KernelLockUse> parse_kernel_lock_use(std::string_view text, std::string_view where);

} // namespace buildlock::core
