// What a `run` holds while its command runs, and how it lets go.
//
// An exclusive hold is one file, `NAME.lock`, whose exclusive kernel lock we hold. A shared or
// slotted hold is two: the group's anchor `NAME.lock` (a shared kernel lock, held by every member
// of the group at once) and our own holder file `NAME.lock+shared.<hex>` or `NAME.lock+slot.<K>`
// (an exclusive kernel lock). docs/protocol.md describes both.
#pragma once

#include "core/duration.h"
#include "core/messages.h"
#include "core/staleness.h"
#include "os/fd.h"
#include "os/file_lock.h"
#include "os/filesystem.h"

#include <optional>
#include <string>
#include <vector>

namespace buildlock::core {

// Where the files of dead shared holders are removed when a group ends with us, and how its
// members are counted.
struct GroupCleanup {
  std::string directory;
  std::string name;
  Seconds stale_after{120};
  Observer observer;
  bool kernel_locks = true;
};

// One file whose kernel lock this process holds. Move-only; releases on destruction.
class HeldFile {
public:
  // `kernel_lock`: whether `fd` holds a kernel lock of `type` (false without kernel locks).
  HeldFile(os::Fd fd, std::string path, os::FileIdentity identity, os::LockType type,
           bool kernel_lock);
  HeldFile(HeldFile&&) noexcept = default;
  HeldFile& operator=(HeldFile&&) = delete;
  HeldFile(const HeldFile&) = delete;
  HeldFile& operator=(const HeldFile&) = delete;
  ~HeldFile() { release(nullptr); }

  const os::Fd& fd() const { return fd_; }
  const std::string& path() const { return path_; }
  os::FileIdentity identity() const { return identity_; }
  bool holds_kernel_lock() const { return kernel_lock_; }
  // Whether the name still points at our file (nobody broke or reclaimed it).
  bool still_named() const;

  // Makes this file (held shared) our share of the anchor of `group`: leaving it then ends the
  // group if no member is left (see release()).
  void join_group(GroupCleanup group) { group_ = std::move(group); }
  // For a file we hold but did not create (an adopted anchor): failing to refresh it is expected.
  void forgo_heartbeat_warning() { heartbeat_failure_reported_ = true; }

  // Refreshes the file's mtime: proof of life for observers that cannot see our pid. Warns once
  // if that fails, since observers on other hosts may then judge the lock stale; except for a
  // group's anchor, which only its creator can refresh (with umask 022 the others may not), and
  // which everybody who cannot see its kernel lock judges by its members' own files.
  void heartbeat(const Messages& messages);

  // Exclusive: removes the name (if it still points at our file: otherwise someone broke the
  // lock, which is reported), then drops the kernel lock for every inherited copy.
  // Shared (a group anchor): drops our share; the last member to leave (the one that then gets
  // the kernel lock exclusively, or without kernel locks any member that finds no other) removes
  // the name, but only if no member's holder file is alive: a member that holds no kernel lock
  // on the anchor (--kernel-locks off, another host) is still counted. Returns true when this call
  // removed the name. Idempotent.
  bool release(const Messages* messages);

private:
  bool leave_group();

  os::Fd fd_;
  std::string path_;
  os::FileIdentity identity_;
  os::LockType type_;
  bool kernel_lock_;
  bool heartbeat_failure_reported_ = false;
  std::optional<GroupCleanup> group_;
};

// A lock held by this process: exclusive, shared or one slot.
class HeldLock {
public:
  explicit HeldLock(HeldFile own);
  HeldLock(HeldFile anchor, HeldFile own, GroupCleanup cleanup);
  HeldLock(HeldLock&&) noexcept = default;
  HeldLock& operator=(HeldLock&&) = delete;
  HeldLock(const HeldLock&) = delete;
  HeldLock& operator=(const HeldLock&) = delete;
  ~HeldLock() { release(nullptr); }

  // The file that identifies this hold (BUILDLOCK_HELD names it): the lock file of an exclusive
  // hold, our holder file of a shared or slotted one.
  const HeldFile& own() const { return own_; }
  // Every descriptor the command must inherit so that the hold lives as long as it does.
  std::vector<os::NativeHandle> descriptors() const;

  // Refreshes every file of the hold. Returns false once the hold is lost: a file was removed or
  // replaced by someone else (`break`, or a reclaim after this process was frozen too long).
  bool heartbeat(const Messages& messages);
  // Our own file first, then the anchor, so that the group never looks empty while we are in.
  void release(const Messages* messages);

private:
  std::optional<HeldFile> anchor_;
  HeldFile own_;
  GroupCleanup cleanup_;
  bool loss_reported_ = false;
};

} // namespace buildlock::core
