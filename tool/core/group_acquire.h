// Shared and slotted holds (docs/protocol.md, "Groups").
//
// A group is anchored at `NAME.lock`, whose metadata says the mode (`shared`, or `slots` with N)
// and whose kernel lock every member holds in *shared* mode: the kernel itself then keeps an
// exclusive holder out while any member lives, and lets the group in only when the exclusive
// holder is gone, with no cooperation from older buildlocks, which see a held lock. Each member
// also holds a file of its own, with its metadata, under an exclusive kernel lock:
// `NAME.lock+shared.<hex>` for a shared holder, `NAME.lock+slot.<K>` for slot K of N, so that
// `status` can name every holder and the slot files count the holders. An exclusive run that
// finds shared holders first takes `NAME.lock+writer`; shared runs wait while it exists, so a
// stream of readers cannot starve a writer. (An exclusive run that has long waited without
// anything to wake it takes the same file as its turn: see acquire.cpp.)
#pragma once

#include "core/acquire_steps.h"
#include "core/group_end.h"

namespace buildlock::core {

// Takes a shared or slotted hold (context.request.mode is not exclusive).
Result<HeldLock> acquire_in_group(AcquireContext& context);

// Whether the inspected lock file, judged held, is held by a group's members rather than by one
// exclusive holder: with kernel locks, they hold it in shared mode (and its metadata does not say
// exclusive: then its holder has just let go); without, its metadata says so. Reads its metadata
// if not read yet.
Result<bool> held_by_group(LockInspection& holder);

// Waits while `NAME.lock+writer` is held by someone else: shared runs let a queued exclusive
// run go first, and every run lets a run that holds its turn go first (acquire.cpp). Reclaims it
// when it is stale.
Status wait_while_writer_queued(AcquireContext& context);

// The error for a request that cannot share the lock as `holder` holds it.
Error mode_conflict(const AcquireRequest& request, const LockInspection& holder);

} // namespace buildlock::core
