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
#include <sys/stat.h>
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

// Whether the environment block `environ` (NAME=VALUE entries, each ending in NUL) has `name` set
// to a value `matches` accepts.
bool environment_matches(std::string_view environ, std::string_view name,
                         const std::function<bool(std::string_view)>& matches) {
  while (!environ.empty()) {
    const auto end = environ.find('\0');
    const std::string_view entry = environ.substr(0, end);
    if (entry.size() > name.size() && entry.substr(0, name.size()) == name &&
        entry[name.size()] == '=' && matches(entry.substr(name.size() + 1))) {
      return true;
    }
    if (end == std::string_view::npos) {
      break;
    }
    environ.remove_prefix(end + 1);
  }
  return false;
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

} // namespace

ProcessSearch find_process_by_environment(std::string_view name,
                                          const std::function<bool(std::string_view)>& matches,
                                          std::int64_t owner_uid) {
#if defined(__linux__)
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) {
    return ProcessSearch::unreadable;
  }
  const long self = ::getpid();
  bool unreadable = false;
  bool found = false;
  std::string environ;
  while (const dirent* entry = !found ? ::readdir(proc) : nullptr) {
    char* end = nullptr;
    const long long pid = std::strtoll(entry->d_name, &end, 10);
    // Init is never anyone's descendant, and may refuse even root (a container's init).
    if (end == entry->d_name || *end != '\0' || pid <= 1 || pid == self) {
      continue;
    }
    const std::string directory = std::string("/proc/") + entry->d_name;
    // Another user's process is unreadable unless we are root; it matters only if it runs as the
    // owner we look for.
    const auto note_unreadable = [&] {
      struct stat owner {};
      if (::stat(directory.c_str(), &owner) == 0 &&
          static_cast<std::int64_t>(owner.st_uid) == owner_uid) {
        unreadable = true;
      }
    };
    const int fd = ::open((directory + "/environ").c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == EACCES || errno == EPERM) {
        note_unreadable();
      }
      continue; // ENOENT: gone meanwhile
    }
    const Fd file(fd);
    environ.clear();
    char buffer[16384];
    ssize_t n = 0;
    // An environment is rarely more than a few KiB; 1 MiB bounds a hostile one.
    while (environ.size() < (1u << 20) && (n = ::read(file.get(), buffer, sizeof buffer)) > 0) {
      environ.append(buffer, static_cast<std::size_t>(n));
    }
    if (n < 0) {
      // ESRCH: a kernel thread or an exiting process, which has no environment any more.
      if (errno == EACCES || errno == EPERM) {
        note_unreadable();
      }
      continue;
    }
    const auto status = process_status(pid);
    found = status && status->state != 'Z' && status->state != 'X' &&
            environment_matches(environ, name, matches);
  }
  ::closedir(proc);
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

void continue_process(std::int64_t pid) {
  ::kill(static_cast<pid_t>(pid), SIGCONT);
}

std::int64_t own_process_group() {
  return ::getpgrp();
}

bool command_in_own_group() {
  return leads_process_group() && !in_terminal_foreground();
}

} // namespace buildlock::os
