// Taking and releasing an exclusive lock: the protocol of docs/protocol.md.
//
//   create  `.NAME.<random>.tmp` with complete metadata, flock it, link() it to `NAME.lock`
//           (fails if the name exists), unlink the temporary name. The lock never exists
//           without metadata and a held kernel lock.
//   wait    on the holder's kernel lock (the kernel wakes us on release), or until an age-judged
//           lock expires.
//   reclaim a stale lock only while holding its kernel lock and only if the name still points
//           at the inspected file (core/probe.h).
//   release remove the name (if still ours), then unlock (also for every inherited copy), close.
#pragma once

#include "core/duration.h"
#include "core/messages.h"
#include "os/fd.h"
#include "os/filesystem.h"
#include "os/signals.h"

#include <optional>
#include <string>
#include <vector>

namespace buildlock::core {

struct AcquireRequest {
  std::string directory;
  std::string name;
  std::vector<std::string> command; // recorded in the metadata, for people
  std::optional<Seconds> timeout;   // nullopt: wait forever; 0: try once
  Seconds stale_after{120};
};

// An exclusive lock held by this process. Move-only; releases on destruction.
class HeldLock {
public:
  HeldLock(os::Fd fd, std::string path, os::FileIdentity identity);
  HeldLock(HeldLock&&) noexcept = default;
  HeldLock& operator=(HeldLock&&) = delete;
  HeldLock(const HeldLock&) = delete;
  HeldLock& operator=(const HeldLock&) = delete;
  ~HeldLock() { release(nullptr); }

  const os::Fd& fd() const { return fd_; }
  const std::string& path() const { return path_; }
  os::FileIdentity identity() const { return identity_; }

  // Refreshes the lock file's mtime: proof of life for observers that cannot see our pid. Warns
  // once if that fails, since observers on other hosts may then judge the lock stale.
  void heartbeat(const Messages& messages);
  // Removes the lock file (if the name still points at our file: otherwise someone broke the
  // lock, which is reported), then drops the kernel lock for every inherited copy. Idempotent.
  void release(const Messages* messages);

private:
  os::Fd fd_;
  std::string path_;
  os::FileIdentity identity_;
  bool heartbeat_failure_reported_ = false;
};

// Waits for and takes the lock. Expects `signals` in TerminationMode::die (waiting can be
// abandoned at any moment); returns with it in TerminationMode::record, so that from the moment
// the lock exists a signal is recorded instead of killing the holder.
// Errors: ErrorKind::timeout (message names the holder), lock_directory, system.
Result<HeldLock> acquire(const AcquireRequest& request, os::SignalHandling& signals,
                         const Messages& messages);

} // namespace buildlock::core
