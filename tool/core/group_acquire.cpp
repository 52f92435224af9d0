#include "core/group_acquire.h"

#include "core/claimed_removal.h"
#include "core/lock_listing.h"
#include "core/lock_name.h"
#include "os/any_release.h"
#include "os/file_lock.h"

#include <algorithm>

namespace buildlock::core {
namespace {

using namespace std::chrono_literals;

std::string held_as(const LockMetadata& metadata) {
  switch (metadata.mode) {
  case LockMode::exclusive:
    return "exclusively";
  case LockMode::shared:
    return "shared (--shared)";
  case LockMode::slots:
    return "with --slots " + std::to_string(metadata.slots);
  }
  return "";
}

std::string asked_as(const AcquireRequest& request) {
  switch (request.mode) {
  case LockMode::exclusive:
    return "exclusive use";
  case LockMode::shared:
    return "--shared";
  case LockMode::slots:
    return "--slots " + std::to_string(request.slots);
  }
  return "";
}

// Exclusive and shared holds of one lock are a reader/writer pair; slots only go with the same
// slot count.
bool can_share(const LockMetadata& held, const AcquireRequest& request) {
  if (held.mode == LockMode::slots || request.mode == LockMode::slots) {
    return held.mode == request.mode && held.slots == request.slots;
  }
  return true;
}

} // namespace

Status wait_while_writer_queued(AcquireContext& context) {
  const AcquireRequest& request = context.request;
  const std::string path = writer_path(request);
  for (;;) {
    const os::TimePoint looked_at = os::monotonic_now();
    auto inspected =
        inspect_lock_file(path, context.observer, request.stale_after, context.filesystem_now(),
                          context.budget.wants_details(looked_at), context.kernel_locks);
    if (!inspected) {
      return inspected.error();
    }
    LockInspection& writer = *inspected;
    if (!writer.exists()) {
      return ok_status();
    }
    if (!writer.is_lock_file()) {
      return not_a_lock_file(writer);
    }
    if (writer.verdict.state == LockState::stale) {
      if (auto reclaimed = reclaim(context, writer, "exclusive request of " + what_of(request));
          !reclaimed) {
        return reclaimed.error();
      }
      continue;
    }
    const std::string whom = what_of(request) + ", queued behind an exclusive request of " +
                             writer.describe_holder() + " (" + writer.verdict.explanation + ")";
    context.messages.explain("waiting for " + whom);
    if (auto within = context.budget.check(looked_at, whom, context.messages, held_by(writer));
        !within) {
      return within.error();
    }
    if (auto woke = sleep_on(context, writer, os::LockType::exclusive); !woke) {
      return woke.error();
    }
  }
}

namespace {

// Joins the group whose anchor `holder` inspected: our own shared kernel lock, then a check that
// the name still points at the file we locked (a group that ended removed it under an exclusive
// lock we would have seen). Nothing when the group ended or is ending.
Result<std::optional<HeldFile>> join_with_share(LockInspection& holder, const std::string& path) {
  auto joined = os::try_lock(holder.fd, os::LockType::shared);
  if (!joined) {
    return joined.error();
  }
  if (*joined == os::LockAttempt::acquired) {
    auto current = os::lstat_entry(path);
    if (current && current->type == os::EntryType::regular &&
        current->identity == holder.entry.identity) {
      return std::optional<HeldFile>(
          HeldFile(std::move(holder.fd), path, holder.entry.identity, os::LockType::shared, true));
    }
  }
  return std::optional<HeldFile>();
}

// Joins the group at NAME.lock (holding its kernel lock shared), or starts it.
Result<HeldFile> join_anchor(AcquireContext& context) {
  const AcquireRequest& request = context.request;
  const std::string path = lock_path(request);
  const LockMetadata metadata = my_metadata(request, request.mode, request.slots);
  // After a reclaim that removed nothing (and paused): a name that still stands is looked at
  // again without a temporary file that could only fail to get it.
  bool look_before_creating = false;
  for (;;) {
    std::optional<std::int64_t> filesystem_now_ns;
    if (look_before_creating) {
      look_before_creating = false;
      if (auto current = os::lstat_entry(path);
          current && current->type != os::EntryType::missing) {
        filesystem_now_ns = context.filesystem_now();
      }
    }
    if (!filesystem_now_ns) {
      auto created = try_create(context, path, metadata, os::LockType::shared, false);
      if (!created) {
        return created.error();
      }
      if (created->file) {
        return std::move(*created->file);
      }
      if (created->retry) {
        continue;
      }
      filesystem_now_ns = created->filesystem_now_ns;
    }
    const os::TimePoint looked_at = os::monotonic_now();
    // A slotted run must know who holds the lock exclusively, to refuse rather than wait.
    const bool details = request.mode == LockMode::slots || context.budget.wants_details(looked_at);
    auto inspected = inspect_lock_file(path, context.observer, request.stale_after,
                                       filesystem_now_ns, details, context.kernel_locks);
    if (!inspected) {
      return inspected.error();
    }
    LockInspection& holder = *inspected;
    if (!holder.exists()) {
      continue;
    }
    if (!holder.is_lock_file()) {
      return not_a_lock_file(holder);
    }
    if (holder.verdict.state == LockState::stale) {
      if (auto reclaimed = reclaim_lock_file(context, holder); !reclaimed) {
        if (holder.metadata && can_share(*holder.metadata, request)) {
          if (auto adopted =
                  adopt_unremovable_anchor(holder, reclaimed.error(), os::LockType::shared)) {
            return std::move(*adopted);
          }
        }
        return reclaimed.error();
      } else {
        look_before_creating = !*reclaimed;
      }
      continue;
    }
    bool join = false; // with our own share of the anchor's kernel lock
    if (holder.beacon != Beacon::held && holder.metadata) {
      // A group whose anchor's kernel lock nobody holds (no kernel locks, or a group of members
      // without them or of another host) is joined by adding a member file (acquire_in_group checks
      // afterwards that this anchor still stands); an exclusive holder is waited for.
      if (!can_share(*holder.metadata, request)) {
        return mode_conflict(request, holder);
      }
      if (holder.metadata->mode != LockMode::exclusive) {
        // Join with a share of its kernel lock when our inspection holds it exclusively (so that
        // members and writers on our kernel see us), and when it is an anchor we may not write,
        // on NFS (its members hold it shared, and so must we, a share needs only reading, or the
        // last of them would remove it under us); otherwise by our member file alone.
        join = holder.beacon == Beacon::free || holder.exclusive_lock_untestable;
        if (!join) {
          return HeldFile(std::move(holder.fd), path, holder.entry.identity, os::LockType::shared,
                          false);
        }
      }
    }
    bool unreadable_group = false;
    if (holder.beacon == Beacon::held) {
      auto group = held_by_group(holder);
      if (!group) {
        return group.error();
      }
      if (holder.metadata && !can_share(*holder.metadata, request)) {
        return mode_conflict(request, holder);
      }
      unreadable_group = *group && !holder.metadata;
      // Join: our own shared kernel lock, then check that the name still points at the file we
      // locked (a group that ended removed it under an exclusive lock we would have seen).
      join = *group && holder.metadata && holder.metadata->mode != LockMode::exclusive;
    }
    if (join) {
      auto joined = join_with_share(holder, path);
      if (!joined) {
        return joined.error();
      }
      if (*joined) {
        return std::move(**joined);
      }
      continue; // ended or ending: look again
    }
    if (context.messages.verbose) {
      context.messages.explain(what_of(request) + " is held by " + holder.describe_holder() + ": " +
                               holder.verdict.explanation + " [" + holder.verdict.reason + "]");
    }
    if (auto within = context.budget.check(looked_at, describe_wait(what_of(request), holder),
                                           context.messages, held_by(holder));
        !within) {
      return within.error();
    }
    // An exclusive holder: sleep until it lets go. A group whose metadata we cannot read (a
    // newer version) cannot be joined, and a shared sleep would return at once (a spin, one
    // temporary file per turn): sleep until its last member has left, as behind a writer.
    if (holder.beacon == Beacon::held &&
        !(holder.metadata && holder.metadata->mode != LockMode::exclusive)) {
      const os::LockType sleep_type =
          unreadable_group ? os::LockType::exclusive : os::LockType::shared;
      if (auto woke = sleep_on(context, holder, sleep_type); !woke) {
        return woke.error();
      }
    } else {
      holder.fd.reset();
      os::sleep_until(
          std::min(context.budget.wake_at(), os::monotonic_now() + context.next_poll()));
    }
  }
}

Result<HeldLock> take_shared_holder_file(AcquireContext& context, HeldFile anchor) {
  const AcquireRequest& request = context.request;
  const LockMetadata metadata = my_metadata(request, LockMode::shared, 0);
  for (;;) {
    const std::string path =
        os::join_path(request.directory, shared_holder_file_name(request.name, random_token()));
    auto created = try_create(context, path, metadata, os::LockType::exclusive, true);
    if (!created) {
      return created.error();
    }
    if (created->file) {
      return HeldLock(std::move(anchor), std::move(*created->file), context.cleanup());
    }
  }
}

std::string describe_slot_holders(const std::vector<LockInspection>& taken) {
  std::string text;
  for (const LockInspection& holder : taken) {
    text += text.empty() ? "" : "; ";
    text += holder.describe_holder();
  }
  return text;
}

// Takes a free slot file (1..N), reclaiming dead holders' slots on the way; when all are held,
// sleeps until any of them is let go.
Result<HeldLock> take_slot(AcquireContext& context, HeldFile anchor) {
  const AcquireRequest& request = context.request;
  const LockMetadata metadata = my_metadata(request, LockMode::slots, request.slots);
  for (;;) {
    const os::TimePoint round_start = os::monotonic_now();
    const bool details = context.budget.wants_details(round_start);
    std::vector<LockInspection> taken;
    for (int slot = 1; slot <= request.slots;) {
      const std::string path = os::join_path(request.directory, slot_file_name(request.name, slot));
      std::optional<std::int64_t> filesystem_now_ns;
      // Most slots a waiter looks at are taken: look first, so that a taken one costs no
      // temporary file.
      if (auto existing = os::lstat_entry(path);
          existing && existing->type != os::EntryType::missing) {
        filesystem_now_ns = context.filesystem_now();
      } else {
        auto created = try_create(context, path, metadata, os::LockType::exclusive, true);
        if (!created) {
          return created.error();
        }
        if (created->file) {
          context.messages.explain("acquired slot " + std::to_string(slot) + " of " +
                                   what_of(request) + " (" + path + ")");
          return HeldLock(std::move(anchor), std::move(*created->file), context.cleanup());
        }
        if (created->retry) {
          continue;
        }
        filesystem_now_ns = created->filesystem_now_ns;
      }
      auto inspected = inspect_lock_file(path, context.observer, request.stale_after,
                                         filesystem_now_ns, details, context.kernel_locks);
      if (!inspected) {
        return inspected.error();
      }
      if (!inspected->exists()) {
        continue; // let go meanwhile: try this slot again
      }
      if (!inspected->is_lock_file()) {
        return not_a_lock_file(*inspected);
      }
      if (inspected->verdict.state == LockState::stale) {
        if (auto reclaimed = reclaim(context, *inspected,
                                     "slot " + std::to_string(slot) + " of " + what_of(request));
            !reclaimed) {
          return reclaimed.error();
        }
        continue;
      }
      if (inspected->beacon != Beacon::held) {
        // Never keep the kernel lock our inspection took to test a slot judged by its pid: we
        // are about to sleep on the others, and another waiter that tested this one would sleep
        // on our lock while we sleep on its (two slots of holders without kernel locks).
        inspected->fd.reset();
      }
      taken.push_back(std::move(*inspected));
      ++slot;
    }

    const std::string whom = "a slot of " + what_of(request) + " (all " +
                             std::to_string(request.slots) +
                             " held: " + describe_slot_holders(taken) + ")";
    context.messages.explain("waiting for " + whom);
    if (request.wait_record != nullptr) {
      for (const LockInspection& holder : taken) { // each slot's holder, for the trace
        request.wait_record->saw_holder(describe_wait(what_of(request), holder), held_by(holder));
      }
    }
    // The first slot's holder as the one this wait is behind: the trace has every slot's above.
    if (auto within = context.budget.check(round_start, whom, context.messages,
                                           taken.empty() ? nullptr : held_by(taken.front()));
        !within) {
      return within.error();
    }
    std::vector<const os::Fd*> watched;
    os::TimePoint wake_at = context.budget.wake_at();
    for (const LockInspection& holder : taken) {
      if (holder.beacon == Beacon::held) {
        watched.push_back(&holder.fd);
      } else {
        wake_at = std::min(wake_at, os::monotonic_now() + context.next_poll());
      }
    }
    if (watched.empty()) {
      os::sleep_until(wake_at);
      continue;
    }
    if (auto woke = os::wait_for_any_release(watched, wake_at); !woke) {
      return woke.error();
    }
  }
}

} // namespace

Result<bool> held_by_group(LockInspection& holder) {
  if (holder.beacon != Beacon::held) {
    return holder.metadata && holder.metadata->mode != LockMode::exclusive;
  }
  auto shared = os::try_lock(holder.fd, os::LockType::shared);
  if (!shared) {
    return shared.error();
  }
  if (*shared != os::LockAttempt::acquired) {
    return false;
  }
  if (!holder.metadata) {
    read_metadata(holder);
  }
  // Never keep a share taken only to look: the group's last member could not end it.
  os::unlock(holder.fd);
  // An exclusive holder's file that we could share was let go since it was judged held: no
  // group (an anchor's metadata never says exclusive). Calling it one made exclusive runs queue
  // as writers behind a lock nobody held any more (seen in the chaos suite's exclusive variant).
  return !(holder.metadata && holder.metadata->mode == LockMode::exclusive);
}

Error mode_conflict(const AcquireRequest& request, const LockInspection& holder) {
  return Error{ErrorKind::mode_conflict, what_of(request) + " is held " +
                                             held_as(*holder.metadata) + " by " +
                                             holder.describe_holder() + "; this run asks for " +
                                             asked_as(request) + mode_conflict_rule};
}

Result<HeldLock> acquire_in_group(AcquireContext& context) {
  const AcquireRequest& request = context.request;
  for (;;) {
    if (request.mode == LockMode::shared) {
      if (auto waited = wait_while_writer_queued(context); !waited) {
        return waited.error();
      }
    }
    auto anchor = join_anchor(context);
    if (!anchor) {
      return anchor.error();
    }
    anchor->join_group(context.cleanup());
    const std::string anchor_path = anchor->path();
    const os::FileIdentity anchor_identity = anchor->identity();
    auto held = request.mode == LockMode::shared
                    ? take_shared_holder_file(context, std::move(*anchor))
                    : take_slot(context, std::move(*anchor));
    if (!held) {
      return held;
    }
    // Members that hold no kernel lock on the anchor (without kernel locks, or of another host)
    // are kept in by their holder files: the group's last member removes the anchor only after
    // counting them (HeldFile::leave_group). So the anchor must still be the one we joined now
    // that our file exists, or the group ended while we joined: then leave and start again.
    auto current = os::lstat_entry(anchor_path);
    if (current &&
        !(current->type == os::EntryType::regular && current->identity == anchor_identity)) {
      held->release(nullptr);
      // Not a holder any more: a signal that came meanwhile (recorded) ends us now, and later
      // ones again end the wait at once.
      resume_waiting(context);
      continue;
    }
    context.messages.explain("acquired " + what_of(request) + " " +
                             std::string(mode_name(request.mode)) + " (" + held->own().path() +
                             ")");
    return held;
  }
}

} // namespace buildlock::core
