// Crafted lock files: what a holder that died, a previous boot, another host or a broken writer
// would have left in a lock directory, and facts about this machine to craft them with.
//
// The JSON is written here independently of tool/core/metadata.cpp, following the on-disk
// protocol (docs/): a change of the format that breaks old lock files then fails these tests.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace buildlock::test {

using WallClock = std::chrono::system_clock;

// The metadata fields of protocol versions 1 and 2. Optional fields left empty are written as
// null; `slots` is written only when set (version 2, mode "slots").
struct HolderMetadata {
  std::string format = "buildlock";
  int version = 1;
  std::string mode = "exclusive";
  std::optional<int> slots;
  std::int64_t pid = 0;
  std::optional<std::uint64_t> start_time;
  std::string boot_id;
  std::string pid_namespace;
  std::string host;
  std::string user;
  std::optional<std::int64_t> uid;
  std::vector<std::string> command;
  std::string acquired_at; // ISO 8601 UTC
};

// Metadata as buildlock on this machine would write it for process `pid` (its real start time,
// this boot, this PID namespace, this host, this user).
HolderMetadata metadata_for_local_process(pid_t pid);
std::string to_json(const HolderMetadata& metadata);

// Facts about this machine.
std::string this_boot_id();
std::string this_pid_namespace();
std::string this_host_name();
// /proc/PID/stat field 22 (clock ticks since boot), nullopt when the process is gone.
std::optional<std::uint64_t> process_start_time(pid_t pid);
// Now minus /proc/uptime.
WallClock::time_point boot_time();
// A boot id that is not this boot's.
std::string other_boot_id();

// A pid that certainly belonged to a process that has exited: a child started and reaped here.
pid_t reaped_pid();

// Writes `bytes` to `path` (created or replaced), then sets its mtime to `mtime` if given.
void write_file(const std::string& path, const std::string& bytes);
void write_lock_file(const std::string& path, const std::string& bytes,
                     std::optional<WallClock::time_point> mtime = std::nullopt);
void set_mtime(const std::string& path, WallClock::time_point mtime);
WallClock::time_point mtime_of(const std::string& path);

// Version-2 metadata of a shared holder or anchor ("mode":"shared"), or of a slotted one
// ("mode":"slots","slots":N).
HolderMetadata as_shared(HolderMetadata metadata);
HolderMetadata as_slots(HolderMetadata metadata, int slots);

// A kernel lock (flock(2)) that this test process holds on `path` while the object lives: a live
// holder's open lock file as other processes see it. Shared (LOCK_SH) is how every member of a
// shared or slotted lock holds its `NAME.lock`; exclusive is how any holder holds its own file.
class HeldFileLock {
public:
  enum class Mode { exclusive, shared };
  HeldFileLock(const std::string& path, Mode mode);
  ~HeldFileLock();
  HeldFileLock(const HeldFileLock&) = delete;
  HeldFileLock& operator=(const HeldFileLock&) = delete;

  // Drops the kernel lock (closes the file), as a holder's death would.
  void release();

private:
  int fd_ = -1;
};

// The names in a directory, sorted, without "." and "..".
std::vector<std::string> directory_entries(const std::string& path);
bool exists_no_follow(const std::string& path);

} // namespace buildlock::test
