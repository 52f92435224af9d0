// Reading /proc/locks: which processes are parked in flock(2) on which file. This is how the
// benchmark knows, as an event and not a guess, that a waiter is really waiting.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <sys/types.h>

namespace buildlock::bench {

// A file as /proc/locks names it: device major:minor and inode.
struct FileKey {
  unsigned major = 0;
  unsigned minor = 0;
  std::uint64_t inode = 0;
  bool operator==(const FileKey&) const = default;
};

// The key of the file `path` names now; nullopt if it does not exist.
std::optional<FileKey> file_key(const std::string& path);

// Processes blocked in flock(2) (lines with "->") on `file`.
int count_blocked_waiters(const FileKey& file);

// Processes (open files, exactly) holding a flock(2) lock on `file`, shared or exclusive.
int count_holders(const FileKey& file);

// True when `pid` is blocked in flock(2) on any file.
bool is_blocked_in_flock(pid_t pid);

} // namespace buildlock::bench
