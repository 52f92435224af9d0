// Looking at one lock file: who holds it, and is it stale? Shared by `run` (before waiting or
// reclaiming) and by `status`/`clean`, so that every command judges a lock the same way.
#pragma once

#include "core/metadata.h"
#include "core/staleness.h"
#include "os/fd.h"
#include "os/filesystem.h"
#include "os/open_files.h"

#include <optional>
#include <string>
#include <vector>

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
  // The free kernel lock we took is proof enough to remove the file under: its holder ran on our
  // kernel (same boot id). For anyone else's file, a kernel lock on a network filesystem may be
  // local to one client and exclude nobody on another host.
  bool kernel_lock_excludes_reclaimers = false;
  // The file could only be opened read-only (we may not write it) and the filesystem refuses an
  // exclusive kernel lock on such a descriptor (NFS): `beacon` is then `unsupported` and the
  // lock is judged by its holder's pid and heartbeat, except that a shared lock, which needs
  // only reading, shows an exclusive holder (verdict "kernel-lock-held").
  bool exclusive_lock_untestable = false;
  std::optional<LockMetadata> metadata;
  std::string metadata_problem; // why `metadata` is empty
  Verdict verdict;
  // For a lock held by its kernel lock although its recorded holder has exited: the processes
  // that keep it (a killed wrapper's command), the ones to stop (core/kept_lock.h). Empty
  // otherwise, or where they cannot be seen (another user's processes; an OS without the view).
  std::vector<os::ProcessWithFile> kept_by;
  // When it was judged, on the filesystem's clock, and by which --stale-after (for claims, see
  // core/claimed_removal.h). Unset when it was not judged.
  std::optional<std::int64_t> judged_at_ns;
  Seconds stale_after{0};

  bool exists() const { return entry.type != os::EntryType::missing; }
  bool is_lock_file() const { return entry.type == os::EntryType::regular; }
  // "pid 123 on host `ci-4` (cmake --build b), held for 3.2s" or what is known of it.
  std::string describe_holder() const;
};

// Inspects `path`. `filesystem_now_ns` is the filesystem's current time (the mtime of a file just
// written there), used for ages; without it the local wall clock is used. Without `details`, a
// lock whose kernel lock is held is reported as held without reading its metadata (its holder
// is then unknown): enough for a waiter that will only go back to sleep. Without
// `kernel_locks` (--kernel-locks off, or a filesystem that has none) flock is never called and
// every lock is judged by its metadata and age.
//
// A group's anchor (`NAME.lock` of mode shared or slots) whose kernel lock is not held is judged
// by its members: held while any holder file of the group is, stale once none is and the anchor
// has not been refreshed for a second (the moment between creating the anchor and the first
// member's file). Its own kernel lock and heartbeat do not speak for every member: members
// without kernel locks (--kernel-locks off, or another host's, whose locks a network filesystem
// may not show) hold no lock on it, and only its creator can refresh it (with umask 022 the
// others may not), whereas each member refreshes its own file.
Result<LockInspection> inspect_lock_file(const std::string& path, const Observer& observer,
                                         Seconds stale_after,
                                         std::optional<std::int64_t> filesystem_now_ns,
                                         bool details = true, bool kernel_locks = true);

// The holder files (shared or slot) of lock `name` in `directory` that are held, each judged like
// any lock: the members of a group, counted without relying on the anchor's kernel lock. Ages
// against `filesystem_now_ns` (the filesystem's clock; nullopt: this machine's). A holder file
// that cannot be inspected (another user's that we may not read) counts as alive.
struct GroupMembers {
  int alive = 0;
  int files = 0;       // holder files present, dead ones included
  std::string example; // one of them, described for people
};
GroupMembers live_group_members(const std::string& directory, const std::string& name,
                                const Observer& observer, Seconds stale_after, bool kernel_locks,
                                std::optional<std::int64_t> filesystem_now_ns);

// Reads and parses the metadata of the inspected file into `metadata` / `metadata_problem`, for
// an inspection made without details.
void read_metadata(LockInspection& inspection);

// Removes an inspected stale lock, but only while the inspection holds its kernel lock and the
// name still points at the inspected file: a fresh lock created meanwhile is never removed.
// Without kernel locks (beacon `unsupported`), and for a holder on another kernel, by claiming the
// judged file first (core/claimed_removal.h): never by moving the name, which could displace a
// lock that was not judged. Returns false when there was nothing (any more) to remove, or someone
// else is removing it.
Result<bool> remove_inspected(const LockInspection& inspection);

// The last step of every removal: unlink the name only if it still points at the inspected file
// (checked right before the unlink). Callers decide first whether they may remove it at all.
Result<bool> remove_if_still_inspected_file(const LockInspection& inspection);

} // namespace buildlock::core
