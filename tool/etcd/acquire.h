// Taking a lock held in etcd (docs/protocol.md, "Locks in etcd"):
//
//   arrive   grant a lease, create our key PREFIX/NAME/LEASE (value: our metadata) attached to it;
//            its create revision is our place in the queue.
//   wait     (etcd/queue.h) watch the key we wait for, keep our own lease alive (a waiter whose
//            lease ran out would lose its place: etcd #9921, #19597), and look at the holders on
//            this machine: one whose process is dead (and whose command left nothing running) has
//            its lease revoked at once, the same rule as for a dead local holder of a lock file.
//   hold     when no older key stands in our way; the create revision is the fencing token.
//   release  revoke the lease (etcd/hold.h).
//
// A signal while waiting revokes the lease before buildlock dies by it; a timeout too.
#pragma once

#include "core/acquire.h"
#include "core/messages.h"
#include "etcd/hold.h"
#include "etcd/location.h"
#include "os/signals.h"

namespace buildlock::etcd {

// TTL of a hold's lease when --stale-after is not given: short enough that a holder whose host
// died frees the lock soon, long enough for a loaded machine to renew it (every TTL / 3).
inline constexpr std::int64_t default_ttl = 10;

// The lease TTL for --stale-after SECONDS: rounded up to whole seconds (etcd's unit), at least 1
// (etcd raises it to its own minimum, about 2 s with default settings).
std::int64_t ttl_for(core::Seconds stale_after);

// `request.directory` is the etcd URL; `ttl` the lease TTL. Expects `signals` in
// TerminationMode::die and returns with it in TerminationMode::record (as core::acquire).
// Errors: timeout, mode_conflict, lock_directory (etcd unreachable or refusing), usage.
Result<EtcdHold> acquire(const core::AcquireRequest& request, std::int64_t ttl,
                         os::SignalHandling& signals, const core::Messages& messages);

// Our metadata for `request`, as the value of our key (acquired_at: now).
core::LockMetadata key_metadata(const core::AcquireRequest& request);

} // namespace buildlock::etcd
