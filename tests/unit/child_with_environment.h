// ChildWithEnvironment: a child process that execs a shell with exactly the given environment
// and waits on its stdin, for the tests of what /proc shows of another process (its environment:
// os_process_environment_test.cpp; its mark: os_process_mark_test.cpp). It inherits every
// descriptor of this process that is not close-on-exec. Killed and reaped when this ends.
// Linux only.
#pragma once

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <string>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utility>
#include <vector>

namespace buildlock::test {

class ChildWithEnvironment {
public:
  // Returns once the exec has happened, so that /proc shows the new environment, not this
  // process's.
  explicit ChildWithEnvironment(std::vector<std::string> environment) {
    int input[2];
    int exec_done[2];
    if (::pipe2(input, O_CLOEXEC) != 0 || ::pipe2(exec_done, O_CLOEXEC) != 0) {
      std::abort();
    }
    std::vector<char*> envp;
    for (std::string& entry : environment) {
      envp.push_back(entry.data());
    }
    envp.push_back(nullptr);
    const char* argv[] = {"sh", "-c", "read line", nullptr};
    pid_ = ::fork();
    if (pid_ == 0) {
      // Room for an environment of more than 1 MiB (execve allows a quarter of the stack limit).
      rlimit stack{};
      if (::getrlimit(RLIMIT_STACK, &stack) == 0 && stack.rlim_cur != RLIM_INFINITY &&
          stack.rlim_cur < (32u << 20)) {
        stack.rlim_cur = std::min<rlim_t>(stack.rlim_max, 32u << 20);
        ::setrlimit(RLIMIT_STACK, &stack);
      }
      ::dup2(input[0], 0);
      ::execve("/bin/sh", const_cast<char* const*>(argv), envp.data());
      ::_exit(127);
    }
    ::close(input[0]);
    input_ = input[1];
    ::close(exec_done[1]);
    char byte = 0;
    // End of file: the child's copy closed on exec (or it died, which the reads then show).
    while (::read(exec_done[0], &byte, 1) < 0 && errno == EINTR) {
    }
    ::close(exec_done[0]);
  }
  ~ChildWithEnvironment() {
    if (!reaped_) {
      ::kill(pid_, SIGKILL);
      reap();
    }
    ::close(input_);
  }
  ChildWithEnvironment(const ChildWithEnvironment&) = delete;
  ChildWithEnvironment& operator=(const ChildWithEnvironment&) = delete;

  pid_t pid() const { return pid_; }

  // Lets it end (its stdin ends) and returns once it has: a zombie, not reaped yet.
  void end() {
    ::close(std::exchange(input_, -1));
    siginfo_t info{};
    while (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOWAIT) < 0 &&
           errno == EINTR) {
    }
  }

  // Waits for its end and reaps it; the raw wait status.
  int reap() {
    int raw = 0;
    while (::waitpid(pid_, &raw, 0) < 0 && errno == EINTR) {
    }
    reaped_ = true;
    return raw;
  }

private:
  pid_t pid_ = -1;
  int input_ = -1;
  bool reaped_ = false;
};

} // namespace buildlock::test
