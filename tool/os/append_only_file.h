// A file that any number of processes append whole lines to at once: the trace of `run --trace`
// (core/run_trace.h). Each append is one write() to a descriptor opened with O_APPEND: on a
// local filesystem the kernel moves to the end and writes under the inode's lock, so lines of
// concurrent writers never mix (NFS emulates O_APPEND on the client: there they can).
#pragma once

#include "os/fd.h"
#include "os/result.h"

#include <string>
#include <string_view>

namespace buildlock::os {

// Opens the existing file `path` (links followed: the user names it) for appending only. POSIX:
// O_WRONLY | O_APPEND; Windows: FILE_APPEND_DATA, which appends atomically too. A missing file
// is an error (ErrorKind::system); callers create it complete first (core/run_trace.cpp).
Result<Fd> open_for_appending(const std::string& path);

// Appends `data` with one write() (WriteFile). A short write (a full disk) is an error: it is
// never continued, since another writer's line may already follow the part that was written.
Status append_whole(const Fd& fd, std::string_view data);

} // namespace buildlock::os
