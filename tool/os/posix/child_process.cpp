#include "os/child_process.h"

#include "os/signals.h"
#include "os/system_error.h"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace buildlock::os {
namespace {

std::vector<std::string>
merged_environment(const std::vector<std::pair<std::string, std::string>>& overrides) {
  std::vector<std::string> entries;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string text = *entry;
    bool overridden = false;
    for (const auto& [name, value] : overrides) {
      if (text.size() > name.size() && text.compare(0, name.size(), name) == 0 &&
          text[name.size()] == '=') {
        overridden = true;
      }
    }
    if (!overridden) {
      entries.push_back(text);
    }
  }
  for (const auto& [name, value] : overrides) {
    entries.push_back(name);
    entries.back().append("=").append(value);
  }
  return entries;
}

std::vector<char*> pointers_to(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  pointers.reserve(strings.size() + 1);
  for (auto& s : strings) {
    pointers.push_back(s.data());
  }
  pointers.push_back(nullptr);
  return pointers;
}

ExitStatus decode(int raw) {
  if (WIFSIGNALED(raw)) {
    return {true, WTERMSIG(raw)};
  }
  return {false, WEXITSTATUS(raw)};
}

} // namespace

std::optional<int> death_signal(const ExitStatus& status) {
  constexpr int highest_signal = 64;
  if (status.signaled) {
    return status.code;
  }
  if (status.code > 128 && status.code <= 128 + highest_signal) {
    return status.code - 128;
  }
  return std::nullopt;
}

Result<ChildProcess>
ChildProcess::spawn(const std::vector<std::string>& argv,
                    const std::vector<std::pair<std::string, std::string>>& environment,
                    bool own_process_group) {
  std::vector<std::string> arguments = argv;
  std::vector<std::string> variables = merged_environment(environment);
  std::vector<char*> argv_pointers = pointers_to(arguments);
  std::vector<char*> env_pointers = pointers_to(variables);

  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  // The command starts with no signals blocked, whatever buildlock was blocking at this moment,
  // and with the default action for the signals buildlock catches (exec resets those anyway).
  sigset_t empty;
  sigemptyset(&empty);
  posix_spawnattr_setsigmask(&attributes, &empty);
  // Signals only buildlock ignores (SIGPIPE) go back to their default for the command; signals
  // ignored by whoever started buildlock stay ignored.
  sigset_t defaults;
  sigemptyset(&defaults);
  for (int number : signals_to_default_in_command()) {
    sigaddset(&defaults, number);
  }
  posix_spawnattr_setsigdefault(&attributes, &defaults);
  short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
  if (own_process_group) {
    posix_spawnattr_setpgroup(&attributes, 0); // a new group whose id is the child's pid
    flags |= POSIX_SPAWN_SETPGROUP;
  }
  posix_spawnattr_setflags(&attributes, flags);

  pid_t pid = -1;
  const int err = ::posix_spawnp(&pid, arguments[0].c_str(), nullptr, &attributes,
                                 argv_pointers.data(), env_pointers.data());
  posix_spawnattr_destroy(&attributes);
  if (err != 0) {
    const std::string what = "cannot run `" + arguments[0] + "`";
    if (err == ENOENT || err == ENOTDIR) {
      struct stat st {};
      const bool exists =
          arguments[0].find('/') != std::string::npos && ::stat(arguments[0].c_str(), &st) == 0;
      // execve says ENOENT for an existing script whose interpreter is missing, too.
      return Error{ErrorKind::command_not_found,
                   what + (exists ? ": its interpreter (#! line) or loader was not found"
                                  : ": command not found")};
    }
    return system_error(what, err, ErrorKind::command_not_executable);
  }
  return ChildProcess(pid, own_process_group);
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)), own_group_(other.own_group_),
      children_remain_(other.children_remain_), status_(other.status_) {}

ChildProcess::~ChildProcess() {
  if (pid_ > 0 && !status_) {
    int raw = 0;
    while (::waitpid(static_cast<pid_t>(pid_), &raw, 0) < 0 && errno == EINTR) {
    }
  }
}

std::optional<ExitStatus> ChildProcess::poll() {
  if (pid_ <= 0) {
    return status_;
  }
  for (;;) {
    int raw = 0;
    const pid_t reaped = ::waitpid(-1, &raw, WNOHANG);
    if (reaped > 0) {
      if (reaped == static_cast<pid_t>(pid_)) {
        status_ = decode(raw);
      }
      continue; // an adopted orphan, or the command: look for more
    }
    if (reaped < 0 && errno == EINTR) {
      continue;
    }
    children_remain_ = reaped == 0; // 0: children exist, none has ended; ECHILD: none left
    if (!children_remain_ && !status_) {
      status_ = ExitStatus{false, 127}; // the command is not our child: should never happen
    }
    return status_;
  }
}

void ChildProcess::send_signal(int signal) const {
  // Once the command is reaped its pid, and so its group's id, may be reused: never signal
  // either after that (supervise() then signals the descendants it finds one by one).
  if (pid_ > 0 && !status_) {
    ::kill(own_group_ ? -static_cast<pid_t>(pid_) : static_cast<pid_t>(pid_), signal);
  }
}

Status make_inheritable(NativeHandle fd) {
  const int flags = ::fcntl(fd, F_GETFD);
  if (flags < 0 || ::fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC) < 0) {
    return last_system_error("fcntl");
  }
  return ok_status();
}

} // namespace buildlock::os
