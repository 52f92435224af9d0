#include "core/staleness.h"

namespace buildlock::core {
namespace {

Verdict held(std::string reason, std::string explanation, std::string judged_by) {
  return {LockState::held, std::move(reason), std::move(explanation), std::move(judged_by), {}};
}

Verdict stale(std::string reason, std::string explanation, std::string judged_by) {
  return {LockState::stale, std::move(reason), std::move(explanation), std::move(judged_by), {}};
}

std::string pid_text(const LockMetadata& metadata) {
  return "pid " + std::to_string(metadata.pid);
}

// The age rule, for holders nobody can check directly: another host, another PID namespace
// without a kernel lock, or no usable metadata. A live holder refreshes its lock's mtime every
// stale_after / 4, so only a holder that stopped refreshing ages past the threshold.
Verdict judge_by_age(const Observation& seen, Seconds stale_after, const std::string& stale_reason,
                     const std::string& fresh_reason, const std::string& whose) {
  const std::string age = format_duration(seen.age);
  if (seen.age > stale_after) {
    return stale(stale_reason,
                 whose + " last refreshed " + age + " ago, more than the " +
                     format_duration(stale_after) + " limit",
                 "age");
  }
  Verdict verdict = held(fresh_reason, whose + " refreshed " + age + " ago", "heartbeat");
  verdict.stale_in = stale_after - seen.age;
  return verdict;
}

// Holder on our kernel and in our PID namespace, judged by its pid and start time.
Verdict judge_by_pid(const Observation& seen, const LockMetadata& metadata) {
  switch (seen.pid.state) {
  case os::PidState::dead:
    return stale("holder-dead", "holder " + pid_text(metadata) + " has exited", "pid check");
  case os::PidState::alive:
    if (metadata.start_time && seen.pid.start_time &&
        *metadata.start_time != *seen.pid.start_time) {
      return stale("pid-reused",
                   pid_text(metadata) + " now belongs to another process (start time " +
                       std::to_string(*seen.pid.start_time) + ", lock says " +
                       std::to_string(*metadata.start_time) + ")",
                   "pid check");
    }
    return held("pid-alive", "holder " + pid_text(metadata) + " is running", "pid check");
  case os::PidState::unknown:
    break;
  }
  return held("pid-alive", "holder " + pid_text(metadata) + " cannot be checked", "pid check");
}

} // namespace

bool same_kernel(const LockMetadata& metadata, const Observer& observer) {
  return os::same_boot(metadata.boot_id, observer.boot_id);
}

bool same_pid_namespace(const LockMetadata& metadata, const Observer& observer) {
  return same_kernel(metadata, observer) && metadata.pid_namespace == observer.pid_namespace;
}

Verdict judge(const Observation& seen, const Observer& observer, Seconds stale_after) {
  // Never rob a live holder: a held kernel lock means a process still has the file open and
  // locked (a killed wrapper's command inherits it), whatever the metadata says.
  if (seen.beacon == Beacon::held) {
    return held("kernel-lock-held", "its kernel lock is held", "kernel lock");
  }
  if (seen.metadata == nullptr) {
    return judge_by_age(seen, stale_after, "no-metadata-expired", "no-metadata-recent",
                        "lock without usable metadata");
  }
  const LockMetadata& metadata = *seen.metadata;

  if (same_kernel(metadata, observer)) {
    if (seen.beacon == Beacon::free) {
      // On one kernel the kernel lock is exact: free means no process holds the file locked.
      // The pid only refines the explanation.
      if (!same_pid_namespace(metadata, observer)) {
        return stale("holder-exited",
                     "no process holds its kernel lock (holder " + pid_text(metadata) +
                         " in another PID namespace)",
                     "kernel lock");
      }
      Verdict by_pid = judge_by_pid(seen, metadata);
      if (by_pid.state == LockState::stale) {
        by_pid.judged_by = "kernel lock";
        by_pid.explanation += "; no process holds its kernel lock";
        return by_pid;
      }
      const bool checked = seen.pid.state == os::PidState::alive;
      return stale("holder-exited",
                   "no process holds its kernel lock (" + pid_text(metadata) +
                       (checked ? " runs but released it)" : " cannot be checked)"),
                   "kernel lock");
    }
    // No kernel locks on this filesystem: the pid is the best evidence we have, when it can be
    // checked at all, and what the holder's command started, which would have kept a kernel lock
    // held (scenario 3). A pid that cannot be checked (out of this kernel's range) vouches for
    // nothing, so the heartbeat decides, as for any holder we cannot check; never "alive forever".
    if (same_pid_namespace(metadata, observer) && seen.pid.state != os::PidState::unknown) {
      Verdict by_pid = judge_by_pid(seen, metadata);
      if (by_pid.state == LockState::stale && seen.tree == CommandTree::running) {
        return held("command-alive",
                    "holder " + pid_text(metadata) +
                        " has exited, but processes its command started still run",
                    "pid check");
      }
      if (by_pid.state == LockState::stale && seen.tree == CommandTree::unknown) {
        return judge_by_age(seen, stale_after, "heartbeat-expired", "heartbeat-fresh",
                            "holder " + pid_text(metadata) +
                                " (exited; what its command started cannot be checked)");
      }
      return by_pid;
    }
    if (same_pid_namespace(metadata, observer)) {
      return judge_by_age(seen, stale_after, "heartbeat-expired", "heartbeat-fresh",
                          "holder " + pid_text(metadata) + ", which cannot be checked,");
    }
    return judge_by_age(seen, stale_after, "heartbeat-expired", "heartbeat-fresh",
                        "holder in another PID namespace");
  }

  // Same host name, another boot id: our own previous boot, or another machine that shares our
  // host name (VMs and containers cloned from one image). Nothing in the metadata tells them
  // apart, and a live namesake refreshes only every stale_after / 4, so a lock of any age up to
  // stale_after may be alive there, whatever our uptime says. The uptime therefore never
  // shortens the age rule; it only explains an expired lock untouched since before our boot.
  if (!metadata.boot_id.empty() && !observer.boot_id.empty() && metadata.host == observer.host &&
      seen.age > observer.uptime && seen.age > stale_after) {
    return stale("previous-boot",
                 "written before this machine booted (boot id " + metadata.boot_id +
                     ") and not refreshed for " + format_duration(seen.age) + ", more than the " +
                     format_duration(stale_after) + " limit",
                 "boot id");
  }
  return judge_by_age(seen, stale_after, "heartbeat-expired", "heartbeat-fresh",
                      "holder on host `" + metadata.host + "`");
}

} // namespace buildlock::core
