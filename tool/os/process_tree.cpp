#include "os/process_tree.h"

#include "os/fd.h"
#include "os/process_identity.h"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <dirent.h>
#include <fcntl.h>
#include <map>
#include <unistd.h>

#if defined(__linux__)
#include <sys/prctl.h>
#endif

namespace buildlock::os {
namespace {

#if defined(__linux__)
// Every process's parent, from one pass over /proc. A process that exits during the pass is
// simply missing; one that starts during it may be missing too, which is why callers that must
// reach every descendant look again until none is left.
std::multimap<std::int64_t, Descendant> children_by_parent() {
  std::multimap<std::int64_t, Descendant> children;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) {
    return children;
  }
  while (const dirent* entry = ::readdir(proc)) {
    char* end = nullptr;
    const long long pid = std::strtoll(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0' || pid <= 0) {
      continue;
    }
    auto status = process_status(pid);
    if (!status || status->state == 'Z' || status->state == 'X') {
      continue; // gone, or exited and only waiting to be reaped
    }
    children.emplace(status->parent,
                     Descendant{pid, status->process_group, std::move(status->name)});
  }
  ::closedir(proc);
  return children;
}
#endif

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
    found.push_back({-fallback_process_group, fallback_process_group, "process group"});
  }
#endif
  return found;
}

void signal_and_continue(std::int64_t pid, int signal) {
  // A negative pid addresses a process group (the non-Linux fallback above).
  if (::kill(static_cast<pid_t>(pid), signal) == 0 && signal != SIGKILL && signal != SIGCONT) {
    ::kill(static_cast<pid_t>(pid), SIGCONT);
  }
}

std::int64_t own_process_group() {
  return ::getpgrp();
}

bool in_terminal_foreground() {
  const int fd = ::open("/dev/tty", O_RDONLY | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) {
    return false; // no controlling terminal
  }
  const Fd terminal(fd);
  return ::tcgetpgrp(terminal.get()) == ::getpgrp();
}

} // namespace buildlock::os
