#include "core/acquire_steps.h"

#include "core/lock_directory.h"
#include "core/lock_listing.h"
#include "core/lock_name.h"
#include "os/file_lock.h"
#include "os/process_identity.h"

#include <algorithm>

namespace buildlock::core {
namespace {

using namespace std::chrono_literals;

// First "waiting for" notice after this long, then at most this often.
constexpr auto first_notice_after = 1s;
constexpr auto notice_interval = 30s;
// Nobody can wake us for a lock judged by age: look again at least this often.
constexpr auto age_recheck_interval = 1s;
// The longest pause between two looks of a waiter nobody can wake (ccache retries every 10-50
// ms), and of one that holds its turn, which everyone else waits for.
constexpr auto max_poll_interval = 250ms;
constexpr auto max_turn_poll_interval = 25ms;

os::MonotonicClock::duration to_clock(Seconds seconds) {
  return std::chrono::duration_cast<os::MonotonicClock::duration>(seconds);
}

} // namespace

WaitBudget::WaitBudget(std::optional<Seconds> timeout, bool verbose, WaitRecord* record)
    : start_(os::monotonic_now()), next_notice_(start_ + first_notice_after), verbose_(verbose),
      record_(record) {
  if (timeout) {
    deadline_ = start_ + to_clock(*timeout);
  }
}

bool WaitBudget::wants_details(os::TimePoint now) const {
  return verbose_ || record_ != nullptr || now >= next_notice_ || (deadline_ && now >= *deadline_);
}

Status WaitBudget::check(os::TimePoint now, const std::string& whom, const Messages& messages,
                         const LockMetadata* holder) {
  if (record_ != nullptr) {
    record_->saw_holder(whom, holder);
  }
  if (deadline_ && now >= *deadline_) {
    return Error{ErrorKind::timeout,
                 "timed out after " + format_duration(now - start_) + " waiting for " + whom};
  }
  if (now >= next_notice_) {
    messages.notice("waiting for " + whom);
    next_notice_ = now + notice_interval;
  }
  return ok_status();
}

os::TimePoint WaitBudget::wake_at() const {
  return deadline_ ? std::min(next_notice_, *deadline_) : next_notice_;
}

std::optional<std::int64_t> AcquireContext::filesystem_now() {
  if (!filesystem_ns_sample) {
    if (auto read = read_filesystem_clock(request.directory)) {
      saw_filesystem_time(*read);
    } else {
      return std::nullopt;
    }
  }
  return *filesystem_ns_sample + std::chrono::duration_cast<std::chrono::nanoseconds>(
                                     os::monotonic_now() - filesystem_sampled_at)
                                     .count();
}

std::chrono::milliseconds AcquireContext::next_poll() {
  const auto interval = poll_interval;
  poll_interval = std::min<std::chrono::milliseconds>(
      poll_interval * 2, has_turn ? max_turn_poll_interval : max_poll_interval);
  return interval;
}

void AcquireContext::took_turn() {
  has_turn = true;
  poll_interval = std::min<std::chrono::milliseconds>(poll_interval, max_turn_poll_interval);
}

void AcquireContext::record_signals() {
  signals.set_mode(os::TerminationMode::record);
  signals_recorded = true;
}

void AcquireContext::pause_until(os::TimePoint deadline) {
  if (signals_recorded) {
    signals.wait_for_signal(deadline);
  } else {
    os::sleep_until(deadline);
  }
}

std::optional<int> AcquireContext::first_recorded_signal() {
  if (!signals_recorded) {
    return std::nullopt;
  }
  if (const auto received = signals.take_signals(); !received.empty()) {
    return received.front().number;
  }
  return std::nullopt;
}

void AcquireContext::saw_filesystem_time(std::int64_t filesystem_ns) {
  filesystem_ns_sample = filesystem_ns;
  filesystem_sampled_at = os::monotonic_now();
}

std::string lock_path(const AcquireRequest& request) {
  return os::join_path(request.directory, lock_file_name(request.name));
}

std::string writer_path(const AcquireRequest& request) {
  return os::join_path(request.directory, writer_file_name(request.name));
}

std::string what_of(const AcquireRequest& request) {
  return "lock `" + request.name + "`";
}

LockMetadata my_metadata(const AcquireRequest& request, LockMode mode, int slots) {
  const auto& local = os::local_identity();
  LockMetadata metadata;
  metadata.mode = mode;
  metadata.slots = slots;
  metadata.pid = local.pid;
  metadata.start_time = local.start_time;
  metadata.boot_id = local.boot_id;
  metadata.pid_namespace = local.pid_namespace;
  metadata.host = local.host;
  metadata.user = local.user;
  if (local.uid >= 0) { // Windows has SIDs, not numeric user ids
    metadata.uid = local.uid;
  }
  metadata.command = request.command;
  metadata.acquired_at = os::utc_timestamp_now();
  return metadata;
}

Result<CreateAttempt> try_create(AcquireContext& context, const std::string& path,
                                 const LockMetadata& metadata, os::LockType type,
                                 bool completes_hold) {
  const AcquireRequest& request = context.request;
  os::DeferSignals defer;
  const std::string temp_path =
      os::join_path(request.directory, temp_file_name(request.name, random_token()));
  auto fd = os::create_new_file(temp_path);
  if (!fd) {
    return lock_directory_error(request.directory, std::move(fd.error()));
  }
  CreateAttempt attempt;
  auto remove_temp = [&] {
    (void)os::remove_file(temp_path);
  };
  auto fail = [&](Error error) -> Result<CreateAttempt> {
    remove_temp();
    return error;
  };
  if (context.kernel_locks) {
    auto locked = os::try_lock(*fd, type);
    if (!locked) {
      return fail(locked.error());
    }
    if (*locked == os::LockAttempt::busy || *locked == os::LockAttempt::interrupted) {
      // An inspector (`status`, `clean`) is looking at this fresh file at this very instant.
      // Never wait for it with signals deferred (it could be stopped): try a new file.
      remove_temp();
      attempt.retry = true;
      return attempt;
    }
    if (*locked == os::LockAttempt::unsupported) {
      if (request.kernel_locks == KernelLockUse::required) {
        return fail(Error{ErrorKind::lock_directory,
                          "the filesystem of `" + request.directory +
                              "` does not support kernel locks (flock), and --kernel-locks on "
                              "requires them; use a local directory or --kernel-locks auto"});
      }
      context.messages.warning(
          "the filesystem of `" + request.directory +
          "` does not support kernel locks (flock); judging locks by pid and heartbeat instead "
          "(see docs/shared-filesystems.md; --kernel-locks off says so and silences this)");
      context.kernel_locks = false;
    }
  }
  if (!context.permissions_for_others) {
    auto directory = os::stat_entry(request.directory);
    context.permissions_for_others =
        directory ? permissions_for_directory_users(directory->mode) : 0;
  }
  if (*context.permissions_for_others != 0) {
    // Before the name exists: the others may claim it from its first instant. Best effort: where
    // the filesystem refuses (some network and FUSE filesystems), the others claim it with a
    // claim file instead (claimed_removal.h), as they do the files of older versions.
    (void)os::add_permissions(*fd, *context.permissions_for_others);
  }
  LockMetadata written_metadata = metadata;
  written_metadata.kernel_lock = context.kernel_locks;
  // Now, not when this run arrived: a run that waited holds the lock from this file's creation,
  // and "held for" and `status` must not count the wait as holding.
  written_metadata.acquired_at = os::utc_timestamp_now();
  // Written only after the kernel lock is taken: an observer (`clean`) that finds this temporary
  // file unlocked sees no metadata, so the age rule protects it for the instant before flock.
  if (auto written = os::write_all(*fd, serialize_metadata(written_metadata)); !written) {
    return fail(lock_directory_error(
        request.directory, std::move(written.error()).with("cannot write `" + temp_path + "`")));
  }
  auto info = os::fstat_entry(*fd);
  if (!info) {
    return fail(info.error());
  }
  attempt.filesystem_now_ns = info->mtime_ns;
  context.saw_filesystem_time(info->mtime_ns);
  auto linked = os::link_new_name(temp_path, path);
  if (linked && !*linked) {
    // On NFS a retransmitted link() can fail with EEXIST although the first transmission created
    // the name: then the name is our own file, and we hold it (liblockfile checks the same way).
    auto existing = os::lstat_entry(path);
    linked = existing && existing->type == os::EntryType::regular &&
             existing->identity == info->identity;
  }
  remove_temp();
  if (!linked) {
    return std::move(linked.error()).with("cannot create lock `" + request.name + "`");
  }
  if (*linked) {
    if (completes_hold) {
      // From here on the lock exists: a signal must not kill us before we can release it.
      context.signals.set_mode(os::TerminationMode::record);
    }
    attempt.file.emplace(std::move(*fd), path, info->identity, type, context.kernel_locks);
  }
  return attempt;
}

void resume_waiting(AcquireContext& context) {
  context.signals.set_mode(os::TerminationMode::die);
  if (const auto received = context.signals.take_signals(); !received.empty()) {
    os::die_by_signal(received.front().number);
  }
}

Error not_a_lock_file(const LockInspection& inspection) {
  return Error{ErrorKind::lock_directory,
               "`" + inspection.path + "` is " + os::describe(inspection.entry.type) +
                   ", not a lock file; buildlock will not touch it (remove it if it is not "
                   "needed)"};
}

Result<bool> remove_stale(const LockInspection& holder, const std::optional<std::string>& what,
                          const Messages* messages) {
  Result<bool> removed = false;
  {
    os::DeferSignals defer;
    removed = remove_inspected(holder);
  }
  if (removed && *removed && what && messages != nullptr) {
    messages->notice("reclaimed stale " + *what + " of " + holder.describe_holder() + ": " +
                     holder.verdict.explanation + " [" + holder.verdict.reason + "]");
  }
  return removed;
}

Status pause_after_unremoved(AcquireContext& context, const LockInspection& holder, bool anchor) {
  if (holder.beacon == Beacon::free && holder.kernel_lock_excludes_reclaimers && !anchor) {
    // Removed under our own kernel lock: "not removed" means the name changed, the lock judged is
    // gone, and looking again at once is right.
    return ok_status();
  }
  // Removed by claim (no kernel lock of ours excludes the other removers: no kernel locks, a
  // holder on another kernel, an anchor), "not removed" can mean "someone else's claim is in the
  // way", a claim its remover may have abandoned, which only ages out after --stale-after; or
  // "put back", or "changed since it was judged". Nothing wakes us when that changes: pause like
  // any waiter nobody can wake, within the deadline, rather than retry at once (a waiter once
  // made thousands of links a second behind an abandoned claim: issue 20, finding 4).
  const os::TimePoint now = os::monotonic_now();
  if (auto within = context.budget.check(now, describe_wait(what_of(context.request), holder),
                                         context.messages, held_by(holder));
      !within) {
    return within.error();
  }
  context.pause_until(std::min(context.budget.wake_at(), now + to_clock(context.next_poll())));
  return ok_status();
}

Result<bool> reclaim(AcquireContext& context, const LockInspection& holder,
                     const std::optional<std::string>& what) {
  Result<bool> removed = remove_stale(holder, what, &context.messages);
  if (removed && *removed && what && context.request.wait_record != nullptr) {
    context.request.wait_record->reclaimed(*what + " of " + holder.describe_holder() + " [" +
                                           holder.verdict.reason + "]");
  }
  if (!removed) {
    return std::move(removed.error())
        .with("cannot reclaim stale lock `" + context.request.name + "`");
  }
  if (!*removed) {
    if (auto paused = pause_after_unremoved(context, holder, false); !paused) {
      return paused.error();
    }
  }
  return removed;
}

const LockMetadata* held_by(const LockInspection& holder) {
  return holder.metadata ? &*holder.metadata : nullptr;
}

std::string describe_wait(const std::string& what, const LockInspection& holder) {
  return what + " held by " + holder.describe_holder() + " (" + holder.verdict.explanation + ")";
}

Result<os::Fd> sleep_on(AcquireContext& context, LockInspection& holder, os::LockType type) {
  const os::TimePoint now = os::monotonic_now();
  os::TimePoint wake_at = context.budget.wake_at();
  if (holder.beacon == Beacon::held) {
    // Sleep in the kernel until the holder lets go (or a deadline interrupts us).
    context.signals.arm_alarm(wake_at);
    auto woke = os::lock_or_interrupt(holder.fd, type);
    context.signals.disarm_alarm();
    if (!woke) {
      return woke.error();
    }
    if (*woke == os::LockAttempt::acquired) {
      return std::move(holder.fd);
    }
    return os::Fd{};
  }
  // Held by the age rule or a pid check: nothing will wake us when it expires or when the holder
  // leaves, so look again soon: often at first, then less. At the same pace whatever our own
  // kernel-lock setting: a run with kernel locks that looked only every second lost every
  // handoff between holders without them to the runs that looked every 250 ms (issue 20, the
  // large run's wedges).
  auto recheck = to_clock(std::min<Seconds>(
      holder.verdict.stale_in.value_or(age_recheck_interval) + 10ms, age_recheck_interval));
  recheck = std::min(recheck, to_clock(context.next_poll()));
  wake_at = std::min(wake_at, now + recheck);
  holder.fd.reset(); // never sleep on someone else's kernel lock
  context.pause_until(wake_at);
  return os::Fd{};
}

} // namespace buildlock::core
