#include "os/child_process.h"

#include "os/signals.h"
#include "os/system_error.h"

#include <array>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
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

// What the child that becomes the command needs, all prepared by the parent: that child shares
// our memory and must not allocate (another thread may hold the allocator's lock).
struct SpawnPlan {
  std::vector<char*> argv;
  std::vector<char*> envp;
  std::vector<std::string> candidates; // where argv[0] may be, in the order execvp tries them
  std::vector<const char*> candidate_paths;
  std::vector<int> to_default;
  bool own_process_group = false;
  int error = 0; // errno of the failed start, written by the child before it exits
};

// The paths at which execvp(3) (and posix_spawnp) would look for `program`: itself when it
// contains a slash, else each directory of PATH in turn (an empty entry: the working directory;
// PATH unset: /bin:/usr/bin, glibc's default). Built once, here, so that the child only execs.
std::vector<std::string> program_candidates(const std::string& program) {
  if (program.empty()) {
    return {};
  }
  if (program.find('/') != std::string::npos) {
    return {program};
  }
  const char* path = std::getenv("PATH");
  const std::string directories = path != nullptr ? path : "/bin:/usr/bin";
  std::vector<std::string> candidates;
  std::size_t begin = 0;
  for (;;) {
    const std::size_t end = directories.find(':', begin);
    std::string directory = directories.substr(begin, end - begin);
    candidates.push_back(directory.empty() ? program : directory + "/" + program);
    if (end == std::string::npos) {
      return candidates;
    }
    begin = end + 1;
  }
}

#if defined(__linux__)
// The child, from its start to its exec: the work posix_spawnp's child does, minus its visit to
// every signal (about 120 rt_sigaction calls: glibc cannot know which signals have a handler; we
// do). Handlers of ours need no reset: exec resets them, and one that runs before the exec gives
// its signal the default action (enter_spawned_child()). Signals that are ignored stay ignored,
// except `to_default`, which buildlock changed itself. On a failed exec it reports errno through
// the shared plan, the way posix_spawn does.
int start_command(void* argument) {
  auto& plan = *static_cast<SpawnPlan*>(argument);
  if (plan.own_process_group && ::setpgid(0, 0) != 0) {
    plan.error = errno;
    ::_exit(127);
  }
  // Raw system calls: a sanitizer's sigaction and sigprocmask (TSan keeps its own table of the
  // handlers, in the memory this child shares with us) must not act here on the parent's behalf.
  struct KernelSigaction {
    void (*handler)(int);
    unsigned long flags;
    void (*restorer)();
    std::uint64_t mask;
  };
  for (int number : plan.to_default) {
    const KernelSigaction action{SIG_DFL, 0, nullptr, 0};
    ::syscall(SYS_rt_sigaction, number, &action, nullptr, sizeof action.mask);
  }
  const std::uint64_t none = 0; // the command starts with no signal blocked
  ::syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, nullptr, sizeof none);
  // The rules of glibc's execvp without its shell fallback, as posix_spawnp follows them: a
  // candidate that is missing is skipped, one found but not executable (EACCES) too but
  // remembered, any other error ends the search.
  int error = ENOENT;
  bool denied = false;
  for (const char* path : plan.candidate_paths) {
    ::execve(path, plan.argv.data(), plan.envp.data());
    error = errno;
    if (error == EACCES) {
      denied = true;
    } else if (error != ENOENT && error != ESTALE && error != ENOTDIR && error != ENODEV &&
               error != ETIMEDOUT) {
      plan.error = error;
      ::_exit(127);
    }
  }
  plan.error = denied ? EACCES : error;
  ::_exit(127);
}
#endif

#if defined(__linux__)
// Starts the child; -1 (and plan.error) if it could not be created.
pid_t launch(SpawnPlan& plan, const std::string&) {
  // Every signal blocked while the child shares our memory, as posix_spawn does: no handler runs
  // in this process meanwhile, and none in the child before it is ready for one.
  sigset_t all;
  sigset_t previous;
  sigfillset(&all);
  ::pthread_sigmask(SIG_BLOCK, &all, &previous);
  // The child runs on this stack space while this thread is suspended (CLONE_VFORK), calling
  // setpgid, sigaction, sigprocmask, execve and at most one handler of ours.
  alignas(16) std::array<unsigned char, 64 * 1024> child_stack;
  enter_spawned_child();
  const pid_t pid = ::clone(start_command, child_stack.data() + child_stack.size(),
                            CLONE_VM | CLONE_VFORK | SIGCHLD, &plan);
  if (pid < 0) {
    plan.error = errno;
  }
  leave_spawned_child();
  ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  return pid;
}
#else
// Elsewhere (macOS, on paper) posix_spawnp, which resets the signals in `to_default` and lets
// exec reset the handlers.
pid_t launch(SpawnPlan& plan, const std::string& program) {
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  sigset_t empty;
  sigemptyset(&empty);
  posix_spawnattr_setsigmask(&attributes, &empty);
  sigset_t defaults;
  sigemptyset(&defaults);
  for (int number : plan.to_default) {
    sigaddset(&defaults, number);
  }
  posix_spawnattr_setsigdefault(&attributes, &defaults);
  short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
  if (plan.own_process_group) {
    posix_spawnattr_setpgroup(&attributes, 0); // a new group whose id is the child's pid
    flags |= POSIX_SPAWN_SETPGROUP;
  }
  posix_spawnattr_setflags(&attributes, flags);
  pid_t pid = -1;
  plan.error = ::posix_spawnp(&pid, program.c_str(), nullptr, &attributes, plan.argv.data(),
                              plan.envp.data());
  posix_spawnattr_destroy(&attributes);
  return plan.error == 0 ? pid : -1;
}
#endif

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
  SpawnPlan plan;
  plan.argv = pointers_to(arguments);
  plan.envp = pointers_to(variables);
  plan.candidates = program_candidates(arguments[0]);
  for (const std::string& candidate : plan.candidates) {
    plan.candidate_paths.push_back(candidate.c_str());
  }
  plan.own_process_group = own_process_group;
  plan.to_default = signals_to_default_in_command();

  const pid_t pid = launch(plan, arguments[0]);
  const std::string what = "cannot run `" + arguments[0] + "`";
  if (pid > 0 && plan.error != 0) {
    int raw = 0; // the child has exited: reap it
    while (::waitpid(pid, &raw, 0) < 0 && errno == EINTR) {
    }
  }
  if (plan.error != 0) {
    const int err = plan.error;
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
