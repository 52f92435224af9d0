#include "core/held_lock.h"

#include "core/group_acquire.h"
#include "os/signals.h"

namespace buildlock::core {

HeldFile::HeldFile(os::Fd fd, std::string path, os::FileIdentity identity, os::LockType type)
    : fd_(std::move(fd)), path_(std::move(path)), identity_(identity), type_(type) {}

void HeldFile::heartbeat(const Messages& messages) {
  if (!fd_) {
    return;
  }
  if (auto touched = os::touch(fd_); !touched && !heartbeat_failure_reported_) {
    heartbeat_failure_reported_ = true;
    messages.warning("cannot refresh lock `" + path_ + "` (" + touched.error().message +
                     "); observers on other hosts may judge it stale after --stale-after");
  }
}

bool HeldFile::release(const Messages* messages) {
  if (!fd_) {
    return false;
  }
  os::DeferSignals defer;
  if (type_ == os::LockType::shared) {
    return leave_group_anchor();
  }
  bool removed = false;
  auto current = os::lstat_entry(path_);
  if (current && current->type == os::EntryType::regular && current->identity == identity_) {
    removed = os::remove_file(path_).ok();
  } else if (messages != nullptr) {
    messages->warning("lock `" + path_ +
                      "` was removed or replaced by someone else while this process held it");
  }
  os::unlock(fd_);
  fd_.reset();
  return removed;
}

bool HeldFile::leave_group_anchor() {
  // Drop our share (for every inherited copy too), then see whether anyone else still holds
  // one: whoever gets the exclusive lock is the last to leave and removes the name, under that
  // lock and only if the name still points at this file, like any reclaim. A member joining at
  // this instant either sees our exclusive lock (and waits, then finds the name gone) or holds
  // its share before we try (and we leave the anchor to it).
  os::unlock(fd_);
  bool removed = false;
  auto attempt = os::try_lock(fd_, os::LockType::exclusive);
  if (attempt && *attempt == os::LockAttempt::acquired) {
    auto current = os::lstat_entry(path_);
    if (current && current->type == os::EntryType::regular && current->identity == identity_) {
      removed = os::remove_file(path_).ok();
    }
    os::unlock(fd_);
  }
  fd_.reset();
  return removed;
}

HeldLock::HeldLock(HeldFile own) : own_(std::move(own)) {}

HeldLock::HeldLock(HeldFile anchor, HeldFile own, GroupCleanup cleanup)
    : anchor_(std::move(anchor)), own_(std::move(own)), cleanup_(std::move(cleanup)) {}

std::vector<int> HeldLock::descriptors() const {
  std::vector<int> fds{own_.fd().get()};
  if (anchor_) {
    fds.push_back(anchor_->fd().get());
  }
  return fds;
}

void HeldLock::heartbeat(const Messages& messages) {
  own_.heartbeat(messages);
  if (anchor_) {
    anchor_->heartbeat(messages);
  }
}

void HeldLock::release(const Messages* messages) {
  own_.release(messages);
  if (anchor_ && anchor_->release(messages)) {
    // The group ended with us: files of members that died meanwhile are garbage now.
    sweep_dead_shared_holders(cleanup_, messages);
  }
}

} // namespace buildlock::core
