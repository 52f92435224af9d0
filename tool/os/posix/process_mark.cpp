#include "os/process_mark.h"

#include "os/posix/directory_stream.h"
#include "os/posix/process_environment.h"
#include "os/posix/process_liveness.h"
#include "os/process_identity.h"
#include "os/system_error.h"

#include <cerrno>
#include <csignal>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace buildlock::os {
namespace {

#if defined(__linux__)
// Whether the thread or process at `directory` (/proc/PID, or /proc/PID/task/TID) holds the
// descriptor create_mark_descriptor(`name`) made: a memory file, whose link in /proc/PID/fd
// reads "/memfd:NAME (deleted)". readlink() asks no filesystem, so a hung network mount that
// some process has a file open on cannot stop the scan.
bool holds_descriptor(const std::string& directory, const std::string& name) {
  if (name.empty()) {
    return false;
  }
  const std::string expected = "/memfd:" + name + " (deleted)";
  DirectoryStream fds(directory + "/fd");
  std::string target(expected.size() + 1, '\0'); // one more: a longer name is not a match
  while (const auto fd = fds.next()) {
    const ssize_t length =
        ::readlink((directory + "/fd/" + *fd).c_str(), target.data(), target.size());
    if (length == static_cast<ssize_t>(expected.size()) &&
        target.compare(0, expected.size(), expected) == 0) {
      return true;
    }
  }
  return false;
}

// A thread of `pid` other than its leader, as /proc/PID/task/TID; empty when it has none.
std::string other_thread(std::int64_t pid) {
  const std::string tasks = "/proc/" + std::to_string(pid) + "/task";
  DirectoryStream threads(tasks);
  while (const auto thread = threads.next()) {
    if (*thread != std::to_string(pid)) {
      return tasks + "/" + *thread;
    }
  }
  return {};
}

enum class MarkCheck { marked, unmarked, unreadable };

// Whether process `pid` is live and carries `mark`. `environ` is room to read its environment
// into, reused across a scan.
MarkCheck check(std::int64_t pid, const ProcessMark& mark, std::string& environ) {
  std::string directory = "/proc/" + std::to_string(pid);
  const int error = read_process_environment(pid, environ);
  if (error == EACCES || error == EPERM) {
    return MarkCheck::unreadable; // another user's (unless we are root)
  }
  if (error == ENOENT) {
    return MarkCheck::unmarked; // gone meanwhile
  }
  if (error == ESRCH || environ.empty()) {
    // A process whose main thread has ended (pthread_exit) while others run: its leader has let
    // go of its environment and descriptors, the other threads have not. (Or a kernel thread, an
    // exiting process, one started with no environment at all, or one in the middle of its exec:
    // their descriptors are still there to look at.)
    if (std::string thread = other_thread(pid); !thread.empty()) {
      directory = std::move(thread);
      read_thread_environment(pid, directory.substr(directory.rfind('/') + 1), environ);
    }
  }
  if (!environment_has(environ, mark.variable, mark.value_matches) &&
      !holds_descriptor(directory, mark.descriptor_name)) {
    return MarkCheck::unmarked;
  }
  const auto status = process_status(pid);
  return status && !has_ended(pid, *status) ? MarkCheck::marked : MarkCheck::unmarked;
}

// The user that owns process `pid`, if it is still there.
std::optional<std::int64_t> owner_of(std::int64_t pid) {
  struct stat owner {};
  if (::stat(("/proc/" + std::to_string(pid)).c_str(), &owner) != 0) {
    return std::nullopt;
  }
  return static_cast<std::int64_t>(owner.st_uid);
}

// Init is never anyone's descendant, and may refuse even root (a container's init); this process
// is the one looking.
bool worth_checking(std::int64_t pid) {
  return pid > 1 && pid != ::getpid();
}
#endif

} // namespace

Result<Fd> create_mark_descriptor(const std::string& name) {
#if defined(__linux__)
  Fd fd(::memfd_create(name.c_str(), 0)); // not close-on-exec: the command inherits it
  if (!fd) {
    return last_system_error("memfd_create");
  }
  return fd;
#else
  (void)name;
  return Fd(); // nobody could look for it: find_marked_process() cannot see other processes
#endif
}

ProcessSearch find_marked_process(const ProcessMark& mark, std::int64_t owner_uid) {
#if defined(__linux__)
  ProcessDirectory proc;
  if (!proc.is_open()) {
    return ProcessSearch::unreadable;
  }
  bool unreadable = false;
  std::string environ;
  while (const auto pid = proc.next_pid()) {
    if (!worth_checking(*pid)) {
      continue;
    }
    switch (check(*pid, mark, environ)) {
    case MarkCheck::marked:
      return ProcessSearch::found;
    case MarkCheck::unreadable:
      // It matters only if it runs as the owner we look for.
      unreadable = unreadable || owner_of(*pid) == owner_uid;
      break;
    case MarkCheck::unmarked:
      break;
    }
  }
  return unreadable ? ProcessSearch::unreadable : ProcessSearch::none;
#else
  (void)mark;
  (void)owner_uid;
  return ProcessSearch::unreadable;
#endif
}

std::vector<std::int64_t> marked_processes(const ProcessMark& mark, std::int64_t owner_uid) {
  std::vector<std::int64_t> found;
#if defined(__linux__)
  ProcessDirectory proc;
  std::string environ;
  while (const auto pid = proc.next_pid()) {
    if (worth_checking(*pid) && owner_of(*pid) == owner_uid &&
        check(*pid, mark, environ) == MarkCheck::marked) {
      found.push_back(*pid);
    }
  }
#else
  (void)mark;
  (void)owner_uid;
#endif
  return found;
}

bool kill_if_marked(std::int64_t pid, const ProcessMark& mark) {
#if defined(__linux__)
  std::string environ;
  return check(pid, mark, environ) == MarkCheck::marked &&
         ::kill(static_cast<pid_t>(pid), SIGKILL) == 0;
#else
  (void)pid;
  (void)mark;
  return false;
#endif
}

} // namespace buildlock::os
