// The lock directory: where it is, and making sure it can be used.
#pragma once

#include "core/messages.h"
#include "os/result.h"

#include <optional>
#include <string>

namespace buildlock::core {

// DIR from --dir, else $BUILDLOCK_DIR, else the per-user default:
// $XDG_CACHE_HOME/buildlock, else $HOME/.cache/buildlock; on Windows %LOCALAPPDATA%\\buildlock
// (os::user_cache_directory). (Not /tmp: a shared directory there
// could be pre-created by another user.)
Result<std::string> resolve_lock_directory(const std::optional<std::string>& from_option);

// An error about the lock directory, whatever its cause (a missing parent, no permission, a
// read-only or pseudo filesystem, an I/O error): it names the directory and the one next step all
// of them share, and always exits 74 (ErrorKind::lock_directory), so that scripts can tell "this
// directory cannot hold locks" from every other failure.
Error lock_directory_error(const std::string& directory, Error cause);

// Creates the directory if missing (like mkdir -p) and checks that it is a directory. Warns
// when anyone may delete anyone's locks in it (world-writable without the sticky bit).
Status prepare_lock_directory(const std::string& directory, const Messages& messages);

// The permission bits every file buildlock creates in a directory of mode `directory_mode` gets
// on top of 0666 minus the umask: read and write for each class of users that may write the
// directory (group: 0060, others: 0006), none in a sticky directory. A claim is a hard link, and
// Linux's fs.protected_hardlinks lets a user link only a file it may read and write (or owns):
// with umask 022 in a 2770 group directory, every other member of the group could neither claim
// nor so reclaim a lock of ours (docs/protocol.md, "Claims and protected hard links"). They may
// remove and replace our files there anyway; writing one gives them nothing more. In a sticky
// directory they may not remove our files, so a claim would gain them nothing.
std::uint32_t permissions_for_directory_users(std::uint32_t directory_mode);

} // namespace buildlock::core
