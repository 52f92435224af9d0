#include "core/held_lock.h"

#include "core/group_end.h"
#include "core/lock_listing.h"
#include "core/probe.h"
#include "os/clock.h"
#include "os/signals.h"

namespace buildlock::core {

HeldFile::HeldFile(os::Fd fd, std::string path, os::FileIdentity identity, os::LockType type,
                   bool kernel_lock)
    : fd_(std::move(fd)), path_(std::move(path)), identity_(identity), type_(type),
      kernel_lock_(kernel_lock) {}

bool HeldFile::still_named() const {
  auto named = [this] {
    auto current = os::lstat_entry(path_);
    // An error looking is not proof of loss (a network filesystem hiccup): only another answer.
    return !current || (current->type == os::EntryType::regular && current->identity == identity_);
  };
  if (named()) {
    return true;
  }
  // Without kernel locks, the last member leaving a group removes the anchor for an instant while
  // it counts the members, and puts it back when it finds one: look once more before calling the
  // lock lost.
  os::sleep_until(os::monotonic_now() + std::chrono::milliseconds(20));
  return named();
}

void HeldFile::heartbeat(const Messages& messages) {
  if (!fd_) {
    return;
  }
  if (auto touched = os::touch(fd_);
      !touched && !heartbeat_failure_reported_ && type_ != os::LockType::shared) {
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
    return leave_group();
  }
  bool removed = false;
  auto current = os::lstat_entry(path_);
  if (current && current->type == os::EntryType::regular && current->identity == identity_) {
    removed = os::remove_file(path_).ok();
  } else if (messages != nullptr) {
    messages->warning("lock `" + path_ +
                      "` was removed or replaced by someone else while this process held it");
  }
  if (kernel_lock_) {
    os::unlock(fd_); // never call flock without kernel locks: on some mounts it hangs
  }
  fd_.reset();
  return removed;
}

bool HeldFile::leave_group() {
  // With a kernel lock: drop our share (for every inherited copy too), then see whether anyone
  // else still holds one: whoever gets the exclusive lock is the last of the members that hold
  // one. A member joining at this instant either sees our exclusive lock (and waits, then finds
  // the name gone) or holds its share before we try (and we leave the anchor to it).
  bool last = true;
  if (kernel_lock_) {
    os::unlock(fd_);
    auto attempt = os::try_lock(fd_, os::LockType::exclusive);
    last = attempt && *attempt == os::LockAttempt::acquired;
  }
  bool removed = false;
  if (last && group_ && still_named() &&
      live_group_members(group_->directory, group_->name, group_->observer, group_->stale_after,
                         group_->kernel_locks, read_filesystem_clock(group_->directory))
              .alive == 0) {
    // Members without a kernel lock on the anchor (--kernel-locks off, another host) are counted
    // by their holder files, in every mode. Failing to move it (a sticky directory, and we are
    // not its creator) leaves an empty anchor that the next run takes over.
    auto ended = remove_group_anchor_if_empty(path_, identity_, *group_);
    removed = ended && *ended;
  }
  if (kernel_lock_) {
    os::unlock(fd_);
  }
  fd_.reset();
  return removed;
}

HeldLock::HeldLock(HeldFile own) : own_(std::move(own)) {}

HeldLock::HeldLock(HeldFile anchor, HeldFile own, GroupCleanup cleanup)
    : anchor_(std::move(anchor)), own_(std::move(own)), cleanup_(std::move(cleanup)) {}

std::vector<os::NativeHandle> HeldLock::descriptors() const {
  std::vector<os::NativeHandle> fds{own_.fd().get()};
  if (anchor_) {
    fds.push_back(anchor_->fd().get());
  }
  return fds;
}

bool HeldLock::heartbeat(const Messages& messages) {
  own_.heartbeat(messages);
  if (anchor_) {
    anchor_->heartbeat(messages);
  }
  const bool held = own_.still_named() && (!anchor_ || anchor_->still_named());
  if (!held) {
    loss_reported_ = true; // the caller says it, loudly and once; release need not repeat it
  }
  return held;
}

void HeldLock::release(const Messages* messages) {
  const Messages* say = loss_reported_ ? nullptr : messages;
  own_.release(say);
  if (anchor_ && anchor_->release(say)) {
    // The group ended with us: files of members that died meanwhile are garbage now.
    sweep_dead_shared_holders(cleanup_, messages);
  }
}

} // namespace buildlock::core
