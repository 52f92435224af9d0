#include "os/process_tree.h"

#include "os/fd.h"
#include "os/posix/directory_stream.h"
#include "os/posix/process_environment.h"
#include "os/process_identity.h"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <map>
#include <optional>
#include <sys/stat.h>
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
// Whether a process that /proc shows as a zombie still has threads that run. A process whose main
// thread called pthread_exit() while others run is shown as a zombie (its thread-group leader
// is one), yet it runs on: a signal to its pid reaches those threads, and waitpid() cannot reap
// it before the last of them ends. "Threads:" counts the leader until it is reaped, so a real
// zombie says 1.
bool has_running_threads(std::int64_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  constexpr std::string_view key = "Threads:";
  for (std::string line; std::getline(status, line);) {
    if (line.compare(0, key.size(), key) == 0) {
      return std::strtoll(line.c_str() + key.size(), nullptr, 10) > 1;
    }
  }
  return false;
}

// Whether a process with this status has ended ('X': being removed; 'Z': a zombie, unless its
// other threads still run).
bool has_ended(std::int64_t pid, const ProcessStatus& status) {
  return status.state == 'X' || (status.state == 'Z' && !has_running_threads(pid));
}

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

// The environment of a process whose main thread has ended (pthread_exit) while others run: its
// leader, which /proc/PID/environ reads, has let go of the memory that holds it, the other
// threads have not. Empty when there is no such thread.
std::string environment_of_other_thread(std::int64_t pid) {
  const std::string tasks = "/proc/" + std::to_string(pid) + "/task";
  DirectoryStream threads(tasks);
  std::string environ;
  while (environ.empty()) {
    const auto thread = threads.next();
    if (!thread) {
      break;
    }
    if (*thread != std::to_string(pid)) {
      read_thread_environment(pid, *thread, environ);
    }
  }
  return environ;
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

ProcessSearch find_process_by_environment(std::string_view name,
                                          const std::function<bool(std::string_view)>& matches,
                                          std::int64_t owner_uid) {
#if defined(__linux__)
  ProcessDirectory proc;
  if (!proc.is_open()) {
    return ProcessSearch::unreadable;
  }
  const long self = ::getpid();
  bool unreadable = false;
  bool found = false;
  std::string environ;
  while (!found) {
    const auto next = proc.next_pid();
    if (!next) {
      break;
    }
    const std::int64_t pid = *next;
    // Init is never anyone's descendant, and may refuse even root (a container's init).
    if (pid <= 1 || pid == self) {
      continue;
    }
    const std::string directory = "/proc/" + std::to_string(pid);
    // Another user's process is unreadable unless we are root; it matters only if it runs as the
    // owner we look for.
    const auto note_unreadable = [&] {
      struct stat owner {};
      if (::stat(directory.c_str(), &owner) == 0 &&
          static_cast<std::int64_t>(owner.st_uid) == owner_uid) {
        unreadable = true;
      }
    };
    // ESRCH: a kernel thread, an exiting process, or one whose main thread has ended, whose
    // leader has no environment any more: its other threads may still have it.
    const int error = read_process_environment(pid, environ);
    if (error == EACCES || error == EPERM) {
      note_unreadable();
    }
    if (error == ESRCH || (error == 0 && environ.empty())) {
      environ = environment_of_other_thread(pid);
    } else if (error != 0) {
      continue; // ENOENT: gone meanwhile
    }
    const auto status = process_status(pid);
    found = status && !has_ended(pid, *status) && environment_has(environ, name, matches);
  }
  if (found) {
    return ProcessSearch::found;
  }
  return unreadable ? ProcessSearch::unreadable : ProcessSearch::none;
#else
  return ProcessSearch::unreadable;
#endif
}

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
