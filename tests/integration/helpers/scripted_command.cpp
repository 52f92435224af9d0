// scripted_command: the COMMAND that integration tests run under buildlock.
//
// It runs the steps given as arguments, in order, so that a test knows exactly when the command
// runs and decides when it ends, through pipes it passes down (no sleeps):
//
//   notify FD         write one byte to FD ("I am running")
//   wait FD           block until one byte (or end-of-file) arrives on FD
//   trap SIG FD       from now on, on signal SIG write the signal's number as a byte to FD and
//                     carry on (SIG: INT TERM HUP QUIT USR1 USR2 or a number)
//   raise SIG         die by SIG (default action, no core dump)
//   exit N            exit with status N
//   background        fork: the parent exits 0 at once, the child runs the remaining steps
//                     (a process that outlives its parent, like a daemon a build left behind)
//   run FD ARGV...    run ARGV (all remaining arguments) as a child, wait for it, write
//                     "exit N" or "signal N" to FD, and exit 0
//   print-env NAME    print NAME's value (or "<unset>") and a newline on stdout
//
// Without an exit or raise step it exits 0 after the last step. Bad steps exit 99.
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

int g_trap_fds[NSIG];

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr, "scripted_command: %s\n", why.c_str());
  std::exit(99);
}

int parse_int(const char* text) {
  char* end = nullptr;
  const long value = std::strtol(text, &end, 10);
  if (end == text || *end != '\0') {
    usage(std::string("not a number: ") + text);
  }
  return static_cast<int>(value);
}

int parse_signal(const char* text) {
  const std::string_view name = text;
  const std::pair<std::string_view, int> names[] = {
      {"INT", SIGINT},   {"TERM", SIGTERM}, {"HUP", SIGHUP},   {"QUIT", SIGQUIT},
      {"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"KILL", SIGKILL}, {"SEGV", SIGSEGV},
      {"ABRT", SIGABRT}, {"PIPE", SIGPIPE}};
  for (const auto& [known, number] : names) {
    if (name == known) {
      return number;
    }
  }
  return parse_int(text);
}

void on_trapped_signal(int number) {
  const int saved = errno;
  const auto byte = static_cast<unsigned char>(number);
  [[maybe_unused]] auto written = ::write(g_trap_fds[number], &byte, 1);
  errno = saved;
}

void write_all(int fd, const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      usage("write to fd " + std::to_string(fd) + ": " + std::strerror(errno));
    }
    done += static_cast<std::size_t>(n);
  }
}

void wait_for_byte(int fd) {
  char byte;
  while (::read(fd, &byte, 1) < 0) {
    if (errno != EINTR) {
      usage("read from fd " + std::to_string(fd) + ": " + std::strerror(errno));
    }
  }
}

[[noreturn]] void die_by(int number) {
  const rlimit no_core{0, 0};
  ::setrlimit(RLIMIT_CORE, &no_core);
  std::signal(number, SIG_DFL);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, number);
  ::sigprocmask(SIG_UNBLOCK, &set, nullptr);
  ::raise(number);
  usage("still alive after raising signal " + std::to_string(number));
}

[[noreturn]] void run_and_report(int report_fd, char** argv) {
  const pid_t pid = ::fork();
  if (pid < 0) {
    usage(std::string("fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    ::execvp(argv[0], argv);
    std::fprintf(stderr, "scripted_command: cannot run %s: %s\n", argv[0], std::strerror(errno));
    ::_exit(127);
  }
  int raw = 0;
  while (::waitpid(pid, &raw, 0) < 0) {
    if (errno != EINTR) {
      usage(std::string("waitpid: ") + std::strerror(errno));
    }
  }
  write_all(report_fd, WIFSIGNALED(raw) ? "signal " + std::to_string(WTERMSIG(raw))
                                        : "exit " + std::to_string(WEXITSTATUS(raw)));
  std::exit(0);
}

} // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view step = argv[i];
    auto operand = [&]() -> const char* {
      if (i + 1 >= argc) {
        usage(std::string("step `") + std::string(step) + "` needs an operand");
      }
      return argv[++i];
    };
    if (step == "notify") {
      write_all(parse_int(operand()), "n");
    } else if (step == "wait") {
      wait_for_byte(parse_int(operand()));
    } else if (step == "trap") {
      const int number = parse_signal(operand());
      g_trap_fds[number] = parse_int(operand());
      struct sigaction action {};
      action.sa_handler = on_trapped_signal;
      action.sa_flags = SA_RESTART;
      sigemptyset(&action.sa_mask);
      ::sigaction(number, &action, nullptr);
    } else if (step == "raise") {
      die_by(parse_signal(operand()));
    } else if (step == "exit") {
      return parse_int(operand());
    } else if (step == "background") {
      const pid_t pid = ::fork();
      if (pid < 0) {
        usage(std::string("fork: ") + std::strerror(errno));
      }
      if (pid > 0) {
        return 0;
      }
    } else if (step == "run") {
      const int report_fd = parse_int(operand());
      if (i + 1 >= argc) {
        usage("step `run` needs a command");
      }
      run_and_report(report_fd, argv + i + 1);
    } else if (step == "print-env") {
      const char* value = std::getenv(operand());
      std::printf("%s\n", value != nullptr ? value : "<unset>");
      std::fflush(stdout);
    } else {
      usage("unknown step `" + std::string(step) + "`");
    }
  }
  return 0;
}
