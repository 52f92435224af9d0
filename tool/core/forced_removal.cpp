#include "core/forced_removal.h"

namespace buildlock::core {

Result<bool> remove_inspected_by_force(const LockInspection& inspection) {
  if (inspection.beacon == Beacon::free) {
    return remove_inspected(inspection);
  }
  if (!inspection.fd) {
    return false; // never opened: missing, or not a lock file
  }
  return remove_if_still_inspected_file(inspection);
}

} // namespace buildlock::core
