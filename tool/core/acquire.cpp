#include "core/acquire.h"

#include "core/lock_name.h"
#include "core/metadata.h"
#include "core/probe.h"
#include "os/clock.h"
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

LockMetadata my_metadata(const AcquireRequest& request) {
  const auto& local = os::local_identity();
  LockMetadata metadata;
  metadata.pid = local.pid;
  metadata.start_time = local.start_time;
  metadata.boot_id = local.boot_id;
  metadata.pid_namespace = local.pid_namespace;
  metadata.host = local.host;
  metadata.user = local.user;
  metadata.uid = local.uid;
  metadata.command = request.command;
  metadata.acquired_at = os::utc_timestamp_now();
  return metadata;
}

struct CreateAttempt {
  std::optional<HeldLock> lock;       // set when we created the lock
  std::int64_t filesystem_now_ns = 0; // the filesystem's clock, read off our temp file
  bool retry = false;                 // nothing learnt: try again at once
};

// One attempt to create the lock. Signals are deferred throughout, so a kill can never leave
// the temporary file behind (except SIGKILL, which clean-up treats as garbage).
Result<CreateAttempt> try_create(const AcquireRequest& request, const std::string& lock_path,
                                 os::SignalHandling& signals) {
  os::DeferSignals defer;
  const std::string temp_path =
      os::join_path(request.directory, temp_file_name(request.name, random_token()));
  auto fd = os::create_new_file(temp_path);
  if (!fd) {
    return std::move(fd.error()).with("cannot prepare lock `" + request.name + "`");
  }
  CreateAttempt attempt;
  auto remove_temp = [&] {
    (void)os::remove_file(temp_path);
  };
  auto fail = [&](Error error) -> Result<CreateAttempt> {
    remove_temp();
    return error;
  };
  auto locked = os::try_lock(*fd);
  if (!locked) {
    return fail(locked.error());
  }
  if (*locked == os::LockAttempt::busy || *locked == os::LockAttempt::interrupted) {
    // An inspector (`status`, `clean`) is looking at this fresh file at this very instant. Never
    // wait for it with signals deferred (it could be stopped): drop this file, try a new one.
    remove_temp();
    attempt.retry = true;
    return attempt;
  }
  if (*locked != os::LockAttempt::acquired) {
    return fail(Error{ErrorKind::lock_directory,
                      "the filesystem of `" + request.directory +
                          "` does not support kernel locks (flock); use a local directory"});
  }
  // Written only after the kernel lock is taken: an observer (`clean`) that finds this temporary
  // file unlocked sees no metadata, so the age rule protects it for the instant before flock.
  if (auto written = os::write_all(*fd, serialize_metadata(my_metadata(request))); !written) {
    return fail(std::move(written.error()).with("cannot write `" + temp_path + "`"));
  }
  auto info = os::fstat_entry(*fd);
  if (!info) {
    return fail(info.error());
  }
  attempt.filesystem_now_ns = info->mtime_ns;
  auto linked = os::link_new_name(temp_path, lock_path);
  remove_temp();
  if (!linked) {
    return std::move(linked.error()).with("cannot create lock `" + request.name + "`");
  }
  if (*linked) {
    // From here on the lock exists: a signal must not kill us before we can release it.
    signals.set_mode(os::TerminationMode::record);
    attempt.lock.emplace(std::move(*fd), lock_path, info->identity);
  }
  return attempt;
}

Error not_a_lock_file(const LockInspection& inspection) {
  return Error{ErrorKind::lock_directory,
               "`" + inspection.path + "` is " + os::describe(inspection.entry.type) +
                   ", not a lock file; buildlock will not touch it (remove it if it is not "
                   "needed)"};
}

} // namespace

HeldLock::HeldLock(os::Fd fd, std::string path, os::FileIdentity identity)
    : fd_(std::move(fd)), path_(std::move(path)), identity_(identity) {}

void HeldLock::heartbeat(const Messages& messages) {
  if (!fd_) {
    return;
  }
  if (auto touched = os::touch(fd_); !touched && !heartbeat_failure_reported_) {
    heartbeat_failure_reported_ = true;
    messages.warning("cannot refresh lock `" + path_ + "` (" + touched.error().message +
                     "); observers on other hosts may judge it stale after --stale-after");
  }
}

void HeldLock::release(const Messages* messages) {
  if (!fd_) {
    return;
  }
  os::DeferSignals defer;
  auto current = os::lstat_entry(path_);
  if (current && current->type == os::EntryType::regular && current->identity == identity_) {
    (void)os::remove_file(path_);
  } else if (messages != nullptr) {
    messages->warning("lock `" + path_ +
                      "` was removed or replaced by someone else while this process held it");
  }
  os::unlock(fd_);
  fd_.reset();
}

Result<HeldLock> acquire(const AcquireRequest& request, os::SignalHandling& signals,
                         const Messages& messages) {
  const std::string lock_path = os::join_path(request.directory, lock_file_name(request.name));
  const Observer observer = current_observer();
  const os::TimePoint start = os::monotonic_now();
  std::optional<os::TimePoint> deadline;
  if (request.timeout) {
    deadline = start + std::chrono::duration_cast<os::MonotonicClock::duration>(*request.timeout);
  }
  os::TimePoint next_notice = start + first_notice_after;

  // After a wake-up, the released file's kernel lock, kept until the name is settled: waiters
  // still blocked on it stay asleep until we have made (or found) the next lock file, so one
  // handoff costs one temp file, not one per waiter.
  os::Fd woken_on;
  std::optional<os::FileIdentity> woken_identity;
  for (;;) {
    std::optional<std::int64_t> filesystem_now_ns;
    bool create = true;
    if (woken_on) {
      // Someone else's new lock already stands there: no need to try creating one.
      auto current = os::lstat_entry(lock_path);
      if (current && current->type == os::EntryType::regular &&
          !(current->identity == *woken_identity)) {
        create = false;
      }
      if (current && current->type == os::EntryType::regular) {
        woken_on.reset();
      }
    }
    if (create) {
      auto created = try_create(request, lock_path, signals);
      woken_on.reset();
      if (!created) {
        return created.error();
      }
      if (created->lock) {
        messages.explain("acquired lock `" + request.name + "` (" + lock_path + ")");
        return std::move(*created->lock);
      }
      if (created->retry) {
        continue;
      }
      filesystem_now_ns = created->filesystem_now_ns;
    }
    // Who holds the lock matters only when we are about to say so; reading and parsing the
    // holder's metadata at every handoff is most of a waiter's work otherwise.
    const os::TimePoint looked_at = os::monotonic_now();
    const bool details =
        messages.verbose || looked_at >= next_notice || (deadline && looked_at >= *deadline);
    auto inspected =
        inspect_lock_file(lock_path, observer, request.stale_after, filesystem_now_ns, details);
    if (!inspected) {
      return inspected.error();
    }
    LockInspection& holder = *inspected;
    if (!holder.exists()) {
      continue; // released in the meantime: try again at once
    }
    if (!holder.is_lock_file()) {
      return not_a_lock_file(holder);
    }
    if (holder.verdict.state == LockState::stale) {
      Result<bool> removed = false;
      {
        os::DeferSignals defer;
        removed = remove_inspected(holder);
      }
      if (!removed) {
        return std::move(removed.error()).with("cannot reclaim stale lock `" + request.name + "`");
      }
      if (*removed) {
        // Worth a line in every build log: it explains why a build did not wait.
        messages.notice("reclaimed stale lock `" + request.name + "` of " +
                        holder.describe_holder() + ": " + holder.verdict.explanation + " [" +
                        holder.verdict.reason + "]");
      }
      continue;
    }

    if (messages.verbose) {
      messages.explain("lock `" + request.name + "` is held by " + holder.describe_holder() + ": " +
                       holder.verdict.explanation + " [" + holder.verdict.reason + "]");
    }
    // Decide with the moment `details` was chosen for, so a notice never lacks them.
    const os::TimePoint now = looked_at;
    if (deadline && now >= *deadline) {
      return Error{ErrorKind::timeout, "timed out after " + format_duration(now - start) +
                                           " waiting for lock `" + request.name + "` held by " +
                                           holder.describe_holder() + " (" +
                                           holder.verdict.explanation + ")"};
    }
    if (now >= next_notice) {
      messages.notice("waiting for lock `" + request.name + "` held by " +
                      holder.describe_holder() + " (" + holder.verdict.explanation + ")");
      next_notice = now + notice_interval;
    }

    os::TimePoint wake_at = next_notice;
    if (deadline) {
      wake_at = std::min(wake_at, *deadline);
    }
    if (holder.beacon == Beacon::held) {
      // Sleep in the kernel until the holder lets go (or a deadline interrupts us).
      signals.arm_alarm(wake_at);
      auto woke = os::lock_or_interrupt(holder.fd);
      signals.disarm_alarm();
      if (!woke) {
        return woke.error();
      }
      if (*woke == os::LockAttempt::acquired) {
        woken_on = std::move(holder.fd);
        woken_identity = holder.entry.identity;
      }
      continue; // look again: released and removed, or orphaned and now reclaimable
    }
    // Held by the age rule or a pid check: nothing will wake us, so look again soon.
    auto recheck = std::chrono::duration_cast<os::MonotonicClock::duration>(std::min<Seconds>(
        holder.verdict.stale_in.value_or(age_recheck_interval) + 10ms, age_recheck_interval));
    wake_at = std::min(wake_at, now + recheck);
    holder.fd.reset(); // never sleep on someone else's kernel lock
    os::sleep_until(wake_at);
  }
}

} // namespace buildlock::core
