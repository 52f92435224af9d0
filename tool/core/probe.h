// Looking at one lock file: who holds it, and is it stale? Shared by `run` (before waiting or
// reclaiming) and by `status`/`clean`, so that every command judges a lock the same way.
#pragma once

#include "core/metadata.h"
#include "core/staleness.h"
#include "os/fd.h"
#include "os/filesystem.h"

#include <optional>
#include <string>

namespace buildlock::core {

// The observer as this process sees its machine now.
Observer current_observer();

struct LockInspection {
  std::string path;
  os::EntryInfo entry; // type `missing`: no lock; anything but `regular`: not a lock file
  // The open lock file while this inspection lives. When `beacon` is `free`, this descriptor
  // holds the kernel lock, which is what makes a following reclaim race-free.
  os::Fd fd;
  Beacon beacon = Beacon::held;
  std::optional<LockMetadata> metadata;
  std::string metadata_problem; // why `metadata` is empty
  Verdict verdict;

  bool exists() const { return entry.type != os::EntryType::missing; }
  bool is_lock_file() const { return entry.type == os::EntryType::regular; }
  // "pid 123 on host `ci-4` (cmake --build b), held for 3.2s" or what is known of it.
  std::string describe_holder() const;
};

// Inspects `path`. `filesystem_now_ns` is the filesystem's current time (the mtime of a file just
// written there), used for ages; without it the local wall clock is used. Without `details`, a
// lock whose kernel lock is held is reported as held without reading its metadata (its holder
// is then unknown): enough for a waiter that will only go back to sleep.
Result<LockInspection> inspect_lock_file(const std::string& path, const Observer& observer,
                                         Seconds stale_after,
                                         std::optional<std::int64_t> filesystem_now_ns,
                                         bool details = true);

// Reads and parses the metadata of the inspected file into `metadata` / `metadata_problem`, for
// an inspection made without details.
void read_metadata(LockInspection& inspection);

// Removes an inspected stale lock, but only while the inspection holds its kernel lock and the
// name still points at the inspected file: a fresh lock created meanwhile is never removed.
// Returns false when there was nothing (any more) to remove.
Result<bool> remove_inspected(const LockInspection& inspection);

// The last step of every removal: unlink the name only if it still points at the inspected file
// (checked right before the unlink). Callers decide first whether they may remove it at all.
Result<bool> remove_if_still_inspected_file(const LockInspection& inspection);

} // namespace buildlock::core
