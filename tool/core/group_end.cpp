#include "core/group_end.h"

#include "core/claimed_removal.h"
#include "core/lock_listing.h"
#include "core/lock_name.h"
#include "os/file_lock.h"

#include <algorithm>

namespace buildlock::core {

Result<bool> reclaim_lock_file(AcquireContext& context, const LockInspection& holder) {
  if (!holder.metadata || holder.metadata->mode == LockMode::exclusive) {
    return reclaim(context, holder, what_of(context.request));
  }
  // An ended group's anchor, removed quietly: not by its kernel lock alone (members without
  // kernel locks hold none), but counting the members again once its name is removed.
  Result<bool> removed = false;
  {
    os::DeferSignals defer;
    removed = remove_inspected_anchor(holder, context.cleanup());
  }
  if (!removed) {
    return std::move(removed.error())
        .with("cannot reclaim stale lock `" + context.request.name + "`");
  }
  if (*removed) {
    sweep_dead_shared_holders(context.cleanup(), &context.messages);
  } else if (auto paused = pause_after_unremoved(context, holder, true); !paused) {
    return paused.error();
  }
  return removed;
}

Result<bool> remove_group_anchor_if_empty(const std::string& path, os::FileIdentity identity,
                                          const GroupCleanup& cleanup, bool claimants_excluded) {
  // Claimed first, so that only our own anchor is ever removed, never a lock that replaced it
  // (claimed_removal.h). The name is gone while the members are counted once more: a member that
  // joins now checks the anchor after creating its file, so either it finds the name gone (and
  // starts again) or we count it (and put the anchor back; if a new lock took the name meanwhile,
  // that lock's creator waits for the members it finds: wait_until_no_group_members).
  // With the filesystem's clock, so that a claim abandoned by a remover killed mid-way ages out
  // after --stale-after (without it, none ever would: every later run waited for good).
  return remove_claimed(RemovalTarget{path, identity, std::nullopt, cleanup.stale_after,
                                      std::nullopt, cleanup.directory, claimants_excluded},
                        [&cleanup] {
                          return live_group_members(cleanup.directory, cleanup.name,
                                                    cleanup.observer, cleanup.stale_after,
                                                    cleanup.kernel_locks,
                                                    read_filesystem_clock(cleanup.directory))
                                     .alive > 0;
                        });
}

Result<bool> remove_judged_stale(const LockInspection& inspection, const Observer& observer,
                                 Seconds stale_after, bool kernel_locks) {
  const auto [directory, file_name] = os::split_path(inspection.path);
  const auto name = lock_name_of_lock_file(file_name);
  if (!name || !inspection.fd || inspection.beacon == Beacon::held || !inspection.metadata ||
      inspection.metadata->mode == LockMode::exclusive) {
    return remove_inspected(inspection);
  }
  os::DeferSignals defer;
  return remove_inspected_anchor(
      inspection, GroupCleanup{directory, *name, stale_after, observer, kernel_locks});
}

Result<bool> remove_inspected_anchor(const LockInspection& inspection,
                                     const GroupCleanup& cleanup) {
  const bool under_exclusive_lock =
      inspection.beacon == Beacon::free && inspection.kernel_lock_excludes_reclaimers;
  bool shared = false;
  if (inspection.exclusive_lock_untestable && inspection.fd) {
    auto attempt = os::try_lock(inspection.fd, os::LockType::shared);
    if (!attempt || *attempt != os::LockAttempt::acquired) {
      return false; // an exclusive holder: not ours to remove now
    }
    shared = true;
  }
  auto removed = remove_group_anchor_if_empty(inspection.path, inspection.entry.identity, cleanup,
                                              under_exclusive_lock);
  if (shared) {
    os::unlock(inspection.fd);
  }
  return removed;
}

void sweep_dead_shared_holders(const GroupCleanup& cleanup, const Messages* messages) {
  auto names = os::list_directory(cleanup.directory);
  if (!names) {
    return;
  }
  // Ages on the filesystem's clock: this host's may be minutes off the file server's.
  const std::optional<std::int64_t> filesystem_now_ns = read_filesystem_clock(cleanup.directory);
  for (const std::string& name : *names) {
    auto holder_file = parse_holder_file_name(name);
    if (!holder_file || holder_file->kind != HolderFileKind::shared ||
        holder_file->lock_name != cleanup.name) {
      continue;
    }
    auto inspected =
        inspect_lock_file(os::join_path(cleanup.directory, name), cleanup.observer,
                          cleanup.stale_after, filesystem_now_ns, true, cleanup.kernel_locks);
    if (!inspected || !inspected->is_lock_file() || inspected->verdict.state != LockState::stale) {
      continue;
    }
    (void)remove_stale(*inspected, "shared hold of lock `" + cleanup.name + "`", messages);
  }
}

std::optional<HeldFile> adopt_unremovable_anchor(LockInspection& holder, const Error& removal_error,
                                                 os::LockType type) {
  if (removal_error.kind != ErrorKind::lock_directory || holder.beacon != Beacon::free ||
      !holder.kernel_lock_excludes_reclaimers || !holder.metadata ||
      holder.metadata->mode == LockMode::exclusive) {
    return std::nullopt;
  }
  if (type == os::LockType::shared) {
    // flock converts by unlocking first: someone may get in between, and then we are no member.
    auto shared = os::try_lock(holder.fd, os::LockType::shared);
    if (!shared || *shared != os::LockAttempt::acquired) {
      return std::nullopt;
    }
  }
  // The name can only have moved under the exclusive lock we held, or by someone who could
  // remove it: look once more.
  auto current = os::lstat_entry(holder.path);
  if (!current || current->type != os::EntryType::regular ||
      !(current->identity == holder.entry.identity)) {
    return std::nullopt;
  }
  HeldFile adopted(std::move(holder.fd), holder.path, holder.entry.identity, type, true);
  adopted.forgo_heartbeat_warning(); // not ours: we may not be able to refresh it
  return adopted;
}

Result<int> wait_until_no_group_members(AcquireContext& context, HeldFile& held) {
  const AcquireRequest& request = context.request;
  // As often as a holder refreshes its lock (stale-after / 4, never more often than every 50 ms).
  const auto refresh_interval = std::chrono::duration_cast<os::MonotonicClock::duration>(
      std::max<Seconds>(request.stale_after / 4, std::chrono::milliseconds(50)));
  os::TimePoint next_refresh = os::monotonic_now() + refresh_interval;
  for (;;) {
    const GroupMembers members =
        live_group_members(request.directory, request.name, context.observer, request.stale_after,
                           context.kernel_locks, context.filesystem_now());
    if (members.alive == 0) {
      return 0;
    }
    os::TimePoint now = os::monotonic_now();
    if (now >= next_refresh) {
      held.heartbeat(context.messages);
      next_refresh = now + refresh_interval;
    }
    const std::string whom = "the last members of a group of " + what_of(request) + " to leave (" +
                             members.example + ")";
    context.messages.explain("waiting for " + whom);
    if (auto within = context.budget.check(now, whom, context.messages); !within) {
      return within.error();
    }
    // We hold NAME.lock already, so signals are recorded, not fatal: wait for them too, and
    // hand the first one back for the caller to release and die by.
    context.signals.wait_for_signal(
        std::min({context.budget.wake_at(), now + context.next_poll(), next_refresh}));
    if (const auto received = context.signals.take_signals(); !received.empty()) {
      return received.front().number;
    }
  }
}

} // namespace buildlock::core
