#include "core/forced_removal.h"

#include "os/filesystem.h"

namespace buildlock::core {

Result<bool> remove_inspected_by_force(const LockInspection& inspection) {
  if (inspection.beacon == Beacon::free) {
    return remove_inspected(inspection);
  }
  if (!inspection.fd) {
    return false; // never opened: missing, or not a lock file
  }
  auto current = os::lstat_entry(inspection.path);
  if (!current) {
    return current.error();
  }
  if (current->type != os::EntryType::regular ||
      !(current->identity == inspection.entry.identity)) {
    return false; // released and perhaps re-created meanwhile: not the lock that was judged
  }
  return os::remove_file(inspection.path);
}

} // namespace buildlock::core
