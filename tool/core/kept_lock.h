// A kernel lock held although the holder its metadata names has exited: a killed wrapper's
// command inherited the lock file's descriptor, and with it the lock. The verdict ("held") is
// right, but the recorded pid is not what a user would have to stop: the processes that keep the
// lock are. `status` and the lines of a waiting `run` name them alike, from here.
#pragma once

#include "core/probe.h"

namespace buildlock::core {

// When `inspection` (read with details) is held by its kernel lock and its recorded holder, in
// `observer`'s pid namespace, has exited, fills `inspection.kept_by` and says who keeps the lock
// in the verdict's explanation: "its kernel lock is held by pid 12 (sleep 40), left running by its
// holder pid 10, which has exited". Otherwise, and for a group's anchor (held by every member,
// each named by its own file), leaves it as it is. Costs a look at the holder's pid, and only when
// that has exited, a pass over the processes' open files (os/open_files.h).
void name_the_keepers(LockInspection& inspection, const Observer& observer);

} // namespace buildlock::core
