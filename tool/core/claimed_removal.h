// Removing a lock file that others may be removing and re-creating at the same moment, when no
// kernel lock can be held to remove it under: a lock of another host (our kernel lock may not
// exclude that host's reclaimers), any lock without kernel locks, and a group's anchor without
// them.
//
// POSIX has no "remove this name only if it still names that file". The answer it used to get,
// "rename the name aside, check what was moved, put it back if it was not ours", empties the name
// for an instant: a newcomer can create its lock there, and the put-back fails; the lock that was
// moved belonged to a live holder, who now overlaps the newcomer (issue 13, finding 4).
//
// Here the name is never moved. The remover first *claims* the file it judged: it hard-links the
// name to `.NAME.<inode as 16 hex>.claim`. link() never replaces anything, so for one file at most
// one claim exists, and whoever creates it is the only remover of that file. The claim is checked
// to be the judged file (inode, and modification time when judged by it); anything else, and the
// claim is dropped without having touched the name. Only a claimant removes the name, and only
// while it still names the claimed file. The claim also pins the inode, so "still names" is exact.
// Where the kernel refuses that link (Linux's fs.protected_hardlinks, another user's file we may
// not write), the claim is a file of its own under the same name, created with O_EXCL: it
// excludes the other claimants just the same, and the name is checked before it is removed.
// docs/protocol.md ("Reclaim") has the argument scenario by scenario, and what it leaves open.
#pragma once

#include "core/duration.h"
#include "os/filesystem.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace buildlock::core {

struct RemovalTarget {
  std::string path;          // the name to remove
  os::FileIdentity identity; // the file it must still name (the caller keeps it open)
  // Its modification time when it was judged by it (a heartbeat since then keeps the lock).
  std::optional<std::int64_t> mtime_ns;
  // A claim whose file has not changed status for longer than this (on the filesystem's clock,
  // `now_ns`) was abandoned by a remover killed mid-way, and may be dropped. Without `now_ns`
  // claims are never dropped.
  Seconds stale_after{120};
  std::optional<std::int64_t> now_ns;
  // Without `now_ns`: the lock directory whose clock is read (a probe file) only when a claim is
  // in the way, so that a removal that meets none costs no probe.
  std::optional<std::string> clock_directory;
  // The remover holds the target's exclusive kernel lock, and the target names this kernel as
  // one whose kernel lock its users take: every remover of it on this kernel holds that lock
  // while its claim exists, so a claim found now was left by a remover that died mid-way, and is
  // dropped at once instead of after --stale-after (docs/protocol.md, "Claims under the file's
  // kernel lock").
  bool claimants_excluded = false;
};

// `.NAME.<16 hex>.claim` beside `path`: the claim for the file `identity`.
std::string claim_path_for(const std::string& path, const os::FileIdentity& identity);

// Claims the target, removes its name if it still names the claimed file, and drops the claim.
// `put_back`, if given, is asked once the name is gone (the file still claimed): true links it
// back under its name (which never replaces a newer file), and the removal counts as not done.
// (Not asked when the claim had to be a file of its own: there is no second name to link back.)
// Returns whether the name was removed; false when the target changed, is gone, or is claimed by
// someone else (an abandoned claim is dropped then, for the next attempt).
Result<bool> remove_claimed(const RemovalTarget& target,
                            const std::function<bool()>& put_back = {});

} // namespace buildlock::core
