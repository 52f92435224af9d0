#include "os/process_tree.h"

#include "os/fd.h"
#include "os/posix/directory_stream.h"
#include "os/posix/process_environment.h"
#include "os/posix/process_liveness.h"
#include "os/process_identity.h"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <map>
#include <optional>
#include <unistd.h>

#if defined(__linux__)
#include <sys/prctl.h>
#include <sys/syscall.h>
#if defined(SYS_pidfd_open) && defined(SYS_pidfd_send_signal)
#define BUILDLOCK_HAVE_PIDFDS 1 // Linux >= 5.3 headers; the running kernel may still lack them
#endif
#endif

namespace buildlock::os {
namespace {

#if defined(__linux__)
// Every process's parent, from one pass over /proc. A process that exits during the pass is
// simply missing; one that starts during it may be missing too, which is why callers that must
// reach every descendant look again until none is left.
std::multimap<std::int64_t, Descendant> children_by_parent() {
  std::multimap<std::int64_t, Descendant> children;
  ProcessDirectory proc;
  while (const auto pid = proc.next_pid()) {
    auto status = process_status(*pid);
    if (!status || has_ended(*pid, *status)) {
      continue; // gone, or exited and only waiting to be reaped
    }
    children.emplace(status->parent, Descendant{*pid, status->process_group,
                                                std::move(status->name), status->start_time});
  }
  return children;
}
#endif

// Whoever started this process made its process group for it.
bool leads_process_group() {
  return ::getpgrp() == ::getpid();
}

// The terminal delivers Ctrl+C to every process of its foreground group itself.
bool in_terminal_foreground() {
  const int fd = ::open("/dev/tty", O_RDONLY | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) {
    return false; // no controlling terminal
  }
  const Fd terminal(fd);
  return ::tcgetpgrp(terminal.get()) == ::getpgrp();
}

#if defined(BUILDLOCK_HAVE_PIDFDS)
// Set once pidfd_open() turns out to be missing (ENOSYS: Linux < 5.3) or refused (EPERM: a
// seccomp filter, as older container runtimes install): from then on kill() alone.
bool g_pidfds_refused = false;

int open_pidfd(std::int64_t pid) {
  const long fd = ::syscall(SYS_pidfd_open, static_cast<pid_t>(pid), 0U);
  return static_cast<int>(fd);
}
#endif

// One scanned process, held so that a signal reaches it and nothing else. Between the scan of
// /proc and kill(pid), the process may exit and be reaped by its parent, and the kernel may give
// its pid to a new process that is none of ours. A pidfd names one process, not a number: it is
// opened first, and only then is the process checked to be the one scanned (same start time),
// so the check and the signal are about the same process. Without pidfds the check comes right
// before kill(), which narrows that window but cannot close it (docs/protocol.md).
class SignalTarget {
public:
  // nullopt when the process scanned as `process` is no longer there to be signalled.
  static std::optional<SignalTarget> open(const Descendant& process) {
    if (process.pid <= 0) {
      return SignalTarget(process.pid, Fd()); // a process group (the non-Linux fallback)
    }
    Fd pidfd;
#if defined(BUILDLOCK_HAVE_PIDFDS)
    if (!g_pidfds_refused) {
      const int fd = open_pidfd(process.pid);
      const int error = errno;
      if (fd < 0 && error == ESRCH) {
        return std::nullopt; // reaped already
      }
      // Other errors (EMFILE...): kill() this once.
      g_pidfds_refused = fd < 0 && (error == ENOSYS || error == EPERM);
      pidfd.reset(fd);
    }
#endif
#if defined(__linux__)
    const auto now = process_status(process.pid);
    if (!now || has_ended(process.pid, *now) ||
        (process.start_time && now->start_time != process.start_time)) {
      return std::nullopt; // ended, or the pid is another process's now
    }
#endif
    return SignalTarget(process.pid, std::move(pidfd));
  }

  // false when the process is gone.
  bool send(int signal) const {
#if defined(BUILDLOCK_HAVE_PIDFDS)
    if (pidfd_.valid()) {
      return ::syscall(SYS_pidfd_send_signal, pidfd_.get(), signal, nullptr, 0U) == 0;
    }
#endif
    // A negative pid addresses a process group (the non-Linux fallback).
    return ::kill(static_cast<pid_t>(pid_), signal) == 0;
  }

private:
  SignalTarget(std::int64_t pid, Fd pidfd) : pid_(pid), pidfd_(std::move(pidfd)) {}
  std::int64_t pid_;
  Fd pidfd_;
};

} // namespace

bool adopt_orphaned_descendants() {
#if defined(__linux__)
  return ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0;
#else
  return false;
#endif
}

std::vector<Descendant> live_descendants([[maybe_unused]] std::int64_t fallback_process_group) {
  std::vector<Descendant> found;
#if defined(__linux__)
  const auto children = children_by_parent();
  std::vector<std::int64_t> parents{::getpid()};
  while (!parents.empty()) {
    const std::int64_t parent = parents.back();
    parents.pop_back();
    auto [first, last] = children.equal_range(parent);
    for (auto it = first; it != last; ++it) {
      found.push_back(it->second);
      parents.push_back(it->second.pid);
    }
  }
#else
  // No /proc: the command's process group stands for its tree (a process that left it is not
  // seen). kill(-group, 0) tells only whether anyone is left in it.
  if (fallback_process_group > 0 && ::kill(-static_cast<pid_t>(fallback_process_group), 0) == 0) {
    found.push_back(
        {-fallback_process_group, fallback_process_group, "process group", std::nullopt});
  }
#endif
  return found;
}

SignalDelivery signal_and_continue(const Descendant& process, int signal) {
  const auto target = SignalTarget::open(process);
  if (!target || !target->send(signal)) {
    return SignalDelivery::gone;
  }
  if (signal != SIGKILL && signal != SIGCONT) {
    target->send(SIGCONT);
  }
  return SignalDelivery::sent;
}

void continue_process(const Descendant& process) {
  if (const auto target = SignalTarget::open(process)) {
    target->send(SIGCONT);
  }
}

bool signals_through_pidfds() {
#if defined(BUILDLOCK_HAVE_PIDFDS)
  static const bool available = [] {
    const Fd own(open_pidfd(::getpid()));
    return own.valid();
  }();
  return available && !g_pidfds_refused;
#else
  return false;
#endif
}

std::int64_t outermost_ancestor_with(std::string_view name) {
  std::int64_t found = ::getpid();
#if defined(__linux__)
  // An environment is inherited: the processes that have the variable are a chain from this one
  // up to the one it was set for, so the walk stops at the first ancestor without it (a few
  // levels: the step's shell, ninja, cmake --build). Each look is two reads of /proc.
  std::optional<std::int64_t> pid = parent_pid();
  std::string environ;
  // A depth bound against a /proc that lies (a parent loop).
  for (int depth = 0; pid && *pid > 1 && depth < 64; ++depth) {
    if (read_process_environment(*pid, environ) != 0 ||
        !environment_has(environ, name, [](std::string_view value) { return !value.empty(); })) {
      break;
    }
    found = *pid;
    pid = parent_of(*pid);
  }
#else
  (void)name;
#endif
  return found;
}

std::int64_t own_process_group() {
  return ::getpgrp();
}

bool command_in_own_group() {
  return leads_process_group() && !in_terminal_foreground();
}

} // namespace buildlock::os
