#include "core/kept_lock.h"

#include "core/lock_name.h"
#include "core/shortened.h"
#include "os/process_identity.h"

namespace buildlock::core {

void name_the_keepers(LockInspection& inspection, const Observer& observer) {
  if (inspection.verdict.reason != "kernel-lock-held" || !inspection.metadata ||
      !same_pid_namespace(*inspection.metadata, observer)) {
    return; // not held by its kernel lock, or its pid means nothing here
  }
  const LockMetadata& metadata = *inspection.metadata;
  if (metadata.mode != LockMode::exclusive &&
      lock_name_of_lock_file(os::split_path(inspection.path).second)) {
    // A group's anchor: every member holds its kernel lock, and its metadata names only the
    // member that created it, who may have left the live group long ago. Its members are named
    // by their own files.
    return;
  }
  const os::PidProbe probe = os::probe_pid(metadata.pid);
  const bool holder_exited = probe.state == os::PidState::dead ||
                             (probe.state == os::PidState::alive && metadata.start_time &&
                              probe.start_time && *metadata.start_time != *probe.start_time);
  if (!holder_exited) {
    return;
  }
  inspection.kept_by = os::processes_with_file_open(inspection.entry.identity);
  const std::string holder = "its holder pid " + std::to_string(metadata.pid);
  if (inspection.kept_by.empty()) {
    inspection.verdict.explanation = "its kernel lock is held by a process this user cannot see, "
                                     "left running by " +
                                     holder + ", which has exited";
    return;
  }
  std::string keepers;
  for (const os::ProcessWithFile& keeper : inspection.kept_by) {
    keepers += (keepers.empty() ? "" : ", ") + std::to_string(keeper.pid) + " (" +
               shortened(keeper.command, longest_command_in_message) + ")";
  }
  inspection.verdict.explanation = std::string("its kernel lock is held by pid") +
                                   (inspection.kept_by.size() > 1 ? "s " : " ") + keepers +
                                   ", left running by " + holder + ", which has exited";
}

} // namespace buildlock::core
