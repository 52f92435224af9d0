// The lease keeper: what keeps an etcd hold's promise "a killed wrapper's command keeps its lock"
// (docs/cli.md), as the kernel lock of a lock file does for a directory.
//
// When buildlock arrives at a lock in etcd it starts a keeper (os/detached_process.h: nobody's
// child, in a session of its own); once it holds the lock, it tells it, through a pipe, the hold
// and the send time of every successful renewal. Normally it is then told "released" and exits. If
// the pipe ends without that, buildlock was killed: the keeper takes the lease over and
//
//   - renews it (etcd/hold.h's holder schedule, counted from buildlock's last successful
//     renewal) for as long as a process of this user carries the lease's mark, in
//     BUILDLOCK_ETCD_LEASES or as an inherited descriptor (the command's processes:
//     etcd/holder_check.h, os/process_mark.h), so that nobody takes the lock from them;
//   - revokes it once none is left, so that the next run gets the lock at once;
//   - kills those processes (SIGKILL) when the hold is lost or in jeopardy (half a TTL without a
//     renewal: when a holder's SIGKILL would come), before etcd can give the lock to anyone
//     else, and then revokes it.
//
// Linux only (where /proc tells which processes carry the lease's mark); on Windows the command's
// job ends with its buildlock, so no command outlives it.
#pragma once

#include "etcd/hold.h"

#include <optional>
#include <string>
#include <vector>

namespace buildlock::etcd {

// The hidden first argument that makes buildlock a keeper (main.cpp).
inline constexpr const char* keeper_argument = "__etcd-lease-keeper";

// Starts a keeper for a run of lock `name` at `location`, when the run arrives: while it waits,
// not on the handoff's critical path. Call before os::adopt_orphaned_descendants(). nullopt where
// it cannot be started: the hold then goes on without one (a killed buildlock's command keeps
// the lock only until the lease runs out), which `messages` explains.
std::optional<os::Fd> start_keeper(const std::string& location, const std::string& name,
                                   const core::Messages& messages);

// Tells the keeper what it keeps (once the run holds the lock) and attaches it to `hold`.
void attach_keeper(EtcdHold& hold, os::Fd keeper);

// The keeper's main: `arguments` are what start_keeper() passed after keeper_argument.
int run_keeper(const std::vector<std::string>& arguments);

} // namespace buildlock::etcd
