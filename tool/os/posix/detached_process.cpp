#include "os/detached_process.h"

#include "os/system_error.h"

#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace buildlock::os {
Result<Fd> start_detached_self(const std::vector<std::string>& arguments) {
#if defined(__linux__)
  int ends[2] = {-1, -1};
  if (::pipe2(ends, O_CLOEXEC) != 0) {
    return last_system_error("pipe2");
  }
  Fd read_end(ends[0]);
  Fd write_end(ends[1]);
  // Everything exec needs, prepared before fork (only async-signal-safe calls after it).
  std::vector<std::string> words{"buildlock"};
  words.insert(words.end(), arguments.begin(), arguments.end());
  std::vector<char*> argv;
  argv.reserve(words.size() + 1);
  for (std::string& word : words) {
    argv.push_back(word.data());
  }
  argv.push_back(nullptr);
  const pid_t middle = ::fork();
  if (middle < 0) {
    return last_system_error("fork");
  }
  if (middle == 0) {
    if (::fork() != 0) {
      ::_exit(0); // its child is orphaned to init (or an outer subreaper), never to us
    }
    ::setsid();
    const int null = ::open("/dev/null", O_RDWR);
    ::dup2(read_end.get(), 0);
    if (null >= 0) {
      ::dup2(null, 1);
      ::dup2(null, 2);
    }
    // Nothing else: a descriptor the run passed on to its command (a build's pipe, a jobserver,
    // a test's) must not stay open in a helper that may outlive it.
#if defined(SYS_close_range)
    const bool closed = ::syscall(SYS_close_range, 3U, ~0U, 0U) == 0;
#else
    const bool closed = false;
#endif
    for (int fd = 3; !closed && fd < 65536; ++fd) {
      ::close(fd);
    }
    // Every signal at its default action, none blocked: buildlock's handlers do not survive exec,
    // but ignored ones and the mask would.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int signal = 1; signal < NSIG; ++signal) {
      ::signal(signal, SIG_DFL);
    }
    ::execv("/proc/self/exe", argv.data());
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(middle, &status, 0) < 0 && errno == EINTR) {
  }
  if (::fcntl(write_end.get(), F_SETFL, O_NONBLOCK) != 0) {
    return last_system_error("fcntl");
  }
  return write_end;
#else
  (void)arguments;
  return Error{ErrorKind::system, "a helper that outlives buildlock needs Linux"};
#endif
}

std::optional<std::string> read_input() {
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(0, buffer, sizeof buffer);
    if (n > 0) {
      return std::string(buffer, static_cast<std::size_t>(n));
    }
    if (n == 0 || errno != EINTR) {
      return std::nullopt;
    }
  }
}

bool write_without_blocking(const Fd& fd, std::string_view text) {
  // MSG_NOSIGNAL exists for sockets only: SIGPIPE is ignored by buildlock itself
  // (os/signals.h), so a gone reader is EPIPE here.
  const ssize_t written = ::write(fd.get(), text.data(), text.size());
  return written == static_cast<ssize_t>(text.size());
}

} // namespace buildlock::os
