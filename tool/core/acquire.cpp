#include "core/acquire.h"

#include "core/acquire_steps.h"
#include "core/duration.h"
#include "core/group_acquire.h"
#include "core/lock_name.h"
#include "os/file_lock.h"

namespace buildlock::core {
namespace {

using namespace std::chrono_literals;

// A waiter that nothing can wake (its holder has no kernel lock it can sleep on: `--kernel-locks
// off`, another host) and has waited this long takes its turn, `NAME.lock+writer`: every other
// run waits for it before it creates NAME.lock. Without a turn, a poller loses every handoff to
// the runs the kernel wakes at once and to a holder's next run, which comes back within
// milliseconds (a build's wrapped steps, one after another), and can wait for as long as they
// keep coming (issue 20). Short waits never take a turn, so a busy lock's handoffs cost no
// extra file.
constexpr auto turn_after = 1s;

bool writer_file_exists(const AcquireRequest& request) {
  auto entry = os::lstat_entry(writer_path(request));
  return !entry || entry->type != os::EntryType::missing;
}

Result<HeldFile> acquire_exclusive_file(AcquireContext& context, const std::string& path,
                                        const std::string& what, bool as_lock);

// Takes `NAME.lock+writer`, waiting for it if someone else holds it. First lets go of the kernel
// lock that our inspection of `holder` took: a queued writer holds the writer file and sleeps on
// NAME.lock, so waiting for the writer file while keeping it deadlocks with it (the chaos suite's
// second known wedge).
Result<HeldFile> queue_as_writer(AcquireContext& context, LockInspection& holder,
                                 const std::string& what) {
  holder.fd.reset();
  return acquire_exclusive_file(context, writer_path(context.request),
                                "exclusive request of " + what, false);
}

// One attempt to take our turn: `NAME.lock+writer`, unless someone else took it first (then we
// go on waiting as before, and wait for their turn only once the lock is free). From the attempt
// on, termination signals are recorded: the turn must be let go of before we die.
Result<std::optional<HeldFile>> try_take_turn(AcquireContext& context, LockInspection& holder,
                                              const std::string& what) {
  context.messages.explain("nothing wakes this run when " + what +
                           " is let go, and it has waited " + format_duration(turn_after) +
                           ": taking its turn");
  holder.fd.reset(); // never keep the inspection's kernel lock (see queue_as_writer)
  context.record_signals();
  auto created = try_create(context, writer_path(context.request),
                            my_metadata(context.request, LockMode::exclusive, 0),
                            os::LockType::exclusive, false);
  if (!created) {
    return created.error();
  }
  if (!created->file) {
    return std::optional<HeldFile>();
  }
  context.took_turn();
  return std::optional<HeldFile>(std::move(*created->file));
}

// The exclusive file at `path`, by create-or-wait. `as_lock`: `path` is NAME.lock itself, which
// may be a group's anchor: then this run is a writer that must make shared holders queue behind
// it (the writer file) and must refuse a slotted group. Otherwise `path` is the writer file.
Result<HeldFile> acquire_exclusive_file(AcquireContext& context, const std::string& path,
                                        const std::string& what, bool as_lock) {
  const AcquireRequest& request = context.request;
  const LockMetadata metadata = my_metadata(request, LockMode::exclusive, 0);
  // Held while waiting for shared holders to leave: new ones queue behind us meanwhile.
  std::optional<HeldFile> writer_intent;

  // After a wake-up, the released file's kernel lock, kept until the name is settled: waiters
  // still blocked on it stay asleep until we have made (or found) the next lock file, so one
  // handoff costs one temp file, not one per waiter.
  os::Fd woken_on;
  std::optional<os::FileIdentity> woken_identity;
  // A reclaim that removed nothing (reclaim() paused already): if the name still stands, look at
  // it again without preparing a temporary file that could only fail to get the name.
  bool look_before_creating = false;
  for (;;) {
    if (auto signal = context.first_recorded_signal()) {
      // Going for our turn: let go of it (and of the writer file we queued with) before dying.
      writer_intent.reset();
      os::die_by_signal(*signal);
    }
    std::optional<std::int64_t> filesystem_now_ns;
    bool create = true;
    if (look_before_creating) {
      look_before_creating = false;
      if (auto current = os::lstat_entry(path);
          current && current->type != os::EntryType::missing) {
        create = false;
      }
    }
    if (woken_on) {
      // Someone else's new lock already stands there: no need to try creating one.
      auto current = os::lstat_entry(path);
      if (current && current->type == os::EntryType::regular &&
          !(current->identity == *woken_identity)) {
        create = false;
      }
      if (current && current->type == os::EntryType::regular) {
        woken_on.reset();
      }
    }
    // Someone's turn, or a writer queued behind a group: it creates NAME.lock first. We still
    // look at NAME.lock and reclaim it when it is stale: the one whose turn it is may not be able
    // to tell (another user's killed wrapper, whose command only its own user can check) and
    // would wait out the heartbeat; the large two-user chaos run saw that cost 5 s, 248 times.
    const bool others_turn = create && as_lock && !writer_intent && writer_file_exists(request);
    if (others_turn) {
      create = false;
    }
    if (create) {
      auto created = try_create(context, path, metadata, os::LockType::exclusive, as_lock);
      woken_on.reset();
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
    } else {
      filesystem_now_ns = context.filesystem_now();
    }
    // Who holds the lock matters only when we are about to say so; reading and parsing the
    // holder's metadata at every handoff is most of a waiter's work otherwise.
    const os::TimePoint looked_at = os::monotonic_now();
    auto inspected =
        inspect_lock_file(path, context.observer, request.stale_after, filesystem_now_ns,
                          context.budget.wants_details(looked_at), context.kernel_locks);
    if (!inspected) {
      return inspected.error();
    }
    LockInspection& holder = *inspected;
    if (!holder.exists()) {
      if (others_turn) {
        // Free, and someone else's turn: wait until they have taken it. Never keeping a released
        // file's kernel lock: the one whose turn it is may be asleep on it.
        woken_on.reset();
        context.poll_interval = std::min<std::chrono::milliseconds>(context.poll_interval, 10ms);
        if (auto waited = wait_while_writer_queued(context); !waited) {
          return waited.error();
        }
      }
      continue; // released in the meantime: try again at once
    }
    if (!holder.is_lock_file()) {
      return not_a_lock_file(holder);
    }
    if (holder.verdict.state == LockState::stale) {
      auto reclaimed =
          as_lock ? reclaim_lock_file(context, holder) : reclaim(context, holder, what);
      if (!reclaimed) {
        if (as_lock) {
          if (auto adopted =
                  adopt_unremovable_anchor(holder, reclaimed.error(), os::LockType::exclusive)) {
            context.signals.set_mode(os::TerminationMode::record);
            return std::move(*adopted);
          }
        }
        return reclaimed.error();
      }
      look_before_creating = !*reclaimed;
      continue;
    }
    if (as_lock) {
      // A group? Its members' shared kernel locks say so; where its kernel lock is not held (no
      // kernel locks, or members that hold none on it, judged by their files), its metadata.
      auto group = held_by_group(holder);
      if (!group) {
        return group.error();
      }
      if (*group) {
        if (holder.metadata && holder.metadata->mode == LockMode::slots) {
          return mode_conflict(request, holder);
        }
        if (!writer_intent) {
          auto intent = queue_as_writer(context, holder, what);
          if (!intent) {
            return intent.error();
          }
          writer_intent.emplace(std::move(*intent));
          continue; // the group may have ended while we queued: look again
        }
      }
      if (!writer_intent && holder.beacon != Beacon::held &&
          os::monotonic_now() - context.budget.started() >= turn_after &&
          !writer_file_exists(request)) {
        auto turn = try_take_turn(context, holder, what);
        if (!turn) {
          return turn.error();
        }
        if (*turn) {
          writer_intent.emplace(std::move(**turn));
          continue;
        }
      }
    }

    if (context.messages.verbose) {
      context.messages.explain(what + " is held by " + holder.describe_holder() + ": " +
                               holder.verdict.explanation + " [" + holder.verdict.reason + "]");
    }
    // Decide with the moment `details` was chosen for, so a notice never lacks them.
    if (auto within = context.budget.check(looked_at, describe_wait(what, holder), context.messages,
                                           held_by(holder));
        !within) {
      return within.error();
    }
    auto woke = sleep_on(context, holder, os::LockType::exclusive);
    if (!woke) {
      return woke.error();
    }
    if (*woke) {
      woken_on = std::move(*woke);
      woken_identity = holder.entry.identity;
    }
  }
}

} // namespace

Result<HeldLock> acquire(const AcquireRequest& request, os::SignalHandling& signals,
                         const Messages& messages) {
  AcquireContext context{request, signals, messages, current_observer(),
                         WaitBudget(request.timeout, messages.verbose, request.wait_record)};
  context.kernel_locks = request.kernel_locks != KernelLockUse::never;
  const std::string what = what_of(request);
  if (request.mode != LockMode::exclusive) {
    return acquire_in_group(context);
  }
  const std::string path = lock_path(request);
  auto file = acquire_exclusive_file(context, path, what, true);
  if (!file) {
    return file.error();
  }
  // Members that hold no kernel lock on the anchor (--kernel-locks off, another host) are kept
  // in by their holder files alone, also when we never saw their group: its last member may have
  // removed the anchor for the instant it counts the members, and our link() took the empty
  // name (issue 20, finding 1). In every mode, whatever we saw: one directory listing.
  auto drained = wait_until_no_group_members(context, *file);
  if (!drained) {
    return drained.error();
  }
  if (*drained != 0) {
    file->release(&messages);
    os::die_by_signal(*drained);
  }
  messages.explain("acquired " + what + " (" + path + ")");
  return HeldLock(std::move(*file));
}

} // namespace buildlock::core
