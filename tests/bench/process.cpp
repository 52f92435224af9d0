#include "process.h"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace buildlock::bench {
namespace {

char g_watchdog_message[256] = "";

void on_watchdog(int) {
  [[maybe_unused]] auto written = ::write(2, g_watchdog_message, std::strlen(g_watchdog_message));
  ::_exit(1);
}

std::string errno_text(const std::string& what, int error) {
  return what + ": " + std::strerror(error);
}

} // namespace

pid_t spawn(const std::vector<std::string>& argv, const SpawnOptions& options) {
  std::vector<char*> pointers;
  pointers.reserve(argv.size() + 1);
  for (const auto& argument : argv) {
    pointers.push_back(const_cast<char*>(argument.c_str()));
  }
  pointers.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (options.stdout_path) {
    posix_spawn_file_actions_addopen(&actions, 1, options.stdout_path->c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
  }
  if (options.stderr_path) {
    posix_spawn_file_actions_addopen(&actions, 2, options.stderr_path->c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0644);
  }
  for (const auto& [from, to] : options.descriptors) {
    posix_spawn_file_actions_adddup2(&actions, from, to);
  }
  pid_t pid = -1;
  const int error = ::posix_spawnp(&pid, pointers[0], &actions, nullptr, pointers.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (error != 0) {
    throw BenchError(errno_text("cannot start `" + argv[0] + "`", error));
  }
  return pid;
}

Finished wait_for(pid_t pid) {
  Finished finished;
  while (::waitpid(pid, &finished.status, 0) < 0) {
    if (errno != EINTR) {
      throw BenchError(errno_text("waitpid", errno));
    }
  }
  return finished;
}

Finished expect_success(pid_t pid, const std::string& what) {
  const Finished finished = wait_for(pid);
  if (WIFSIGNALED(finished.status)) {
    throw BenchError(what + " was killed by signal " + std::to_string(WTERMSIG(finished.status)));
  }
  if (WEXITSTATUS(finished.status) != 0) {
    throw BenchError(what + " exited with status " + std::to_string(WEXITSTATUS(finished.status)));
  }
  return finished;
}

void kill_hard(pid_t pid) {
  if (::kill(pid, SIGKILL) != 0 && errno != ESRCH) {
    throw BenchError(errno_text("kill " + std::to_string(pid), errno));
  }
}

Pipe::Pipe() {
  if (::pipe2(fds_, O_CLOEXEC) != 0) {
    throw BenchError(errno_text("pipe", errno));
  }
}

Pipe::~Pipe() {
  for (int fd : fds_) {
    if (fd >= 0) {
      ::close(fd);
    }
  }
}

void Pipe::close_write_end() {
  if (fds_[1] >= 0) {
    ::close(fds_[1]);
    fds_[1] = -1;
  }
}

std::string Pipe::read_line(int timeout_ms, const std::string& what) {
  for (;;) {
    if (const auto newline = buffered_.find('\n'); newline != std::string::npos) {
      std::string line = buffered_.substr(0, newline);
      buffered_.erase(0, newline + 1);
      return line;
    }
    pollfd entry{fds_[0], POLLIN, 0};
    const int ready = ::poll(&entry, 1, timeout_ms);
    if (ready < 0 && errno == EINTR) {
      continue;
    }
    if (ready <= 0) {
      throw BenchError(what + ": nothing heard within " + std::to_string(timeout_ms) + " ms");
    }
    char chunk[256];
    const ssize_t n = ::read(fds_[0], chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      throw BenchError(what + ": the pipe closed before a line arrived");
    }
    buffered_.append(chunk, static_cast<std::size_t>(n));
  }
}

void arm_watchdog(const std::string& what, unsigned seconds) {
  const std::string message = "buildlock_bench: error: " + what + " took longer than " +
                              std::to_string(seconds) + " s (a hang?)\n";
  std::strncpy(g_watchdog_message, message.c_str(), sizeof g_watchdog_message - 1);
  struct sigaction action {};
  action.sa_handler = on_watchdog;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGALRM, &action, nullptr);
  ::alarm(seconds);
}

void disarm_watchdog() {
  ::alarm(0);
}

} // namespace buildlock::bench
