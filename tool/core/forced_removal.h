// `break --force`: removing a lock whose holder may still be alive, for an administrator who
// knows better (a hung build, a holder on a machine that is gone).
#pragma once

#include "core/probe.h"

namespace buildlock::core {

// Removes the lock file `inspection` looked at, whatever its verdict. When nobody holds its
// kernel lock this is remove_inspected(), race-free. When someone does, this process cannot take
// it; the name is removed only if it still points at the inspected file, checked right before
// the unlink. That leaves an instant in which a holder that releases and a newcomer that takes
// the lock could lose the newcomer's name, which is why only --force gets here.
// Returns false when there was nothing (any more) to remove.
Result<bool> remove_inspected_by_force(const LockInspection& inspection);

} // namespace buildlock::core
