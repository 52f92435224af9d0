#include "processes.h"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <poll.h>
#include <spawn.h>
#include <sstream>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace buildlock::chaos {
namespace {

std::string errno_text(const std::string& what, int error) {
  return what + ": " + std::strerror(error);
}

int milliseconds_until(std::chrono::steady_clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  return static_cast<int>(std::max<long long>(0, left.count()));
}

std::vector<pid_t> listed_children(pid_t parent) {
  std::vector<pid_t> children;
  std::error_code error;
  const std::string tasks = "/proc/" + std::to_string(parent) + "/task";
  for (const auto& task : std::filesystem::directory_iterator(tasks, error)) {
    std::ifstream list(task.path() / "children");
    pid_t child = 0;
    while (list >> child) {
      children.push_back(child);
    }
  }
  return children;
}

std::string name_of(pid_t pid) {
  std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
  std::string name;
  std::getline(comm, name);
  return name;
}

} // namespace

std::optional<ProcessStat> stat_of(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  if (!std::getline(stat, text)) {
    return std::nullopt;
  }
  // The command name (field 2) may contain blanks and parentheses: count from the last ')'.
  const auto end_of_name = text.rfind(')');
  if (end_of_name == std::string::npos) {
    return std::nullopt;
  }
  std::istringstream fields(text.substr(end_of_name + 1));
  ProcessStat result;
  if (!(fields >> result.state >> result.parent >> result.process_group >> result.session)) {
    return std::nullopt;
  }
  return result;
}

Fd& Fd::operator=(Fd&& other) noexcept {
  if (this != &other) {
    reset();
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

Fd::~Fd() {
  reset();
}

void Fd::reset() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

// spawn() for a request with run_as: posix_spawn cannot change the user, so fork and exec. This
// process has threads, so the child calls only async-signal-safe functions, and changes its
// credentials with raw system calls (glibc's setuid() would try to change every thread of the
// parent's, which the child does not have). An exec failure comes back through a pipe.
pid_t spawn_as_user(const SpawnRequest& request, std::vector<char*>& argv) {
  const SpawnRequest::User user = *request.run_as;
  PipeFds exec_error = make_pipe();
  const pid_t pid = ::fork();
  if (pid < 0) {
    throw ChaosError(errno_text("fork", errno));
  }
  if (pid == 0) {
    const auto fail = [&](int step) {
      const int error[2] = {step, errno};
      [[maybe_unused]] const ssize_t ignored =
          ::write(exec_error.write_end.get(), error, sizeof error);
      ::_exit(127);
    };
    struct sigaction default_action {};
    default_action.sa_handler = SIG_DFL;
    for (int number = 1; number < NSIG; ++number) {
      ::sigaction(number, &default_action, nullptr); // fails harmlessly for SIGKILL, SIGSTOP
    }
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    if (request.own_process_group && ::setpgid(0, 0) != 0) {
      fail(1);
    }
    const int in = ::open("/dev/null", O_RDONLY);
    const int out = ::open(request.stdout_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    const int err = ::open(request.stderr_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (in < 0 || out < 0 || err < 0) {
      fail(2);
    }
    // 0 to 2 first: a descriptor opened here may have the number of a `to` below.
    if (::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(err, 2) < 0) {
      fail(3);
    }
    for (const auto& [from, to] : request.descriptors) {
      if (from == to ? ::fcntl(to, F_SETFD, 0) != 0 : ::dup2(from, to) < 0) {
        fail(3);
      }
    }
    const gid_t groups[] = {user.gid};
    if (::syscall(SYS_setgroups, 1, groups) != 0 || ::syscall(SYS_setgid, user.gid) != 0 ||
        ::syscall(SYS_setuid, user.uid) != 0) {
      fail(4);
    }
    ::umask(022);
    ::execve(argv[0], argv.data(), environ);
    fail(5);
  }
  exec_error.write_end.reset();
  int error[2] = {0, 0};
  ssize_t got = 0;
  do {
    got = ::read(exec_error.read_end.get(), error, sizeof error);
  } while (got < 0 && errno == EINTR);
  if (got > 0) {
    reap(pid);
    static const char* const steps[] = {"", "setpgid", "open", "dup2", "change user", "exec"};
    throw ChaosError(errno_text(std::string("cannot start `") + argv[0] + "` as uid " +
                                    std::to_string(user.uid) + ": " + steps[error[0]],
                                error[1]));
  }
  return pid;
}

pid_t spawn(const SpawnRequest& request) {
  std::vector<char*> pointers;
  pointers.reserve(request.argv.size() + 1);
  for (const auto& argument : request.argv) {
    pointers.push_back(const_cast<char*>(argument.c_str()));
  }
  pointers.push_back(nullptr);
  if (request.run_as) {
    return spawn_as_user(request, pointers);
  }

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, request.stdout_path.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, request.stderr_path.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  for (const auto& [from, to] : request.descriptors) {
    posix_spawn_file_actions_adddup2(&actions, from, to);
  }
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  // Every signal at its default action and none blocked, whatever this process does.
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attributes, &none);
  sigset_t all;
  sigfillset(&all);
  posix_spawnattr_setsigdefault(&attributes, &all);
  short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
  if (request.own_process_group) {
    posix_spawnattr_setpgroup(&attributes, 0);
    flags |= POSIX_SPAWN_SETPGROUP;
  }
  posix_spawnattr_setflags(&attributes, flags);

  pid_t pid = -1;
  const int error =
      ::posix_spawnp(&pid, pointers[0], &actions, &attributes, pointers.data(), environ);
  posix_spawnattr_destroy(&attributes);
  posix_spawn_file_actions_destroy(&actions);
  if (error != 0) {
    throw ChaosError(errno_text("cannot start `" + request.argv[0] + "`", error));
  }
  return pid;
}

Fd pidfd_open(pid_t pid) {
  const long fd = ::syscall(SYS_pidfd_open, pid, 0);
  if (fd < 0) {
    if (errno == ESRCH) {
      return Fd();
    }
    throw ChaosError(errno_text("pidfd_open " + std::to_string(pid), errno));
  }
  return Fd(static_cast<int>(fd));
}

std::vector<Fd> members_of_group(pid_t group) {
  std::vector<Fd> members;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", error)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) {
      continue;
    }
    const pid_t pid = static_cast<pid_t>(std::stol(name));
    if (stat_of(pid).value_or(ProcessStat{}).process_group != group) {
      continue;
    }
    Fd pidfd = pidfd_open(pid);
    if (pidfd && stat_of(pid).value_or(ProcessStat{}).process_group == group) {
      members.push_back(std::move(pidfd));
    }
  }
  return members;
}

bool is_alive(const Fd& pidfd) {
  pollfd entry{pidfd.get(), POLLIN, 0};
  return ::poll(&entry, 1, 0) == 0;
}

char state_of(pid_t pid) {
  const auto stat = stat_of(pid);
  return stat ? stat->state : '?';
}

std::vector<Descendant> descendants_of(pid_t wrapper) {
  std::vector<Descendant> found;
  // Parents to visit: the wrapper (index -1, certain while unreaped), then each one found.
  for (long long visit = -1; visit < static_cast<long long>(found.size()); ++visit) {
    const pid_t parent = visit < 0 ? wrapper : found[static_cast<std::size_t>(visit)].pid;
    for (pid_t child : listed_children(parent)) {
      Fd pidfd = pidfd_open(child);
      if (!pidfd) {
        continue;
      }
      const ProcessStat stat =
          stat_of(child).value_or(ProcessStat{}); // gone: parent 0, never a match
      const bool parent_certain =
          visit < 0 || is_alive(found[static_cast<std::size_t>(visit)].pidfd);
      if (stat.parent == parent && parent_certain) {
        found.push_back({std::move(pidfd), child, parent, stat.process_group, name_of(child)});
      }
    }
  }
  return found;
}

bool send_signal(const Fd& pidfd, int signal) {
  if (::syscall(SYS_pidfd_send_signal, pidfd.get(), signal, nullptr, 0) == 0) {
    return true;
  }
  if (errno == ESRCH) {
    return false;
  }
  throw ChaosError(errno_text("pidfd_send_signal " + signal_name(signal), errno));
}

bool wait_for_end(const Fd& pidfd, std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    pollfd entry{pidfd.get(), POLLIN, 0};
    const int ready = ::poll(&entry, 1, milliseconds_until(deadline));
    if (ready > 0) {
      return true;
    }
    if (ready == 0) {
      return false;
    }
    if (errno != EINTR) {
      throw ChaosError(errno_text("poll on a pidfd", errno));
    }
  }
}

int reap(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      throw ChaosError(errno_text("waitpid " + std::to_string(pid), errno));
    }
  }
  return status;
}

std::optional<int> run_to_end(const SpawnRequest& request,
                              std::chrono::steady_clock::time_point deadline) {
  const pid_t pid = spawn(request);
  const Fd pidfd = pidfd_open(pid);
  if (!wait_for_end(pidfd, deadline)) {
    send_signal(pidfd, SIGKILL);
    reap(pid);
    return std::nullopt;
  }
  return reap(pid);
}

std::string signal_name(int signal) {
  switch (signal) {
  case SIGKILL:
    return "SIGKILL";
  case SIGINT:
    return "SIGINT";
  case SIGTERM:
    return "SIGTERM";
  case SIGSTOP:
    return "SIGSTOP";
  case SIGCONT:
    return "SIGCONT";
  default:
    return "signal " + std::to_string(signal);
  }
}

std::string describe_status(int status) {
  if (WIFSIGNALED(status)) {
    return signal_name(WTERMSIG(status));
  }
  return "exit " + std::to_string(WEXITSTATUS(status));
}

PipeFds make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    throw ChaosError(errno_text("pipe", errno));
  }
  return {Fd(fds[0]), Fd(fds[1])};
}

bool wait_for_end_of_file(const Fd& read_end, std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    pollfd entry{read_end.get(), POLLIN, 0};
    const int ready = ::poll(&entry, 1, milliseconds_until(deadline));
    if (ready == 0) {
      return false;
    }
    if (ready < 0) {
      if (errno == EINTR) {
        continue;
      }
      throw ChaosError(errno_text("poll on a pipe", errno));
    }
    char chunk[64];
    const ssize_t n = ::read(read_end.get(), chunk, sizeof chunk);
    if (n == 0) {
      return true;
    }
    if (n < 0 && errno != EINTR) {
      throw ChaosError(errno_text("read from a pipe", errno));
    }
  }
}

} // namespace buildlock::chaos
