// Nested holds of a lock in etcd: `buildlock run X -- make` whose make runs `buildlock run X`.
// The outer run names its lease in BUILDLOCK_ETCD_LEASES (etcd/holder_check.h) for every process
// its command starts; an inner run of the same lock whose list names a key that holds it is
// covered by that hold, as for a lock directory (core/nesting.h). A process that outlives the
// outer hold finds no such key (the release revoked the lease) and waits like anyone else.
#pragma once

#include "core/nesting.h"
#include "etcd/client.h"

#include <string>

namespace buildlock::etcd {

// How an ancestor holds lock `name` under `location`, for a request of `mode`; `held_leases` is
// this process's BUILDLOCK_ETCD_LEASES (none without it, and no request is made to etcd).
Result<core::AncestorHold> ancestor_hold(const char* held_leases, const std::string& location,
                                         const std::string& name, core::LockMode mode);

} // namespace buildlock::etcd
