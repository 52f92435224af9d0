// How a group ends, and what is left of it (docs/protocol.md, "Groups", "Leave", and "Mixing
// kernel-lock settings"). A group is its members' holder files: the anchor's kernel lock is not
// held by members without kernel locks or on another host, so the anchor is removed only after
// counting the members' files, by claiming it first (claimed_removal.h); files of dead members are
// swept; an anchor that we may not remove (a sticky directory) is taken over; and an exclusive run
// that follows a group without kernel locks waits until its last members have left.
#pragma once

#include "core/acquire_steps.h"
#include "core/held_lock.h"

#include <optional>
#include <string>

namespace buildlock::core {

// An exclusive run that has just created NAME.lock (`held`) waits until no member of a group
// that ended a moment ago is still inside: a member without a kernel lock on the anchor is kept in
// by its holder file alone (docs/protocol.md, "The exclusive creator counts the members").
// Meanwhile it refreshes `held` like a holder, so that other hosts do not judge it stale behind a
// slow last member. Returns 0 then, or the termination signal that arrived meanwhile (the caller
// holds NAME.lock, so signals are recorded: it must release and die by it).
Result<int> wait_until_no_group_members(AcquireContext& context, HeldFile& held);

// Removes the group's anchor at `path` (the file `identity`) if no member is alive: claimed,
// its name removed, members counted again, then put back if one is found. A member that joins
// meanwhile checks the anchor after creating its holder file, so either it finds the anchor gone
// (and starts again) or it is counted. Members are counted by their holder files, not by the
// anchor's kernel lock, which members without kernel locks or on another host do not hold. Returns
// true when removed; an error when it may not be claimed or removed (a sticky directory, see
// adopt_unremovable_anchor). `claimants_excluded`: the caller holds the anchor's exclusive kernel
// lock on the kernel that its metadata names (RemovalTarget::claimants_excluded).
Result<bool> remove_group_anchor_if_empty(const std::string& path, os::FileIdentity identity,
                                          const GroupCleanup& cleanup,
                                          bool claimants_excluded = false);

// Removes the stale anchor `inspection` judged, as remove_group_anchor_if_empty does. Under its
// kernel lock (the inspection took it exclusively, on the kernel its metadata names) a claim in
// the way is one that a remover killed mid-way left: dropped at once. An anchor whose kernel lock
// cannot be taken exclusively (opened read-only on NFS) is held shared meanwhile, so that no
// remover under its exclusive lock takes our live claim for such a one.
Result<bool> remove_inspected_anchor(const LockInspection& inspection, const GroupCleanup& cleanup);

// A group's anchor judged stale whose removal failed with `removal_error` for want of permission
// (a sticky directory: only its creator, the directory's owner and root may remove it) is taken
// over instead of stopping: if the inspection holds its kernel lock on the holder's own kernel,
// that lock excludes everyone, so we hold the file as it stands, under its kernel lock of `type`
// (exclusive for an exclusive run, shared to join as a group of the anchor's mode), and leave it
// behind stale again when done. Nullopt when that does not apply (the caller reports the error),
// or when someone got in meanwhile (the caller may look again).
std::optional<HeldFile> adopt_unremovable_anchor(LockInspection& holder, const Error& removal_error,
                                                 os::LockType type);

// Removes an entry that `clean` judged stale: a group's anchor like its last member
// would (remove_group_anchor_if_empty: members counted again once its name is gone, put back if
// one is found; removing it by its free kernel lock alone would strand a member without a kernel
// lock that joined since: issue 20, finding 1), anything else by remove_inspected.
Result<bool> remove_judged_stale(const LockInspection& inspection, const Observer& observer,
                                 Seconds stale_after, bool kernel_locks);

// Reclaims a stale `NAME.lock`. A group anchor that nobody holds is an ended group, removed
// quietly; its dead members' files are removed too.
Result<bool> reclaim_lock_file(AcquireContext& context, const LockInspection& holder);

// Removes the files of shared holders of `cleanup.name` that are dead (judged like any lock).
// Without kernel locks the judgment is by pid and heartbeat.
void sweep_dead_shared_holders(const GroupCleanup& cleanup, const Messages* messages);

} // namespace buildlock::core
