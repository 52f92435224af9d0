// Taking a lock: the protocol of docs/protocol.md.
//
//   create  a complete file (metadata written, kernel lock taken) under a temporary name, then
//           link() it into place (fails if the name exists), then unlink the temporary name.
//           A lock file never exists without metadata and a held kernel lock.
//   wait    on the holder's kernel lock (the kernel wakes us on release), or until an age-judged
//           lock expires.
//   reclaim a stale lock only while holding its kernel lock and only if the name still points
//           at the inspected file (core/probe.h).
//   release remove the name (if still ours), then unlock (also for every inherited copy), close
//           (core/held_lock.h).
//
// Exclusive holds are one `NAME.lock`; shared and slotted holds join a group anchored at
// `NAME.lock` and add a holder file of their own (core/group_acquire.h).
#pragma once

#include "core/duration.h"
#include "core/held_lock.h"
#include "core/kernel_lock_use.h"
#include "core/messages.h"
#include "core/metadata.h"
#include "core/wait_record.h"
#include "os/signals.h"

#include <optional>
#include <string>
#include <vector>

namespace buildlock::core {

// The rule a mode-conflict error (exit 65) ends with, for every store: only --slots refuses
// another mode; exclusive and --shared runs of one lock are the designed mix.
inline constexpr const char* mode_conflict_rule =
    " (a lock taken with --slots N is shared only with runs that give the same N; exclusive and "
    "--shared runs of one lock take turns instead)";

struct AcquireRequest {
  std::string directory;
  std::string name;
  std::vector<std::string> command; // recorded in the metadata, for people
  std::optional<Seconds> timeout;   // nullopt: wait forever; 0: try once
  Seconds stale_after{120};
  LockMode mode = LockMode::exclusive;
  int slots = 0; // 1..max_slots for LockMode::slots
  KernelLockUse kernel_locks = KernelLockUse::automatic;
  // Where whom this acquisition waited behind and what it reclaimed are noted, for the trace
  // (core/wait_record.h); null when no trace is written.
  WaitRecord* wait_record = nullptr;
};

// Waits for and takes the lock. Expects `signals` in TerminationMode::die (waiting can be
// abandoned at any moment); returns with it in TerminationMode::record, so that from the moment
// the hold exists a signal is recorded instead of killing the holder.
// Errors: ErrorKind::timeout (message names the holder), mode_conflict (the lock is held in a
// mode or slot count this request cannot share), lock_directory, system.
Result<HeldLock> acquire(const AcquireRequest& request, os::SignalHandling& signals,
                         const Messages& messages);

} // namespace buildlock::core
